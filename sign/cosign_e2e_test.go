package sign

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=cosign test password", "COSIGN_YES=true")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Keys from `cosign generate-key-pair` v2.6.5; images in the real registry; our signatures and attestations
// must be what cosign v2 and v3 accept, for the index and every platform.
func TestCosignAcceptsOurSignatures(t *testing.T) {
	cosignAccepts(t, "tag", map[string]string{"cosign v2.6.5": cosignBinary(t, "V2"), "cosign v3.1.3": cosignBinary(t, "V3")})
}

// Our sigstore bundles as OCI referrers (storage: referrers) are what cosign v3 reads by default.
func TestCosignAcceptsOurReferrers(t *testing.T) {
	cosignAccepts(t, "referrers", map[string]string{"cosign v3.1.3": cosignBinary(t, "V3")})
}

func cosignAccepts(t *testing.T, storage string, cosigns map[string]string) {
	v2 := cosignBinary(t, "V2")
	reg := testenv.NeedRegistry(t)
	dir := t.TempDir()
	if out, err := cosign(t, v2, dir, "generate-key-pair"); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, out)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	repo := testenv.Unique(t, reg)
	single := testenv.Push(t, repo+":single", testenv.Image(t, "linux/amd64", testenv.Layer{"a": "1"}))
	index := testenv.Push(t, repo+":multi", testenv.Index(t, "linux/amd64", "linux/arm64"))
	sbom := filepath.Join(dir, "app-sbom.cdx.json")
	os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"container","name":"app"}},"components":[]}`), 0o644)

	for _, digest := range []string{single.String(), index.String()} {
		r := runSign(t, map[string]string{"image": repo + "@" + digest, "key": string(key), "key-password": "cosign test password",
			"attest-sbom": sbom, "attest-provenance": "true", "storage": storage})
		if r.code != 0 {
			t.Fatalf("sign: exit %d\n%s", r.code, r.log)
		}
	}
	d, _ := name.NewDigest(repo + "@" + index.String())
	platforms, err := childDigests(t.Context(), d)
	if err != nil || len(platforms) != 2 {
		t.Fatalf("platforms: %v %v", platforms, err)
	}
	targets := []string{repo + "@" + single.String(), repo + "@" + index.String()}
	for _, p := range platforms {
		targets = append(targets, p.String())
	}
	for label, bin := range cosigns {
		for _, target := range targets {
			if out, err := cosign(t, bin, dir, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true", target); err != nil {
				t.Errorf("%s verify %s: %v\n%s", label, target, err, out)
			}
		}
		for _, typ := range []string{"cyclonedx", "slsaprovenance1"} {
			for _, target := range targets[:2] {
				if out, err := cosign(t, bin, dir, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog=true", "--type", typ, target); err != nil {
					t.Errorf("%s verify-attestation --type %s %s: %v\n%s", label, typ, target, err, out)
				}
			}
		}
	}
	// And cosign refuses what it should: another key.
	other := t.TempDir()
	cosign(t, v2, other, "generate-key-pair")
	if out, err := cosign(t, v2, dir, "verify", "--key", filepath.Join(other, "cosign.pub"), "--insecure-ignore-tlog=true", targets[0]); err == nil {
		t.Errorf("cosign accepted our signature with another key:\n%s", out)
	}
}

// The other way round: what cosign signs, our verify accepts; v3 in its classic mode too.
func TestOurVerifyAcceptsCosign(t *testing.T) {
	v2, v3 := cosignBinary(t, "V2"), cosignBinary(t, "V3")
	reg := testenv.NeedRegistry(t)
	dir := t.TempDir()
	if out, err := cosign(t, v2, dir, "generate-key-pair"); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	repo := testenv.Unique(t, reg)
	for label, args := range map[string][]string{
		"v2":        {v2, "sign", "--key", "cosign.key", "--tlog-upload=false"},
		"v3":        {v3, "sign", "--key", "cosign.key", "--tlog-upload=false", "--new-bundle-format=false", "--use-signing-config=false"},
		"v3-bundle": {v3, "sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--new-bundle-format=true"}, // v3's default: a bundle referrer
	} {
		digest := testenv.Push(t, repo+":"+label, testenv.Image(t, "linux/amd64", testenv.Layer{"who": label}))
		target := repo + "@" + digest.String()
		if out, err := cosign(t, args[0], dir, append(args[1:], target)...); err != nil {
			t.Fatalf("cosign %s sign: %v\n%s", label, err, out)
		}
		d, _ := name.NewDigest(target)
		if classic, _ := readEntries(t.Context(), tagFor(d, ".sig")); (label == "v3-bundle") != (len(classic) == 0) {
			t.Errorf("cosign %s wrote %d classic signatures", label, len(classic))
		}
		r := runSign(t, map[string]string{"image": target, "verify": "true", "public-key": string(pub)})
		if r.code != 0 || !strings.Contains(r.summary, "| `"+digest.String()+"` | 1 |") {
			t.Errorf("cosign %s signature: exit %d\n%s\n%s", label, r.code, r.log, r.summary)
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
	if r := runSignEnv(t, map[string]string{"image": image, "keyless": "true", "fulcio-url": f.fulcio.URL, "rekor-url": f.rekor.URL}, f.env()); r.code != 0 {
		t.Fatalf("keyless sign: exit %d\n%s", r.code, r.log)
	}
	dir := t.TempDir()
	roots := filepath.Join(dir, "fulcio.pem")
	os.WriteFile(roots, append(pemCert(f.fulcioRoot.Raw), pemCert(f.fulcioInterm.Raw)...), 0o644)
	ctKey := filepath.Join(dir, "ctlog.pub")
	ctPub, _ := cryptoutils.MarshalPublicKeyToPEM(&f.ctKey.PublicKey)
	os.WriteFile(ctKey, ctPub, 0o644)
	rekorKey := filepath.Join(dir, "rekor.pub")
	for _, l := range f.vs.RekorLogs() {
		pub, _ := cryptoutils.MarshalPublicKeyToPEM(l.PublicKey)
		os.WriteFile(rekorKey, pub, 0o644)
	}
	for label, bin := range map[string]string{"cosign v2.6.5": cosignBinary(t, "V2"), "cosign v3.1.3": cosignBinary(t, "V3")} {
		for _, c := range []struct {
			identity string
			ok       bool
		}{{f.identity(), true}, {"https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main", false}} {
			cmd := exec.Command(bin, "verify", "--certificate-identity", c.identity, "--certificate-oidc-issuer", githubIssuer,
				"--use-signed-timestamps=false", image)
			cmd.Env = append(os.Environ(), "SIGSTORE_ROOT_FILE="+roots, "SIGSTORE_REKOR_PUBLIC_KEY="+rekorKey,
				"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+ctKey, "TUF_ROOT="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if c.ok {
				t.Logf("%s: %s", label, firstLines(string(out), 3))
			}
			if (err == nil) != c.ok {
				t.Errorf("%s verify --certificate-identity %s: %v (want ok=%t)\n%s", label, c.identity, err, c.ok, out)
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
