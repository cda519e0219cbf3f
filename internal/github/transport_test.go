package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// script answers requests in order with the given statuses and headers, then 200.
func script(t *testing.T, steps ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(steps) {
			steps[i](w)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func status(code int, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
	}
}

func get(t *testing.T, tr *Transport, url string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestTransportRetries(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		steps    []func(http.ResponseWriter)
		maxWait  time.Duration
		waits    []time.Duration
		wantErr  string
		requests int32
	}{
		{"secondary limit, Retry-After honoured", []func(http.ResponseWriter){status(403, "Retry-After", "2")}, time.Minute, []time.Duration{2 * time.Second}, "", 2},
		{"429 with Retry-After", []func(http.ResponseWriter){status(429, "Retry-After", "1")}, time.Minute, []time.Duration{time.Second}, "", 2},
		{"primary limit, wait for the reset", []func(http.ResponseWriter){status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+30, 10))}, time.Minute, []time.Duration{30 * time.Second}, "", 2},
		{"primary limit past the longest wait", []func(http.ResponseWriter){status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+3600, 10))}, time.Minute, nil, "GitHub API rate limit exhausted until", 1},
		{"Retry-After past the longest wait", []func(http.ResponseWriter){status(429, "Retry-After", "600")}, time.Minute, nil, "secondary rate limit", 1},
		{"5xx retried with backoff", []func(http.ResponseWriter){status(502), status(503)}, time.Minute, []time.Duration{time.Second, 2 * time.Second}, "", 3},
	}
	for _, tt := range tests {
		s, n := script(t, tt.steps...)
		var waits []time.Duration
		tr := &Transport{MaxWait: tt.maxWait, Now: func() time.Time { return now },
			Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
		resp, err := get(t, tr, s.URL+"/repos/a/b/tags")
		switch {
		case tt.wantErr != "":
			var rl *RateLimitError
			if err == nil || !errors.As(err, &rl) || !contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v", tt.name, err)
			}
		case err != nil || resp.StatusCode != 200:
			t.Errorf("%s: %v %v", tt.name, resp, err)
		}
		if n.Load() != tt.requests || len(waits) != len(tt.waits) {
			t.Errorf("%s: %d requests, waits %v; want %d, %v", tt.name, n.Load(), waits, tt.requests, tt.waits)
			continue
		}
		for i := range waits {
			if waits[i] != tt.waits[i] {
				t.Errorf("%s: waited %v, want %v", tt.name, waits, tt.waits)
			}
		}
	}
}

func TestTransportETagCacheAndOffline(t *testing.T) {
	s, n := script(t)
	dir := t.TempDir()
	tr := &Transport{Dir: dir, MaxWait: time.Minute}
	for i := 0; i < 3; i++ {
		if resp, err := get(t, tr, s.URL+"/repos/a/b/tags"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
	}
	if n.Load() != 3 || tr.Stats.NotModified.Load() != 2 {
		t.Errorf("%d requests, %d answered 304; want 3 and 2", n.Load(), tr.Stats.NotModified.Load())
	}
	sha := "/repos/a/b/commits/0123456789abcdef0123456789abcdef01234567"
	get(t, tr, s.URL+sha)
	get(t, tr, s.URL+sha)
	if n.Load() != 4 || tr.Stats.CacheHits.Load() != 1 {
		t.Errorf("a commit by SHA was asked again: %d requests, %d cache hits", n.Load(), tr.Stats.CacheHits.Load())
	}
	off := &Transport{Dir: dir, Offline: true}
	if _, err := get(t, off, s.URL+"/repos/a/b/tags"); err != nil {
		t.Errorf("offline, cached: %v", err)
	}
	if _, err := get(t, off, s.URL+"/repos/a/b/releases/latest"); !errors.Is(err, ErrOffline) {
		t.Errorf("offline, not cached: %v", err)
	}
	if n.Load() != 4 {
		t.Errorf("offline made requests")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
