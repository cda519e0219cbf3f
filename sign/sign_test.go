package sign

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"encoding/json"
	"maps"
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

// Signing an index signs it and every platform, each signature and attestation entered in Rekor (a hashedrekord
// entry per classic signature, a dsse entry per DSSE envelope); verify accepts it, with the Rekor key and without
// the log; the secrets appear in no output. In both storage modes, on a registry with the referrers API and on a
// GHCR-like one without it.
func TestSignAndVerifyRecursive(t *testing.T) {
	for _, c := range [][2]string{{"registry", "tag"}, {"ghcr-like", "tag"}, {"registry", "referrers"}, {"ghcr-like", "referrers"}} {
		profile, storage := c[0]+"/"+c[1], c[1]
		host := testenv.Registry(t, true)
		if c[0] == "ghcr-like" {
			host = testenv.GHCRLikeRegistry(t)
		}
		f := newFakeSigstore(t)
		digest := testenv.Push(t, host+"/acme/app:1", testenv.Index(t, "linux/amd64", "linux/arm64"))
		image := host + "/acme/app@" + digest.String()
		password := "correct horse battery staple"
		priv, pub := keyPair(t, password)
		sbom := filepath.Join(t.TempDir(), "app-sbom.cdx.json")
		os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}`), 0o644)

		r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": password, "attest-sbom": sbom, "attest-provenance": "true",
			"storage": storage, "rekor-url": f.rekor.URL})
		if r.code != 0 {
			t.Fatalf("%s: sign: exit %d\n%s", profile, r.code, r.log)
		}
		if storage == "tag" && (strings.Count(r.outputs, ".sig") != 3 || strings.Count(r.outputs, ".att (") != 2) ||
			storage == "referrers" && (strings.Count(r.outputs, "/acme/app@sha256:") != 5 || strings.Contains(r.outputs, ".sig")) {
			t.Errorf("%s: outputs:\n%s", profile, r.outputs)
		}
		want := map[string]int{"hashedrekord": 3, "dsse": 2} // cosign v3's bundles sign a statement: all DSSE
		if storage == "referrers" {
			want = map[string]int{"dsse": 5}
		}
		if got := f.rekorKinds(); !maps.Equal(got, want) {
			t.Errorf("%s: Rekor entries %v, want %v", profile, got, want)
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
		logs, _ := rekorKeyLogs(f.rekorPublicKey())
		otherLogs, _ := rekorKeyLogs(newFakeSigstore(t).rekorPublicKey())
		for _, p := range []struct {
			what   string
			policy *Policy
			ok     bool
		}{{"the Rekor key", KeyPolicy(v, logs), true}, {"the log ignored", KeyPolicy(v, nil), true}, {"another Rekor's key", KeyPolicy(v, otherLogs), false}} {
			res, err := VerifyImage(context.Background(), d, p.policy, true)
			if p.ok && (err != nil || len(res) != 3 || len(res[0].Attestations) != 2) || !p.ok && err == nil {
				t.Errorf("%s: verify with %s: %v %+v", profile, p.what, err, res)
			}
		}
		if storage == "referrers" {
			if entries, _ := readEntries(context.Background(), tagFor(d, ".sig")); len(entries) != 0 {
				t.Errorf("%s: a .sig tag was written", profile)
			}
			continue
		}
		entries, _ := readEntries(context.Background(), tagFor(d, ".sig"))
		if len(entries) != 1 || entries[0].annotations[bundleAnnotation] == "" || entries[0].annotations[certAnnotation] != "" {
			t.Errorf("%s: want one signature with a Rekor bundle and no certificate: %+v", profile, entries)
		}
		// Signing again adds nothing: no signature, no Rekor entry.
		if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": password, "rekor-url": f.rekor.URL}); r.code != 0 {
			t.Fatal(r.log)
		}
		entries, _ = readEntries(context.Background(), tagFor(d, ".sig"))
		if len(entries) != 1 || !maps.Equal(f.rekorKinds(), want) {
			t.Errorf("%s: signing twice left %d signatures, Rekor entries %v", profile, len(entries), f.rekorKinds())
		}
		r = runSign(t, map[string]string{"image": image, "verify": "true", "public-key": pub, "rekor-public-key": f.rekorPublicKey()})
		if r.code != 0 || !strings.Contains(r.summary, "Attestation verified: `https://slsa.dev/provenance/v1`") || !strings.Contains(r.summary, "its Rekor entry") {
			t.Errorf("%s: verify mode: exit %d\n%s\n%s", profile, r.code, r.log, r.summary)
		}
		// The trust root names the same log.
		if r := runSign(t, map[string]string{"image": image, "verify": "true", "public-key": pub, "trusted-root": f.trustedRoot}); r.code != 0 {
			t.Errorf("%s: verify mode with trusted-root: exit %d\n%s", profile, r.code, r.log)
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

	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v, nil), true); err == nil || !strings.Contains(err.Error(), "has no signature") {
		t.Errorf("unsigned: %v", err)
	}
	if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "pw", "tlog-upload": "false"}); r.code != 0 ||
		!strings.Contains(r.log, "--insecure-ignore-tlog=true") {
		t.Fatalf("exit %d, want a word on --insecure-ignore-tlog\n%s", r.code, r.log)
	}
	// Not logged: refused unless the log is ignored.
	f := newFakeSigstore(t)
	logs, _ := rekorKeyLogs(f.rekorPublicKey())
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v, logs), true); err == nil || !strings.Contains(err.Error(), "no Rekor entry") {
		t.Errorf("unlogged: %v", err)
	}
	if r := runSign(t, map[string]string{"image": image, "verify": "true", "public-key": pub, "rekor-public-key": f.rekorPublicKey()}); r.code != 1 ||
		!strings.Contains(r.log, "insecure-ignore-tlog: true") {
		t.Errorf("unlogged, verify mode: exit %d\n%s", r.code, r.log)
	}
	if r := runSign(t, map[string]string{"image": image, "verify": "true", "public-key": pub, "insecure-ignore-tlog": "true"}); r.code != 0 ||
		!strings.Contains(r.summary, "insecure-ignore-tlog") {
		t.Errorf("unlogged, insecure-ignore-tlog: exit %d\n%s\n%s", r.code, r.log, r.summary)
	}
	// The same for a bundle referrer.
	bundled := testenv.Push(t, host+"/acme/app:3", testenv.Image(t, "linux/amd64", testenv.Layer{"c": "3"}))
	bd, _ := name.NewDigest(host + "/acme/app@" + bundled.String())
	if r := runSign(t, map[string]string{"image": bd.String(), "key": priv, "key-password": "pw", "tlog-upload": "false", "storage": "referrers"}); r.code != 0 {
		t.Fatal(r.log)
	}
	if _, err := VerifyImage(context.Background(), bd, KeyPolicy(v, logs), true); err == nil || !strings.Contains(err.Error(), "no Rekor entry") {
		t.Errorf("unlogged bundle: %v", err)
	}
	if _, err := VerifyImage(context.Background(), bd, KeyPolicy(v, nil), true); err != nil {
		t.Errorf("unlogged bundle, the log ignored: %v", err)
	}
	wrong, _ := loadVerifier(otherPub)
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(wrong, nil), true); err == nil || !strings.Contains(err.Error(), "does not verify with the key") {
		t.Errorf("wrong key: %v", err)
	}
	if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "wrong", "tlog-upload": "false"}); r.code != 1 || !strings.Contains(r.log, `input \"key-password\" does not open input \"key\"`) && !strings.Contains(r.log, `"key-password" does not open`) {
		t.Errorf("wrong password: exit %d\n%s", r.code, r.log)
	}

	// Tampered in the registry: the payload changed to name another digest, the signature kept.
	entries, _ := readEntries(context.Background(), tagFor(d, ".sig"))
	tampered := entries[0]
	tampered.payload = bytes.Replace(tampered.payload, []byte(digest.String()), []byte(other.String()), 1)
	writeEntries(context.Background(), tagFor(d, ".sig"), []entry{tampered})
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v, nil), true); err == nil || !strings.Contains(err.Error(), "no valid signature") {
		t.Errorf("tampered payload: %v", err)
	}
	// A valid signature of another digest copied under this one's tag.
	od, _ := name.NewDigest(host + "/acme/app@" + other.String())
	if r := runSign(t, map[string]string{"image": od.String(), "key": priv, "key-password": "pw", "tlog-upload": "false"}); r.code != 0 {
		t.Fatal(r.log)
	}
	moved, _ := readEntries(context.Background(), tagFor(od, ".sig"))
	writeEntries(context.Background(), tagFor(d, ".sig"), moved)
	if _, err := VerifyImage(context.Background(), d, KeyPolicy(v, nil), true); err == nil || !strings.Contains(err.Error(), "names "+other.String()+", not this digest") {
		t.Errorf("digest mismatch: %v", err)
	}
}

