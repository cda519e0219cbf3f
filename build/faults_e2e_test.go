package build

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// faultyRegistry is a proxy in front of the real registry that answers 503 to the first `failures` manifest
// uploads (every one when failures < 0), and to the first `readFailures` manifest reads.
func faultyRegistry(t *testing.T, backend string, failures, readFailures int32) (string, *atomic.Int32) {
	target, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var puts, gets atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			if r.Method == http.MethodPut && (failures < 0 || puts.Add(1) <= failures) {
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}`, http.StatusServiceUnavailable)
				return
			}
			if r.Method == http.MethodGet && gets.Add(1) <= readFailures {
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}`, http.StatusServiceUnavailable)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), &puts
}

func TestBuildRetriesRegistryFaults(t *testing.T) {
	docker := testenv.NeedDocker(t)
	backend := testenv.NeedRegistry(t)
	dir := buildContext(t, "RUN uname -m > /built-on\n", nil)

	host, puts := faultyRegistry(t, backend, 2, 2)
	repo := strings.TrimPrefix(testenv.Unique(t, backend), backend+"/")
	r := runAction(t, map[string]string{"images": host + "/" + repo, "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": dir, "provenance": "false"})
	if r.code != 0 {
		t.Fatalf("503 twice, then fine: exit %d\n%s", r.code, r.log)
	}
	// BuildKit retries a failed manifest upload itself; the action re-runs the push when it still fails.
	if puts.Load() < 3 {
		t.Errorf("%d manifest uploads; want the 2 failed ones retried\n%s", puts.Load(), r.log)
	}
	if d, err := remote.Head(mustRef(t, backend+"/"+repo+":main")); err != nil || d.Digest.String() != r.outputs["digest"] {
		t.Errorf("the tag after retries: %v %v (digest output %s)", d, err, r.outputs["digest"])
	}

	host, _ = faultyRegistry(t, backend, -1, 0)
	repo = strings.TrimPrefix(testenv.Unique(t, backend), backend+"/")
	r = runAction(t, map[string]string{"images": host + "/" + repo, "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": dir, "provenance": "false"})
	if r.code != 1 || !strings.Contains(r.log, "docker buildx build failed") || !strings.Contains(r.log, "503") {
		t.Errorf("always 503: exit %d\n%s", r.code, r.log)
	}
	if _, err := remote.Head(mustRef(t, backend+"/"+repo+":main")); err == nil {
		t.Error("a tag was written although every manifest upload failed")
	}
	if r.outputs["digest"] != "" {
		t.Errorf("a failed push set the digest output: %s", r.outputs["digest"])
	}
}
