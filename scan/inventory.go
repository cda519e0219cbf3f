package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Package is one installed package, from the layer that wrote its record, or one a lockfile declares (a source
// scan: Path is the lockfile, Line the line that declares it, Layer -1).
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Type      string `json:"type"`      // deb, apk, rpm, python, npm, go-module, java-archive, gem, rust-crate
	Ecosystem string `json:"ecosystem"` // OSV's: Debian:12, Ubuntu:22.04:LTS, PyPI, Go; "" for an unknown distribution's or a jar with no groupId
	PURL      string `json:"purl"`
	// Source is the source package (deb, apk origin): Debian's OSV records name source packages.
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	Layer         int    `json:"layer"`          // 0-based
	Path          string `json:"path"`           // the file that records it
	Line          int    `json:"line,omitempty"` // a lockfile's line that declares it
}

// Ecosystems the catalogue knows, as OSV names them.
const (
	ecoPyPI     = "PyPI"
	ecoNPM      = "npm"
	ecoGo       = "Go"
	ecoMaven    = "Maven"
	ecoRubyGems = "RubyGems"
)

var pythonMetadata = regexp.MustCompile(`/(site|dist)-packages/[^/]+\.(dist-info/METADATA|egg-info/PKG-INFO|egg-info)$`)

// wanted tells the files a cataloguer reads.
func wanted(p string) bool {
	switch p {
	case "/var/lib/dpkg/status", "/lib/apk/db/installed", "/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release",
		"/etc/debian_version", "/etc/redhat-release", "/etc/rocky-release", "/etc/almalinux-release": // osRelease's
		return true
	}
	switch {
	case strings.HasPrefix(p, "/var/lib/dpkg/status.d/"):
		return !strings.HasSuffix(p, ".md5sums")
	case strings.HasSuffix(p, "/package.json"):
		return strings.Contains(p, "/node_modules/") || !strings.HasPrefix(p, "/usr/share/")
	}
	return pythonMetadata.MatchString(p) || isJavaArchive(p) || isGemspec(p) || isRPMDatabase(p)
}

// catalog lists the packages of the final filesystem, sorted by type, name, version and path.
func catalog(fs *fileSystem) []Package {
	pkgs, _ := inventory(fs)
	return pkgs
}

// inventory is catalog, and what a cataloguer found and could not read, as coverage not assessed: an archive or
// a binary whose packages are missing from the inventory (a gap fail-on-unassessed: all fails on).
func inventory(fs *fileSystem) ([]Package, []Coverage) {
	d := osRelease(fs)
	var pkgs []Package
	var unread []Coverage
	rpmdb := rpmDatabase(fs)
	for p, f := range fs.files {
		if f.unread != nil {
			unread = append(unread, *f.unread)
		}
		switch {
		case p == rpmdb: // an unreadable database catalogues nothing, which the coverage reports (uncatalogued)
			pk, _ := rpmPackages(f, d)
			pkgs = append(pkgs, pk...)
		case p == "/var/lib/dpkg/status" || strings.HasPrefix(p, "/var/lib/dpkg/status.d/"):
			pkgs = append(pkgs, dpkgPackages(f, d)...)
		case p == "/lib/apk/db/installed":
			pkgs = append(pkgs, apkPackages(f, d)...)
		case strings.HasSuffix(p, "/package.json"):
			if pk, ok := npmPackage(f); ok {
				pkgs = append(pkgs, pk)
			}
		case isJavaArchive(p): // catalogued as its layer was read (javaFound)
			pkgs = append(pkgs, f.catalogued...)
		case isGemspec(p):
			if pk, ok := gemPackage(f); ok {
				pkgs = append(pkgs, pk)
			}
		case f.gobin != nil:
			pkgs = append(pkgs, goPackages(f)...)
		case f.rust != nil:
			pkgs = append(pkgs, rustPackages(f)...)
		case pythonMetadata.MatchString(p):
			if pk, ok := pythonPackage(f); ok {
				pkgs = append(pkgs, pk)
			}
		}
	}
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Path < b.Path
	})
	sort.Slice(unread, func(i, j int) bool { return unread[i].Reason < unread[j].Reason })
	return pkgs, unread
}

