package sign

import (
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// loadSigner reads a private key: cosign's encrypted key files (ENCRYPTED SIGSTORE PRIVATE KEY, or the older
// ENCRYPTED COSIGN PRIVATE KEY) with their password, or a plain PEM key. The key never touches the disk.
func loadSigner(keyPEM, password string) (signature.Signer, error) {
	pf := func(bool) ([]byte, error) { return []byte(password), nil }
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey([]byte(strings.TrimSpace(keyPEM)), pf)
	if err != nil {
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, errors.New(`input "key-password" does not open input "key"`)
		}
		return nil, fmt.Errorf(`input "key" is not a private key cosign or sigstore can read: %w`, err)
	}
	return signature.LoadSigner(priv, crypto.SHA256)
}

// loadVerifier reads a PEM public key (cosign.pub).
func loadVerifier(pubPEM string) (signature.Verifier, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(strings.TrimSpace(pubPEM)))
	if err != nil {
		return nil, fmt.Errorf(`input "public-key" is not a PEM public key: %w`, err)
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}
