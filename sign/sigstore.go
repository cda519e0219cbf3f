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

// Annotations of cosign's classic storage besides the signature: a keyless signature's certificate, and the
// Rekor entry of any logged one (cosign v2.6.5 pkg/oci/static/signature.go).
const (
	certAnnotation   = "dev.sigstore.cosign/certificate"
	chainAnnotation  = "dev.sigstore.cosign/chain"
	bundleAnnotation = "dev.sigstore.cosign/bundle"
)

// bundler makes sigstore bundles: with a key from the key input (and, unless tlog-upload is false, a Rekor
// entry), or keyless with an ephemeral key, a Fulcio certificate for the runner's OIDC identity and a Rekor entry.
type bundler struct {
	keypair sgsign.Keypair
	opts    sgsign.BundleOptions
}

func (b *bundler) bundle(ctx context.Context, content sgsign.Content) (*protobundle.Bundle, error) {
	opts := b.opts
	opts.Context = ctx
	return sgsign.Bundle(content, b.keypair, opts)
}

// keyBundler signs with the key; with a rekorURL, every signature is entered in that log, as cosign sign --key
// and attest --key do by default: a hashedrekord entry for a signature, a dsse entry for an attestation (cosign
// v2.6.5 internal/pkg/cosign/rekor/signer.go; cmd/cosign/cli/attest/attest.go, whose --rekor-entry-type
// defaults to dsse in cmd/cosign/cli/options/options.go). sigstore-go makes the same entries: the public key as PEM,
// the payload's SHA-256, and for a DSSE envelope its JSON as stored.
func keyBundler(s signature.Signer, rekorURL string) (*bundler, error) {
	kp, err := newKeypair(s)
	if err != nil {
		return nil, err
	}
	b := &bundler{keypair: kp}
	if rekorURL != "" {
		b.opts.TransparencyLogs = rekorLog(rekorURL)
	}
	return b, nil
}

// rekorLog is the Rekor (API v1) instance at url, which every logged signature is entered in.
func rekorLog(url string) []sgsign.Transparency {
	return []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: strings.TrimSuffix(url, "/"), Retries: 2})}
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
		TransparencyLogs:           rekorLog(rekorURL),
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

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation: the Rekor entry and its signed entry timestamp,
// as cosign v2 writes it (pkg/cosign/bundle/rekor.go RekorBundle and EntryToBundle, set by
// pkg/oci/static/options.go WithBundle). It has no room for the inclusion proof: a verifier checks the signed
// entry timestamp, Rekor's promise that the entry is in the log.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           []byte `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// classicAnnotations are the layer annotations cosign writes for what b signed, the signature aside: keyless, the
// certificate (and an empty chain); when b was logged, its Rekor entry.
func classicAnnotations(b *protobundle.Bundle) (map[string]string, error) {
	out := map[string]string{}
	vm := b.GetVerificationMaterial()
	cert := vm.GetCertificate().GetRawBytes()
	if chain := vm.GetX509CertificateChain().GetCertificates(); len(chain) > 0 {
		cert = chain[0].GetRawBytes()
	}
	if cert != nil {
		out[certAnnotation] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}))
		out[chainAnnotation] = ""
	}
	tles := vm.GetTlogEntries()
	if len(tles) == 0 {
		if cert != nil {
			return nil, errors.New("the keyless bundle has no Rekor entry")
		}
		return out, nil
	}
	var rb rekorBundle
	rb.SignedEntryTimestamp = tles[0].GetInclusionPromise().GetSignedEntryTimestamp()
	rb.Payload.Body = tles[0].GetCanonicalizedBody()
	rb.Payload.IntegratedTime = tles[0].GetIntegratedTime()
	rb.Payload.LogIndex = tles[0].GetLogIndex()
	rb.Payload.LogID = hex.EncodeToString(tles[0].GetLogId().GetKeyId())
	if rb.SignedEntryTimestamp == nil {
		return nil, errors.New("the Rekor entry has no signed entry timestamp")
	}
	raw, err := json.Marshal(rb)
	if err != nil {
		return nil, err
	}
	out[bundleAnnotation] = string(raw)
	return out, nil
}

// envelopeJSON is the DSSE envelope of a bundle as cosign stores it in a .att layer. The bytes are the ones
// sigstore-go gave Rekor (encoding/json of the envelope, pkg/sign/transparency.go getRekorV1TLE): cosign requires
// the dsse entry's envelope hash to be the layer's SHA-256 (cosign v2.6.5 pkg/cosign/verify.go VerifyBundle,
// bundleHash).
func envelopeJSON(b *protobundle.Bundle) ([]byte, error) {
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("the bundle holds no DSSE envelope")
	}
	return json.Marshal(env)
}

