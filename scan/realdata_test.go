package scan

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

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
	// syft's tests of its release detection read the release files of real images of 19 distributions.
	syftModule, syftModuleVersion = "github.com/anchore/syft", "v1.57.1"
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
	out, err := json.Marshal(map[string]any{"schema_version": "1.7.0", "id": id, "modified": "2026-05-04T00:00:00Z",
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

// A real Alpine 3.18.0 apk database: Alpine's real secdb fix of CVE-2024-0727 in v3.18 (openssl 3.1.4-r5)
// reports both binary packages of openssl at 3.1.0-r4 by their origin, and nothing else; the same database under
// Alpine 3.21, whose release no record names, is not assessed; syft finds the same 15 packages and purls.
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

	later := maps.Clone(layer)
	later["etc/os-release"] = strings.ReplaceAll(strings.ReplaceAll(alpine318OSRelease, "3.18.0", "3.21.0"), "v3.18", "v3.21")
	later["etc/alpine-release"] = "3.21.0\n"
	r321 := runScan(t, map[string]string{"image": imageLayout(t, "alpine-3.21", later), "db-dir": db, "offline": "true"})
	if want := "15 Alpine:v3.21 packages not assessed (no record of the Alpine database (1 read) names Alpine:v3.21; its records name Alpine:v3.18)"; r321.code != 1 || !strings.Contains(r321.log, want) {
		t.Errorf("Alpine 3.21: exit %d, want the gate to fail on %q\n%s", r321.code, want, r321.log)
	}
	sameAsSyft(t, image, r, "apk", 15)
}

// sameAsSyft checks, last and as its own subtest (it needs syft), that syft finds in image the packages of a purl
// type our SBOM of the scan r lists, with the same names, versions and purls, and as many as want.
func sameAsSyft(t *testing.T, image string, r result, purlType string, want int) {
	t.Run("syft", func(t *testing.T) {
		theirs := syftPackages(t, image, purlType)
		sbom, _ := filepath.Glob(filepath.Join(r.dir, "*-sbom.cdx.json"))
		if len(sbom) != 1 {
			t.Fatalf("SBOMs %v", sbom)
		}
		ours := cdxPackages(t, sbom[0], purlType)
		t.Logf("syft %d %s packages, ours %d", len(theirs), purlType, len(ours))
		if len(theirs) != want || len(ours) != len(theirs) {
			t.Errorf("syft %d %s packages, ours %d; want %d", len(theirs), purlType, len(ours), want)
		}
		for purl, c := range theirs {
			if ours[purl] != c {
				t.Errorf("syft's %s (%s %s) is ours as %+v", purl, c.Name, c.Version, ours[purl])
			}
		}
	})
}

// grypeOSV are the real OSV records grype keeps for its OSV transformer's tests whose IDs start with prefix.
func grypeOSV(t *testing.T, prefix string) map[string][]byte {
	t.Helper()
	dir := testenv.GoModule(t, grypeModule, grypeVersion, "grype", "db", "v6", "build", "transformers", "osv", "testdata")
	files, _ := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = raw
	}
	if len(out) == 0 {
		t.Fatalf("no %s records in %s", prefix, dir)
	}
	return out
}

// apkDB is an apk database of packages given as "name version origin". Chainguard's advisories, like Alpine's
// secdb, name a package by its origin (the melange or APKBUILD that builds it), and osv-scanner queries apk
// packages by origin (internal/imodels: OriginName).
func apkDB(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		f := strings.Fields(p)
		b.WriteString("C:Q1" + strings.Repeat("a", 27) + "=\nP:" + f[0] + "\nV:" + f[1] + "\nA:x86_64\nT:" + f[0] + "\no:" + f[2] + "\n\n")
	}
	return b.String()
}

