package scan

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Coverage is what the scan could assess in one ecosystem of the image: a scanner that reports zero findings
// because it did not understand the image is worse than none, so every ecosystem the image has packages in
// says what its packages were matched against, or why they were not.
type Coverage struct {
	Ecosystem string `json:"ecosystem"` // OSV's name (Debian:12, PyPI); for packages of no known ecosystem, what they are
	OS        bool   `json:"os"`        // the operating system's packages (deb, apk, rpm)
	Packages  int    `json:"packages"`
	Assessed  bool   `json:"assessed"`
	Database  string `json:"database,omitempty"` // where the records came from
	Records   int    `json:"records,omitempty"`  // records of the ecosystem's database read
	Reason    string `json:"reason,omitempty"`   // why it was not assessed
	// Unevaluated are affected entries naming its packages that could not be evaluated (GIT or unknown
	// range types: their versions lists still count); Withdrawn the withdrawn records naming them.
	Unevaluated int `json:"unevaluated,omitempty"`
	Withdrawn   int `json:"withdrawn,omitempty"`
	// Platform is the platform image the packages are in, when the input held several (in the SARIF run).
	Platform string `json:"platform,omitempty"`
}

// errNoDatabase is a database that does not have the ecosystem: nothing to match its packages against.
var errNoDatabase = errors.New("no OSV database for this ecosystem")

// osTypes are the package types an operating system installs.
var osTypes = map[string]bool{"deb": true, "apk": true, "rpm": true}

// unplaced says why an application package has no OSV ecosystem, by its type.
var unplaced = map[string]string{
	"java-archive": "no OSV ecosystem for these packages (they do not say what they are: a jar without pom.properties names no Maven group)",
	"rust-crate":   "crates of a local path (the binary's own, its workspace's), git or another registry: OSV's records name crates.io's",
}

// coverageKey is the ecosystem a package is counted under: its OSV ecosystem, or, when it has none (an OS
// package of an unknown distribution), its type.
func coverageKey(p Package) string {
	if p.Ecosystem != "" {
		return p.Ecosystem
	}
	return p.Type
}

// newCoverage counts the packages per ecosystem; unknown is why packages without an ecosystem could not be
// placed ("" when every package has one).
func newCoverage(pkgs []Package, unknown string) map[string]*Coverage {
	cov := map[string]*Coverage{}
	for _, p := range pkgs {
		k := coverageKey(p)
		c := cov[k]
		if c == nil {
			c = &Coverage{Ecosystem: k, OS: osTypes[p.Type]}
			switch {
			case p.Ecosystem == "" && osTypes[p.Type]:
				c.Reason = cmp.Or(unknown, "no OSV ecosystem for these packages")
			case p.Ecosystem == "":
				c.Reason = cmp.Or(unplaced[p.Type], "no OSV ecosystem for these packages")
			}
			cov[k] = c
		}
		c.Packages++
	}
	return cov
}

// uncatalogued puts first the operating system none of whose packages the scan could read, though its release
// files name it: its package database was deleted to slim the image, or is one the scan cannot read. No package
// carries the reason, so the distribution does; an image with no release files (scratch, busybox) has none.
func uncatalogued(cov []Coverage, d Distro) []Coverage {
	if d.Format == "" || slices.ContainsFunc(cov, func(c Coverage) bool { return c.OS }) {
		return cov
	}
	places := map[string]string{"deb": "/var/lib/dpkg/status, /var/lib/dpkg/status.d/", "apk": "/lib/apk/db/installed",
		"rpm": rpmDatabasePlaces}[d.Format]
	eco, unknown := d.Assessable()
	reason := fmt.Sprintf("%s installs %s packages, but the image has no %s database the scan can read (%s)", d.name(), d.Format, d.Format, places)
	if unknown != "" {
		reason = unknown + "; " + reason
	}
	return append([]Coverage{{Ecosystem: cmp.Or(eco, d.Format), OS: true, Reason: reason}}, cov...)
}

// withUnread adds what the cataloguers could not read to the coverage, each under its package type: with the
// row of that type already not assessed (a binary's own crates), or as a row of its own.
func withUnread(cov, unread []Coverage) []Coverage {
	for _, u := range unread {
		i := slices.IndexFunc(cov, func(c Coverage) bool { return c.Ecosystem == u.Ecosystem && !c.Assessed })
		if i < 0 {
			cov = append(cov, u)
			continue
		}
		cov[i].Reason += "; " + u.Reason
	}
	return cov
}

// packagesOf names a coverage entry's packages: "12 Debian:12 packages", or the ecosystem's packages when
// nobody counted them.
func packagesOf(c Coverage) string {
	if c.Packages == 0 && c.Reason != "" {
		return c.Ecosystem + " packages"
	}
	return fmt.Sprintf("%d %s package%s", c.Packages, c.Ecosystem, plural(c.Packages, "", "s"))
}

// sortedCoverage is the coverage in a stable order: the operating system first, then by name.
func sortedCoverage(cov map[string]*Coverage) []Coverage {
	var out []Coverage
	for _, k := range slices.Sorted(maps.Keys(cov)) {
		out = append(out, *cov[k])
	}
	slices.SortStableFunc(out, func(a, b Coverage) int {
		switch {
		case a.OS && !b.OS:
			return -1
		case !a.OS && b.OS:
			return 1
		}
		return 0
	})
	return out
}

// unassessed lists the coverage the gate's fail-on-unassessed covers that was not assessed: "os" the
// operating system's packages, "all" every ecosystem, "none" nothing.
func unassessed(cov []Coverage, mode string) []Coverage {
	var out []Coverage
	for _, c := range cov {
		if !c.Assessed && (mode == "all" || mode == "os" && c.OS) {
			out = append(out, c)
		}
	}
	return out
}

// applyCoverage fails the gate for what fail-on-unassessed covers and was not assessed, naming it.
func applyCoverage(g *Gate, cov []Coverage, mode string) {
	missing := unassessed(cov, mode)
	if len(missing) == 0 {
		return
	}
	var why []string
	for _, c := range missing {
		why = append(why, fmt.Sprintf("%s not assessed (%s)", packagesOf(c), c.Reason))
	}
	reason := strings.Join(why, "; ") + " [fail-on-unassessed: " + mode + "]"
	if g.Passed {
		g.Passed, g.Reason = false, reason
	} else {
		g.Reason += " and " + reason
	}
}

// coverageTable is the summary's per-ecosystem table.
func coverageTable(cov []Coverage, findings []Finding) string {
	sevs := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	byEco := map[string]map[string]int{}
	for _, f := range findings {
		k := coverageKey(f.Package)
		if byEco[k] == nil {
			byEco[k] = map[string]int{}
		}
		byEco[k][f.Severity]++
	}
	var b strings.Builder
	b.WriteString("| ecosystem | packages | matched against | critical | high | medium | low | unknown |\n" +
		"| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range cov {
		against := fmt.Sprintf("%s (%d records)", c.Database, c.Records)
		if c.Unevaluated > 0 {
			against += fmt.Sprintf("; %d affected entr%s not evaluable (GIT ranges)", c.Unevaluated, plural(c.Unevaluated, "y", "ies"))
		}
		if !c.Assessed {
			against = "⚠️ **not assessed**: " + c.Reason
		}
		fmt.Fprintf(&b, "| %s | %d | %s |", c.Ecosystem, c.Packages, strings.ReplaceAll(against, "|", "\\|"))
		for _, sv := range sevs {
			fmt.Fprintf(&b, " %d |", byEco[c.Ecosystem][sv])
		}
		b.WriteString("\n")
	}
	return b.String()
}
