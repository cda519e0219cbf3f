package scan

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// releaseFilesOf reads testdata/os-release/<dir>: the files a distribution's image ships, at their paths.
func releaseFilesOf(t *testing.T, dir string) testenv.Layer {
	t.Helper()
	root := filepath.Join("testdata", "os-release", dir)
	files := testenv.Layer{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(raw)
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: %v (%d files)", root, err, len(files))
	}
	return files
}

// Each distribution, as its real release files say, gets the ecosystem OSV's records name it by; a
// derivative, a snapshot of no release and an image that names no distribution get none, and say why.
func TestDistroEcosystems(t *testing.T) {
	for _, tt := range []struct{ dir, eco, format, unknown string }{
		{"almalinux-10", "AlmaLinux:10", "rpm", ""},
		{"debian-11", "Debian:11", "deb", ""},
		{"debian-12", "Debian:12", "deb", ""},
		{"debian-trixie-sid", "Debian:13", "deb", ""}, // testing: no VERSION_ID, the codename's number
		{"distroless-debian-12", "Debian:12", "deb", ""},
		{"distroless-debian-12-no-os-release", "Debian:12", "deb", ""}, // base-files 12.4+deb12u5
		{"ubuntu-20.04", "Ubuntu:20.04:LTS", "deb", ""},
		{"ubuntu-22.04", "Ubuntu:22.04:LTS", "deb", ""},
		{"ubuntu-24.04", "Ubuntu:24.04:LTS", "deb", ""},
		{"ubuntu-24.10", "Ubuntu:24.10", "deb", ""},
		{"alpine-3.19", "Alpine:v3.19", "apk", ""},
		{"alpine-3.20", "Alpine:v3.20", "apk", ""},
		{"alpine-3.20-release-file-only", "Alpine:v3.20", "apk", ""},
		{"wolfi", "Wolfi", "apk", ""},
		{"chainguard", "Chainguard", "apk", ""},
		{"rocky-9", "Rocky Linux:9", "rpm", ""},
		{"rocky-9-release-file-only", "Rocky Linux:9", "rpm", ""},
		{"almalinux-9", "AlmaLinux:9", "rpm", ""},
		{"ubi-9", "Red Hat:enterprise_linux:9::baseos", "rpm", ""},
		{"opensuse-leap-15.5", "openSUSE:Leap 15.5", "rpm", ""},
		{"sles-15-sp5", "SUSE:Linux Enterprise Server 15 SP5", "rpm", ""},
		{"kali-rolling", "", "", "unknown distribution: Kali GNU/Linux Rolling (kali, like debian)"},
		{"amazonlinux-2023", "", "", "unknown distribution: Amazon Linux 2023.4.20240611 (amzn, like fedora)"},
		{"alpine-edge", "", "", "unknown distribution release: Alpine Linux edge (alpine) names no release"},
		{"ubuntu-no-os-release", "", "", "no distribution found"}, // "bookworm/sid" and base-files 13ubuntu10.1 name none
	} {
		t.Run(tt.dir, func(t *testing.T) {
			fsys := &fileSystem{files: map[string]found{}}
			for p, data := range releaseFilesOf(t, tt.dir) {
				fsys.files["/"+p] = found{path: "/" + p, data: []byte(data)}
			}
			d := osRelease(fsys)
			if d.Ecosystem != tt.eco || d.Format != tt.format || !strings.HasPrefix(d.Unknown, tt.unknown) || (tt.unknown == "") != (d.Unknown == "") {
				t.Errorf("got %q %q %q, want %q %q %q (%+v)", d.Ecosystem, d.Format, d.Unknown, tt.eco, tt.format, tt.unknown, d)
			}
			eco, reason := d.Assessable()
			if eco != tt.eco || (reason == "") != (tt.eco != "") {
				t.Errorf("Assessable() = %q, %q", eco, reason)
			}
		})
	}
}

