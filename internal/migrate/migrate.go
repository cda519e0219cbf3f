// Package migrate reads hand-written image workflows built on the actions this suite replaces
// (docker/build-push-action, docker/metadata-action, aquasecurity/trivy-action, anchore/scan-action,
// sigstore/cosign-installer, actions/delete-package-versions, dataaxiom/ghcr-cleanup-action) and writes the
// scribe.yaml that renders the equivalent pipeline, with a note, at its file and line, for everything it could
// not carry over. It never guesses: a value it cannot read (an expression it cannot resolve) keeps the
// generator's default and is a note.
package migrate

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Note is something a workflow does that scribe.yaml does not carry over, at the line that does it.
type Note struct {
	File string
	Line int
	Text string
}

func (n Note) String() string { return fmt.Sprintf("%s:%d: %s", n.File, n.Line, n.Text) }

// Service is one image as the workflows build it.
type Service struct {
	Name, Context, Dockerfile string
	Image                     string // registry/name as the workflow names it
	Platforms                 []string
	NativeRunners             map[string]string
	Paths                     []string
	Test                      *Test
	FailOn                    string // "" when no scanner gated
	Scanned, Signed           bool
	Keyless                   bool
	KeepNTagged               int // 0: scribe.yaml's default; -1: no tagged image deleted
	ExcludeTags               []string
	OlderThan                 string
	Cleaned                   bool
	CleanupOff                bool   // the workflows' cleanup was a dry run
	from                      string // file:line of the build step
}

// Test is the test job a build needs.
type Test struct {
	Setup, Version, WorkingDirectory string
	Commands                         []string
}

// Result is what Import read: the services, the default branch and the notes.
type Result struct {
	Services      []*Service
	DefaultBranch string
	Registry      string
	Notes         []Note
}

// Import reads the workflow files.
func Import(files []string) (*Result, error) {
	r := &Result{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var root yaml.Node
		if err := yaml.Unmarshal(raw, &root); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(root.Content) == 0 {
			continue
		}
		(&workflow{file: f, root: root.Content[0], r: r}).read()
	}
	if len(r.Services) == 0 {
		return nil, fmt.Errorf("no docker/build-push-action step in %s: nothing to import", strings.Join(files, ", "))
	}
	sort.SliceStable(r.Notes, func(i, j int) bool {
		a, b := r.Notes[i], r.Notes[j]
		return a.File < b.File || a.File == b.File && a.Line < b.Line
	})
	return r, nil
}

// workflow is one file being read.
type workflow struct {
	file string
	root *yaml.Node
	r    *Result
	env  map[string]string // the workflow's env: literals, for ${{ env.X }}
}

func (w *workflow) note(n *yaml.Node, format string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	w.r.Notes = append(w.r.Notes, Note{File: w.file, Line: line, Text: fmt.Sprintf(format, a...)})
}

// The tag rules the rendered workflow writes; others are notes.
var renderedTagRules = []string{"type=ref,event=branch", "type=ref,event=pr", "type=semver,pattern={{version}}",
	"type=semver,pattern={{major}}.{{minor}}", "type=sha", "type=raw,value=latest,enable={{is_default_branch}}"}

// The steps the rendered pipeline does itself, by action repository.
var replaced = map[string]bool{"actions/checkout": true, "docker/setup-qemu-action": true, "docker/setup-buildx-action": true,
	"docker/login-action": true, "docker/metadata-action": true, "docker/build-push-action": true, "sigstore/cosign-installer": true,
	"aquasecurity/trivy-action": true, "anchore/scan-action": true, "anchore/sbom-action": true, "github/codeql-action/upload-sarif": true,
	"actions/delete-package-versions": true, "dataaxiom/ghcr-cleanup-action": true, "actions/upload-artifact": true,
	"actions/download-artifact": true}

