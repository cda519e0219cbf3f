package actionref

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pin is one action repository's entry in the lock file: the release and the commit its tag points to.
type Pin struct {
	Version string `yaml:"version"`
	SHA     string `yaml:"sha"`
	line    int
}

// Lock is the lock file: action repository (owner/repo) -> pin. Actions in a subfolder of a repository
// (github/codeql-action/upload-sarif) share their repository's pin.
type Lock struct {
	Path string
	Pins map[string]Pin
}

var versionPattern = regexp.MustCompile(`^v\d+(\.\d+){0,2}$`)

// ReadLock parses a lock file; every error names the file and line.
func ReadLock(path string, data []byte) (*Lock, error) {
	var doc struct {
		Actions yaml.Node `yaml:"actions"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l := &Lock{Path: path, Pins: map[string]Pin{}}
	n := &doc.Actions
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want an actions: mapping of owner/repo to version and sha", path, max(n.Line, 1))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		var p Pin
		if err := val.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", path, key.Line, key.Value, err)
		}
		p.line = key.Line
		if strings.Count(key.Value, "/") != 1 {
			return nil, fmt.Errorf("%s:%d: %q is not an action repository (want owner/repo)", path, key.Line, key.Value)
		}
		if !IsSHA(p.SHA) {
			return nil, fmt.Errorf("%s:%d: %s: sha %q is not a full 40-hex commit SHA", path, key.Line, key.Value, p.SHA)
		}
		if !versionPattern.MatchString(p.Version) {
			return nil, fmt.Errorf("%s:%d: %s: version %q is not a release version (want vX.Y.Z)", path, key.Line, key.Value, p.Version)
		}
		if _, dup := l.Pins[key.Value]; dup {
			return nil, fmt.Errorf("%s:%d: %s is pinned twice", path, key.Line, key.Value)
		}
		l.Pins[key.Value] = p
	}
	return l, nil
}

// Uses returns the pinned reference for an action (owner/repo[/path]), as Dependabot and Renovate read it:
// owner/repo/path@<sha> # vX.Y.Z.
func (l *Lock) Uses(action string) (string, error) {
	r, err := Parse(action + "@x")
	if err != nil {
		return "", err
	}
	p, ok := l.Pins[r.Repository()]
	if !ok {
		return "", fmt.Errorf("action %s is not in the lock file %s (add %s with its version and sha)", action, l.Path, r.Repository())
	}
	return action + "@" + p.SHA + " # " + p.Version, nil
}

// Line is the line of a repository's pin in the lock file (0 when absent).
func (l *Lock) Line(repository string) int { return l.Pins[repository].line }

// Repositories lists the pinned repositories, sorted.
func (l *Lock) Repositories() []string {
	var names []string
	for n := range l.Pins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Set pins a repository.
func (l *Lock) Set(repository string, p Pin) {
	if l.Pins == nil {
		l.Pins = map[string]Pin{}
	}
	l.Pins[repository] = p
}

// Marshal writes the lock file, repositories sorted, with a header saying what it is.
func (l *Lock) Marshal() []byte {
	var b strings.Builder
	b.WriteString("# Action pins: the release of each action repository and the commit its tag points to.\n")
	b.WriteString("# Written by gen-workflows pin; gen-workflows render pins every uses: from it.\n")
	b.WriteString("actions:\n")
	for _, repo := range l.Repositories() {
		p := l.Pins[repo]
		fmt.Fprintf(&b, "  %s:\n    version: %s\n    sha: %s\n", repo, p.Version, p.SHA)
	}
	return []byte(b.String())
}
