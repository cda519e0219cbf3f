package sign

import (
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// cosignBinary is a real cosign of a major version (scripts/dev-env.sh builds v2.6.5 and v3.1.3).
func cosignBinary(t *testing.T, major string) string {
	t.Helper()
	path := os.Getenv("SCRIBE_COSIGN_" + major)
	_, err := os.Stat(path)
	if path == "" {
		err = os.ErrNotExist
	}
	testenv.Need(t, "cosign "+major+" (SCRIBE_COSIGN_"+major+")", err)
	return path
}

func cosign(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	return cosignB(bin, dir, args...)
}

func cosignB(bin, dir string, args ...string) (string, error) {
	return cosignEnv(bin, dir, nil, args...)
}

// cosignEnv runs cosign with env added to the environment: a private sigstore's keys.
func cosignEnv(bin, dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "COSIGN_PASSWORD=cosign test password", "COSIGN_YES=true"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// privateSigstore is how cosign v2 and v3 are pointed at the fake sigstore, as at a private one, through the
// environment variables cosign documents: its Fulcio roots, CT log key and Rekor key, and an empty TUF cache
// (so the public instance's trust root is not used).
func privateSigstore(t *testing.T, f *fakeSigstore) []string {
	dir := t.TempDir()
	roots := filepath.Join(dir, "fulcio.pem")
	os.WriteFile(roots, append(pemCert(f.fulcioRoot.Raw), pemCert(f.fulcioInterm.Raw)...), 0o644)
	ctKey := filepath.Join(dir, "ctlog.pub")
	ctPub, _ := cryptoutils.MarshalPublicKeyToPEM(&f.ctKey.PublicKey)
	os.WriteFile(ctKey, ctPub, 0o644)
	rekorKey := filepath.Join(dir, "rekor.pub")
	os.WriteFile(rekorKey, []byte(f.rekorPublicKey()), 0o644)
	return []string{"SIGSTORE_ROOT_FILE=" + roots, "SIGSTORE_REKOR_PUBLIC_KEY=" + rekorKey, "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=" + ctKey, "TUF_ROOT=" + t.TempDir()}
}

// Keys from `cosign generate-key-pair` v2.6.5; images in the real registry; our signatures and attestations,
// each entered in the fake sigstore's Rekor, must be what cosign v2 and v3 accept without --insecure-ignore-tlog,
// for the index and every platform.
func TestCosignAcceptsOurSignatures(t *testing.T) {
	cosignAccepts(t, "tag", map[string]string{"cosign v2.6.5": cosignBinary(t, "V2"), "cosign v3.1.3": cosignBinary(t, "V3")})
}

// Our sigstore bundles as OCI referrers (storage: referrers) are what cosign v3 reads by default.
func TestCosignAcceptsOurReferrers(t *testing.T) {
	cosignAccepts(t, "referrers", map[string]string{"cosign v3.1.3": cosignBinary(t, "V3")})
}

// predicateFiles are attest-predicate files of cosign attest --type kinds, each with its --type.
var predicateFiles = []struct{ typ, content string }{
	{"custom", "built by the scribe\n"},
	{"spdx", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n"},
	{"link", `{"_type":"link","name":"build","materials":{},"products":{},"byproducts":{},"command":["make"],"environment":{}}`},
	{"openvex", `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex-1","author":"scribe","timestamp":"2026-01-02T03:04:05Z","version":1,"statements":[]}`},
	{"https://example.com/scribe/review/v1", `{"reviewed":true}`},
}

func cosignAccepts(t *testing.T, storage string, cosigns map[string]string) {
	v2 := cosignBinary(t, "V2")
	reg := testenv.NeedRegistry(t)
	f := newFakeSigstore(t)
	env := privateSigstore(t, f)
	dir := t.TempDir()
	if out, err := cosign(t, v2, dir, "generate-key-pair"); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, out)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	repo := testenv.Unique(t, reg)
	single := testenv.Push(t, repo+":single", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	index := testenv.Push(t, repo+":multi", testenv.Index(t, "linux/amd64", "linux/arm64"))
	unlogged := testenv.Push(t, repo+":unlogged", testenv.Image(t, "linux/amd64", testenv.Layer{"u": "1"}))
	sbom := filepath.Join(dir, "app-sbom.cdx.json")
	os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"container","name":"app"}},"components":[]}`), 0o644)
	sign := func(digest string, extra map[string]string) {
		t.Helper()
		in := map[string]string{"image": repo + "@" + digest, "key": string(key), "key-password": "cosign test password", "storage": storage, "rekor-url": f.rekor.URL}
		maps.Copy(in, extra)
		if r := runSign(t, in); r.code != 0 {
			t.Fatalf("sign %v: exit %d\n%s", extra, r.code, r.log)
		}
	}
	for _, digest := range []string{single.String(), index.String()} {
		sign(digest, map[string]string{"attest-sbom": sbom, "attest-provenance": "true"})
	}
	for i, p := range predicateFiles {
		path := filepath.Join(dir, fmt.Sprintf("predicate-%d", i))
		os.WriteFile(path, []byte(p.content), 0o644)
		sign(index.String(), map[string]string{"attest-predicate": path, "attest-type": p.typ})
	}
	sign(unlogged.String(), map[string]string{"tlog-upload": "false", "attest-sbom": sbom})
	d, _ := name.NewDigest(repo + "@" + index.String())
	platforms, err := childDigests(t.Context(), d)
	if err != nil || len(platforms) != 2 {
		t.Fatalf("platforms: %v %v", platforms, err)
	}
	targets := []string{repo + "@" + single.String(), repo + "@" + index.String()}
	for _, p := range platforms {
		targets = append(targets, p.String())
	}
	verify := []string{"verify", "--key", "cosign.pub"}
	attestation := []string{"verify-attestation", "--key", "cosign.pub"}
	if storage == "referrers" { // cosign v3 checks a bundle against a trusted root only, not the keys the environment names
		verify = append(verify, "--trusted-root="+f.trustedRoot)
		attestation = append(attestation, "--trusted-root="+f.trustedRoot)
	}
	for label, bin := range cosigns {
		for _, target := range targets {
			out, err := cosignEnv(bin, dir, env, slices.Concat(verify, []string{target})...)
			if err != nil || !strings.Contains(out, "Existence of the claims in the transparency log was verified") {
				t.Errorf("%s verify %s: %v\n%s", label, target, err, out)
			}
		}
		for _, typ := range []string{"cyclonedx", "slsaprovenance1"} {
			for _, target := range targets[:2] {
				if out, err := cosignEnv(bin, dir, env, slices.Concat(attestation, []string{"--type", typ, target})...); err != nil {
					t.Errorf("%s verify-attestation --type %s %s: %v\n%s", label, typ, target, err, out)
				}
			}
		}
		for _, p := range predicateFiles {
			if p.typ == "spdx" && label == "cosign v3.1.3" {
				continue // v3 reads no text predicate: its own attest --type spdx output fails the same way ("found: " no type)
			}
			if out, err := cosignEnv(bin, dir, env, slices.Concat(attestation, []string{"--type", p.typ, targets[1]})...); err != nil {
				t.Errorf("%s verify-attestation --type %s: %v\n%s", label, p.typ, err, out)
			}
		}
		// Made with tlog-upload: false: refused, unless the log is ignored.
		target := repo + "@" + unlogged.String()
		if out, err := cosignEnv(bin, dir, env, slices.Concat(verify, []string{target})...); err == nil {
			t.Errorf("%s accepted a signature with no Rekor entry without --insecure-ignore-tlog:\n%s", label, out)
		}
		if out, err := cosignEnv(bin, dir, env, slices.Concat(attestation, []string{"--type", "cyclonedx", target})...); err == nil {
			t.Errorf("%s accepted an attestation with no Rekor entry without --insecure-ignore-tlog:\n%s", label, out)
		}
		if out, err := cosignEnv(bin, dir, env, slices.Concat(verify, []string{"--insecure-ignore-tlog=true", target})...); err != nil {
			t.Errorf("%s verify --insecure-ignore-tlog=true %s: %v\n%s", label, target, err, out)
		}
	}
	// And cosign refuses what it should: another key; another Rekor.
	other := t.TempDir()
	cosign(t, v2, other, "generate-key-pair")
	for label, bin := range cosigns {
		if out, err := cosignEnv(bin, dir, env, slices.Concat([]string{"verify", "--key", filepath.Join(other, "cosign.pub")}, verify[3:], []string{targets[0]})...); err == nil {
			t.Errorf("%s accepted our signature with another key:\n%s", label, out)
		}
		another := newFakeSigstore(t)
		anotherVerify := []string{"verify", "--key", "cosign.pub", targets[0]}
		if storage == "referrers" {
			anotherVerify = []string{"verify", "--key", "cosign.pub", "--trusted-root=" + another.trustedRoot, targets[0]}
		}
		if out, err := cosignEnv(bin, dir, privateSigstore(t, another), anotherVerify...); err == nil {
			t.Errorf("%s accepted our signature with another Rekor's key:\n%s", label, out)
		}
	}
}

// The other way round: what cosign signs and attests, entered in the fake sigstore's Rekor, our verify accepts
// against that Rekor's key; v3 in its classic mode too. What cosign signs with --tlog-upload=false our verify
// accepts only with insecure-ignore-tlog.
func TestOurVerifyAcceptsCosign(t *testing.T) {
	v2, v3 := cosignBinary(t, "V2"), cosignBinary(t, "V3")
	reg := testenv.NeedRegistry(t)
	f := newFakeSigstore(t)
	env := privateSigstore(t, f)
	dir := t.TempDir()
	if out, err := cosign(t, v2, dir, "generate-key-pair"); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	os.WriteFile(filepath.Join(dir, "review.json"), []byte(`{"reviewed":true}`), 0o644)
	repo := testenv.Unique(t, reg)
	rekor := "--rekor-url=" + f.rekor.URL
	for _, c := range []struct {
		label  string
		args   [][]string // cosign commands, the image's reference appended
		logged bool
	}{
		{"v2", [][]string{{v2, "sign", "--key", "cosign.key", rekor},
			{v2, "attest", "--key", "cosign.key", rekor, "--type", "https://example.com/review/v1", "--predicate", "review.json"}}, true},
		{"v3", [][]string{{v3, "sign", "--key", "cosign.key", rekor, "--new-bundle-format=false", "--use-signing-config=false"}}, true},
		{"v3-bundle", [][]string{{v3, "sign", "--key", "cosign.key", rekor, "--use-signing-config=false", "--new-bundle-format=true"}}, true}, // v3's default: a bundle referrer
		{"v2-unlogged", [][]string{{v2, "sign", "--key", "cosign.key", "--tlog-upload=false"}}, false},
	} {
		digest := testenv.Push(t, repo+":"+c.label, testenv.Image(t, "linux/amd64", testenv.Layer{"who": c.label}))
		target := repo + "@" + digest.String()
		for _, args := range c.args {
			if out, err := cosignEnv(args[0], dir, env, slices.Concat(args[1:], []string{target})...); err != nil {
				t.Fatalf("cosign %s %s: %v\n%s", c.label, args[1], err, out)
			}
		}
		d, _ := name.NewDigest(target)
		if classic, _ := readEntries(t.Context(), tagFor(d, ".sig")); (c.label == "v3-bundle") != (len(classic) == 0) {
			t.Errorf("cosign %s wrote %d classic signatures", c.label, len(classic))
		}
		r := runSign(t, map[string]string{"image": target, "verify": "true", "public-key": string(pub), "rekor-public-key": f.rekorPublicKey()})
		if c.logged && (r.code != 0 || !strings.Contains(r.summary, "| `"+digest.String()+"` | 1 |")) {
			t.Errorf("cosign %s signature: exit %d\n%s\n%s", c.label, r.code, r.log, r.summary)
		}
		if len(c.args) > 1 && !strings.Contains(r.summary, "Attestation verified: `https://example.com/review/v1`") {
			t.Errorf("cosign %s attestation: %s", c.label, r.summary)
		}
		if !c.logged {
			if r.code != 1 || !strings.Contains(r.log, "no Rekor entry") {
				t.Errorf("cosign %s signature verified without a Rekor entry: exit %d\n%s", c.label, r.code, r.log)
			}
			r = runSign(t, map[string]string{"image": target, "verify": "true", "public-key": string(pub), "insecure-ignore-tlog": "true"})
			if r.code != 0 {
				t.Errorf("cosign %s signature, insecure-ignore-tlog: exit %d\n%s", c.label, r.code, r.log)
			}
		}
	}
}