// Chainguard's real OSV records (CGA-*: one record names Chainguard's and Wolfi's packages, the CVE as
// upstream, a "fixed": "0" for a package never affected): a Wolfi image is matched by their Wolfi entries only,
// a Chainguard image by their Chainguard entries only; a package at its fix, or fixed at 0, is not reported; an
// ignore entry of the upstream CVE ignores the finding, as trivy's CVE-keyed data does.
func TestRealChainguardRecords(t *testing.T) {
	db := recordsDB(t, grypeOSV(t, "CGA-"))
	for _, tt := range []struct {
		release string
		pkgs    []string
		want    []string
	}{
		{"wolfi", []string{"haproxy-3.1 3.1.6-r0 haproxy-3.1", "syncthing 2.0.14-r1 syncthing",
			"langfuse-3-worker 3.152.0-r0 langfuse-3-worker", "haproxy-2.8 2.8.17-r0 haproxy-2.8"},
			[]string{"haproxy-3.1 3.1.6-r0 CGA-224q-ccj5-2p53 3.1.7-r0", "langfuse-3-worker 3.152.0-r0 CGA-22hv-wp9q-4779 3.153.0-r0"}},
		{"chainguard", []string{"langfuse-3-worker 3.152.0-r0 langfuse-3-worker", "langfuse-fips-3-worker 3.152.0-r0 langfuse-fips-3-worker",
			"syncthing-compat 2.0.13-r0 syncthing-compat", "haproxy-2.8 2.8.17-r0 haproxy-2.8", "haproxy-3.1 3.1.6-r0 haproxy-3.1"},
			[]string{"haproxy-2.8 2.8.17-r0 CGA-224q-ccj5-2p53 2.8.18-r0", "langfuse-3-worker 3.152.0-r0 CGA-22hv-wp9q-4779 3.153.0-r0"}},
	} {
		t.Run(tt.release, func(t *testing.T) {
			layer := releaseFilesOf(t, tt.release)
			layer["lib/apk/db/installed"] = apkDB(tt.pkgs...)
			image := imageLayout(t, tt.release, layer)
			r, got := scanFindings(t, image, db)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
			if c := r.report.Coverage; len(c) != 1 || !c[0].Assessed || c[0].Records != 3 {
				t.Errorf("coverage %+v, want %s assessed against the 3 records", c, tt.release)
			}
			ignore := filepath.Join(t.TempDir(), ".trivyignore")
			if err := os.WriteFile(ignore, []byte("CVE-2026-24398\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r = runScan(t, map[string]string{"image": image, "db-dir": db, "offline": "true", "ignore-file": ignore, "fail-on": "low"})
			var ignored []string
			for _, f := range r.report.Findings {
				if f.Ignored != "" {
					ignored = append(ignored, f.ID)
				}
			}
			if r.code != 1 || !slices.Equal(ignored, []string{"CGA-22hv-wp9q-4779"}) {
				t.Errorf("ignoring CVE-2026-24398: exit %d, ignored %v, want CGA-22hv-wp9q-4779 ignored and the gate failing on the other\n%s", r.code, ignored, r.log)
			}
		})
	}
}

// AlmaLinux's real OSV records (ALSA-*): an AlmaLinux 10 image's skopeo below ALSA-2025:7467's fix
// (2:1.18.1-1.el10_0) is reported; skopeo-tests at the fix is not, which it would be without its epoch. The
// records of AlmaLinux 8 say nothing of it.
func TestRealAlmaLinuxRecords(t *testing.T) {
	dbs := rpmDatabasesOf(t)
	db := recordsDB(t, grypeOSV(t, "ALSA-"))
	r, got := scanFindings(t, imageLayout(t, "almalinux-10", rpmLayer(t, "almalinux-10", dbs["almalinux-10"])), db)
	if want := []string{"skopeo 2:1.18.0-1.el10 ALSA-2025:7467 2:1.18.1-1.el10_0"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if c := r.report.Coverage; len(c) != 1 || c[0].Ecosystem != "AlmaLinux:10" || !c[0].Assessed || c[0].Packages != 8 {
		t.Errorf("coverage %+v", c)
	}
}

// Real Rust binaries built with cargo-auditable (osv-scalibr's: one using serde_json, one with no dependency):
// their crates.io crates are assessed against its records, their own crates (local paths) are not, and say
// so; a binary whose section does not inflate is a warning naming it, from the layer cache too; syft finds the
// same 12 crates and purls.
func TestRealRustBinaries(t *testing.T) {
	dir := testenv.GoModule(t, scalibrModule, scalibrVersion, "extractor", "filesystem", "language", "rust", "cargoauditable", "testdata")
	layer := testenv.Layer{}
	for _, name := range []string{"uses_serde_json", "no_deps"} {
		raw, err := os.ReadFile(filepath.Join(dir, name, name))
		if err != nil {
			t.Fatal(err)
		}
		layer["usr/local/bin/"+name] = string(raw)
	}
	image := imageLayout(t, "rust", layer)
	// no real crates.io record is at hand: this one is ours, made up to show the crates are matched by name and
	// SemVer (serde_json 1.0.135 below its "fix", serde 1.0.217 past the other range)
	db := recordsDB(t, map[string][]byte{"SCRIBE-TEST-0001": []byte(`{"id":"SCRIBE-TEST-0001","affected":[
		{"package":{"ecosystem":"crates.io","name":"serde_json"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.100"},{"fixed":"1.0.136"}]}]},
		{"package":{"ecosystem":"crates.io","name":"serde"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.217"}]}]}]}`)})
	r := runScan(t, map[string]string{"image": image, "db-dir": db, "offline": "true", "fail-on": "none"})
	var got []string
	for _, f := range r.report.Findings {
		got = append(got, f.Package.Name+" "+f.Package.Version+" "+f.ID+" "+f.FixedVersion)
	}
	if want := []string{"serde_json 1.0.135 SCRIBE-TEST-0001 1.0.136"}; r.code != 0 || !slices.Equal(got, want) {
		t.Errorf("exit %d, findings %q, want %q\n%s", r.code, got, want, r.log)
	}
	crates := map[string]string{}
	for _, p := range r.report.Packages {
		crates[p.Name+" "+p.Version] = p.Ecosystem
	}
	if len(crates) != 12 || crates["serde_json 1.0.135"] != ecoCrates || crates["no_deps 0.1.0"] != "" || crates["uses_serde_json 0.1.0"] != "" {
		t.Errorf("crates %v: want 12, the binaries' own not crates.io's", crates)
	}
	cov := r.report.Coverage
	if len(cov) != 2 || cov[0].Ecosystem != ecoCrates || !cov[0].Assessed || cov[0].Packages != 10 || cov[1].Ecosystem != "rust-crate" || cov[1].Assessed ||
		!strings.Contains(r.log, "::warning::2 rust-crate packages not assessed: crates of a local path") {
		t.Errorf("coverage %+v\n%s", cov, r.log)
	}

	// the section's zlib stream broken: the binary is named, its crates not assessed
	bin := []byte(layer["usr/local/bin/uses_serde_json"])
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	sec := f.Section(".dep-v0")
	broken := bytes.Clone(bin)
	copy(broken[sec.Offset:], "\x00\x00")
	withBroken := maps.Clone(layer)
	withBroken["app"] = string(broken)
	brokenImage := imageLayout(t, "rust-broken", withBroken)
	rb := runScan(t, map[string]string{"image": brokenImage, "db-dir": db, "offline": "true"})
	want := "::warning::2 rust-crate packages not assessed: crates of a local path (the binary's own, its workspace's), git or another registry: OSV's records name crates.io's; /app: its package list could not be read (cargo-auditable section .dep-v0: zlib: invalid header)"
	if !strings.Contains(rb.log, want) || rb.code != 0 {
		t.Errorf("exit %d, want the warning %q\n%s", rb.code, want, rb.log)
	}
	if r := runScan(t, map[string]string{"image": brokenImage, "db-dir": db, "offline": "true", "fail-on-unassessed": "all"}); r.code != 1 ||
		!strings.Contains(r.log, "/app: its package list could not be read") {
		t.Errorf("fail-on-unassessed: all: exit %d, want the gate to fail naming /app\n%s", r.code, r.log)
	}

	// from the layer cache, the same crates and the same warning
	cache := t.TempDir()
	cold, warm := scanWithCache(t, cache, brokenImage, db), scanWithCache(t, cache, brokenImage, db)
	if !strings.Contains(warm.summary, "(1 from the layer cache)") || !strings.Contains(warm.log, want) || !reflect.DeepEqual(reportOf(t, cold), reportOf(t, warm)) {
		t.Errorf("cached scan:\n%s\n%s", warm.log, warm.summary)
	}
	sameAsSyft(t, image, r, "cargo", 12)
}

// The release files of real images that syft's tests keep (syft/linux/testdata/os) give the ecosystems OSV's
// records name, or say why there is none: the Debian of a distroless image whose os-release names no version
// comes from its debian_version, as syft takes it.
func TestRealReleaseFiles(t *testing.T) {
	root := testenv.GoModule(t, syftModule, syftModuleVersion, "syft", "linux", "testdata", "os")
	for dir, want := range map[string]string{
		"almalinux/from-os-release":      "AlmaLinux:8",
		"almalinux/from-redhat-release":  "AlmaLinux:8",
		"alpine":                         "Alpine:v3.11",
		"debian/from-debian_version":     "Debian:10",
		"debian/from-os-release":         "Debian:8",
		"debian/with-point-release":      "Debian:13",
		"opensuse-leap":                  "openSUSE:Leap 15.2",
		"redhat/from-redhat-release":     "Red Hat:enterprise_linux:8::baseos",
		"rockylinux/from-os-release":     "Rocky Linux:8",
		"rockylinux/from-redhat-release": "Rocky Linux:8",
		"sles":                           "SUSE:Linux Enterprise Server 15 SP2",
		"ubuntu":                         "Ubuntu:20.04:LTS",
		"wolfi":                          "Wolfi",
		"amazon":                         "unknown distribution: Amazon Linux 2 (amzn, like centos rhel fedora)",
		"centos":                         "unknown distribution: CentOS Linux 8 (Core) (centos, like rhel fedora)",
		"fedora":                         "unknown distribution: Fedora Linux 36 (Container Image) (fedora)",
		"oraclelinux":                    "unknown distribution: Oracle Linux Server 8.3 (ol, like fedora)",
		"photon":                         "unknown distribution: VMware Photon OS/Linux (photon)",
		"centos6":                        "no distribution found: no /etc/os-release nor any other file that names one",
	} {
		t.Run(dir, func(t *testing.T) {
			fsys := &fileSystem{files: map[string]found{}}
			err := filepath.WalkDir(filepath.Join(root, dir), func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				raw, err := os.ReadFile(p)
				rel, _ := filepath.Rel(filepath.Join(root, dir), p)
				fsys.files["/"+filepath.ToSlash(rel)] = found{path: "/" + filepath.ToSlash(rel), data: raw}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			d := osRelease(fsys)
			if got := cmp.Or(d.Ecosystem, d.Unknown); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if want, ok := purlDistros[dir]; ok && d.purlDistro(d.ID) != want {
				t.Errorf("purl distro %q, want syft's %q", d.purlDistro(d.ID), want)
			}
		})
	}
}

// purlDistros are the "distro" qualifiers syft writes for some of its release files: Debian's from
// debian_version's point release.
var purlDistros = map[string]string{
	"debian/from-debian_version": "debian-10.8",
	"debian/with-point-release":  "debian-13.5",
	"debian/from-os-release":     "debian-8",
	"ubuntu":                     "ubuntu-20.04",
	"alpine":                     "alpine-3.11.6",
}

// Trivy keeps, for its tests, a real Ubuntu 18.04 image's dpkg status (pkg/fanal/analyzer/pkg/dpkg/testdata,
// 90 packages installed) and real Ubuntu advisories for its integration tests' database (integration/testdata/fixtures/db,
// the package, CVE and fixed version of Ubuntu's CVE tracker per release).
const trivyModule, trivyVersion = "github.com/aquasecurity/trivy", "v0.74.0"

// bionicOSRelease is Ubuntu 18.04's /etc/os-release.
const bionicOSRelease = `NAME="Ubuntu"
VERSION="18.04 LTS (Bionic Beaver)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 18.04 LTS"
VERSION_ID="18.04"
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
VERSION_CODENAME=bionic
UBUNTU_CODENAME=bionic
`

// osvFromTrivyUbuntu makes OSV records of trivy's Ubuntu advisories as Ubuntu's OSV export writes them: one
// UBUNTU-<CVE> record per CVE, the CVE as upstream, an affected entry per release ("Ubuntu:18.04:LTS") and
// source package, fixed at the advisory's version, or affected in every version while there is no fix.
func osvFromTrivyUbuntu(t *testing.T, path string) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buckets []struct {
		Bucket string
		Pairs  []struct {
			Bucket string
			Pairs  []struct {
				Key   string
				Value struct {
					FixedVersion string `yaml:"FixedVersion"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &buckets); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	affected := map[string][]map[string]any{}
	for _, release := range buckets {
		version, ok := strings.CutPrefix(release.Bucket, "ubuntu ")
		if !ok {
			continue
		}
		for _, pkg := range release.Pairs {
			for _, adv := range pkg.Pairs {
				events := []map[string]string{{"introduced": "0"}}
				if f := adv.Value.FixedVersion; f != "" {
					events = append(events, map[string]string{"fixed": f})
				}
				affected[adv.Key] = append(affected[adv.Key], map[string]any{
					"package": map[string]string{"ecosystem": "Ubuntu:" + version + ":LTS", "name": pkg.Bucket},
					"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": events}},
				})
			}
		}
	}
	out := map[string][]byte{}
	for cve, a := range affected {
		rec, err := json.Marshal(map[string]any{"schema_version": "1.7.0", "id": "UBUNTU-" + cve, "upstream": []string{cve},
			"modified": "2026-01-01T00:00:00Z", "affected": a})
		if err != nil {
			t.Fatal(err)
		}
		out["UBUNTU-"+cve] = rec
	}
	return out
}

// A real Ubuntu 18.04 dpkg database: syft finds its 90 installed packages with our purls, and Ubuntu's real advisories
// report e2fsprogs's four binary packages at 1.44.1-1 (CVE-2019-5094, fixed in 1.44.1-1ubuntu1.2) through their
// source, and bash for CVE-2019-18276, which has no fix, but not for CVE-2016-9401, fixed long before 4.4.18.
func TestRealUbuntuDatabase(t *testing.T) {
	archive, err := os.ReadFile(testenv.GoModule(t, trivyModule, trivyVersion, "pkg", "fanal", "analyzer", "pkg", "dpkg", "testdata", "valid.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	_, status, ok := strings.Cut(string(archive), "-- var/lib/dpkg/status --\n")
	if !ok {
		t.Fatal("valid.txtar holds no var/lib/dpkg/status")
	}
	status, _, _ = strings.Cut(status, "\n-- ")
	db := recordsDB(t, osvFromTrivyUbuntu(t, testenv.GoModule(t, trivyModule, trivyVersion, "integration", "testdata", "fixtures", "db", "ubuntu.yaml")))
	image := imageLayout(t, "bionic", testenv.Layer{"etc/os-release": bionicOSRelease, "var/lib/dpkg/status": status})
	r, got := scanFindings(t, image, db)
	want := []string{"bash 4.4.18-2ubuntu1 UBUNTU-CVE-2019-18276 ", "e2fsprogs 1.44.1-1 UBUNTU-CVE-2019-5094 1.44.1-1ubuntu1.2",
		"libcom-err2 1.44.1-1 UBUNTU-CVE-2019-5094 1.44.1-1ubuntu1.2", "libext2fs2 1.44.1-1 UBUNTU-CVE-2019-5094 1.44.1-1ubuntu1.2",
		"libss2 1.44.1-1 UBUNTU-CVE-2019-5094 1.44.1-1ubuntu1.2"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if c := r.report.Coverage; len(c) != 1 || c[0].Ecosystem != "Ubuntu:18.04:LTS" || !c[0].Assessed {
		t.Errorf("coverage %+v", c)
	}
	sameAsSyft(t, image, r, "deb", 90) // 91 records, one of them removed ("deinstall ok config-files")
}
