package scan

import (
	"bytes"
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Distro is the distribution an image's OS packages come from, as the files it ships say, and the OSV
// ecosystem they are matched in. A distribution the scan cannot place has no ecosystem and says why: its
// packages are reported as not assessed, never as free of vulnerabilities.
type Distro struct {
	ID         string   `json:"id,omitempty"`         // os-release ID: debian, ubuntu, alpine, wolfi, rocky
	VersionID  string   `json:"versionId,omitempty"`  // os-release VERSION_ID: 12, 22.04, 3.20.3
	Codename   string   `json:"codename,omitempty"`   // VERSION_CODENAME: bookworm, jammy
	IDLike     []string `json:"idLike,omitempty"`     // ID_LIKE, only ever shown: a derivative's packages are its own
	PrettyName string   `json:"prettyName,omitempty"` // PRETTY_NAME, for messages
	From       string   `json:"from,omitempty"`       // the file that named it
	Ecosystem  string   `json:"ecosystem,omitempty"`  // OSV's: Debian:12, Ubuntu:22.04:LTS, Alpine:v3.20; "" when unknown
	Format     string   `json:"format,omitempty"`     // the package type the distribution installs: deb, apk or rpm
	Unknown    string   `json:"unknown,omitempty"`    // why there is no ecosystem

	version, cpe string // VERSION and CPE_NAME: Ubuntu says LTS in the one, Red Hat its product stream in the other
	pointRelease string // Debian's /etc/debian_version when it names a point release ("12.15"): syft's purl distro
}

// purlDistro is the purl's "distro" qualifier as syft writes it (syft/pkg/url.go PURLQualifiers): the ID and
// VERSION_ID, Debian's point release from /etc/debian_version (syft/linux/supplement_release.go), the ID alone
// for a release that names no version (Debian testing); "" when no file names the distribution.
func (d Distro) purlDistro(ns string) string {
	switch {
	case d.ID == "":
		return ""
	case d.VersionID == "" && d.pointRelease == "":
		return ns
	}
	return ns + "-" + cmp.Or(d.pointRelease, d.VersionID)
}

// Assessable is the OSV ecosystem the image's OS packages are matched in, and, when they are not assessed,
// why: reason is "" exactly when the OS packages are matched. An image whose rpm database is missing or
// unreadable has an ecosystem and no package in it: the coverage says so (uncatalogued).
func (d Distro) Assessable() (ecosystem, reason string) {
	if d.Ecosystem == "" {
		return "", d.Unknown
	}
	return d.Ecosystem, ""
}

// ecosystemFor is the ecosystem of a package of type pkgType ("deb", "apk"): the distribution's when it
// installs that type, else "" (a dpkg database in an Alpine image is nobody's release).
func (d Distro) ecosystemFor(pkgType string) string {
	if d.Format != pkgType {
		return ""
	}
	return d.Ecosystem
}

// name is how messages name the distribution.
func (d Distro) name() string {
	if d.PrettyName != "" {
		return d.PrettyName
	}
	return strings.TrimSpace(d.ID + " " + d.VersionID)
}

// osRelease is the distribution the image's files name: os-release (systemd's os-release(5); /etc first,
// /usr/lib when /etc/os-release is the usual symlink, which layers do not follow), else the release files
// distributions leave, else the base-files package of a distroless Debian, with its OSV ecosystem.
func osRelease(fs *fileSystem) Distro {
	var d Distro
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if f, ok := fs.files[p]; ok {
			d = parseOSRelease(f.data)
			d.From = p
			break
		}
	}
	if d.ID == "" {
		d = releaseFiles(fs)
	}
	if f, ok := fs.files["/etc/debian_version"]; ok && d.ID == "debian" {
		v := string(bytes.TrimSpace(f.data))
		if debianPointRelease.MatchString(v) {
			d.pointRelease = v
		}
		if m := debianBaseFiles.FindStringSubmatch(v); d.VersionID == "" && m != nil {
			d.VersionID = m[1] // distroless's os-release of Debian 10 and 11 names no VERSION_ID ("Distroless")
		}
	}
	d.Ecosystem, d.Format, d.Unknown = identify(d)
	return d
}

