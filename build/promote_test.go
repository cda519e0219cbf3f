package build

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// Publish after the gate: an index pushed by digest only (no tag reaches it) gets the computed tags when it
// is promoted, in its own repository and, copied whole, in a second one; the digest does not change.
func TestPromoteTagsTheVerifiedDigest(t *testing.T) {
	reg := testenv.Registry(t, true)
	repo, mirror := reg+"/acme/app", reg+"/acme/app-mirror"
	digest := testenv.Push(t, repo+"@sha256:"+strings.Repeat("0", 64), testenv.Index(t, "linux/amd64", "linux/arm64"))
	if _, err := remote.Head(mustRef(t, repo+":main")); err == nil {
		t.Fatal("the tag exists before the promote")
	}
	r := runAction(t, map[string]string{"promote": repo + "@" + digest.String(), "images": repo + "\n" + mirror,
		"tags": "type=ref,event=branch\ntype=raw,value=latest,enable={{is_default_branch}}", "tag-suffix": "staging"})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	for _, ref := range []string{repo + ":main", repo + ":latest", repo + ":staging", mirror + ":main", mirror + ":staging"} {
		d, err := remote.Head(mustRef(t, ref))
		if err != nil || d.Digest != digest {
			t.Errorf("%s: %v, %v (want %s)", ref, d, err, digest)
		}
	}
	if r.outputs["digest"] != digest.String() || !strings.Contains(r.outputs["tags"], repo+":latest") {
		t.Errorf("outputs: digest %q, tags %q", r.outputs["digest"], r.outputs["tags"])
	}
	if !strings.Contains(r.outputs["platform-digests"], "linux/arm64") {
		t.Errorf("platform-digests = %s", r.outputs["platform-digests"])
	}
}

// A promote names an image by digest, and builds nothing: a tag, or push inputs beside it, are refused before
// anything is written.
func TestPromoteRefusesBadInput(t *testing.T) {
	digest := "127.0.0.1:9/acme/app@sha256:" + strings.Repeat("a", 64)
	excludes := `tags an image that is already pushed: it needs input "images" (where the tags go) and excludes "merge", "push" and "push-by-digest"`
	cases := map[string]struct {
		in   map[string]string
		want string
	}{
		"names a tag":         {map[string]string{"promote": "127.0.0.1:9/acme/app:main", "images": "127.0.0.1:9/acme/app"}, "promote"},
		"with push":           {map[string]string{"promote": digest, "images": "127.0.0.1:9/acme/app", "push": "true"}, excludes},
		"without images":      {map[string]string{"promote": digest}, excludes},
		"with push-by-digest": {map[string]string{"promote": digest, "images": "127.0.0.1:9/acme/app", "push-by-digest": "true"}, excludes},
	}
	for name, c := range cases {
		r := runAction(t, c.in)
		log := strings.ReplaceAll(r.log, `\"`, `"`)
		if r.code != 1 || !strings.Contains(log, c.want) || strings.Contains(log, "reading 127.0.0.1:9") || strings.Contains(log, "nothing to promote") {
			t.Errorf("%s: exit %d, want %q before any registry is read\n%s", name, r.code, c.want, r.log)
		}
	}
}
