package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// settle is the shortest wait before a writer reads a signature tag back (see appendEntry).
const settle = 25 * time.Millisecond

// publicVerifier is the verifier of a signer's own public key.
func publicVerifier(s signature.Signer) (signature.Verifier, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
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

// statementOf is the in-toto statement inside a DSSE envelope.
func statementOf(e entry) []byte {
	var env struct {
		Payload string `json:"payload"`
	}
	json.Unmarshal(e.payload, &env)
	raw, _ := base64.StdEncoding.DecodeString(env.Payload)
	return raw
}

// Run signs (or, with verify: true, verifies) the image.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	d, err := imageDigest(in.Image)
	if err != nil {
		return err
	}
	if in.Verify {
		return runVerify(ctx, s, in, d)
	}
	switch {
	case in.Keyless:
		return errors.New(`keyless signing is not built yet: sign with inputs "key" and "key-password"`)
	case in.Storage == "referrers":
		return errors.New(`storage "referrers" is not built yet: use the default "tag"`)
	case in.Key == "":
		return errors.New(`input "key" is required for key-based signing (cosign's key file contents, from a secret)`)
	}
	signer, err := loadSigner(in.Key, in.KeyPassword)
	if err != nil {
		return err
	}
	targets := []name.Digest{d}
	if in.Recursive {
		children, err := childDigests(ctx, d)
		if err != nil {
			return err
		}
		targets = append(targets, children...)
	}
	verifier, err := publicVerifier(signer)
	if err != nil {
		return err
	}
	sigs := make([]string, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() { // each manifest's .sig is its own tag: sign them at once
			defer wg.Done()
			payload := payloadFor(t)
			sig, err := signer.SignMessage(bytes.NewReader(payload))
			if err != nil {
				errs[i] = err
				return
			}
			e := entry{payload: payload, mediaType: simpleSigningMediaType,
				annotations: map[string]string{sigAnnotation: base64.StdEncoding.EncodeToString(sig)}}
			same := func(c entry) bool { return bytes.Equal(c.payload, payload) && verifiesWith(verifier, c) }
			tag := tagFor(t, ".sig")
			if err := appendEntry(ctx, tag, e, same, settle); err != nil {
				errs[i] = fmt.Errorf("signing %s: %w", t, err)
			}
			sigs[i] = tag.String()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	var atts []string
	type predicate struct {
		typ string
		doc any
	}
	var preds []predicate
	if in.AttestSBOM != "" {
		sboms, err := sbomPredicates(in.AttestSBOM)
		if err != nil {
			return err
		}
		for _, sb := range sboms {
			preds = append(preds, predicate{sb.predicateType, sb.doc})
		}
	}
	if in.AttestProvenance {
		preds = append(preds, predicate{slsaProvenanceV1, provenance(s.Action.Getenv)})
	}
	wrapped := dsse.WrapSigner(signer, inTotoPayloadType)
	for _, p := range preds {
		stmt, err := newStatement(d, p.typ, p.doc)
		if err != nil {
			return err
		}
		envelope, err := wrapped.SignMessage(bytes.NewReader(stmt))
		if err != nil {
			return err
		}
		e := entry{payload: envelope, mediaType: dsseMediaType,
			annotations: map[string]string{predicateAnnotation: p.typ, sigAnnotation: ""}}
		same := func(c entry) bool {
			return c.annotations[predicateAnnotation] == p.typ && bytes.Equal(statementOf(c), stmt) && verifiesWith(verifier, c)
		}
		tag := tagFor(d, ".att")
		if err := appendEntry(ctx, tag, e, same, settle); err != nil {
			return fmt.Errorf("attesting %s: %w", d, err)
		}
		atts = append(atts, tag.String()+" ("+p.typ+")")
	}
	if err := s.SetOutput("signatures", strings.Join(sigs, "\n")); err != nil {
		return err
	}
	if err := s.SetOutput("attestations", strings.Join(atts, "\n")); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Signed `%s`\n\n| manifest | signature |\n| --- | --- |\n", d)
	for i, t := range targets {
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", t.DigestStr(), sigs[i])
	}
	for _, a := range atts {
		fmt.Fprintf(&b, "\nAttestation: `%s`\n", a)
	}
	return s.Summary(b.String())
}

// imageDigest refuses a tag: a signature must name what was built, not what a tag points to now.
func imageDigest(image string) (name.Digest, error) {
	if isTagged(image) {
		return name.Digest{}, fmt.Errorf(`input "image": %q names a tag, which can move; sign by digest: image: ${{ steps.build.outputs.image }} (name@sha256:...)`, image)
	}
	d, err := registry.Digest(image)
	if err != nil {
		return name.Digest{}, fmt.Errorf(`input "image": %w`, err)
	}
	return d, nil
}

// verified is what verification found for one manifest.
type verified struct {
	digest       name.Digest
	signatures   int
	attestations []string
}

// verifyImage checks that each manifest (the index and, recursively, its platforms) has a signature by the key
// over a payload naming exactly that digest, and that every attestation of the image verifies.
func verifyImage(ctx context.Context, d name.Digest, v signature.Verifier, recursive bool) ([]verified, error) {
	targets := []name.Digest{d}
	if recursive {
		children, err := childDigests(ctx, d)
		if err != nil {
			return nil, err
		}
		targets = append(targets, children...)
	}
	var out []verified
	for _, t := range targets {
		entries, err := readEntries(ctx, tagFor(t, ".sig"))
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			return nil, fmt.Errorf("%s has no signature (no tag %s)", t, tagFor(t, ".sig").TagStr())
		}
		res := verified{digest: t}
		var why []string
		for _, e := range entries {
			if !verifiesWith(v, e) {
				why = append(why, "a signature does not verify with the key (another key, or a changed payload)")
				continue
			}
			var p struct {
				Critical struct {
					Image struct {
						Digest string `json:"docker-manifest-digest"`
					} `json:"image"`
				} `json:"critical"`
			}
			if err := json.Unmarshal(e.payload, &p); err != nil || p.Critical.Image.Digest != t.DigestStr() {
				why = append(why, fmt.Sprintf("a signed payload names %s, not this digest", p.Critical.Image.Digest))
				continue
			}
			res.signatures++
		}
		if res.signatures == 0 {
			return nil, fmt.Errorf("%s: no valid signature: %s", t, strings.Join(why, "; "))
		}
		out = append(out, res)
	}

	atts, err := readEntries(ctx, tagFor(d, ".att"))
	if err != nil {
		return nil, err
	}
	for _, e := range atts {
		if !verifiesWith(v, e) {
			return nil, fmt.Errorf("%s: an attestation (%s) does not verify with the key", d, e.annotations[predicateAnnotation])
		}
		var st statement
		if err := json.Unmarshal(statementOf(e), &st); err != nil || len(st.Subject) == 0 || "sha256:"+st.Subject[0].Digest["sha256"] != d.DigestStr() {
			return nil, fmt.Errorf("%s: an attestation (%s) is about another subject", d, e.annotations[predicateAnnotation])
		}
		out[0].attestations = append(out[0].attestations, st.PredicateType)
	}
	return out, nil
}

func runVerify(ctx context.Context, s *actionio.Step, in *Inputs, d name.Digest) error {
	if in.PublicKey == "" {
		return errors.New(`input "public-key" is required to verify (keyless verification is not built yet)`)
	}
	v, err := loadVerifier(in.PublicKey)
	if err != nil {
		return err
	}
	res, err := verifyImage(ctx, d, v, in.Recursive)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Verified `%s`\n\n| manifest | valid signatures |\n| --- | ---: |\n", d)
	var sigs []string
	for _, r := range res {
		fmt.Fprintf(&b, "| `%s` | %d |\n", r.digest.DigestStr(), r.signatures)
		sigs = append(sigs, tagFor(r.digest, ".sig").String())
	}
	for _, a := range res[0].attestations {
		fmt.Fprintf(&b, "\nAttestation verified: `%s`\n", a)
	}
	if err := s.SetOutput("signatures", strings.Join(sigs, "\n")); err != nil {
		return err
	}
	if err := s.SetOutput("attestations", strings.Join(res[0].attestations, "\n")); err != nil {
		return err
	}
	return s.Summary(b.String())
}
