package httpcache

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Entry is a cached response: its body, the validators that revalidate it, the headers kept with it, and
// when the server last vouched for it.
type Entry struct {
	Body    []byte
	Header  http.Header // ETag, Last-Modified and the cache's Keep headers
	Fetched time.Time
}

// Response is the entry as a 200 response to r.
func (e *Entry) Response(r *http.Request) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: e.Header.Clone(), Body: io.NopCloser(bytes.NewReader(e.Body)),
		Request: r, ContentLength: int64(len(e.Body)),
	}
}

// meta is what <key>.json holds beside the body.
type meta struct {
	Fetched      time.Time           `json:"fetched"`
	ETag         string              `json:"etag,omitempty"`
	LastModified string              `json:"lastModified,omitempty"`
	Header       map[string][]string `json:"header,omitempty"`
}

// Cache is a directory of GET responses: the body at <Dir>/<key>, its validators, kept headers and fetch time
// at <Dir>/<key>.json. Writes are best effort (a cache that cannot be written is a cache miss next time) and
// atomic (a reader never sees half a body).
type Cache struct {
	Dir  string   // "" keeps nothing
	Keep []string // response headers stored with a body and replayed with it (validators are always kept)
	Now  func() time.Time
}

// Path is where the body of key is kept.
func (c *Cache) Path(key string) string { return filepath.Join(c.Dir, filepath.FromSlash(key)) }

func (c *Cache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Load reads the entry kept under key; false when there is none (or only half of one).
func (c *Cache) Load(key string) (*Entry, bool) {
	if c.Dir == "" {
		return nil, false
	}
	raw, err := os.ReadFile(c.Path(key) + ".json")
	if err != nil {
		return nil, false
	}
	var m meta
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	body, err := os.ReadFile(c.Path(key))
	if err != nil {
		return nil, false
	}
	h := http.Header{}
	for k, vs := range m.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	setIf(h, "Etag", m.ETag)
	setIf(h, "Last-Modified", m.LastModified)
	return &Entry{Body: body, Header: h, Fetched: m.Fetched}, true
}

// Revalidate sends req, conditional on cached's validators when there is a cached entry. A 304 answers with the
// cached entry, its fetch time moved to now (and stored); any other response comes back unread, for the caller
// to keep (Save) or reject. send is the client's Do or a transport's RoundTrip.
func (c *Cache) Revalidate(send func(*http.Request) (*http.Response, error), req *http.Request, key string, cached *Entry) (*Entry, *http.Response, error) {
	if cached != nil {
		req = req.Clone(req.Context())
		if v := cached.Header.Get("Etag"); v != "" {
			req.Header.Set("If-None-Match", v)
		}
		if v := cached.Header.Get("Last-Modified"); v != "" {
			req.Header.Set("If-Modified-Since", v)
		}
	}
	resp, err := send(req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusNotModified || cached == nil {
		return nil, resp, nil
	}
	resp.Body.Close()
	e := *cached
	e.Fetched = c.now()
	c.writeMeta(key, &e)
	return &e, nil, nil
}

// Save reads a response's body, keeps it under key with the response's validators, and leaves resp.Body
// readable again. Only reading the body can fail: a cache that cannot be written is not an error.
func (c *Cache) Save(key string, resp *http.Response) (*Entry, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	h := http.Header{}
	for _, k := range append([]string{"Etag", "Last-Modified"}, c.Keep...) {
		if vs := resp.Header.Values(k); len(vs) > 0 {
			h[http.CanonicalHeaderKey(k)] = vs
		}
	}
	e := &Entry{Body: body, Header: h, Fetched: c.now()}
	if c.Dir != "" && os.MkdirAll(filepath.Dir(c.Path(key)), 0o755) == nil && writeFile(c.Path(key), body) == nil {
		c.writeMeta(key, e)
	}
	return e, nil
}

func (c *Cache) writeMeta(key string, e *Entry) {
	if c.Dir == "" {
		return
	}
	m := meta{Fetched: e.Fetched, ETag: e.Header.Get("Etag"), LastModified: e.Header.Get("Last-Modified")}
	for k, vs := range e.Header {
		if k != "Etag" && k != "Last-Modified" {
			if m.Header == nil {
				m.Header = map[string][]string{}
			}
			m.Header[k] = vs
		}
	}
	raw, _ := json.Marshal(m)
	writeFile(c.Path(key)+".json", raw)
}

// writeFile replaces a file atomically: written beside it, then renamed over it.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}
