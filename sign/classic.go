package sign

import (
	"bytes"
	"context"
	"encoding/base64"

	"github.com/google/go-containerregistry/pkg/name"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

// tagStorage is cosign's classic layout: a simple signing payload per signature in the digest's .sig image, a
// DSSE envelope per attestation in its .att image (see appendEntry). Keyless, the certificate and Rekor entry
// go in the layer's annotations, as cosign writes them.
type tagStorage struct{ c *Credentials }

// Sign adds a signature of d's simple signing payload to its .sig image, unless this key signed it already.
func (s *tagStorage) Sign(ctx context.Context, d name.Digest) (string, error) {
	payload, err := simpleSigningPayload(d)
	if err != nil {
		return "", err
	}
	e := entry{payload: payload, mediaType: simpleSigningMediaType}
	if e.annotations, err = s.signatureAnnotations(ctx, payload); err != nil {
		return "", err
	}
	same := func(c entry) bool { return bytes.Equal(c.payload, payload) && s.c.signedByUs(c) }
	tag := tagFor(d, ".sig")
	return tag.String(), appendEntry(ctx, tag, e, same, settle)
}

// signatureAnnotations sign a payload: the base64 signature and, keyless, the certificate and Rekor bundle.
func (s *tagStorage) signatureAnnotations(ctx context.Context, payload []byte) (map[string]string, error) {
	if s.c.key != nil {
		sig, err := s.c.key.SignMessage(bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		return map[string]string{sigAnnotation: base64.StdEncoding.EncodeToString(sig)}, nil
	}
	b, err := s.c.bundler.bundle(ctx, &sgsign.PlainData{Data: payload})
	if err != nil {
		return nil, err
	}
	annotations, err := classicAnnotations(b)
	if err != nil {
		return nil, err
	}
	annotations[sigAnnotation] = base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
	return annotations, nil
}

// Attest adds a DSSE envelope of the statement to d's .att image, with the predicateType annotation cosign's
// verify-attestation --type reads, unless this key attested the same already.
func (s *tagStorage) Attest(ctx context.Context, d name.Digest, p Predicate) (string, error) {
	stmt, err := attestationStatement(d, p)
	if err != nil {
		return "", err
	}
	e, err := s.envelope(ctx, stmt)
	if err != nil {
		return "", err
	}
	e.annotations[predicateAnnotation], e.annotations[sigAnnotation] = p.Type, ""
	same := func(c entry) bool {
		return c.annotations[predicateAnnotation] == p.Type && sameStatement(statementOf(c), stmt) && s.c.signedByUs(c)
	}
	tag := tagFor(d, ".att")
	return tag.String(), appendEntry(ctx, tag, e, same, settle)
}

// envelope signs a statement into a DSSE envelope: with the key here, or keyless through sigstore-go.
func (s *tagStorage) envelope(ctx context.Context, stmt []byte) (entry, error) {
	e := entry{mediaType: dsseMediaType, annotations: map[string]string{}}
	var err error
	if s.c.key != nil {
		e.payload, err = dsse.WrapSigner(s.c.key, inTotoPayloadType).SignMessage(bytes.NewReader(stmt))
		return e, err
	}
	b, err := s.c.bundler.bundle(ctx, &sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType})
	if err != nil {
		return entry{}, err
	}
	if e.payload, err = envelopeJSON(b); err != nil {
		return entry{}, err
	}
	e.annotations, err = classicAnnotations(b)
	return e, err
}
