package scan

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// Real-world data other projects of the field ship in their Go modules, read in place at pinned versions
// (testenv.GoModule): none of it enters this repository.
const (
	// osv-scalibr's apk extractor tests read an Alpine 3.18.0 image's whole /lib/apk/db/installed (15 packages).
	scalibrModule, scalibrVersion = "github.com/google/osv-scalibr", "v0.4.5"
	// grype keeps real advisories for its matcher and database tests: vunnel's output of Alpine's and Wolfi's
	// secdb (https://secdb.alpinelinux.org, https://packages.wolfi.dev/os/security.json) and OSV records of
	// Chainguard's and AlmaLinux's feeds.
	grypeModule, grypeVersion = "github.com/anchore/grype", "v0.121.2"
)

// alpine318OSRelease is Alpine 3.18.0's /etc/os-release, as alpine-baselayout-data 3.4.3 writes it.
const alpine318OSRelease = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.0
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`

// vunnelRecord is one vulnerability of vunnel's OS provider output (schema os/schema-1.1.0): per package of
// the distribution's source, the version that fixed it ("0": never affected, as secdb writes it).
type vunnelRecord struct {
	Item struct {
		Vulnerability struct {
			Name    string
			FixedIn []struct{ Name, NamespaceName, Version string }
		}
	} `json:"item"`
}

// osvFromSecdb is the OSV record osv.dev's Alpine converter makes of a secdb fix (vulnfeeds' alpine command:
// ID "ALPINE-" + the CVE, one affected entry per source package and release, an ECOSYSTEM range from 0 to the
// fix); Wolfi's secdb the same way, under the ecosystem "Wolfi".
func osvFromSecdb(t *testing.T, path, ecosystem string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v vunnelRecord
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	type event map[string]string
	var affected []map[string]any
	for _, f := range v.Item.Vulnerability.FixedIn {
		affected = append(affected, map[string]any{
			"package": map[string]string{"ecosystem": ecosystem, "name": f.Name},
			"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": []event{{"introduced": "0"}, {"fixed": f.Version}}}},
		})
	}
	id := "ALPINE-" + v.Item.Vulnerability.Name
	out, err := json.Marshal(map[string]any{"schema_version": "1.6.0", "id": id, "modified": "2026-05-04T00:00:00Z",
		"upstream": []string{v.Item.Vulnerability.Name}, "affected": affected})
	if err != nil {
		t.Fatal(err)
	}
	return id, out
}

// recordsDB packs records into a db-dir: each record into the all.zip of every ecosystem it names, as OSV's
// bucket keeps them.
func recordsDB(t *testing.T, records map[string][]byte) string {
	t.Helper()
	src, db := t.TempDir(), t.TempDir()
	for id, raw := range records {
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, a := range r.Affected {
			dir := filepath.Join(src, baseEcosystem(a.Package.Ecosystem))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, id+".json"), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := PackRecords(src, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// scanFindings scans an image input with a db-dir, gating on nothing, and returns its findings as
// "package version id fix".
func scanFindings(t *testing.T, image, db string) (result, []string) {
	t.Helper()
	r := runScan(t, map[string]string{"image": image, "db-dir": db, "offline": "true", "fail-on": "none",
		"fail-on-secrets": "false", "fail-on-unassessed": "all"})
	if r.code != 0 {
		t.Fatalf("scan: exit %d (fail-on-unassessed: all)\n%s", r.code, r.log)
	}
	var got []string
	for _, f := range r.report.Findings {
		got = append(got, f.Package.Name+" "+f.Package.Version+" "+f.ID+" "+f.FixedVersion)
	}
	slices.Sort(got)
	return r, got
}

// A real Alpine 3.18.0 apk database: syft finds the same 15 packages with the same versions and purls, and
// Alpine's real secdb fix of CVE-2024-0727 in v3.18 (openssl 3.1.4-r5) reports both binary packages of
// openssl at 3.1.0-r4 by their origin, and nothing else; the same database under Alpine 3.21, whose release
// no record names, is not assessed.
func TestRealAlpineDatabase(t *testing.T) {
	installed, err := os.ReadFile(testenv.GoModule(t, scalibrModule, scalibrVersion, "extractor", "filesystem", "os", "apk", "testdata", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	secdb := testenv.GoModule(t, grypeModule, grypeVersion, "grype", "matcher", "apk", "testdata", "alpine318", "alpine", "results", "3.18", "cve-2024-0727.json")
	id, rec := osvFromSecdb(t, secdb, "Alpine:v3.18")
	db := recordsDB(t, map[string][]byte{id: rec})

	layer := testenv.Layer{"etc/os-release": alpine318OSRelease, "etc/alpine-release": "3.18.0\n", "lib/apk/db/installed": string(installed)}
	image := imageLayout(t, "alpine-3.18", layer)
	r, got := scanFindings(t, image, db)
	want := []string{"libcrypto3 3.1.0-r4 ALPINE-CVE-2024-0727 3.1.4-r5", "libssl3 3.1.0-r4 ALPINE-CVE-2024-0727 3.1.4-r5"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	for _, f := range r.report.Findings {
		if !slices.Contains(f.Aliases, "CVE-2024-0727") {
			t.Errorf("%s %s: aliases %v lack the upstream CVE-2024-0727", f.Package.Name, f.ID, f.Aliases)
		}
	}

	theirs := syftPackages(t, image, "apk")
	ours := map[string]bool{}
	for _, p := range r.report.Packages {
		if p.Type == "apk" {
			ours[p.Name+" "+p.Version] = true
		}
	}
	found := 0
	for _, c := range theirs {
		if ours[c.Name+" "+c.Version] {
			found++
		} else {
			t.Errorf("syft finds %s %s, we do not", c.Name, c.Version)
		}
	}
	t.Logf("syft %d apk packages, found by us %d; ours %d", len(theirs), found, len(ours))
	if len(theirs) != 15 || found != len(theirs) || len(ours) != len(theirs) {
		t.Errorf("we found %d of syft's %d packages (of the database's 15), and %d in all", found, len(theirs), len(ours))
	}
	sbom, _ := filepath.Glob(filepath.Join(r.dir, "*-sbom.cdx.json"))
	if len(sbom) != 1 {
		t.Fatalf("SBOMs %v", sbom)
	}
	if purls := cdxPackages(t, sbom[0], "apk"); !maps.Equal(purls, theirs) {
		t.Errorf("our SBOM's apk purls differ from syft's:\n ours %v\n syft %v", slices.Sorted(maps.Keys(purls)), slices.Sorted(maps.Keys(theirs)))
	}

	layer["etc/os-release"] = strings.ReplaceAll(strings.ReplaceAll(alpine318OSRelease, "3.18.0", "3.21.0"), "v3.18", "v3.21")
	layer["etc/alpine-release"] = "3.21.0\n"
	later := runScan(t, map[string]string{"image": imageLayout(t, "alpine-3.21", layer), "db-dir": db, "offline": "true"})
	if want := "15 Alpine:v3.21 packages not assessed (no record of the Alpine database (1 read) names Alpine:v3.21; its records name Alpine:v3.18)"; later.code != 1 || !strings.Contains(later.log, want) {
		t.Errorf("Alpine 3.21: exit %d, want the gate to fail on %q\n%s", later.code, want, later.log)
	}
}