func (w *workflow) read() {
	w.env = literals(get(w.root, "env"))
	on := get(w.root, "on")
	if inputs := get(get(on, "workflow_dispatch"), "inputs"); inputs != nil {
		for i := 0; i+1 < len(inputs.Content); i += 2 {
			if k := inputs.Content[i]; k.Value != "tag_suffix" && k.Value != "no_cache" {
				w.note(k, "dispatch input %q is not carried over: the rendered workflow's dispatch takes tag_suffix (dev, staging, prod, manual) and no_cache", k.Value)
			}
		}
	}
	if b := get(get(on, "push"), "branches"); b != nil && len(b.Content) > 0 && !strings.ContainsAny(b.Content[0].Value, "*[") && w.r.DefaultBranch == "" {
		w.r.DefaultBranch = b.Content[0].Value
	}
	var paths []string
	for _, ev := range []string{"push", "pull_request"} {
		for _, p := range seq(get(get(on, ev), "paths")) {
			if !slices.Contains(paths, p.Value) && !strings.HasPrefix(p.Value, ".github/workflows/") {
				paths = append(paths, p.Value)
			}
		}
	}
	jobs := get(w.root, "jobs")
	var built []*Service
	for i := 0; jobs != nil && i+1 < len(jobs.Content); i += 2 {
		id, job := jobs.Content[i].Value, jobs.Content[i+1]
		for _, step := range seq(get(job, "steps")) {
			if repo, _ := uses(step); repo == "docker/build-push-action" {
				s := w.service(id, job, step)
				s.Paths = paths
				built = append(built, s)
			}
		}
	}
	for i := 0; jobs != nil && i+1 < len(jobs.Content); i += 2 {
		id, job := jobs.Content[i].Value, jobs.Content[i+1]
		w.readJob(id, job, jobs, built)
	}
	w.r.Services = append(w.r.Services, built...)
}

// service reads one build-push-action step, and the metadata-action and login steps of its job.
func (w *workflow) service(jobID string, job, step *yaml.Node) *Service {
	with := get(step, "with")
	s := &Service{Context: ".", from: fmt.Sprintf("%s:%d", w.file, step.Line)}
	if c := get(with, "context"); c != nil {
		if v, ok := w.literal(c); ok {
			s.Context = strings.TrimSuffix(strings.TrimPrefix(v, "./"), "/")
			if s.Context == "" {
				s.Context = "."
			}
		} else {
			w.note(c, "context %q is an expression: the service builds %q instead", c.Value, ".")
		}
	}
	if f := get(with, "file"); f != nil {
		if v, ok := w.literal(f); ok {
			s.Dockerfile = strings.TrimPrefix(v, "./")
		} else {
			w.note(f, "file %q is an expression: the service builds its context's Dockerfile", f.Value)
		}
	}
	s.Platforms, s.NativeRunners = w.platforms(job, get(with, "platforms"))
	for _, st := range seq(get(job, "steps")) {
		switch repo, _ := uses(st); repo {
		case "docker/metadata-action":
			sw := get(st, "with")
			if images := get(sw, "images"); images != nil {
				first := strings.TrimSpace(strings.Split(strings.TrimSpace(images.Value), "\n")[0])
				if v, ok := w.resolve(first); ok && s.Image == "" {
					s.Image = strings.TrimPrefix(strings.Split(v, ",")[0], "name=")
				} else if !ok {
					w.note(images, "images %q: an expression this import cannot resolve; scribe.yaml's image is the default", first)
				}
			}
			for _, rule := range strings.Split(val(get(sw, "tags")), "\n") {
				if rule = strings.TrimSpace(rule); rule != "" && !slices.Contains(renderedTagRules, strings.Join(strings.Fields(rule), "")) {
					w.note(get(sw, "tags"), "tag rule %q is not carried over: the rendered workflow tags with %s, plus the dispatch's tag_suffix", rule, strings.Join(renderedTagRules, "; "))
				}
			}
		case "docker/login-action":
			if reg := get(get(st, "with"), "registry"); reg != nil && w.r.Registry == "" {
				if v, ok := w.literal(reg); ok {
					w.r.Registry = v
				}
			}
		}
	}
	if s.Image == "" {
		tags := get(with, "tags")
		var refs []string
		if tags != nil && tags.Kind == yaml.SequenceNode {
			for _, t := range seq(tags) {
				refs = append(refs, t.Value)
			}
		} else {
			refs = strings.FieldsFunc(val(tags), func(r rune) bool { return r == ',' || r == '\n' })
		}
		if len(refs) > 0 {
			// the repository part: a tag's own expression (:${{ github.sha }}) does not matter
			ref := strings.TrimSpace(refs[0])
			if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
				ref = ref[:i]
			}
			if v, ok := w.resolve(ref); ok && !strings.HasPrefix(v, "${{") {
				s.Image = v
			}
		}
		if s.Image == "" {
			w.note(step, "no image name this import can read (metadata-action's images, or build-push-action's tags): scribe.yaml's image is the default, ${{ github.repository }}")
		}
	}
	s.Name = serviceName(jobID, s.Context, w.file)
	return s
}

