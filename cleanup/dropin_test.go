package cleanup

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// authRecorder stands in front of the Packages API stand-in and records the Authorization of every request.
type authRecorder struct {
	URL  string
	mu   sync.Mutex
	seen map[string]int
}

func recordAuth(t *testing.T, api *testenv.PackagesAPI) *authRecorder {
	target, err := url.Parse(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &authRecorder{seen: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen[r.Header.Get("Authorization")]++
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	rec.URL = s.URL
	return rec
}

// runnerDefault is an input's default as the runner gives it to the action: action.yml's default, with the
// ${{ github.token }} expression evaluated to the job's token, as the runner does before the step starts.
func runnerDefault(t *testing.T, input, jobToken string) string {
	t.Helper()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	def := f.Inputs[input].Default
	if def != "${{ github.token }}" {
		t.Fatalf("action.yml: input %q defaults to %q, not the job's token", input, def)
	}
	return jobToken
}

// As delete-package-versions and dataaxiom's action are used: no token, no packages, no owner. The runner fills
// in the job's token from action.yml's default (INPUT_TOKEN), the package is the repository's name and the owner
// its owner; the Packages API sees the job's token on every call. The dry run (the default) deletes nothing.
func TestCleanupDropInDefaults(t *testing.T) {
	f := newGHCR(t, 2)
	rec := recordAuth(t, f.api)
	const jobToken = "ghs_jobtoken"
	inputs := map[string]string{"registry": f.host, "packages-api": "github", "keep-n-tagged": "1",
		"token": runnerDefault(t, "token", jobToken)}
	env := map[string]string{"GITHUB_API_URL": rec.URL, "GITHUB_REPOSITORY": "acme/app", "GITHUB_REPOSITORY_OWNER": "acme"}
	code, log, out := runStepEnv(t, Action(), inputs, env)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if !strings.Contains(log, `packages not given: cleaning package "app", the repository's name (GITHUB_REPOSITORY=acme/app)`) {
		t.Errorf("the log does not say which package was assumed:\n%s", log)
	}
	if out["deleted"] != "12" || !strings.Contains(log, "Would delete (dry run) 12") {
		t.Errorf("planned %s deletions, want 12 (2 old releases x index, 2 platforms, 3 signatures)\n%s", out["deleted"], log)
	}
	for _, c := range f.api.Calls() {
		if !strings.HasPrefix(c, "GET /orgs/acme/packages/container/app/versions") {
			t.Errorf("a dry run called %s", c)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != 1 || rec.seen["Bearer "+jobToken] == 0 {
		t.Errorf("Authorization headers seen: %v; want only the job's token", rec.seen)
	}
}

// The binary run by hand, with no token input and neither GITHUB_TOKEN nor GH_TOKEN: the GitHub Packages API
// is not asked anonymously; the error names the input.
func TestCleanupWithoutTokenOutsideARunner(t *testing.T) {
	host := testenv.GHCRLikeRegistry(t)
	api := testenv.NewPackagesAPI(t, host, "acme", "app", true)
	env := map[string]string{"GITHUB_API_URL": api.URL, "HOME": t.TempDir()}
	var stdout, stderr bytes.Buffer
	code := actionio.Main(context.Background(), "scribe-actions", "test", []actionio.Action{Action()},
		[]string{"cleanup", "--registry", host, "--packages-api", "github", "--owner", "acme", "--packages", "app"},
		actionio.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	want := `error: cleanup: input "token" is not given, and neither GITHUB_TOKEN nor GH_TOKEN is set`
	if code != actionio.ExitFail || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d; want 1 and %q\n%s%s", code, want, stdout.String(), stderr.String())
	}
	if calls := api.Calls(); len(calls) != 0 {
		t.Errorf("the API was called without a token: %v", calls)
	}
}

func TestRepositoryPackage(t *testing.T) {
	for repo, want := range map[string]string{"acme/app": "app", "acme/My-App": "my-app", "": "", "acme": "", "acme/": ""} {
		got, err := RepositoryPackage(func(k string) string { return map[string]string{"GITHUB_REPOSITORY": repo}[k] })
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), `input "packages" is not given`)):
			t.Errorf("%q: %q, %v; want an error naming the input", repo, got, err)
		case want != "" && (err != nil || got != want):
			t.Errorf("%q: %q, %v; want %q", repo, got, err, want)
		}
	}
}

