package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// Version is one version of a package as its backend lists it.
type Version struct {
	Digest    string
	ID        int64
	Tags      []string
	Created   time.Time
	Public    bool
	Downloads int64
}

// Backend lists and deletes the versions of a package: GitHub Packages for ghcr.io, manifest DELETE for any
// other OCI registry.
type Backend interface {
	Versions(ctx context.Context) ([]Version, error)
	Delete(ctx context.Context, d Decision) error
	// DeleteDigest deletes a manifest the plan did not know (an untag's placeholder).
	DeleteDigest(ctx context.Context, digest string) error
	Repository() name.Repository
}

// ErrTooPopular is a public GHCR version with more than 5,000 downloads: only GitHub can delete it.
var ErrTooPopular = errors.New("a public version with more than 5,000 downloads: only GitHub Support can delete it")

// ociBackend is any registry that deletes manifests by digest (distribution, Harbor, ...). Its versions are
// what its tags point to; the rest is found by following indexes and referrers.
type ociBackend struct {
	repo name.Repository
	ctx  func(context.Context) []remote.Option
}

// NewOCI is the backend of a repository on an OCI registry.
func NewOCI(repo name.Repository) Backend { return &ociBackend{repo: repo, ctx: registry.Options} }

func (b *ociBackend) Repository() name.Repository { return b.repo }

