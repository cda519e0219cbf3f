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
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
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
	sg, err := newSigner(ctx, s, in)
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
	sigs := make([]string, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() { // each manifest's signature is stored apart: sign them at once
			defer wg.Done()
			sigs[i], errs[i] = sg.signManifest(ctx, t)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("signing %s: %w", t, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var atts []string
	for _, p := range preds {
		ref, err := sg.attest(ctx, d, p)
		if err != nil {
			return fmt.Errorf("attesting %s: %w", d, err)
		}
		atts = append(atts, ref+" ("+p.typ+")")
	}
	if err := s.SetOutput("signatures", strings.Join(sigs, "\n")); err != nil {
		return err
	}
	if err := s.SetOutput("attestations", strings.Join(atts, "\n")); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Signed `%s`\n\n%s, stored as %s.\n\n| manifest | signature |\n| --- | --- |\n", d, sg.how(), in.Storage)
	for i, t := range targets {
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", t.DigestStr(), sigs[i])
	}
	for _, a := range atts {
		fmt.Fprintf(&b, "\nAttestation: `%s`\n", a)
	}
	return s.Summary(b.String())
}

type predicate struct {
	typ string
	doc any
}

// signer signs with a key (classic signatures made here, bundles through sigstore-go) or keyless (bundles
// with a Fulcio certificate and a Rekor entry), into classic tags or referrers.
type signer struct {
	key       signature.Signer // nil when keyless
	verifier  signature.Verifier
	bundler   *bundler
	referrers bool
	identity  string // the keyless certificate's identity, once known
}

func newSigner(ctx context.Context, s *actionio.Step, in *Inputs) (*signer, error) {
	sg := &signer{referrers: in.Storage == "referrers"}
	if in.Keyless {
		if in.Key != "" {
			return nil, errors.New(`inputs "key" and "keyless" are both set: sign with one`)
		}
		token, err := s.Action.GetIDToken(ctx, "sigstore")
		if err != nil {
			return nil, fmt.Errorf("keyless signing needs the job's OIDC token (give the job `permissions: id-token: write`): %w", err)
		}
		s.Mask(token)
		sg.bundler, err = keylessBundler(token, in.FulcioURL, in.RekorURL)
		return sg, err
	}
	if in.Key == "" {
		return nil, errors.New(`input "key" is required for key-based signing (cosign's key file contents, from a secret); or set keyless: true`)
	}
	var err error
	if sg.key, err = loadSigner(in.Key, in.KeyPassword); err != nil {
		return nil, err
	}
	if sg.verifier, err = publicVerifier(sg.key); err != nil {
		return nil, err
	}
	sg.bundler, err = keyBundler(sg.key)
	return sg, err
}

func (sg *signer) how() string {
	if sg.key != nil {
		return "Signed with a key"
	}
	return "Signed keyless"
}

// signManifest signs one manifest and returns where the signature went.
func (sg *signer) signManifest(ctx context.Context, t name.Digest) (string, error) {
	if sg.referrers {
		stmt, err := signStatement(t)
		if err != nil {
			return "", err
		}
		b, err := sg.bundler.bundle(ctx, &sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType})
		if err != nil {
			return "", err
		}
		ref, err := writeReferrer(ctx, t, b, cosignSignPredicate)
		return ref.String(), err
	}
	payload := payloadFor(t)
	e := entry{payload: payload, mediaType: simpleSigningMediaType}
	if sg.key != nil {
		sig, err := sg.key.SignMessage(bytes.NewReader(payload))
		if err != nil {
			return "", err
		}
		e.annotations = map[string]string{sigAnnotation: base64.StdEncoding.EncodeToString(sig)}
	} else {
		b, err := sg.bundler.bundle(ctx, &sgsign.PlainData{Data: payload})
		if err != nil {
			return "", err
		}
		if e.annotations, err = classicAnnotations(b); err != nil {
			return "", err
		}
		e.annotations[sigAnnotation] = base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
	}
	same := func(c entry) bool { return bytes.Equal(c.payload, payload) && sg.signedByUs(c) }
	tag := tagFor(t, ".sig")
	return tag.String(), appendEntry(ctx, tag, e, same, settle)
}

// attest attaches an in-toto statement about d and returns where it went.
func (sg *signer) attest(ctx context.Context, d name.Digest, p predicate) (string, error) {
	stmt, err := newStatement(d, p.typ, p.doc)
	if err != nil {
		return "", err
	}
	if sg.referrers || sg.key == nil {
		b, err := sg.bundler.bundle(ctx, &sgsign.DSSEData{Data: stmt, PayloadType: inTotoPayloadType})
		if err != nil {
			return "", err
		}
		if sg.referrers {
			ref, err := writeReferrer(ctx, d, b, p.typ)
			return ref.String(), err
		}
		envelope, err := envelopeJSON(b)
		if err != nil {
			return "", err
		}
		annotations, err := classicAnnotations(b)
		if err != nil {
			return "", err
		}
		annotations[predicateAnnotation], annotations[sigAnnotation] = p.typ, ""
		tag := tagFor(d, ".att")
		return tag.String(), appendEntry(ctx, tag, entry{payload: envelope, mediaType: dsseMediaType, annotations: annotations}, func(entry) bool { return false }, settle)
	}
	envelope, err := dsse.WrapSigner(sg.key, inTotoPayloadType).SignMessage(bytes.NewReader(stmt))
	if err != nil {
		return "", err
	}
	e := entry{payload: envelope, mediaType: dsseMediaType,
		annotations: map[string]string{predicateAnnotation: p.typ, sigAnnotation: ""}}
	same := func(c entry) bool {
		return c.annotations[predicateAnnotation] == p.typ && bytes.Equal(statementOf(c), stmt) && sg.signedByUs(c)
	}
	tag := tagFor(d, ".att")
	return tag.String(), appendEntry(ctx, tag, e, same, settle)
}

// signedByUs tells whether an existing entry is this key's: signing again then adds nothing. A keyless
// signature is never the same (each run has its own ephemeral key), as with cosign.
func (sg *signer) signedByUs(c entry) bool {
	return sg.key != nil && c.annotations[certAnnotation] == "" && verifiesWith(sg.verifier, c)
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
	signatures   []string // where the valid signatures are
	attestations []string
}

// verifyImage checks that each manifest (the index and, recursively, its platforms) has a signature that
// satisfies the policy over a payload naming exactly that digest (classic .sig tags and sigstore bundle
// referrers both count), and that every attestation of the image verifies.
func verifyImage(ctx context.Context, d name.Digest, p *policy, recursive bool) ([]verified, error) {
	targets := []name.Digest{d}
	if recursive {
		children, err := childDigests(ctx, d)
		if err != nil {
			return nil, err
		}
		targets = append(targets, children...)
	}
	var out []verified
	var atts []entry
	var attRefs []referrer
	for _, t := range targets {
		tag := tagFor(t, ".sig")
		entries, err := readEntries(ctx, tag)
		if err != nil {
			return nil, err
		}
		refs, err := readReferrers(ctx, t)
		if err != nil {
			return nil, err
		}
		res := verified{digest: t}
		var why []string
		found := len(entries)
		for _, e := range entries {
			if err := p.verifyEntry(e, t); err != nil {
				why = append(why, err.Error())
				continue
			}
			var sp struct {
				Critical struct {
					Image struct {
						Digest string `json:"docker-manifest-digest"`
					} `json:"image"`
				} `json:"critical"`
			}
			if err := json.Unmarshal(e.payload, &sp); err != nil || sp.Critical.Image.Digest != t.DigestStr() {
				why = append(why, fmt.Sprintf("a signed payload names %s, not this digest", sp.Critical.Image.Digest))
				continue
			}
			res.signatures = append(res.signatures, tag.String())
		}
		for _, r := range refs {
			if r.predicateType != cosignSignPredicate {
				if t == d {
					attRefs = append(attRefs, r)
				}
				continue
			}
			found++
			if err := p.verifyBundle(r.bundle, nil, t.DigestStr()); err != nil {
				why = append(why, fmt.Sprintf("bundle %s: %v", r.ref.DigestStr(), err))
				continue
			}
			res.signatures = append(res.signatures, r.ref.String())
		}
		if found == 0 {
			return nil, fmt.Errorf("%s has no signature (no tag %s, no sigstore bundle among its referrers)", t, tag.TagStr())
		}
		if len(res.signatures) == 0 {
			return nil, fmt.Errorf("%s: no valid signature: %s", t, strings.Join(why, "; "))
		}
		if t == d {
			if atts, err = readEntries(ctx, tagFor(d, ".att")); err != nil {
				return nil, err
			}
		}
		out = append(out, res)
	}

	for _, e := range atts {
		if err := p.verifyEntry(e, d); err != nil {
			return nil, fmt.Errorf("%s: an attestation (%s): %w", d, e.annotations[predicateAnnotation], err)
		}
		var st statement
		if err := json.Unmarshal(statementOf(e), &st); err != nil || len(st.Subject) == 0 || "sha256:"+st.Subject[0].Digest["sha256"] != d.DigestStr() {
			return nil, fmt.Errorf("%s: an attestation (%s) is about another subject", d, e.annotations[predicateAnnotation])
		}
		out[0].attestations = append(out[0].attestations, st.PredicateType)
	}
	for _, r := range attRefs {
		if err := p.verifyBundle(r.bundle, nil, d.DigestStr()); err != nil {
			return nil, fmt.Errorf("%s: an attestation (%s, %s): %w", d, r.predicateType, r.ref.DigestStr(), err)
		}
		out[0].attestations = append(out[0].attestations, r.predicateType)
	}
	return out, nil
}

// verifyEntry checks one classic signature or attestation: with the key, or (keyless) its certificate and
// Rekor entry against the trusted root and the identity.
func (p *policy) verifyEntry(e entry, d name.Digest) error {
	if e.annotations[certAnnotation] != "" {
		if p.key != nil {
			return errors.New("a keyless signature (verify it with certificate-identity, not a key)")
		}
		b, err := bundleOfEntry(e)
		if err != nil {
			return err
		}
		var artifact []byte
		if e.mediaType != dsseMediaType {
			artifact = e.payload
		}
		return p.verifyBundle(b, artifact, d.DigestStr())
	}
	if p.key == nil {
		return errors.New("a signature made with a key (verify it with public-key)")
	}
	if !verifiesWith(p.key, e) {
		return errors.New("a signature does not verify with the key (another key, or a changed payload)")
	}
	return nil
}

func runVerify(ctx context.Context, s *actionio.Step, in *Inputs, d name.Digest) error {
	var p *policy
	switch {
	case in.PublicKey != "":
		v, err := loadVerifier(in.PublicKey)
		if err != nil {
			return err
		}
		p = keyPolicy(v)
	case in.CertIdentity != "":
		trusted, err := trustedRoot(in.TrustedRoot)
		if err != nil {
			return err
		}
		if p, err = identityPolicy(in.CertIdentity, in.CertOIDCIssuer, trusted); err != nil {
			return err
		}
	default:
		return errors.New(`verify needs input "public-key", or "certificate-identity" (and "certificate-oidc-issuer") for keyless signatures`)
	}
	res, err := verifyImage(ctx, d, p, in.Recursive)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Verified `%s`\n\n| manifest | valid signatures |\n| --- | ---: |\n", d)
	var sigs []string
	for _, r := range res {
		fmt.Fprintf(&b, "| `%s` | %d |\n", r.digest.DigestStr(), len(r.signatures))
		sigs = append(sigs, r.signatures...)
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

// trustedRoot reads a sigstore trusted_root.json, or fetches the public-good instance's through TUF.
func trustedRoot(path string) (root.TrustedMaterial, error) {
	if path == "" {
		tr, err := root.FetchTrustedRoot()
		if err != nil {
			return nil, fmt.Errorf("fetching the public sigstore trusted root (for a private sigstore, give input \"trusted-root\"): %w", err)
		}
		return tr, nil
	}
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf(`input "trusted-root": %w`, err)
	}
	return tr, nil
}
