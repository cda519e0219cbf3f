package scan

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/knqyf263/go-rpmdb/pkg/bdb"
	"github.com/package-url/packageurl-go"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// rpmSource is a source package as rpmbuild builds it here: the binary packages it makes, named and versioned as
// the distribution's (Rocky Linux 9, openSUSE Leap 15.5, Amazon Linux 2), each with a description, a changelog
// and a file, as real headers have.
type rpmSource struct {
	name     string
	epoch    int // 0: no Epoch tag
	version  string
	release  string
	noarch   bool
	binaries []string // the first may be the source's own name; the others are subpackages named in full
}

// rpmImage is a distribution's image: its release files and the rpm database of the format it uses, where it
// keeps it.
type rpmImage struct {
	release string // its release files, under testdata/os-release (Amazon Linux 2's under testdata/rpm)
	backend string // sqlite, ndb or bdb
	path    string // of the database in the image
	sources []rpmSource
}

var rpmImages = map[string]rpmImage{
	// skopeo below AlmaLinux's real ALSA-2025:7467 fix (2:1.18.1-1.el10_0), skopeo-tests at it: without the
	// epoch, skopeo-tests would read as below the fix (realdata_test.go)
	"almalinux-10": {"almalinux-10", "sqlite", "var/lib/rpm/rpmdb.sqlite", []rpmSource{
		{"skopeo", 2, "1.18.0", "1.el10", false, []string{"skopeo"}},
		{"skopeo-tests", 2, "1.18.1", "1.el10_0", false, []string{"skopeo-tests"}},
		{"glibc", 0, "2.39", "37.el10", false, []string{"glibc", "glibc-common"}},
		{"bash", 0, "5.2.26", "6.el10", false, []string{"bash"}},
		{"almalinux-release", 0, "10.0", "32.el10", true, []string{"almalinux-release", "almalinux-gpg-keys", "almalinux-repos"}},
	}},
	"rocky-9": {"rocky-9", "sqlite", "var/lib/rpm/rpmdb.sqlite", []rpmSource{
		{"glibc", 0, "2.34", "60.el9", false, []string{"glibc", "glibc-common", "glibc-minimal-langpack"}},
		{"openssl", 1, "3.0.7", "16.el9_2", false, []string{"openssl", "openssl-libs"}},
		{"bash", 0, "5.1.8", "6.el9_1", false, []string{"bash"}},
		{"zlib", 0, "1.2.11", "40.el9", false, []string{"zlib"}},
		{"tzdata", 0, "2023c", "1.el9", true, []string{"tzdata"}},
		{"ca-certificates", 0, "2023.2.60_v7.0.306", "90.1.el9_2", true, []string{"ca-certificates"}},
		{"gcc", 0, "11.3.1", "4.3.el9", false, []string{"libgcc", "libstdc++"}},
		{"vim", 2, "8.2.2637", "20.el9_1", false, []string{"vim-minimal"}},
		{"shadow-utils", 2, "4.9", "6.el9", false, []string{"shadow-utils"}},
		{"rocky-release", 0, "9.2", "1.6.el9", true, []string{"rocky-release", "rocky-gpg-keys", "rocky-repos"}},
	}},
	"opensuse-leap-15.5": {"opensuse-leap-15.5", "ndb", "usr/lib/sysimage/rpm/Packages.db", []rpmSource{
		{"glibc", 0, "2.31", "150300.52.2", false, []string{"glibc", "glibc-locale-base"}},
		{"openssl-3", 0, "3.0.8", "150500.5.8.1", false, []string{"openssl-3", "libopenssl3"}},
		{"bash", 0, "4.4", "150400.27.3.2", false, []string{"bash", "bash-sh"}},
		{"zlib", 0, "1.2.13", "150500.4.3.1", false, []string{"libz1"}},
		{"timezone", 0, "2023c", "150000.75.23.1", false, []string{"timezone"}},
		{"openSUSE-release", 0, "15.5", "lp155.286.1", false, []string{"openSUSE-release", "openSUSE-release-appliance-docker"}},
		{"libzypp", 0, "17.31.13", "150400.3.32.1", false, []string{"libzypp"}},
		{"zypper", 0, "1.14.61", "150400.3.24.1", false, []string{"zypper"}},
	}},
	"amazonlinux-2": {"../rpm/amazonlinux-2", "bdb", "var/lib/rpm/Packages", []rpmSource{
		{"glibc", 0, "2.26", "63.amzn2", false, []string{"glibc", "glibc-common", "glibc-minimal-langpack"}},
		{"openssl", 1, "1.0.2k", "24.amzn2.0.7", false, []string{"openssl-libs"}},
		{"bash", 0, "4.2.46", "34.amzn2", false, []string{"bash"}},
		{"zlib", 0, "1.2.7", "19.amzn2.0.2", false, []string{"zlib"}},
		{"system-release", 1, "2", "15.amzn2", false, []string{"system-release"}},
		{"yum", 0, "3.4.3", "158.amzn2.0.6", true, []string{"yum"}},
	}},
}

