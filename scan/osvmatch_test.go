package scan

import (
	"archive/zip"
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// osvCase is an OSV record and how it rates versions of one package. The records are the OSV schema's own
// (ossf/osv-schema docs/schema.md, version 1.7.4), the section named above each case; the expectations follow
// its "Evaluation" pseudocode.
type osvCase struct {
	name      string
	ecosystem string // the package's
	pkg       string // its name; "pkg" when empty
	record    string
	// probes maps a version to how the record rates it: "" not affected, "affected" with no fix known, or
	// "fixed X".
	probes  map[string]string
	skipped Unevaluated // what unevaluated says for the probes' packages
}

// osvScanTime is the scan's clock: withdrawals before it are done, after it not yet.
var osvScanTime = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// osvEntry is a record with one affected entry for package "pkg" of the ecosystem; body is the entry's ranges,
// versions and the rest, as JSON members.
func osvEntry(ecosystem, body string) string {
	return `{"id": "OSV-TEST", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "` +
		ecosystem + `", "name": "pkg"}, ` + body + `}]}`
}

func osvCases() []osvCase {
	multipleRanges := `"ranges": [{"type": "SEMVER", "events": [
		{"introduced": "1.0.0"}, {"fixed": "1.0.2"}, {"introduced": "3.0.0"}, {"fixed": "3.2.5"}]}]`
	multipleRangesProbes := map[string]string{"0.9.0": "", "1.0.0": "fixed 1.0.2", "1.0.1": "fixed 1.0.2", "1.0.2": "",
		"2.0.0": "", "3.0.0": "fixed 3.2.5", "3.2.4": "fixed 3.2.5", "3.2.5": "", "4.0.0": ""}
	return []osvCase{
		{
			// "Examples" (of ranges) > "Unfixed vulnerability example": every possible version is affected;
			// "Special values": introduced "0" sorts before any other version, a prerelease of 0.0.0 too.
			name: "unfixed", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]`),
			probes: map[string]string{"0.0.0-alpha": "affected", "0.0.0": "affected", "1.0.0": "affected", "99.1.0": "affected"},
		},
		{
			// "Fixed vulnerability example": everything before 1.0.2.
			name: "fixed", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.2"}]}]`),
			probes: map[string]string{"0.0.1": "fixed 1.0.2", "1.0.1": "fixed 1.0.2", "1.0.2": "", "2.0.0": ""},
		},
		{
			// "Multiple range example": [1.0.0, 1.0.2) or [3.0.0, 3.2.5) in one range's events.
			name: "multiple range", ecosystem: "npm",
			record: osvEntry("npm", multipleRanges), probes: multipleRangesProbes,
		},
		{
			// "affected[].ranges[].events fields" > "Requirements": keeping events sorted is only recommended;
			// "Evaluation" walks sorted(range.events). The multiple range example, shuffled.
			name: "events out of order", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [
				{"fixed": "3.2.5"}, {"introduced": "3.0.0"}, {"fixed": "1.0.2"}, {"introduced": "1.0.0"}]}]`),
			probes: multipleRangesProbes,
		},
		{
			// As above, sorted by the ecosystem's ordering, not as strings ("1.10" > "1.9" in PyPI).
			name: "events out of order, ecosystem ordering", ecosystem: "PyPI",
			record: osvEntry("PyPI", `"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.10"}, {"introduced": "1.9"}]}]`),
			probes: map[string]string{"1.8": "", "1.9": "fixed 1.10", "1.9.5": "fixed 1.10", "1.10": "", "1.10.1": ""},
		},
		{
			// "`last_affected` vs `fixed` example", first range: up to and including 2.1.214.
			name: "last_affected", ecosystem: "PyPI",
			record: osvEntry("PyPI", `"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "2.1.214"}]}]`),
			probes: map[string]string{"2.1.213": "affected", "2.1.214": "affected", "2.1.214.post1": "", "2.1.215": ""},
		},
		{
			// "`last_affected` vs `fixed` example", second range: 2.1.214 is not vulnerable.
			name: "fixed, not last_affected", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.1.214"}]}]`),
			probes: map[string]string{"2.1.213": "fixed 2.1.214", "2.1.214": "", "2.1.215": ""},
		},
		{
			// "Limit events": like `git rev-list X..Y`, including X and excluding Y; "BeforeLimits".
			name: "limit", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"limit": "2.0.0"}]}]`),
			probes: map[string]string{"0.9.0": "", "1.0.0": "affected", "1.5.0": "affected", "2.0.0": "", "2.5.0": ""},
		},
		{
			// "Special values": multiple limit events are allowed in one range; "BeforeLimits" lets a version in
			// when it is below any of them, so 1.5.0 is affected (the old matcher cut the range at the first).
			name: "several limits", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [
				{"introduced": "0"}, {"limit": "1.0.0"}, {"limit": "2.0.0"}]}]`),
			probes: map[string]string{"0.5.0": "affected", "1.5.0": "affected", "2.0.0": "", "3.0.0": ""},
		},
		{
			// "Special values": a limit containing "*" is infinity.
			name: "limit star", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [
				{"introduced": "1.0.0"}, {"limit": "1.5.0"}, {"limit": "*"}]}]`),
			probes: map[string]string{"0.5.0": "", "1.2.0": "affected", "5.0.0": "affected"},
		},
		{
			// "Evaluation": the limit bounds the range whatever the fixed events say; the fix is still reported.
			name: "limit and fixed", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [{"type": "SEMVER", "events": [
				{"introduced": "0"}, {"fixed": "3.0.0"}, {"limit": "2.0.0"}]}]`),
			probes: map[string]string{"1.0.0": "fixed 3.0.0", "2.0.0": "", "2.5.0": "", "3.0.0": ""},
		},
		{
			// "Special values": introduced "0" is before every version, also Debian's 0~rc1 (below "0" when
			// compared as a version).
			name: "introduced 0, Debian", ecosystem: "Debian:12",
			record: osvEntry("Debian:12", `"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2-1"}]}]`),
			probes: map[string]string{"0~rc1-1": "fixed 1.2-1", "1.1-1": "fixed 1.2-1", "1.2-1": "", "1:0.5-1": ""},
		},
		{
			// "affected[].versions field": each is a version "in whatever version syntax is used by the given
			// package ecosystem"; "IncludedInVersions" is ==, here PyPI's (PEP 440: 1.0 == 1.0.0).
			name: "versions, PyPI", ecosystem: "PyPI",
			record: osvEntry("PyPI", `"versions": ["1.0", "1.1"]`),
			probes: map[string]string{"1.0": "affected", "1.0.0": "affected", "1.1.0": "affected", "1.2": ""},
		},
		{
			// As above, npm's: a leading "v" is not part of the version.
			name: "versions, npm", ecosystem: "npm",
			record: osvEntry("npm", `"versions": ["1.2.3"]`),
			probes: map[string]string{"v1.2.3": "affected", "1.2.3": "affected", "1.2.4": ""},
		},
		{
			// As above, Debian's: epoch 0 is no epoch.
			name: "versions, Debian epoch", ecosystem: "Debian:12",
			record: osvEntry("Debian:12", `"versions": ["0:1.2-1"]`),
			probes: map[string]string{"1.2-1": "affected", "0:1.2-1": "affected", "1.2-2": ""},
		},
		{
			// "Examples" > "Python vulnerability": a GIT range, an ECOSYSTEM range and a versions list in one
			// entry. The GIT range is not evaluated, and counted; the fix is the ECOSYSTEM range's.
			name: "Python example", ecosystem: "PyPI", pkg: "pikepdf",
			record: `{"schema_version": "1.2.0", "id": "PYSEC-2021-XXXX", "published": "2021-04-01T20:15:00Z",
				"modified": "2021-04-07T15:14:00Z", "aliases": ["CVE-2021-29421"], "summary": "XXE in pikepdf",
				"affected": [{"package": {"ecosystem": "PyPI", "name": "pikepdf"},
					"ranges": [
						{"type": "GIT", "repo": "https://github.com/pikepdf/pikepdf",
						 "events": [{"introduced": "0"}, {"fixed": "3f38f73218e5e782fe411ccbb3b44a793c0b343a"}]},
						{"type": "ECOSYSTEM", "events": [{"introduced": "2.8.0"}, {"fixed": "2.10.0"}]}],
					"versions": ["2.8.0", "2.8.0.post1", "2.8.0.post2", "2.9.0", "2.9.1", "2.9.2"],
					"ecosystem_specific": {"severity": "HIGH"}}]}`,
			probes:  map[string]string{"2.7.0": "", "2.8.0.post1": "fixed 2.10.0", "2.9.2": "fixed 2.10.0", "2.10.0": ""},
			skipped: Unevaluated{Entries: 1},
		},
		{
			// "affected[].versions field": with GIT ranges the versions may be derived from Git tags; a match
			// found there takes its fix from a range with an ordering, never a GIT range's commit (which npm's
			// ordering would read as 3.x: the old matcher reported the commit as the fixed version).
			name: "versions list, fix not from GIT", ecosystem: "npm",
			record: osvEntry("npm", `"ranges": [
				{"type": "GIT", "repo": "https://github.com/o/r", "events": [{"introduced": "0"}, {"fixed": "3f38f73218e5e782fe411ccbb3b44a793c0b343a"}]},
				{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.0.2"}]}],
				"versions": ["1.0.0", "1.0.1"]`),
			probes:  map[string]string{"1.0.1": "fixed 1.0.2", "1.0.2": ""},
			skipped: Unevaluated{Entries: 1},
		},
		{
			// "Examples" > "OSV vulnerability": GIT only, nothing the scan can evaluate, counted.
			name: "OSV example, GIT only", ecosystem: "OSS-Fuzz", pkg: "icu",
			record: `{"schema_version": "1.2.0", "id": "OSV-2020-584", "published": "2020-07-01T00:00:18.401815Z",
				"modified": "2021-03-09T04:49:05.965964Z", "summary": "Heap-buffer-overflow in collator_compare_fuzzer.cpp",
				"affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "icu"},
					"ranges": [{"type": "GIT", "repo": "https://github.com/unicode-org/icu.git",
						"events": [{"introduced": "6e5755a2a833bc64852eae12967d0a54d7adf629"},
						           {"fixed": "c43455749b914feef56b178b256f29b3016146eb"}]}]}]}`,
			probes:  map[string]string{"69.1": ""},
			skipped: Unevaluated{Entries: 1},
		},
		{
			// "affected[].ranges[].type field": only SEMVER, ECOSYSTEM and GIT are defined; another type has no
			// known ordering, so it is counted like GIT.
			name: "unknown range type", ecosystem: "npm",
			record:  osvEntry("npm", `"ranges": [{"type": "CALVER", "events": [{"introduced": "0"}]}]`),
			probes:  map[string]string{"1.0.0": ""},
			skipped: Unevaluated{Entries: 1},
		},
		{
			// "affected fields": more than one entry for the same package may be needed; a version is matched
			// by any, one finding per record.
			name: "several entries, one package", ecosystem: "npm",
			record: `{"id": "OSV-TEST", "modified": "2024-01-01T00:00:00Z", "affected": [
				{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.1.0"}]}]},
				{"package": {"ecosystem": "npm", "name": "other"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]},
				{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.1.0"}]}]}]}`,
			probes: map[string]string{"0.5.0": "", "1.0.5": "fixed 1.1.0", "1.5.0": "", "2.0.5": "fixed 2.1.0", "2.1.0": ""},
		},
		{
			// "affected fields": a version is affected if it lies within any one of the ranges.
			name: "several ranges, one entry", ecosystem: "PyPI",
			record: osvEntry("PyPI", `"ranges": [
				{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.2"}]},
				{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.3"}]}]`),
			probes: map[string]string{"0.9": "", "1.1": "fixed 1.2", "1.2": "", "2.3": "affected", "2.4": ""},
		},
		{
			// "withdrawn field": the time the entry should be considered withdrawn; before the scan, it is.
			name: "withdrawn", ecosystem: "npm",
			record: `{"id": "OSV-TEST", "modified": "2024-01-01T00:00:00Z", "withdrawn": "2024-01-01T00:00:00Z", "affected": [
				{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.2"}]}]}]}`,
			probes:  map[string]string{"1.0.0": ""},
			skipped: Unevaluated{Withdrawn: 1},
		},
		{
			// As above, a withdrawal after the scan's time has not happened yet.
			name: "withdrawn later", ecosystem: "npm",
			record: `{"id": "OSV-TEST", "modified": "2024-01-01T00:00:00Z", "withdrawn": "2030-01-01T00:00:00Z", "affected": [
				{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.2"}]}]}]}`,
			probes: map[string]string{"1.0.0": "fixed 1.0.2"},
		},
		{
			// "Examples" > "NPM vulnerability in GitHub database", with its database_specific.
			name: "GitHub example", ecosystem: "npm", pkg: "elliptic",
			record: `{"schema_version": "1.2.0", "id": "GHSA-r9p9-mrjm-926w", "modified": "2021-03-08T16:02:43Z",
				"aliases": ["CVE-2020-28498"], "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
				"affected": [{"package": {"ecosystem": "npm", "name": "elliptic"},
					"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "6.5.4"}]}]}],
				"database_specific": {"cwe_ids": ["CWE-327"], "severity": "MODERATE", "github_reviewed": true}}`,
			probes: map[string]string{"6.5.3": "fixed 6.5.4", "6.5.4": ""},
		},
		{
			// "Examples" > "Rust vulnerability", with database_specific and ecosystem_specific of shapes the
			// schema leaves to the database ("affected[].ecosystem_specific field", "database_specific field",
			// "affected[].ranges[].database_specific field": no effect on the evaluation). The old parser failed
			// the record, and so the scan, on a severity or urgency that is not a string.
			name: "Rust example, database_specific", ecosystem: "crates.io", pkg: "http",
			record: `{"schema_version": "1.2.0", "id": "RUSTSEC-2019-0033", "published": "2019-11-16T00:00:00Z",
				"modified": "2021-01-04T19:02:00Z", "aliases": ["CVE-2020-25574", "CVE-2019-25008"],
				"affected": [{"package": {"ecosystem": "crates.io", "name": "http"},
					"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.1.20"}],
						"database_specific": {"source": ["x"], "versions": [{"introduced": 0}]}}],
					"ecosystem_specific": {"functions": ["http::header::HeaderMap::reserve"], "severity": "HIGH", "urgency": 3},
					"database_specific": {"last_known_affected_version_range": "<= 0.1.19"}}],
				"database_specific": {"severity": {"cvss": 7.5}, "nvd_published_at": null}}`,
			probes: map[string]string{"0.1.19": "fixed 0.1.20", "0.1.20": ""},
		},
		{
			// "Examples" > "Debian vulnerability": DSA-3029-1.
			name: "Debian example", ecosystem: "Debian:7", pkg: "nginx",
			record: `{"id": "DSA-3029-1", "summary": "nginx - security update", "affected": [{
				"package": {"ecosystem": "Debian:7", "name": "nginx"},
				"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.1-2.2+wheezy3"}]}]}],
				"aliases": ["CVE-2014-3616"], "published": "2014-09-20T00:00:00Z", "modified": "2014-09-20T08:18:07Z"}`,
			probes: map[string]string{"1.2.1-2.2+wheezy2": "fixed 1.2.1-2.2+wheezy3", "1.2.1-2.2+wheezy3": "", "1.6.2-1": ""},
		},
		{
			// "Examples" > "Ruby vulnerability": a range and its versions list.
			name: "Ruby example", ecosystem: "RubyGems", pkg: "bundler",
			record: `{"schema_version": "1.2.0", "id": "CVE-2019-3881", "modified": "2021-05-10T00:00:00Z",
				"affected": [{"package": {"ecosystem": "RubyGems", "name": "bundler"},
					"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.14.0"}, {"fixed": "2.1.0"}]}],
					"versions": ["1.14.0", "1.15.0.pre.1", "2.0.2", "2.1.0.pre.1", "2.1.0.pre.3"]}]}`,
			probes: map[string]string{"1.13.0": "", "1.14.0": "fixed 2.1.0", "1.16.0": "fixed 2.1.0", "2.1.0.pre.3": "fixed 2.1.0", "2.1.0": ""},
		},
		{
			// "Examples" > "Haskell Hackage vulnerability".
			name: "Hackage example", ecosystem: "Hackage", pkg: "x509-validation",
			record: `{"id": "HSEC-2023-0006", "modified": "2023-07-26T10:34:39Z", "affected": [{
				"package": {"ecosystem": "Hackage", "name": "x509-validation"},
				"ranges": [{"events": [{"introduced": "1.4.0"}, {"fixed": "1.4.8"}], "type": "ECOSYSTEM"}],
				"severity": [{"score": "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N", "type": "CVSS_V3"}]}]}`,
			probes: map[string]string{"1.3.9": "", "1.4.0": "fixed 1.4.8", "1.4.7.1": "fixed 1.4.8", "1.4.8": ""},
		},
		{
			// "Examples" > "R CRAN & Bioconductor vulnerability".
			name: "CRAN example", ecosystem: "CRAN", pkg: "readxl",
			record: `{"id": "RSEC-2023-2", "modified": "2023-07-13T02:46:57.600Z", "affected": [{
				"package": {"name": "readxl", "ecosystem": "CRAN"},
				"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.4.1"}, {"fixed": "1.4.2"}]}],
				"versions": ["1.4.1"]}], "aliases": ["CVE-2021-27836"]}`,
			probes: map[string]string{"1.4.0": "", "1.4.1": "fixed 1.4.2", "1.4.2": ""},
		},
	}
}

