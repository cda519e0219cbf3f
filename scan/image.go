package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	path2 "path"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	// Platform is os/arch[/variant], from the index that lists the image or else its config; "" if neither says.
	Platform string
	Layers   int
	// CachedLayers were taken from the layer cache (their scan kept by an earlier run of this binary).
	CachedLayers int
	Packages     []Package
	Distro       Distro // the distribution its OS packages come from, and their OSV ecosystem (Distro.Assessable)
	Secrets      []Secret
	Warnings     []string // what the scan could not do, not an error: a layer cache it could not use
	Notes        []string // what the scan did besides reading, for the log: the layer cache's sweep
	// Unread are the packages the scan found and could not read (an archive past a bound, a binary's broken
	// package list): coverage not assessed.
	Unread []Coverage

	target *target
}

// ReadImages opens the image input (a registry reference by digest, an OCI layout directory or a docker-save
// tarball) and reads each platform image it holds, or those platforms names (nil: all): every layer once, its
// packages catalogued and its secrets found. An index's platforms are all scanned, so a gate on the result holds
// for every image a consumer may pull.
// Layer scans are kept in cacheDir by the layers' DiffIDs and taken from there next time ("": no cache).
func ReadImages(ctx context.Context, image string, platforms []string, cacheDir string) ([]*Image, error) {
	targets, err := openImages(ctx, image, platforms)
	if err != nil {
		return nil, err
	}
	var out []*Image
	now := time.Now()
	for i, t := range targets {
		cache := newLayerCache(cacheDir, now, i == 0) // swept once a scan: the ages are days
		fs, err := readImage(t, newSecretScanner(), cache)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", t.label(), err)
		}
		pkgs, unread := inventory(fs)
		var notes []string
		if cache.evicted != "" {
			notes = append(notes, cache.evicted)
		}
		out = append(out, &Image{Name: t.name, Digest: t.digest, Platform: t.platform, Layers: fs.layers, CachedLayers: fs.cached,
			Packages: pkgs, Distro: osRelease(fs), Secrets: fs.secrets, Warnings: cache.warn, Notes: notes, Unread: unread, target: t})
	}
	return out, nil
}

// ReadImage reads an image input that holds one image (or an index of one platform).
func ReadImage(ctx context.Context, image, cacheDir string) (*Image, error) {
	imgs, err := ReadImages(ctx, image, nil, cacheDir)
	if err != nil {
		return nil, err
	}
	if len(imgs) != 1 {
		return nil, fmt.Errorf("%s holds %d platform images, not one", image, len(imgs))
	}
	return imgs[0], nil
}

// target is the image a scan reads, and the names its reports use.
type target struct {
	img      v1.Image
	name     string // repository name, or the file's name: what the reports are named after
	ref      string // what the user gave
	digest   string // the manifest digest, when known
	platform string // os/arch[/variant], from the index or else the image's config; "" when neither says
	id       string // the image ID (config digest), for a tarball
	// stored says, per layer, that the source holds it uncompressed (docker save's layer.tar): read it as
	// it is rather than have it gzipped on the fly.
	stored []bool
}

// label names the target in messages: the input, and its platform when it came from an index.
func (t *target) label() string {
	if t.platform == "" {
		return t.ref
	}
	return t.ref + " (" + t.platform + ")"
}

// openImages reads the image input: an OCI layout directory, a docker-save (or OCI) tarball, or a registry
// reference by digest; one target per platform image it holds, or per platform of want (nil: all). A platform
// wanted and not held is an error naming the ones held.
func openImages(ctx context.Context, image string, want []string) ([]*target, error) {
	if info, err := os.Stat(image); err == nil {
		base := strings.TrimSuffix(filepath.Base(filepath.Clean(image)), filepath.Ext(image))
		if info.IsDir() {
			idx, err := layout.ImageIndexFromPath(image)
			if err != nil {
				return nil, fmt.Errorf(`input "image": %s is a directory but not an OCI layout: %w`, image, err)
			}
			var c platformImages
			if err := registry.WalkIndex(idx, c.visit); err != nil {
				return nil, fmt.Errorf(`input "image": %s: %w`, image, err)
			}
			return c.targets(target{name: base, ref: image}, want)
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
		return single(&target{img: img, name: base, ref: image, id: id, stored: stored}, want)
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
	if desc.MediaType.IsIndex() {
		var c platformImages
		if err := registry.Walk(d.Context(), desc, c.visit); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		return c.targets(target{name: repoName(d), ref: image, digest: d.DigestStr()}, want)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	return single(&target{img: img, name: repoName(d), ref: image, digest: d.DigestStr()}, want)
}

// single is the one target of an input that is an image, not an index: its platform is its config's, and a
// platform wanted must be that one.
func single(t *target, want []string) ([]*target, error) {
	if p, err := registry.ConfigPlatform(t.img); err == nil {
		t.platform = registry.PlatformString(p)
	}
	for _, w := range want {
		if !samePlatform(w, t.platform) {
			return nil, fmt.Errorf(`input "platforms": %s is one image for %s, not for %s`, t.ref, orUnknown(t.platform), w)
		}
	}
	return []*target{t}, nil
}

func orUnknown(platform string) string {
	if platform == "" {
		return "an unnamed platform"
	}
	return platform
}

// samePlatform compares os/arch[/variant] as containerd does for arm64, whose default variant is v8: official
// images list linux/arm64/v8, users write linux/arm64.
func samePlatform(a, b string) bool {
	norm := func(p string) string {
		if rest, ok := strings.CutSuffix(p, "/arm64/v8"); ok {
			return rest + "/arm64"
		}
		return p
	}
	return norm(a) == norm(b)
}

func repoName(d name.Digest) string {
	r := d.Context().RepositoryStr()
	return r[strings.LastIndex(r, "/")+1:]
}

// platformImages collects the platform images of an index (nested indexes followed); attestation manifests are
// not platforms.
type platformImages struct{ nodes []*registry.Node }

func (c *platformImages) visit(n *registry.Node) error {
	if !n.IsIndex() && !n.IsAttestation() {
		c.nodes = append(c.nodes, n)
	}
	return nil
}

// targets are the images collected, or those of the platforms wanted, each a copy of base with its image,
// digest and platform (the index's, or else the image config's).
func (c *platformImages) targets(base target, want []string) ([]*target, error) {
	var all []*target
	var held []string
	for _, n := range c.nodes {
		img, err := n.Image()
		if err != nil {
			return nil, err
		}
		t := base
		t.img, t.digest, t.platform = img, n.Descriptor.Digest.String(), n.Platform()
		if t.platform == "" {
			if p, err := registry.ConfigPlatform(img); err == nil {
				t.platform = registry.PlatformString(p)
			}
		}
		all = append(all, &t)
		held = append(held, orUnknown(t.platform))
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s holds no image", base.ref)
	}
	if len(want) == 0 {
		return all, nil
	}
	var out []*target
	for _, w := range want {
		i := slices.IndexFunc(all, func(t *target) bool { return samePlatform(t.platform, w) })
		if i < 0 {
			return nil, fmt.Errorf(`input "platforms": %s holds no %s image (it holds %s)`, base.ref, w, strings.Join(held, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
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
