package scan

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/httpcache"
)

// dbSource says where the OSV database comes from: a directory in the bucket's layout (<Ecosystem>/all.zip),
// or a base URL whose downloads are cached on disk by date and revalidated with the server's validators.
type dbSource struct {
	dir, url, cache string
	offline         bool
	client          *http.Client
	now             func() time.Time
}

// defaultCache is where downloads (and layer scans, beside them) are kept between runs: SCRIBE_OSV_CACHE, else
// the runner's tool cache when there is one (cache it with actions/cache), else the user's cache directory.
// getenv is the step's environment.
func defaultCache(getenv func(string) string) string {
	if d := getenv("SCRIBE_OSV_CACHE"); d != "" {
		return d
	}
	if d := getenv("RUNNER_TOOL_CACHE"); d != "" {
		return filepath.Join(d, "scribe-actions", "osv")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "scribe-actions", "osv")
}

// Load returns an ecosystem's all.zip and where it came from. It downloads at most once a day per ecosystem;
// later the same day the cached copy is used as is; after that it is revalidated (If-None-Match /
// If-Modified-Since), and a failed download falls back to the cached copy with a warning.
func (s *dbSource) Load(ctx context.Context, ecosystem string, warn func(string, ...any)) ([]byte, string, error) {
	if s.dir != "" {
		p := filepath.Join(s.dir, ecosystem, "all.zip")
		data, err := os.ReadFile(p)
		if err == nil {
			return data, p, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf(`input "db-dir": %w`, err)
		}
		if s.offline {
			return nil, "", fmt.Errorf("%w: no %s in db-dir (offline)", errNoDatabase, p)
		}
	}
	c := &httpcache.Cache{Dir: s.cache, Now: s.now}
	key := ecosystem + "/all.zip"
	cached, ok := c.Load(key)
	if ok && (s.offline || sameDay(cached.Fetched, s.now())) {
		return cached.Body, c.Path(key) + " (cached " + cached.Fetched.Format("2006-01-02") + ")", nil
	}
	if s.offline {
		return nil, "", fmt.Errorf(`%w: offline, and %s is neither in db-dir nor in the cache %s (give input "db-dir", laid out as <Ecosystem>/all.zip, or run once online)`, errNoDatabase, ecosystem, s.cache)
	}
	return s.download(ctx, c, key, cached, ecosystem, warn)
}

// download revalidates the cached copy (if any) or downloads the ecosystem's all.zip, keeping it in the cache.
func (s *dbSource) download(ctx context.Context, c *httpcache.Cache, key string, cached *httpcache.Entry, ecosystem string, warn func(string, ...any)) ([]byte, string, error) {
	u := strings.TrimSuffix(s.url, "/") + "/" + key
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf(`input "db-url": %w`, err)
	}
	revalidated, resp, err := c.Revalidate(s.client.Do, req, key, cached)
	if err == nil && resp != nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && cached == nil { // the bucket has no such ecosystem
			return nil, "", fmt.Errorf("%w: GET %s: %s", errNoDatabase, u, resp.Status)
		}
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err != nil {
		if cached != nil {
			warn("could not revalidate the OSV database for %s (%v); using the copy cached %s", ecosystem, err, cached.Fetched.Format("2006-01-02"))
			return cached.Body, c.Path(key) + " (stale)", nil
		}
		return nil, "", fmt.Errorf("downloading the OSV database for %s: %w", ecosystem, err)
	}
	if revalidated != nil {
		return revalidated.Body, c.Path(key) + " (revalidated)", nil
	}
	e, err := c.Save(key, resp)
	if err != nil {
		return nil, "", fmt.Errorf("downloading %s: %w", u, err)
	}
	return e.Body, u, nil
}

// PackRecords packs a folder of OSV records kept per ecosystem (<Ecosystem>/*.json) into the bucket's layout
// (<Ecosystem>/all.zip) under dst: a db-dir for an offline scan.
func PackRecords(src, dst string) error {
	ecos, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ecos {
		if !e.IsDir() {
			continue
		}
		records, err := filepath.Glob(filepath.Join(src, e.Name(), "*.json"))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, e.Name()), 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dst, e.Name(), "all.zip"))
		if err != nil {
			return err
		}
		zw := zip.NewWriter(f)
		for _, r := range records {
			raw, err := os.ReadFile(r)
			if err != nil {
				return err
			}
			w, err := zw.Create(filepath.Base(r))
			if err != nil {
				return err
			}
			w.Write(raw)
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func sameDay(a, b time.Time) bool {
	return !a.IsZero() && a.UTC().Format("2006-01-02") == b.UTC().Format("2006-01-02")
}
