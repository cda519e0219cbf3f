package testenv

import (
	"archive/tar"
	"bytes"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer's files: path -> content. A path ending in "/" is a directory; a base name starting with
// ".wh." is an OCI whiteout; an ELF file is executable.
type Layer map[string]string

// Image builds a real OCI image for platform ("linux/arm64") from layers, each a gzipped tar of its files.
func Image(t testing.TB, platform string, layers ...Layer) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, files := range layers {
		l, err := tarball.LayerFromOpener(tarOpener(t, files), tarball.WithMediaType(types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// Index builds a multi-platform OCI index with one small image per platform.
func Index(t testing.TB, platforms ...string) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pl := range platforms {
		img := Image(t, pl, Layer{"etc/platform": pl + "\n"})
		p, _ := v1.ParsePlatform(pl)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return idx
}

// Push writes an image or index to ref (host/repo:tag) and returns its digest.
func Push(t testing.TB, ref string, artifact remote.Taggable) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	switch a := artifact.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(r, a)
	case v1.Image:
		err = remote.Write(r, a)
	}
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	type digester interface{ Digest() (v1.Hash, error) }
	h, err := artifact.(digester).Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tarOpener(t testing.TB, files Layer) tarball.Opener {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		hdr := &tar.Header{Name: p, Mode: 0o644, Size: int64(len(files[p])), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		switch {
		case strings.HasSuffix(p, "/"):
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		case strings.HasPrefix(files[p], "\x7fELF"):
			hdr.Mode = 0o755 // an executable, as an image's binaries are
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(files[p])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}
