package scan

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/osv-scalibr/semantic"
)

// This file follows the OSV schema's "Evaluation" pseudocode (ossf/osv-schema docs/schema.md): IsVulnerable is
// affects, IncludedInVersions is listed, IncludedInRanges is includes, BeforeLimits is beforeLimits.

// versionRange is one of an affected entry's ranges.
type versionRange struct {
	Type   string              `json:"type"`
	Events []map[string]string `json:"events"`
}

// ordering parses versions for comparing them in the range. SEMVER and ECOSYSTEM use the package's
// ecosystem's ordering, as osv-scanner does: for the ecosystems that publish SEMVER ranges (Go, npm,
// crates.io) it is SemVer 2.0's, and a SEMVER range on another ecosystem still names that ecosystem's versions.
// GIT names commits, ordered by a repository's graph the scan does not have; a type the schema does not
// define has no known ordering. Neither can be evaluated (ok false), and unevaluated counts them.
func (rg versionRange) ordering(ecosystem string) (parse func(string) (semantic.Version, error), ok bool) {
	if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
		return nil, false
	}
	return func(s string) (semantic.Version, error) { return semantic.Parse(s, ecosystem) }, true
}

// includes is IncludedInRanges for one range, and the first fixed event above the version when it is included.
// The limits are not part of the walk: the version must be below one of them (BeforeLimits), however many
// there are and wherever they sort.
func (rg versionRange) includes(version, ecosystem string) (bool, string) {
	parse, ok := rg.ordering(ecosystem)
	if !ok {
		return false, ""
	}
	v, err := parse(version)
	if err != nil {
		return false, ""
	}
	at, events := event{v: v}, sortedEvents(rg.Events, parse)
	if !beforeLimits(at, events) {
		return false, ""
	}
	vulnerable := false
	for _, e := range events {
		switch c := order(at, e); e.kind {
		case "introduced":
			if c >= 0 {
				vulnerable = true
			}
		case "fixed":
			if c >= 0 {
				vulnerable = false
			}
		case "last_affected": // the version equal to it is still affected
			if c > 0 {
				vulnerable = false
			}
		}
	}
	if !vulnerable {
		return false, ""
	}
	return true, firstFixedAbove(at, events)
}

// beforeLimits: the version is below one of the range's limits; with none, an implicit "*" lets every version in.
func beforeLimits(at event, events []event) bool {
	limited := false
	for _, e := range events {
		if e.kind == "limit" {
			if order(at, e) < 0 {
				return true
			}
			limited = true
		}
	}
	return !limited
}

// firstFixedAbove is the version to upgrade to: the first fixed event above the version, in sorted events.
func firstFixedAbove(at event, events []event) string {
	for _, e := range events {
		if e.kind == "fixed" && order(at, e) < 0 {
			return e.version
		}
	}
	return ""
}

// order compares two events' versions: introduced "0" sorts before every version and a limit "*" after.
func order(a, b event) int {
	if ra, rb := a.special(), b.special(); ra != 0 || rb != 0 {
		return cmp.Compare(ra, rb)
	}
	c, _ := a.v.Compare(b.v) // one parse function made both, so they are of the same ecosystem
	return c
}

// special places the schema's special values: -1 for introduced "0", +1 for limit "*", 0 for a version.
func (e event) special() int {
	switch {
	case e.v != nil:
		return 0
	case e.kind == "introduced":
		return -1
	}
	return 1
}

// listed is IncludedInVersions, with == the ecosystem's equality: a database lists versions as the registry
// spells them, the image may spell them otherwise (PyPI's 1.0 is 1.0.0, npm's v1.2.3 is 1.2.3, Debian's
// 0:1.2-1 is 1.2-1).
func (a affected) listed(version, ecosystem string) bool {
	if slices.Contains(a.Versions, version) {
		return true
	}
	v, err := semantic.Parse(version, ecosystem)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(a.Versions, func(s string) bool {
		c, err := v.CompareStr(s)
		return err == nil && c == 0
	})
}

// evaluable: every range has an ordering. An entry with a GIT range or one of an unknown type may name
// versions the scan cannot see, even when its versions list and other ranges were used.
func (a affected) evaluable(ecosystem string) bool {
	return !slices.ContainsFunc(a.Ranges, func(rg versionRange) bool {
		_, ok := rg.ordering(ecosystem)
		return !ok
	})
}

// looseString is a string in a block whose shape the schema leaves to each database (database_specific,
// ecosystem_specific): any other JSON value reads as "", so one database's choice cannot fail a scan.
type looseString string

func (s *looseString) UnmarshalJSON(raw []byte) error {
	var v string
	if json.Unmarshal(raw, &v) == nil {
		*s = looseString(v)
	}
	return nil
}

// withdrawnBy: the schema's withdrawn is the time the record is to be taken as withdrawn, so a time after now
// has not happened yet. A time that does not parse, or no clock (zero now), takes the withdrawal as done:
// the field is only ever set to withdraw.
func withdrawnBy(r *record, now time.Time) bool {
	if r.Withdrawn == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339, r.Withdrawn)
	return err != nil || now.IsZero() || !t.After(now)
}

// Unevaluated is what the scan read about an ecosystem's packages but could not judge, so a report can say its
// findings there may be incomplete.
type Unevaluated struct {
	// Entries are affected entries naming an image's package with a range the scan cannot evaluate (GIT, or a
	// type the schema does not define); their versions lists and other ranges were still used.
	Entries int `json:"entries"`
	// Withdrawn are records naming an image's package that their database had withdrawn: not matched.
	Withdrawn int `json:"withdrawn"`
}

// unevaluated counts, by package ecosystem (Package.Ecosystem, "Debian:12"), the entries and withdrawn records
// that concern pkgs as match sees them (source package, same release), each once however many packages share
// it. Ecosystems with nothing unevaluated are absent.
func (db *database) unevaluated(pkgs []Package) map[string]Unevaluated {
	type seenKey struct {
		ecosystem string
		r         *record
		entry     int // -1: the record's withdrawal
	}
	seen := map[seenKey]bool{}
	out := map[string]Unevaluated{}
	for _, p := range pkgs {
		name, version := p.Name, p.Version // as match does
		if p.Source != "" {
			name, version = p.Source, p.SourceVersion
		}
		if version == "" || version == "(devel)" {
			continue
		}
		key := matchKey(p.Ecosystem, name)
		concerns := func(a affected) bool {
			return matchKey(a.Package.Ecosystem, a.Package.Name) == key && sameRelease(a.Package.Ecosystem, p.Ecosystem)
		}
		u := out[p.Ecosystem]
		for _, r := range db.records[key] {
			for i, a := range r.Affected {
				if k := (seenKey{p.Ecosystem, r, i}); concerns(a) && !a.evaluable(p.Ecosystem) && !seen[k] {
					seen[k] = true
					u.Entries++
				}
			}
		}
		for _, r := range db.withdrawn[key] {
			if k := (seenKey{p.Ecosystem, r, -1}); slices.ContainsFunc(r.Affected, concerns) && !seen[k] {
				seen[k] = true
				u.Withdrawn++
			}
		}
		if u != (Unevaluated{}) {
			out[p.Ecosystem] = u
		}
	}
	return out
}
