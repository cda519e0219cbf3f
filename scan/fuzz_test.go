package scan

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// The parsers of what the scan reads from outside, the OSV records and zips and an image's package metadata,
// return errors on any input; none panics. Seeds: the records of testdata/osv, the OSV schema's cases of
// osvCases (limits, special values, withdrawn, GIT and unknown ranges, free-form *_specific blocks) and the
// metadata formats.
func FuzzParseRecord(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "osv", "*", "*.json"))
	for _, p := range files {
		raw, _ := os.ReadFile(p)
		f.Add(raw, "1.2.3")
	}
	for _, c := range osvCases() {
		for v := range c.probes {
			f.Add([]byte(c.record), v)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, version string) {
		r, err := parseRecord(raw)
		if err != nil {
			return
		}
		for _, a := range r.Affected {
			for _, eco := range []string{a.Package.Ecosystem, "Debian:12", "PyPI", "npm", "Go", "Alpine:v3.20"} {
				a.affects(version, eco)
			}
			rate(r, a)
		}
		withdrawnBy(r, osvScanTime)
		db := &database{records: map[string][]*record{}, loaded: map[string]int{}}
		for _, a := range r.Affected {
			db.records[matchKey(a.Package.Ecosystem, a.Package.Name)] = []*record{r}
			db.withdrawn = map[string][]*record{matchKey(a.Package.Ecosystem, a.Package.Name): {r}}
			pkgs := []Package{{Name: a.Package.Name, Version: version, Ecosystem: a.Package.Ecosystem}}
			db.match(pkgs)
			db.unevaluated(pkgs)
		}
	})
}

func FuzzReadZip(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GHSA-xvch-5gv4-984h.json")
	raw, _ := os.ReadFile(filepath.Join("testdata", "osv", "npm", "GHSA-xvch-5gv4-984h.json"))
	w.Write(raw)
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04 not really"))
	for _, c := range osvCases() {
		if c.ecosystem == "npm" {
			f.Add(osvZip(f, c.record))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db := &database{records: map[string][]*record{}, loaded: map[string]int{}, now: osvScanTime}
		if db.readZip("npm", data, map[string]bool{matchKey("npm", "minimist"): true, matchKey("npm", "pkg"): true}) != nil {
			return
		}
		pkgs := []Package{{Name: "minimist", Version: "1.2.5", Ecosystem: "npm"}, {Name: "pkg", Version: "1.0.1", Ecosystem: "npm"}}
		db.match(pkgs)
		db.unevaluated(pkgs)
	})
}

func FuzzMetadata(f *testing.F) {
	f.Add([]byte(stretchStatus))
	f.Add([]byte(stretchOSRelease))
	f.Add([]byte("P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r29\n"))
	f.Add([]byte("Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\n\nJinja is a template engine.\n"))
	f.Add([]byte(`{"name":"@babel/core","version":"7.1.0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fd := found{path: "/x", data: data}
		d := osRelease(&fileSystem{files: map[string]found{"/etc/os-release": fd}})
		dpkgPackages(fd, d)
		apkPackages(fd, d)
		pythonPackage(fd)
		npmPackage(fd)
		p := filepath.Join(t.TempDir(), "ignore.yaml")
		os.WriteFile(p, data, 0o644)
		readIgnoreFile(p)
		readTrivyIgnore(p)
	})
}

// An executable's package list is read without panicking, whatever its bytes: seeds are real cargo-auditable
// binaries (osv-scalibr's), one with its section's bytes cut short, and bits of ELF.
func FuzzExecutable(f *testing.F) {
	dir := testenv.GoModule(f, scalibrModule, scalibrVersion, "extractor", "filesystem", "language", "rust", "cargoauditable", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, "no_deps", "no_deps"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, ok := executable("/x", 0, data)
		if ok && fd.rust != nil {
			rustPackages(fd)
		}
	})
}
