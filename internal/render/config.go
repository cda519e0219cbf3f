package render

import (
	"bytes"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/platform"
)

// Config is scribe.yaml: the registry and image, the defaults every service shares, and the services.
type Config struct {
	Registry      string        `yaml:"registry"`
	Image         string        `yaml:"image"`
	Platforms     []string      `yaml:"platforms"`
	DefaultBranch string        `yaml:"default-branch"`
	ScribeActions ScribeActions `yaml:"scribe-actions"`
	Lock          string        `yaml:"lock"`
	// Publish is when images get their tags: "gated" (the default) pushes by digest, scans, signs, and only
	// then tags; "at-push" tags at the push, before the scan.
	Publish string `yaml:"publish"`
	// ProtectedSuffixes are the deployment tags whose dispatch runs in the GitHub environment of that name.
	ProtectedSuffixes []string  `yaml:"protected-suffixes"`
	Services          []Service `yaml:"services"`

	path string
	root *yaml.Node
}

// ScribeActions says which scribe-actions to use. Without a sha, the pin comes from the lock file, else
// from the commit this generator was built from.
type ScribeActions struct {
	Repository string `yaml:"repository"`
	SHA        string `yaml:"sha"`
	Version    string `yaml:"version"`
}

// Service is one image and its workflow.
type Service struct {
	Name          string            `yaml:"name"`
	Workflow      string            `yaml:"workflow"`
	Context       string            `yaml:"context"`
	Dockerfile    string            `yaml:"dockerfile"`
	Paths         []string          `yaml:"paths"`
	ImageSuffix   string            `yaml:"image-suffix"`
	Platforms     []string          `yaml:"platforms"`
	NativeRunners map[string]string `yaml:"native-runners"`
	Test          *ServiceTests     `yaml:"test"`
	SmokeTest     *SmokeTest        `yaml:"smoke-test"`
	MaxSize       string            `yaml:"max-size"`
	Scan          Scan              `yaml:"scan"`
	Sign          Sign              `yaml:"sign"`
	Cleanup       Cleanup           `yaml:"cleanup"`

	line int
}

// ServiceTests is a service's test job: the toolchain to set up and the commands that must pass before the
// image is built.
type ServiceTests struct {
	Setup            string   `yaml:"setup"`
	Version          string   `yaml:"version"`
	WorkingDirectory string   `yaml:"working-directory"`
	Commands         []string `yaml:"commands"`
}

// SmokeTest runs the built image and probes it.
type SmokeTest struct {
	URL          string `yaml:"url"`
	ExpectStatus int    `yaml:"expect-status"`
}

// Scan is a service's scan policy. Source (default on) renders the source-scan job: secrets in the
// repository's files and in the commits of the pull request or push, before any build.
type Scan struct {
	Enabled *bool  `yaml:"enabled"`
	FailOn  string `yaml:"fail-on"`
	Source  *bool  `yaml:"source"`
}

// Sign is a service's signing policy. Tlog (default on) logs key-based signatures in the public transparency
// log, as cosign does, so verifiers accept them by default; off for images whose names must stay private.
// Keyless signatures are always logged.
type Sign struct {
	Enabled *bool `yaml:"enabled"`
	Keyless *bool `yaml:"keyless"`
	Tlog    *bool `yaml:"tlog"`
}

// Cleanup is a service's retention policy, applied on the default branch and weekly. ExcludeTags are the tags
// never deleted (globs; unset: releases, latest, the deployment suffixes and the default branch's tag; [] keeps
// nothing back), and keep-n-tagged counts only the images they leave. UntaggedOlderThan is the grace period of
// untagged images: with native runners each platform's image is pushed by digest, untagged, until the run's
// merge job lists it in an index.
type Cleanup struct {
	Enabled           *bool    `yaml:"enabled"`
	KeepNTagged       int      `yaml:"keep-n-tagged"`
	OlderThan         string   `yaml:"older-than"`
	ExcludeTags       []string `yaml:"exclude-tags"`
	UntaggedOlderThan string   `yaml:"untagged-older-than"`
}

// defaultUntaggedGrace is longer than any run: a per-platform image older than a day has no merge coming.
const defaultUntaggedGrace = "1d"

// defaultExcludeTags are the tags the rendered build gives what must outlive keep-n-tagged: type=semver's
// {{version}} (1.2.3, 1.2.3-rc.1) and {{major}}.{{minor}} (1.2), with or without a leading v; latest; the
// tag-suffix deployments; and type=ref,event=branch's tag of the default branch, which moves with each push.
func defaultExcludeTags(defaultBranch string) []string {
	return []string{"[0-9]*.[0-9]*", "v[0-9]*.[0-9]*", "latest", "prod", "staging", "dev", branchTag(defaultBranch)}
}

