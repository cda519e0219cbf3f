package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/runtime"
	"github.com/go-openapi/strfmt"
	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// fakeSigstore serves what keyless signing talks to, shaped after the real services: the runner's OIDC token
// endpoint, Fulcio's POST /api/v2/signingCert and Rekor's POST /api/v1/log/entries. Rekor's signing key and
// log are sigstore-go's VirtualSigstore; Fulcio has its own CA (VirtualSigstore does not lend its CA key).
type fakeSigstore struct {
	vs                       *ca.VirtualSigstore
	oidcKey, fulcioKey       *ecdsa.PrivateKey
	ctKey                    *ecdsa.PrivateKey // the CT log that Fulcio's certificates carry an SCT of
	fulcioRoot, fulcioInterm *x509.Certificate
	oidc, fulcio, rekor      *httptest.Server
	trustedRoot              string // trusted_root.json for verifiers

	mu                 sync.Mutex
	certs, rekorAdds   int
	requestToken       string
	workflowRef        string
	rekorKindsReceived []string
}

func newFakeSigstore(t *testing.T) *fakeSigstore {
	t.Helper()
	f := &fakeSigstore{requestToken: "runner-request-token", workflowRef: "acme/app/.github/workflows/build.yml@refs/heads/main"}
	var err error
	if f.vs, err = ca.NewVirtualSigstore(); err != nil {
		t.Fatal(err)
	}
	f.oidcKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.ctKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var rootKey *ecdsa.PrivateKey
	if f.fulcioRoot, rootKey, err = ca.GenerateRootCa(); err != nil {
		t.Fatal(err)
	}
	if f.fulcioInterm, f.fulcioKey, err = ca.GenerateFulcioIntermediate(f.fulcioRoot, rootKey); err != nil {
		t.Fatal(err)
	}
	f.oidc = httptest.NewServer(http.HandlerFunc(f.serveToken))
	f.fulcio = httptest.NewServer(http.HandlerFunc(f.serveFulcio))
	f.rekor = httptest.NewServer(http.HandlerFunc(f.serveRekor))
	t.Cleanup(func() { f.oidc.Close(); f.fulcio.Close(); f.rekor.Close() })

	// The trust root a verifier is given: this Fulcio's CA and VirtualSigstore's Rekor log.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range f.vs.RekorLogs() {
		raw, _ := hex.DecodeString(id)
		cp := *l
		cp.ID = raw
		logs[id] = &cp
	}
	fca := &root.FulcioCertificateAuthority{Root: f.fulcioRoot, Intermediates: []*x509.Certificate{f.fulcioInterm},
		ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour), URI: f.fulcio.URL}
	ctID := f.ctLogID()
	ctLogs := map[string]*root.TransparencyLog{hex.EncodeToString(ctID[:]): {BaseURL: "https://ctfe.localhost", ID: ctID[:],
		ValidityPeriodStart: time.Now().Add(-time.Hour), HashFunc: crypto.SHA256, PublicKey: &f.ctKey.PublicKey, SignatureHashFunc: crypto.SHA256}}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{fca}, ctLogs, nil, logs)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	f.trustedRoot = filepath.Join(t.TempDir(), "trusted_root.json")
	os.WriteFile(f.trustedRoot, raw, 0o644)
	return f
}

// env is what a runner gives a job with `permissions: id-token: write`.
func (f *fakeSigstore) env() map[string]string {
	return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": f.oidc.URL + "/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": f.requestToken}
}

func (f *fakeSigstore) identity() string { return "https://github.com/" + f.workflowRef }

// rekorPublicKey is the PEM public key of the fake's Rekor log: what cosign's SIGSTORE_REKOR_PUBLIC_KEY file
// holds, and the rekor-public-key input.
func (f *fakeSigstore) rekorPublicKey() string {
	for _, l := range f.vs.RekorLogs() {
		pub, _ := cryptoutils.MarshalPublicKeyToPEM(l.PublicKey)
		return string(pub)
	}
	return ""
}

// rekorKinds counts the kinds of the entries Rekor logged so far (hashedrekord, dsse).
func (f *fakeSigstore) rekorKinds() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	for _, k := range f.rekorKindsReceived {
		n[k]++
	}
	return n
}

// serveToken mints a GitHub Actions ID token (ES256 JWT) for the requested audience.
func (f *fakeSigstore) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.requestToken {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": githubIssuer, "aud": r.URL.Query().Get("audience"), "sub": "repo:acme/app:ref:refs/heads/main",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "repository": "acme/app",
		"ref": "refs/heads/main", "sha": "860c1904a1ce19322e91ac35af1ab07466440c37", "job_workflow_ref": f.workflowRef,
		"workflow_ref": f.workflowRef, "event_name": "push", "runner_environment": "github-hosted"}
	json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": f.jwt(claims)})
}

