package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// readGoMod reads go.mod's requirements with its replace directives applied, each at the line of the
// directive that decides the version (the replace's, when one applies). From Go 1.17 on go.mod lists every
// module the build needs; before (or with no go directive, which means 1.16) the indirect ones are only in
// go.sum, read for them when it is there. The standard library is not a dependency here: the go and
// toolchain directives name the oldest Go that may build the module, not the one that will (osv-scanner v2.6.0
// reports no stdlib from them either); the image scan reads it from the binary.
func readGoMod(rel string, data []byte, dir lockfileDir) ([]dependency, error) {
	f, err := modfile.Parse(rel, data, nil)
	if err != nil {
		var el modfile.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			return nil, errAt(el[0].Pos.Line, "not a go.mod: %v", el[0].Err)
		}
		return nil, fmt.Errorf("not a go.mod: %w", err)
	}
	replaced := func(mod, version string) (*modfile.Replace, bool) {
		var every *modfile.Replace
		for _, r := range f.Replace {
			switch {
			case r.Old.Path == mod && r.Old.Version == version:
				return r, true // a version's own replacement wins over one for every version
			case r.Old.Path == mod && r.Old.Version == "":
				every = r
			}
		}
		return every, every != nil
	}
	var out []dependency
	required := map[string]bool{}
	for _, r := range f.Require {
		required[r.Mod.Path] = true
		d := dependency{name: r.Mod.Path, version: r.Mod.Version, line: r.Syntax.Start.Line}
		if rep, ok := replaced(r.Mod.Path, r.Mod.Version); ok {
			if rep.New.Version == "" { // a directory: local code
				continue
			}
			d.name, d.version, d.line = rep.New.Path, rep.New.Version, rep.Syntax.Start.Line
		}
		out = append(out, d)
	}
	if f.Go != nil && version.Compare("go"+f.Go.Version, "go1.17") >= 0 {
		return out, nil
	}
	goLine := 1
	if f.Go != nil {
		goLine = f.Go.Syntax.Start.Line
	}
	sumRel := path.Join(path.Dir(rel), "go.sum")
	sum, err := dir.open(sumRel)
	if errors.Is(err, fs.ErrNotExist) {
		if len(f.Require) > 0 {
			dir.note("%s:%d: before Go 1.17 go.mod lists only the direct dependencies, and there is no go.sum beside it: the indirect ones are not assessed", rel, goLine)
		}
		return out, nil
	}
	if err != nil {
		return nil, errAt(goLine, "%s: %v", sumRel, err)
	}
	indirect, err := readGoSum(sumRel, sum, required)
	if err != nil {
		return nil, err
	}
	for _, d := range indirect {
		if rep, ok := replaced(d.name, d.version); ok {
			if rep.New.Version == "" {
				continue
			}
			d.name, d.version, d.file, d.line = rep.New.Path, rep.New.Version, "", rep.Syntax.Start.Line
		}
		out = append(out, d)
	}
	return out, nil
}

// readGoSum lists the modules of go.sum that go.mod does not require, each at its newest version (the one
// minimal version selection picks from those go.sum holds a module's content for); `/go.mod` lines are hashes
// of a version's go.mod only, read to build the graph, not built.
func readGoSum(rel string, data []byte, required map[string]bool) ([]dependency, error) {
	newest := map[string]dependency{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, &posError{file: rel, line: n, err: errors.New("not a go.sum line (module, version, hash)")}
		}
		mod, version := fields[0], fields[1]
		if strings.HasSuffix(version, "/go.mod") || required[mod] {
			continue
		}
		cur, seen := newest[mod]
		if !seen {
			order = append(order, mod)
		}
		if !seen || semver.Compare(version, cur.version) > 0 {
			newest[mod] = dependency{name: mod, version: version, file: rel, line: n}
		}
	}
	var out []dependency
	for _, mod := range order {
		out = append(out, newest[mod])
	}
	return out, sc.Err()
}
