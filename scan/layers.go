package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// maxSecretFile is the largest file searched for secrets: keys, tokens and .env files are small.
const maxSecretFile = 1 << 20

// found is a file a cataloguer reads, from the layer that wrote it.
type found struct {
	path  string
	layer int
	data  []byte               // package database, metadata or manifest
	gobin *buildinfo.BuildInfo // a Go binary's embedded build information
}

// layerScan is what one layer holds: the files the cataloguers want, what it deletes from the layers below,
// and the secrets in its files.
type layerScan struct {
	files   []found
	deletes []string // whiteouts: a path (and everything below it)
	opaques []string // opaque directories: everything below from lower layers
	secrets []Secret
	bytes   int64
}

// fileSystem is an image's final filesystem, as far as the scan needs it.
type fileSystem struct {
	files   map[string]found
	secrets []Secret
	layers  int
	bytes   int64 // uncompressed bytes read
}

// readImage reads every layer once, in parallel, then applies them in order: later files replace earlier ones,
// whiteouts and opaque directories delete them. Secrets are reported from every layer, deleted later or not:
// a secret in any layer ships with the image.
func readImage(t *target, secrets *secretScanner) (*fileSystem, error) {
	layers, err := t.img.Layers()
	if err != nil {
		return nil, err
	}
	scans := make([]*layerScan, len(layers))
	errs := make([]error, len(layers))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			stored := i < len(t.stored) && t.stored[i]
			scans[i], errs[i] = readLayer(l, i, stored, secrets)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("layer %d: %w", i+1, errs[i])
			}
		}()
	}
	wg.Wait()
	fs := &fileSystem{files: map[string]found{}, layers: len(layers)}
	for i, ls := range scans {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, d := range ls.deletes {
			for p := range fs.files {
				if p == d || strings.HasPrefix(p, d+"/") {
					delete(fs.files, p)
				}
			}
		}
		for _, d := range ls.opaques {
			for p, f := range fs.files {
				if strings.HasPrefix(p, d+"/") && f.layer < i {
					delete(fs.files, p)
				}
			}
		}
		for _, f := range ls.files {
			fs.files[f.path] = f
		}
		fs.secrets = append(fs.secrets, ls.secrets...)
		fs.bytes += ls.bytes
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
	tr := tar.NewReader(rc)
	buf := make([]byte, 0, 64<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return ls, nil
		}
		if err != nil {
			return nil, err
		}
		p := path.Clean("/" + hdr.Name)
		dir, base := path.Split(p)
		switch {
		case base == ".wh..wh..opq":
			ls.opaques = append(ls.opaques, strings.TrimSuffix(dir, "/"))
			continue
		case strings.HasPrefix(base, ".wh."):
			ls.deletes = append(ls.deletes, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			continue
		case hdr.Typeflag != tar.TypeReg:
			continue
		}
		ls.bytes += hdr.Size
		want := wanted(p)
		goCandidate := hdr.FileInfo().Mode()&0o111 != 0 && hdr.Size > 1024 && hdr.Size < 512<<20
		scanSecret := secrets != nil && hdr.Size <= maxSecretFile && secrets.wants(p)
		if !want && !goCandidate && !scanSecret {
			continue
		}
		if goCandidate && !want && !scanSecret { // most executables are not Go: look at the magic first
			var head [4]byte
			if _, err := io.ReadFull(tr, head[:]); err != nil || string(head[:]) != "\x7fELF" {
				continue
			}
			data := make([]byte, hdr.Size)
			copy(data, head[:])
			if _, err := io.ReadFull(tr, data[4:]); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if bi, err := buildinfo.Read(bytes.NewReader(data)); err == nil {
				ls.files = append(ls.files, found{path: p, layer: index, gobin: bi})
			}
			continue
		}
		buf = buf[:0]
		b := bytes.NewBuffer(buf)
		if _, err := io.Copy(b, tr); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		data := b.Bytes()
		buf = data
		if scanSecret {
			ls.secrets = append(ls.secrets, secrets.scan(p, index, data)...)
		}
		if want {
			ls.files = append(ls.files, found{path: p, layer: index, data: bytes.Clone(data)})
		} else if goCandidate && bytes.HasPrefix(data, []byte("\x7fELF")) {
			if bi, err := buildinfo.Read(bytes.NewReader(data)); err == nil {
				ls.files = append(ls.files, found{path: p, layer: index, gobin: bi})
			}
		}
	}
}
