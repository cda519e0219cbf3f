// Package github is the GitHub REST client the tools share: go-github over a transport that keeps responses
// in an on-disk cache revalidated with ETags (a 304 costs no rate limit), serves immutable ones (addressed by
// a commit SHA) without asking again, retries 5xx, and honours the primary and secondary rate limits.
package github

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"
)

// ErrOffline is returned for a request the cache cannot answer in offline mode.
var ErrOffline = errors.New("not in the local cache (offline mode)")

// RateLimitError says the API budget is spent and when it comes back.
type RateLimitError struct {
	Reset     time.Time
	Secondary bool
}

func (e *RateLimitError) Error() string {
	if e.Secondary {
		return fmt.Sprintf("GitHub API secondary rate limit: asked to wait until %s, longer than allowed", e.Reset.Format(time.RFC3339))
	}
	return fmt.Sprintf("GitHub API rate limit exhausted until %s (in %s); set GITHUB_TOKEN or GH_TOKEN for a larger budget, or use --offline",
		e.Reset.Format(time.RFC3339), time.Until(e.Reset).Round(time.Minute))
}

// Stats counts what the transport did.
type Stats struct {
	Requests    atomic.Int64 // sent to the API
	NotModified atomic.Int64 // answered 304 from the ETag cache
	CacheHits   atomic.Int64 // answered from the cache without a request
}

// Transport caches GET responses on disk and handles rate limits; see the package comment.
type Transport struct {
	Base    http.RoundTripper
	Dir     string        // cache directory; "" caches nothing
	Offline bool          // never send a request
	MaxWait time.Duration // longest wait for a rate-limit reset or Retry-After
	Sleep   func(context.Context, time.Duration) error
	Now     func() time.Time
	Stats   Stats
}

type entry struct {
	ETag string
	Type string
	Link string // pagination
	Body []byte
}

var immutable = regexp.MustCompile(`[/=][0-9a-f]{40}(/|$|&|\?)`)

func (t *Transport) key(r *http.Request) string {
	h := sha256.Sum256([]byte(r.Header.Get("Accept") + " " + r.URL.String()))
	return filepath.Join(t.Dir, hex.EncodeToString(h[:]))
}

func (t *Transport) load(path string) (*entry, bool) {
	if t.Dir == "" {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	// Format: the ETag, Content-Type and Link headers, a line each, then the body.
	rd := bufio.NewReader(bytes.NewReader(data))
	var head [3]string
	for i := range head {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, false
		}
		head[i] = line[:len(line)-1]
	}
	body, _ := io.ReadAll(rd)
	return &entry{ETag: head[0], Type: head[1], Link: head[2], Body: body}, true
}

func (t *Transport) store(path string, e *entry) {
	if t.Dir == "" {
		return
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return
	}
	tmp := path + ".tmp"
	data := append([]byte(e.ETag+"\n"+e.Type+"\n"+e.Link+"\n"), e.Body...)
	if os.WriteFile(tmp, data, 0o644) == nil {
		os.Rename(tmp, path)
	}
}

func respond(r *http.Request, e *entry) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {e.Type}, "Etag": {e.ETag}, "Link": {e.Link}},
		Body:    io.NopCloser(bytes.NewReader(e.Body)),
		Request: r, ContentLength: int64(len(e.Body)),
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		return t.send(r)
	}
	path := t.key(r)
	cached, ok := t.load(path)
	if ok && immutable.MatchString(r.URL.RequestURI()) {
		t.Stats.CacheHits.Add(1)
		return respond(r, cached), nil
	}
	if t.Offline {
		if ok {
			t.Stats.CacheHits.Add(1)
			return respond(r, cached), nil
		}
		return nil, fmt.Errorf("GET %s: %w", r.URL.Path, ErrOffline)
	}
	req := r.Clone(r.Context())
	if ok && cached.ETag != "" {
		req.Header.Set("If-None-Match", cached.ETag)
	}
	resp, err := t.send(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified && ok {
		resp.Body.Close()
		t.Stats.NotModified.Add(1)
		return respond(r, cached), nil
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Etag") != "" && t.Dir != "" {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		t.store(path, &entry{ETag: resp.Header.Get("Etag"), Type: resp.Header.Get("Content-Type"), Link: resp.Header.Get("Link"), Body: body})
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// send makes the request, waiting out rate limits within MaxWait and retrying 5xx with backoff.
func (t *Transport) send(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	now, sleep := t.Now, t.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		resp, err := base.RoundTrip(r)
		t.Stats.Requests.Add(1)
		if err != nil {
			return nil, err
		}
		var wait time.Duration
		switch {
		case (resp.StatusCode == 403 || resp.StatusCode == 429) && resp.Header.Get("Retry-After") != "":
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			wait = time.Duration(secs) * time.Second
			if wait > t.MaxWait {
				resp.Body.Close()
				return nil, &RateLimitError{Reset: now().Add(wait), Secondary: true}
			}
		case (resp.StatusCode == 403 || resp.StatusCode == 429) && resp.Header.Get("X-Ratelimit-Remaining") == "0":
			secs, _ := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
			reset := time.Unix(secs, 0)
			wait = reset.Sub(now())
			if wait > t.MaxWait {
				resp.Body.Close()
				return nil, &RateLimitError{Reset: reset}
			}
		case resp.StatusCode >= 500 && attempt < 4:
			wait, backoff = backoff, backoff*2
		default:
			return resp, nil
		}
		resp.Body.Close()
		if attempt >= 6 {
			return nil, fmt.Errorf("GET %s: gave up after %d attempts (last: %s)", r.URL.Path, attempt, resp.Status)
		}
		if err := sleep(r.Context(), max(wait, 0)); err != nil {
			return nil, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
