package cleanup

import (
	"crypto/elliptic"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
	"github.com/infinite-scribe/scribe-actions/sign"
)

type ghcrFixture struct {
	host     string
	api      *testenv.PackagesAPI
	releases []v1.Hash
	ids      map[string]int64
	pub      string
}

// newGHCR fills a GHCR-like registry with three signed two-platform releases and filler untagged images, and
// lists every manifest as a version in the Packages API, as GHCR does.
func newGHCR(t *testing.T, filler int) *ghcrFixture {
	f := &ghcrFixture{host: testenv.GHCRLikeRegistry(t), ids: map[string]int64{}}
	f.api = testenv.NewPackagesAPI(t, f.host, "acme", "app", true)
	repo, _ := name.NewRepository(f.host + "/acme/app")
	priv, pub, _ := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte("pw"), nil })
	f.pub = string(pub)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i, tag := range []string{"v1", "v2", "v3"} {
		idx := mutate.IndexMediaType(empty.Index, "application/vnd.oci.image.index.v1+json")
		var children []v1.Hash
		for _, p := range []string{"linux/amd64", "linux/arm64"} {
			img := testenv.Image(t, p, testenv.Layer{"release": tag + p})
			pl, _ := v1.ParsePlatform(p)
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: pl}})
			d, _ := img.Digest()
			children = append(children, d)
		}
		d := testenv.Push(t, repo.Tag(tag).String(), idx)
		f.releases = append(f.releases, d)
		if code, log, _ := runStep(t, sign.Action(), map[string]string{"image": repo.Digest(d.String()).String(), "key": string(priv), "key-password": "pw", "tlog-upload": "false"}); code != 0 {
			t.Fatal(log)
		}
		created := base.Add(time.Duration(i) * 24 * time.Hour)
		f.ids[d.String()] = f.api.AddVersion(d.String(), []string{tag}, created)
		for _, c := range children {
			f.ids[c.String()] = f.api.AddVersion(c.String(), nil, created)
			f.addSig(t, repo, c, created)
		}
		f.addSig(t, repo, d, created)
	}
	for i := 0; i < filler; i++ {
		d := testenv.Push(t, repo.Tag(fmt.Sprintf("tmp-%d", i)).String(), testenv.Image(t, "linux/amd64", testenv.Layer{"n": fmt.Sprint(i)}))
		f.ids[d.String()] = f.api.AddVersion(d.String(), nil, base.Add(-time.Hour))
	}
	return f
}

func (f *ghcrFixture) addSig(t *testing.T, repo name.Repository, subject v1.Hash, created time.Time) {
	tag := "sha256-" + subject.Hex + ".sig"
	desc, err := remote.Head(repo.Tag(tag))
	if err != nil {
		t.Fatal(err)
	}
	f.ids[desc.Digest.String()] = f.api.AddVersion(desc.Digest.String(), []string{tag}, created)
}

func (f *ghcrFixture) run(t *testing.T, extra map[string]string) (int, string, map[string]string) {
	inputs := map[string]string{"registry": f.host, "owner": "acme", "packages": "app", "packages-api": "github", "keep-n-tagged": "1",
		"dry-run": "false", "validate": "true", "token": "ghs_test"}
	for k, v := range extra {
		inputs[k] = v
	}
	return runStepEnv(t, Action(), inputs, map[string]string{"GITHUB_API_URL": f.api.URL})
}

