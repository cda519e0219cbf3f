package testenv

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry starts go-containerregistry's in-process registry and returns its host:port. With referrers
// it also answers the OCI 1.1 referrers API.
func Registry(t testing.TB, referrers bool) string {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers))
	return serve(t, h)
}

// AdminHeader lets a test's stand-in for the GitHub Packages API delete from a GHCR-like registry, as GitHub's
// own backend does behind the API.
const AdminHeader = "X-Scribe-Packages-Admin"

// GHCRLikeRegistry starts an in-process registry that behaves as GitHub Container Registry does where it
// differs from distribution: manifest DELETE answers 405 (deleting goes through the Packages API) and there
// is no referrers API (clients fall back to sha256-<hex> tags).
func GHCRLikeRegistry(t testing.TB) string {
	t.Helper()
	return GHCRLikeRegistryWithHook(t, nil)
}

// GHCRLikeRegistryWithHook is GHCRLikeRegistry calling onPush after each manifest upload (repository, digest,
// tag or ""), as GHCR creates a package version for every manifest pushed.
func GHCRLikeRegistryWithHook(t testing.TB, onPush func(repo, digest, tag string)) string {
	t.Helper()
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(false))
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && onPush != nil:
			rec := &statusRecorder{ResponseWriter: w}
			inner.ServeHTTP(rec, r)
			if rec.status < 300 {
				repo, ref, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
				tag := ref
				if strings.HasPrefix(ref, "sha256:") {
					tag = ""
				}
				onPush(repo, w.Header().Get("Docker-Content-Digest"), tag)
			}
		case r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/manifests/") && r.Header.Get(AdminHeader) == "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			io.WriteString(w, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`)
		case strings.Contains(r.URL.Path, "/referrers/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]}`)
		default:
			inner.ServeHTTP(w, r)
		}
	}))
}

func serve(t testing.TB, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
