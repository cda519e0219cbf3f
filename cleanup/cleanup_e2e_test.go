package cleanup

import (
	"crypto/elliptic"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
	"github.com/infinite-scribe/scribe-actions/sign"
)

// runStep runs an action on a fake runner and returns its exit code, log with summary, and outputs.
func runStep(t *testing.T, a actionio.Action, inputs map[string]string) (int, string, map[string]string) {
	t.Helper()
	return runStepEnv(t, a, inputs, nil)
}

func runStepEnv(t *testing.T, a actionio.Action, inputs, env map[string]string) (int, string, map[string]string) {
	t.Helper()
	st := testenv.RunAction(t, a, inputs, env)
	return st.Code, st.Log + st.Summary, st.Outputs
}

// Three releases of a multi-arch image built by buildx with provenance, each signed recursively; keep-n-tagged=1
// deletes the two old indexes, their platform images, their attestation manifests and their signatures; the
// kept image still pulls on both platforms and still verifies.
func TestCleanupKeepsNewestMultiArchImageWhole(t *testing.T) {
	docker := testenv.NeedDocker(t)
	reg := testenv.NeedRegistry(t)
	repo := testenv.Unique(t, reg)
	ctxDir := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		data, err := os.ReadFile(testenv.NeedRootfs(t, arch))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ctxDir, "rootfs-"+arch+".tar"), data, 0o644)
	}
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for i, tag := range []string{"v1", "v2", "v3"} {
		os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nRUN echo release "+tag+" > /release\n"), 0o644)
		md := filepath.Join(ctxDir, "md.json")
		cmd := exec.Command("docker", "buildx", "build", "--builder", docker.Builder, "--platform", "linux/amd64,linux/arm64",
			"--provenance=mode=max", "--push", "-t", repo+":"+tag, "--metadata-file", md, ctxDir)
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+[]string{"1700000000", "1710000000", "1720000000"}[i])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("buildx: %v\n%s", err, out)
		}
		var m map[string]any
		data, _ := os.ReadFile(md)
		json.Unmarshal(data, &m)
		digests = append(digests, m["containerimage.digest"].(string))
		if code, log, _ := runStep(t, sign.Action(), map[string]string{"image": repo + "@" + digests[i], "key": string(priv), "key-password": "pw", "tlog-upload": "false"}); code != 0 {
			t.Fatalf("sign: %s", log)
		}
	}
	ref, _ := name.NewRepository(repo)
	host, pkg, _ := strings.Cut(repo, "/")
	inputs := map[string]string{"registry": host, "packages": pkg, "keep-n-tagged": "1", "validate": "true"}

	// The dry run (the default) deletes nothing and says what it would.
	code, log, out := runStep(t, Action(), inputs)
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, log)
	}
	// each old release: its index, 2 platform images, 2 buildx attestation manifests, 3 signatures
	if out["deleted"] != "16" || !strings.Contains(log, "Would delete (dry run) 16") {
		t.Errorf("dry run planned %s deletions, want 16\n%s", out["deleted"], log)
	}
	for _, d := range digests {
		if _, err := remote.Head(ref.Digest(d)); err != nil {
			t.Fatalf("the dry run deleted %s", d)
		}
	}
	plan, _ := os.ReadFile(out["plan"])
	if !strings.Contains(string(plan), `"dry_run": true`) || !strings.Contains(string(plan), `"reason": "tagged, older than the newest 1 tagged"`) {
		t.Errorf("plan file:\n%.2000s", plan)
	}

	inputs["dry-run"] = "false"
	if code, log, out = runStep(t, Action(), inputs); code != 0 || out["deleted"] != "16" {
		t.Fatalf("cleanup: exit %d, deleted %s\n%s", code, out["deleted"], log)
	}
	for _, d := range digests[:2] {
		if _, err := remote.Head(ref.Digest(d)); err == nil {
			t.Errorf("old release %s is still there", d)
		}
	}
	idx, err := remote.Index(ref.Tag("v3"))
	if err != nil {
		t.Fatalf("the kept image does not pull: %v", err)
	}
	im, _ := idx.IndexManifest()
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatalf("kept %s: %v", m.Digest, err)
		}
		if _, err := img.Layers(); err != nil {
			t.Errorf("kept %s: %v", m.Digest, err)
		}
	}
	if code, log, _ := runStep(t, sign.Action(), map[string]string{"image": repo + "@" + digests[2], "verify": "true", "public-key": string(pub), "insecure-ignore-tlog": "true"}); code != 0 {
		t.Errorf("the kept image no longer verifies:\n%s", log)
	}
	tags, _ := remote.List(ref)
	if len(tags) != 4 { // v3 and the signatures of its index and two platforms
		t.Errorf("tags left: %v", tags)
	}
}

// delete-tags that match some of an image's tags remove those tags and keep the image under the others.
func TestCleanupRemovesOneTagOfMany(t *testing.T) {
	reg := testenv.NeedRegistry(t)
	repo := testenv.Unique(t, reg)
	d := testenv.Push(t, repo+":pr-7", testenv.Index(t, "linux/amd64"))
	ref, _ := name.NewRepository(repo)
	idx, _ := remote.Index(ref.Tag("pr-7"))
	if err := remote.Tag(ref.Tag("sha-abc"), idx); err != nil {
		t.Fatal(err)
	}
	host, pkg, _ := strings.Cut(repo, "/")
	code, log, _ := runStep(t, Action(), map[string]string{"registry": host, "packages": pkg, "delete-tags": "pr-*", "dry-run": "false", "validate": "true"})
	if code != 0 || !strings.Contains(log, "Remove tag `pr-7`") {
		t.Fatalf("exit %d\n%s", code, log)
	}
	tags, _ := remote.List(ref)
	if len(tags) != 1 || tags[0] != "sha-abc" {
		t.Errorf("tags after: %v, want [sha-abc]", tags)
	}
	if desc, err := remote.Head(ref.Tag("sha-abc")); err != nil || desc.Digest != d {
		t.Errorf("the image under its other tag: %v %v", desc, err)
	}
}