func (f *fakeSigstore) jwt(claims map[string]any) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	signing := enc(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "fake"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	r, s, _ := ecdsa.Sign(rand.Reader, f.oidcKey, sum[:])
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// claims checks a token's signature, audience and expiry, as Fulcio does.
func (f *fakeSigstore) claims(token string) (map[string]any, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(&f.oidcKey.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, false
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if json.Unmarshal(raw, &c) != nil || c["aud"] != "sigstore" || int64(c["exp"].(float64)) < time.Now().Unix() {
		return nil, false
	}
	return c, true
}

// serveFulcio issues a short-lived code signing certificate for the key whose holder proved possession by
// signing the token's subject, naming the workflow as the identity and the token's issuer.
func (f *fakeSigstore) serveFulcio(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/signingCert" {
		http.NotFound(w, r)
		return
	}
	c, ok := f.claims(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":16,"message":"There was an error processing the identity token"}`))
		return
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey         struct{ Algorithm, Content string } `json:"publicKey"`
			ProofOfPossession []byte                              `json:"proofOfPossession"`
		} `json:"publicKeyRequest"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"code":3,"message":"`+err.Error()+`"}`, http.StatusBadRequest)
		return
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
	ecPub, isEC := pub.(*ecdsa.PublicKey)
	sum := sha256.Sum256([]byte(c["sub"].(string)))
	if err != nil || !isEC || !ecdsa.VerifyASN1(ecPub, sum[:], req.PublicKeyRequest.ProofOfPossession) {
		http.Error(w, `{"code":3,"message":"The signature supplied in the request could not be verified"}`, http.StatusBadRequest)
		return
	}
	issuerExt, _ := asn1.MarshalWithParams(c["iss"].(string), "utf8")
	sanURI, _ := url.Parse("https://github.com/" + c["job_workflow_ref"].(string))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs:         []*url.URL{sanURI},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte(c["iss"].(string))}, // issuer (v1)
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuerExt},                 // issuer (v2)
		},
	}
	der, err := f.withSCT(tmpl, pub)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	f.mu.Lock()
	f.certs++
	f.mu.Unlock()
	chain := []string{}
	for _, b := range [][]byte{der, f.fulcioInterm.Raw, f.fulcioRoot.Raw} {
		chain = append(chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
}

func (f *fakeSigstore) ctLogID() [32]byte {
	der, _ := x509.MarshalPKIXPublicKey(&f.ctKey.PublicKey)
	return sha256.Sum256(der)
}

// withSCT issues the certificate with an embedded SCT, as Fulcio does: the CT log signs the certificate's TBS
// without the SCT list (what a verifier rebuilds from the final certificate) and the issuer's key hash.
func (f *fakeSigstore) withSCT(tmpl *x509.Certificate, pub any) ([]byte, error) {
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, f.fulcioInterm, pub, f.fulcioKey)
	if err != nil {
		return nil, err
	}
	preCert, err := x509.ParseCertificate(pre)
	if err != nil {
		return nil, err
	}
	sct := ct.SignedCertificateTimestamp{SCTVersion: ct.V1, LogID: ct.LogID{KeyID: f.ctLogID()}, Timestamp: uint64(time.Now().UnixMilli())}
	leaf := ct.MerkleTreeLeaf{Version: ct.V1, LeafType: ct.TimestampedEntryLeafType, TimestampedEntry: &ct.TimestampedEntry{
		EntryType: ct.PrecertLogEntryType, Timestamp: sct.Timestamp,
		PrecertEntry: &ct.PreCert{IssuerKeyHash: sha256.Sum256(f.fulcioInterm.RawSubjectPublicKeyInfo), TBSCertificate: preCert.RawTBSCertificate}}}
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: leaf})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, f.ctKey, sum[:])
	if err != nil {
		return nil, err
	}
	sct.Signature = ct.DigitallySigned{Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA}, Signature: sig}
	serialized, err := cttls.Marshal(sct)
	if err != nil {
		return nil, err
	}
	list, err := cttls.Marshal(ctx509.SignedCertificateTimestampList{SCTList: []ctx509.SerializedSCT{{Val: serialized}}})
	if err != nil {
		return nil, err
	}
	ext, err := asn1.Marshal(list)
	if err != nil {
		return nil, err
	}
	final := *tmpl
	final.ExtraExtensions = append(append([]pkix.Extension(nil), tmpl.ExtraExtensions...), pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}, Value: ext})
	return x509.CreateCertificate(rand.Reader, &final, f.fulcioInterm, pub, f.fulcioKey)
}

