package scan

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"
)

// A source scan's dependencies are what the lockfiles of the tree declare, each package at the lockfile and
// line that declares it, matched against the same OSV data as an image's packages. The formats are read by our
// own parsers, written after osv-scalibr's extractors (extractor/filesystem/language/..., v0.4.5), which
// osv-scanner runs: importing those extractors costs 2.1 MB of binary for the first one (their shared core
// brings disk-image readers, go-git and zap, 30 modules), so each format here is a small reader over the
// libraries this module already has (encoding/json, yaml.v3, golang.org/x/mod/modfile) plus BurntSushi/toml.
//
// Where the line comes from: the parser's own positions for JSON (the token stream's offsets: package-lock.json,
// npm-shrinkwrap.json, Pipfile.lock, composer.lock), YAML (yaml.v3's nodes: pnpm-lock.yaml), go.mod (modfile's
// syntax) and the line-based formats (yarn.lock, requirements*.txt, go.sum, Gemfile.lock). The TOML formats
// (poetry.lock, uv.lock, Cargo.lock) are decoded by BurntSushi/toml, which keeps no positions: each package's
// line is found by a text search, the n-th [[package]] table's `name =` line for the n-th package decoded.

// Lockfiles are the dependencies the lockfiles of a directory tree declare.
type Lockfiles struct {
	Files    []string  // the lockfiles read, relative to the directory, slash-separated
	Packages []Package // each at its lockfile (Path) and Line; one per name and version in a lockfile
	// Unassessable are dependencies declared without a version OSV's records can be matched with: a
	// requirement that is not pinned, a git checkout. They are reported, never dropped.
	Unassessable []Unassessable
	// Unreadable are the lockfiles that could not be read, as file:line: why.
	Unreadable []string
	Notes      []string // what the scan of a lockfile could not do, each naming its file and line
}

// Unassessable is a dependency a lockfile declares that the scan cannot match, at its line, and why.
type Unassessable struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
	Declared  string `json:"declared"` // as the lockfile writes it
	Path      string `json:"path"`
	Line      int    `json:"line"`
	Reason    string `json:"reason"`
}

// maxLockfile is the largest lockfile read: a monorepo's package-lock.json can be tens of megabytes.
const maxLockfile = 256 << 20

// Ecosystems only lockfiles bring, as OSV names them.
const (
	ecoCrates    = "crates.io"
	ecoPackagist = "Packagist"
)

// lockfileFormat is how one kind of lockfile is read.
type lockfileFormat struct {
	ecosystem string
	// read parses a lockfile: rel is its slash path relative to the scanned directory, data its content.
	read func(rel string, data []byte, dir lockfileDir) ([]dependency, error)
}

// lockfileDir is what a lockfile's reader may ask of the tree it is in.
type lockfileDir struct {
	// open reads a file beside the lockfile (go.mod's go.sum, a requirements file's -r includes) by its slash
	// path relative to the scanned directory; a missing one is fs.ErrNotExist.
	open func(rel string) ([]byte, error)
	note func(format string, a ...any) // what the reader could not do, said as a warning
}

// dependency is one entry of a lockfile, before it becomes a Package.
type dependency struct {
	name, version string
	file          string // the file that declares it, when not the lockfile read (go.sum, an included file)
	line          int
	declared      string // for an unassessable one: the entry as written
	reason        string // not "": it cannot be matched, and why
}