// Keyless signatures in classic storage are what cosign verifies by identity and issuer: cosign v2 and v3,
// given the fake sigstore's Fulcio roots, CT log key and Rekor key as a private sigstore is configured (the
// certificate's embedded SCT checked), accept ours.
func TestCosignVerifiesOurKeyless(t *testing.T) {
	reg := testenv.NeedRegistry(t)
	f := newFakeSigstore(t)
	repo := testenv.Unique(t, reg)
	digest := testenv.Push(t, repo+":keyless", testenv.Index(t, "linux/amd64", "linux/arm64"))
	image := repo + "@" + digest.String()
	sbom := filepath.Join(t.TempDir(), "app-sbom.cdx.json")
	os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}`), 0o644)
	if r := runSignEnv(t, map[string]string{"image": image, "keyless": "true", "fulcio-url": f.fulcio.URL, "rekor-url": f.rekor.URL, "attest-sbom": sbom}, f.env()); r.code != 0 {
		t.Fatalf("keyless sign: exit %d\n%s", r.code, r.log)
	}
	env := privateSigstore(t, f)
	for label, bin := range map[string]string{"cosign v2.6.5": cosignBinary(t, "V2"), "cosign v3.1.3": cosignBinary(t, "V3")} {
		for _, c := range []struct {
			identity string
			ok       bool
		}{{f.identity(), true}, {"https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main", false}} {
			for _, args := range [][]string{{"verify"}, {"verify-attestation", "--type", "cyclonedx"}} {
				out, err := cosignEnv(bin, t.TempDir(), env, slices.Concat(args, []string{"--certificate-identity", c.identity,
					"--certificate-oidc-issuer", githubIssuer, "--use-signed-timestamps=false", image})...)
				if c.ok {
					t.Logf("%s %s: %s", label, args[0], firstLines(out, 3))
				}
				if (err == nil) != c.ok {
					t.Errorf("%s %s --certificate-identity %s: %v (want ok=%t)\n%s", label, args[0], c.identity, err, c.ok, out)
				}
			}
		}
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
