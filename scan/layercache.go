package scan

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/rust-secure-code/go-rustaudit"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/layers"
)

// layerCache keeps each layer's scan (the files the cataloguers want, what it deletes, its secrets) by the
// layer's DiffID, beside the OSV database: an image that shares its base layers with an earlier scan reads only
// its new layers. The DiffID is the digest of the uncompressed layer, read from the image's config, so it costs
// nothing to know; the same content under another compression is the same entry.
//
// Entries live in a folder named by this binary's SHA-256: a scanner that wants other files or finds other
// secrets (a new cataloguer, another detector) never reuses what an older one kept, which would leave it blind
// to exactly what it was changed to see. That leaves the folders of older binaries, and entries of layers no
// image uses any more, in the runner's tool cache: a scan sweeps them as it opens the cache for its first image
// (evictLayerCache), and a hit touches its entry so what is used stays.
type layerCache struct {
	dir  string // "" when there is no cache: every layer is read
	hits int    // layers taken from the cache by this scan
	mu   sync.Mutex
	warn []string // entries that could not be read, written or removed, said once each
	// evicted says what the sweep removed, for the log and not as a warning: it is housekeeping. "" when the
	// sweep removed nothing, or this cache was opened without one.
	evicted string
}

// cachedLayer is a layerScan on disk.
type cachedLayer struct {
	Files   []cachedFile
	Deletes []cachedDelete
	Secrets []Secret
	Bytes   int64
}

type cachedFile struct {
	Path  string
	Data  []byte
	GoBin string // a Go binary's build information, as debug.BuildInfo.String writes it
	// GoVersion is the binary's toolchain: String writes it, but ParseBuildInfo does not read it back.
	GoVersion  string
	Rust       *rustaudit.VersionInfo // a Rust binary's crates
	Catalogued []Package              // a Java archive's packages
	Unread     *Coverage
}

type cachedDelete struct {
	Kind layers.Kind
	Path string
}

// newLayerCache is the cache under root for this binary, swept first when sweep is set (evictLayerCache, at time
// now); with no root, or when the binary cannot be hashed, there is none (and the second is said).
func newLayerCache(root string, now time.Time, sweep bool) *layerCache {
	c := &layerCache{}
	if root == "" {
		return c
	}
	id, err := scannerID()
	if err != nil {
		c.warn = append(c.warn, fmt.Sprintf("layer cache off: %v", err))
		return c
	}
	c.dir = filepath.Join(root, id)
	if sweep {
		e := evictLayerCache(root, id, now, os.Remove)
		c.evicted = e.note()
		if w := e.warning(); w != "" {
			c.warn = append(c.warn, w)
		}
	}
	// The folder's time says this binary is in use, so another binary's sweep leaves it. Not said when it fails:
	// a folder this process cannot touch is one it cannot write to either, and put says that.
	os.Chtimes(c.dir, now, now)
	return c
}

var scannerOnce = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
})

// scannerID names this binary: the first 16 hex digits of its SHA-256 (hashed once per process).
func scannerID() (string, error) { return scannerOnce() }

// path is where a layer's entry is kept; "" when there is no cache or no DiffID to key it by. The DiffID comes
// from the image's config (a layer's own DiffID method may decompress and hash the whole layer to know it).
func (c *layerCache) path(diff v1.Hash) string {
	if c.dir == "" || diff.Hex == "" {
		return ""
	}
	return filepath.Join(c.dir, diff.Algorithm+"-"+diff.Hex+".gob")
}

