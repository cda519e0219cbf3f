package scan

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Python's lockfiles: pip's requirements files (requirements*.txt), poetry.lock, uv.lock and Pipfile.lock. A
// requirements file pins only what `==` (or `===`) pins: any other specifier lets pip pick a version the file
// does not say, so such a line is unassessable, where osv-scalibr's extractor takes the lowest version a range
// allows (`>=1.26` as 1.26) and matches that.

// isRequirementsFile tells pip's requirements files by name as osv-scalibr does: a .txt whose name holds
// "requirements" (requirements.txt, dev-requirements.txt, requirements-test.txt).
func isRequirementsFile(name string) bool {
	return strings.HasSuffix(name, ".txt") && strings.Contains(name, "requirements")
}

var (
	requirementName    = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$`)
	requirementComment = regexp.MustCompile(`(^|\s)#.*$`)
	requirementEnvVar  = regexp.MustCompile(`\$\{[A-Za-z0-9_]+\}`)
	// the per-requirement options pip allows after a requirement, which end it
	requirementOptions = regexp.MustCompile(`\s(?:--hash|--global-option|--config-settings|-C)\b.*$`)
	requirementInclude = regexp.MustCompile(`^(?:-r\s*|--requirement(?:\s+|=))(\S+)$`)
	urlStart           = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
)

// editableTarget is what an -e (--editable) option installs.
func editableTarget(line string) (string, bool) {
	for _, opt := range []string{"--editable", "-e"} {
		if rest, ok := strings.CutPrefix(line, opt); ok {
			return strings.TrimLeft(rest, " \t="), true
		}
	}
	return "", false
}

// readRequirements reads a pip requirements file, following its -r includes (the included file's entries at
// their own file and line). Constraints files (-c) install nothing and are not read.
func readRequirements(rel string, data []byte, dir lockfileDir) ([]dependency, error) {
	return readRequirementsFile(rel, data, dir, map[string]bool{rel: true}, true)
}

func readRequirementsFile(rel string, data []byte, dir lockfileDir, chain map[string]bool, top bool) ([]dependency, error) {
	var out []dependency
	file := ""
	if !top {
		file = rel
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) { // a continued line
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimRight(lines[i], "\r")
		}
		line = strings.TrimSpace(requirementComment.ReplaceAllString(line, ""))
		if line == "" {
			continue
		}
		d := dependency{file: file, line: n}
		if m := requirementInclude.FindStringSubmatch(line); m != nil {
			inc := path.Join(path.Dir(rel), m[1])
			if chain[inc] {
				continue
			}
			incData, err := dir.open(inc)
			if err != nil {
				d.name = m[1]
				d.unassessable(line, "the included file could not be read: %v", err)
				out = append(out, d)
				continue
			}
			chain[inc] = true
			deps, err := readRequirementsFile(inc, incData, dir, chain, false)
			var pe *posError
			if errors.As(err, &pe) && pe.file == "" {
				pe.file = inc
			}
			if err != nil {
				return nil, err
			}
			out = append(out, deps...)
			continue
		}
		if requirementEnvVar.MatchString(line) {
			d.name = line
			d.unassessable(line, "holds an environment variable: the version is known only when pip runs")
			out = append(out, d)
			continue
		}
		if strings.HasPrefix(line, "-") { // an option: -c, -i, --index-url, -e <local path or VCS URL>...
			if target, ok := editableTarget(line); ok && urlStart.MatchString(target) {
				d.name = target
				d.unassessable(line, "an editable install from a repository: no version")
				out = append(out, d)
			}
			continue
		}
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "/") { // a local path: the project's own code
			continue
		}
		if urlStart.MatchString(line) {
			d.name = line
			d.unassessable(line, "a URL: no version")
			out = append(out, d)
			continue
		}
		req := strings.TrimSpace(requirementOptions.ReplaceAllString(line, ""))
		req, _, _ = strings.Cut(req, ";") // environment markers
		m := requirementName.FindStringSubmatch(strings.TrimSpace(req))
		if m == nil {
			return nil, errAt(n, "not a requirement (want a name, then a version specifier); the line is not shown, it may hold a credential")
		}
		d.name = m[1]
		spec := strings.Join(strings.Fields(m[2]), "")
		switch version, pinned := pinnedVersion(spec); {
		case strings.HasPrefix(spec, "@"):
			d.unassessable(line, "a direct reference (URL): no version")
		case spec == "":
			d.unassessable(line, "not pinned (no version): pip installs whatever is newest")
		case !pinned:
			d.unassessable(line, "not pinned (%s): only == names the version installed", spec)
		default:
			d.version = version
		}
		out = append(out, d)
	}
	return out, nil
}

// pinnedVersion is the version a specifier pins: one == or === clause without a wildcard.
func pinnedVersion(spec string) (string, bool) {
	if strings.Contains(spec, ",") {
		return "", false
	}
	v, ok := strings.CutPrefix(spec, "===")
	if !ok {
		v, ok = strings.CutPrefix(spec, "==")
	}
	if !ok || v == "" || strings.Contains(v, "*") {
		return "", false
	}
	return v, true
}