// The Rekor entry of a key's signature is checked as cosign checks it: the log's signed entry timestamp over the
// entry, and the entry about this signature, key and payload. A changed entry, one of another signature, or
// none, fails.
func TestVerifyChecksTheRekorEntry(t *testing.T) {
	host := testenv.Registry(t, false)
	f := newFakeSigstore(t)
	priv, pub := keyPair(t, "pw")
	v, _ := loadVerifier(pub)
	logs, _ := rekorKeyLogs(f.rekorPublicKey())
	var ds []name.Digest
	for _, l := range []string{"a", "b"} {
		digest := testenv.Push(t, host+"/acme/app:"+l, testenv.Image(t, "linux/amd64", testenv.Layer{l: "1"}))
		d, _ := name.NewDigest(host + "/acme/app@" + digest.String())
		if r := runSign(t, map[string]string{"image": d.String(), "key": priv, "key-password": "pw", "rekor-url": f.rekor.URL}); r.code != 0 {
			t.Fatal(r.log)
		}
		ds = append(ds, d)
	}
	d := ds[0]
	good, _ := readEntries(t.Context(), tagFor(d, ".sig"))
	other, _ := readEntries(t.Context(), tagFor(ds[1], ".sig"))
	with := func(bundle string) []entry {
		e := good[0]
		e.annotations = maps.Clone(e.annotations)
		e.annotations[bundleAnnotation] = bundle
		return []entry{e}
	}
	var rb map[string]any
	json.Unmarshal([]byte(good[0].annotations[bundleAnnotation]), &rb)
	rb["Payload"].(map[string]any)["integratedTime"] = rb["Payload"].(map[string]any)["integratedTime"].(float64) + 1
	later, _ := json.Marshal(rb)
	for _, c := range []struct {
		what    string
		entries []entry
		wantErr string
	}{
		{"as signed", good, ""},
		{"its time changed", with(string(later)), "Rekor entry does not hold"},
		{"another signature's entry", with(other[0].annotations[bundleAnnotation]), "Rekor entry does not hold"},
		{"no entry", with(""), "no Rekor entry"},
	} {
		if err := writeEntries(t.Context(), tagFor(d, ".sig"), c.entries); err != nil {
			t.Fatal(err)
		}
		_, err := VerifyImage(t.Context(), d, KeyPolicy(v, logs), false)
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: %v, want %q", c.what, err, c.wantErr)
		}
	}
}