// serveRekor logs a proposed entry: canonicalised by Rekor's own types (which check the signature), answered
// with the entry, its signed entry timestamp and an inclusion proof, keyed by UUID, ETag and Location set.
func (f *fakeSigstore) serveRekor(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
		http.NotFound(w, r)
		return
	}
	pe, err := models.UnmarshalProposedEntry(r.Body, runtime.JSONConsumer())
	if err != nil {
		http.Error(w, `{"code":400,"message":"`+err.Error()+`"}`, http.StatusBadRequest)
		return
	}
	impl, err := types.UnmarshalEntry(pe)
	if err != nil {
		http.Error(w, `{"code":400,"message":"`+err.Error()+`"}`, http.StatusBadRequest)
		return
	}
	body, err := types.CanonicalizeEntry(r.Context(), impl)
	if err != nil {
		http.Error(w, `{"code":400,"message":"`+err.Error()+`"}`, http.StatusBadRequest)
		return
	}
	logID, _ := f.vs.RekorLogID()
	now, index := time.Now().Unix(), int64(0) // each entry is the first of its own log: VirtualSigstore proves that
	b64 := base64.StdEncoding.EncodeToString(body)
	set, err := f.vs.RekorSignPayload(tlog.RekorPayload{Body: b64, IntegratedTime: now, LogIndex: index, LogID: logID})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	proof, err := f.vs.GetInclusionProof(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	uuid := hex.EncodeToString(leaf[:])
	f.mu.Lock()
	f.rekorAdds++
	f.rekorKindsReceived = append(f.rekorKindsReceived, pe.Kind())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]models.LogEntryAnon{uuid: {Body: b64, IntegratedTime: &now, LogID: &logID, LogIndex: &index,
		Verification: &models.LogEntryAnonVerification{InclusionProof: proof, SignedEntryTimestamp: strfmt.Base64(set)}}})
}

func runSignEnv(t testing.TB, inputs, env map[string]string) result {
	t.Helper()
	base := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37",
		"GITHUB_REF": "refs/heads/main", "GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/build.yml@refs/heads/main"}
	for k, v := range env {
		base[k] = v
	}
	st := testenv.RunAction(t, Action(), inputs, base)
	return result{code: st.Code, log: st.Log, outputs: st.Output, summary: st.Summary}
}

