package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// cosign v3's storage: a sigstore bundle (v0.3) per signature or attestation, pushed as an OCI 1.1 referrer of
// the image (a manifest whose subject is the image). go-containerregistry keeps the sha256-<hex> fallback tag
// index on registries without the referrers API, as cosign does.
const (
	bundleMediaType     = "application/vnd.dev.sigstore.bundle.v0.3+json"
	emptyMediaType      = "application/vnd.oci.empty.v1+json"
	bundlePredicateAnno = "dev.sigstore.bundle.predicateType"
	bundleContentAnno   = "dev.sigstore.bundle.content"
)

// referrerStorage is cosign v3's layout: every signature and attestation a sigstore bundle whose DSSE envelope
// holds an in-toto statement about the manifest, pushed as a referrer of it.
type referrerStorage struct{ c *Credentials }

// Sign refers a bundle of cosign v3's signing statement to d.
func (s *referrerStorage) Sign(ctx context.Context, d name.Digest) (string, error) {
	stmt, err := signStatement(d)
	if err != nil {
		return "", err
	}
	return s.put(ctx, d, stmt, cosignSignPredicate)
}

// Attest refers a bundle of the attestation's statement to d.
func (s *referrerStorage) Attest(ctx context.Context, d name.Digest, p Predicate) (string, error) {
	stmt, err := attestationStatement(d, p)
	if err != nil {
		return "", err
	}
	return s.put(ctx, d, stmt, p.Type)
}

func (s *referrerStorage) put(ctx context.Context, d name.Digest, stmt []byte, predicateType string) (string, error) {
	b, err := s.c.bundler.bundle(ctx, &sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType})
	if err != nil {
		return "", err
	}
	ref, err := writeReferrer(ctx, d, b, predicateType)
	if err != nil {
		return "", err
	}
	return ref.String(), nil
}

// rawManifest is a manifest as bytes: a referrer (go-containerregistry's writer reads its subject and updates
// the fallback index) or a fallback index.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// writeReferrer pushes a bundle as a referrer of subject and returns the referrer's reference.
func writeReferrer(ctx context.Context, subject name.Digest, b *protobundle.Bundle, predicateType string) (name.Digest, error) {
	raw, err := protojson.Marshal(b)
	if err != nil {
		return name.Digest{}, err
	}
	opts := registry.Options(ctx)
	sub, err := remote.Head(subject, opts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("reading %s: %w", subject, err)
	}
	layer := static.NewLayer(raw, bundleMediaType)
	config := static.NewLayer([]byte("{}"), emptyMediaType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(subject.Context(), l, opts...); err != nil {
			return name.Digest{}, err
		}
	}
	descOf := func(l v1.Layer) v1.Descriptor {
		d, _ := l.Digest()
		sz, _ := l.Size()
		mt, _ := l.MediaType()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: sz}
	}
	content := "message-signature"
	if b.GetDsseEnvelope() != nil {
		content = "dsse-envelope"
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  bundleMediaType,
		Config:        descOf(config),
		Layers:        []v1.Descriptor{descOf(layer)},
		Subject:       &v1.Descriptor{MediaType: sub.MediaType, Digest: sub.Digest, Size: sub.Size},
		Annotations: map[string]string{
			"org.opencontainers.image.created": time.Now().UTC().Format(time.RFC3339),
			bundleContentAnno:                  content,
			bundlePredicateAnno:                predicateType,
		},
	}
	mraw, err := json.Marshal(m)
	if err != nil {
		return name.Digest{}, err
	}
	h, _, err := v1.SHA256(strings.NewReader(string(mraw)))
	if err != nil {
		return name.Digest{}, err
	}
	ref := subject.Context().Digest(h.String())
	if err := remote.Put(ref, rawManifest{mraw, types.OCIManifestSchema1}, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing the referrer of %s: %w", subject, err)
	}
	desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(mraw)), ArtifactType: bundleMediaType, Annotations: m.Annotations}
	if err := keepListed(ctx, subject, desc, settle); err != nil {
		return name.Digest{}, err
	}
	return ref, nil
}

// keepListed makes sure a referrer stays in its subject's sha256-<hex> fallback index on a registry without the
// referrers API: go-containerregistry updates that index by a plain read-modify-write, so a signer writing at
// the same moment can drop ours. As appendEntry does for .sig tags: read the index again, twice, after pauses of
// twice the read-write round trip, and add ours back while it is missing. A registry with the referrers API keeps
// no fallback index: nothing to do.
func keepListed(ctx context.Context, subject name.Digest, desc v1.Descriptor, minSettle time.Duration) error {
	tag := subject.Context().Tag(strings.Replace(subject.DigestStr(), ":", "-", 1))
	opts := registry.Options(ctx)
	settle, confirmed := minSettle, 0
	for attempt := 0; attempt < 10; attempt++ {
		start := time.Now()
		idx, err := remote.Index(tag, opts...)
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", tag, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		if slices.ContainsFunc(im.Manifests, func(d v1.Descriptor) bool { return d.Digest == desc.Digest }) {
			if confirmed == 1 {
				return nil
			}
			confirmed++
		} else {
			im.Manifests = append(im.Manifests, desc)
			sort.Slice(im.Manifests, func(i, j int) bool { return im.Manifests[i].Digest.String() < im.Manifests[j].Digest.String() })
			raw, err := json.Marshal(im)
			if err != nil {
				return err
			}
			if err := remote.Put(tag, rawManifest{raw, types.OCIImageIndex}, opts...); err != nil {
				return fmt.Errorf("restoring %s in %s: %w", desc.Digest, tag, err)
			}
			settle, confirmed = max(minSettle, 2*time.Since(start)), 0
		}
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s keeps changing under concurrent writers; gave up keeping %s in it", tag, desc.Digest)
}

// referrer is a sigstore bundle found among an image's referrers.
type referrer struct {
	ref           name.Digest
	predicateType string
	bundle        *bundle.Bundle
}

// readReferrers lists the sigstore bundles that refer to d (through the referrers API or its fallback tag).
func readReferrers(ctx context.Context, d name.Digest) ([]referrer, error) {
	opts := registry.Options(ctx)
	idx, err := remote.Referrers(d, opts...)
	if err != nil {
		return nil, fmt.Errorf("listing the referrers of %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []referrer
	for _, desc := range im.Manifests {
		// Some registries (go-containerregistry's own) list an artifact by its config's media type rather than
		// its artifactType: read those manifests too.
		if desc.ArtifactType != bundleMediaType && desc.ArtifactType != emptyMediaType {
			continue
		}
		ref := d.Context().Digest(desc.Digest.String())
		img, err := remote.Image(ref, opts...)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		if m.ArtifactType != bundleMediaType {
			continue
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			return nil, fmt.Errorf("%s: want one bundle layer (%v)", ref, err)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		var b bundle.Bundle
		if err := b.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%s: not a sigstore bundle: %w", ref, err)
		}
		out = append(out, referrer{ref: ref, predicateType: m.Annotations[bundlePredicateAnno], bundle: &b})
	}
	return out, nil
}