// parseOSRelease reads os-release's KEY=value lines; values may be quoted, double quotes with backslash escapes.
func parseOSRelease(data []byte) Distro {
	var d Distro
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = unquote(strings.TrimSpace(v))
		switch k {
		case "ID":
			d.ID = v
		case "ID_LIKE":
			d.IDLike = strings.Fields(v)
		case "VERSION_ID":
			d.VersionID = v
		case "VERSION_CODENAME":
			d.Codename = v
		case "PRETTY_NAME":
			d.PrettyName = v
		case "VERSION":
			d.version = v
		case "CPE_NAME":
			d.cpe = v
		}
	}
	return d
}

var shellEscape = regexp.MustCompile(`\\(.)`)

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return shellEscape.ReplaceAllString(v[1:len(v)-1], "$1")
	}
	return v
}

var (
	// redHatRelease is /etc/redhat-release's one line: "Rocky Linux release 9.3 (Blue Onyx)".
	redHatRelease = regexp.MustCompile(`^(.+?) release ([0-9][0-9.]*)`)
	redHatIDs     = map[string]string{"Rocky Linux": "rocky", "AlmaLinux": "almalinux", "Red Hat Enterprise Linux": "rhel"}
	// suseRelease is the release that ends a SUSE product's or module's name: "15 SP5", "15", "5.5".
	suseRelease = regexp.MustCompile(`[0-9][0-9.]*( SP[0-9]+)?$`)
	// debianBaseFiles is the version of Debian's base-files: the release, then the point release or its update
	// ("12.4+deb12u5"). Ubuntu's ("12ubuntu4.6") does not name its release.
	debianBaseFiles = regexp.MustCompile(`^([0-9]+)(\.[0-9]+)*(\+deb([0-9]+)u[0-9]+)?$`)
	// debianPointRelease is a debian_version syft takes for the release's version: "12.15", "13".
	debianPointRelease = regexp.MustCompile(`^\d+(?:\.\d+)?$`)
)

// releaseFiles names the distribution of an image without os-release, from the files distributions leave:
// /etc/alpine-release, /etc/redhat-release (and its Rocky and Alma names, as layers do not follow the symlink),
// /etc/debian_version when it is a number (Ubuntu's says "bookworm/sid"), else the base-files package of a
// dpkg database (distroless Debian keeps one record per package in /var/lib/dpkg/status.d/).
func releaseFiles(fs *fileSystem) Distro {
	if f, ok := fs.files["/etc/alpine-release"]; ok {
		return Distro{ID: "alpine", VersionID: strings.TrimSpace(string(f.data)), From: f.path}
	}
	for _, p := range []string{"/etc/redhat-release", "/etc/rocky-release", "/etc/almalinux-release"} {
		f, ok := fs.files[p]
		if !ok {
			continue
		}
		line := strings.TrimSpace(string(f.data))
		if m := redHatRelease.FindStringSubmatch(line); m != nil && redHatIDs[m[1]] != "" {
			return Distro{ID: redHatIDs[m[1]], VersionID: m[2], PrettyName: line, From: p}
		}
		return Distro{PrettyName: line, From: p}
	}
	if f, ok := fs.files["/etc/debian_version"]; ok {
		if v := strings.TrimSpace(string(f.data)); debianBaseFiles.MatchString(v) {
			return Distro{ID: "debian", VersionID: strings.Split(v, ".")[0], From: f.path}
		}
	}
	return debianFromBaseFiles(fs)
}

// debianFromBaseFiles is Debian's release as its base-files package says, from a dpkg database.
func debianFromBaseFiles(fs *fileSystem) Distro {
	for _, p := range slices.Sorted(maps.Keys(fs.files)) {
		if p != "/var/lib/dpkg/status" && !strings.HasPrefix(p, "/var/lib/dpkg/status.d/") {
			continue
		}
		for _, r := range paragraphs(fs.files[p].data, ":") {
			m := debianBaseFiles.FindStringSubmatch(r["Version"])
			if r["Package"] != "base-files" || m == nil {
				continue
			}
			release := m[1]
			if m[4] != "" {
				release = m[4]
			}
			return Distro{ID: "debian", VersionID: release, From: p}
		}
	}
	return Distro{}
}

