package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// Debian 9 (stretch) as its own files say: os-release, and dpkg status records of the versions stretch shipped
// before the fixes of the DLAs in testdata/osv.
const stretchOSRelease = `PRETTY_NAME="Debian GNU/Linux 9 (stretch)"
NAME="Debian GNU/Linux"
VERSION_ID="9"
VERSION="9 (stretch)"
VERSION_CODENAME=stretch
ID=debian
`

const stretchStatus = `Package: libssl1.1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 3547
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@lists.alioth.debian.org>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 1.1.0l-1~deb9u5
Depends: libc6 (>= 2.15)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols for secure communication over the Internet.

Package: dpkg
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Architecture: amd64
Version: 1.18.25
Description: Debian package management system

Package: libxml2
Status: install ok installed
Architecture: amd64
Source: libxml2 (2.9.4+dfsg1-2.2+deb9u7)
Version: 2.9.4+dfsg1-2.2+deb9u7
Description: GNOME XML library

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Source: openssl
Version: 1.1.0f-3
Description: removed, only its configuration left
`

func scanLayers(t *testing.T, layers ...testenv.Layer) (*fileSystem, []Package) {
	t.Helper()
	img := testenv.Image(t, "linux/amd64", layers...)
	fs, err := readImage(&target{img: img}, newSecretScanner(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return fs, catalog(fs)
}

func loadFixtures(t *testing.T, pkgs []Package) *database {
	t.Helper()
	src := &dbSource{dir: osvDir(t), offline: true}
	db, err := loadDatabase(context.Background(), src, pkgs, newCoverage(pkgs, ""), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Debian records name source packages and a release: libssl1.1 is matched through its source (openssl), a
// source version in parentheses is used, a removed package is not installed, and the same packages on
// another release are not matched.
func TestDebianMatchedBySourceAndRelease(t *testing.T) {
	_, pkgs := scanLayers(t, testenv.Layer{"etc/os-release": stretchOSRelease, "var/lib/dpkg/status": stretchStatus})
	if len(pkgs) != 3 || pkgs[0].Ecosystem != "Debian:9" || pkgs[1].Source != "openssl" ||
		pkgs[1].PURL != "pkg:deb/debian/libssl1.1@1.1.0l-1~deb9u5?arch=amd64&distro=debian-9&upstream=openssl" {
		t.Fatalf("packages: %+v", pkgs)
	}
	got := map[string]string{}
	for _, f := range loadFixtures(t, pkgs).match(pkgs) {
		got[f.Package.Name] = f.ID + " fixed " + f.FixedVersion + " " + f.Severity + " (" + f.SeveritySource + ")"
	}
	want := map[string]string{
		"libssl1.1": "DLA-3008-1 fixed 1.1.0l-1~deb9u6 UNKNOWN (none)",
		"dpkg":      "DLA-3022-1 fixed 1.18.26 UNKNOWN (none)",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %v, want %v (libxml2 is at the fixed version)", got, want)
	}
	_, buster := scanLayers(t, testenv.Layer{"etc/os-release": strings.Replace(stretchOSRelease, `VERSION_ID="9"`, `VERSION_ID="10"`, 1),
		"var/lib/dpkg/status": stretchStatus})
	if f := loadFixtures(t, buster).match(buster); len(f) != 0 {
		t.Errorf("Debian 9 records matched Debian 10 packages: %+v", f)
	}
}

// Layers apply in order: a whiteout deletes a lower file, an opaque directory hides the lower one's content,
// a later copy replaces an earlier one; a secret deleted later is still reported with the layer that has it.
func TestLayersApplyInOrder(t *testing.T) {
	pkgJSON := func(n, v string) string { return fmt.Sprintf(`{"name":%q,"version":%q}`, n, v) }
	fs, pkgs := scanLayers(t,
		testenv.Layer{"app/node_modules/a/package.json": pkgJSON("a", "1.0.0"), "app/node_modules/b/package.json": pkgJSON("b", "1.0.0"),
			"opt/lib/node_modules/c/package.json": pkgJSON("c", "1.0.0"), "app/.env": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"},
		testenv.Layer{"app/node_modules/.wh.a": "", "opt/lib/.wh..wh..opq": "", "opt/lib/node_modules/d/package.json": pkgJSON("d", "2.0.0"),
			"app/node_modules/b/package.json": pkgJSON("b", "1.1.0"), "app/.wh..env": ""},
	)
	var got []string
	for _, p := range pkgs {
		got = append(got, fmt.Sprintf("%s@%s:%d", p.Name, p.Version, p.Layer))
	}
	if strings.Join(got, " ") != "b@1.1.0:1 d@2.0.0:1" {
		t.Errorf("packages %v, want b@1.1.0 and d@2.0.0 from layer 1", got)
	}
	if len(fs.secrets) != 1 || fs.secrets[0].Rule != "DotEnvCredential" || fs.secrets[0].Layer != 0 || fs.secrets[0].Path != "/app/.env" {
		t.Errorf("secrets %+v", fs.secrets)
	}
}

// pnpm keeps packages under node_modules/.pnpm/<name>@<version>/node_modules/<name>: each copy is found,
// with its own path.
func TestPnpmLayout(t *testing.T) {
	_, pkgs := scanLayers(t, testenv.Layer{
		"app/node_modules/.pnpm/minimist@1.2.5/node_modules/minimist/package.json":       `{"name":"minimist","version":"1.2.5"}`,
		"app/node_modules/.pnpm/@babel+core@7.1.0/node_modules/@babel/core/package.json": `{"name":"@babel/core","version":"7.1.0"}`,
		"app/node_modules/.pnpm/lock.yaml":                                               "lockfileVersion: '9.0'\n",
	})
	if len(pkgs) != 2 || pkgs[0].PURL != "pkg:npm/%40babel/core@7.1.0" || pkgs[1].Name != "minimist" {
		t.Fatalf("%+v", pkgs)
	}
	if f := loadFixtures(t, pkgs).match(pkgs); len(f) != 1 || f[0].ID != "GHSA-xvch-5gv4-984h" || f[0].Severity != "CRITICAL" {
		t.Errorf("findings %+v", f)
	}
}

// Aliases fold: two records naming the same CVE for one package are one finding, the more severe record's.
func TestAliasesFold(t *testing.T) {
	p := Package{Name: "minimist", Version: "1.2.5", Type: "npm", Ecosystem: ecoNPM}
	base, _ := os.ReadFile(filepath.Join("testdata", "osv", "npm", "GHSA-xvch-5gv4-984h.json"))
	r1, err := parseRecord(base)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := parseRecord(base)
	r2.ID, r2.Aliases, r2.Severity, r2.DatabaseSpecific.Severity = "CVE-2021-44906", nil, nil, "LOW"
	db := &database{records: map[string][]*record{matchKey(ecoNPM, "minimist"): {r2, r1}}}
	f := db.match([]Package{p})
	if len(f) != 1 || f[0].ID != "GHSA-xvch-5gv4-984h" || f[0].Severity != "CRITICAL" || len(f[0].Aliases) != 1 {
		t.Errorf("%+v", f)
	}
}

// Offline with no database is a clear error (exit 1); a corrupt zip or record is an error, not a panic.
func TestDatabaseErrors(t *testing.T) {
	img := filepath.Join(t.TempDir(), "image")
	i := testenv.Image(t, "linux/amd64", testenv.Layer{"app/node_modules/minimist/package.json": `{"name":"minimist","version":"1.2.5"}`})
	if _, err := layout.Write(img, empty.Index); err != nil {
		t.Fatal(err)
	}
	lp, _ := layout.FromPath(img)
	lp.AppendImage(i, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))

	// No database for an application ecosystem: never silent. A warning, the report's coverage, and a failed
	// gate when fail-on-unassessed covers it (the default covers the operating system's packages only).
	r := runScan(t, map[string]string{"image": img, "offline": "true"})
	if r.code != 0 || !strings.Contains(r.log, "::warning::1 npm package not assessed: no OSV database for this ecosystem: offline, and npm is neither in db-dir nor in the cache") {
		t.Errorf("offline, no database: exit %d\n%s", r.code, r.log)
	}
	if len(r.report.Coverage) != 1 || r.report.Coverage[0].Assessed || !strings.Contains(r.summary, "**not assessed**: no OSV database") {
		t.Errorf("coverage %+v\n%s", r.report.Coverage, r.summary)
	}
	r = runScan(t, map[string]string{"image": img, "offline": "true", "fail-on-unassessed": "all"})
	if r.code != 1 || !strings.Contains(r.log, "1 npm package not assessed (no OSV database for this ecosystem") {
		t.Errorf("fail-on-unassessed: all: exit %d\n%s", r.code, r.log)
	}
	db := t.TempDir()
	os.MkdirAll(filepath.Join(db, "npm"), 0o755)
	os.WriteFile(filepath.Join(db, "npm", "all.zip"), []byte("not a zip"), 0o644)
	if r := runScan(t, map[string]string{"image": img, "db-dir": db, "offline": "true"}); r.code != 1 || !strings.Contains(r.log, "npm/all.zip is not a zip archive") {
		t.Errorf("corrupt zip: exit %d\n%s", r.code, r.log)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GHSA-bad.json")
	w.Write([]byte(`{"id": "GHSA-bad", "affected": [{"ranges": "oops"}]}`))
	zw.Close()
	os.WriteFile(filepath.Join(db, "npm", "all.zip"), buf.Bytes(), 0o644)
	if r := runScan(t, map[string]string{"image": img, "db-dir": db, "offline": "true"}); r.code != 1 || !strings.Contains(r.log, "GHSA-bad.json: not an OSV record") {
		t.Errorf("corrupt record: exit %d\n%s", r.code, r.log)
	}
	// The OCI layout itself scans fine with the real records.
	if r := runScan(t, map[string]string{"image": img, "db-dir": osvDir(t), "offline": "true"}); r.code != 1 || r.report.Counts["CRITICAL"] != 1 {
		t.Errorf("layout: exit %d\n%s", r.code, r.log)
	}
}

// An image in a registry, by digest. Every platform image of an index is scanned and the gate holds for each:
// a vulnerable linux/arm64 image fails it even when linux/amd64 is clean. A platform the input does not hold is
// an input error naming the ones it holds.
func TestScanRegistryImage(t *testing.T) {
	host := testenv.Registry(t, false)
	lodash := func(version string) testenv.Layer {
		return testenv.Layer{"app/node_modules/lodash/package.json": `{"name":"lodash","version":"` + version + `"}`}
	}
	push := func(tag string, imgs ...v1.Image) string {
		ref, _ := name.ParseReference(host + "/acme/web:" + tag)
		idx := indexOf(t, imgs...)
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		d, _ := idx.Digest()
		return host + "/acme/web@" + d.String()
	}
	amd, arm := testenv.Image(t, "linux/amd64", lodash("4.17.21")), testenv.Image(t, "linux/arm64", lodash("4.17.20"))
	armDigest, _ := arm.Digest()
	image := push("1", amd, arm)
	in := func(more ...string) map[string]string {
		m := map[string]string{"image": image, "db-dir": osvDir(t), "offline": "true", "fail-on": "high"}
		for i := 0; i < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}

	r := runScan(t, in())
	reports := strings.Split(r.out["report"], "\n")
	if r.code != 1 || !strings.Contains(r.log, "linux/arm64: 1 vulnerability at or above HIGH") || strings.Contains(r.log, "linux/amd64: 1") ||
		r.out["sbom"] != filepath.Join(r.dir, "web-linux-amd64-sbom.cdx.json")+"\n"+filepath.Join(r.dir, "web-linux-arm64-sbom.cdx.json") ||
		len(reports) != 2 || !strings.Contains(r.summary, "## Scan of `web` for linux/arm64") {
		t.Fatalf("all platforms: exit %d %q\n%s\n%s", r.code, r.out, r.log, r.summary)
	}
	var armReport Report
	raw, _ := os.ReadFile(reports[1])
	if err := json.Unmarshal(raw, &armReport); err != nil || armReport.Platform != "linux/arm64" || armReport.Digest != armDigest.String() ||
		armReport.Gate.Passed || len(armReport.Findings) == 0 {
		t.Errorf("linux/arm64 report: %v %s %s %+v", err, armReport.Platform, armReport.Digest, armReport.Gate)
	}

	if r := runScan(t, in("platforms", "linux/amd64")); r.code != 0 || r.out["sbom"] != filepath.Join(r.dir, "web-sbom.cdx.json") || r.report.Platform != "linux/amd64" {
		t.Errorf("platforms: linux/amd64: exit %d %q\n%s", r.code, r.out, r.log)
	}
	if r := runScan(t, in("platforms", "linux/s390x")); r.code != 1 || !strings.Contains(r.log, `input "platforms": `+image+` holds no linux/s390x image (it holds linux/amd64, linux/arm64)`) {
		t.Errorf("a platform not held: exit %d\n%s", r.code, r.log)
	}
	one := host + "/acme/web@" + testenv.Push(t, host+"/acme/web:amd64", amd).String()
	if r := runScan(t, in("image", one, "platforms", "linux/arm64")); r.code != 1 || !strings.Contains(r.log, "is one image for linux/amd64, not for linux/arm64") {
		t.Errorf("one image, another platform: exit %d\n%s", r.code, r.log)
	}

	// The same vulnerability in both platform images is one alert (one fingerprint) saying where, and counted once.
	both := push("2", testenv.Image(t, "linux/amd64", lodash("4.17.20")), arm)
	single := runScan(t, in("image", both, "platforms", "linux/arm64"))
	r = runScan(t, in("image", both))
	if r.code != 1 || r.out["counts"] != single.out["counts"] || single.report.Counts["HIGH"] == 0 {
		t.Errorf("counts of both %s, of one %s", r.out["counts"], single.out["counts"])
	}
	var log, oneLog struct {
		Runs []struct {
			Properties struct{ Platforms []string }
			Results    []struct {
				Message             struct{ Text string }
				PartialFingerprints map[string]string
			}
		}
	}
	raw, _ = os.ReadFile(r.out["sarif"])
	json.Unmarshal(raw, &log)
	raw, _ = os.ReadFile(single.out["sarif"])
	json.Unmarshal(raw, &oneLog)
	if len(log.Runs) != 1 || len(oneLog.Runs) != 1 || len(log.Runs[0].Results) != len(oneLog.Runs[0].Results) ||
		!slices.Equal(log.Runs[0].Properties.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("SARIF of both: %s", raw)
	}
	for i, res := range log.Runs[0].Results {
		if !strings.HasSuffix(res.Message.Text, "Found in linux/amd64 (4.17.20), linux/arm64 (4.17.20).") ||
			res.PartialFingerprints["scribe/v1"] != oneLog.Runs[0].Results[i].PartialFingerprints["scribe/v1"] {
			t.Errorf("result %d: %+v", i, res)
		}
	}
}

// The database is downloaded once a day, revalidated with the server's ETag after that, and a failed
// download falls back to the cached copy with a warning.
func TestDatabaseCache(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.Create("x.json")
	zw.Close()
	var gets, notModified atomic.Int32
	down := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		gets.Add(1)
		if r.URL.Path != "/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(buf.Bytes())
	}))
	defer srv.Close()
	day := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	src := &dbSource{url: srv.URL, cache: t.TempDir(), client: srv.Client(), now: func() time.Time { return day }}
	var warnings []string
	warn := func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	for _, step := range []struct {
		when                   time.Time
		down                   bool
		gets, notModified      int32
		fromContains, warnings string
	}{
		{day, false, 1, 0, srv.URL, ""},
		{day.Add(5 * time.Hour), false, 1, 0, "(cached 2026-11-27)", ""},
		{day.Add(24 * time.Hour), false, 2, 1, "(revalidated)", ""},
		{day.Add(48 * time.Hour), true, 2, 1, "(stale)", "could not revalidate"},
	} {
		day, down = step.when, step.down
		data, from, err := src.Load(context.Background(), "npm", warn)
		if err != nil || !bytes.Equal(data, buf.Bytes()) || !strings.Contains(from, step.fromContains) ||
			gets.Load() != step.gets || notModified.Load() != step.notModified || !strings.Contains(strings.Join(warnings, "\n"), step.warnings) {
			t.Errorf("%s: from %q, err %v, %d GETs, %d not modified, warnings %v", step.when, from, err, gets.Load(), notModified.Load(), warnings)
		}
	}
	src.offline = true
	if _, from, err := src.Load(context.Background(), "npm", warn); err != nil || !strings.Contains(from, "cached") {
		t.Errorf("offline with a cache: %q %v", from, err)
	}
	if _, _, err := src.Load(context.Background(), "PyPI", warn); !errors.Is(err, errNoDatabase) || !strings.Contains(err.Error(), "offline, and PyPI is neither in db-dir nor in the cache") {
		t.Errorf("offline without: %v", err)
	}
}

// Past code scanning's 25,000 results the least severe are dropped, and the count is reported.
func TestSARIFLimit(t *testing.T) {
	var findings []Finding
	for i := range 25100 {
		sev := "LOW"
		if i%1000 == 0 {
			sev = "CRITICAL"
		}
		findings = append(findings, Finding{ID: fmt.Sprintf("GHSA-%04d", i), Severity: sev, Package: Package{Name: "p", Version: "1", Type: "npm"}})
	}
	raw, dropped, err := buildSARIF(sarifInput{name: "big", ref: "big.tar", images: []sarifImage{{findings: findings,
		secrets: []Secret{{Rule: "PrivateKey", Path: "/k", Fingerprint: "f"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 101 || strings.Count(string(raw), `"ruleId"`) != 25000 || !strings.Contains(string(raw), `"GHSA-25000"`) ||
		!strings.Contains(string(raw), `"droppedResults": 101`) {
		t.Errorf("dropped %d, %d results", dropped, strings.Count(string(raw), `"ruleId"`))
	}
}

func indexOf(t *testing.T, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	for _, img := range imgs {
		cf, _ := img.ConfigFile()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}}})
	}
	return idx
}

// Platforms compare as containerd compares arm64 (v8 its default variant); two images of one platform get
// their own files; an ignore entry for one platform's package is not "stale" because the other lacks it.
func TestPlatformNamesAndFiles(t *testing.T) {
	if !samePlatform("linux/arm64", "linux/arm64/v8") || samePlatform("linux/arm/v7", "linux/arm/v6") {
		t.Error("samePlatform")
	}
	imgs := []*Image{{Name: "win", Platform: "windows/amd64", Digest: "sha256:aaaaaaaaaaaa1"}, {Name: "win", Platform: "windows/amd64", Digest: "sha256:bbbbbbbbbbbb2"},
		{Name: "win", Digest: "sha256:cccccccccccc3"}}
	if got := reportStems(imgs); fmt.Sprint(got) != "[win-windows-amd64-aaaaaaaaaaaa win-windows-amd64-bbbbbbbbbbbb win-unknown]" {
		t.Errorf("stems %v", got)
	}
	reps := []*Report{{IgnoreWarnings: []string{"stale A", "expired B"}}, {IgnoreWarnings: []string{"expired B", "stale C"}}}
	if got := ignoreWarnings(reps); fmt.Sprint(got) != "[expired B]" {
		t.Errorf("ignore warnings %v", got)
	}
}

// A record's upstream CVE is its finding's alias, for the fold and the ignore file, when it names one CVE (a
// UBUNTU-CVE-* record, a CGA with its CVE and GHSA); an advisory of several CVEs keeps them apart, so ignoring
// one of them ignores none of the others.
func TestUpstreamIDs(t *testing.T) {
	for _, tt := range []struct {
		rec  record
		want []string
	}{
		{record{ID: "UBUNTU-CVE-2023-4911", Upstream: []string{"CVE-2023-4911"}}, []string{"CVE-2023-4911"}},
		{record{ID: "CGA-22hv-wp9q-4779", Upstream: []string{"CVE-2026-24398", "GHSA-r354-f388-2fhh"}}, []string{"CVE-2026-24398", "GHSA-r354-f388-2fhh"}},
		{record{ID: "DSA-5000-1", Aliases: []string{"DEBIAN-X"}, Upstream: []string{"CVE-2021-1", "CVE-2021-2"}}, []string{"DEBIAN-X"}},
		{record{ID: "GHSA-x", Aliases: []string{"CVE-2020-1"}}, []string{"CVE-2020-1"}},
	} {
		if got := tt.rec.otherIDs(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.rec.ID, got, tt.want)
		}
	}
}