// lockfileFormatFor is the format of a file by its name, as npm, pip, Go and the others name them.
func lockfileFormatFor(name string) (lockfileFormat, bool) {
	switch name {
	case "package-lock.json", "npm-shrinkwrap.json":
		return lockfileFormat{ecoNPM, readPackageLock}, true
	case "pnpm-lock.yaml":
		return lockfileFormat{ecoNPM, readPnpmLock}, true
	case "yarn.lock":
		return lockfileFormat{ecoNPM, readYarnLock}, true
	case "poetry.lock":
		return lockfileFormat{ecoPyPI, readPoetryLock}, true
	case "uv.lock":
		return lockfileFormat{ecoPyPI, readUVLock}, true
	case "Pipfile.lock":
		return lockfileFormat{ecoPyPI, readPipfileLock}, true
	case "go.mod":
		return lockfileFormat{ecoGo, readGoMod}, true
	case "Cargo.lock":
		return lockfileFormat{ecoCrates, readCargoLock}, true
	case "Gemfile.lock", "gems.locked":
		return lockfileFormat{ecoRubyGems, readGemfileLock}, true
	case "composer.lock":
		return lockfileFormat{ecoPackagist, readComposerLock}, true
	}
	if isRequirementsFile(name) {
		return lockfileFormat{ecoPyPI, readRequirements}, true
	}
	return lockfileFormat{}, false
}

// skippedDir tells the folders whose lockfiles are someone else's: installed or vendored dependencies, each
// already declared by the project's own lockfile, and git's database.
func skippedDir(name string) bool {
	return name == "node_modules" || name == "vendor" || name == ".git"
}

// ReadLockfiles finds the lockfiles under dir (node_modules, vendor and .git skipped) and reads the
// dependencies they declare. A lockfile that cannot be read is listed in Unreadable, the others still read; an
// error is only a directory that cannot be walked.
func ReadLockfiles(dir string) (*Lockfiles, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && skippedDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if _, ok := lockfileFormatFor(d.Name()); ok && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf(`input "path": %w`, err)
	}
	sort.Strings(found)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf(`input "path": %w`, err)
	}
	defer root.Close()
	out := &Lockfiles{}
	done := map[string]bool{} // files read, a requirements file's includes among them
	ld := lockfileDir{
		open: func(rel string) ([]byte, error) {
			if !fs.ValidPath(rel) {
				return nil, fmt.Errorf("%s is outside the directory scanned: %w", rel, fs.ErrNotExist)
			}
			done[rel] = true
			data, err := readLimited(root, filepath.FromSlash(rel))
			var pe *fs.PathError
			if errors.As(err, &pe) { // named by its path in the directory, not the runner's
				err = pe.Err
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			return data, nil
		},
		note: func(format string, a ...any) { out.Notes = append(out.Notes, fmt.Sprintf(format, a...)) },
	}
	seen := map[string]bool{} // packages and unassessable entries by file, line, name and version
	for _, rel := range found {
		if done[rel] { // read already, as a requirements file's include
			out.Files = append(out.Files, rel)
			continue
		}
		if path.Base(rel) == "package-lock.json" && slices.Contains(found, path.Join(path.Dir(rel), "npm-shrinkwrap.json")) {
			continue // npm reads the shrinkwrap, not the lock, when a package has both
		}
		f, _ := lockfileFormatFor(path.Base(rel))
		data, err := ld.open(rel)
		if err != nil {
			out.Unreadable = append(out.Unreadable, err.Error())
			continue
		}
		deps, err := f.read(rel, data, ld)
		if err != nil {
			out.Unreadable = append(out.Unreadable, lockfileError(rel, err))
			continue
		}
		out.Files = append(out.Files, rel)
		out.add(rel, f.ecosystem, deps, seen)
	}
	return out, nil
}

// underPrefix makes the lockfiles' paths relative to the repository's root, the directory scanned being at
// prefix in it.
func (lf *Lockfiles) underPrefix(prefix string) {
	if prefix == "" {
		return
	}
	for i := range lf.Files {
		lf.Files[i] = path.Join(prefix, lf.Files[i])
	}
	for i := range lf.Packages {
		lf.Packages[i].Path = path.Join(prefix, lf.Packages[i].Path)
	}
	for i := range lf.Unassessable {
		lf.Unassessable[i].Path = path.Join(prefix, lf.Unassessable[i].Path)
	}
}

