package cleanup

import (
	"context"
	"errors"
	"fmt"
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
	opts := registry.Options(ctx)
	var visit func(digest string, v *Version, listed bool) error
	visit = func(digest string, v *Version, listed bool) error {
		if g.Nodes[digest] != nil || g.Missing[digest] {
			return nil
		}
		desc, err := remote.Get(b.Repository().Digest(digest), opts...)
		var te *transport.Error
		if !listed && errors.As(err, &te) && te.StatusCode == 404 {
			g.Missing[digest] = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading manifest %s of %s: %w (nothing is deleted from an incomplete graph)", digest, b.Repository(), err)
		}
		n := &Node{Digest: digest, Kind: KindImage}
		if v != nil {
			n.ID, n.Tags, n.Created, n.Public, n.Downloads = v.ID, v.Tags, v.Created, v.Public, v.Downloads
		}
		g.Nodes[digest] = n
		for _, t := range n.Tags {
			if subject, kind, ok := subjectOfTag(t); ok {
				n.Kind, n.Subject = kind, subject
			}
		}
		if desc.MediaType.IsIndex() {
			idx, err := desc.ImageIndex()
			if err != nil {
				return err
			}
			im, err := idx.IndexManifest()
			if err != nil {
				return err
			}
			if n.Subject == "" {
				n.Kind = KindIndex
			}
			if im.Subject != nil {
				n.Subject, n.Kind = im.Subject.Digest.String(), KindReferrer
			}
			for _, m := range im.Manifests {
				n.Children = append(n.Children, m.Digest.String())
				if err := visit(m.Digest.String(), versionOf(versions, m.Digest.String()), false); err != nil {
					return err
				}
				if c := g.Nodes[m.Digest.String()]; c != nil && registry.IsAttestationManifest(m) {
					c.Kind = KindBuildxAtt
				}
			}
		} else {
			img, err := desc.Image()
			if err != nil {
				return err
			}
			m, err := img.Manifest()
			if err != nil {
				return err
			}
			if m.Subject != nil {
				n.Subject = m.Subject.Digest.String()
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
		}
		if n.Created.IsZero() {
			n.Created = createdFromAnnotations(desc)
		}
		return nil
	}
	for i := range versions {
		if err := visit(versions[i].Digest, &versions[i], true); err != nil {
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

func versionOf(versions []Version, digest string) *Version {
	for i := range versions {
		if versions[i].Digest == digest {
			return &versions[i]
		}
	}
	return nil
}

func createdFromAnnotations(desc *remote.Descriptor) time.Time {
	var m struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := jsonUnmarshal(desc.Manifest, &m); err == nil {
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
