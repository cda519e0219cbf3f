package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
)

// actionlintVersion is the actionlint the validation workflow installs; the same version the tests use.
const actionlintVersion = "v1.7.12"

// File is one rendered workflow: its path in the repository and its content.
type File struct {
	Path    string
	Content []byte
}

// Renderer renders workflows from a config with a set of templates and a lock file of action pins.
type Renderer struct {
	Templates fs.FS
	Lock      *actionref.Lock
	// ScribeRepo and Scribe pin this project's actions (owner/repo and commit); see scribePin.
	ScribeRepo string
	Scribe     actionref.Pin
	// Dir is the workflows folder the files go to, relative to the repository root.
	Dir string
	// LockFile is the lock file's path in the repository, watched by the validation workflow; "" when the
	// embedded default lock was used (a path filter naming a file that is not there never fires).
	LockFile string
}

// view is what a service template reads.
type view struct {
	ConfigPath    string
	Name          string
	Slug          string
	Service       Service
	Test          *ServiceTests
	Registry      string
	Image         string
	Package       string
	Platforms     string
	Paths         []string
	DefaultBranch string
	Cron          string
	Legs          []leg
	Scan, Sign    bool
	SourceScan    bool // a source-scan job (secrets in the repository and its history) gates the builds
	Keyless       bool
	Tlog          bool // key-based signatures go to the transparency log
	Cleanup       bool
	Last          string
	Gated         bool   // tags written by a publish job after the scan and signature
	ProtectedJSON string // the protected suffixes as a JSON list, for fromJSON
}

// leg is one native per-platform build job.
type leg struct{ Job, Platform, Arch, Runner string }

// validateView is what the validation workflow template reads.
type validateView struct {
	ConfigPath        string
	DefaultBranch     string
	Paths             []string
	ActionlintVersion string
	ScribeRepository  string
	ScribeSHA         string
}

