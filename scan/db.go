package scan

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// dbSource says where the OSV database comes from: a directory in the bucket's layout (<Ecosystem>/all.zip),
// or a base URL whose downloads are cached on disk by date and revalidated with the server's validators.
type dbSource struct {
	dir, url, cache string
	offline         bool
	client          *http.Client
	now             func() time.Time
}

// cacheMeta is what the cache keeps beside an all.zip to revalidate it.
type cacheMeta struct {
	Fetched      time.Time `json:"fetched"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
}

// defaultCache is where downloads are kept between runs: the runner's tool cache when there is one (cache it
// with actions/cache), else the user's cache directory.
func defaultCache() string {
	if d := os.Getenv("SCRIBE_OSV_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("RUNNER_TOOL_CACHE"); d != "" {
		return filepath.Join(d, "scribe-actions", "osv")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "scribe-actions", "osv")
}

// load returns an ecosystem's all.zip and where it came from. It downloads at most once a day per ecosystem;
// later the same day the cached copy is used as is; after that it is revalidated (If-None-Match /
// If-Modified-Since), and a failed download falls back to the cached copy with a warning.
func (s *dbSource) load(ctx context.Context, ecosystem string, warn func(string, ...any)) ([]byte, string, error) {
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
			return nil, "", fmt.Errorf(`input "db-dir": no %s (offline: the database must be in db-dir, laid out as <Ecosystem>/all.zip)`, p)
		}
	}
	zipPath := filepath.Join(s.cache, ecosystem, "all.zip")
	metaPath := zipPath + ".json"
	var meta cacheMeta
	cached, cacheErr := os.ReadFile(zipPath)
	if raw, err := os.ReadFile(metaPath); err == nil {
		json.Unmarshal(raw, &meta)
	}
	if cacheErr == nil && (s.offline || sameDay(meta.Fetched, s.now())) {
		return cached, zipPath + " (cached " + meta.Fetched.Format("2006-01-02") + ")", nil
	}
	if s.offline {
		return nil, "", fmt.Errorf(`offline and no OSV database for %s: give input "db-dir" (laid out as <Ecosystem>/all.zip) or run once online to fill the cache %s`, ecosystem, s.cache)
	}
	u := strings.TrimSuffix(s.url, "/") + "/" + ecosystem + "/all.zip"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf(`input "db-url": %w`, err)
	}
	if cacheErr == nil {
		if meta.ETag != "" {
			req.Header.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", meta.LastModified)
		}
	}
	resp, err := s.client.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified {
		resp.Body.Close()
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err != nil {
		if cacheErr == nil {
			warn("could not revalidate the OSV database for %s (%v); using the copy cached %s", ecosystem, err, meta.Fetched.Format("2006-01-02"))
			return cached, zipPath + " (stale)", nil
		}
		return nil, "", fmt.Errorf("downloading the OSV database for %s: %w", ecosystem, err)
	}
	defer resp.Body.Close()
	meta.Fetched = s.now()
	if resp.StatusCode == http.StatusNotModified {
		writeMeta(metaPath, meta)
		return cached, zipPath + " (revalidated)", nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("downloading %s: %w", u, err)
	}
	meta.ETag, meta.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err == nil {
		tmp := zipPath + ".tmp"
		if os.WriteFile(tmp, data, 0o644) == nil && os.Rename(tmp, zipPath) == nil {
			writeMeta(metaPath, meta)
		}
	}
	return data, u, nil
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

func writeMeta(p string, m cacheMeta) {
	raw, _ := json.Marshal(m)
	os.WriteFile(p, raw, 0o644)
}

func sameDay(a, b time.Time) bool {
	return !a.IsZero() && a.UTC().Format("2006-01-02") == b.UTC().Format("2006-01-02")
}
