package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// cosign's classic storage: signatures and attestations as images tagged sha256-<hex>.sig / .att in the
// image's own repository, one layer per signature, the signature in a layer annotation.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseMediaType          = "application/vnd.dsse.envelope.v1+json"
	sigAnnotation          = "dev.cosignproject.cosign/signature"
	predicateAnnotation    = "predicateType"
)

// settle is the shortest wait before a writer reads a signature tag back (see appendEntry).
const settle = 25 * time.Millisecond

// tagFor is the tag cosign stores a digest's signatures (".sig") or attestations (".att") under.
func tagFor(d name.Digest, suffix string) name.Tag {
	h, _ := v1.NewHash(d.DigestStr())
	return d.Context().Tag(h.Algorithm + "-" + h.Hex + suffix)
}

// entry is one signature or attestation: a layer's content and annotations.
type entry struct {
	payload     []byte
	mediaType   types.MediaType
	annotations map[string]string
}

func (e entry) key() string {
	sum := sha256.Sum256(e.payload)
	return hex.EncodeToString(sum[:]) + "|" + e.annotations[sigAnnotation] + "|" + e.annotations[predicateAnnotation]
}

// readEntries reads the layers of the image at tag; a missing tag is no entries.
func readEntries(ctx context.Context, tag name.Tag) ([]entry, error) {
	img, err := remote.Image(tag, registry.Options(ctx)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == 404 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []entry
	for i, l := range layers {
		rc, err := l.Compressed() // cosign's layers are not compressed: the blob is the payload
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, entry{payload: data, mediaType: m.Layers[i].MediaType, annotations: m.Layers[i].Annotations})
	}
	return out, nil
}

func writeEntries(ctx context.Context, tag name.Tag, entries []entry) error {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var adds []mutate.Addendum
	for _, e := range entries {
		adds = append(adds, mutate.Addendum{Layer: static.NewLayer(e.payload, e.mediaType), Annotations: e.annotations})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return err
	}
	return remote.Write(tag, img, registry.Options(ctx)...)
}

// appendEntry adds an entry to the image at tag without duplicating it and without losing one that another
// signer wrote meanwhile. Registries have no compare-and-swap, so after pushing, the tag is read again, twice,
// after pauses of twice the read-push round trip just measured (at least minSettle), and the merge redone
// while this entry, or one seen before, is missing.
//
// ours recognises an entry that already says what the new one would say (the same payload signed by the same
// key: ECDSA signatures differ each time), so signing twice adds nothing. The entry is made (signed, and entered
// in Rekor) by build, only when the tag holds no such entry yet.
func appendEntry(ctx context.Context, tag name.Tag, build func() (entry, error), ours func(entry) bool, minSettle time.Duration) error {
	current, err := readEntries(ctx, tag)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(current, ours) {
		return nil
	}
	e, err := build()
	if err != nil {
		return err
	}
	seen := map[string]entry{e.key(): e}
	written, confirmed := false, 0
	settle := minSettle
	for attempt := 0; attempt < 10; attempt++ {
		start := time.Now()
		current, err := readEntries(ctx, tag)
		if err != nil {
			return err
		}
		has := map[string]bool{}
		for _, c := range current {
			has[c.key()] = true
			seen[c.key()] = c
			if !written && ours(c) { // already signed by this key: nothing to write
				delete(seen, e.key())
				has[e.key()] = true
			}
		}
		merged := current
		for k, c := range seen {
			if !has[k] {
				merged = append(merged, c)
			}
		}
		if len(merged) == len(current) { // nothing missing
			if !written || confirmed == 1 {
				return nil
			}
			confirmed++
		} else {
			if err := writeEntries(ctx, tag, merged); err != nil {
				return err
			}
			written, confirmed = true, 0
			settle = max(minSettle, 2*time.Since(start))
		}
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s keeps changing under concurrent writers; gave up merging", tag)
}

// childDigests lists the manifests an index reaches, nested indexes and their platforms included, not buildx's
// attestation manifests.
func childDigests(ctx context.Context, d name.Digest) ([]name.Digest, error) {
	desc, err := remote.Get(d, registry.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d, err)
	}
	var out []name.Digest
	err = registry.Walk(d.Context(), desc, func(n *registry.Node) error {
		switch {
		case n.Parent == nil:
			return nil
		case n.IsAttestation():
			return registry.SkipChildren
		}
		out = append(out, n.Ref())
		return nil
	})
	return out, err
}

func isTagged(ref string) bool { return !strings.Contains(ref, "@") }