// Keyless, in both storage modes, recursively with attestations: one certificate per run, a Rekor entry per
// signature; the bundles verify with sigstore-go against the fake's trust root for the workflow's identity,
// and not for another identity, issuer or trust root.
func TestKeylessSignAndVerify(t *testing.T) {
	for _, storage := range []string{"tag", "referrers"} {
		f := newFakeSigstore(t)
		host := testenv.Registry(t, true)
		digest := testenv.Push(t, host+"/acme/app:1", testenv.Index(t, "linux/amd64", "linux/arm64"))
		image := host + "/acme/app@" + digest.String()
		sbom := filepath.Join(t.TempDir(), "app-sbom.cdx.json")
		os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}`), 0o644)

		r := runSignEnv(t, map[string]string{"image": image, "keyless": "true", "storage": storage, "attest-sbom": sbom,
			"attest-provenance": "true", "fulcio-url": f.fulcio.URL, "rekor-url": f.rekor.URL}, f.env())
		if r.code != 0 {
			t.Fatalf("%s: keyless sign: exit %d\n%s", storage, r.code, r.log)
		}
		if f.certs != 1 || f.rekorAdds != 5 {
			t.Errorf("%s: %d certificates, %d Rekor entries (%v); want 1 and 5", storage, f.certs, f.rekorAdds, f.rekorKindsReceived)
		}
		verify := func(identity, issuer, trusted string) result {
			return runSignEnv(t, map[string]string{"image": image, "verify": "true", "certificate-identity": identity,
				"certificate-oidc-issuer": issuer, "trusted-root": trusted}, nil)
		}
		v := verify(f.identity(), githubIssuer, f.trustedRoot)
		if v.code != 0 || strings.Count(v.summary, "| 1 |") != 3 || !strings.Contains(v.summary, "Attestation verified: `https://cyclonedx.org/bom`") ||
			!strings.Contains(v.summary, "Attestation verified: `https://slsa.dev/provenance/v1`") {
			t.Errorf("%s: verify: exit %d\n%s\n%s", storage, v.code, v.log, v.summary)
		}
		if v := verify("https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main", githubIssuer, f.trustedRoot); v.code != 1 {
			t.Errorf("%s: another identity verified", storage)
		}
		if v := verify(f.identity(), "https://accounts.google.com", f.trustedRoot); v.code != 1 {
			t.Errorf("%s: another issuer verified", storage)
		}
		if v := verify(f.identity(), githubIssuer, newFakeSigstore(t).trustedRoot); v.code != 1 || !strings.Contains(v.log, "no valid signature") {
			t.Errorf("%s: another trust root verified: exit %d\n%s", storage, v.code, v.log)
		}
		// The identity and issuer by Go regexp, unanchored as cosign matches them; the issuer GitHub's by default.
		for _, c := range []struct {
			inputs map[string]string
			ok     bool
		}{
			{map[string]string{"certificate-identity": f.identity()}, true},
			{map[string]string{"certificate-identity-regexp": `^https://github\.com/acme/app/\.github/workflows/[^/]+@refs/heads/main$`}, true},
			{map[string]string{"certificate-identity-regexp": `acme/app/`, "certificate-oidc-issuer-regexp": `githubusercontent`}, true},
			{map[string]string{"certificate-identity": f.identity(), "certificate-oidc-issuer-regexp": `^https://token\.actions\.githubusercontent\.com$`}, true},
			{map[string]string{"certificate-identity-regexp": `^https://github\.com/acme/other/`}, false},
			{map[string]string{"certificate-identity-regexp": `acme/app/`, "certificate-oidc-issuer": "https://accounts.google.com"}, false},
			{map[string]string{"certificate-identity": f.identity(), "certificate-oidc-issuer-regexp": `^https://accounts\.google\.com$`}, false},
		} {
			c.inputs["image"], c.inputs["verify"], c.inputs["trusted-root"] = image, "true", f.trustedRoot
			v := runSignEnv(t, c.inputs, nil)
			if c.ok && (v.code != 0 || strings.Count(v.summary, "| 1 |") != 3) || !c.ok && (v.code != 1 || !strings.Contains(v.log, "no valid signature")) {
				t.Errorf("%s: verify %v: exit %d (want ok=%t)\n%s", storage, c.inputs, v.code, c.ok, v.log)
			}
		}
		// The same signatures, read without this run's code, verify with sigstore-go: the classic annotations
		// rebuilt into a bundle, or the referrer's bundle as stored.
		d, _ := name.NewDigest(image)
		tr, _ := root.NewTrustedRootFromPath(f.trustedRoot)
		p, _ := IdentityPolicy(Identity{SAN: f.identity(), Issuer: githubIssuer}, tr)
		if storage == "tag" {
			entries, _ := readEntries(t.Context(), tagFor(d, ".sig"))
			if len(entries) != 1 || entries[0].annotations[certAnnotation] == "" {
				t.Fatalf("classic keyless signature: %+v", entries)
			}
			b, err := bundleOfEntry(entries[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := p.verifyBundle(b, entries[0].payload, d.DigestStr()); err != nil {
				t.Errorf("classic keyless signature: %v", err)
			}
			tampered := entries[0]
			tampered.payload = []byte(strings.Replace(string(tampered.payload), "cosign container image signature", "cosign container image signaturE", 1))
			if err := p.verifyBundle(b, tampered.payload, d.DigestStr()); err == nil {
				t.Error("a changed payload verified")
			}
		} else {
			refs, _ := readReferrers(t.Context(), d)
			if len(refs) != 3 {
				t.Fatalf("want 3 referrers of the index (signature and two attestations), got %d", len(refs))
			}
			for _, ref := range refs {
				if err := p.verifyBundle(ref.bundle, nil, d.DigestStr()); err != nil {
					t.Errorf("referrer %s (%s): %v", ref.ref, ref.predicateType, err)
				}
			}
		}
	}
}

// Without the job's id-token permission there is no token: a clear error before anything is written.
func TestKeylessWithoutToken(t *testing.T) {
	host := testenv.Registry(t, false)
	digest := testenv.Push(t, host+"/acme/app:1", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	r := runSignEnv(t, map[string]string{"image": host + "/acme/app@" + digest.String(), "keyless": "true"}, nil)
	if r.code != 1 || !strings.Contains(r.log, "id-token: write") {
		t.Errorf("exit %d\n%s", r.code, r.log)
	}
	d, _ := name.NewDigest(host + "/acme/app@" + digest.String())
	if entries, _ := readEntries(t.Context(), tagFor(d, ".sig")); len(entries) != 0 {
		t.Error("something was written")
	}
	// A token Fulcio refuses (expired or for another audience) stops signing too.
	f := newFakeSigstore(t)
	env := f.env()
	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
	if r := runSignEnv(t, map[string]string{"image": d.String(), "keyless": "true", "fulcio-url": f.fulcio.URL, "rekor-url": f.rekor.URL}, env); r.code != 1 {
		t.Errorf("a refused token: exit %d\n%s", r.code, r.log)
	}
}
