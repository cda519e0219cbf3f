package scan

import (
	"cmp"
	"strconv"
	"strings"
)

// readComposerLock reads composer.lock's packages and packages-dev, each at its "name" line. A version that
// names a branch (dev-main, 1.x-dev) is a commit of it, not a release: unassessable.
func readComposerLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	type entry struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  struct {
			Reference string `json:"reference"`
		} `json:"source"`
	}
	var lock struct {
		Packages    []entry `json:"packages"`
		PackagesDev []entry `json:"packages-dev"`
	}
	lines, err := readJSON(data, &lock, func(p []string) bool {
		return (len(p) == 2 || len(p) == 3 && p[2] == "name") && (p[0] == "packages" || p[0] == "packages-dev")
	})
	if err != nil {
		return nil, err
	}
	var out []dependency
	for _, group := range []string{"packages", "packages-dev"} {
		entries := lock.Packages
		if group == "packages-dev" {
			entries = lock.PackagesDev
		}
		for i, e := range entries {
			at := strconv.Itoa(i)
			d := dependency{name: e.Name, version: e.Version, line: cmp.Or(lines[jsonPath(group, at, "name")], lines[jsonPath(group, at)])}
			switch {
			case strings.HasPrefix(e.Version, "dev-") || strings.HasSuffix(e.Version, "-dev"):
				d.unassessable(e.Name+" "+e.Version, "a branch (commit %s), not a release", e.Source.Reference)
			case e.Version == "":
				d.unassessable(e.Name, "no version")
			}
			out = append(out, d)
		}
	}
	return out, nil
}
