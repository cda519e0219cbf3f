package scan

import "strings"

// readCargoLock reads Cargo.lock's [[package]] tables. A package with no source is one of the workspace's own
// crates; a git source's version is whatever the commit's Cargo.toml says, and OSV's crates.io records name
// published versions: unassessable.
func readCargoLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var lock struct {
		Package []struct{ Name, Version, Source string } `toml:"package"`
	}
	if err := decodeTOML(data, &lock); err != nil {
		return nil, err
	}
	lines := tomlPackageLines(data, len(lock.Package))
	var out []dependency
	for i, p := range lock.Package {
		if p.Source == "" {
			continue
		}
		d := dependency{name: p.Name, version: p.Version, line: lines(i, p.Name)}
		if strings.HasPrefix(p.Source, "git+") {
			_, commit, _ := strings.Cut(p.Source, "#")
			d.unassessable(p.Source, "a git dependency (commit %s): OSV's records name crates.io releases", commit)
		} else if d.version == "" {
			d.unassessable(p.Name, "no version")
		}
		out = append(out, d)
	}
	return out, nil
}
