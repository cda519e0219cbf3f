package sign

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

type result struct {
	code                  int
	log, outputs, summary string
}

func runSign(t testing.TB, inputs map[string]string) result {
	t.Helper()
	st := testenv.RunAction(t, Action(), inputs, map[string]string{
		"GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37", "GITHUB_REF": "refs/heads/main",
		"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/build.yml@refs/heads/main", "GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "1"})
	return result{code: st.Code, log: st.Log, outputs: st.Output, summary: st.Summary}
}

// keyPair makes an encrypted key pair in cosign's format (ENCRYPTED SIGSTORE PRIVATE KEY).
func keyPair(t testing.TB, password string) (priv, pub string) {
	t.Helper()
	p, q, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	return string(p), string(q)
}

func TestSignRefusesATag(t *testing.T) {
	r := runSign(t, map[string]string{"image": "127.0.0.1:5000/app:latest", "key": "x", "key-password": "y"})
	if r.code != 1 || !strings.Contains(r.log, `input \"image\": \"127.0.0.1:5000/app:latest\" names a tag`) && !strings.Contains(r.log, `names a tag, which can move; sign by digest: image: ${{ steps.build.outputs.image }}`) {
		t.Errorf("exit %d\n%s", r.code, r.log)
	}
}

// Signing an index signs it and every platform; verify accepts it; the secrets appear in no output.
// In both storage modes, on a registry with the referrers API and on a GHCR-like one without it.
func TestSignAndVerifyRecursive(t *testing.T) {
	for _, c := range [][2]string{{"registry", "tag"}, {"ghcr-like", "tag"}, {"registry", "referrers"}, {"ghcr-like", "referrers"}} {
		profile, storage := c[0]+"/"+c[1], c[1]
		host := testenv.Registry(t, true)
		if c[0] == "ghcr-like" {
			host = testenv.GHCRLikeRegistry(t)
		}
		digest := testenv.Push(t, host+"/acme/app:1", testenv.Index(t, "linux/amd64", "linux/arm64"))
		image := host + "/acme/app@" + digest.String()
		password := "correct horse battery staple"
		priv, pub := keyPair(t, password)
		sbom := filepath.Join(t.TempDir(), "app-sbom.cdx.json")
		os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}`), 0o644)

		r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": password, "attest-sbom": sbom, "attest-provenance": "true", "storage": storage})
		if r.code != 0 {
			t.Fatalf("%s: sign: exit %d\n%s", profile, r.code, r.log)
		}
		if storage == "tag" && (strings.Count(r.outputs, ".sig") != 3 || strings.Count(r.outputs, ".att (") != 2) ||
			storage == "referrers" && (strings.Count(r.outputs, "/acme/app@sha256:") != 5 || strings.Contains(r.outputs, ".sig")) {
			t.Errorf("%s: outputs:\n%s", profile, r.outputs)
		}
		var shown []string // what a reader sees: the runner consumes ::add-mask:: lines
		for _, l := range strings.Split(r.log+r.outputs+r.summary, "\n") {
			if !strings.HasPrefix(l, "::add-mask::") {
				shown = append(shown, l)
			}
		}
		everything := strings.Join(shown, "\n")
		for _, line := range strings.Split(priv, "\n")[1:3] {
			if strings.Contains(everything, line) {
				t.Errorf("%s: a line of the private key is in the output", profile)
			}
		}
		if strings.Contains(everything, password) {
			t.Errorf("%s: the password is in the output", profile)
		}

		d, _ := name.NewDigest(image)
		v, _ := loadVerifier(pub)
		res, err := VerifyImage(context.Background(), d, KeyPolicy(v), true)
		if err != nil || len(res) != 3 || len(res[0].Attestations) != 2 {
			t.Errorf("%s: verify: %v %+v", profile, err, res)
		}
		if storage == "referrers" {
			if entries, _ := readEntries(context.Background(), tagFor(d, ".sig")); len(entries) != 0 {
				t.Errorf("%s: a .sig tag was written", profile)
			}
			continue
		}
		// Signing again adds nothing.
		if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": password}); r.code != 0 {
			t.Fatal(r.log)
		}
		entries, _ := readEntries(context.Background(), tagFor(d, ".sig"))
		if len(entries) != 1 {
			t.Errorf("%s: signing twice left %d signatures", profile, len(entries))
		}
		r = runSign(t, map[string]string{"image": image, "verify": "true", "public-key": pub})
		if r.code != 0 || !strings.Contains(r.summary, "Attestation verified: `https://slsa.dev/provenance/v1`") {
			t.Errorf("%s: verify mode: exit %d\n%s\n%s", profile, r.code, r.log, r.summary)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	host := testenv.Registry(t, false)
	digest := testenv.Push(t, host+"/acme/app:1", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	other := testenv.Push(t, host+"/acme/app:2", testenv.Image(t, "linux/amd64", testenv.Layer{"b": "2"}))
	image := host + "/acme/app@" + digest.String()
	priv, pub := keyPair(t, "pw")
	_, otherPub := keyPair(t, "pw")
	d, _ := name.NewDigest(image)
	v, _ := loadVerifier(pub)

	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v), true); err == nil || !strings.Contains(err.Error(), "has no signature") {
		t.Errorf("unsigned: %v", err)
	}
	if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "pw"}); r.code != 0 {
		t.Fatal(r.log)
	}
	wrong, _ := loadVerifier(otherPub)
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(wrong), true); err == nil || !strings.Contains(err.Error(), "does not verify with the key") {
		t.Errorf("wrong key: %v", err)
	}
	if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "wrong"}); r.code != 1 || !strings.Contains(r.log, `input \"key-password\" does not open input \"key\"`) && !strings.Contains(r.log, `"key-password" does not open`) {
		t.Errorf("wrong password: exit %d\n%s", r.code, r.log)
	}

	// Tampered in the registry: the payload changed to name another digest, the signature kept.
	entries, _ := readEntries(context.Background(), tagFor(d, ".sig"))
	tampered := entries[0]
	tampered.payload = bytes.Replace(tampered.payload, []byte(digest.String()), []byte(other.String()), 1)
	writeEntries(context.Background(), tagFor(d, ".sig"), []entry{tampered})
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v), true); err == nil || !strings.Contains(err.Error(), "no valid signature") {
		t.Errorf("tampered payload: %v", err)
	}
	// A valid signature of another digest copied under this one's tag.
	od, _ := name.NewDigest(host + "/acme/app@" + other.String())
	if r := runSign(t, map[string]string{"image": od.String(), "key": priv, "key-password": "pw"}); r.code != 0 {
		t.Fatal(r.log)
	}
	moved, _ := readEntries(context.Background(), tagFor(od, ".sig"))
	writeEntries(context.Background(), tagFor(d, ".sig"), moved)
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v), true); err == nil || !strings.Contains(err.Error(), "names "+other.String()+", not this digest") {
		t.Errorf("digest mismatch: %v", err)
	}
}

