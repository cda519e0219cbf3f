package scan

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// npm's lockfiles: package-lock.json (and npm-shrinkwrap.json, its published twin), pnpm-lock.yaml and
// yarn.lock, read as osv-scalibr's packagelockjson, pnpmlock and yarnlock extractors read them. Local code (a
// workspace's own packages, links, file: and portal: dependencies) is the project's, not a dependency: it is
// left out. A git dependency is unassessable: its version is whatever the commit's package.json says, and
// OSV's npm records name registry versions.

// npmLock is package-lock.json: lockfileVersion 1 nests "dependencies"; 2 and 3 list "packages" by the folder
// they are installed in (2 keeps the "dependencies" of 1 as well, for older npm versions: packages wins).
type npmLock struct {
	Packages map[string]struct {
		Name     string `json:"name"` // an alias's real name
		Version  string `json:"version"`
		Resolved string `json:"resolved"`
		Link     bool   `json:"link"`
	} `json:"packages"`
	Dependencies map[string]npmLockDep `json:"dependencies"`
}

type npmLockDep struct {
	Version      string                `json:"version"` // an alias: npm:<name>@<version>
	Resolved     string                `json:"resolved"`
	Dependencies map[string]npmLockDep `json:"dependencies"`
}

func readPackageLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var lock npmLock
	lines, err := readJSON(data, &lock, func(p []string) bool {
		if len(p) == 2 && p[0] == "packages" {
			return true
		}
		for i := 0; i < len(p); i += 2 { // dependencies.<name>.dependencies.<name>...
			if p[i] != "dependencies" || i+1 >= len(p) {
				return false
			}
		}
		return len(p) > 0
	})
	if err != nil {
		return nil, err
	}
	var out []dependency
	if lock.Packages != nil {
		for key, p := range lock.Packages {
			i := strings.LastIndex(key, "node_modules/")
			if i < 0 || p.Link { // the root, a workspace's own folder, a link to one
				continue
			}
			d := dependency{name: cmp.Or(p.Name, key[i+len("node_modules/"):]), version: p.Version, line: lines[jsonPath("packages", key)]}
			if commit, ok := gitSource(p.Resolved); ok {
				d.unassessable(p.Resolved, "a git dependency (commit %s): OSV's records name registry versions", commit)
			} else if d.version == "" {
				d.unassessable(key, "no version")
			}
			out = append(out, d)
		}
		return byLine(out), nil
	}
	var walk func(at []string, deps map[string]npmLockDep)
	walk = func(at []string, deps map[string]npmLockDep) {
		for name, dep := range deps {
			here := slices.Concat(at, []string{"dependencies", name})
			walk(here, dep.Dependencies)
			d := dependency{name: name, version: dep.Version, line: lines[jsonPath(here...)]}
			if alias, ok := strings.CutPrefix(dep.Version, "npm:"); ok {
				if i := strings.LastIndex(alias, "@"); i > 0 {
					d.name, d.version = alias[:i], alias[i+1:]
				}
			}
			switch commit, git := gitSource(dep.Version); {
			case strings.HasPrefix(dep.Version, "file:"), strings.HasPrefix(dep.Version, "link:"):
				continue
			case git:
				d.unassessable(dep.Version, "a git dependency (commit %s): OSV's records name registry versions", commit)
			case d.version == "":
				d.unassessable(name, "no version")
			}
			out = append(out, d)
		}
	}
	walk(nil, lock.Dependencies)
	return byLine(out), nil
}

// pnpmEntry is one of pnpm-lock.yaml's packages; name and version are there when the key does not say them.
type pnpmEntry struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	Resolution struct {
		Tarball string `yaml:"tarball"`
		Commit  string `yaml:"commit"`
		Type    string `yaml:"type"`
	} `yaml:"resolution"`
}