// osv-scalibr's semantic package orders the versions of every ecosystem the distributions map to, given the
// whole ecosystem string (it cuts the release off itself), so the matcher passes the package's ecosystem as is.
func TestDistroEcosystemsHaveVersionOrdering(t *testing.T) {
	for eco, v := range map[string][2]string{
		"Debian:12":                           {"1.2.3-1+deb12u1", "1.2.3-1+deb12u2"},
		"Ubuntu:22.04:LTS":                    {"2.35-0ubuntu3.1", "2.35-0ubuntu3.4"},
		"Ubuntu:Pro:18.04:LTS":                {"1.0-1ubuntu0.1", "1.0-1ubuntu0.1+esm1"},
		"Alpine:v3.20":                        {"3.3.1-r3", "3.3.2-r0"},
		"Wolfi":                               {"3.3.1-r5", "3.3.2-r0"},
		"Chainguard":                          {"3.3.1-r5", "3.3.2-r0"},
		"Rocky Linux:9":                       {"1:3.0.7-24.el9", "1:3.0.7-25.el9_3"},
		"AlmaLinux:9":                         {"1:3.0.7-24.el9", "1:3.0.7-25.el9_3"},
		"Red Hat:enterprise_linux:9::baseos":  {"1:3.0.7-24.el9", "1:3.0.7-25.el9_3"},
		"openSUSE:Leap 15.5":                  {"3.0.8-150500.5.8.1", "3.0.8-150500.5.11.1"},
		"SUSE:Linux Enterprise Server 15 SP5": {"3.0.8-150500.5.8.1", "3.0.8-150500.5.11.1"},
	} {
		lo, err := semantic.Parse(v[0], eco)
		if err != nil {
			t.Errorf("%s: %v", eco, err)
			continue
		}
		if c, err := lo.CompareStr(v[1]); err != nil || c >= 0 {
			t.Errorf("%s: %s vs %s = %d, %v", eco, v[0], v[1], c, err)
		}
	}
}

// A record names the package's release: Ubuntu's LTS records match LTS packages, its Pro (ESM) records the same
// release, as osv.dev's API matches them for osv-scanner; not FIPS builds, other releases, nor Debian's.
func TestSameReleaseUbuntu(t *testing.T) {
	for _, tt := range []struct {
		record, pkg string
		want        bool
	}{
		{"Ubuntu:22.04:LTS", "Ubuntu:22.04:LTS", true},
		{"Ubuntu:Pro:22.04:LTS", "Ubuntu:22.04:LTS", true},
		{"Ubuntu:24.10", "Ubuntu:24.10", true},
		{"Ubuntu:Pro:FIPS-updates:22.04:LTS", "Ubuntu:22.04:LTS", false},
		{"Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", false},
		{"Ubuntu:Pro:20.04:LTS", "Ubuntu:22.04:LTS", false},
		{"Ubuntu:24.04:LTS", "Ubuntu:24.10", false},
		{"Debian:12", "Ubuntu:22.04:LTS", false},
		{"Debian:12", "Debian:12", true},
		{"Debian:11", "Debian:12", false},
		{"Alpine:v3.19", "Alpine:v3.20", false},
		{"Wolfi", "Wolfi", true},
		{"npm", "npm", true},
	} {
		if got := sameRelease(tt.record, tt.pkg); got != tt.want {
			t.Errorf("sameRelease(%q, %q) = %t", tt.record, tt.pkg, got)
		}
	}
}

const ubuntuJammyStatus = `Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.35-0ubuntu3.1
Description: GNU C Library: Shared libraries

Package: libcurl4
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Source: curl
Version: 7.81.0-1ubuntu1.14
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)
`

// scanDistroImage pushes an image of layer to a registry and scans it by digest with the records of
// testdata/osv-distro, gating on nothing.
func scanDistroImage(t *testing.T, repo string, layer testenv.Layer) result {
	t.Helper()
	host := testenv.Registry(t, false)
	d := testenv.Push(t, host+"/acme/"+repo+":1", testenv.Image(t, "linux/amd64", layer))
	db := t.TempDir()
	if err := PackRecords(filepath.Join("testdata", "osv-distro"), db); err != nil {
		t.Fatal(err)
	}
	r := runScan(t, map[string]string{"image": host + "/acme/" + repo + "@" + d.String(), "db-dir": db, "offline": "true",
		"fail-on": "none", "fail-on-secrets": "false", "fail-on-unassessed": "none"})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	return r
}