// Render renders every service's workflow and the validation workflow, sorted by path. Output is
// byte-identical for the same inputs.
func (r *Renderer) Render(c *Config) ([]File, error) {
	svc, err := r.parse("service.yml.tmpl")
	if err != nil {
		return nil, err
	}
	var files []File
	for _, s := range c.Services {
		v := r.view(c, s)
		var buf bytes.Buffer
		if err := svc.Execute(&buf, v); err != nil {
			return nil, fmt.Errorf("service %q (%s:%d): %w", s.Name, c.path, s.line, unwrapExec(err))
		}
		files = append(files, File{Path: path.Join(r.Dir, s.Workflow), Content: buf.Bytes()})
	}

	val, err := r.parse("validate.yml.tmpl")
	if err != nil {
		return nil, err
	}
	vv := validateView{ConfigPath: c.path, DefaultBranch: c.DefaultBranch, ActionlintVersion: actionlintVersion,
		ScribeRepository: c.ScribeActions.Repository, ScribeSHA: r.Scribe.SHA,
		Paths: []string{r.Dir + "/**", c.path}}
	if r.LockFile != "" {
		vv.Paths = append(vv.Paths, r.LockFile)
	}
	var buf bytes.Buffer
	if err := val.Execute(&buf, vv); err != nil {
		return nil, fmt.Errorf("validation workflow: %w", unwrapExec(err))
	}
	files = append(files, File{Path: path.Join(r.Dir, "validate-workflows.yml"), Content: buf.Bytes()})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func (r *Renderer) view(c *Config, s Service) view {
	v := view{
		ConfigPath:    c.path,
		Name:          s.Name + " docker build",
		Slug:          strings.TrimSuffix(strings.TrimSuffix(s.Workflow, ".yml"), ".yaml"),
		Service:       s,
		Test:          s.Test,
		Registry:      c.Registry,
		Image:         c.Registry + "/" + c.Image + s.ImageSuffix,
		Package:       packageName(c.Image) + s.ImageSuffix,
		Platforms:     strings.Join(s.Platforms, ","),
		Paths:         append(append([]string{}, s.Paths...), path.Join(r.Dir, s.Workflow)),
		DefaultBranch: c.DefaultBranch,
		Cron:          weeklyCron(s.Name),
		Scan:          on(s.Scan.Enabled),
		SourceScan:    on(s.Scan.Enabled) && on(s.Scan.Source),
		Sign:          on(s.Sign.Enabled),
		Keyless:       on(s.Sign.Keyless),
		Tlog:          on(s.Sign.Tlog),
		Cleanup:       on(s.Cleanup.Enabled),
		Last:          "build",
		Gated:         c.Publish == "gated",
		ProtectedJSON: protectedJSON(c.ProtectedSuffixes),
	}
	switch {
	case v.Gated:
		v.Last = "publish"
	case v.Sign:
		v.Last = "sign"
	case v.Scan:
		v.Last = "scan"
	}
	for _, p := range s.Platforms {
		if runner, ok := s.NativeRunners[p]; ok {
			arch := strings.ReplaceAll(strings.TrimPrefix(p, "linux/"), "/", "-")
			v.Legs = append(v.Legs, leg{Job: "build-" + arch, Platform: p, Arch: arch, Runner: runner})
		}
	}
	return v
}

// protectedJSON is the list as fromJSON reads it inside a single-quoted expression string.
func protectedJSON(suffixes []string) string {
	b, _ := json.Marshal(suffixes) // a []string always marshals
	return string(b)
}

// dict builds a template's argument from key-value pairs: (dict "V" . "Scope" "api").
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// packageName is the GHCR package of an image: the part after the owner, or the repository's name when the
// image is the repository (${{ github.repository }}).
func packageName(image string) string {
	if strings.Contains(image, "${{") {
		return "${{ github.event.repository.name }}"
	}
	return path.Base(image)
}

// weeklyCron spreads services over the week's small hours, the same for the same name on every machine.
func weeklyCron(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	n := h.Sum32()
	return fmt.Sprintf("%d %d * * %d", n%60, 1+(n/60)%5, (n/300)%7)
}

func (r *Renderer) parse(name string) (*template.Template, error) {
	funcs := template.FuncMap{
		"q":      quote,
		"uses":   r.Lock.Uses,
		"scribe": r.scribeUses,
		"dict":   dict,
	}
	t, err := template.New(name).Delims("[[", "]]").Funcs(funcs).Option("missingkey=error").ParseFS(r.Templates, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return t, nil
}

// scribeUses pins one of this project's actions (build, scan, sign, cleanup).
func (r *Renderer) scribeUses(action string) string {
	comment := r.Scribe.Version
	if comment == "" {
		comment = "unreleased"
	}
	return r.ScribeRepo + "/" + action + "@" + r.Scribe.SHA + " # " + comment
}

// quote writes a string as a YAML scalar: plain when that reads back the same, else quoted.
func quote(s string) (string, error) {
	out, err := yaml.Marshal(s)
	if err != nil {
		return "", err
	}
	q := strings.TrimSuffix(string(out), "\n")
	if strings.Contains(q, "\n") {
		return "", fmt.Errorf("%q: a value must be one line", s)
	}
	return q, nil
}

// unwrapExec keeps the message of a template function's error (a missing lock entry, say) without the
// template machinery's prefix.
func unwrapExec(err error) error {
	var ee template.ExecError
	if errors.As(err, &ee) {
		if i := strings.LastIndex(ee.Err.Error(), ": "); i >= 0 && strings.Contains(ee.Err.Error(), "error calling") {
			return errors.New(ee.Err.Error()[i+2:])
		}
	}
	return err
}

// scribePin finds the commit of scribe-actions to pin: the config's sha, else the lock file's entry, else the
// commit this generator was built from.
func scribePin(c *Config, lock *actionref.Lock) (actionref.Pin, error) {
	sa := c.ScribeActions
	if sa.SHA != "" {
		if !actionref.IsSHA(sa.SHA) {
			return actionref.Pin{}, c.errorf(c.line("scribe-actions"), "scribe-actions sha %q is not a full 40-hex commit SHA", sa.SHA)
		}
		return actionref.Pin{SHA: sa.SHA, Version: sa.Version}, nil
	}
	if p, ok := lock.Pins[sa.Repository]; ok {
		return p, nil
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev string
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && actionref.IsSHA(s.Value) {
				rev = s.Value
			}
		}
		if rev != "" {
			version := info.Main.Version
			if !strings.HasPrefix(version, "v") || strings.Contains(version, "-") {
				version = ""
			}
			return actionref.Pin{SHA: rev, Version: version}, nil
		}
	}
	return actionref.Pin{}, c.errorf(c.line("scribe-actions"),
		"no commit to pin %s to: set scribe-actions.sha (and version), or add it to the lock file %s", sa.Repository, lock.Path)
}