// readPoetryLock reads poetry.lock's [[package]] tables. A git source's version is its pyproject's, not a
// release's: unassessable; a directory is local code.
func readPoetryLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var lock struct {
		Package []struct {
			Name, Version string
			Source        struct {
				Type              string `toml:"type"`
				URL               string `toml:"url"`
				ResolvedReference string `toml:"resolved_reference"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if err := decodeTOML(data, &lock); err != nil {
		return nil, err
	}
	lines := tomlPackageLines(data, len(lock.Package))
	var out []dependency
	for i, p := range lock.Package {
		d := dependency{name: p.Name, version: p.Version, line: lines(i, p.Name)}
		switch p.Source.Type {
		case "directory":
			continue
		case "git":
			d.unassessable(p.Source.URL, "a git dependency (commit %s): OSV's records name PyPI releases", p.Source.ResolvedReference)
		}
		if d.reason == "" && d.version == "" {
			d.unassessable(p.Name, "no version")
		}
		out = append(out, d)
	}
	return out, nil
}

// readUVLock reads uv.lock's [[package]] tables; the project itself (virtual, editable) and local directories
// are the project's own code.
func readUVLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var lock struct {
		Package []struct {
			Name, Version string
			Source        struct {
				Git       string `toml:"git"`
				Virtual   string `toml:"virtual"`
				Editable  string `toml:"editable"`
				Directory string `toml:"directory"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if err := decodeTOML(data, &lock); err != nil {
		return nil, err
	}
	lines := tomlPackageLines(data, len(lock.Package))
	var out []dependency
	for i, p := range lock.Package {
		if p.Source.Virtual != "" || p.Source.Editable != "" || p.Source.Directory != "" {
			continue
		}
		d := dependency{name: p.Name, version: p.Version, line: lines(i, p.Name)}
		if p.Source.Git != "" {
			_, commit, _ := strings.Cut(p.Source.Git, "#")
			d.unassessable(p.Source.Git, "a git dependency (commit %s): OSV's records name PyPI releases", commit)
		} else if d.version == "" {
			d.unassessable(p.Name, "no version")
		}
		out = append(out, d)
	}
	return out, nil
}

// pipenvEntry is one of Pipfile.lock's packages: a version "==1.2.3", or where it comes from.
type pipenvEntry struct {
	Version  string `json:"version"`
	Git      string `json:"git"`
	Ref      string `json:"ref"`
	Path     string `json:"path"`
	File     string `json:"file"`
	Editable bool   `json:"editable"`
}

// readPipfileLock reads Pipfile.lock's default and develop packages.
func readPipfileLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var lock struct {
		Default map[string]pipenvEntry `json:"default"`
		Develop map[string]pipenvEntry `json:"develop"`
	}
	lines, err := readJSON(data, &lock, func(p []string) bool {
		return len(p) == 2 && (p[0] == "default" || p[0] == "develop")
	})
	if err != nil {
		return nil, err
	}
	var out []dependency
	for _, group := range []string{"default", "develop"} {
		entries := lock.Default
		if group == "develop" {
			entries = lock.Develop
		}
		for name, e := range entries {
			d := dependency{name: name, line: lines[jsonPath(group, name)]}
			version, pinned := pinnedVersion(e.Version)
			switch {
			case e.Path != "" && e.Git == "":
				continue // local code
			case e.Git != "":
				d.unassessable(e.Git, "a git dependency (ref %s): OSV's records name PyPI releases", e.Ref)
			case e.File != "":
				d.unassessable(e.File, "a file or URL: no version")
			case !pinned:
				d.unassessable(e.Version, "not pinned")
			default:
				d.version = version
			}
			out = append(out, d)
		}
	}
	return byLine(out), nil
}

// decodeTOML decodes a TOML lockfile, its syntax errors at their line and column.
func decodeTOML(data []byte, v any) error {
	_, err := toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &posError{line: pe.Position.Line, col: pe.Position.Col, err: fmt.Errorf("not TOML: %s", pe.Message)}
	}
	if err != nil {
		return fmt.Errorf("not the lockfile's shape: %w", err)
	}
	return nil
}

// tomlPackageLines finds the line of each [[package]] table's name: the decoder keeps no positions, so this is
// a text search. The n-th [[package]] header is the n-th package decoded (TOML keeps an array of tables in
// order); its `name =` line, else the header's. When the headers do not add up to the packages (an inline
// array, which no lockfile tool writes), a package's line is its `name = "..."` line's.
func tomlPackageLines(data []byte, packages int) func(i int, name string) int {
	type table struct{ header, name int }
	var tables []table
	byName := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	inPackage := false // in a [[package]] table itself, not one of its subtables
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "[[package]]":
			tables = append(tables, table{header: n})
			inPackage = true
			continue
		case strings.HasPrefix(line, "["):
			inPackage = false
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "name" {
			continue
		}
		if name := strings.Trim(strings.TrimSpace(value), `"'`); byName[name] == 0 {
			byName[name] = n
		}
		if inPackage && tables[len(tables)-1].name == 0 { // inPackage: after a header
			tables[len(tables)-1].name = n
		}
	}
	return func(i int, name string) int {
		if len(tables) == packages {
			return cmp.Or(tables[i].name, tables[i].header)
		}
		return byName[name]
	}
}