// platforms reads build-push-action's platforms: a list, or ${{ matrix.X }} from the job's matrix; with a
// matrix whose include entries name a runner for each platform (runs-on: ${{ matrix.Y }}), native runners.
func (w *workflow) platforms(job, n *yaml.Node) ([]string, map[string]string) {
	if n == nil {
		return nil, nil
	}
	if m := matrixRef.FindStringSubmatch(n.Value); m != nil {
		matrix := get(get(job, "strategy"), "matrix")
		var out []string
		for _, p := range seq(get(matrix, m[1])) {
			out = append(out, p.Value)
		}
		runner := matrixRef.FindStringSubmatch(val(get(job, "runs-on")))
		runners := map[string]string{}
		for _, inc := range seq(get(matrix, "include")) {
			p := val(get(inc, m[1]))
			if p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
			if runner == nil {
				continue
			}
			switch r := get(inc, runner[1]); {
			case r != nil && r.Kind == yaml.ScalarNode:
				runners[p] = r.Value
			case len(seq(r)) == 1: // runs-on: [label]
				runners[p] = seq(r)[0].Value
			}
		}
		if len(out) == 0 {
			w.note(n, "platforms %q: the job's matrix lists no %s; the service builds the default platforms", n.Value, m[1])
			return nil, nil
		}
		if len(runners) != len(out) {
			runners = nil
		}
		for _, label := range runners {
			if !hostedLabel.MatchString(label) {
				w.note(get(job, "runs-on"), "runner %q is not a GitHub-hosted label: declare it in .github/actionlint.yaml (self-hosted-runner: labels:) or render's actionlint check refuses it", label)
			}
		}
		return out, runners
	}
	if strings.Contains(n.Value, "${{") {
		w.note(n, "platforms %q is an expression: the service builds the default platforms", n.Value)
		return nil, nil
	}
	var out []string
	for _, p := range strings.FieldsFunc(n.Value, func(r rune) bool { return r == ',' || r == '\n' }) {
		out = append(out, strings.TrimSpace(p))
	}
	return out, nil
}

// hostedLabel matches GitHub-hosted runner labels (ubuntu-24.04, windows-latest, macos-15, ...).
var hostedLabel = regexp.MustCompile(`^(ubuntu|windows|macos)-`)

var matrixRef = regexp.MustCompile(`^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$`)