// Two signers appending to the same .sig at the same moment both end up in it.
func TestConcurrentSigners(t *testing.T) {
	host := testenv.Registry(t, false)
	digest := testenv.Push(t, host+"/acme/app:1", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	for round := 0; round < 3; round++ {
		signAtOnce(t, host+"/acme/app@"+digest.String(), 2, "tag")
	}
}

// signAtOnce has n signers, each with its own key, sign image at the same moment, then checks that every one's
// signature verifies.
func signAtOnce(t *testing.T, image string, n int, storage string) {
	t.Helper()
	var wg sync.WaitGroup
	pubs := make([]string, n)
	for i := range pubs {
		priv, pub := keyPair(t, "pw")
		pubs[i] = pub
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "pw", "storage": storage}); r.code != 0 {
				t.Errorf("signer %d: %s", i, r.log)
			}
		}()
	}
	wg.Wait()
	d, _ := name.NewDigest(image)
	for i, pub := range pubs {
		v, _ := loadVerifier(pub)
		if _, err := VerifyImage(context.Background(), d, KeyPolicy(v), false); err != nil {
			t.Errorf("signer %d's signature was lost: %v", i, err)
		}
	}
}

// On a registry without the referrers API, signers adding bundles to the same subject at once must all end up
// in its sha256-<hex> fallback index (a read-modify-write of one tag). Reads of that tag are slowed down here to
// widen the window in which a writer works from a stale copy.
func TestConcurrentReferrersOnGHCRLike(t *testing.T) {
	target, _ := url.Parse("http://" + testenv.GHCRLikeRegistry(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256-") {
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, r)
			time.Sleep(600 * time.Millisecond)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	digest := testenv.Push(t, host+"/acme/app:1", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	signAtOnce(t, host+"/acme/app@"+digest.String(), 3, "referrers")
}
