package sign

import (
	"crypto"

	"github.com/sigstore/sigstore/pkg/signature"
)

// Credentials are what signs: a key (classic signatures made here, sigstore bundles through sigstore-go), or
// keyless (bundles with a Fulcio certificate for the runner's identity and a Rekor entry).
type Credentials struct {
	key      signature.Signer   // nil when keyless
	verifier signature.Verifier // the key's public half
	bundler  *bundler
}

// KeyCredentials sign with a private key: cosign's encrypted key file (or a PEM key) and its password.
func KeyCredentials(keyPEM, password string) (*Credentials, error) {
	key, err := loadSigner(keyPEM, password)
	if err != nil {
		return nil, err
	}
	c := &Credentials{key: key}
	if c.verifier, err = publicVerifier(key); err != nil {
		return nil, err
	}
	if c.bundler, err = keyBundler(key); err != nil {
		return nil, err
	}
	return c, nil
}

// KeylessCredentials sign with an ephemeral key that Fulcio certifies, once, for the identity of idToken (the
// runner's OIDC token), each signature logged in Rekor.
func KeylessCredentials(idToken, fulcioURL, rekorURL string) (*Credentials, error) {
	b, err := keylessBundler(idToken, fulcioURL, rekorURL)
	if err != nil {
		return nil, err
	}
	return &Credentials{bundler: b}, nil
}

// how says how the credentials sign, for the summary.
func (c *Credentials) how() string {
	if c.key != nil {
		return "Signed with a key"
	}
	return "Signed keyless"
}

// signedByUs tells whether an existing entry is this key's: signing again then adds nothing. A keyless
// signature is never the same (each run has its own ephemeral key), as with cosign.
func (c *Credentials) signedByUs(e entry) bool {
	return c.key != nil && e.annotations[certAnnotation] == "" && verifiesWith(c.verifier, e)
}

// publicVerifier is the verifier of a signer's own public key.
func publicVerifier(s signature.Signer) (signature.Verifier, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}