// spec is the source's spec file: the source's own name only builds a package when it is one of the binaries
// (a spec's main package without %files is not built).
func (s rpmSource) spec() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s for the scan's tests\nLicense: MIT\n", s.name, s.version, s.release, s.name)
	if s.epoch != 0 {
		fmt.Fprintf(&b, "Epoch: %d\n", s.epoch)
	}
	if s.noarch {
		b.WriteString("BuildArch: noarch\n")
	}
	// A header of a kilobyte or more, as real ones are: Berkeley DB stores it on overflow pages, the only values
	// go-rpmdb reads there.
	fmt.Fprintf(&b, "%%description\nThe %s package as the distribution ships it, rebuilt with its name, epoch, version\n"+
		"and release only: its header is a real one, written by rpmbuild.\n", s.name)
	var install, files strings.Builder
	install.WriteString("%install\n")
	for _, bin := range s.binaries {
		n := ""
		if bin != s.name {
			n = " -n " + bin
			fmt.Fprintf(&b, "%%package%s\nSummary: %s, a part of %s\n%%description%s\nThe %s part of %s.\n", n, bin, s.name, n, bin, s.name)
		}
		fmt.Fprintf(&install, "mkdir -p %%{buildroot}/usr/share/doc/%[1]s && echo %[1]s > %%{buildroot}/usr/share/doc/%[1]s/README\n", bin)
		fmt.Fprintf(&files, "%%files%s\n/usr/share/doc/%s/README\n", n, bin)
	}
	b.WriteString(install.String() + files.String())
	fmt.Fprintf(&b, "%%changelog\n* Mon Jun 12 2023 Release Engineering <releng@example.org> - %s-%s\n- Rebuilt for the scan's tests\n", s.version, s.release)
	return b.String()
}

// rpmTools is the root filesystem with rpm 4.20 and Berkeley DB's utilities that scripts/dev-env.sh makes
// (SCRIBE_RPM_ROOT), which the tests run by chroot, so as root.
func rpmTools(t testing.TB) string {
	t.Helper()
	root := os.Getenv("SCRIBE_RPM_ROOT")
	_, err := os.Stat(filepath.Join(root, "usr/bin/rpmbuild"))
	switch {
	case root == "":
		err = errors.New("SCRIBE_RPM_ROOT is not set")
	case err == nil && os.Geteuid() != 0:
		err = errors.New("chroot into it needs root")
	}
	testenv.Need(t, "a root filesystem with rpm and db5.3_load (SCRIBE_RPM_ROOT, scripts/dev-env.sh)", err)
	return root
}

