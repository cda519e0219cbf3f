package sign

import (
	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Inputs are the sign action's inputs.
type Inputs struct {
	Image                string
	Key                  string
	KeyPassword          string
	Keyless              bool
	Recursive            bool
	AttestSBOM           string
	AttestProvenance     bool
	AttestPredicate      string
	AttestType           string
	Storage              string
	FulcioURL            string
	RekorURL             string
	TlogUpload           bool
	Verify               bool
	PublicKey            string
	InsecureIgnoreTlog   bool
	RekorPublicKey       string
	CertIdentity         string
	CertIdentityRegexp   string
	CertOIDCIssuer       string
	CertOIDCIssuerRegexp string
	TrustedRoot          string
}

// Spec declares the sign action's inputs and outputs, bound to in.
func Spec(in *Inputs) *actionio.Spec {
	s := &actionio.Spec{
		Name:        "sign",
		Description: "Sign an image by digest (and every platform of an index) in cosign's format, attach SBOM and provenance attestations, or verify them.",
	}
	s.String(&in.Image, "image", "", "Image to sign, by digest: registry/name@sha256:....").Required()
	s.String(&in.Key, "key", "", "Private key (cosign's encrypted key file contents, or a PEM key) for key-based signing.").Secret()
	s.String(&in.KeyPassword, "key-password", "", "Password of the encrypted private key.").Secret()
	s.Bool(&in.Keyless, "keyless", false, "Sign keyless with the runner's OIDC token, a Fulcio certificate and a Rekor entry.")
	s.Bool(&in.Recursive, "recursive", true, "For an index, also sign every platform manifest.")
	s.String(&in.AttestSBOM, "attest-sbom", "", "SBOM file (CycloneDX or SPDX JSON), or a folder of them, to attach as attestations.")
	s.Bool(&in.AttestProvenance, "attest-provenance", false, "Attach a SLSA provenance v1 attestation built from the GitHub context.")
	s.String(&in.AttestPredicate, "attest-predicate", "", "A predicate file (JSON; text for attest-type spdx or custom) to attach as an attestation, as cosign attest --predicate does.")
	s.String(&in.AttestType, "attest-type", "custom", "The attest-predicate's kind, as cosign attest --type: slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, custom, or a predicate type URI.").
		Check(checkAttestType)
	s.Enum(&in.Storage, "storage", "tag", []string{"tag", "referrers"},
		"Where signatures go: classic .sig/.att tags, or sigstore bundles as OCI 1.1 referrers.")
	s.String(&in.FulcioURL, "fulcio-url", "https://fulcio.sigstore.dev", "Fulcio URL for keyless signing.")
	s.String(&in.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "Rekor URL: the transparency log every signature and attestation is entered in (keyless always, with a key unless tlog-upload is false).")
	s.Bool(&in.TlogUpload, "tlog-upload", true, "With a key: enter each signature and attestation in the Rekor log, as cosign does; false (a private registry, or no Rekor at hand) leaves them out, and verifiers then need cosign's --insecure-ignore-tlog.")
	s.Bool(&in.Verify, "verify", false, "Verify the image's signatures and attestations instead of signing.")
	s.String(&in.PublicKey, "public-key", "", "Public key (PEM) to verify with.")
	s.Bool(&in.InsecureIgnoreTlog, "insecure-ignore-tlog", false, "Verify with a key: accept signatures without a Rekor entry (made with tlog-upload: false), as cosign's --insecure-ignore-tlog.")
	s.String(&in.RekorPublicKey, "rekor-public-key", "", "Verify with a key: the Rekor log's public key (PEM) whose signed entry timestamps to trust (a private Rekor); default: trusted-root's logs, else the public instance's, through TUF.")
	s.String(&in.CertIdentity, "certificate-identity", "", "Keyless verify: the identity the certificate must name.")
	s.String(&in.CertIdentityRegexp, "certificate-identity-regexp", "", "Keyless verify: a Go regular expression the certificate's identity must match (unanchored, as cosign's flag); instead of certificate-identity.").
		Check(checkRegexp)
	s.String(&in.TrustedRoot, "trusted-root", "", "Verify: a sigstore trusted_root.json (private sigstore): the CAs and logs keyless verify trusts, the Rekor logs key-based verify trusts; default: the public instance's, through TUF.")
	s.String(&in.CertOIDCIssuer, "certificate-oidc-issuer", "", "Keyless verify: the OIDC issuer the certificate must name; default, without certificate-oidc-issuer-regexp: GitHub Actions' (https://token.actions.githubusercontent.com).")
	s.String(&in.CertOIDCIssuerRegexp, "certificate-oidc-issuer-regexp", "", "Keyless verify: a Go regular expression the certificate's OIDC issuer must match (unanchored, as cosign's flag); instead of certificate-oidc-issuer.").
		Check(checkRegexp)

	s.Output("signatures", "References of the signatures written, one per line.")
	s.Output("attestations", "References of the attestations written, one per line.")
	return s
}

// Action is the sign action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
