package scan

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/rust-secure-code/go-rustaudit"

	"github.com/infinite-scribe/scribe-actions/internal/layers"
)

// maxSecretFile is the largest file searched for secrets: keys, tokens and .env files are small.
const maxSecretFile = 1 << 20

// found is a file a cataloguer reads, from the layer that wrote it.
type found struct {
	path  string
	layer int
	data  []byte               // package database, metadata or manifest
	gobin *buildinfo.BuildInfo // a Go binary's embedded build information
	rust  *rustaudit.VersionInfo
	// catalogued are the packages of a file catalogued as its layer is read, not kept whole: a Java archive.
	catalogued []Package
	// unread says what of the file's packages could not be read, and why, as coverage not assessed under their
	// package type (a Java archive nested past a bound, a Rust binary's section that does not inflate).
	unread *Coverage
}

// layerScan is what one layer holds: the files the cataloguers want, what it deletes from the layers below,
// and the secrets in its files.
type layerScan struct {
	files   []found
	deletes []layers.Entry // whiteouts and opaque directories
	secrets []Secret
	bytes   int64
}

// fileSystem is an image's final filesystem, as far as the scan needs it.
type fileSystem struct {
	files   map[string]found
	secrets []Secret
	layers  int
	cached  int   // layers taken from the layer cache
	bytes   int64 // uncompressed bytes read
}

// readImage reads every layer once, in parallel (or takes its scan from the cache, when not nil), then applies
// them in order: later files replace earlier ones, whiteouts and opaque directories delete them. Secrets are
// reported from every layer, deleted later or not: a secret in any layer ships with the image.
func readImage(t *target, secrets *secretScanner, cache *layerCache) (*fileSystem, error) {
	if cache == nil {
		cache = &layerCache{}
	}
	ls, err := t.img.Layers()
	if err != nil {
		return nil, err
	}
	diffs := make([]v1.Hash, len(ls)) // zero (no caching) when the config does not list them
	if cf, err := t.img.ConfigFile(); err == nil && len(cf.RootFS.DiffIDs) == len(ls) {
		copy(diffs, cf.RootFS.DiffIDs)
	}
	scans := make([]*layerScan, len(ls))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, l := range ls {
		g.Go(func() error {
			if scans[i] = cache.get(diffs[i], i); scans[i] != nil {
				return nil
			}
			stored := i < len(t.stored) && t.stored[i]
			var err error
			if scans[i], err = readLayer(l, i, stored, secrets); err != nil {
				return fmt.Errorf("layer %d: %w", i+1, err)
			}
			cache.put(diffs[i], scans[i])
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	stack := layers.NewStack[found]()
	fs := &fileSystem{files: map[string]found{}, layers: len(ls), cached: cache.hits}
	for i, layer := range scans {
		for _, d := range layer.deletes {
			stack.Delete(d, i)
		}
		for _, f := range layer.files {
			stack.Write(f.path, i, f)
		}
		fs.secrets = append(fs.secrets, layer.secrets...)
		fs.bytes += layer.bytes
	}
	for p, c := range stack.All() {
		fs.files[p] = c.Value
	}
	return fs, nil
}

// decompress opens a layer blob whatever its compression (gzip, zstd or none), with klauspost's decoders,
// which are several times faster than the standard library's gzip, decompressing ahead in another goroutine.
// A layer the source stores uncompressed is read as it is.
func decompress(l v1.Layer, stored bool) (io.ReadCloser, error) {
	if stored {
		return l.Uncompressed()
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<20)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, err
		}
		return readAhead(zr, rc), nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			rc.Close()
			return nil, err
		}
		return readAhead(zr, rc), nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, rc}, nil
}

// readAhead decompresses in its own goroutine, so inflating the next megabyte overlaps with reading this one.
func readAhead(r io.Reader, c io.Closer) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.CopyBuffer(pw, r, make([]byte, 1<<20))
		pw.CloseWithError(err)
	}()
	return struct {
		io.Reader
		io.Closer
	}{pr, closers{pr, c}}
}

