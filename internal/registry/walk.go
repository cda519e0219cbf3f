package registry

import (
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// SkipChildren, returned by a visit of an index, walks on without reading what that index lists.
var SkipChildren = errors.New("skip this index's children")

// Node is one manifest of an image graph: the root the walk started from, or a manifest an index lists.
// Its manifest is read when Image or ImageIndex asks for it, once; a walk reads only the indexes it descends.
type Node struct {
	// Descriptor is how the manifest is known: as its parent index lists it (platform, annotations), or for
	// the root as the registry served it.
	Descriptor v1.Descriptor
	// Parent is the index that lists this manifest; nil for the root.
	Parent *Node

	repo   *name.Repository // where it is, when the walk started from a registry
	open   func() (v1.Image, v1.ImageIndex, error)
	opened bool
	img    v1.Image
	idx    v1.ImageIndex
	err    error
}

// Ref is the manifest by digest in its repository; the zero name.Digest when the walk did not start from a
// registry (WalkIndex).
func (n *Node) Ref() name.Digest {
	if n.repo == nil {
		return name.Digest{}
	}
	return n.repo.Digest(n.Descriptor.Digest.String())
}

// String names the manifest: repository@digest, or the digest alone.
func (n *Node) String() string {
	if n.repo == nil {
		return n.Descriptor.Digest.String()
	}
	return n.Ref().String()
}

// IsIndex tells an index (or manifest list) from an image.
func (n *Node) IsIndex() bool { return n.Descriptor.MediaType.IsIndex() }

// IsAttestation tells buildx's attestation manifests from the platform images an index lists.
func (n *Node) IsAttestation() bool { return n.Parent != nil && IsAttestationManifest(n.Descriptor) }

// Platform is the platform the parent index lists the manifest for, as os/arch[/variant]; "" when it lists none.
func (n *Node) Platform() string { return PlatformString(n.Descriptor.Platform) }

// Image reads the manifest as an image (a read, for a manifest a remote index lists).
func (n *Node) Image() (v1.Image, error) {
	n.read()
	if n.err == nil && n.img == nil {
		return nil, fmt.Errorf("%s is an index, not an image", n)
	}
	return n.img, n.err
}

// ImageIndex reads the manifest as an index.
func (n *Node) ImageIndex() (v1.ImageIndex, error) {
	n.read()
	if n.err == nil && n.idx == nil {
		return nil, fmt.Errorf("%s is an image, not an index", n)
	}
	return n.idx, n.err
}

func (n *Node) read() {
	if !n.opened {
		n.img, n.idx, n.err = n.open()
		n.opened = true
	}
}

// Walk visits root, a manifest of repo read with remote.Get, then, when it is an index, every manifest below
// it: depth first, each index before what it lists. An index whose visit returns SkipChildren is not descended; any other error from visit stops the walk and is returned as it is. A nested index that
// cannot be read stops the walk with an error naming it.
func Walk(repo name.Repository, root *remote.Descriptor, visit func(*Node) error) error {
	n := &Node{Descriptor: root.Descriptor, repo: &repo, open: func() (v1.Image, v1.ImageIndex, error) {
		if root.MediaType.IsIndex() {
			idx, err := root.ImageIndex()
			return nil, idx, err
		}
		img, err := root.Image()
		return img, nil, err
	}}
	return walk(n, visit)
}

// WalkIndex walks an index already opened (an OCI layout's, one built in memory) as Walk walks a registry's:
// the index itself is the root.
func WalkIndex(idx v1.ImageIndex, visit func(*Node) error) error {
	desc, err := partial.Descriptor(idx)
	if err != nil {
		return err
	}
	n := &Node{Descriptor: *desc, open: func() (v1.Image, v1.ImageIndex, error) { return nil, idx, nil }}
	return walk(n, visit)
}

func walk(n *Node, visit func(*Node) error) error {
	if err := visit(n); errors.Is(err, SkipChildren) {
		return nil
	} else if err != nil {
		return err
	}
	if !n.IsIndex() {
		return nil
	}
	idx, err := n.ImageIndex()
	if err != nil {
		return fmt.Errorf("reading %s: %w", n, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, m := range im.Manifests {
		c := &Node{Descriptor: m, Parent: n, repo: n.repo}
		c.open = func() (v1.Image, v1.ImageIndex, error) {
			if m.MediaType.IsIndex() {
				child, err := idx.ImageIndex(m.Digest)
				return nil, child, err
			}
			img, err := idx.Image(m.Digest)
			return img, nil, err
		}
		if err := walk(c, visit); err != nil {
			return err
		}
	}
	return nil
}

// PlatformString writes a platform as os/arch[/variant]; "" for none.
func PlatformString(p *v1.Platform) string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// ConfigPlatform is the platform an image's config says it is for: what a single-platform image, listed in
// no index, has instead of an index's platform field.
func ConfigPlatform(img v1.Image) (*v1.Platform, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}, nil
}
