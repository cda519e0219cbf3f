package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Annotations of a keyless signature in cosign's classic storage.
const (
	certAnnotation   = "dev.sigstore.cosign/certificate"
	chainAnnotation  = "dev.sigstore.cosign/chain"
	bundleAnnotation = "dev.sigstore.cosign/bundle"
)

// bundler makes sigstore bundles: with a key from the key input, or keyless with an ephemeral key, a Fulcio
// certificate for the runner's OIDC identity and a Rekor entry.
type bundler struct {
	keypair sgsign.Keypair
	opts    sgsign.BundleOptions
}

func (b *bundler) bundle(ctx context.Context, content sgsign.Content) (*protobundle.Bundle, error) {
	opts := b.opts
	opts.Context = ctx
	return sgsign.Bundle(content, b.keypair, opts)
}

func keyBundler(s signature.Signer) (*bundler, error) {
	kp, err := newKeypair(s)
	if err != nil {
		return nil, err
	}
	return &bundler{keypair: kp}, nil
}

// keylessBundler asks Fulcio once for a certificate of the ephemeral key (one per run, as cosign does) and
// logs every signature in Rekor.
func keylessBundler(idToken, fulcioURL, rekorURL string) (*bundler, error) {
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	fulcio := sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: strings.TrimSuffix(fulcioURL, "/"), Retries: 2})
	return &bundler{keypair: kp, opts: sgsign.BundleOptions{
		CertificateProvider:        &onceCertificate{provider: fulcio},
		CertificateProviderOptions: &sgsign.CertificateProviderOptions{IDToken: idToken},
		TransparencyLogs:           []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: strings.TrimSuffix(rekorURL, "/"), Retries: 2})},
	}}, nil
}

// onceCertificate asks its provider once and hands every later caller the same certificate.
type onceCertificate struct {
	provider sgsign.CertificateProvider
	once     sync.Once
	cert     []byte
	err      error
}

func (o *onceCertificate) GetCertificate(ctx context.Context, kp sgsign.Keypair, opts *sgsign.CertificateProviderOptions) ([]byte, error) {
	o.once.Do(func() {
		o.cert, o.err = o.provider.GetCertificate(ctx, kp, opts)
		if o.err != nil {
			o.err = fmt.Errorf("getting a certificate from Fulcio: %w", o.err)
		}
	})
	return o.cert, o.err
}

// keypair lets sigstore-go sign with a key read from the key input.
type keypair struct {
	signer signature.Signer
	pub    crypto.PublicKey
	alg    signature.AlgorithmDetails
}

func newKeypair(s signature.Signer) (*keypair, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	alg, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return nil, fmt.Errorf(`input "key": %w`, err)
	}
	return &keypair{signer: s, pub: pub, alg: alg}, nil
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.alg.GetProtoHashType() }
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.pub }