type closers []io.Closer

func (cs closers) Close() error {
	for _, c := range cs {
		c.Close()
	}
	return nil
}

func readLayer(l v1.Layer, index int, stored bool, secrets *secretScanner) (*layerScan, error) {
	rc, err := decompress(l, stored)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	ls := &layerScan{}
	buf := make([]byte, 0, 64<<10)
	err = layers.Read(rc, func(e layers.Entry, content io.Reader) error {
		switch e.Kind {
		case layers.Whiteout, layers.Opaque:
			ls.deletes = append(ls.deletes, e)
			return nil
		case layers.Other:
			return nil
		}
		ls.bytes += e.Header.Size
		var err error
		buf, err = ls.readFile(e, content, index, secrets, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ls, nil
}

// readFile keeps what the cataloguers and the secret scanner want of one file; buf is reused between files.
func (ls *layerScan) readFile(e layers.Entry, content io.Reader, index int, secrets *secretScanner, buf []byte) ([]byte, error) {
	p, hdr := e.Path, e.Header
	want := wanted(p)
	goCandidate := hdr.FileInfo().Mode()&0o111 != 0 && hdr.Size > 1024 && hdr.Size < 512<<20
	scanSecret := secrets != nil && hdr.Size <= maxSecretFile && secrets.wants(p)
	if !want && !goCandidate && !scanSecret {
		return buf, nil
	}
	if goCandidate && !want && !scanSecret { // most executables are not Go: look at the magic first
		var head [4]byte
		if _, err := io.ReadFull(content, head[:]); err != nil || string(head[:]) != "\x7fELF" {
			return buf, nil
		}
		data := make([]byte, hdr.Size)
		copy(data, head[:])
		if _, err := io.ReadFull(content, data[4:]); err != nil {
			return buf, fmt.Errorf("%s: %w", p, err)
		}
		if f, ok := executable(p, index, data); ok {
			ls.files = append(ls.files, f)
		}
		return buf, nil
	}
	b := bytes.NewBuffer(buf[:0])
	if _, err := io.Copy(b, content); err != nil {
		return buf, fmt.Errorf("%s: %w", p, err)
	}
	data := b.Bytes()
	if scanSecret {
		ls.secrets = append(ls.secrets, secrets.scan(p, index, data)...)
	}
	switch {
	case want && isJavaArchive(p): // catalogued now: an image's jars can weigh gigabytes, their packages little
		ls.files = append(ls.files, javaFound(p, index, data))
	case want:
		ls.files = append(ls.files, found{path: p, layer: index, data: bytes.Clone(data)})
	case goCandidate && bytes.HasPrefix(data, []byte("\x7fELF")):
		if f, ok := executable(p, index, data); ok {
			ls.files = append(ls.files, f)
		}
	}
	return data, nil
}

// executable is what the cataloguers read of an ELF executable: a Go binary's build information, or the crates
// cargo-auditable embedded in a Rust binary; ok is false for any other executable.
func executable(p string, index int, data []byte) (f found, ok bool) {
	defer func() { // debug/elf is not hardened against hostile files: a panic is this file's failure, not the scan's
		if r := recover(); r != nil {
			f, ok = found{path: p, layer: index, unread: &Coverage{Ecosystem: "executable", Reason: fmt.Sprintf("%s: malformed executable: %v", p, r)}}, true
		}
	}()
	if bi, err := buildinfo.Read(bytes.NewReader(data)); err == nil {
		return found{path: p, layer: index, gobin: bi}, true
	}
	deps, err := rustDeps(data)
	switch {
	case err != nil:
		return found{path: p, layer: index, unread: &Coverage{Ecosystem: "rust-crate", Reason: fmt.Sprintf("%s: its package list could not be read (%v)", p, err)}}, true
	case deps != nil:
		return found{path: p, layer: index, rust: deps}, true
	}
	return found{}, false
}