// readJob reads what one job does for the services its workflow builds: tests they need, scans, signatures,
// retention; every other step is a note.
func (w *workflow) readJob(id string, job, jobs *yaml.Node, built []*Service) {
	steps := seq(get(job, "steps"))
	isBuild := slices.ContainsFunc(steps, func(st *yaml.Node) bool { r, _ := uses(st); return r == "docker/build-push-action" })
	if !isBuild && w.testOfABuild(id, jobs) {
		if t := w.test(steps); t != nil {
			for _, s := range built {
				if s.Test == nil {
					s.Test = t
				}
			}
			return
		}
	}
	for _, st := range steps {
		repo, _ := uses(st)
		with := get(st, "with")
		switch {
		case repo == "aquasecurity/trivy-action":
			for _, s := range built {
				s.Scanned = true
			}
			if val(get(with, "exit-code")) == "1" || val(get(with, "exit-code")) == "'1'" {
				sev := strings.Split(strings.ToLower(val(get(with, "severity"))), ",")
				if get(with, "severity") == nil {
					sev = []string{"low"}
				}
				lowest := lowestSeverity(sev)
				for _, s := range built {
					s.FailOn = lowest
				}
			}
			if get(with, "trivyignores") != nil || get(with, "ignore-policy") != nil {
				w.note(st, "trivy's ignore files are not carried over by scribe.yaml: pass them to the scan action's ignore-file (it reads .trivyignore)")
			}
		case repo == "anchore/scan-action":
			for _, s := range built {
				s.Scanned = true
				if val(get(with, "fail-build")) != "false" {
					s.FailOn = strings.ToLower(firstNonEmpty(val(get(with, "severity-cutoff")), "medium"))
				}
			}
		case repo == "sigstore/cosign-installer":
			for _, s := range built {
				s.Signed, s.Keyless = true, true
			}
		case repo == "actions/delete-package-versions":
			for _, s := range built {
				w.deletePackageVersions(s, with)
			}
		case repo == "dataaxiom/ghcr-cleanup-action":
			for _, s := range built {
				w.ghcrCleanup(s, with)
			}
		case repo == "" && strings.Contains(val(get(st, "run")), "cosign sign"):
			for _, s := range built {
				s.Signed = true
				s.Keyless = !strings.Contains(val(get(st, "run")), "--key")
			}
		case repo != "" && !replaced[repo]:
			w.note(st, "step %q (%s) is not carried over: the rendered jobs do not run it", stepName(st), get(st, "uses").Value)
		case repo == "" && get(st, "run") != nil && isBuild:
			w.note(st, "run step %q of the build job is not carried over", stepName(st))
		}
	}
}

// deletePackageVersions reads actions/delete-package-versions' retention. Only a rule that deletes tagged
// images becomes keep-n-tagged; one that never does keeps every tagged image (keep-n-tagged: -1).
func (w *workflow) deletePackageVersions(s *Service, with *yaml.Node) {
	s.Cleaned = true
	if n := get(with, "ignore-versions"); n != nil {
		w.note(n, "ignore-versions %q is not carried over: scribe.yaml protects tags by exclude-tags globs (default: releases, latest, the deployment tags, the default branch's tag)", n.Value)
	}
	if n := get(with, "delete-only-untagged-versions"); val(n) == "true" {
		s.KeepNTagged = -1
		w.note(n, "delete-only-untagged-versions: the rendered cleanup deletes no tagged image either (keep-n-tagged: -1), and untagged images after a day's grace, whatever min-versions-to-keep said")
		return
	}
	if n := get(with, "min-versions-to-keep"); n != nil {
		fmt.Sscan(n.Value, &s.KeepNTagged)
		w.note(n, "min-versions-to-keep: %s counts every version; scribe.yaml's keep-n-tagged: %s counts the tagged images besides releases, latest and the deployment tags (the cleanup action's own min-versions-to-keep input keeps delete-package-versions' meaning)", n.Value, n.Value)
	}
}