// identify maps a distribution to OSV's ecosystem name and the package type it installs, or says why it has
// none. The names are those OSV's records use (the OSV schema's ecosystem list, ossf/osv-schema
// ecosystems.json) as osv-scalibr derives them from os-release (extractor/filesystem/os/ecosystem); the
// comments give each one's source. ID_LIKE is never followed: a derivative (Kali, Mint, Raspbian, CentOS,
// Amazon Linux) builds its own packages, which no Debian, Ubuntu or Red Hat record describes.
func identify(d Distro) (ecosystem, format, unknown string) {
	if d.ID == "" && d.PrettyName == "" {
		return "", "", "no distribution found: no /etc/os-release nor any other file that names one"
	}
	switch d.ID {
	case "debian": // "Debian:<release>", the number of distro-info-data's debian.csv (osv-schema; scalibr MakeEcosystem)
		return release("Debian:", debianRelease(d), "deb", d)
	case "ubuntu": // "Ubuntu:22.04:LTS", "Ubuntu:24.10" (osv-schema: ":LTS" is mandatory on LTS releases; scalibr purl/ecosystem)
		return release("Ubuntu:", ubuntuRelease(d), "deb", d)
	case "alpine": // "Alpine:v3.20", the branch (osv-schema: the "v" is required; scalibr TrimDistroVersion)
		return release("Alpine:", alpineBranch(d), "apk", d)
	case "wolfi": // rolling, no release (osv-schema "Wolfi"; scalibr MakeEcosystem for OSID wolfi)
		return "Wolfi", "apk", ""
	case "chainguard": // rolling, no release (osv-schema "Chainguard"; scalibr MakeEcosystem for OSID chainguard)
		return "Chainguard", "apk", ""
	case "rocky": // "Rocky Linux:9", the major release (osv-schema: numeric release; osv.dev's RLSA records)
		return release("Rocky Linux:", major(d.VersionID), "rpm", d)
	case "almalinux": // "AlmaLinux:9", the major release (osv-schema; scalibr: OSV keys ALSA by major only)
		return release("AlmaLinux:", major(d.VersionID), "rpm", d)
	case "rhel": // "Red Hat:enterprise_linux:9::baseos", CPE_NAME after "cpe:/o:redhat:" (osv-schema; scalibr)
		return release("Red Hat:", redHatStream(d), "rpm", d)
	case "opensuse-leap", "opensuse-tumbleweed", "sles": // "openSUSE:Leap 15.5", "SUSE:Linux Enterprise Server 15 SP5"
		return release("", suseProduct(d), "rpm", d) // osv-schema: PRETTY_NAME, its vendor word as the ecosystem
	}
	return "", "", "unknown distribution: " + d.describe()
}

// release is a distribution's ecosystem, or, when its release has no name in OSV, why not.
func release(prefix, rel, format string, d Distro) (string, string, string) {
	if rel == "" {
		return "", "", "unknown distribution release: " + d.describe() + " names no release OSV's records name"
	}
	return prefix + rel, format, ""
}

// describe is the distribution as the user knows it, and its ID (and what it says it is like) as os-release says.
func (d Distro) describe() string {
	s := d.name()
	id := d.ID
	if len(d.IDLike) > 0 {
		id += ", like " + strings.Join(d.IDLike, " ")
	}
	if id != "" && s != id {
		s += " (" + id + ")"
	}
	return s
}

// debianCodenames are the Debian releases by codename, for testing, whose os-release has no VERSION_ID
// (distro-info-data debian.csv; sid, unstable, has no number).
var debianCodenames = map[string]string{"wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
	"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15"}

func debianRelease(d Distro) string {
	if d.VersionID != "" {
		return major(d.VersionID)
	}
	return debianCodenames[d.Codename]
}

