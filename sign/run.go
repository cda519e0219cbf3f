package sign

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

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
	preds, err := Predicates(in, s.Action.Getenv, time.Now())
	if err != nil {
		return err
	}
	c, err := credentials(ctx, s, in)
	if err != nil {
		return err
	}
	if !in.Keyless && !in.TlogUpload {
		s.Infof("tlog-upload: false: the signatures and attestations get no Rekor entry. cosign verify accepts them only " +
			"with --insecure-ignore-tlog=true (a policy controller, with a policy that ignores the log; this action, with insecure-ignore-tlog: true)")
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
	fmt.Fprintf(&b, "## Verified `%s`\n\n%s.\n\n| manifest | valid signatures |\n| --- | ---: |\n", d, p.how())
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

// githubIssuer is the OIDC issuer of GitHub Actions' tokens: what keyless verify expects unless told otherwise.
const githubIssuer = "https://token.actions.githubusercontent.com"

// credentials are the key input's, or keyless the job's OIDC token's (masked in the log).
func credentials(ctx context.Context, s *actionio.Step, in *Inputs) (*Credentials, error) {
	if in.Keyless {
		if in.Key != "" {
			return nil, errors.New(`inputs "key" and "keyless" are both set: sign with one`)
		}
		if !in.TlogUpload {
			return nil, errors.New(`input "tlog-upload" is false with keyless: true: a keyless signature is checked through its Rekor entry (its certificate expires in minutes), so it cannot go without one`)
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
	rekorURL := in.RekorURL
	if !in.TlogUpload {
		rekorURL = ""
	}
	return KeyCredentials(in.Key, in.KeyPassword, rekorURL)
}

// policy is the public-key input's (with the Rekor logs its signatures must be in, unless the log is ignored), or
// the certificate identity's under the trusted root. The inputs are checked before any trust root is fetched.
func policy(in *Inputs) (*Policy, error) {
	if in.PublicKey != "" {
		v, err := loadVerifier(in.PublicKey)
		if err != nil {
			return nil, err
		}
		if in.InsecureIgnoreTlog {
			return KeyPolicy(v, nil), nil
		}
		logs, err := keyLogs(in)
		if err != nil {
			return nil, err
		}
		return KeyPolicy(v, logs), nil
	}
	id, err := identity(in)
	if err != nil {
		return nil, err
	}
	if in.InsecureIgnoreTlog {
		return nil, errors.New(`input "insecure-ignore-tlog" is for signatures made with a key: a keyless signature is checked through its Rekor entry`)
	}
	trusted, err := trustedRoot(in.TrustedRoot)
	if err != nil {
		return nil, err
	}
	return IdentityPolicy(id, trusted)
}

// identity is what the certificate-* inputs ask of a keyless certificate: exactly one of the identity and its
// regexp, at most one of the issuer and its regexp (GitHub Actions' issuer when neither is given).
func identity(in *Inputs) (Identity, error) {
	id := Identity{SAN: in.CertIdentity, SANRegexp: in.CertIdentityRegexp, Issuer: in.CertOIDCIssuer, IssuerRegexp: in.CertOIDCIssuerRegexp}
	switch {
	case id.SAN == "" && id.SANRegexp == "":
		return id, errors.New(`verify needs input "public-key", or "certificate-identity" or "certificate-identity-regexp" for keyless signatures`)
	case id.SAN != "" && id.SANRegexp != "":
		return id, errors.New(`inputs "certificate-identity" and "certificate-identity-regexp" are both set: give one`)
	case id.Issuer != "" && id.IssuerRegexp != "":
		return id, errors.New(`inputs "certificate-oidc-issuer" and "certificate-oidc-issuer-regexp" are both set: give one`)
	case id.Issuer == "" && id.IssuerRegexp == "":
		id.Issuer = githubIssuer
	}
	return id, nil
}

// keyLogs are the Rekor logs a key's signatures must be entered in: the rekor-public-key input's, else the
// trusted root's, else the public instance's.
func keyLogs(in *Inputs) (root.TrustedMaterial, error) {
	switch {
	case in.RekorPublicKey != "" && in.TrustedRoot != "":
		return nil, errors.New(`inputs "rekor-public-key" and "trusted-root" are both set: give one (the Rekor log to trust)`)
	case in.RekorPublicKey != "":
		return rekorKeyLogs(in.RekorPublicKey)
	}
	return trustedRoot(in.TrustedRoot)
}

// trustedRoot reads a sigstore trusted_root.json, or fetches the public-good instance's through TUF.
func trustedRoot(path string) (root.TrustedMaterial, error) {
	if path == "" {
		tr, err := root.FetchTrustedRoot()
		if err != nil {
			return nil, fmt.Errorf(`fetching the public sigstore trusted root (for a private sigstore, give input "trusted-root", or "rekor-public-key" with a key): %w`, err)
		}
		return tr, nil
	}
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf(`input "trusted-root": %w`, err)
	}
	return tr, nil
}

// checkRegexp checks a -regexp input: a Go regular expression, as cosign's flags take.
func checkRegexp(text string) error {
	if _, err := regexp.Compile(text); err != nil {
		return fmt.Errorf("is not a Go regular expression: %w", err)
	}
	return nil
}