// ghcrCleanup reads dataaxiom/ghcr-cleanup-action's retention: keep-n-tagged, exclude-tags (globs; with
// use-regex they are not carried: as globs they would protect nothing), older-than. Without keep-n-tagged or
// delete-tags it deletes no tagged image, and neither does the rendered cleanup (keep-n-tagged: -1); with
// dry-run it deletes nothing, and the rendered cleanup is off.
func (w *workflow) ghcrCleanup(s *Service, with *yaml.Node) {
	if n := get(with, "dry-run"); val(n) == "true" {
		s.CleanupOff = true
		w.note(n, "dry-run: true deletes nothing: the rendered cleanup is off (cleanup: enabled: false) until you turn it on")
		return
	}
	s.Cleaned = true
	for _, key := range []string{"delete-tags", "keep-n-untagged", "delete-ghost-images", "delete-partial-images"} {
		if n := get(with, key); n != nil {
			w.note(n, "%s is not carried over by scribe.yaml (the cleanup action has it as an input)", key)
		}
	}
	switch n := val(get(with, "keep-n-tagged")); {
	case n != "":
		fmt.Sscan(n, &s.KeepNTagged)
	case get(with, "delete-tags") == nil:
		s.KeepNTagged = -1 // it deleted no tagged image
	}
	if ex := get(with, "exclude-tags"); ex != nil {
		if val(get(with, "use-regex")) == "true" {
			w.note(ex, "exclude-tags %q are regular expressions (use-regex): not carried over, scribe.yaml's are globs; its default protection (releases, latest, the deployment tags, the default branch's tag) stays: write your exclusions as globs", ex.Value)
		} else {
			w.note(ex, "exclude-tags %q replaces scribe.yaml's default protection (releases with and without v, latest, prod, staging, dev and the default branch's tag): add those you still want kept", ex.Value)
			for _, t := range strings.FieldsFunc(ex.Value, func(r rune) bool { return r == ',' || r == '\n' }) {
				s.ExcludeTags = append(s.ExcludeTags, strings.TrimSpace(t))
			}
		}
	}
	s.OlderThan = val(get(with, "older-than"))
}

// testOfABuild tells a test job: one a build job needs, which builds, publishes and downloads nothing itself
// (a job between two builds, as a digest merge, is none).
func (w *workflow) testOfABuild(id string, jobs *yaml.Node) bool {
	for _, st := range seq(get(get(jobs, id), "steps")) {
		if repo, _ := uses(st); strings.HasPrefix(repo, "docker/") || repo == "actions/download-artifact" {
			return false
		}
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		job := jobs.Content[i+1]
		if !slices.ContainsFunc(seq(get(job, "steps")), func(st *yaml.Node) bool { r, _ := uses(st); return r == "docker/build-push-action" }) {
			continue
		}
		needs := get(job, "needs")
		if val(needs) == id || slices.ContainsFunc(seq(needs), func(n *yaml.Node) bool { return n.Value == id }) {
			return true
		}
	}
	return false
}

// test reads a test job: its toolchain (setup-python with setup-uv, setup-node with pnpm, setup-go) and its
// run: commands; nil when it is not one of those.
func (w *workflow) test(steps []*yaml.Node) *Test {
	t := &Test{Setup: "none"}
	for _, st := range steps {
		repo, _ := uses(st)
		version := func(key string) string { return val(get(get(st, "with"), key)) }
		switch repo {
		case "actions/setup-go":
			t.Setup, t.Version = "go", version("go-version")
		case "astral-sh/setup-uv":
			t.Setup = "uv"
		case "actions/setup-python":
			if t.Version == "" {
				t.Version = version("python-version")
			}
		case "pnpm/action-setup":
			t.Setup = "pnpm"
		case "actions/setup-node":
			t.Version = version("node-version")
		case "", "actions/checkout":
		default:
			w.note(st, "test step %q (%s) is not carried over", stepName(st), get(st, "uses").Value)
		}
		if run := get(st, "run"); run != nil {
			// scribe.yaml's commands are one line each, each its own run: step: a script's lines are carried
			// one by one (continuations joined), and a script whose lines share state is a note.
			cmds := commandLines(run.Value)
			switch script := run.Value; {
			case strings.Contains(script, "${{"):
				w.note(run, "test step %q holds an expression, which scribe.yaml does not allow in commands", stepName(st))
				cmds = nil
			case len(cmds) > 1 && sharedShell.MatchString(script):
				w.note(run, "test step %q: its %d lines become %d commands, each in its own shell; what one line sets (cd, export, a loop) does not reach the next: review them", stepName(st), len(cmds), len(cmds))
			}
			t.Commands = append(t.Commands, cmds...)
			if wd := val(get(st, "working-directory")); wd != "" && t.WorkingDirectory == "" {
				t.WorkingDirectory = wd
			}
		}
	}
	if len(t.Commands) == 0 {
		return nil
	}
	return t
}

