package sign

import (
	"crypto"

	"github.com/sigstore/sigstore/pkg/signature"
)

// Credentials are what signs: a key (classic signatures and sigstore bundles alike made through sigstore-go,
// each entered in Rekor unless told not to), or keyless (bundles with a Fulcio certificate for the runner's
// identity and a Rekor entry).
type Credentials struct {
	key      signature.Signer   // nil when keyless
	verifier signature.Verifier // the key's public half
	bundler  *bundler
	rekorURL string // where signatures are logged; "" for a key with tlog-upload: false
}

// KeyCredentials sign with a private key: cosign's encrypted key file (or a PEM key) and its password. Each
// signature is entered in the Rekor log at rekorURL, as cosign sign --key does; rekorURL "" logs nothing.
func KeyCredentials(keyPEM, password, rekorURL string) (*Credentials, error) {
	key, err := loadSigner(keyPEM, password)
	if err != nil {
		return nil, err
	}
	c := &Credentials{key: key, rekorURL: rekorURL}
	if c.verifier, err = publicVerifier(key); err != nil {
		return nil, err
	}
	if c.bundler, err = keyBundler(key, rekorURL); err != nil {
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
	return &Credentials{bundler: b, rekorURL: rekorURL}, nil
}

// how says how the credentials sign, for the summary.
func (c *Credentials) how() string {
	switch {
	case c.key == nil:
		return "Signed keyless, each signature entered in " + c.rekorURL
	case c.rekorURL == "":
		return "Signed with a key, in no transparency log (tlog-upload: false)"
	}
	return "Signed with a key, each signature entered in " + c.rekorURL
}

// signedByUs tells whether an existing entry is this key's, as this run would write it (logged, unless
// tlog-upload is false): signing again then adds nothing, not even a Rekor entry. A keyless signature is never
// the same (each run has its own ephemeral key), as with cosign.
func (c *Credentials) signedByUs(e entry) bool {
	return c.key != nil && e.annotations[certAnnotation] == "" && (c.rekorURL == "" || e.annotations[bundleAnnotation] != "") &&
		verifiesWith(c.verifier, e)
}

// publicVerifier is the verifier of a signer's own public key.
func publicVerifier(s signature.Signer) (signature.Verifier, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}