// get is the scan of the layer with this DiffID from the cache, as layer index, or nil. An entry that does not
// decode is a miss, said.
func (c *layerCache) get(diff v1.Hash, index int) *layerScan {
	p := c.path(diff)
	if p == "" {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var e cachedLayer
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&e); err != nil {
		c.said("layer cache entry %s unreadable (%v): reading the layer", p, err)
		return nil
	}
	ls := &layerScan{bytes: e.Bytes}
	for _, f := range e.Files {
		fd := found{path: f.Path, layer: index, data: f.Data, rust: f.Rust, unread: f.Unread}
		for _, p := range f.Catalogued {
			p.Layer = index // the same layer may sit at another index in this image
			fd.catalogued = append(fd.catalogued, p)
		}
		if f.GoBin != "" {
			if fd.gobin, err = debug.ParseBuildInfo(f.GoBin); err != nil {
				c.said("layer cache entry %s: %s: %v: reading the layer", p, f.Path, err)
				return nil
			}
			fd.gobin.GoVersion = f.GoVersion
		}
		ls.files = append(ls.files, fd)
	}
	for _, d := range e.Deletes {
		ls.deletes = append(ls.deletes, layers.Entry{Kind: d.Kind, Path: d.Path})
	}
	for _, s := range e.Secrets {
		s.Layer = index
		ls.secrets = append(ls.secrets, s)
	}
	// A hit makes the entry new again, so the sweep keeps the layers scans still read. Not said when it fails:
	// the entry is only read again, after unusedEntryAge.
	now := time.Now()
	os.Chtimes(p, now, now)
	c.mu.Lock()
	c.hits++
	c.mu.Unlock()
	return ls
}

// put keeps a layer's scan, written whole or not at all (a temporary file renamed into place).
func (c *layerCache) put(diff v1.Hash, ls *layerScan) {
	p := c.path(diff)
	if p == "" {
		return
	}
	e := cachedLayer{Secrets: ls.secrets, Bytes: ls.bytes}
	for _, f := range ls.files {
		cf := cachedFile{Path: f.path, Data: f.data, Rust: f.rust, Catalogued: f.catalogued, Unread: f.unread}
		if f.gobin != nil {
			cf.GoBin, cf.GoVersion = f.gobin.String(), f.gobin.GoVersion
		}
		e.Files = append(e.Files, cf)
	}
	for _, d := range ls.deletes {
		e.Deletes = append(e.Deletes, cachedDelete{Kind: d.Kind, Path: d.Path})
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(e); err != nil {
		c.said("layer cache: %v", err)
		return
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		c.said("layer cache off: %v", err)
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err == nil {
		_, err = tmp.Write(buf.Bytes())
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), p)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		c.said("layer cache: writing %s: %v", p, err)
	}
}

func (c *layerCache) said(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warn = append(c.warn, fmt.Sprintf(format, args...))
}

// layerCacheDir is where layer scans are kept: beside the OSV database's cache folder.
func layerCacheDir(osvCache string) string { return filepath.Join(filepath.Dir(osvCache), "layers") }

// Ages past which the sweep removes what the cache holds. A scanner in use runs at least as often as the OSV
// database beside this cache goes stale (it is downloaded again each day), so a scanner's folder that no scan
// touched for a week belongs to a binary a newer release replaced. A layer that no scan read for a month is most
// likely of a base image rebuilt since, gone from the registries' tags. A temporary file a day old is a write
// whose process died: a write takes seconds.
const (
	staleScannerAge = 7 * 24 * time.Hour
	unusedEntryAge  = 30 * 24 * time.Hour
	leftoverTempAge = 24 * time.Hour
)

// eviction is what a sweep of the layer cache removed, and what it could not.
type eviction struct {
	scanners       int // folders of other binaries removed
	scannerEntries int // the entries they held
	unused         int // this binary's entries no scan read for unusedEntryAge
	leftovers      int // temporary files of writes that never finished
	bytes          int64
	failed         int   // paths that could not be removed (or listed)
	err            error // the first of them
}

// evictLayerCache sweeps the cache under root for the binary id at time now: the folders of other binaries
// that no scan touched for staleScannerAge, and in id's folder the entries no scan read for unusedEntryAge and
// the temporary files older than leftoverTempAge. Only what the cache writes is removed: a folder named by 16
// lowercase hex digits (with all it holds), a .gob entry or a .tmp- file of this binary's folder; anything
// else under root is someone else's. remove is os.Remove, or a test's.
func evictLayerCache(root, id string, now time.Time, remove func(string) error) *eviction {
	e := &eviction{}
	dirs, err := os.ReadDir(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			e.fail(err)
		}
		return e
	}
	for _, d := range dirs {
		if d.Name() == id {
			e.sweepEntries(filepath.Join(root, id), now, remove)
			continue
		}
		if !d.IsDir() || !isScannerID(d.Name()) {
			continue
		}
		if info, err := d.Info(); err == nil && now.Sub(info.ModTime()) > staleScannerAge {
			e.removeScanner(filepath.Join(root, d.Name()), remove)
		}
	}
	return e
}