// sharedShell finds the shell constructs whose effect spans lines.
var sharedShell = regexp.MustCompile(`(?m)^\s*(cd|export|source|\.|if|for|while|until|case|function)\s|\(\)\s*\{`)

// commandLines are a script's commands: its non-empty, non-comment lines, a line ending in \ joined with the next.
func commandLines(script string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur += strings.TrimSpace(cont) + " "
			continue
		}
		if line = strings.TrimSpace(cur + line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
		cur = ""
	}
	return out
}

// literal is a value with no expression, or one this import resolves (${{ env.X }} of a literal env).
func (w *workflow) literal(n *yaml.Node) (string, bool) {
	return w.resolve(n.Value)
}

var envRef = regexp.MustCompile(`\$\{\{\s*env\.([\w-]+)\s*\}\}`)

func (w *workflow) resolve(v string) (string, bool) {
	v = envRef.ReplaceAllStringFunc(v, func(m string) string {
		if lit, ok := w.env[envRef.FindStringSubmatch(m)[1]]; ok {
			return lit
		}
		return m
	})
	// ${{ github.repository }} and its owner are what scribe.yaml's image may hold.
	rest := strings.NewReplacer("${{ github.repository }}", "", "${{ github.repository_owner }}", "").Replace(v)
	return v, !strings.Contains(rest, "${{")
}

func literals(n *yaml.Node) map[string]string {
	out := map[string]string{}
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		if !strings.Contains(n.Content[i+1].Value, "${{") {
			out[n.Content[i].Value] = n.Content[i+1].Value
		}
	}
	return out
}

// serviceName is the service's name: its context's last folder, else the workflow file's name.
func serviceName(jobID, context, file string) string {
	base := path.Base(context)
	if context == "." {
		base = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		for _, cut := range []string{"-docker-build", "-docker", "docker-", "-image", "build-", "-build"} {
			base = strings.ReplaceAll(base, cut, "")
		}
		if base == "" || base == "docker" || base == "build" || base == "image" {
			base = jobID
		}
	}
	name := strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if name == "" {
		name = "app"
	}
	return name
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

func lowestSeverity(sevs []string) string {
	order := []string{"low", "medium", "high", "critical"}
	best := "critical"
	for _, s := range sevs {
		if i := slices.Index(order, strings.TrimSpace(s)); i >= 0 && i < slices.Index(order, best) {
			best = order[i]
		}
	}
	return best
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

// uses is a step's action repository (owner/name, or owner/name/path) and ref.
func uses(step *yaml.Node) (string, string) {
	u := val(get(step, "uses"))
	repo, ref, _ := strings.Cut(u, "@")
	return repo, ref
}

func stepName(st *yaml.Node) string {
	if n := val(get(st, "name")); n != "" {
		return n
	}
	if u := val(get(st, "uses")); u != "" {
		return u
	}
	return strings.SplitN(strings.TrimSpace(val(get(st, "run"))), "\n", 2)[0]
}

// get is a mapping's value at key (nil-safe, a document read as its root).
func get(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// seq is a sequence's items (nil for anything else).
func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// val is a scalar's value, "" for nil.
func val(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}
