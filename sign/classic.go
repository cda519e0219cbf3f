package sign

import (
	"bytes"
	"context"
	"encoding/base64"

	"github.com/google/go-containerregistry/pkg/name"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
)

// tagStorage is cosign's classic layout: a simple signing payload per signature in the digest's .sig image, a
// DSSE envelope per attestation in its .att image (see appendEntry). The Rekor entry (and, keyless, the
// certificate) go in the layer's annotations, as cosign writes them.
type tagStorage struct{ c *Credentials }

// Sign adds a signature of d's simple signing payload to its .sig image, unless this key signed it already.
func (s *tagStorage) Sign(ctx context.Context, d name.Digest) (string, error) {
	payload, err := simpleSigningPayload(d)
	if err != nil {
		return "", err
	}
	sign := func() (entry, error) {
		b, err := s.c.bundler.bundle(ctx, &sgsign.PlainData{Data: payload})
		if err != nil {
			return entry{}, err
		}
		annotations, err := classicAnnotations(b)
		if err != nil {
			return entry{}, err
		}
		annotations[sigAnnotation] = base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
		return entry{payload: payload, mediaType: simpleSigningMediaType, annotations: annotations}, nil
	}
	same := func(c entry) bool { return bytes.Equal(c.payload, payload) && s.c.signedByUs(c) }
	tag := tagFor(d, ".sig")
	return tag.String(), appendEntry(ctx, tag, sign, same, settle)
}

// Attest adds a DSSE envelope of the statement to d's .att image, with the predicateType annotation cosign's
// verify-attestation --type reads, unless this key attested the same already.
func (s *tagStorage) Attest(ctx context.Context, d name.Digest, p Predicate) (string, error) {
	stmt, err := attestationStatement(d, p)
	if err != nil {
		return "", err
	}
	attest := func() (entry, error) {
		b, err := s.c.bundler.bundle(ctx, &sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType})
		if err != nil {
			return entry{}, err
		}
		e := entry{mediaType: dsseMediaType}
		if e.payload, err = envelopeJSON(b); err != nil {
			return entry{}, err
		}
		if e.annotations, err = classicAnnotations(b); err != nil {
			return entry{}, err
		}
		e.annotations[predicateAnnotation], e.annotations[sigAnnotation] = p.Type, ""
		return e, nil
	}
	same := func(c entry) bool {
		return c.annotations[predicateAnnotation] == p.Type && sameStatement(statementOf(c), stmt) && s.c.signedByUs(c)
	}
	tag := tagFor(d, ".att")
	return tag.String(), appendEntry(ctx, tag, attest, same, settle)
}
