package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

// Verified is what verification found for one manifest.
type Verified struct {
	Digest       name.Digest
	Signatures   []string // where the valid signatures are
	Attestations []string // the predicate types of the valid attestations (of the image, not its platforms)
}

// Evidence is what the registry holds about one manifest, in both storages: the layers of its .sig image (and,
// for the image itself, of its .att image) and the sigstore bundles that refer to it.
type Evidence struct {
	Digest       name.Digest
	signatures   []entry
	attestations []entry
	bundles      []referrer
}

// ReadEvidence reads what signs d; with attestations, what attests it too.
func ReadEvidence(ctx context.Context, d name.Digest, attestations bool) (*Evidence, error) {
	ev := &Evidence{Digest: d}
	var err error
	if ev.signatures, err = readEntries(ctx, tagFor(d, ".sig")); err != nil {
		return nil, err
	}
	if ev.bundles, err = readReferrers(ctx, d); err != nil {
		return nil, err
	}
	if attestations {
		if ev.attestations, err = readEntries(ctx, tagFor(d, ".att")); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// VerifyImage checks every manifest Plan lists for d (the index and, recursively, its platforms): each needs a
// signature that satisfies p over a payload naming exactly its digest, and every attestation of d must verify.
// The first result is d's.
func VerifyImage(ctx context.Context, d name.Digest, p *Policy, recursive bool) ([]Verified, error) {
	targets, err := Plan(ctx, d, recursive)
	if err != nil {
		return nil, err
	}
	var out []Verified
	var image *Evidence
	for i, t := range targets {
		ev, err := ReadEvidence(ctx, t, i == 0)
		if err != nil {
			return nil, err
		}
		v, err := VerifySignatures(ev, p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if i == 0 {
			image = ev
		}
	}
	if out[0].Attestations, err = VerifyAttestations(image, p); err != nil {
		return nil, err
	}
	return out, nil
}

// VerifySignatures finds the signatures of the evidence that satisfy p, classic ones and bundles alike. None at
// all, or none valid, is an error that says why each one failed.
func VerifySignatures(ev *Evidence, p *Policy) (Verified, error) {
	t := ev.Digest
	res := Verified{Digest: t}
	var why []string
	found := len(ev.signatures)
	tag := tagFor(t, ".sig")
	for _, e := range ev.signatures {
		if err := p.verifyEntry(e, t); err != nil {
			why = append(why, err.Error())
			continue
		}
		if named, err := signedDigest(e.payload); err != nil || named != t.DigestStr() {
			why = append(why, fmt.Sprintf("a signed payload names %s, not this digest", named))
			continue
		}
		res.Signatures = append(res.Signatures, tag.String())
	}
	for _, r := range ev.bundles {
		if r.predicateType != cosignSignPredicate {
			continue
		}
		found++
		if err := p.verifyBundle(r.bundle, nil, t.DigestStr()); err != nil {
			why = append(why, fmt.Sprintf("bundle %s: %v", r.ref.DigestStr(), err))
			continue
		}
		res.Signatures = append(res.Signatures, r.ref.String())
	}
	if found == 0 {
		return res, fmt.Errorf("%s has no signature (no tag %s, no sigstore bundle among its referrers)", t, tag.TagStr())
	}
	if len(res.Signatures) == 0 {
		return res, fmt.Errorf("%s: no valid signature: %s", t, strings.Join(why, "; "))
	}
	return res, nil
}

// VerifyAttestations checks every attestation of the evidence, classic and bundle, against p and its subject,
// and returns their predicate types. Any one that fails is an error: an attestation is never skipped.
func VerifyAttestations(ev *Evidence, p *Policy) ([]string, error) {
	d := ev.Digest
	var types []string
	for _, e := range ev.attestations {
		if err := p.verifyEntry(e, d); err != nil {
			return nil, fmt.Errorf("%s: an attestation (%s): %w", d, e.annotations[predicateAnnotation], err)
		}
		st, err := readStatement(statementOf(e))
		if err != nil || len(st.GetSubject()) == 0 || "sha256:"+st.GetSubject()[0].GetDigest()["sha256"] != d.DigestStr() {
			return nil, fmt.Errorf("%s: an attestation (%s) is about another subject", d, e.annotations[predicateAnnotation])
		}
		types = append(types, st.GetPredicateType())
	}
	for _, r := range ev.bundles {
		if r.predicateType == cosignSignPredicate {
			continue
		}
		if err := p.verifyBundle(r.bundle, nil, d.DigestStr()); err != nil {
			return nil, fmt.Errorf("%s: an attestation (%s, %s): %w", d, r.predicateType, r.ref.DigestStr(), err)
		}
		types = append(types, r.predicateType)
	}
	return types, nil
}

// how says what the policy checks, for the summary.
func (p *Policy) how() string {
	switch {
	case p.key == nil:
		return "Keyless: the certificate's identity and chain, and each signature's Rekor entry"
	case p.logged():
		return "With the key: each signature, and its Rekor entry"
	}
	return "With the key: each signature; Rekor entries not required (insecure-ignore-tlog)"
}

// verifyEntry checks one classic signature or attestation: with the key (and, unless the log is ignored, its
// Rekor entry, as cosign verify --key checks it), or keyless, its certificate and Rekor entry against the trusted
// root and the identity.
func (p *Policy) verifyEntry(e entry, d name.Digest) error {
	var artifact []byte
	if e.mediaType != dsseMediaType {
		artifact = e.payload
	}
	if e.annotations[certAnnotation] != "" {
		if p.key != nil {
			return errors.New("a keyless signature (verify it with certificate-identity, not a key)")
		}
		b, err := bundleOfEntry(e)
		if err != nil {
			return err
		}
		return p.verifyBundle(b, artifact, d.DigestStr())
	}
	if p.key == nil {
		return errors.New("a signature made with a key (verify it with public-key)")
	}
	if !verifiesWith(p.key, e) {
		return errors.New("a signature does not verify with the key (another key, or a changed payload)")
	}
	if !p.logged() {
		return nil
	}
	if e.annotations[bundleAnnotation] == "" {
		return errNoRekorEntry
	}
	b, err := bundleOfEntry(e)
	if err != nil {
		return err
	}
	if err := p.verifyBundle(b, artifact, d.DigestStr()); err != nil {
		return fmt.Errorf("its Rekor entry does not hold: %w", err)
	}
	return nil
}

// verifiesWith reports whether an entry is signed by the verifier's key: a simple signing layer, or a DSSE
// envelope.
func verifiesWith(v signature.Verifier, e entry) bool {
	if e.mediaType == dsseMediaType {
		return dsse.WrapVerifier(v).VerifySignature(bytes.NewReader(e.payload), nil) == nil
	}
	sig, err := base64.StdEncoding.DecodeString(e.annotations[sigAnnotation])
	return err == nil && v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(e.payload)) == nil
}
