package scan

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Java archives name the Maven artifacts they hold in META-INF/maven/<groupId>/<artifactId>/pom.properties,
// which Maven's archiver writes from the pom: the coordinates OSV's Maven records name (groupId:artifactId).
// Only an archive without one falls back to its MANIFEST.MF and file name, as syft does; those say an artifact's
// name and version but not its groupId, so the package is listed with no ecosystem rather than matched under a
// guessed name, and the coverage says so.
//
// An archive is a zip read from memory. The archives nested in it (an ear's wars, a war's WEB-INF/lib, a
// Spring Boot jar's BOOT-INF/lib, a Jenkins war's plugins) are inflated into memory too, so a zip bomb is
// bounded: nesting stops at maxJavaDepth, and what one archive's nested archives and metadata inflate, all
// depths together, stops at maxJavaInflated bytes and maxJavaArchives archives.
const (
	maxJavaDepth    = 4 // ear -> war -> lib jar is 2; Jenkins war -> hpi -> lib jar is 2
	maxJavaInflated = 512 << 20
	maxJavaArchives = 10000
	maxJavaMetadata = 1 << 20 // a pom.properties or MANIFEST.MF larger than this is not one
)

// javaArchiveExts are the zip formats that hold Java classes and Maven metadata: Jenkins' plugins (hpi, jpi)
// are jars by another name.
var javaArchiveExts = map[string]bool{".jar": true, ".war": true, ".ear": true, ".hpi": true, ".jpi": true}

func isJavaArchive(p string) bool { return javaArchiveExts[strings.ToLower(path.Ext(p))] }

// javaWalk is what reading one archive from a layer has used of its bounds, and what it could not read.
type javaWalk struct {
	f        found
	inflated int64
	archives int
	unread   []string // archives not read, each with the reason: their packages are missing from the inventory
}

// javaFound is a Java archive of a layer, catalogued: its packages and what of it could not be read, without its
// bytes.
func javaFound(p string, layer int, data []byte) found {
	f := found{path: p, layer: layer}
	pkgs, unread := javaPackages(found{path: p, layer: layer, data: data})
	f.catalogued = pkgs
	if unread != "" {
		f.unread = &Coverage{Ecosystem: "java-archive", Reason: unread}
	}
	return f
}

// javaPackages are the Maven artifacts of the Java archive f and of the archives nested in it, each at its
// path as syft writes it: "/app/shop.war:WEB-INF/lib/log4j-core.jar". The warning, if any, names the archives
// that were not read (past a bound, or not a zip): never a silent gap in the inventory.
func javaPackages(f found) ([]Package, string) {
	w := &javaWalk{f: f}
	pkgs := w.archive(f.path, path.Base(f.path), f.data, 0)
	if len(w.unread) == 0 {
		return pkgs, ""
	}
	shown := w.unread[:min(3, len(w.unread))]
	more := ""
	if len(w.unread) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(w.unread)-len(shown))
	}
	return pkgs, fmt.Sprintf("Java archive %s: %d archive%s not read, so %s packages are not in the inventory: %s%s",
		f.path, len(w.unread), plural(len(w.unread), "", "s"), plural(len(w.unread), "its", "their"), strings.Join(shown, "; "), more)
}

// archive reads the archive at vpath, file name file: its own packages, then its nested archives'.
func (w *javaWalk) archive(vpath, file string, data []byte, depth int) []Package {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // "../" names do not matter: nothing is written
		w.unread = append(w.unread, vpath+" (not a zip archive)")
		return nil
	}
	var pkgs, nested []Package
	seen := map[mavenCoordinates]bool{}
	var manifest map[string]string
	hasManifest := false
	for _, e := range zr.File {
		switch {
		case isPomProperties(e.Name):
			c, ok := parsePomProperties(w.read(e, maxJavaMetadata))
			if ok && !seen[c] {
				seen[c] = true
				pkgs = append(pkgs, w.maven(c, vpath))
			}
		case strings.EqualFold(e.Name, "META-INF/MANIFEST.MF"):
			manifest, hasManifest = parseManifest(w.read(e, maxJavaMetadata)), true
		case isJavaArchive(e.Name) && !e.FileInfo().IsDir():
			inner := vpath + ":" + e.Name
			switch {
			case depth >= maxJavaDepth:
				w.unread = append(w.unread, fmt.Sprintf("%s (nested deeper than %d archives)", inner, maxJavaDepth))
			case w.archives >= maxJavaArchives:
				w.unread = append(w.unread, fmt.Sprintf("%s (past %d nested archives)", inner, maxJavaArchives))
			default:
				w.archives++
				if data := w.read(e, maxJavaInflated); data != nil {
					nested = append(nested, w.archive(inner, path.Base(e.Name), data, depth+1)...)
				} else {
					w.unread = append(w.unread, fmt.Sprintf("%s (could not be inflated: corrupt, or past the %d MiB read per archive)", inner, maxJavaInflated>>20))
				}
			}
		}
	}
	// Like syft, an archive with no manifest and no pom.properties is not taken for a package of its own.
	if len(pkgs) == 0 && hasManifest {
		if p, ok := w.fromManifest(manifest, vpath, file); ok {
			pkgs = append(pkgs, p)
		}
	}
	return append(pkgs, nested...)
}

