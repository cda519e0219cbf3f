package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	path2 "path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// Image is an image as the scan read it: its name for the reports, its packages (each from the layer that
// brought it) and the secrets in any of its layers.
type Image struct {
	Name   string // what the reports are named after: the repository's last part, or the file's name
	Digest string // the manifest digest, when known
	Layers int
	// CachedLayers were taken from the layer cache (their scan kept by an earlier run of this binary).
	CachedLayers int
	Packages     []Package
	Distro       Distro // the distribution its OS packages come from, and their OSV ecosystem (Distro.Assessable)
	Secrets      []Secret
	Warnings     []string // what the scan could not do, not an error: a layer cache it could not use

	target *target
}

// ReadImage opens the image input (a registry reference by digest, an OCI layout directory or a docker-save
// tarball), reads each layer once and catalogues its packages and secrets.
// Layer scans are kept in cacheDir by the layers' DiffIDs and taken from there next time ("": no cache).
func ReadImage(ctx context.Context, image, cacheDir string) (*Image, error) {
	t, err := openImage(ctx, image)
	if err != nil {
		return nil, err
	}
	cache := newLayerCache(cacheDir)
	fs, err := readImage(t, newSecretScanner(), cache)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", image, err)
	}
	return &Image{Name: t.name, Digest: t.digest, Layers: fs.layers, CachedLayers: fs.cached, Packages: catalog(fs),
		Distro: osRelease(fs), Secrets: fs.secrets, Warnings: cache.warn, target: t}, nil
}

// target is the image a scan reads, and the names its reports use.
type target struct {
	img    v1.Image
	name   string // repository name, or the file's name: what the reports are named after
	ref    string // what the user gave
	digest string // the manifest digest, when known
	id     string // the image ID (config digest), for a tarball
	// stored says, per layer, that the source holds it uncompressed (docker save's layer.tar): read it as
	// it is rather than have it gzipped on the fly.
	stored []bool
}

// openImage reads the image input: an OCI layout directory, a docker-save (or OCI) tarball, or a registry
// reference by digest. For an index it takes linux/amd64, else the first platform image.
func openImage(ctx context.Context, image string) (*target, error) {
	if info, err := os.Stat(image); err == nil {
		base := strings.TrimSuffix(filepath.Base(filepath.Clean(image)), filepath.Ext(image))
		if info.IsDir() {
			idx, err := layout.ImageIndexFromPath(image)
			if err != nil {
				return nil, fmt.Errorf(`input "image": %s is a directory but not an OCI layout: %w`, image, err)
			}
			var pick platformPick
			img, digest, err := pick.image(registry.WalkIndex(idx, pick.visit))
			if err != nil {
				return nil, fmt.Errorf(`input "image": %s: %w`, image, err)
			}
			return &target{img: img, name: base, ref: image, digest: digest}, nil
		}
		img, err := tarball.ImageFromPath(image, nil)
		if err != nil {
			return nil, fmt.Errorf(`input "image": %s is neither a docker-save tarball nor an OCI layout: %w`, image, err)
		}
		stored, err := storedLayers(image)
		if err != nil {
			return nil, fmt.Errorf(`input "image": %s: %w`, image, err)
		}
		id := ""
		if h, err := img.ConfigName(); err == nil {
			id = h.String()
		}
		return &target{img: img, name: base, ref: image, id: id, stored: stored}, nil
	}
	if !strings.Contains(image, "@") {
		return nil, fmt.Errorf(`input "image": %q is not a file, and a registry image must be given by digest (name@sha256:...), the build action's "image" output`, image)
	}
	d, err := registry.Digest(image)
	if err != nil {
		return nil, fmt.Errorf(`input "image": %w`, err)
	}
	desc, err := remote.Get(d, registry.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d, err)
	}
	t := &target{name: repoName(d), ref: image, digest: d.DigestStr()}
	if desc.MediaType.IsIndex() {
		var pick platformPick
		if t.img, _, err = pick.image(registry.Walk(d.Context(), desc, pick.visit)); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		return t, nil
	}
	t.img, err = desc.Image()
	return t, err
}

func repoName(d name.Digest) string {
	r := d.Context().RepositoryStr()
	return r[strings.LastIndex(r, "/")+1:]
}

// platformPick picks linux/amd64 among the platform images of an index (nested indexes followed), else the
// first; attestation manifests are not platforms.
type platformPick struct{ node *registry.Node }

// errPicked stops the walk once linux/amd64 is found.
var errPicked = errors.New("picked")

func (p *platformPick) visit(n *registry.Node) error {
	if n.IsIndex() || n.IsAttestation() {
		return nil
	}
	if p.node == nil {
		p.node = n
	}
	if pl := n.Descriptor.Platform; pl != nil && pl.OS == "linux" && pl.Architecture == "amd64" {
		p.node = n
		return errPicked
	}
	return nil
}

// image reads the image picked by a walk that returned err, and its digest.
func (p *platformPick) image(err error) (v1.Image, string, error) {
	if err != nil && !errors.Is(err, errPicked) {
		return nil, "", err
	}
	if p.node == nil {
		return nil, "", errors.New("holds no image")
	}
	img, err := p.node.Image()
	return img, p.node.Descriptor.Digest.String(), err
}

// storedLayers reads a docker-save tarball's manifest.json and tells, for each layer it lists, whether the
// file is stored uncompressed.
func storedLayers(path string) ([]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	heads := map[string][]byte{}
	var manifest []struct{ Layers []string }
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			continue
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(tr, head)
		heads[path2.Clean(h.Name)] = head[:n]
	}
	if len(manifest) == 0 {
		return nil, nil // an OCI tarball: its blobs are what they say
	}
	var out []bool
	for _, l := range manifest[0].Layers {
		out = append(out, !compressed(heads[path2.Clean(l)]))
	}
	return out, nil
}

func compressed(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd})
}