// GetKeyAlgorithm names the key type as Fulcio's requests do.
func (k *keypair) GetKeyAlgorithm() string {
	switch k.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.RSA:
		return "RSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}

func (k *keypair) GetHint() []byte {
	der, _ := cryptoutils.MarshalPublicKeyToDER(k.pub)
	sum := sha256.Sum256(der)
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func (k *keypair) GetPublicKeyPem() (string, error) {
	p, err := cryptoutils.MarshalPublicKeyToPEM(k.pub)
	return string(p), err
}

func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sig, err := k.signer.SignMessage(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	digest := data
	if h := k.alg.GetHashType(); h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
	}
	return sig, digest, nil
}

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation: the Rekor entry and its signed timestamp.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           []byte `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// classicAnnotations are the layer annotations cosign writes for a keyless signature made into b.
func classicAnnotations(b *protobundle.Bundle) (map[string]string, error) {
	vm := b.GetVerificationMaterial()
	cert := vm.GetCertificate().GetRawBytes()
	if chain := vm.GetX509CertificateChain().GetCertificates(); len(chain) > 0 {
		cert = chain[0].GetRawBytes()
	}
	if cert == nil || len(vm.GetTlogEntries()) == 0 {
		return nil, errors.New("the keyless bundle has no certificate or no Rekor entry")
	}
	tle := vm.GetTlogEntries()[0]
	var rb rekorBundle
	rb.SignedEntryTimestamp = tle.GetInclusionPromise().GetSignedEntryTimestamp()
	rb.Payload.Body = tle.GetCanonicalizedBody()
	rb.Payload.IntegratedTime = tle.GetIntegratedTime()
	rb.Payload.LogIndex = tle.GetLogIndex()
	rb.Payload.LogID = hex.EncodeToString(tle.GetLogId().GetKeyId())
	raw, err := json.Marshal(rb)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		certAnnotation:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})),
		chainAnnotation:  "",
		bundleAnnotation: string(raw),
	}, nil
}

// envelopeJSON is the DSSE envelope of a bundle in its usual JSON form (what cosign stores in a .att layer).
func envelopeJSON(b *protobundle.Bundle) ([]byte, error) {
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("the bundle holds no DSSE envelope")
	}
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	out := struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []sig  `json:"signatures"`
	}{PayloadType: env.GetPayloadType(), Payload: base64.StdEncoding.EncodeToString(env.GetPayload())}
	for _, s := range env.GetSignatures() {
		out.Signatures = append(out.Signatures, sig{s.GetKeyid(), base64.StdEncoding.EncodeToString(s.GetSig())})
	}
	return json.Marshal(out)
}

// bundleOfEntry rebuilds the sigstore bundle (v0.1: certificate, Rekor inclusion promise) that a classic
// keyless signature or attestation carries in its annotations, so sigstore-go can verify it.
func bundleOfEntry(e entry) (*bundle.Bundle, error) {
	block, _ := pem.Decode([]byte(e.annotations[certAnnotation]))
	if block == nil {
		return nil, errors.New("the certificate annotation holds no PEM certificate")
	}
	var rb rekorBundle
	if err := json.Unmarshal([]byte(e.annotations[bundleAnnotation]), &rb); err != nil {
		return nil, fmt.Errorf("the Rekor bundle annotation: %w", err)
	}
	var kind struct{ Kind, APIVersion string }
	if err := json.Unmarshal(rb.Payload.Body, &kind); err != nil {
		return nil, fmt.Errorf("the Rekor entry body: %w", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("the Rekor log ID: %w", err)
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: block.Bytes}}}},
			TlogEntries: []*protorekor.TransparencyLogEntry{{
				LogIndex:          rb.Payload.LogIndex,
				LogId:             &protocommon.LogId{KeyId: logID},
				KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
				IntegratedTime:    rb.Payload.IntegratedTime,
				InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
				CanonicalizedBody: rb.Payload.Body,
			}},
		},
	}
	if e.mediaType == dsseMediaType {
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     []byte `json:"payload"`
			Signatures  []struct {
				KeyID string `json:"keyid"`
				Sig   []byte `json:"sig"`
			} `json:"signatures"`
		}
		if err := json.Unmarshal(e.payload, &env); err != nil {
			return nil, fmt.Errorf("the DSSE envelope: %w", err)
		}
		d := &protodsse.Envelope{Payload: env.Payload, PayloadType: env.PayloadType}
		for _, s := range env.Signatures {
			d.Signatures = append(d.Signatures, &protodsse.Signature{Sig: s.Sig, Keyid: s.KeyID})
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: d}
	} else {
		sig, err := base64.StdEncoding.DecodeString(e.annotations[sigAnnotation])
		if err != nil {
			return nil, fmt.Errorf("the signature annotation: %w", err)
		}
		sum := sha256.Sum256(e.payload)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
	}
	return bundle.NewBundle(pb)
}

// Policy is what a signature must satisfy: a public key, or a certificate for an identity from an issuer
// under a trusted root.
type Policy struct {
	key      signature.Verifier
	identity verify.CertificateIdentity
	trusted  root.TrustedMaterial
}

// KeyPolicy accepts what the key v signed.
func KeyPolicy(v signature.Verifier) *Policy { return &Policy{key: v} }

// IdentityPolicy accepts keyless signatures whose certificate names identity and issuer, under trusted.
func IdentityPolicy(identity, issuer string, trusted root.TrustedMaterial) (*Policy, error) {
	id, err := verify.NewShortCertificateIdentity(issuer, "", identity, "")
	if err != nil {
		return nil, fmt.Errorf(`inputs "certificate-identity" and "certificate-oidc-issuer": %w`, err)
	}
	return &Policy{identity: id, trusted: trusted}, nil
}

// verifyBundle checks a sigstore bundle against the policy; artifact is the signed payload (a message
// signature) or nil (a DSSE envelope, checked against digest, the statement's subject).
func (p *Policy) verifyBundle(b *bundle.Bundle, artifact []byte, digest string) error {
	var art verify.ArtifactPolicyOption
	if artifact != nil {
		art = verify.WithArtifact(bytes.NewReader(artifact))
	} else {
		alg, hexSum, _ := strings.Cut(digest, ":")
		sum, err := hex.DecodeString(hexSum)
		if err != nil {
			return err
		}
		art = verify.WithArtifactDigest(alg, sum)
	}
	if p.key != nil {
		tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(p.key, time.Time{}, time.Time{}), nil
		})
		v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
		if err != nil {
			return err
		}
		_, err = v.Verify(b, verify.NewPolicy(art, verify.WithKey()))
		return err
	}
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}
	if len(p.trusted.CTLogs()) > 0 { // as cosign: a certificate must be in a CT log the trust root names
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(p.trusted, opts...)
	if err != nil {
		return err
	}
	_, err = v.Verify(b, verify.NewPolicy(art, verify.WithCertificateIdentity(p.identity)))
	return err
}
