package render

import (
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/infinite-scribe/scribe-actions/cleanup"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// pushed is one build in the registry: its index, what the index lists, the tags it ends with, and its GitHub
// Packages version ids.
type pushed struct {
	index    v1.Hash
	children []v1.Hash
	tags     []string
	ids      []int64
}

// pushBuild pushes a two-platform index as the rendered build does, under every tag in order (a tag already
// elsewhere moves), and lists its manifests as versions created at created, as GHCR does.
func pushBuild(t *testing.T, repo name.Repository, api *testenv.PackagesAPI, commit string, created time.Time, tags, finalTags []string) *pushed {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	p := &pushed{tags: finalTags}
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		img := testenv.Image(t, pl, testenv.Layer{"app/commit": commit + " " + pl})
		plat, _ := v1.ParsePlatform(pl)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
		d, _ := img.Digest()
		p.children = append(p.children, d)
	}
	p.index = testenv.Push(t, repo.Tag(tags[0]).String(), idx)
	for _, tag := range tags[1:] {
		if err := remote.Tag(repo.Tag(tag), idx); err != nil {
			t.Fatal(err)
		}
	}
	p.ids = append(p.ids, api.AddVersion(p.index.String(), finalTags, created))
	for _, c := range p.children {
		p.ids = append(p.ids, api.AddVersion(c.String(), nil, created))
	}
	return p
}

func shaTag(commit string) string { return fmt.Sprintf("sha-%x", sha256.Sum256([]byte(commit)))[:11] }