// GHCR: versions through the Packages API (1,000+, paginated), manifests through the registry, deletions through
// the API; exactly the calls needed: two listings (plan, and again right before deleting) and one DELETE per
// planned version.
func TestCleanupGHCR(t *testing.T) {
	f := newGHCR(t, 1020)
	code, log, out := f.run(t, nil)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	// 2 old releases x (index + 2 platforms + 3 signatures)
	if out["deleted"] != "12" {
		t.Errorf("deleted %s, want 12\n%s", out["deleted"], log)
	}
	calls := f.api.Calls()
	var gets, deletes int
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c, "GET /orgs/acme/packages/container/app/versions"):
			gets++
		case strings.HasPrefix(c, "DELETE /orgs/acme/packages/container/app/versions/"):
			deletes++
		default:
			t.Errorf("unexpected call %s", c)
		}
	}
	pages := (1020 + 24 + 99) / 100
	if gets != 2*pages || deletes != 12 {
		t.Errorf("%d list pages and %d deletes; want %d and 12", gets, deletes, 2*pages)
	}
	repo, _ := name.NewRepository(f.host + "/acme/app")
	for _, d := range f.releases[:2] {
		if _, err := remote.Head(repo.Digest(d.String())); err == nil {
			t.Errorf("old release %s still there", d)
		}
	}
	if _, err := remote.Index(repo.Tag("v3")); err != nil {
		t.Errorf("v3 does not pull: %v", err)
	}
	if code, log, _ := runStep(t, sign.Action(), map[string]string{"image": repo.Digest(f.releases[2].String()).String(), "verify": "true", "public-key": f.pub, "insecure-ignore-tlog": "true"}); code != 0 {
		t.Errorf("v3 no longer verifies:\n%s", log)
	}
}

// A public version with more than 5,000 downloads needs GitHub Support: reported, not a failure, and what its
// index lists is left alone. A token without packages: write fails clearly, deleting nothing.
func TestCleanupGHCRRefusals(t *testing.T) {
	f := newGHCR(t, 0)
	f.api.Popular[f.ids[f.releases[0].String()]] = true
	code, log, out := f.run(t, nil)
	if code != 0 || !strings.Contains(log, "only GitHub Support can delete it") || out["failed"] != "0" {
		t.Errorf("popular version: exit %d, failed %s\n%s", code, out["failed"], log)
	}
	repo, _ := name.NewRepository(f.host + "/acme/app")
	if _, err := remote.Index(repo.Digest(f.releases[0].String())); err != nil {
		t.Errorf("the popular release's index is broken: %v", err)
	}

	f = newGHCR(t, 0)
	f.api.ReadOnly = true
	code, log, _ = f.run(t, nil)
	if code != 1 || !strings.Contains(log, "permissions: packages: write") {
		t.Errorf("read-only token: exit %d\n%s", code, log)
	}
	repo, _ = name.NewRepository(f.host + "/acme/app")
	for _, d := range f.releases {
		if _, err := remote.Head(repo.Digest(d.String())); err != nil {
			t.Errorf("a refused token still deleted %s", d)
		}
	}
}

// On GHCR too, delete-tags removes one tag of a multi-tagged image and keeps the image: the placeholder the tag
// moves to becomes a version (GHCR makes one per push), found and deleted through the API.
func TestCleanupGHCRRemovesOneTag(t *testing.T) {
	var api *testenv.PackagesAPI
	host := testenv.GHCRLikeRegistryWithHook(t, func(repo, digest, tag string) {
		if api != nil {
			api.Track(repo, digest, tag)
		}
	})
	api = testenv.NewPackagesAPI(t, host, "acme", "app", false) // a user's package
	repo, _ := name.NewRepository(host + "/acme/app")
	d := testenv.Push(t, repo.Tag("pr-7").String(), testenv.Index(t, "linux/amd64"))
	idx, _ := remote.Index(repo.Tag("pr-7"))
	remote.Tag(repo.Tag("sha-abc"), idx)
	im, _ := idx.IndexManifest()
	api.AddVersion(im.Manifests[0].Digest.String(), nil, time.Now()) // the platform image, pushed before tracking began
	f := &ghcrFixture{host: host, api: api}
	code, log, _ := f.run(t, map[string]string{"keep-n-tagged": "-1", "delete-tags": "pr-*"})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	tags, _ := remote.List(repo)
	if len(tags) != 1 || tags[0] != "sha-abc" {
		t.Errorf("tags after: %v, want [sha-abc]", tags)
	}
	if desc, err := remote.Head(repo.Tag("sha-abc")); err != nil || desc.Digest != d {
		t.Errorf("the image under its other tag: %v %v", desc, err)
	}
	var deletes int
	for _, c := range api.Calls() {
		if strings.HasPrefix(c, "DELETE /users/acme/packages/container/app/versions/") {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d version deletes, want 1 (the placeholder)", deletes)
	}
}