// branchTag is the tag type=ref,event=branch gives a branch: "/" and other characters a tag cannot hold become "-".
func branchTag(branch string) string {
	return invalidTagChars.ReplaceAllString(branch, "-")
}

var invalidTagChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// UnmarshalYAML decodes a service and keeps the line it starts at, for errors that name it.
func (s *Service) UnmarshalYAML(n *yaml.Node) error {
	type plain Service
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	s.line = n.Line
	return nil
}

// on reports a *bool setting, true when unset.
func on(b *bool) bool { return b == nil || *b }

// errorf is an error at a line of the config file.
func (c *Config) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", c.path, line, fmt.Sprintf(format, args...))
}

// ParseConfig reads scribe.yaml strictly: unknown keys (with the closest valid one), missing paths, duplicate
// workflows, unknown platforms and unsafe commands are errors naming the file and line. Defaults are applied.
func ParseConfig(path string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty config", path)
	}
	if err := checkKeys(path, root.Content[0], reflect.TypeOf(Config{}), ""); err != nil {
		return nil, err
	}
	c := &Config{path: path, root: root.Content[0]}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.defaults()
	return c, c.validate()
}

func (c *Config) defaults() {
	if c.Registry == "" {
		c.Registry = "ghcr.io"
	}
	if c.Image == "" {
		c.Image = "${{ github.repository }}"
	}
	if len(c.Platforms) == 0 {
		c.Platforms = []string{"linux/amd64", "linux/arm64"}
	}
	if c.DefaultBranch == "" {
		c.DefaultBranch = "main"
	}
	if c.ScribeActions.Repository == "" {
		c.ScribeActions.Repository = "infinite-scribe/scribe-actions"
	}
	if c.Lock == "" {
		c.Lock = "actions.lock.yaml"
	}
	if c.Publish == "" {
		c.Publish = "gated"
	}
	if c.ProtectedSuffixes == nil {
		c.ProtectedSuffixes = []string{"prod"}
	}
	for i := range c.Services {
		s := &c.Services[i]
		if s.Workflow == "" {
			s.Workflow = s.Name + "-docker-build.yml"
		}
		if s.Context == "" {
			s.Context = "."
		}
		if s.Dockerfile == "" {
			s.Dockerfile = strings.TrimPrefix(s.Context+"/Dockerfile", "./")
		}
		if len(s.Platforms) == 0 {
			s.Platforms = c.Platforms
		}
		if s.Test != nil && s.Test.WorkingDirectory == "" {
			s.Test.WorkingDirectory = s.Context
		}
		if s.SmokeTest != nil && s.SmokeTest.ExpectStatus == 0 {
			s.SmokeTest.ExpectStatus = 200
		}
		if s.Scan.FailOn == "" {
			s.Scan.FailOn = "critical"
		}
		if s.Cleanup.KeepNTagged == 0 {
			s.Cleanup.KeepNTagged = 10
		}
		if s.Cleanup.ExcludeTags == nil {
			s.Cleanup.ExcludeTags = defaultExcludeTags(c.DefaultBranch)
		}
		if s.Cleanup.UntaggedOlderThan == "" {
			s.Cleanup.UntaggedOlderThan = defaultUntaggedGrace
		}
	}
}

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func (c *Config) validate() error {
	if len(c.Services) == 0 {
		return c.errorf(c.line("services"), "no services: add at least one under services:")
	}
	for _, p := range c.Platforms {
		if err := platform.Check(p); err != nil {
			return c.errorf(c.line("platforms"), "platform %q %v", p, err)
		}
	}
	if c.Publish != "gated" && c.Publish != "at-push" {
		return c.errorf(c.line("publish"), "publish %q: want gated (tags after the scan and signature) or at-push", c.Publish)
	}
	for _, s := range c.ProtectedSuffixes {
		if !slices.Contains([]string{"dev", "staging", "prod", "manual"}, s) {
			return c.errorf(c.line("protected-suffixes"), "protected suffix %q: want dev, staging, prod or manual (the dispatch's tag_suffix choices)", s)
		}
	}
	names, workflows := map[string]int{}, map[string]int{}
	for _, s := range c.Services {
		if !serviceName.MatchString(s.Name) {
			return c.errorf(s.line, "service name %q: want lower-case letters, digits and dashes", s.Name)
		}
		if prev, dup := names[s.Name]; dup {
			return c.errorf(s.line, "service %q is declared twice (first at line %d)", s.Name, prev)
		}
		names[s.Name] = s.line
		if prev, dup := workflows[s.Workflow]; dup {
			return c.errorf(s.line, "service %q: workflow %s is already rendered for the service at line %d", s.Name, s.Workflow, prev)
		}
		workflows[s.Workflow] = s.line
		if !strings.HasSuffix(s.Workflow, ".yml") && !strings.HasSuffix(s.Workflow, ".yaml") || strings.Contains(s.Workflow, "/") {
			return c.errorf(s.line, "service %q: workflow %q must be a file name ending in .yml", s.Name, s.Workflow)
		}
		if len(s.Paths) == 0 {
			return c.errorf(s.line, "service %q has no paths: list the paths whose changes trigger its workflow", s.Name)
		}
		for _, p := range s.Platforms {
			if err := platform.Check(p); err != nil {
				return c.errorf(s.line, "service %q: platform %q %v", s.Name, p, err)
			}
		}
		for p, runner := range s.NativeRunners {
			if !slices.Contains(s.Platforms, p) {
				return c.errorf(s.line, "service %q: native-runners names %s, which is not one of its platforms %v", s.Name, p, s.Platforms)
			}
			if runner == "" {
				return c.errorf(s.line, "service %q: native-runners: no runner for %s", s.Name, p)
			}
		}
		if len(s.NativeRunners) > 0 && len(s.NativeRunners) != len(s.Platforms) {
			return c.errorf(s.line, "service %q: native-runners must name a runner for each of its platforms %v", s.Name, s.Platforms)
		}
		if t := s.Test; t != nil {
			if !slices.Contains([]string{"uv", "pnpm", "go", "none"}, t.Setup) {
				return c.errorf(s.line, "service %q: test setup %q is not one of uv, pnpm, go, none", s.Name, t.Setup)
			}
			if len(t.Commands) == 0 {
				return c.errorf(s.line, "service %q: test has no commands", s.Name)
			}
		}
		if err := c.validateCleanup(s); err != nil {
			return err
		}
		if on(s.Sign.Keyless) && !on(s.Sign.Tlog) {
			return c.errorf(s.line, "service %q: sign tlog: false needs keyless: false (a keyless signature is only valid with its transparency log entry)", s.Name)
		}
		if !slices.Contains([]string{"critical", "high", "medium", "low", "none"}, s.Scan.FailOn) {
			return c.errorf(s.line, "service %q: scan fail-on %q is not one of critical, high, medium, low, none", s.Name, s.Scan.FailOn)
		}
		// Values end up in run: scripts or in with: inputs; an expression in them would run in the workflow.
		for _, v := range append(append([]string{s.Context, s.Dockerfile, s.ImageSuffix, s.MaxSize}, s.Paths...), testCommands(s)...) {
			if strings.Contains(v, "${{") {
				return c.errorf(s.line, "service %q: %q holds a ${{ }} expression; only image may", s.Name, v)
			}
		}
	}
	return nil
}

