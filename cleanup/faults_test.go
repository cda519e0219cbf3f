package cleanup

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// faultyRegistry is an in-process registry that fails reads or deletes of chosen manifests with 500.
func faultyRegistry(t *testing.T, failGet, failDelete func(path string) bool) string {
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") &&
			(r.Method == http.MethodGet && failGet(r.URL.Path) || r.Method == http.MethodDelete && failDelete(r.URL.Path)) {
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"boom"}]}`, http.StatusInternalServerError)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestCleanupFailsClosedOnUnreadableManifest(t *testing.T) {
	var broken string
	host := faultyRegistry(t, func(p string) bool { return broken != "" && strings.HasSuffix(p, broken) }, func(string) bool { return false })
	old := testenv.Push(t, host+"/acme/app:old", testenv.Index(t, "linux/amd64", "linux/arm64"))
	testenv.Push(t, host+"/acme/app:new", testenv.Index(t, "linux/amd64"))
	idx, _ := remote.Index(mustRepo(t, host+"/acme/app").Digest(old.String()))
	im, _ := idx.IndexManifest()
	broken = im.Manifests[1].Digest.String() // a platform manifest of the old image cannot be read

	code, log, out := runStep(t, Action(), map[string]string{"registry": host, "packages": "acme/app", "keep-n-tagged": "1", "dry-run": "false"})
	if code != 1 || !strings.Contains(log, "nothing is deleted from an incomplete graph") || out["deleted"] != "0" {
		t.Errorf("exit %d, deleted %s\n%s", code, out["deleted"], log)
	}
	broken = ""
	if _, err := remote.Head(mustRepo(t, host+"/acme/app").Digest(old.String())); err != nil {
		t.Errorf("the old image was deleted although its graph was incomplete: %v", err)
	}
}

// A delete that fails is reported; independent images are still cleaned; what the failed index lists is not touched.
func TestCleanupDeleteFailureSparesChildren(t *testing.T) {
	var failing string
	host := faultyRegistry(t, func(string) bool { return false }, func(p string) bool { return failing != "" && strings.HasSuffix(p, failing) })
	a := testenv.Push(t, host+"/acme/app:a", testenv.Index(t, "linux/amd64", "linux/arm64"))
	b := testenv.Push(t, host+"/acme/app:b", testenv.Index(t, "linux/s390x"))
	testenv.Push(t, host+"/acme/app:c", testenv.Index(t, "linux/riscv64"))
	failing = a.String()
	repo := mustRepo(t, host+"/acme/app")
	idx, _ := remote.Index(repo.Digest(a.String()))
	im, _ := idx.IndexManifest()

	code, log, out := runStep(t, Action(), map[string]string{"registry": host, "packages": "acme/app",
		"delete-tags": "a,b", "dry-run": "false"})
	if code != 1 || !strings.Contains(log, "deleting "+a.String()) || !strings.Contains(log, "Not attempted (an index listing it failed to delete)") {
		t.Errorf("exit %d\n%s", code, log)
	}
	if _, err := remote.Head(repo.Digest(b.String())); err == nil {
		t.Error("the independent image b was not deleted")
	}
	for _, m := range im.Manifests {
		if _, err := remote.Head(repo.Digest(m.Digest.String())); err != nil {
			t.Errorf("a child of the index that failed to delete was deleted: %s", m.Digest)
		}
	}
	if out["failed"] != "1" {
		t.Errorf("failed output %q", out["failed"])
	}
}

func mustRepo(t *testing.T, s string) name.Repository {
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Building the graph reads each distinct manifest once, however many indexes share it.
func TestBuildGraphOneFetchPerDigest(t *testing.T) {
	gets := map[string]int{}
	var mu sync.Mutex
	host := faultyRegistry(t, func(p string) bool {
		mu.Lock()
		gets[p]++
		mu.Unlock()
		return false
	}, func(string) bool { return false })
	shared := testenv.Image(t, "linux/amd64", testenv.Layer{"shared": "1"})
	for i, tag := range []string{"a", "b", "c"} {
		idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: shared, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
		idx = mutate.Annotations(idx, map[string]string{"release": tag, "n": fmt.Sprint(i)}).(v1.ImageIndex)
		testenv.Push(t, host+"/acme/app:"+tag, idx)
	}
	repo := mustRepo(t, host+"/acme/app")
	b := NewOCI(repo)
	versions, err := b.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clear(gets)
	mu.Unlock()
	g, err := BuildGraph(t.Context(), b, versions)
	if err != nil || len(g.Nodes) != 4 {
		t.Fatalf("%v, %d nodes", err, len(g.Nodes))
	}
	for p, n := range gets {
		if n != 1 {
			t.Errorf("%s read %d times", p, n)
		}
	}
	if len(gets) != 4 {
		t.Errorf("%d distinct manifests read, want 4", len(gets))
	}
}

// If the package changed between planning and deleting (a push, another cleanup), nothing is deleted.
func TestApplyStopsWhenThePackageChanged(t *testing.T) {
	host := testenv.Registry(t, false)
	testenv.Push(t, host+"/acme/app:old", testenv.Index(t, "linux/amd64"))
	testenv.Push(t, host+"/acme/app:new", testenv.Index(t, "linux/arm64"))
	b := NewOCI(mustRepo(t, host+"/acme/app"))
	versions, _ := b.Versions(t.Context())
	g, err := BuildGraph(t.Context(), b, versions)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := MakePlan(g, Rules{KeepNTagged: 1, KeepNUntagged: -1, Now: time.Now()})
	if len(p.Delete) == 0 {
		t.Fatal("nothing planned")
	}
	testenv.Push(t, host+"/acme/app:newer", testenv.Index(t, "linux/s390x")) // a push while planning
	if _, err := Apply(t.Context(), b, g, versions, p); err == nil || !strings.Contains(err.Error(), "changed between planning and deleting") {
		t.Errorf("err = %v", err)
	}
	for _, d := range p.Delete {
		if _, err := remote.Head(mustRepo(t, host+"/acme/app").Digest(d.Digest)); err != nil {
			t.Errorf("%s was deleted", d.Digest)
		}
	}
}
