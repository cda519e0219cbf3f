package scan

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/infinite-scribe/scribe-actions/internal/layers"
)

// layerCache keeps each layer's scan (the files the cataloguers want, what it deletes, its secrets) by the
// layer's DiffID, beside the OSV database: an image that shares its base layers with an earlier scan reads only
// its new layers. The DiffID is the digest of the uncompressed layer, read from the image's config, so it costs
// nothing to know; the same content under another compression is the same entry.
//
// Entries live in a folder named by this binary's SHA-256: a scanner that wants other files or finds other
// secrets (a new cataloguer, another detector) never reuses what an older one kept, which would leave it blind
// to exactly what it was changed to see.
type layerCache struct {
	dir  string // "" when there is no cache: every layer is read
	hits int    // layers taken from the cache by this scan
	mu   sync.Mutex
	warn []string // entries that could not be read or written, said once each
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
	GoVersion string
}

type cachedDelete struct {
	Kind layers.Kind
	Path string
}

// newLayerCache is the cache under root for this binary; with no root, or when the binary cannot be hashed,
// there is none (and the second is said).
func newLayerCache(root string) *layerCache {
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
		fd := found{path: f.Path, layer: index, data: f.Data}
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
		cf := cachedFile{Path: f.path, Data: f.data}
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