// inRoot runs a command in the rpm root; it returns its standard output.
func inRoot(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("chroot", append([]string{root}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/root"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

var (
	rpmOnce sync.Once
	rpmDBs  map[string][]byte
	rpmErr  error
)

// rpmDatabasesOf are the rpm databases of rpmImages, by image, made once.
func rpmDatabasesOf(t testing.TB) map[string][]byte {
	t.Helper()
	root := rpmTools(t)
	rpmOnce.Do(func() { rpmDBs, rpmErr = makeRPMDatabases(root) })
	if rpmErr != nil {
		t.Fatal(rpmErr)
	}
	return rpmDBs
}

// makeRPMDatabases builds each image's packages with rpmbuild and installs their headers into a database of
// the image's format with rpm (--justdb), or, for Berkeley DB, which rpm no longer writes, loads the headers
// rpm wrote into sqlite into one with Berkeley DB's db5.3_load. rpm itself then lists every package of each
// database: they are real rpm databases.
func makeRPMDatabases(root string) (map[string][]byte, error) {
	work, err := os.MkdirTemp(filepath.Join(root, "tmp"), "scribe-rpm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	in := "/" + strings.TrimPrefix(work, filepath.Clean(root)+"/") // the work directory as the root sees it
	dbs := map[string][]byte{}
	for _, name := range slices.Sorted(maps.Keys(rpmImages)) {
		img := rpmImages[name]
		db, err := makeRPMDatabase(root, work, in+"/"+name, img)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		dbs[name] = db
	}
	return dbs, nil
}

func makeRPMDatabase(root, work, dir string, img rpmImage) ([]byte, error) {
	host := filepath.Join(work, filepath.Base(dir))
	args := []string{"rpmbuild", "-bb", "--quiet", "--target", "x86_64", "--define", "_topdir " + dir,
		"--define", "_build_id_links none", "--define", "__os_install_post %{nil}",
		"--define", "_buildhost build.scribe.test", "--define", "_binary_payload w0.ufdio"} // no name lookup, no compression: fast
	var names []string
	if err := os.MkdirAll(host, 0o755); err != nil {
		return nil, err
	}
	for _, s := range img.sources {
		p := filepath.Join(host, s.name+".spec")
		if err := os.WriteFile(p, []byte(s.spec()), 0o644); err != nil {
			return nil, err
		}
		args = append(args, dir+"/"+s.name+".spec")
		names = append(names, s.binaries...)
	}
	if _, err := inRoot(root, args...); err != nil {
		return nil, err
	}
	rpms, _ := filepath.Glob(filepath.Join(host, "RPMS", "*", "*.rpm"))
	backend := img.backend
	if backend == "bdb" {
		backend = "sqlite" // then loaded into Berkeley DB
	}
	install := []string{"rpm", "-i", "--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignorearch", "--ignoreos",
		"--dbpath", dir + "/db", "--define", "_db_backend " + backend}
	for _, p := range rpms {
		install = append(install, dir+strings.TrimPrefix(p, host))
	}
	if _, err := inRoot(root, install...); err != nil {
		return nil, err
	}
	if img.backend == "bdb" {
		if err := loadBerkeleyDB(root, host, dir); err != nil {
			return nil, err
		}
	}
	return checkRPMDatabase(root, host, dir, img.backend, names)
}

// loadBerkeleyDB writes db/Packages, a Berkeley DB hash database as rpm kept it: each header under its
// instance number (a native-endian uint32), and under 0 the last instance number.
func loadBerkeleyDB(root, host, dir string) error {
	sdb, err := sql.Open("sqlite", filepath.Join(host, "db", "rpmdb.sqlite"))
	if err != nil {
		return err
	}
	defer sdb.Close()
	rows, err := sdb.Query("SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return err
	}
	defer rows.Close()
	var text strings.Builder // db_load -T: keys and values on alternate lines, bytes escaped as \xx
	line := func(b []byte) {
		for _, c := range b {
			fmt.Fprintf(&text, "\\%02x", c)
		}
		text.WriteString("\n")
	}
	var last uint32
	for rows.Next() {
		var hnum uint32
		var blob []byte
		if err := rows.Scan(&hnum, &blob); err != nil {
			return err
		}
		line(binary.LittleEndian.AppendUint32(nil, hnum))
		line(blob)
		last = max(last, hnum)
	}
	line(binary.LittleEndian.AppendUint32(nil, 0))
	line(binary.LittleEndian.AppendUint32(nil, last))
	if err := os.WriteFile(filepath.Join(host, "bdb.txt"), []byte(text.String()), 0o644); err != nil {
		return err
	}
	os.MkdirAll(filepath.Join(host, "bdb"), 0o755)
	_, err = inRoot(root, "db5.3_load", "-T", "-t", "hash", "-f", dir+"/bdb.txt", dir+"/bdb/Packages")
	return err
}

// checkRPMDatabase has rpm list the database's packages, and returns its file.
func checkRPMDatabase(root, host, dir, backend string, names []string) ([]byte, error) {
	dbdir, file, rpmBackend := "db", "rpmdb.sqlite", backend
	switch backend {
	case "ndb":
		file = "Packages.db"
	case "bdb":
		dbdir, file, rpmBackend = "bdb", "Packages", "bdb_ro" // rpm 4.16 and later read Berkeley DB only
	}
	out, err := inRoot(root, "rpm", "-qa", "--dbpath", dir+"/"+dbdir, "--define", "_db_backend "+rpmBackend, "--qf", "%{NAME}\n")
	if err != nil {
		return nil, err
	}
	listed := strings.Fields(string(out))
	slices.Sort(listed)
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(listed, want) {
		return nil, fmt.Errorf("rpm lists %q in the %s database, want %q", listed, backend, want)
	}
	return os.ReadFile(filepath.Join(host, dbdir, file))
}

// rpmLayer is an image's one layer: its release files and its rpm database where the distribution keeps it.
func rpmLayer(t *testing.T, name string, db []byte) testenv.Layer {
	t.Helper()
	img := rpmImages[name]
	layer := releaseFilesOf(t, img.release)
	layer[img.path] = string(db)
	return layer
}

// Each format's database, as rpm wrote it, gives every package with the version OSV's records of its
// ecosystem write, and syft's purl: Rocky Linux's sqlite (epochs in the version), openSUSE's ndb (Leap's
// ecosystem, the "opensuse" namespace), Amazon Linux 2's Berkeley DB (no ecosystem: not Red Hat's records).
func TestRPMDatabasesInEveryFormat(t *testing.T) {
	dbs := rpmDatabasesOf(t)
	for _, tt := range []struct {
		image string
		want  []string // some of its packages: name version ecosystem purl
	}{
		{"rocky-9", []string{
			"glibc-common 2.34-60.el9 Rocky Linux:9 pkg:rpm/rocky/glibc-common@2.34-60.el9?arch=x86_64&distro=rocky-9.3&upstream=glibc-2.34-60.el9.src.rpm",
			"openssl-libs 1:3.0.7-16.el9_2 Rocky Linux:9 pkg:rpm/rocky/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=rocky-9.3&epoch=1&upstream=openssl-3.0.7-16.el9_2.src.rpm",
			"tzdata 2023c-1.el9 Rocky Linux:9 pkg:rpm/rocky/tzdata@2023c-1.el9?arch=noarch&distro=rocky-9.3&upstream=tzdata-2023c-1.el9.src.rpm",
			"vim-minimal 2:8.2.2637-20.el9_1 Rocky Linux:9 pkg:rpm/rocky/vim-minimal@8.2.2637-20.el9_1?arch=x86_64&distro=rocky-9.3&epoch=2&upstream=vim-8.2.2637-20.el9_1.src.rpm",
		}},
		{"opensuse-leap-15.5", []string{
			"libopenssl3 3.0.8-150500.5.8.1 openSUSE:Leap 15.5 pkg:rpm/opensuse/libopenssl3@3.0.8-150500.5.8.1?arch=x86_64&distro=opensuse-leap-15.5&upstream=openssl-3-3.0.8-150500.5.8.1.src.rpm",
		}},
		{"amazonlinux-2", []string{
			"openssl-libs 1:1.0.2k-24.amzn2.0.7  pkg:rpm/amzn/openssl-libs@1.0.2k-24.amzn2.0.7?arch=x86_64&distro=amzn-2&epoch=1&upstream=openssl-1.0.2k-24.amzn2.0.7.src.rpm",
			"yum 3.4.3-158.amzn2.0.6  pkg:rpm/amzn/yum@3.4.3-158.amzn2.0.6?arch=noarch&distro=amzn-2&upstream=yum-3.4.3-158.amzn2.0.6.src.rpm",
		}},
	} {
		t.Run(tt.image, func(t *testing.T) {
			fsys := &fileSystem{files: map[string]found{}}
			for p, data := range rpmLayer(t, tt.image, dbs[tt.image]) {
				fsys.files["/"+p] = found{path: "/" + p, data: []byte(data)}
			}
			got := map[string]bool{}
			var names []string
			for _, p := range catalog(fsys) {
				got[p.Name+" "+p.Version+" "+p.Ecosystem+" "+p.PURL] = true
				names = append(names, p.Name)
			}
			var want []string
			for _, s := range rpmImages[tt.image].sources {
				want = append(want, s.binaries...)
			}
			if slices.Sort(want); !slices.Equal(names, want) {
				t.Errorf("packages %q, want %q", names, want)
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("no %s among %v", w, slices.Sorted(maps.Keys(got)))
				}
			}
		})
	}
}

// rpmImageLayout writes the image of an rpm distribution as an OCI layout, which both syft and the scan read.
func rpmImageLayout(t *testing.T, name string, db []byte) string {
	t.Helper()
	return imageLayout(t, name, rpmLayer(t, name, db))
}

// imageLayout writes a linux/amd64 image of one layer as an OCI layout.
func imageLayout(t *testing.T, name string, layer testenv.Layer) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := testenv.Image(t, "linux/amd64", layer)
	if err := lp.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syftPackages are the packages of a purl type (rpm, apk) in syft's CycloneDX SBOM of an image, by purl.
func syftPackages(t *testing.T, image, purlType string) map[string]struct{ Name, Version string } {
	t.Helper()
	syft := peer(t, "SCRIBE_SYFT")
	out := filepath.Join(t.TempDir(), "syft.cdx.json")
	cmd := exec.Command(syft, "scan", "oci-dir:"+image, "-q", "-o", "cyclonedx-json="+out)
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("syft: %v\n%s", err, o)
	}
	return cdxPackages(t, out, purlType)
}

// cdxPackages are the components of a purl type of a CycloneDX SBOM, by purl.
func cdxPackages(t *testing.T, path, purlType string) map[string]struct{ Name, Version string } {
	t.Helper()
	var bom struct {
		Components []struct{ Name, Version, Purl string } `json:"components"`
	}
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &bom)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]struct{ Name, Version string }{}
	for _, c := range bom.Components {
		if strings.HasPrefix(c.Purl, "pkg:"+purlType+"/") {
			out[canonicalPURL(t, c.Purl)] = struct{ Name, Version string }{c.Name, c.Version}
		}
	}
	return out
}

