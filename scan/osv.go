package scan

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/osv-scalibr/semantic"
	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
	"golang.org/x/sync/errgroup"
)

// record is an OSV vulnerability record, the fields a match needs.
type record struct {
	ID               string     `json:"id"`
	Aliases          []string   `json:"aliases"`
	Upstream         []string   `json:"upstream"` // schema 1.7: what a distribution's record derives from (its CVE)
	Summary          string     `json:"summary"`
	Details          string     `json:"details"`
	Withdrawn        string     `json:"withdrawn"`
	Severity         []severity `json:"severity"`
	Affected         []affected `json:"affected"`
	DatabaseSpecific struct {
		Severity looseString `json:"severity"` // GitHub's advisories: CRITICAL, HIGH, MODERATE, LOW
	} `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges            []versionRange `json:"ranges"`
	Versions          []string       `json:"versions"`
	Severity          []severity     `json:"severity"`
	EcosystemSpecific struct {
		Urgency looseString `json:"urgency"` // Debian's security tracker
	} `json:"ecosystem_specific"`
}

// database holds the records that can concern the image's packages, by ecosystem and name.
type database struct {
	records   map[string][]*record // matchKey(ecosystem base, name) -> records
	loaded    map[string]int       // ecosystem -> records read
	releases  map[string]int       // releaseKey of a release an entry names ("Debian:12") -> records naming it
	withdrawn map[string][]*record // matchKey -> records withdrawn by now, left out but counted (unevaluated)
	now       time.Time            // the scan's time, for withdrawals; zero takes any withdrawal as done
}

func matchKey(ecosystem, name string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	if base == ecoPyPI {
		name = normalizePyPI(name)
	}
	return base + "\x00" + name
}

// readZip reads an ecosystem's all.zip, keeping the records that name a package in want (matchKey) and
// setting aside the ones withdrawn by db.now. A record that is not OSV JSON is an error naming it; nothing panics.
func (db *database) readZip(ecosystem string, data []byte, want map[string]bool) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%s/all.zip is not a zip archive: %w", ecosystem, err)
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		g.Go(func() error {
			r, err := readRecord(f)
			if err != nil {
				return fmt.Errorf("%s/all.zip: %s: %w", ecosystem, f.Name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if withdrawnBy(r, db.now) {
				db.withdrawn = keep(db.withdrawn, r, want)
			} else {
				db.add(ecosystem, r, want)
			}
			return nil
		})
	}
	return g.Wait()
}

// add keeps a record under each package it names that the image has.
func (db *database) add(ecosystem string, r *record, want map[string]bool) {
	db.loaded[ecosystem]++
	db.records = keep(db.records, r, want)
	seen := map[string]bool{}
	for _, a := range r.Affected {
		if k := releaseKey(a.Package.Ecosystem); strings.Contains(k, ":") && !seen[k] {
			if db.releases == nil {
				db.releases = map[string]int{}
			}
			seen[k] = true
			db.releases[k]++
		}
	}
}

// keep files a record under each package it names that the image has, once per package.
func keep(m map[string][]*record, r *record, want map[string]bool) map[string][]*record {
	seen := map[string]bool{}
	for _, a := range r.Affected {
		k := matchKey(a.Package.Ecosystem, a.Package.Name)
		if want[k] && !seen[k] {
			if m == nil {
				m = map[string][]*record{}
			}
			seen[k] = true
			m[k] = append(m[k], r)
		}
	}
	return m
}

func readRecord(f *zip.File) (*record, error) {
	if f.UncompressedSize64 > 64<<20 {
		return nil, fmt.Errorf("record of %d bytes", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, err
	}
	return parseRecord(raw)
}

func parseRecord(raw []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("not an OSV record: %w", err)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("not an OSV record: no id")
	}
	return &r, nil
}

// otherIDs are the IDs a record's finding is also known by: its aliases, and the upstream IDs it derives from.
// Distributions' records name their CVE as upstream, not as an alias (Ubuntu's UBUNTU-CVE-*, Chainguard's
// CGA-*), and osv-scanner groups and ignores by both (internal/grouper: aliases plus upstream); so do the fold
// and the ignore file, so an entry of the CVE covers the distribution's record. An advisory that gathers several
// CVEs (a DSA, a USN, an ALSA) keeps them apart: ignoring one of its CVEs must not ignore the others with it,
// as trivy, whose ignore file this is, ignores one CVE at a time.
func (r *record) otherIDs() []string {
	cves := 0
	for _, u := range r.Upstream {
		if strings.HasPrefix(u, "CVE-") {
			cves++
		}
	}
	if len(r.Upstream) == 0 || cves > 1 {
		return r.Aliases
	}
	ids := slices.Clone(r.Aliases)
	for _, u := range r.Upstream {
		if u != r.ID && !slices.Contains(ids, u) {
			ids = append(ids, u)
		}
	}
	return ids
}

// Finding is a vulnerability of a package.
type Finding struct {
	ID             string   `json:"id"`
	Aliases        []string `json:"aliases,omitempty"` // the other IDs folded into this finding
	Summary        string   `json:"summary,omitempty"`
	Severity       string   `json:"severity"`       // CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN
	SeveritySource string   `json:"severitySource"` // cvss-v3 score 9.8, ghsa database_specific, debian urgency, none
	Score          float64  `json:"score,omitempty"`
	FixedVersion   string   `json:"fixedVersion,omitempty"`
	Package        Package  `json:"package"`
	Ignored        string   `json:"ignored,omitempty"` // the ignore file's reason, when an entry covers it
}

// match finds the vulnerabilities of each package: its version in an affected entry's versions or ranges
// (OSV's semantics, per-ecosystem ordering from osv-scalibr's semantic package). Records that share an ID or
// alias for the same package are folded into one finding.
func (db *database) match(pkgs []Package) []Finding {
	var out []Finding
	for _, p := range pkgs {
		name, version := p.Name, p.Version
		if p.Source != "" {
			name, version = p.Source, p.SourceVersion
		}
		if version == "" || version == "(devel)" {
			continue
		}
		var hits []Finding
		for _, r := range db.records[matchKey(p.Ecosystem, name)] {
			for _, a := range r.Affected {
				if matchKey(a.Package.Ecosystem, a.Package.Name) != matchKey(p.Ecosystem, name) || !sameRelease(a.Package.Ecosystem, p.Ecosystem) {
					continue
				}
				hit, fixed := a.affects(version, p.Ecosystem)
				if !hit {
					continue
				}
				f := Finding{ID: r.ID, Aliases: r.otherIDs(), Summary: r.Summary, FixedVersion: fixed, Package: p}
				f.Severity, f.SeveritySource, f.Score = rate(r, a)
				hits = append(hits, f)
				break
			}
		}
		// records come in the order the zip and the index hold them; the report must not depend on it
		slices.SortFunc(hits, func(a, b Finding) int { return strings.Compare(a.ID, b.ID) })
		out = append(out, fold(hits)...)
	}
	return out
}

// sameRelease: a distribution's record names the release ("Debian:12", "Ubuntu:22.04:LTS"), and matches only
// that release's packages, an Ubuntu Pro record its release's too (releaseKey); the others have one ecosystem.
func sameRelease(recordEco, pkgEco string) bool {
	if strings.Contains(recordEco, ":") || strings.Contains(pkgEco, ":") {
		return releaseKey(recordEco) == releaseKey(pkgEco)
	}
	return true
}

// affects is the schema's IsVulnerable for one entry (docs/schema.md, "Evaluation"): the version is in the
// versions list or in one of the ranges. The fix is the first fixed event above it, in the range that matched.
func (a affected) affects(version, ecosystem string) (bool, string) {
	if a.listed(version, ecosystem) {
		return true, a.fixedAfter(version, ecosystem)
	}
	for _, rg := range a.Ranges {
		if hit, fixed := rg.includes(version, ecosystem); hit {
			return true, fixed
		}
	}
	return false, ""
}

// fixedAfter is the first fixed event above the version, for a match found in the versions list. Only ranges
// with an ordering count: a GIT range's fixed is a commit, which would read as a version in some ecosystems.
func (a affected) fixedAfter(version, ecosystem string) string {
	for _, rg := range a.Ranges {
		parse, ok := rg.ordering(ecosystem)
		if !ok {
			continue
		}
		v, err := parse(version)
		if err != nil {
			continue
		}
		if fixed := firstFixedAbove(event{v: v}, sortedEvents(rg.Events, parse)); fixed != "" {
			return fixed
		}
	}
	return ""
}

// event is one of a range's events, its version parsed once.
type event struct {
	kind, version string
	v             semantic.Version // nil for the schema's special values: introduced "0", limit "*"
}

// sortedEvents are a range's events in the range's ordering: the schema lets a database list them unsorted and
// sorts them before evaluating. An event of a kind the schema does not define, or whose version the ordering
// cannot parse, is left out: it cannot be placed.
func sortedEvents(events []map[string]string, parse func(string) (semantic.Version, error)) []event {
	var out []event
	for _, m := range events {
		for _, kind := range slices.Sorted(maps.Keys(m)) { // one key when valid; sorted so ties stay stable
			e := event{kind: kind, version: m[kind]}
			switch {
			case kind == "introduced" && e.version == "0", kind == "limit" && strings.Contains(e.version, "*"):
			case kind == "introduced", kind == "fixed", kind == "last_affected", kind == "limit":
				v, err := parse(e.version)
				if err != nil {
					continue
				}
				e.v = v
			default:
				continue
			}
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, order)
	return out
}

// rate is a finding's severity: the CVSS vector's base score (v3, else v4, else v2), else GitHub's
// database_specific.severity, else Debian's urgency, else UNKNOWN; and which of those it came from.
func rate(r *record, a affected) (string, string, float64) {
	vectors := append(slices.Clone(a.Severity), r.Severity...)
	for _, prefer := range []string{"CVSS_V3", "CVSS_V4", "CVSS_V2"} {
		for _, s := range vectors {
			if s.Type != prefer {
				continue
			}
			if score, ok := cvssScore(s.Score); ok {
				return bucket(score), fmt.Sprintf("%s base score %.1f", strings.ToLower(strings.ReplaceAll(s.Type, "_", "-")), score), score
			}
		}
	}
	switch strings.ToUpper(string(r.DatabaseSpecific.Severity)) {
	case "CRITICAL":
		return "CRITICAL", "ghsa database_specific.severity", 0
	case "HIGH":
		return "HIGH", "ghsa database_specific.severity", 0
	case "MODERATE", "MEDIUM":
		return "MEDIUM", "ghsa database_specific.severity", 0
	case "LOW":
		return "LOW", "ghsa database_specific.severity", 0
	}
	switch strings.ToLower(string(a.EcosystemSpecific.Urgency)) {
	case "high":
		return "HIGH", "debian urgency", 0
	case "medium":
		return "MEDIUM", "debian urgency", 0
	case "low", "low**", "unimportant":
		return "LOW", "debian urgency", 0
	}
	return "UNKNOWN", "none", 0
}

func cvssScore(vector string) (float64, bool) {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		if c, err := gocvss31.ParseVector(vector); err == nil {
			return c.BaseScore(), true
		}
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		if c, err := gocvss30.ParseVector(vector); err == nil {
			return c.BaseScore(), true
		}
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		if c, err := gocvss40.ParseVector(vector); err == nil {
			return c.Score(), true
		}
	default:
		if c, err := gocvss20.ParseVector(vector); err == nil {
			return c.BaseScore(), true
		}
	}
	return 0, false
}

// bucket is CVSS's qualitative rating of a score (what code scanning's security-severity uses too).
func bucket(score float64) string {
	switch {
	case score >= 9:
		return "CRITICAL"
	case score >= 7:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	}
	return "LOW"
}

var severityRank = map[string]int{"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNKNOWN": 0}

// fold merges the findings of one package that name the same vulnerability (a shared ID or alias): the most
// severe record's ID stays, the other IDs become aliases.
func fold(hits []Finding) []Finding {
	var out []Finding
	for _, h := range hits {
		ids := append([]string{h.ID}, h.Aliases...)
		merged := false
		for i := range out {
			known := append([]string{out[i].ID}, out[i].Aliases...)
			if !slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(known, id) }) {
				continue
			}
			keep, other := out[i], h
			if severityRank[h.Severity] > severityRank[keep.Severity] {
				keep, other = h, out[i]
			}
			for _, id := range append([]string{other.ID}, other.Aliases...) {
				if id != keep.ID && !slices.Contains(keep.Aliases, id) {
					keep.Aliases = append(slices.Clone(keep.Aliases), id)
				}
			}
			if keep.FixedVersion == "" {
				keep.FixedVersion = other.FixedVersion
			}
			out[i], merged = keep, true
			break
		}
		if !merged {
			out = append(out, h)
		}
	}
	return out
}
