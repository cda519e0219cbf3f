package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// A body is kept with its validators; the next request is conditional on them; a 304 answers with the kept
// body and moves its fetch time; a 200 replaces it.
func TestRevalidate(t *testing.T) {
	version := atomic.Value{}
	version.Store("v1")
	var conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := version.Load().(string)
		etag, modified := `"`+v+`"`, "Mon, 02 Jan 2006 15:04:05 GMT"
		if v == "v3" {
			modified = "Tue, 03 Jan 2006 15:04:05 GMT"
		}
		if v == "v3" {
			etag = "" // a server that sends only Last-Modified
		}
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			conditional.Add(1)
		}
		if etag != "" && r.Header.Get("If-None-Match") == etag || etag == "" && r.Header.Get("If-Modified-Since") == modified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Last-Modified", modified)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Other", "not kept")
		io.WriteString(w, "body "+v)
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &Cache{Dir: t.TempDir(), Keep: []string{"Content-Type"}, Now: func() time.Time { return now }}
	const key = "npm/all.zip"

	for _, step := range []struct {
		name        string
		version     string
		notModified bool
		body        string
		conditional int32
	}{
		{"first download", "v1", false, "body v1", 0},
		{"unchanged", "v1", true, "body v1", 1},
		{"changed", "v2", false, "body v2", 2},
		{"Last-Modified only", "v3", false, "body v3", 3},
		{"unchanged by Last-Modified", "v3", true, "body v3", 4},
	} {
		version.Store(step.version)
		now = now.Add(time.Hour)
		cached, _ := c.Load(key)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/npm/all.zip", nil)
		e, resp, err := c.Revalidate(srv.Client().Do, req, key, cached)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if step.notModified != (e != nil) {
			t.Fatalf("%s: revalidated %v, response %v", step.name, e != nil, resp)
		}
		if e == nil {
			if e, err = c.Save(key, resp); err != nil {
				t.Fatal(err)
			}
			if again, _ := io.ReadAll(resp.Body); string(again) != step.body {
				t.Errorf("%s: the response body after Save is %q", step.name, again)
			}
		}
		kept, ok := c.Load(key)
		if string(e.Body) != step.body || !ok || string(kept.Body) != step.body || !kept.Fetched.Equal(now) ||
			kept.Header.Get("Content-Type") != "text/plain" || kept.Header.Get("X-Other") != "" {
			t.Errorf("%s: body %q, kept %v %+v", step.name, e.Body, ok, kept)
		}
		if conditional.Load() != step.conditional {
			t.Errorf("%s: %d conditional requests, want %d", step.name, conditional.Load(), step.conditional)
		}
		if r := kept.Response(req); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("%s: replayed %v", step.name, r)
		}
	}
	// The layout users cache with actions/cache: the body under its key, the validators beside it.
	if _, err := os.Stat(filepath.Join(c.Dir, "npm", "all.zip.json")); err != nil {
		t.Error(err)
	}
}

// Half an entry is no entry; a response other than 200 or 304 comes back unread and is not kept; a cache
// without a directory keeps nothing.
func TestCacheMisses(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: dir}
	os.WriteFile(filepath.Join(dir, "k"), []byte("a body without its validators"), 0o644)
	if _, ok := c.Load("k"); ok {
		t.Error("a body without its .json loaded")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	e, resp, err := c.Revalidate(srv.Client().Do, req, "k", &Entry{Body: []byte("old"), Header: http.Header{"Etag": {`"x"`}}})
	if err != nil || e != nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%v %v %v", e, resp, err)
	}
	resp.Body.Close()
	if _, ok := c.Load("k"); ok {
		t.Error("a failed revalidation was kept")
	}

	none := &Cache{}
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	defer srv2.Close()
	req, _ = http.NewRequest(http.MethodGet, srv2.URL, nil)
	_, resp, _ = none.Revalidate(srv2.Client().Do, req, "k", nil)
	if e, err := none.Save("k", resp); err != nil || string(e.Body) != "x" {
		t.Errorf("%v %v", e, err)
	}
	if _, ok := none.Load("k"); ok {
		t.Error("a cache without a directory kept something")
	}
}