// findingsOf is a scan's findings as "package id fixed-version", and the ecosystems of its packages.
func findingsOf(r result) (findings, ecosystems []string) {
	for _, f := range r.report.Findings {
		findings = append(findings, f.Package.Name+" "+f.ID+" "+f.FixedVersion)
	}
	for _, p := range r.report.Packages {
		ecosystems = append(ecosystems, p.Name+"="+p.Ecosystem)
	}
	return findings, ecosystems
}

// An Ubuntu 22.04 image's packages are Ubuntu:22.04:LTS's (not "Debian:22", which no record names): libc6 at
// an affected glibc is reported, libcurl4 at curl's fixed version is not. The same packages in a Kali image are
// not matched against Ubuntu's or Debian's records: they have no ecosystem.
func TestUbuntuImageMatchedByRelease(t *testing.T) {
	layer := releaseFilesOf(t, "ubuntu-22.04")
	layer["var/lib/dpkg/status"] = ubuntuJammyStatus
	findings, ecos := findingsOf(scanDistroImage(t, "jammy", layer))
	if strings.Join(findings, ",") != "libc6 UBUNTU-CVE-2023-4911 2.35-0ubuntu3.4" ||
		strings.Join(ecos, ",") != "libc6=Ubuntu:22.04:LTS,libcurl4=Ubuntu:22.04:LTS" {
		t.Errorf("findings %q, packages %q", findings, ecos)
	}
	kali := releaseFilesOf(t, "kali-rolling")
	kali["var/lib/dpkg/status"] = ubuntuJammyStatus
	findings, ecos = findingsOf(scanDistroImage(t, "kali", kali))
	if len(findings) != 0 || strings.Join(ecos, ",") != "libc6=,libcurl4=" {
		t.Errorf("kali: findings %q, packages %q", findings, ecos)
	}
}

// apkInstalled is an apk database: libcrypto3 of openssl and expat, at the versions given.
func apkInstalled(openssl, expat string) string {
	return "C:Q1aaaaaaaaaaaaaaaaaaaaaaaaaaaa=\nP:libcrypto3\nV:" + openssl + "\nA:x86_64\nT:Crypto library from openssl\no:openssl\n\n" +
		"C:Q1bbbbbbbbbbbbbbbbbbbbbbbbbbbb=\nP:libexpat\nV:" + expat + "\nA:x86_64\nT:XML Parser library written in C\no:expat\n\n"
}

// An Alpine 3.20 image is matched against Alpine:v3.20's records (expat affected, openssl at the fix), the
// same database in Alpine 3.19 against none of them; a Wolfi image against Wolfi's (openssl affected, expat at
// the fix), never Alpine's.
func TestAlpineAndWolfiImagesMatchedByDistribution(t *testing.T) {
	for _, tt := range []struct{ dir, openssl, expat, want, eco string }{
		{"alpine-3.20", "3.3.2-r0", "2.6.2-r0", "libexpat ALPINE-CVE-2024-45490 2.6.3-r0", "Alpine:v3.20"},
		{"alpine-3.19", "3.3.1-r3", "2.6.2-r0", "", "Alpine:v3.19"},
		{"wolfi", "3.3.1-r5", "2.6.3-r0", "libcrypto3 CGA-test-2024-6119 3.3.2-r0", "Wolfi"},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			layer := releaseFilesOf(t, tt.dir)
			layer["lib/apk/db/installed"] = apkInstalled(tt.openssl, tt.expat)
			findings, ecos := findingsOf(scanDistroImage(t, strings.ReplaceAll(tt.dir, ".", "-"), layer))
			if strings.Join(findings, ",") != tt.want || strings.Join(ecos, ",") != "libcrypto3="+tt.eco+",libexpat="+tt.eco {
				t.Errorf("findings %q, packages %q", findings, ecos)
			}
		})
	}
}