// validateCleanup checks what reaches the cleanup step's inputs: ages the action parses (30d, or dataaxiom's
// "30 days"), and tag globs
// that compile and that the action's list input (comma or newline separated) reads back one by one.
func (c *Config) validateCleanup(s Service) error {
	for _, d := range [][2]string{{"older-than", s.Cleanup.OlderThan}, {"untagged-older-than", s.Cleanup.UntaggedOlderThan}} {
		if _, err := actionio.ParseAge(d[1]); d[1] != "" && err != nil {
			return c.errorf(s.line, "service %q: cleanup %s %q %v", s.Name, d[0], d[1], err)
		}
	}
	for _, p := range s.Cleanup.ExcludeTags {
		if _, err := path.Match(p, ""); err != nil || p == "" || strings.ContainsAny(p, ", \t\n") || strings.Contains(p, "${{") {
			return c.errorf(s.line, "service %q: cleanup exclude-tags %q is not a tag glob (want e.g. v*, [0-9]*.[0-9]*, prod; no commas, spaces or expressions)", s.Name, p)
		}
	}
	return nil
}

func testCommands(s Service) []string {
	if s.Test == nil {
		return nil
	}
	return s.Test.Commands
}

// line is the line of a top-level key, or 1.
func (c *Config) line(key string) int {
	for i := 0; i+1 < len(c.root.Content); i += 2 {
		if c.root.Content[i].Value == key {
			return c.root.Content[i].Line
		}
	}
	return 1
}

// checkKeys walks the YAML against the struct's yaml tags and reports the first unknown key with the
// closest valid one.
func checkKeys(path string, n *yaml.Node, t reflect.Type, where string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		known := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
				known[tag] = t.Field(i).Type
				names = append(names, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := known[k.Value]
			if !ok {
				in := ""
				if where != "" {
					in = " in " + where
				}
				return fmt.Errorf("%s:%d:%d: unknown key %q%s (did you mean %q?)", path, k.Line, k.Column, k.Value, in, closest(k.Value, names))
			}
			if err := checkKeys(path, n.Content[i+1], ft, strings.TrimPrefix(where+"."+k.Value, ".")); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if err := checkKeys(path, item, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func closest(word string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(word, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