// Bad inputs fail with an error naming them, before the registry, the OIDC token or Rekor is asked anything.
func TestInputErrors(t *testing.T) {
	_, pub := keyPair(t, "pw")
	image := "127.0.0.1:1/acme/app@" + testDigest
	for _, c := range []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{"keyless": "true", "tlog-upload": "false"}, `input "tlog-upload" is false with keyless: true`},
		{map[string]string{"key": "x", "attest-predicate": "p.json", "attest-type": "sbom"}, `input "attest-type": "sbom" is neither one of cosign attest's --type values`},
		{map[string]string{"key": "x", "attest-predicate": filepath.Join(t.TempDir(), "missing.json")}, `input "attest-predicate": open `},
		{map[string]string{"verify": "true", "public-key": pub, "rekor-public-key": "nonsense"}, `input "rekor-public-key" is not a PEM public key`},
		{map[string]string{"verify": "true", "public-key": pub, "rekor-public-key": pub, "trusted-root": "trusted_root.json"}, `inputs "rekor-public-key" and "trusted-root" are both set`},
		{map[string]string{"verify": "true", "certificate-identity": "a", "certificate-identity-regexp": "b"}, `inputs "certificate-identity" and "certificate-identity-regexp" are both set`},
		{map[string]string{"verify": "true", "certificate-identity": "a", "certificate-oidc-issuer": "b", "certificate-oidc-issuer-regexp": "c"},
			`inputs "certificate-oidc-issuer" and "certificate-oidc-issuer-regexp" are both set`},
		{map[string]string{"verify": "true", "certificate-identity-regexp": "("}, `input "certificate-identity-regexp": "(" is not a Go regular expression`},
		{map[string]string{"verify": "true", "certificate-identity": "a", "certificate-oidc-issuer-regexp": "[z-a]"}, `input "certificate-oidc-issuer-regexp": "[z-a]" is not a Go regular expression`},
		{map[string]string{"verify": "true", "certificate-identity": "a", "insecure-ignore-tlog": "true"}, `input "insecure-ignore-tlog" is for signatures made with a key`},
		{map[string]string{"verify": "true"}, `verify needs input "public-key", or "certificate-identity" or "certificate-identity-regexp"`},
	} {
		c.inputs["image"] = image
		if r := runSign(t, c.inputs); r.code == 0 || !strings.Contains(r.log, c.want) {
			t.Errorf("%v: exit %d, want an error saying %s\n%s", c.inputs, r.code, c.want, r.log)
		}
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
			if r := runSign(t, map[string]string{"image": image, "key": priv, "key-password": "pw", "storage": storage, "tlog-upload": "false"}); r.code != 0 {
				t.Errorf("signer %d: %s", i, r.log)
			}
		}()
	}
	wg.Wait()
	d, _ := name.NewDigest(image)
	for i, pub := range pubs {
		v, _ := loadVerifier(pub)
		if _, err := VerifyImage(context.Background(), d, KeyPolicy(v, nil), false); err != nil {
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
