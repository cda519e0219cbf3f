package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// Run signs (or, with verify: true, verifies) the image.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	d, err := imageDigest(in.Image)
	if err != nil {
		return err
	}
	if in.Verify {
		return runVerify(ctx, s, in, d)
	}
	preds, err := Predicates(in.AttestSBOM, in.AttestProvenance, s.Action.Getenv)
	if err != nil {
		return err
	}
	c, err := credentials(ctx, s, in)
	if err != nil {
		return err
	}
	st := NewStorage(in.Storage, c)
	targets, err := Plan(ctx, d, in.Recursive)
	if err != nil {
		return err
	}
	sigs, err := SignManifests(ctx, st, targets)
	if err != nil {
		return err
	}
	atts, err := AttestImage(ctx, st, d, preds)
	if err != nil {
		return err
	}
	if err := setOutputs(s, sigs, atts); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Signed `%s`\n\n%s, stored as %s.\n\n| manifest | signature |\n| --- | --- |\n", d, c.how(), in.Storage)
	for i, t := range targets {
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", t.DigestStr(), sigs[i])
	}
	for _, a := range atts {
		fmt.Fprintf(&b, "\nAttestation: `%s`\n", a)
	}
	return s.Summary(b.String())
}

func runVerify(ctx context.Context, s *actionio.Step, in *Inputs, d name.Digest) error {
	p, err := policy(in)
	if err != nil {
		return err
	}
	res, err := VerifyImage(ctx, d, p, in.Recursive)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Verified `%s`\n\n| manifest | valid signatures |\n| --- | ---: |\n", d)
	var sigs []string
	for _, r := range res {
		fmt.Fprintf(&b, "| `%s` | %d |\n", r.Digest.DigestStr(), len(r.Signatures))
		sigs = append(sigs, r.Signatures...)
	}
	for _, a := range res[0].Attestations {
		fmt.Fprintf(&b, "\nAttestation verified: `%s`\n", a)
	}
	if err := setOutputs(s, sigs, res[0].Attestations); err != nil {
		return err
	}
	return s.Summary(b.String())
}

func setOutputs(s *actionio.Step, signatures, attestations []string) error {
	if err := s.SetOutput("signatures", strings.Join(signatures, "\n")); err != nil {
		return err
	}
	return s.SetOutput("attestations", strings.Join(attestations, "\n"))
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

// credentials are the key input's, or keyless the job's OIDC token's (masked in the log).
func credentials(ctx context.Context, s *actionio.Step, in *Inputs) (*Credentials, error) {
	if in.Keyless {
		if in.Key != "" {
			return nil, errors.New(`inputs "key" and "keyless" are both set: sign with one`)
		}
		token, err := s.Action.GetIDToken(ctx, "sigstore")
		if err != nil {
			return nil, fmt.Errorf("keyless signing needs the job's OIDC token (give the job `permissions: id-token: write`): %w", err)
		}
		s.Mask(token)
		return KeylessCredentials(token, in.FulcioURL, in.RekorURL)
	}
	if in.Key == "" {
		return nil, errors.New(`input "key" is required for key-based signing (cosign's key file contents, from a secret); or set keyless: true`)
	}
	return KeyCredentials(in.Key, in.KeyPassword)
}

// policy is the public-key input's, or the certificate identity's under the trusted root.
func policy(in *Inputs) (*Policy, error) {
	switch {
	case in.PublicKey != "":
		v, err := loadVerifier(in.PublicKey)
		if err != nil {
			return nil, err
		}
		return KeyPolicy(v), nil
	case in.CertIdentity != "":
		trusted, err := trustedRoot(in.TrustedRoot)
		if err != nil {
			return nil, err
		}
		return IdentityPolicy(in.CertIdentity, in.CertOIDCIssuer, trusted)
	}
	return nil, errors.New(`verify needs input "public-key", or "certificate-identity" (and "certificate-oidc-issuer") for keyless signatures`)
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