func (b *ociBackend) Versions(ctx context.Context) ([]Version, error) {
	tags, err := remote.List(b.repo, b.ctx(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("listing the tags of %s: %w", b.repo, err)
	}
	byDigest := map[string]*Version{}
	for _, t := range tags {
		desc, err := remote.Head(b.repo.Tag(t), b.ctx(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("reading tag %s of %s: %w", t, b.repo, err)
		}
		d := desc.Digest.String()
		if byDigest[d] == nil {
			byDigest[d] = &Version{Digest: d}
		}
		byDigest[d].Tags = append(byDigest[d].Tags, t)
	}
	var out []Version
	for _, v := range byDigest {
		sort.Strings(v.Tags)
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out, nil
}

func (b *ociBackend) Delete(ctx context.Context, d Decision) error {
	return b.DeleteDigest(ctx, d.Digest)
}

func (b *ociBackend) DeleteDigest(ctx context.Context, digest string) error {
	return remote.Delete(b.repo.Digest(digest), b.ctx(ctx)...)
}

// BuildGraph reads the manifest of every version, follows indexes (nested too) and referrers, and classifies
// each manifest. Any manifest that cannot be read makes the whole graph fail: nothing is deleted from an
// incomplete picture. A manifest an index lists that the registry does not have is recorded as missing.
func BuildGraph(ctx context.Context, b Backend, versions []Version) (*Graph, error) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	repo := b.Repository()
	for i := range versions {
		v := &versions[i]
		if g.Nodes[v.Digest] != nil || g.Missing[v.Digest] {
			continue
		}
		desc, err := remote.Get(repo.Digest(v.Digest), registry.Options(ctx)...)
		if err != nil {
			return nil, unreadable(v.Digest, repo, err)
		}
		err = registry.Walk(repo, desc, func(m *registry.Node) error {
			if m.Parent == nil {
				return g.add(m, v)
			}
			return g.addListed(m, versions, repo)
		})
		if err != nil {
			return nil, err
		}
	}
	// An index's age is its newest child's when the registry gives it none.
	for _, n := range g.Nodes {
		if n.Kind == KindIndex && n.Created.IsZero() {
			for _, c := range n.Children {
				if cn := g.Nodes[c]; cn != nil && cn.Created.After(n.Created) {
					n.Created = cn.Created
				}
			}
		}
	}
	return g, nil
}

func unreadable(digest string, repo name.Repository, err error) error {
	return fmt.Errorf("reading manifest %s of %s: %w (nothing is deleted from an incomplete graph)", digest, repo, err)
}

// addListed adds a manifest an index lists, once however many indexes list it; one the registry does not have
// is missing, not an error. buildx's attestation manifests are known by how an index lists them.
func (g *Graph) addListed(m *registry.Node, versions []Version, repo name.Repository) error {
	d := m.Descriptor.Digest.String()
	defer func() {
		if c := g.Nodes[d]; c != nil && m.IsAttestation() {
			c.Kind = KindBuildxAtt
		}
	}()
	if g.Nodes[d] != nil || g.Missing[d] {
		return registry.SkipChildren
	}
	var err error
	if m.IsIndex() {
		_, err = m.ImageIndex()
	} else {
		_, err = m.Image()
	}
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		g.Missing[d] = true
		return registry.SkipChildren
	}
	if err != nil {
		return unreadable(d, repo, err)
	}
	return g.add(m, versionOf(versions, d))
}

// add classifies a manifest read by the walk: an index, an image, or a referrer of another manifest (by its
// cosign tag or its OCI 1.1 subject), with its age.
func (g *Graph) add(m *registry.Node, v *Version) error {
	n := &Node{Digest: m.Descriptor.Digest.String(), Kind: KindImage}
	if v != nil {
		n.ID, n.Tags, n.Created, n.Public, n.Downloads = v.ID, v.Tags, v.Created, v.Public, v.Downloads
	}
	g.Nodes[n.Digest] = n
	for _, t := range n.Tags {
		if subject, kind, ok := subjectOfTag(t); ok {
			n.Kind, n.Subject = kind, subject
		}
	}
	var raw []byte
	var err error
	if m.IsIndex() {
		raw, err = n.fromIndex(m)
	} else {
		raw, err = n.fromImage(m)
	}
	if err != nil {
		return err
	}
	if n.Created.IsZero() {
		n.Created = createdFromAnnotations(raw)
	}
	return nil
}

// fromIndex reads an index's children and subject; it returns the raw manifest.
func (n *Node) fromIndex(m *registry.Node) ([]byte, error) {
	idx, err := m.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if n.Subject == "" {
		n.Kind = KindIndex
	}
	if im.Subject != nil {
		n.Subject, n.Kind = im.Subject.Digest.String(), KindReferrer
	}
	for _, c := range im.Manifests {
		n.Children = append(n.Children, c.Digest.String())
	}
	return idx.RawManifest()
}

// fromImage reads an image's subject and, when the version says nothing, when it was built; it returns the raw
// manifest.
func (n *Node) fromImage(m *registry.Node) ([]byte, error) {
	img, err := m.Image()
	if err != nil {
		return nil, err
	}
	mf, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if mf.Subject != nil {
		n.Subject = mf.Subject.Digest.String()
		if n.Kind == KindImage {
			n.Kind = KindReferrer
		}
	}
	if n.Created.IsZero() {
		if cf, err := img.ConfigFile(); err == nil {
			n.Created = cf.Created.Time
			// A rebuild whose layers all came from the cache keeps BuildKit's earlier created time; the
			// build's org.opencontainers.image.created label says when it was built.
			if t, err := time.Parse(time.RFC3339, cf.Config.Labels["org.opencontainers.image.created"]); err == nil && t.After(n.Created) {
				n.Created = t
			}
		}
	}
	return img.RawManifest()
}

func versionOf(versions []Version, digest string) *Version {
	for i := range versions {
		if versions[i].Digest == digest {
			return &versions[i]
		}
	}
	return nil
}

func createdFromAnnotations(raw []byte) time.Time {
	var m struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := jsonUnmarshal(raw, &m); err == nil {
		if t, err := time.Parse(time.RFC3339, m.Annotations["org.opencontainers.image.created"]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// sameVersions reports whether two listings name the same digests with the same tags.
func sameVersions(a, b []Version) bool {
	key := func(vs []Version) string {
		var parts []string
		for _, v := range vs {
			tags := append([]string{}, v.Tags...)
			sort.Strings(tags)
			parts = append(parts, v.Digest+"="+strings.Join(tags, ","))
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	}
	return key(a) == key(b)
}