// paragraphs splits a Debian control file (dpkg status, apk's database uses one-letter keys the same way)
// into records of fields; continuation lines are folded into the field.
func paragraphs(data []byte, sep string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			cur[last] += "\n" + strings.TrimSpace(line)
		default:
			k, v, ok := strings.Cut(line, sep)
			if !ok {
				continue
			}
			last = k
			cur[k] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// dpkgPackages are the installed packages of a dpkg database, in the distribution's ecosystem ("" when it is
// unknown: not assessed, rather than matched against another distribution's records).
func dpkgPackages(f found, d Distro) []Package {
	eco := d.ecosystemFor("deb")
	ns := d.ID
	if ns == "" {
		ns = "debian"
	}
	var out []Package
	for _, r := range paragraphs(f.data, ":") {
		if r["Package"] == "" || r["Version"] == "" {
			continue
		}
		if st := r["Status"]; st != "" && !strings.HasSuffix(st, " installed") { // status.d records have none
			continue
		}
		src, srcVersion := r["Package"], r["Version"]
		q := packageurl.Qualifiers{{Key: "arch", Value: r["Architecture"]}}
		if s := r["Source"]; s != "" {
			name, ver, hasVer := strings.Cut(s, " ")
			src = name
			upstream := name // syft's "upstream": the Source field, with its version when it names one
			if hasVer {
				srcVersion = strings.Trim(ver, "()")
				upstream += "@" + srcVersion
			}
			q = append(q, packageurl.Qualifier{Key: "upstream", Value: upstream})
		}
		if v := d.purlDistro(d.ID); v != "" {
			q = append(q, packageurl.Qualifier{Key: "distro", Value: v})
		}
		out = append(out, Package{Name: r["Package"], Version: r["Version"], Type: "deb", Ecosystem: eco,
			PURL:   packageurl.NewPackageURL("deb", ns, r["Package"], r["Version"], q, "").ToString(),
			Source: src, SourceVersion: srcVersion, Layer: f.layer, Path: f.path})
	}
	return out
}

// apkPackages are the packages of an apk database, in the ecosystem of the distribution (Alpine, Wolfi,
// Chainguard) and under its PURL namespace.
func apkPackages(f found, d Distro) []Package {
	eco := d.ecosystemFor("apk")
	ns := d.ID
	if ns == "" {
		ns = "alpine"
	}
	var out []Package
	for _, r := range paragraphs(f.data, ":") {
		if r["P"] == "" || r["V"] == "" {
			continue
		}
		q := packageurl.Qualifiers{{Key: "arch", Value: r["A"]}}
		src := r["o"]
		if src == "" {
			src = r["P"]
		}
		if src != r["P"] { // syft's "upstream": the origin, when it is another package
			q = append(q, packageurl.Qualifier{Key: "upstream", Value: src})
		}
		if v := d.purlDistro(ns); v != "" {
			q = append(q, packageurl.Qualifier{Key: "distro", Value: v})
		}
		out = append(out, Package{Name: r["P"], Version: r["V"], Type: "apk", Ecosystem: eco,
			PURL:   packageurl.NewPackageURL("apk", ns, r["P"], r["V"], q, "").ToString(),
			Source: src, SourceVersion: r["V"], Layer: f.layer, Path: f.path})
	}
	return out
}

func pythonPackage(f found) (Package, bool) {
	var name, version string
	for _, line := range strings.Split(string(f.data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" { // the headers end at the first blank line; the description follows
			break
		}
		if v, ok := strings.CutPrefix(line, "Name: "); ok && name == "" {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "Version: "); ok && version == "" {
			version = strings.TrimSpace(v)
		}
	}
	if name == "" || version == "" {
		return Package{}, false
	}
	return Package{Name: name, Version: version, Type: "python", Ecosystem: ecoPyPI,
		PURL:  packageurl.NewPackageURL("pypi", "", normalizePyPI(name), version, nil, "").ToString(),
		Layer: f.layer, Path: f.path}, true
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// normalizePyPI is a PyPI project name as PEP 503 compares them.
func normalizePyPI(name string) string {
	return strings.ToLower(pypiSeparators.ReplaceAllString(name, "-"))
}

func npmPackage(f found) (Package, bool) {
	var m struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if json.Unmarshal(f.data, &m) != nil || m.Name == "" || m.Version == "" {
		return Package{}, false
	}
	ns, n := "", m.Name
	if strings.HasPrefix(n, "@") {
		ns, n, _ = strings.Cut(n, "/")
	}
	return Package{Name: m.Name, Version: m.Version, Type: "npm", Ecosystem: ecoNPM,
		PURL:  packageurl.NewPackageURL("npm", ns, n, m.Version, nil, "").ToString(),
		Layer: f.layer, Path: f.path}, true
}

// goPackages are a Go binary's main module, its dependencies (replacements applied) and the standard library
// it was built with (as "stdlib", the name OSV's Go records use).
func goPackages(f found) []Package {
	bi := f.gobin
	mk := func(name, version string) Package {
		ns, n := path.Split(name)
		return Package{Name: name, Version: version, Type: "go-module", Ecosystem: ecoGo,
			PURL:  packageurl.NewPackageURL("golang", strings.TrimSuffix(ns, "/"), n, version, nil, "").ToString(),
			Layer: f.layer, Path: f.path}
	}
	var out []Package
	if bi.Main.Path != "" {
		out = append(out, mk(bi.Main.Path, bi.Main.Version))
	}
	for _, dep := range bi.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		out = append(out, mk(dep.Path, dep.Version))
	}
	if v, ok := strings.CutPrefix(bi.GoVersion, "go"); ok {
		v, _, _ = strings.Cut(v, " ") // "go1.22.1 X:boringcrypto"
		out = append(out, mk("stdlib", v))
	}
	return out
}