// readLimited reads a file of the scanned directory through root, so neither ".." nor a symbolic link reaches
// outside it (a requirements file's -r include names any path).
func readLimited(root *os.Root, p string) ([]byte, error) {
	f, err := root.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLockfile+1))
	if err == nil && len(data) > maxLockfile {
		err = fmt.Errorf("larger than %d MiB: not read", maxLockfile>>20)
	}
	return data, err
}

// add makes a lockfile's dependencies Packages, one per name and version in a file (a package-lock.json lists
// a package once per folder it is installed in: the first line stands for them), and the rest Unassessable.
// seen holds what earlier lockfiles gave: a file two requirements files include is listed once.
func (l *Lockfiles) add(rel, ecosystem string, deps []dependency, seen map[string]bool) {
	for _, d := range deps {
		file := cmp.Or(d.file, rel)
		if d.reason != "" {
			key := fmt.Sprintf("%s\x00%d\x00%s", file, d.line, d.declared)
			if !seen[key] {
				seen[key] = true
				l.Unassessable = append(l.Unassessable, Unassessable{Name: redact(d.name), Ecosystem: ecosystem,
					Declared: redact(d.declared), Path: file, Line: d.line, Reason: redact(d.reason)})
			}
			continue
		}
		key := file + "\x00" + matchKey(ecosystem, d.name) + "\x00" + d.version
		if seen[key] {
			continue
		}
		seen[key] = true
		p := lockfilePackage(ecosystem, d.name, d.version)
		p.Path, p.Line, p.Layer = file, d.line, -1
		l.Packages = append(l.Packages, p)
	}
}

// lockfilePackage is a package of an ecosystem with its type and purl, named as the image scan names them.
func lockfilePackage(ecosystem, name, version string) Package {
	kind, purlType, ns, n := "", "", "", name
	switch ecosystem {
	case ecoNPM:
		kind, purlType = "npm", packageurl.TypeNPM
		if strings.HasPrefix(name, "@") {
			ns, n, _ = strings.Cut(name, "/")
		}
	case ecoPyPI:
		kind, purlType, n = "python", packageurl.TypePyPi, normalizePyPI(name)
	case ecoGo:
		kind, purlType = "go-module", packageurl.TypeGolang
		ns, n = path.Split(name)
		ns = strings.TrimSuffix(ns, "/")
	case ecoCrates:
		kind, purlType = "rust-crate", packageurl.TypeCargo
	case ecoRubyGems:
		kind, purlType = "gem", packageurl.TypeGem
	case ecoPackagist:
		kind, purlType = "php-composer", packageurl.TypeComposer
		ns, n, _ = strings.Cut(name, "/")
	}
	return Package{Name: name, Version: version, Type: kind, Ecosystem: ecosystem,
		PURL: packageurl.NewPackageURL(purlType, ns, n, version, nil, "").ToString()}
}

// posError is a lockfile's error at a line, and column when known.
type posError struct {
	file      string // when not the lockfile read: a file it includes
	line, col int
	err       error
}

func (e *posError) Error() string {
	if e.col > 0 {
		return fmt.Sprintf("%d:%d: %v", e.line, e.col, e.err)
	}
	return fmt.Sprintf("%d: %v", e.line, e.err)
}

func (e *posError) Unwrap() error { return e.err }

func errAt(line int, format string, a ...any) error {
	return &posError{line: line, err: fmt.Errorf(format, a...)}
}

// lockfileError names the lockfile and the line an error is at: file:line[:col]: why.
func lockfileError(rel string, err error) string {
	var pe *posError
	if errors.As(err, &pe) {
		return cmp.Or(pe.file, rel) + ":" + pe.Error()
	}
	return rel + ": " + err.Error()
}

// urlCredentials is the user and password part of a URL: a requirement or a git dependency may carry a token
// there, and what the scan reports never shows a secret.
var urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// redact hides the credentials of the URLs in s.
func redact(s string) string { return urlCredentials.ReplaceAllString(s, "${1}***@") }
