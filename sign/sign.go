package sign

import (
	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Inputs are the sign action's inputs.
type Inputs struct {
	Image            string
	Key              string
	KeyPassword      string
	Keyless          bool
	Recursive        bool
	AttestSBOM       string
	AttestProvenance bool
	Storage          string
	FulcioURL        string
	RekorURL         string
	Verify           bool
	PublicKey        string
	CertIdentity     string
	CertOIDCIssuer   string
	TrustedRoot      string
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
	s.Enum(&in.Storage, "storage", "tag", []string{"tag", "referrers"},
		"Where signatures go: classic .sig/.att tags, or sigstore bundles as OCI 1.1 referrers.")
	s.String(&in.FulcioURL, "fulcio-url", "https://fulcio.sigstore.dev", "Fulcio URL for keyless signing.")
	s.String(&in.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "Rekor URL for keyless signing.")
	s.Bool(&in.Verify, "verify", false, "Verify the image's signatures and attestations instead of signing.")
	s.String(&in.PublicKey, "public-key", "", "Public key (PEM) to verify with.")
	s.String(&in.CertIdentity, "certificate-identity", "", "Keyless verify: the identity the certificate must name.")
	s.String(&in.TrustedRoot, "trusted-root", "", "Keyless verify: a sigstore trusted_root.json (private sigstore); default: the public instance's, through TUF.")
	s.String(&in.CertOIDCIssuer, "certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "Keyless verify: the OIDC issuer the certificate must name.")

	s.Output("signatures", "References of the signatures written, one per line.")
	s.Output("attestations", "References of the attestations written, one per line.")
	return s
}

// Action is the sign action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
