package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// PackagesAPI is the GitHub Packages REST API for container packages, for tests: versions of one package
// listed with pagination in the shape of testdata/github-api/package-version.json, deleted by id,
// with rate-limit headers. Deleting a version deletes its manifest from the GHCR-like registry behind it.
type PackagesAPI struct {
	URL string
	// Popular versions (by id) answer a delete with GitHub's 5,000-downloads refusal; ReadOnly makes every
	// delete a permission error.
	Popular  map[int64]bool
	ReadOnly bool

	mu       sync.Mutex
	owner    string
	pkg      string
	org      bool
	registry string
	versions []map[string]any
	example  map[string]any
	calls    []string // "GET /orgs/acme/packages/container/app/versions?page=2", "DELETE .../versions/7"
}

// NewPackagesAPI serves one container package (owner/pkg, an org's or a user's) whose manifests live in the
// GHCR-like registry at host.
func NewPackagesAPI(t testing.TB, host, owner, pkg string, org bool) *PackagesAPI {
	t.Helper()
	a := &PackagesAPI{Popular: map[int64]bool{}, owner: owner, pkg: pkg, org: org, registry: host, example: example(t, "package-version")}
	s := httptest.NewServer(a)
	t.Cleanup(s.Close)
	a.URL = s.URL
	return a
}

// AddVersion registers a manifest of the package as a version and returns its id.
func (a *PackagesAPI) AddVersion(digest string, tags []string, created time.Time) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := clone(a.example)
	id := int64(1000 + len(a.versions))
	v["id"], v["name"] = id, digest
	v["created_at"], v["updated_at"] = created.UTC().Format(time.RFC3339), created.UTC().Format(time.RFC3339)
	if tags == nil {
		tags = []string{}
	}
	v["metadata"] = map[string]any{"package_type": "container", "container": map[string]any{"tags": tags}}
	a.versions = append(a.versions, v)
	return id
}

// Track makes every later manifest push to owner/pkg a version, as GHCR does (see GHCRLikeRegistryWithHook):
// a new digest becomes a version; a tag pushed moves from the version that had it to this one.
func (a *PackagesAPI) Track(repo, digest, tag string) {
	if repo != a.owner+"/"+a.pkg || digest == "" {
		return
	}
	a.mu.Lock()
	var found map[string]any
	for _, v := range a.versions {
		tags := v["metadata"].(map[string]any)["container"].(map[string]any)["tags"].([]string)
		if v["name"] == digest {
			found = v
			continue
		}
		if tag != "" {
			var kept []string
			for _, t := range tags {
				if t != tag {
					kept = append(kept, t)
				}
			}
			v["metadata"].(map[string]any)["container"].(map[string]any)["tags"] = append([]string{}, kept...)
		}
	}
	if found != nil {
		c := found["metadata"].(map[string]any)["container"].(map[string]any)
		if tag != "" {
			c["tags"] = append(c["tags"].([]string), tag)
		}
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	a.AddVersion(digest, tags, time.Now())
}

// Calls lists the requests made, in order.
func (a *PackagesAPI) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string{}, a.calls...)
}

var packageVersions = regexp.MustCompile(`^/(orgs|users)/([^/]+)/packages/container/([^/]+)/versions(?:/(\d+))?$`)

func (a *PackagesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, r.Method+" "+r.URL.RequestURI())
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(5000-len(a.calls)))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	m := packageVersions.FindStringSubmatch(r.URL.Path)
	pkg := strings.ReplaceAll(m3(m), "%2F", "/")
	if m == nil || (m[1] == "orgs") != a.org || m[2] != a.owner || pkg != a.pkg {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/packages/packages"})
		return
	}
	switch {
	case r.Method == http.MethodGet && m[4] == "":
		per := min(max(atoi(r.URL.Query().Get("per_page")), 1), 100)
		if r.URL.Query().Get("per_page") == "" {
			per = 30
		}
		page := max(1, atoi(r.URL.Query().Get("page")))
		items := []any{}
		for i := (page - 1) * per; i < len(a.versions) && i < page*per; i++ {
			items = append(items, a.versions[i])
		}
		if page*per < len(a.versions) {
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=%d&page=%d&state=active>; rel="next"`, a.URL, r.URL.Path, per, page+1))
		}
		writeJSON(w, http.StatusOK, items)
	case r.Method == http.MethodDelete && m[4] != "":
		id, _ := strconv.ParseInt(m[4], 10, 64)
		switch {
		case a.ReadOnly:
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "Resource not accessible by integration",
				"documentation_url": "https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization"})
			return
		case a.Popular[id]:
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."})
			return
		}
		for i, v := range a.versions {
			if v["id"] == id {
				// deleting a version deletes its manifest and the tags on it
				refs := append([]string{v["name"].(string)}, v["metadata"].(map[string]any)["container"].(map[string]any)["tags"].([]string)...)
				for _, ref := range refs {
					req, _ := http.NewRequest(http.MethodDelete, "http://"+a.registry+"/v2/"+a.owner+"/"+a.pkg+"/manifests/"+ref, nil)
					req.Header.Set(AdminHeader, "1")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "registry delete: " + err.Error()})
						return
					}
					resp.Body.Close()
				}
				a.versions = append(a.versions[:i], a.versions[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

func m3(m []string) string {
	if m == nil {
		return ""
	}
	return m[3]
}