// bundleOfEntry rebuilds the sigstore bundle (v0.1: certificate or key, Rekor inclusion promise) that a classic
// logged signature or attestation carries in its annotations, so sigstore-go can verify it.
func bundleOfEntry(e entry) (*bundle.Bundle, error) {
	vm := &protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}}
	if e.annotations[certAnnotation] != "" {
		block, _ := pem.Decode([]byte(e.annotations[certAnnotation]))
		if block == nil {
			return nil, errors.New("the certificate annotation holds no PEM certificate")
		}
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
			Certificates: []*protocommon.X509Certificate{{RawBytes: block.Bytes}}}}
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
	vm.TlogEntries = []*protorekor.TransparencyLogEntry{{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: rb.Payload.Body,
	}}
	pb := &protobundle.Bundle{MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1", VerificationMaterial: vm}
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

// Policy is what a signature must satisfy: a public key (and, unless the log is ignored, a Rekor entry), or a
// certificate for an identity from an issuer under a trusted root.
type Policy struct {
	key      signature.Verifier
	identity verify.CertificateIdentity
	// trusted is the trust root of keyless signatures; with a key, the Rekor logs a signature must be entered
	// in (nil: the log is ignored).
	trusted root.TrustedMaterial
}

// KeyPolicy accepts what the key v signed and, when logs is not nil, entered in one of its Rekor logs (what cosign
// verify --key checks unless given --insecure-ignore-tlog).
func KeyPolicy(v signature.Verifier, logs root.TrustedMaterial) *Policy {
	return &Policy{key: v, trusted: logs}
}

// Identity is what a keyless certificate must name: its identity (subject alternative name) and OIDC issuer,
// each exactly or by a Go regular expression, matched unanchored as cosign matches its -regexp flags.
type Identity struct {
	SAN, SANRegexp       string
	Issuer, IssuerRegexp string
}

// IdentityPolicy accepts keyless signatures whose certificate names id, under trusted.
func IdentityPolicy(id Identity, trusted root.TrustedMaterial) (*Policy, error) {
	ci, err := verify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegexp, id.SAN, id.SANRegexp)
	if err != nil {
		return nil, fmt.Errorf(`inputs "certificate-identity(-regexp)" and "certificate-oidc-issuer(-regexp)": %w`, err)
	}
	return &Policy{identity: ci, trusted: trusted}, nil
}

// errNoRekorEntry is a key's signature without a Rekor entry where the policy needs one.
var errNoRekorEntry = errors.New("a signature with no Rekor entry (signed with tlog-upload: false, or by an older version): " +
	"verify it with insecure-ignore-tlog: true, as cosign needs --insecure-ignore-tlog")

// logged tells whether the policy needs a Rekor entry of a key's signature.
func (p *Policy) logged() bool { return p.key != nil && p.trusted != nil }

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
		var tm root.TrustedMaterial = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(p.key, time.Time{}, time.Time{}), nil
		})
		opts := []verify.VerifierOption{verify.WithNoObserverTimestamps()}
		if p.logged() { // the entry's signed entry timestamp (or inclusion proof) by a trusted log, over this signature
			if entries, err := b.TlogEntries(); err != nil || len(entries) == 0 {
				return errNoRekorEntry
			}
			tm = root.TrustedMaterialCollection{p.trusted, tm}
			opts = append(opts, verify.WithTransparencyLog(1))
		}
		v, err := verify.NewVerifier(tm, opts...)
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

// rekorLogs is trusted material of Rekor logs alone: what key-based verify needs.
type rekorLogs struct {
	root.BaseTrustedMaterial
	logs map[string]*root.TransparencyLog
}

func (r *rekorLogs) RekorLogs() map[string]*root.TransparencyLog { return r.logs }

// rekorKeyLogs trusts the one Rekor log whose public key is pemKey, as cosign trusts SIGSTORE_REKOR_PUBLIC_KEY:
// the log's ID is the SHA-256 of the key's DER (cosign v2.6.5 pkg/cosign/tlog.go GetTransparencyLogID), valid
// since ever.
func rekorKeyLogs(pemKey string) (root.TrustedMaterial, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(strings.TrimSpace(pemKey)))
	if err != nil {
		return nil, fmt.Errorf(`input "rekor-public-key" is not a PEM public key: %w`, err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return nil, fmt.Errorf(`input "rekor-public-key": %w`, err)
	}
	id := sha256.Sum256(der)
	return &rekorLogs{logs: map[string]*root.TransparencyLog{hex.EncodeToString(id[:]): {
		ID: id[:], PublicKey: pub, HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: time.Unix(0, 0),
	}}}, nil
}
