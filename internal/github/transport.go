package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/httpcache"
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

var immutable = regexp.MustCompile(`[/=][0-9a-f]{40}(/|$|&|\?)`)

// key names a response in the cache: the URL and the media type asked for.
func key(r *http.Request) string {
	h := sha256.Sum256([]byte(r.Header.Get("Accept") + " " + r.URL.String()))
	return hex.EncodeToString(h[:])
}

// cache is the disk cache: go-github's pagination (Link) and media type are kept with each body.
func (t *Transport) cache() *httpcache.Cache {
	return &httpcache.Cache{Dir: t.Dir, Keep: []string{"Content-Type", "Link"}, Now: t.Now}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		return t.send(r)
	}
	c, k := t.cache(), key(r)
	cached, ok := c.Load(k)
	if ok && (t.Offline || immutable.MatchString(r.URL.RequestURI())) {
		t.Stats.CacheHits.Add(1)
		return cached.Response(r), nil
	}
	if t.Offline {
		return nil, fmt.Errorf("GET %s: %w", r.URL.Path, ErrOffline)
	}
	revalidated, resp, err := c.Revalidate(t.send, r, k, cached)
	if err != nil {
		return nil, err
	}
	if revalidated != nil {
		t.Stats.NotModified.Add(1)
		return revalidated.Response(r), nil
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Etag") != "" && t.Dir != "" {
		if _, err := c.Save(k, resp); err != nil {
			return nil, err
		}
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