// Each case's record goes through the scan's own path, an all.zip read by readZip and the image's packages
// matched, and each probe version is rated as the schema's evaluation says.
func TestOSVEvaluation(t *testing.T) {
	for _, c := range osvCases() {
		t.Run(c.name, func(t *testing.T) {
			name := c.pkg
			if name == "" {
				name = "pkg"
			}
			db := osvDatabase(t, c.ecosystem, name, c.record)
			var pkgs []Package
			for _, v := range slices.Sorted(maps.Keys(c.probes)) {
				p := Package{Name: name, Version: v, Ecosystem: c.ecosystem}
				pkgs = append(pkgs, p)
				if got := rating(db.match([]Package{p})); got != c.probes[v] {
					t.Errorf("%s %s: %q, want %q", name, v, got, c.probes[v])
				}
			}
			if got := db.unevaluated(pkgs)[c.ecosystem]; got != c.skipped {
				t.Errorf("unevaluated %+v, want %+v", got, c.skipped)
			}
		})
	}
}

// An entry or a withdrawn record is counted once per ecosystem however many of the image's packages it names,
// and not for a package of another release.
func TestUnevaluatedCountedOnce(t *testing.T) {
	git := `"ranges": [{"type": "GIT", "repo": "https://github.com/o/r", "events": [{"introduced": "0"}]}]`
	db := osvDatabase(t, "Debian:12", "pkg", osvEntry("Debian:12", git))
	withdrawn := strings.Replace(osvEntry("Debian:12", git), `"id": "OSV-TEST"`, `"id": "OSV-GONE", "withdrawn": "2020-01-01T00:00:00Z"`, 1)
	if err := db.readZip("Debian", osvZip(t, withdrawn), map[string]bool{matchKey("Debian:12", "pkg"): true}); err != nil {
		t.Fatal(err)
	}
	pkgs := []Package{
		{Name: "libpkg1", Version: "1.0-1", Ecosystem: "Debian:12", Source: "pkg", SourceVersion: "1.0-1"},
		{Name: "pkg-bin", Version: "1.0-1", Ecosystem: "Debian:12", Source: "pkg", SourceVersion: "1.0-1"},
		{Name: "pkg", Version: "1.0-1", Ecosystem: "Debian:11"},
	}
	got := db.unevaluated(pkgs)
	if want := map[string]Unevaluated{"Debian:12": {Entries: 1, Withdrawn: 1}}; !maps.Equal(got, want) {
		t.Errorf("unevaluated %v, want %v", got, want)
	}
	if f := db.match(pkgs); len(f) != 0 {
		t.Errorf("findings %+v, want none (GIT only, and withdrawn)", f)
	}
}

// osvDatabase is a database that has read the raw record from an ecosystem's all.zip, at osvScanTime.
func osvDatabase(t *testing.T, ecosystem, name, raw string) *database {
	t.Helper()
	db := &database{records: map[string][]*record{}, loaded: map[string]int{}, now: osvScanTime}
	base, _, _ := strings.Cut(ecosystem, ":")
	if err := db.readZip(base, osvZip(t, raw), map[string]bool{matchKey(ecosystem, name): true}); err != nil {
		t.Fatal(err)
	}
	return db
}

func osvZip(t testing.TB, records ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, r := range records {
		w, err := zw.Create(fmt.Sprintf("record-%d.json", i))
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(r))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rating is how the findings of one package version read in an osvCase's probes.
func rating(f []Finding) string {
	switch {
	case len(f) == 0:
		return ""
	case len(f) > 1:
		return fmt.Sprintf("%d findings", len(f))
	case f[0].FixedVersion == "":
		return "affected"
	}
	return "fixed " + f[0].FixedVersion
}