// read inflates a zip entry within what is left of the walk's budget and limit; nil when it does not fit or
// does not inflate. The header's size is checked first and the reader limited too: a header can lie.
func (w *javaWalk) read(e *zip.File, limit int64) []byte {
	limit = min(limit, maxJavaInflated-w.inflated)
	if e.UncompressedSize64 > uint64(limit) {
		return nil
	}
	rc, err := e.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	w.inflated += int64(len(data))
	if err != nil || int64(len(data)) > limit {
		return nil
	}
	return data
}

// isPomProperties tells Maven's pom.properties, which Maven's archiver writes under META-INF/maven/ (shaded and
// fat jars keep one per artifact they bundle).
func isPomProperties(name string) bool {
	return strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties")
}

type mavenCoordinates struct{ group, artifact, version string }

// parsePomProperties reads the coordinates of a pom.properties, a Java properties file ("key=value" or
// "key: value", "#" and "!" comments); all three must be there, and not an unexpanded "${...}".
func parsePomProperties(data []byte) (mavenCoordinates, bool) {
	var c mavenCoordinates
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxJavaMetadata)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		v := strings.TrimSpace(line[i+1:])
		switch strings.TrimSpace(line[:i]) {
		case "groupId":
			c.group = v
		case "artifactId":
			c.artifact = v
		case "version":
			c.version = v
		}
	}
	for _, v := range []string{c.group, c.artifact, c.version} {
		if v == "" || strings.Contains(v, "${") || strings.ContainsAny(v, " \t") {
			return mavenCoordinates{}, false
		}
	}
	return c, true
}

// maven is the package of a pom.properties: named groupId:artifactId, as OSV's Maven records name it.
func (w *javaWalk) maven(c mavenCoordinates, vpath string) Package {
	return Package{Name: c.group + ":" + c.artifact, Version: c.version, Type: "java-archive", Ecosystem: ecoMaven,
		PURL:  packageurl.NewPackageURL("maven", c.group, c.artifact, c.version, nil, "").ToString(),
		Layer: w.f.layer, Path: vpath}
}

// parseManifest reads the main section of a MANIFEST.MF: "Name: value" lines up to the first blank line, a
// line starting with a space continuing the one before (the jar specification wraps lines at 72 bytes).
func parseManifest(data []byte) map[string]string {
	out := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxJavaMetadata)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			return out
		case line[0] == ' ' && last != "":
			out[last] += line[1:]
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.TrimSpace(k)
			out[last] = strings.TrimSpace(v)
		}
	}
	return out
}

// archiveVersion splits a versioned archive name ("commons-collections3-3.2.2", "guava_31.1") at the first
// separator followed by a digit, the convention Maven's own file names follow and syft's reading of them.
var archiveVersion = regexp.MustCompile(`^(.+?)[-_](\d.*)$`)

// fromManifest is the package of an archive without pom.properties, as syft names it: the name from the file
// name, else the manifest's Implementation-Title or the last part of its Bundle-SymbolicName; the version from
// the file name, else the manifest. It has no groupId, so no ecosystem: matching it under a guessed name would
// miss or, worse, hit another artifact. Its purl takes the name for the group, as syft and OSV's scalibr do
// when nothing names one (legacy artifacts, junit:junit, are named so).
func (w *javaWalk) fromManifest(m map[string]string, vpath, file string) (Package, bool) {
	base := strings.TrimSuffix(file, path.Ext(file))
	name, version := base, ""
	if sm := archiveVersion.FindStringSubmatch(base); sm != nil {
		name, version = sm[1], sm[2]
	}
	if name == "" && !strings.Contains(strings.TrimSpace(m["Implementation-Title"]), " ") {
		name = firstWord(m["Implementation-Title"])
	}
	if name == "" {
		sym, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";")
		name = firstWord(sym[strings.LastIndex(sym, ".")+1:])
	}
	if name == "" {
		return Package{}, false
	}
	for _, k := range []string{"Implementation-Version", "Bundle-Version", "Specification-Version"} {
		if version == "" {
			version = firstWord(m[k]) // "1.4 1855 April 22 2006"
		}
	}
	return Package{Name: name, Version: version, Type: "java-archive",
		PURL:  packageurl.NewPackageURL("maven", name, name, version, nil, "").ToString(),
		Layer: w.f.layer, Path: vpath}, true
}

// firstWord is a manifest value up to its first space, "" for a free-text one ("${project.version}").
func firstWord(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	if strings.ContainsAny(s, "${}%") {
		return ""
	}
	return s
}