var (
	pnpmNameAtVersion = regexp.MustCompile(`^(.+)@([\w.-]+)(?:\(|$)`)
	startsWithDigit   = regexp.MustCompile(`^\d`)
	yamlErrorLine     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// readPnpmLock reads pnpm-lock.yaml's packages, whose keys changed shape with the lockfile version: v5
// "/name/1.2.3_peer@2", v6 "/name@1.2.3(peer@2)", v9 "name@1.2.3".
func readPnpmLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(err)
	}
	if len(doc.Content) == 0 { // empty
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root.Line, "not a pnpm lockfile: the document is not a mapping")
	}
	version := 0.0
	if v := yamlValue(root, "lockfileVersion"); v != nil {
		version, _ = strconv.ParseFloat(v.Value, 64)
	}
	pkgs := yamlValue(root, "packages")
	if pkgs == nil {
		return nil, nil
	}
	if pkgs.Kind != yaml.MappingNode {
		return nil, errAt(pkgs.Line, "packages is not a mapping")
	}
	var out []dependency
	for i := 0; i+1 < len(pkgs.Content); i += 2 {
		key, val := pkgs.Content[i], pkgs.Content[i+1]
		var e pnpmEntry
		if err := val.Decode(&e); err != nil {
			return nil, errAt(val.Line, "package %s: %v", key.Value, err)
		}
		if strings.HasPrefix(key.Value, "file:") || strings.Contains(key.Value, "@file:") || strings.Contains(key.Value, "@link:") {
			continue
		}
		name, v := pnpmKey(key.Value, version)
		d := dependency{name: cmp.Or(e.Name, name), version: cmp.Or(e.Version, v), line: key.Line}
		commit, git := gitSource(e.Resolution.Tarball)
		if e.Resolution.Commit != "" || e.Resolution.Type == "git" {
			commit, git = e.Resolution.Commit, true
		}
		switch {
		case git:
			d.unassessable(key.Value, "a git dependency (commit %s): OSV's records name registry versions", commit)
		case d.name == "" || d.version == "":
			continue // a key of no known shape names nothing pnpm installs from the registry
		}
		out = append(out, d)
	}
	return out, nil
}

// pnpmKey is the name and version a packages key says, as osv-scalibr's pnpmlock reads them.
func pnpmKey(key string, lockfileVersion float64) (string, string) {
	if lockfileVersion >= 9 {
		name, version := splitNameSpec(strings.Trim(key, "'"))
		version, _, _ = strings.Cut(version, "(")
		return name, version
	}
	// v6 and earlier append peer dependencies in parentheses, which hold slashes of their own
	// (/next@13.4.0(react-dom@18.2.0(react@18.2.0))): cut them before splitting the key.
	key, _, _ = strings.Cut(key, "(")
	parts := strings.Split(key, "/")
	if len(parts) < 2 {
		return "", ""
	}
	parts = parts[1:]
	name := parts[0]
	if strings.HasPrefix(name, "@") && len(parts) > 1 {
		name, parts = parts[0]+"/"+parts[1], parts[2:]
	} else {
		parts = parts[1:]
	}
	version := ""
	if len(parts) > 0 {
		version = parts[0]
	}
	if version == "" {
		if m := pnpmNameAtVersion.FindStringSubmatch(name); m != nil {
			name, version = m[1], m[2]
		}
	}
	if !startsWithDigit.MatchString(version) {
		return "", ""
	}
	version, _, _ = strings.Cut(version, "_")
	return name, version
}

// yarnVersion and yarnResolution are a yarn.lock entry's fields: v1 `version "1.2.3"`, `resolved "<url>"`;
// berry (v2 and later) `version: 1.2.3`, `resolution: "name@npm:1.2.3"`.
var (
	yarnVersion    = regexp.MustCompile(`^ {2}"?version"?:? "?([\w.+-]+)"?$`)
	yarnResolution = regexp.MustCompile(`^ {2}"?(?:resolution:|resolved)"? "([^ '"]+)"$`)
)

// readYarnLock reads yarn.lock, v1's own format and berry's YAML alike, line by line as osv-scalibr's yarnlock
// does: an entry is a line at the margin (its specifiers) and the lines indented by two under it.
func readYarnLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	type entry struct {
		header              string
		line                int
		version, resolution string
	}
	var entries []*entry
	var cur *entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			cur = &entry{header: line, line: n}
			entries = append(entries, cur)
			continue
		}
		if cur == nil {
			return nil, errAt(n, "not a yarn lockfile: an indented line before any entry")
		}
		if m := yarnVersion.FindStringSubmatch(line); m != nil && cur.version == "" {
			cur.version = m[1]
		}
		if m := yarnResolution.FindStringSubmatch(line); m != nil && cur.resolution == "" {
			cur.resolution = m[1]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []dependency
	for _, e := range entries {
		if e.header == "__metadata:" { // berry's own
			continue
		}
		first, _, _ := strings.Cut(strings.TrimSuffix(e.header, ":"), ",")
		first = strings.Trim(strings.TrimSpace(first), `"`)
		name, protocol := yarnName(first)
		if e.resolution != "" && strings.Contains(e.resolution, "@") && !strings.Contains(e.resolution, "://") {
			// berry: the resolution names the package installed, an alias's real name included
			if n, p := yarnName(e.resolution); n != "" {
				name, protocol = n, p
			}
		}
		switch protocol {
		case "workspace", "link", "portal", "file":
			continue
		}
		d := dependency{name: name, version: e.version, line: e.line}
		switch commit, git := gitSource(e.resolution); {
		case git:
			d.unassessable(first, "a git dependency (commit %s): OSV's records name registry versions", commit)
		case d.version == "":
			d.unassessable(first, "no version")
		}
		out = append(out, d)
	}
	return out, nil
}