// ubuntuRelease is "22.04:LTS" for a long-term support release, "24.10" for an interim one. VERSION says
// "LTS"; without it, LTS releases are the April releases of even years (wiki.ubuntu.com/Releases).
func ubuntuRelease(d Distro) string {
	yy, mm, ok := strings.Cut(d.VersionID, ".")
	year, err := strconv.Atoi(yy)
	if !ok || err != nil || len(mm) != 2 {
		return ""
	}
	if strings.Contains(d.version, "LTS") || mm == "04" && year%2 == 0 {
		return d.VersionID + ":LTS"
	}
	return d.VersionID
}

// alpineBranch is "v3.20" for VERSION_ID 3.20.3; edge, a snapshot of no branch, has none.
func alpineBranch(d Distro) string {
	parts := strings.Split(d.VersionID, ".")
	if len(parts) < 2 || strings.Contains(d.VersionID, "_alpha") || strings.Contains(d.PrettyName, "edge") {
		return ""
	}
	return "v" + parts[0] + "." + parts[1]
}

func major(versionID string) string {
	m, _, _ := strings.Cut(versionID, ".")
	if _, err := strconv.Atoi(m); err != nil {
		return ""
	}
	return m
}

// redHatStream is the product stream of Red Hat's CPE_NAME ("enterprise_linux:9::baseos"), else the major
// release's BaseOS (an image named only by /etc/redhat-release).
func redHatStream(d Distro) string {
	if _, stream, ok := strings.Cut(d.cpe, ":redhat:"); ok {
		return stream
	}
	if m := major(d.VersionID); m != "" {
		return "enterprise_linux:" + m + "::baseos"
	}
	return ""
}

// suseProduct is the ecosystem SUSE's PRETTY_NAME names: "openSUSE Leap 15.5" is openSUSE's "Leap 15.5",
// "SUSE Linux Enterprise Server 15 SP5" SUSE's "Linux Enterprise Server 15 SP5". SUSE files most of a server's
// packages under the module that ships them ("SUSE:Linux Enterprise Module for Basesystem 15 SP5"), as Red Hat
// does under AppStream: matching compares the release, not the name (releaseKey).
func suseProduct(d Distro) string {
	for _, vendor := range []string{"openSUSE", "SUSE"} {
		if rest, ok := strings.CutPrefix(d.PrettyName, vendor+" "); ok && rest != "" {
			return vendor + ":" + rest
		}
	}
	return ""
}

// releaseKey is the release an ecosystem string names, as records and packages are compared: an Ubuntu
// record for Ubuntu Pro (ESM) names its release as "Ubuntu:Pro:22.04:LTS", and osv.dev's API takes it, and
// "Ubuntu:22.04:LTS", for "Ubuntu:22.04" (osv.dev osv/ecosystems/_ecosystems.py, remove_variants), so a
// query by osv-scanner for an image without Pro matches both. A FIPS stream stays apart ("Ubuntu:FIPS:22.04").
//
// Red Hat and SUSE file a release's packages under the repository or module that ships them, and an image names
// only its product: UBI 9 says "Red Hat:enterprise_linux:9::baseos" (its CPE_NAME) while the records of its
// AppStream packages say "::appstream"; SLES 15 SP5 says its server product while most records name a module
// ("SUSE:Linux Enterprise Module for Basesystem 15 SP5"). What they share is compared: Red Hat's product stream
// without the repository ("enterprise_linux:9"; an EUS stream, "rhel_eus:9.2", stays apart: its fixes are
// not the main stream's), SUSE's release ("15 SP5"). openSUSE names a release, "Leap 15.5", as is.
func releaseKey(eco string) string {
	switch {
	case strings.HasPrefix(eco, "Red Hat:"):
		stream, _, _ := strings.Cut(eco, "::")
		return stream
	case strings.HasPrefix(eco, "SUSE:") && suseRelease.MatchString(eco):
		return "SUSE:" + suseRelease.FindString(eco)
	case !strings.HasPrefix(eco, "Ubuntu:"):
		return eco
	}
	var keep []string
	for _, part := range strings.Split(eco, ":") {
		if part != "Pro" && part != "LTS" {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ":")
}