// isScannerID tells a folder scannerID names: 16 lowercase hex digits.
func isScannerID(name string) bool {
	if len(name) != 16 {
		return false
	}
	for _, r := range name {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// sweepEntries removes, from this binary's folder, the entries unused for unusedEntryAge before its newest one
// and the temporary files older than leftoverTempAge.
func (e *eviction) sweepEntries(dir string, now time.Time, remove func(string) error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		e.fail(err)
		return
	}
	// An entry's age is counted from the newest entry, not from now: a cache restored by actions/cache keeps the
	// times it was saved with, and a hit's touch is not saved again, so from now every entry of a month-old save
	// would look unused.
	newest := time.Time{}
	for _, f := range files {
		if info, err := f.Info(); err == nil && strings.HasSuffix(f.Name(), ".gob") && info.ModTime().After(newest) {
			newest = info.ModTime()
		}
	}
	for _, f := range files {
		entry, temp := strings.HasSuffix(f.Name(), ".gob"), strings.HasPrefix(f.Name(), ".tmp-")
		if !f.Type().IsRegular() || !entry && !temp {
			continue
		}
		info, err := f.Info()
		if err != nil {
			continue // removed by another process since it was listed
		}
		if entry && newest.Sub(info.ModTime()) <= unusedEntryAge || temp && now.Sub(info.ModTime()) <= leftoverTempAge {
			continue
		}
		if err := remove(filepath.Join(dir, f.Name())); err != nil {
			e.fail(err)
			continue
		}
		e.bytes += info.Size()
		if entry {
			e.unused++
		} else {
			e.leftovers++
		}
	}
}

// removeScanner removes another binary's folder, what it holds first (deepest first), counting the entries and
// bytes removed; a path that cannot be removed leaves the folders above it.
func (e *eviction) removeScanner(dir string, remove func(string) error) {
	type item struct {
		path string
		d    fs.DirEntry
	}
	var items []item
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		items = append(items, item{path, d})
		return nil
	})
	if err != nil {
		e.fail(err)
		return
	}
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		var size int64
		if info, err := it.d.Info(); err == nil && !it.d.IsDir() {
			size = info.Size()
		}
		if err := remove(it.path); err != nil {
			e.fail(err)
			return
		}
		e.bytes += size
		if !it.d.IsDir() && strings.HasSuffix(it.path, ".gob") {
			e.scannerEntries++
		}
	}
	e.scanners++
}

func (e *eviction) fail(err error) {
	if e.failed == 0 {
		e.err = err
	}
	e.failed++
}

// note is the line that says what the sweep removed, or "" when it removed nothing.
func (e *eviction) note() string {
	var parts []string
	if e.scanners > 0 {
		parts = append(parts, fmt.Sprintf("%d entr%s of %d older scanner%s", e.scannerEntries, plural(e.scannerEntries, "y", "ies"),
			e.scanners, plural(e.scanners, "", "s")))
	}
	if e.unused > 0 {
		what := "entr" + plural(e.unused, "y", "ies") + " "
		if len(parts) > 0 {
			what = ""
		}
		parts = append(parts, fmt.Sprintf("%d %sunused for %d days", e.unused, what, int(unusedEntryAge/(24*time.Hour))))
	}
	if e.leftovers > 0 {
		parts = append(parts, fmt.Sprintf("%d unfinished write%s", e.leftovers, plural(e.leftovers, "", "s")))
	}
	if len(parts) == 0 {
		return ""
	}
	list := parts[len(parts)-1]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + list
	}
	return fmt.Sprintf("layer cache: removed %s (%s)", list, actionio.FormatBytes(e.bytes))
}

// warning says what the sweep could not remove, or is "" when it removed all it meant to: the first error
// names its path, and the count says how many others failed.
func (e *eviction) warning() string {
	if e.failed == 0 {
		return ""
	}
	w := fmt.Sprintf("layer cache: evicting old entries: %v", e.err)
	if e.failed > 1 {
		w += fmt.Sprintf(" (and %d more)", e.failed-1)
	}
	return w
}