// yarnName is the package a specifier names and its protocol (npm, workspace, patch...; "" for a plain
// range): "lodash@^4.17.0", "@scope/pkg@npm:1.0.0", an alias "string-width-cjs@npm:string-width@^4.2.0"
// (string-width).
func yarnName(spec string) (string, string) {
	name, rest := splitNameSpec(spec)
	protocol, body, ok := strings.Cut(rest, ":")
	if !ok || !yarnProtocol.MatchString(protocol) {
		return name, ""
	}
	if target, r := splitNameSpec(body); protocol == "npm" && target != "" && r != "" {
		return target, protocol
	}
	return name, protocol
}

var yarnProtocol = regexp.MustCompile(`^[a-z]+$`)

// splitNameSpec splits "name@rest" where a scoped name starts with "@": "@scope/pkg@1.0.0" is "@scope/pkg",
// "1.0.0".
func splitNameSpec(s string) (string, string) {
	scoped := strings.HasPrefix(s, "@")
	name, rest, _ := strings.Cut(strings.TrimPrefix(s, "@"), "@")
	if scoped {
		name = "@" + name
	}
	return name, rest
}

// gitCommitForms are the ways npm, pnpm and yarn write a dependency fetched from git, the commit captured (the
// forms of osv-scalibr's commitextractor).
var gitCommitForms = []*regexp.Regexp{
	regexp.MustCompile(`(?:^|.+@)(?:git(?:\+(?:ssh|https))?|ssh)://.+#(\w+)$`),
	regexp.MustCompile(`(?:^|.+@)https://.+\.git#(\w+)$`),
	regexp.MustCompile(`https://codeload\.github\.com(?:/[\w.-]+){2}/tar\.gz/(\w+)$`),
	regexp.MustCompile(`.+#commit[:=](\w+)$`),
	regexp.MustCompile(`^(?:github|gitlab|bitbucket):.+#(\w+)$`),
}

// gitSource tells a resolution that is a git checkout, and its commit.
func gitSource(resolution string) (string, bool) {
	if !strings.Contains(resolution, "#") && !strings.Contains(resolution, "git") && !strings.Contains(resolution, "bitbucket") {
		return "", false // a registry's tarball: every form below needs one of those
	}
	for _, re := range gitCommitForms {
		if m := re.FindStringSubmatch(resolution); m != nil {
			return m[1], true
		}
	}
	if strings.HasPrefix(resolution, "git+") || strings.HasPrefix(resolution, "git://") {
		return "unknown", true
	}
	u, err := url.Parse(resolution)
	if err != nil || !slices.Contains([]string{"github.com", "gitlab.com", "bitbucket.org"}, u.Host) {
		return "", false
	}
	if ref := cmp.Or(u.Query().Get("ref"), u.Fragment); ref != "" {
		return ref, true
	}
	return "", false
}

// yamlValue is the value of a mapping's key, or nil.
func yamlValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlError places yaml.v3's "yaml: line N: ..." at its line.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return errAt(n, "not YAML: %s", m[2])
	}
	return fmt.Errorf("not YAML: %w", err)
}

// unassessable marks a dependency the scan cannot match, with the entry as written and why.
func (d *dependency) unassessable(declared, format string, a ...any) {
	d.declared, d.reason = declared, fmt.Sprintf(format, a...)
}

// byLine orders a lockfile's dependencies as the file does (a JSON object's members come out of a map).
func byLine(deps []dependency) []dependency {
	slices.SortStableFunc(deps, func(a, b dependency) int {
		if a.file != b.file {
			return strings.Compare(a.file, b.file)
		}
		if a.line != b.line {
			return a.line - b.line
		}
		return strings.Compare(a.name+"@"+a.version, b.name+"@"+b.version)
	})
	return deps
}
