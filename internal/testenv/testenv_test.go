package testenv

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestInProcessRegistryRoundTrip(t *testing.T) {
	host := Registry(t, true)
	idx := Index(t, "linux/amd64", "linux/arm64")
	digest := Push(t, host+"/acme/app:1", idx)

	got, err := remote.Index(mustRef(t, host+"/acme/app@"+digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	im, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 || im.Manifests[1].Platform.Architecture != "arm64" {
		t.Fatalf("index read back: %+v", im.Manifests)
	}
	img, err := got.Image(im.Manifests[1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if files := layerFiles(t, img); files["etc/platform"] != "linux/arm64\n" {
		t.Errorf("arm64 image files: %v", files)
	}
	resp := do(t, http.MethodGet, "http://"+host+"/v2/acme/app/referrers/"+digest.String())
	if resp.StatusCode != http.StatusOK {
		t.Errorf("referrers API: %s", resp.Status)
	}
}

func TestGHCRLikeRegistry(t *testing.T) {
	host := GHCRLikeRegistry(t)
	digest := Push(t, host+"/acme/app:1", Image(t, "linux/amd64", Layer{"a": "1"}))
	if _, err := remote.Image(mustRef(t, host+"/acme/app:1")); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if resp := do(t, http.MethodDelete, "http://"+host+"/v2/acme/app/manifests/"+digest.String()); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("manifest DELETE: %s, want 405", resp.Status)
	}
	if resp := do(t, http.MethodGet, "http://"+host+"/v2/acme/app/referrers/"+digest.String()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("referrers API: %s, want 404", resp.Status)
	}
	if _, err := remote.Image(mustRef(t, host+"/acme/app@"+digest.String())); err != nil {
		t.Errorf("the image is gone after a refused DELETE: %v", err)
	}
}

func TestImageLayersAndWhiteouts(t *testing.T) {
	img := Image(t, "linux/arm64/v8", Layer{"app/": "", "app/a": "one"}, Layer{"app/.wh.a": "", "app/b": "two"})
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	cf, _ := img.ConfigFile()
	if cf.Architecture != "arm64" || cf.Variant != "v8" || len(cf.RootFS.DiffIDs) != 2 {
		t.Errorf("config: %+v", cf)
	}
	files := layerFiles(t, img)
	if _, deleted := files["app/a"]; deleted || files["app/b"] != "two" {
		t.Errorf("final filesystem %v: want app/b and the whiteout to have removed app/a", files)
	}
}

// TestRealBuildxPushesTwoPlatformIndex drives the real environment: docker buildx on the remote BuildKit
// builder builds a two-platform image with a RUN step in each (arm64 under QEMU), pushes it to the
// distribution registry, and the index is read back through go-containerregistry.
func TestRealBuildxPushesTwoPlatformIndex(t *testing.T) {
	docker := NeedDocker(t)
	reg := NeedRegistry(t)
	dir := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		copyFile(t, NeedRootfs(t, arch), filepath.Join(dir, "rootfs-"+arch+".tar"))
	}
	dockerfile := "FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nRUN uname -m > /built-on\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := Unique(t, reg) + ":e2e"
	meta := filepath.Join(dir, "metadata.json")
	if out, err := docker.Run(context.Background(), dir, "buildx", "build", "--builder", docker.Builder,
		"--platform", "linux/amd64,linux/arm64", "--provenance=false", "--no-cache", "--push", "-t", ref,
		"--metadata-file", meta, "."); err != nil {
		t.Fatalf("buildx build: %v\n%s", err, out)
	}
	var md struct {
		Digest string `json:"containerimage.digest"`
	}
	data, err := os.ReadFile(meta)
	if err != nil || json.Unmarshal(data, &md) != nil || md.Digest == "" {
		t.Fatalf("metadata file: %s, %v", data, err)
	}

	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatalf("read back %s: %v", ref, err)
	}
	digest, _ := idx.Digest()
	if digest.String() != md.Digest {
		t.Errorf("index digest %s, buildx said %s", digest, md.Digest)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"amd64": "x86_64\n", "arm64": "aarch64\n"}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if got := layerFiles(t, img)["built-on"]; got != want[m.Platform.Architecture] {
			t.Errorf("%s: the RUN step wrote %q, want %q", m.Platform, got, want[m.Platform.Architecture])
		}
		delete(want, m.Platform.Architecture)
	}
	if len(want) != 0 || len(im.Manifests) != 2 {
		t.Errorf("index has %d manifests, missing platforms %v", len(im.Manifests), want)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// layerFiles reads an image's final filesystem (layers applied, whiteouts honoured) as path -> content.
func layerFiles(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	files := map[string]string{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[strings.TrimPrefix(hdr.Name, "./")] = string(b)
	}
}

func do(t *testing.T, method, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