// canonicalPURL is a purl with its qualifiers sorted (syft puts distro last).
func canonicalPURL(t *testing.T, s string) string {
	t.Helper()
	u, err := packageurl.FromString(s)
	if err != nil {
		t.Fatal(err)
	}
	u.Qualifiers = packageurl.QualifiersFromMap(u.Qualifiers.Map())
	return u.ToString()
}

// syftVersion is a package's version as syft writes it, [epoch:]version-release with the epoch whenever the
// header has one, from our purl: our version leaves out an epoch of 0 (rpm reads none as 0) and SUSE's epochs
// (SUSE's OSV records write none).
func syftVersion(t *testing.T, p Package) string {
	t.Helper()
	u, err := packageurl.FromString(p.PURL)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := u.Qualifiers.Map()["epoch"]; ok {
		return e + ":" + u.Version
	}
	return u.Version
}

// syft, reading the same image, finds the same rpm packages with the same versions (at least 99% of its,
// per image: each is one ecosystem), in every database format; the purls of our CycloneDX SBOM are syft's.
func TestRPMImagesMatchSyft(t *testing.T) {
	dbs := rpmDatabasesOf(t)
	db := t.TempDir()
	if err := PackRecords(filepath.Join("testdata", "osv-distro"), db); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(rpmImages)) {
		t.Run(name, func(t *testing.T) {
			image := rpmImageLayout(t, name, dbs[name])
			theirs := syftPackages(t, image, "rpm")
			r := runScan(t, map[string]string{"image": image, "db-dir": db, "offline": "true", "fail-on": "none",
				"fail-on-secrets": "false", "fail-on-unassessed": "none"})
			if r.code != 0 {
				t.Fatalf("scan: exit %d\n%s", r.code, r.log)
			}
			ours := map[string]bool{}
			for _, p := range r.report.Packages {
				if p.Type == "rpm" {
					ours[p.Name+" "+syftVersion(t, p)] = true
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
			t.Logf("%s: syft %d rpm packages, found by us %d; ours %d", name, len(theirs), found, len(ours))
			if len(theirs) == 0 || float64(found) < 0.99*float64(len(theirs)) || len(ours) != len(theirs) {
				t.Errorf("we found %d of syft's %d packages (want >= 99%%), and %d in all", found, len(theirs), len(ours))
			}
			sbom, _ := filepath.Glob(filepath.Join(r.dir, "*-sbom.cdx.json"))
			if len(sbom) != 1 {
				t.Fatalf("SBOMs %v", sbom)
			}
			if purls := cdxPackages(t, sbom[0], "rpm"); !maps.Equal(purls, theirs) {
				t.Errorf("our SBOM's rpm purls differ from syft's:\n ours %v\n syft %v", slices.Sorted(maps.Keys(purls)), slices.Sorted(maps.Keys(theirs)))
			}
		})
	}
}

// A Rocky Linux 9 image's rpm packages are matched against Rocky Linux:9's records: glibc's packages at
// 2.34-60.el9 are affected by RLSA-2023:5453 (fixed in 0:2.34-60.el9_2.7); openssl's at 1:3.0.7-16.el9_2
// are at RLSA-2023:3722's fix, which they would not be without their epoch. Amazon Linux 2's packages are
// assessed against nothing, and say why.
func TestRockyImageMatchedByRelease(t *testing.T) {
	dbs := rpmDatabasesOf(t)
	r := scanDistroImage(t, "rocky-rpm", rpmLayer(t, "rocky-9", dbs["rocky-9"]))
	findings, _ := findingsOf(r)
	slices.Sort(findings)
	want := []string{"glibc RLSA-2023:5453 0:2.34-60.el9_2.7", "glibc-common RLSA-2023:5453 0:2.34-60.el9_2.7",
		"glibc-minimal-langpack RLSA-2023:5453 0:2.34-60.el9_2.7"}
	if !slices.Equal(findings, want) {
		t.Errorf("findings %q, want %q", findings, want)
	}
	if c := r.report.Coverage; len(c) != 1 || c[0].Ecosystem != "Rocky Linux:9" || !c[0].Assessed || c[0].Packages != 16 || c[0].Records != 2 {
		t.Errorf("coverage %+v", c)
	}
	r = scanDistroImage(t, "amzn2-rpm", rpmLayer(t, "amazonlinux-2", dbs["amazonlinux-2"]))
	if c := r.report.Coverage; len(c) != 1 || c[0].Ecosystem != "rpm" || c[0].Assessed || c[0].Packages != 8 ||
		c[0].Reason != "unknown distribution: Amazon Linux 2 (amzn, like centos rhel fedora)" {
		t.Errorf("coverage %+v", c)
	}
}

// A Red Hat package is matched by the records of every repository of its product stream, not of another stream
// (EUS) or release; a SUSE package by the records of every product and module of its release; openSUSE's and
// the rebuilds' releases are compared as they are.
func TestSameReleaseRedHatAndSUSE(t *testing.T) {
	for _, tt := range []struct {
		record, pkg string
		want        bool
	}{
		{"Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos", true},
		{"Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::baseos", true},
		{"Red Hat:enterprise_linux:9::crb", "Red Hat:enterprise_linux:9::baseos", true},
		{"Red Hat:rhel_eus:9.2::baseos", "Red Hat:enterprise_linux:9::baseos", false},
		{"Red Hat:enterprise_linux:8::appstream", "Red Hat:enterprise_linux:9::baseos", false},
		{"SUSE:Linux Enterprise Module for Basesystem 15 SP5", "SUSE:Linux Enterprise Server 15 SP5", true},
		{"SUSE:Linux Enterprise Server for SAP Applications 15 SP5", "SUSE:Linux Enterprise Server 15 SP5", true},
		{"SUSE:Linux Enterprise Module for Basesystem 15 SP4", "SUSE:Linux Enterprise Server 15 SP5", false},
		{"SUSE:Linux Enterprise Server 15", "SUSE:Linux Enterprise Server 15 SP5", false},
		{"SUSE:Linux Enterprise Micro 5.5", "SUSE:Linux Enterprise Server 15 SP5", false},
		{"openSUSE:Leap 15.5", "openSUSE:Leap 15.5", true},
		{"openSUSE:Leap 15.4", "openSUSE:Leap 15.5", false},
		{"SUSE:Linux Enterprise Server 15 SP5", "openSUSE:Leap 15.5", false},
		{"Rocky Linux:9", "Rocky Linux:9", true},
		{"Rocky Linux:8", "Rocky Linux:9", false},
		{"AlmaLinux:9", "AlmaLinux:9", true},
	} {
		if got := sameRelease(tt.record, tt.pkg); got != tt.want {
			t.Errorf("sameRelease(%q, %q) = %t", tt.record, tt.pkg, got)
		}
	}
}

// The version is OSV's for the ecosystem: the epoch for the Red Hat family, none of 0 (rpm's ordering reads a
// missing epoch as 0, as the records' "0:" prefix shows), none for SUSE; the purl keeps the epoch as a
// qualifier whatever it is, as syft writes it.
func TestRPMVersionAndPURL(t *testing.T) {
	zero, one := 0, 1
	for _, tt := range []struct {
		epoch        *int
		id, eco      string
		version, url string
	}{
		{&one, "rocky", "Rocky Linux:9", "1:3.0.7-16.el9_2",
			"pkg:rpm/rocky/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=rocky-9.3&epoch=1&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
		{&zero, "rhel", "Red Hat:enterprise_linux:9::baseos", "3.0.7-16.el9_2",
			"pkg:rpm/redhat/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=rhel-9.3&epoch=0&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
		{nil, "almalinux", "AlmaLinux:9", "3.0.7-16.el9_2",
			"pkg:rpm/almalinux/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=almalinux-9.3&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
		{&one, "sles", "SUSE:Linux Enterprise Server 15 SP5", "3.0.7-16.el9_2",
			"pkg:rpm/sles/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=sles-9.3&epoch=1&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
		{&one, "opensuse-leap", "openSUSE:Leap 15.5", "3.0.7-16.el9_2",
			"pkg:rpm/opensuse/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=opensuse-leap-9.3&epoch=1&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
		{&one, "amzn", "", "1:3.0.7-16.el9_2",
			"pkg:rpm/amzn/openssl-libs@3.0.7-16.el9_2?arch=x86_64&distro=amzn-9.3&epoch=1&upstream=openssl-3.0.7-16.el9_2.src.rpm"},
	} {
		info := &rpmdb.PackageInfo{Name: "openssl-libs", Epoch: tt.epoch, Version: "3.0.7", Release: "16.el9_2", Arch: "x86_64",
			SourceRpm: "openssl-3.0.7-16.el9_2.src.rpm"}
		if v := rpmVersion(info, tt.eco); v != tt.version {
			t.Errorf("%s: version %q, want %q", tt.eco, v, tt.version)
		}
		if u := rpmPURL(info, Distro{ID: tt.id, VersionID: "9.3"}); u != tt.url {
			t.Errorf("%s: purl %q, want %q", tt.eco, u, tt.url)
		}
	}
}

// An rpm distribution whose database was deleted, or cannot be read, is not assessed, and says why: zero
// packages is not zero vulnerabilities.
func TestRPMDistributionWithoutReadableDatabase(t *testing.T) {
	for name, db := range map[string]string{"none": "", "garbage": "SQLite format 3\x00 but not a database"} {
		fsys := &fileSystem{files: map[string]found{}}
		for p, data := range releaseFilesOf(t, "rocky-9") {
			fsys.files["/"+p] = found{path: "/" + p, data: []byte(data)}
		}
		if db != "" {
			fsys.files["/var/lib/rpm/rpmdb.sqlite"] = found{path: "/var/lib/rpm/rpmdb.sqlite", data: []byte(db)}
		}
		pkgs, d := catalog(fsys), osRelease(fsys)
		cov := uncatalogued(sortedCoverage(newCoverage(pkgs, "")), d)
		if len(pkgs) != 0 || len(cov) != 1 || cov[0].Ecosystem != "Rocky Linux:9" || cov[0].Assessed ||
			!strings.Contains(cov[0].Reason, "installs rpm packages, but the image has no rpm database the scan can read") {
			t.Errorf("%s: packages %v, coverage %+v", name, pkgs, cov)
		}
	}
	if _, err := rpmPackages(found{path: "/var/lib/rpm/Packages", data: []byte("not a database")}, Distro{}); err == nil ||
		!strings.HasPrefix(err.Error(), "/var/lib/rpm/Packages: not an rpm database") {
		t.Errorf("error %v", err)
	}
}

// The rpm databases are the scan's input from images: whatever their bytes, reading them returns packages or
// an error and never panics. Seeds: the databases made here in each format, when rpm is there, and their
// headers alone.
func FuzzRPMDatabase(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("RpmP\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"))
	f.Add(append(make([]byte, 12), 0x61, 0x15, 0x06, 0x00, 0x09, 0, 0, 0, 0, 0x10, 0, 0))
	if testenv.E2E() || os.Getenv("SCRIBE_RPM_ROOT") != "" {
		for _, name := range slices.Sorted(maps.Keys(rpmImages)) {
			f.Add(rpmDatabasesOf(f)[name])
		}
	}
	distros := []Distro{{ID: "rocky", VersionID: "9.3", Ecosystem: "Rocky Linux:9", Format: "rpm"},
		{ID: "opensuse-leap", VersionID: "15.5", Ecosystem: "openSUSE:Leap 15.5", Format: "rpm"}, {}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range distros {
			if _, err := rpmPackages(found{path: "/var/lib/rpm/rpmdb.sqlite", data: data}, d); err != nil {
				return
			}
		}
	})
}

// corrupt is a copy of a real database with a change.
func corrupt(db []byte, change func(b []byte)) []byte {
	b := bytes.Clone(db)
	change(b)
	return b
}

// firstOverflowValue is the page and offset, in a real Berkeley DB, of the first value stored on overflow
// pages, and the first page of its chain.
func firstOverflowValue(t *testing.T, db []byte) (page, off int, chain uint32) {
	t.Helper()
	const size = 4096 // db5.3_load's page size here
	for p := 1; (p+1)*size <= len(db); p++ {
		pg := db[p*size : (p+1)*size]
		if pg[25] != bdb.HashPageType {
			continue
		}
		for i := 1; i < int(binary.LittleEndian.Uint16(pg[20:])); i += 2 {
			o := int(binary.LittleEndian.Uint16(pg[26+2*i:]))
			if pg[o] == bdb.HashOffIndexPageType {
				return p, o, binary.LittleEndian.Uint32(pg[o+4:])
			}
		}
	}
	t.Fatal("no overflow value")
	return 0, 0, 0
}

// What go-rpmdb does not survive is an error, at once. Checked against the library alone: in Berkeley DB, a
// value past its page panics in its goroutine, which kills the scan; an overflow chain that loops, or that
// starts at a page of another type, loops it forever; in ndb, a blob longer than the file is allocated (2 GiB
// here); a string array of 2^31 strings and no NULs enough keeps it scanning for hours. FuzzRPMDatabase found
// the first and the last.
func TestMalformedRPMDatabasesAreErrors(t *testing.T) {
	dbs := rpmDatabasesOf(t)
	al2, suse := dbs["amazonlinux-2"], dbs["opensuse-leap-15.5"]
	page, off, chain := firstOverflowValue(t, al2)
	headers := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	os.WriteFile(headers, dbs["rocky-9"], 0o600)
	sdb, err := sql.Open("sqlite", headers)
	if err == nil {
		// the first tag after the region becomes a string array of 2^31 strings
		_, err = sdb.Exec("UPDATE Packages SET blob = substr(blob, 1, 28) || x'00000008' || substr(blob, 33, 4) || x'80000000' || substr(blob, 41)")
		sdb.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	overlong, _ := os.ReadFile(headers)
	for name, db := range map[string][]byte{
		"bdb value past its page": corrupt(al2, func(b []byte) {
			idx := page*4096 + 26 + 2*(1+2*0)
			binary.LittleEndian.PutUint16(b[idx:], 4095)
			b[page*4096+4095] = bdb.HashOffIndexPageType
		}),
		"bdb overflow chain loops": corrupt(al2, func(b []byte) { binary.LittleEndian.PutUint32(b[int(chain)*4096+16:], chain) }),
		"bdb value on a hash page": corrupt(al2, func(b []byte) { binary.LittleEndian.PutUint32(b[page*4096+off+4:], uint32(page)) }),
		"ndb blob past the file": corrupt(suse, func(b []byte) {
			blk := int(binary.LittleEndian.Uint32(b[32+8:])) * 16
			binary.LittleEndian.PutUint32(b[blk+12:], 1<<31)
		}),
		"string array without its NULs": overlong,
	} {
		if _, err := rpmPackages(found{path: "/var/lib/rpm/x", data: db}, Distro{}); err == nil ||
			!strings.Contains(err.Error(), "malformed rpm database") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// Reading a database: written to a temporary file, checked, then read by go-rpmdb.
func BenchmarkRPMPackages(b *testing.B) {
	dbs := rpmDatabasesOf(b)
	d := Distro{ID: "rocky", VersionID: "9.3", Ecosystem: "Rocky Linux:9", Format: "rpm"}
	for _, name := range slices.Sorted(maps.Keys(rpmImages)) {
		b.Run(rpmImages[name].backend, func(b *testing.B) {
			for b.Loop() {
				if _, err := rpmPackages(found{path: "/" + rpmImages[name].path, data: dbs[name]}, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