// TestRenderedCleanupKeepsWhatMatters runs the cleanup action with the inputs of the rendered default workflow
// (only the token, registry and package name, which are ${{ }} on a runner, are filled in) against the real
// registry, with creation dates from the GitHub Packages API stand-in. The history: 15 pushes to main (each
// tagged main, which moves, and sha-<commit>), releases v1.0.0 and v1.1.0 tagged as the rendered rules tag
// them, a prod deployment (a workflow_dispatch build of the branch's head, a commit outside the service's paths
// so no push built it: main, sha-<commit>, prod), and a platform image pushed by digest a minute ago by a run
// that has not merged it yet. Kept: both releases, latest, prod, main, the newest 10 of the 15 pushes and the
// in-flight image, all still pulling; deleted: exactly the 5 oldest pushes, their indexes and what they list.
func TestRenderedCleanupKeepsWhatMatters(t *testing.T) {
	reg := testenv.NeedRegistry(t)
	files, err := renderRepo(filepath.Join("testdata", "render", "default"), "scribe.yaml", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var workflow []byte
	for _, f := range files {
		if strings.HasSuffix(f.Path, "/backend-docker-build.yml") {
			workflow = f.Content
		}
	}
	with := cleanupInputs(t, workflow)
	if with["dry-run"] != "false" {
		t.Fatalf("the rendered cleanup is a dry run: %v", with)
	}

	owner, pkg := fmt.Sprintf("retention%d", time.Now().UnixNano()), "backend"
	runnerValues := map[string]string{"${{ secrets.GITHUB_TOKEN }}": "ghs_test", "${{ github.event.repository.name }}": pkg}
	inputs := map[string]string{}
	for k, v := range with {
		for expr, value := range runnerValues {
			v = strings.ReplaceAll(v, expr, value)
		}
		if strings.Contains(v, "${{") {
			t.Fatalf("input %s: %q: an expression the test does not fill in", k, v)
		}
		inputs[k] = v
	}
	if inputs["registry"] != "ghcr.io" {
		t.Fatalf("rendered registry %q", inputs["registry"])
	}
	// The local registry stands in for ghcr.io: versions go through the Packages API stand-in, as auto picks
	// for ghcr.io.
	inputs["registry"], inputs["packages-api"] = reg, "github"
	api := testenv.NewPackagesAPI(t, reg, owner, pkg, true)
	repo, err := name.NewRepository(reg + "/" + owner + "/" + pkg)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now().Add(-40 * 24 * time.Hour)
	day := func(d float64) time.Time { return start.Add(time.Duration(d * float64(24*time.Hour))) }
	var mainPushes []*pushed // oldest first
	var releases []*pushed
	for i := 0; i < 15; i++ {
		sha := shaTag(fmt.Sprint("commit ", i))
		mainPushes = append(mainPushes, pushBuild(t, repo, api, sha, day(float64(i)), []string{"main", sha}, []string{sha}))
		switch i {
		case 4:
			sha := shaTag("release 1.0.0")
			releases = append(releases, pushBuild(t, repo, api, sha, day(4.5), []string{"1.0.0", "1.0", sha}, []string{"1.0.0", "1.0", sha}))
		case 9:
			sha := shaTag("release 1.1.0")
			tags := []string{"1.1.0", "1.1", "latest", sha}
			releases = append(releases, pushBuild(t, repo, api, sha, day(9.5), tags, tags))
		}
	}
	prodTags := []string{"main", shaTag("docs commit"), "prod"}
	prod := pushBuild(t, repo, api, "docs commit", day(15), prodTags, prodTags)

	inFlight := testenv.Image(t, "linux/arm64", testenv.Layer{"app/commit": "in flight"})
	inFlightDigest, _ := inFlight.Digest()
	testenv.Push(t, repo.Digest(inFlightDigest.String()).String(), inFlight)
	inFlightID := api.AddVersion(inFlightDigest.String(), nil, time.Now().Add(-time.Minute))

	st := testenv.RunAction(t, cleanup.Action(), inputs, map[string]string{"GITHUB_API_URL": api.URL, "GITHUB_REPOSITORY_OWNER": owner})
	log := st.Log + st.Summary
	if st.Code != 0 {
		t.Fatalf("cleanup: exit %d\n%s", st.Code, log)
	}
	if strings.Contains(log, "::warning::") {
		t.Errorf("a warning with releases protected:\n%s", log)
	}

	// Deleted: exactly the versions of the 5 oldest pushes.
	want := map[string]bool{}
	for _, p := range mainPushes[:5] {
		for _, id := range p.ids {
			want[fmt.Sprintf("DELETE /orgs/%s/packages/container/%s/versions/%d", owner, pkg, id)] = true
		}
	}
	var deletes []string
	for _, c := range api.Calls() {
		if strings.HasPrefix(c, "DELETE ") {
			deletes = append(deletes, c)
			if !want[c] {
				t.Errorf("deleted a version that should stay: %s", c)
			}
		}
	}
	if len(deletes) != len(want) || st.Outputs["deleted"] != fmt.Sprint(len(want)) {
		t.Errorf("%d deletes (output deleted=%s), want %d\n%s", len(deletes), st.Outputs["deleted"], len(want), log)
	}
	for _, p := range mainPushes[:5] {
		for _, d := range append([]v1.Hash{p.index}, p.children...) {
			if _, err := remote.Head(repo.Digest(d.String())); err == nil {
				t.Errorf("%s of %v is still in the registry", d, p.tags)
			}
		}
	}

	// Kept: every other build still pulls, under each of its tags and by digest, down to its layers.
	kept := append(append(append([]*pushed{}, releases...), prod), mainPushes[5:]...)
	var wantTags []string
	for _, p := range kept {
		for _, tag := range p.tags {
			wantTags = append(wantTags, tag)
			idx, err := remote.Index(repo.Tag(tag))
			if err != nil {
				t.Errorf("tag %s does not pull: %v", tag, err)
				continue
			}
			if d, _ := idx.Digest(); d != p.index {
				t.Errorf("tag %s is on %s, want %s", tag, d, p.index)
			}
		}
		for _, c := range p.children {
			img, err := remote.Image(repo.Digest(c.String()))
			if err == nil {
				_, err = img.ConfigFile()
			}
			if err != nil {
				t.Errorf("%v lists %s, which does not pull: %v", p.tags, c, err)
			}
		}
	}
	if img, err := remote.Image(repo.Digest(inFlightDigest.String())); err != nil {
		t.Errorf("the in-flight image was deleted: %v", err)
	} else if _, err := img.Layers(); err != nil {
		t.Errorf("the in-flight image: %v", err)
	}
	if !strings.Contains(log, "younger than untagged-older-than") {
		t.Errorf("the plan does not say why the in-flight image (version %d) stays:\n%s", inFlightID, log)
	}
	tags, err := remote.List(repo)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(tags)
	sort.Strings(wantTags)
	if strings.Join(tags, " ") != strings.Join(wantTags, " ") {
		t.Errorf("tags left:\n  %v\nwant\n  %v", tags, wantTags)
	}
}
