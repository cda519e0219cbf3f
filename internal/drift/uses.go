package drift

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
)

// Use is one action reference found in a workflow or a composite action's action.yml.
type Use struct {
	File      string
	Line, Col int
	// Value is the uses: value as written; Comment the version its line comment names ("v4.2.2"), if any.
	Value, Comment string
	// Kind is "action", "workflow" (a reusable workflow), "docker" or "local".
	Kind string
	Ref  actionref.Ref
	// Via is the workflow that uses the local composite action this reference was found in.
	Via string
}

// Pos is file:line:col.
func (u Use) Pos() string { return fmt.Sprintf("%s:%d:%d", u.File, u.Line, u.Col) }

var versionInComment = regexp.MustCompile(`v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.]+)?`)

// FindUses finds every action reference under paths (workflow and action.yml files, or folders holding them):
// step uses:, job-level reusable workflows, docker:// images, and local ./ actions, whose own steps are
// followed. A YAML file that is neither a workflow nor an action is skipped; one that does not parse is an error.
func FindUses(paths []string) ([]Use, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// Parsing is most of the work: one file per core at a time.
	found := make([]*scanner, len(files))
	errs := make([]error, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		g.Go(func() error {
			found[i] = &scanner{seen: map[string]bool{}}
			errs[i] = found[i].file(f, "") // the first file's error by order, not by time, is reported
			return nil
		})
	}
	g.Wait()
	s := &scanner{seen: map[string]bool{}}
	for i := range files {
		if errs[i] != nil {
			return nil, errs[i]
		}
		s.seen[files[i]] = true
		s.uses = append(s.uses, found[i].uses...)
	}
	// Then follow local actions into their own steps, each once.
	for i := range files {
		for _, l := range found[i].locals {
			s.local(l.from, l.rel, "")
		}
	}
	sort.SliceStable(s.uses, func(i, j int) bool {
		a, b := s.uses[i], s.uses[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return s.uses, nil
}

type scanner struct {
	uses   []Use
	seen   map[string]bool
	locals []localUse // found while parsing concurrently, followed afterwards
	follow bool
}

type localUse struct{ from, rel string }

func (s *scanner) file(path, via string) error {
	if s.seen[path] {
		return nil
	}
	s.seen[path] = true
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	root := doc.Content[0]
	if jobs := get(root, "jobs"); jobs != nil {
		for i := 1; i < len(jobs.Content); i += 2 {
			job := jobs.Content[i]
			if u := get(job, "uses"); u != nil {
				s.add(path, u, "workflow", via)
			}
			s.steps(path, get(job, "steps"), via)
		}
	} else if runs := get(root, "runs"); runs != nil {
		s.steps(path, get(runs, "steps"), via)
	}
	return nil
}

func (s *scanner) steps(path string, steps *yaml.Node, via string) {
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return
	}
	for _, step := range steps.Content {
		if u := get(step, "uses"); u != nil {
			s.add(path, u, "action", via)
		}
	}
}

func (s *scanner) add(path string, n *yaml.Node, kind, via string) {
	u := Use{File: path, Line: n.Line, Col: n.Column, Value: n.Value, Kind: kind, Via: via}
	if n.LineComment != "" {
		comment := strings.TrimSpace(strings.TrimPrefix(n.LineComment, "#"))
		if _, after, ok := strings.Cut(comment, "@"); ok { // "# pin@v4", "# ratchet:actions/checkout@v4"
			comment = after
		}
		u.Comment = versionInComment.FindString(comment)
	}
	switch {
	case strings.HasPrefix(n.Value, "docker://"):
		u.Kind = "docker"
	case strings.HasPrefix(n.Value, "./"):
		u.Kind = "local"
	default:
		if r, err := actionref.Parse(n.Value); err == nil {
			u.Ref = r
		}
	}
	s.uses = append(s.uses, u)
	if u.Kind == "local" && kind == "action" {
		if s.follow {
			s.local(path, n.Value, via)
		} else {
			s.locals = append(s.locals, localUse{path, n.Value})
		}
	}
}

// local follows a ./ action into its action.yml, found from the repository root above the file.
func (s *scanner) local(from, rel, via string) {
	s.follow = true
	if via == "" {
		via = from
	}
	for dir := filepath.Dir(from); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".github")); err == nil {
			for _, name := range []string{"action.yml", "action.yaml"} {
				if p := filepath.Join(dir, rel, name); fileExists(p) {
					s.file(p, via)
					return
				}
			}
			return
		}
		if filepath.Dir(dir) == dir {
			return
		}
	}
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
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