// package-version-ids on GHCR: the two untagged images named are deleted, exactly those; the platform image and
// the signature of v3 that are named too are refused, each a warning naming its version id and what needs it;
// v3 still pulls. The dry run before deletes nothing and says the same.
func TestCleanupPackageVersionIDsOnGHCR(t *testing.T) {
	f := newGHCR(t, 3)
	repo, _ := name.NewRepository(f.host + "/acme/app")
	idOf := func(ref name.Reference) (int64, string) {
		desc, err := remote.Head(ref)
		if err != nil {
			t.Fatal(err)
		}
		return f.ids[desc.Digest.String()], desc.Digest.String()
	}
	filler0, _ := idOf(repo.Tag("tmp-0"))
	filler1, _ := idOf(repo.Tag("tmp-1"))
	idx, err := remote.Index(repo.Tag("v3"))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	platform := im.Manifests[0].Digest.String()
	sig, sigDigest := idOf(repo.Tag("sha256-" + f.releases[2].Hex + ".sig"))
	ids := fmt.Sprintf("%d, %d\n%d,%d", filler0, filler1, f.ids[platform], sig)
	v3 := short(f.releases[2].String()) + " (v3)"
	refusals := []string{
		fmt.Sprintf("version %d (%s) is not deleted: named by package-version-ids, refused: the kept index %s lists it", f.ids[platform], platform, v3),
		fmt.Sprintf("version %d (%s) is not deleted: named by package-version-ids, refused: it is a signature of the kept index %s", sig, sigDigest, v3),
	}

	for _, dryRun := range []string{"true", "false"} {
		code, log, out := f.run(t, map[string]string{"keep-n-tagged": "-1", "package-version-ids": ids, "dry-run": dryRun})
		if code != 0 || out["deleted"] != "2" {
			t.Fatalf("dry-run %s: exit %d, deleted %s\n%s", dryRun, code, out["deleted"], log)
		}
		for _, r := range refusals {
			if !strings.Contains(log, "::warning::"+repo.String()+": "+r) {
				t.Errorf("dry-run %s: no warning %q\n%s", dryRun, r, log)
			}
		}
		var deletes []string
		for _, c := range f.api.Calls() {
			if strings.HasPrefix(c, "DELETE ") {
				deletes = append(deletes, c)
			}
		}
		want := []string{}
		if dryRun == "false" {
			want = []string{fmt.Sprintf("DELETE /orgs/acme/packages/container/app/versions/%d", filler0),
				fmt.Sprintf("DELETE /orgs/acme/packages/container/app/versions/%d", filler1)}
		}
		if strings.Join(sortedCopy(deletes), "\n") != strings.Join(want, "\n") {
			t.Errorf("dry-run %s: deleted %v, want %v", dryRun, deletes, want)
		}
	}
	if _, err := remote.Head(repo.Digest(platform)); err != nil {
		t.Errorf("the refused platform image is gone: %v", err)
	}
	if _, err := remote.Head(repo.Digest(sigDigest)); err != nil {
		t.Errorf("the refused signature is gone: %v", err)
	}
	if _, err := remote.Index(repo.Tag("v3")); err != nil {
		t.Errorf("v3 does not pull: %v", err)
	}
}

// min-versions-to-keep on GHCR: every release counts once, and what the old ones list and their signatures go
// with them; the untagged images, older still, go too; the newest release stays whole and signed.
func TestCleanupMinVersionsToKeepOnGHCR(t *testing.T) {
	f := newGHCR(t, 2)
	code, log, out := f.run(t, map[string]string{"keep-n-tagged": "-1", "min-versions-to-keep": "1", "older-than": "1 day"})
	if code != 0 || out["deleted"] != "14" {
		t.Fatalf("exit %d, deleted %s; want 14 (2 releases x 6 versions, 2 untagged images)\n%s", code, out["deleted"], log)
	}
	repo, _ := name.NewRepository(f.host + "/acme/app")
	if _, err := remote.Index(repo.Tag("v3")); err != nil {
		t.Errorf("v3 does not pull: %v", err)
	}
	if _, err := remote.Head(repo.Tag("sha256-" + f.releases[2].Hex + ".sig")); err != nil {
		t.Errorf("v3's signature is gone: %v", err)
	}
	for _, d := range f.releases[:2] {
		if _, err := remote.Head(repo.Digest(d.String())); err == nil {
			t.Errorf("old release %s is still there", d)
		}
	}
}

// package-version-ids names GitHub Packages versions: on a registry cleaned through its manifest DELETE it is an
// input error, before the registry is read.
func TestCleanupPackageVersionIDsNeedsThePackagesAPI(t *testing.T) {
	code, log, _ := runStep(t, Action(), map[string]string{"registry": "127.0.0.1:1", "packages": "acme/app", "package-version-ids": "12"})
	if code != 1 || !strings.Contains(log, `input "package-version-ids": version ids are the GitHub Packages API's, and 127.0.0.1:1 is cleaned through its manifest DELETE (packages-api: auto)`) {
		t.Errorf("exit %d\n%s", code, log)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
