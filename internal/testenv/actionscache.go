package testenv

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The protocol below is the one buildx's type=gha cache backend speaks, read from the code that speaks it:
//
//   - github.com/docker/buildx@v0.38.2 build/opt.go (addGithubToken, isActive): the client fills the cache
//     entry's token= from ACTIONS_RUNTIME_TOKEN, url_v2= from ACTIONS_RESULTS_URL when ACTIONS_CACHE_SERVICE_V2
//     parses true, url= from ACTIONS_CACHE_URL else ACTIONS_RESULTS_URL, and drops the entry without a word
//     when it has no token or no URL.
//   - github.com/moby/buildkit@v0.29.0 (the daemon dev-env.sh runs; v0.34.2 has the same file)
//     cache/remotecache/gha/gha.go: url_v2 selects the v2 service. Layers are saved under
//     "buildkit-blob-1-<digest>" after a lookup of that key; the index under "index-<scope>-1-<8 hex of
//     sha256(token scope)>#<n>" via SaveMutable, read back by looking up the key without "#<n>", which only a
//     prefix match finds.
//   - github.com/tonistiigi/go-actions-cache@v0.0.0-20260120203934-54bc28c26fd2 (pinned by that buildkit):
//     cache.go New parses the token with jwt.ParseUnverified and needs the claims ac (a JSON string of
//     [{"Scope","Permission"}], 1 read, 2 write), exp and nbf; version() is sha256("|go-actionscache-1.0") for
//     every key; checkResponse turns a non-2xx twirp error {"code":"already_exists"} into os.ErrExist, which
//     SaveMutable answers by trying the next "#<n>". cache_v2.go: POST
//     <url_v2>/twirp/github.actions.results.api.v1.CacheService/<Method> with a Bearer token, JSON bodies:
//     GetCacheEntryDownloadURL {key, restore_keys, version} -> {ok, signed_download_url, matched_key} (ok
//     false is a miss), CreateCacheEntry {key, version} -> {ok, signed_upload_url} (ok false is an error,
//     not os.ErrExist), FinalizeCacheEntryUpload {key, size_bytes, version} -> {ok, entry_id} (entry_id a
//     string: protojson writes int64 as a string).
//   - github.com/Azure/azure-sdk-for-go/sdk/storage/azblob@v1.5.0 (pinned by go-actions-cache): uploads are
//     blockblob.Client.UploadStream, which sends a payload under its 1 MiB block size as one Put Blob (PUT,
//     x-ms-blob-type: BlockBlob) and a larger one as Put Block (PUT ?comp=block&blockid=) per MiB then Put
//     Block List (PUT ?comp=blocklist, XML <BlockList><Latest>id</Latest>...); each answers 201. Downloads
//     are DownloadStream: GET with the range in x-ms-range ("bytes=N-"), never in Range, and none at
//     offset 0; it accepts 200 or 206.
//
// The real service keeps a cache per branch: a run writes to its own ref's scope and reads its own ref, then
// the base branch. The token's ac claim says which, and so do we: entries live in a scope, writes go to the
// last scope with write permission (the one gha.go names its index after), lookups try each scope in order.

// ActionsCache is a loopback stand-in for GitHub's Actions cache service, v2: the twirp CacheService and
// the Azure Blob storage its signed URLs point at, kept in memory.
type ActionsCache struct {
	// URL is the service's base URL, as the runner gives it in ACTIONS_RESULTS_URL.
	URL string

	secret  []byte // signs tokens and blob URLs, so the server can refuse what it did not issue
	mu      sync.Mutex
	entries []*cacheEntry          // committed, oldest first
	pending map[string]*cacheEntry // reserved and not finalized, by scopedKey
	blobs   map[string]*azureBlob  // by blob name
	nextID  int64
	hits    int
	ops     map[string]int // blob operations by name ("Put Block", "Get Blob"...), for tests to see which ran
}

type cacheEntry struct {
	scope, key, version string
	blob                string
	id                  int64
}

// azureBlob is one block blob: blocks staged by Put Block, data committed by Put Blob or Put Block List.
type azureBlob struct {
	staged    map[string][]byte
	data      []byte
	committed bool
	etag      string
	modified  time.Time
}

// tokenScope is one element of the runtime token's ac claim, spelled as go-actions-cache's Scope.
type tokenScope struct {
	Scope      string
	Permission int
}

const (
	permRead  = 1
	permWrite = 2
	// twirpPrefix is the path of the v2 cache service's methods under ACTIONS_RESULTS_URL.
	twirpPrefix = "/twirp/github.actions.results.api.v1.CacheService/"
	blobPrefix  = "/blob/actions-cache/"
)

// NewActionsCache starts the cache service on 127.0.0.1 (which a BuildKit daemon on the host network
// reaches) and closes it when the test ends.
func NewActionsCache(t testing.TB) *ActionsCache {
	t.Helper()
	c := &ActionsCache{secret: make([]byte, 32), pending: map[string]*cacheEntry{}, blobs: map[string]*azureBlob{},
		ops: map[string]int{}}
	rand.Read(c.secret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+twirpPrefix+"{method}", c.serveTwirp)
	mux.HandleFunc(blobPrefix+"{name}", c.serveBlob)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// Token returns a runtime token as the runner's ACTIONS_RUNTIME_TOKEN: an HS256 JWT that may read and write
// the cache of scope (a ref such as refs/heads/main), valid for an hour.
func (c *ActionsCache) Token(t testing.TB, scope string) string {
	t.Helper()
	ac, err := json.Marshal([]tokenScope{{Scope: scope, Permission: permRead | permWrite}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims, err := json.Marshal(map[string]any{"ac": string(ac), "nbf": now.Add(-time.Minute).Unix(),
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	return signed + "." + enc.EncodeToString(c.sign(signed))
}

// RuntimeEnv returns what a hosted runner gives a JavaScript action for the cache, with a token for
// refs/heads/main: ACTIONS_RUNTIME_TOKEN, ACTIONS_RUNTIME_URL, ACTIONS_RESULTS_URL and
// ACTIONS_CACHE_SERVICE_V2=True (the runner's spelling; buildx and go-actions-cache use strconv.ParseBool).
// There is no ACTIONS_CACHE_URL: this server has no v1 API, which GitHub has retired.
func (c *ActionsCache) RuntimeEnv(t testing.TB) map[string]string {
	t.Helper()
	return map[string]string{
		"ACTIONS_RUNTIME_TOKEN":    c.Token(t, "refs/heads/main"),
		"ACTIONS_RUNTIME_URL":      c.URL + "/",
		"ACTIONS_RESULTS_URL":      c.URL + "/",
		"ACTIONS_CACHE_SERVICE_V2": "True",
	}
}

// Entries returns the keys of the committed entries, oldest first.
func (c *ActionsCache) Entries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, len(c.entries))
	for i, e := range c.entries {
		keys[i] = e.key
	}
	return keys
}

// Hits returns how many GetCacheEntryDownloadURL lookups found an entry.
func (c *ActionsCache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// blobOps returns how many blob requests of each kind the service answered.
func (c *ActionsCache) blobOps() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ops)
}

// cacheRequest is the JSON body of the three CacheService methods (proto field names, as twirp's JSON uses).
type cacheRequest struct {
	Key         string      `json:"key"`
	RestoreKeys []string    `json:"restore_keys"`
	Version     string      `json:"version"`
	SizeBytes   json.Number `json:"size_bytes"` // protojson takes an int64 as a number or a string
}

func (c *ActionsCache) serveTwirp(w http.ResponseWriter, r *http.Request) {
	scopes, err := c.verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		twirpError(w, http.StatusNotFound, "bad_route", "this stand-in speaks twirp JSON only")
		return
	}
	var req cacheRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Key == "" || req.Version == "" {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("want key and version: %v", err))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.PathValue("method") {
	case "GetCacheEntryDownloadURL":
		c.lookup(w, r, scopes, req)
	case "CreateCacheEntry":
		c.create(w, r, scopes, req)
	case "FinalizeCacheEntryUpload":
		c.finalize(w, scopes, req)
	default:
		twirpError(w, http.StatusNotFound, "bad_route", "no method "+r.PathValue("method"))
	}
}

// lookup answers GetCacheEntryDownloadURL as actions/cache documents its matching: in each scope the token
// may read, in order, the exact key, then each restore key as a prefix, newest entry first.
func (c *ActionsCache) lookup(w http.ResponseWriter, r *http.Request, scopes []tokenScope, req cacheRequest) {
	for _, s := range scopes {
		if s.Permission&permRead == 0 {
			continue
		}
		e := c.newest(s.Scope, req.Version, func(k string) bool { return k == req.Key })
		for _, prefix := range req.RestoreKeys {
			if e == nil {
				e = c.newest(s.Scope, req.Version, func(k string) bool { return strings.HasPrefix(k, prefix) })
			}
		}
		if e != nil {
			c.hits++
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "signed_download_url": c.blobURL(r, e.blob, "r"), "matched_key": e.key})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "signed_download_url": "", "matched_key": ""})
}

func (c *ActionsCache) newest(scope, version string, match func(string) bool) *cacheEntry {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if e := c.entries[i]; e.scope == scope && e.version == version && match(e.key) {
			return e
		}
	}
	return nil
}

// create answers CreateCacheEntry: a key, version and scope can be reserved once, committed or not; a second
// reservation gets twirp's already_exists, which go-actions-cache reads as os.ErrExist.
func (c *ActionsCache) create(w http.ResponseWriter, r *http.Request, scopes []tokenScope, req cacheRequest) {
	scope, ok := writeScope(scopes)
	if !ok {
		twirpError(w, http.StatusForbidden, "permission_denied", "the token may not write to any scope")
		return
	}
	id := scopedKey(scope, req.Key, req.Version)
	if c.pending[id] != nil || c.newest(scope, req.Version, func(k string) bool { return k == req.Key }) != nil {
		twirpError(w, http.StatusConflict, "already_exists", "cache entry with the same key, version, and scope already exists")
		return
	}
	c.nextID++
	e := &cacheEntry{scope: scope, key: req.Key, version: req.Version, blob: strconv.FormatInt(c.nextID, 10), id: c.nextID}
	c.pending[id] = e
	c.blobs[e.blob] = &azureBlob{staged: map[string][]byte{}}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "signed_upload_url": c.blobURL(r, e.blob, "cw")})
}

// finalize answers FinalizeCacheEntryUpload: the entry becomes visible once its blob is committed with the
// size the client states.
func (c *ActionsCache) finalize(w http.ResponseWriter, scopes []tokenScope, req cacheRequest) {
	scope, _ := writeScope(scopes)
	id := scopedKey(scope, req.Key, req.Version)
	e := c.pending[id]
	if e == nil {
		twirpError(w, http.StatusNotFound, "not_found", "no reserved cache entry for key "+req.Key)
		return
	}
	size, err := req.SizeBytes.Int64()
	if b := c.blobs[e.blob]; err != nil || !b.committed || int64(len(b.data)) != size {
		twirpError(w, http.StatusBadRequest, "invalid_argument",
			fmt.Sprintf("size_bytes %q does not match the %d bytes committed to the blob", req.SizeBytes, len(b.data)))
		return
	}
	delete(c.pending, id)
	c.entries = append(c.entries, e)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "entry_id": strconv.FormatInt(e.id, 10)})
}

// writeScope is the last scope the token may write to, the one gha.go names its index after.
func writeScope(scopes []tokenScope) (string, bool) {
	for i := len(scopes) - 1; i >= 0; i-- {
		if scopes[i].Permission&permWrite != 0 {
			return scopes[i].Scope, true
		}
	}
	return "", false
}

func scopedKey(scope, key, version string) string { return scope + "\x00" + key + "\x00" + version }

// blobURL is a signed URL of a blob, as the service hands out SAS URLs: sp says what it permits.
func (c *ActionsCache) blobURL(r *http.Request, name, perm string) string {
	sig := base64.RawURLEncoding.EncodeToString(c.sign(name + "\x00" + perm))
	return "http://" + r.Host + blobPrefix + name + "?sp=" + perm + "&sig=" + sig
}

func (c *ActionsCache) serveBlob(w http.ResponseWriter, r *http.Request) {
	name, perm := r.PathValue("name"), r.URL.Query().Get("sp")
	want := base64.RawURLEncoding.EncodeToString(c.sign(name + "\x00" + perm))
	need := map[string]string{http.MethodGet: "r", http.MethodPut: "w"}[r.Method]
	if !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(want)) || need == "" || !strings.Contains(perm, need) {
		azureError(w, http.StatusForbidden, "AuthenticationFailed", "the signature does not permit "+r.Method)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blobs[name]
	if b == nil {
		azureError(w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	c.ops[blobOp(r)]++
	if r.Method == http.MethodGet {
		b.download(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		azureError(w, http.StatusBadRequest, "InvalidInput", err.Error())
		return
	}
	b.upload(w, r, body)
}

// blobOp names a blob request as Azure's REST API does.
func blobOp(r *http.Request) string {
	if r.Method == http.MethodGet {
		if r.Header.Get("x-ms-range") != "" || r.Header.Get("Range") != "" {
			return "Get Blob (range)"
		}
		return "Get Blob"
	}
	return map[string]string{"block": "Put Block", "blocklist": "Put Block List", "": "Put Blob"}[r.URL.Query().Get("comp")]
}

// upload is the three PUTs of UploadStream: Put Block, Put Block List, and Put Blob for a small payload.
func (b *azureBlob) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.URL.Query().Get("comp") {
	case "block":
		b.staged[r.URL.Query().Get("blockid")] = body
		azureHeaders(w, b)
	case "blocklist":
		var list struct {
			Blocks []struct {
				ID string `xml:",chardata"`
			} `xml:",any"` // Latest, Committed or Uncommitted: a stand-in has only staged blocks
		}
		if err := xml.Unmarshal(body, &list); err != nil {
			azureError(w, http.StatusBadRequest, "InvalidXmlDocument", err.Error())
			return
		}
		var data []byte
		for _, blk := range list.Blocks {
			part, ok := b.staged[blk.ID]
			if !ok {
				azureError(w, http.StatusBadRequest, "InvalidBlockList", "no staged block "+blk.ID)
				return
			}
			data = append(data, part...)
		}
		b.commit(w, data)
	case "":
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			azureError(w, http.StatusBadRequest, "MissingRequiredHeader", "x-ms-blob-type must be BlockBlob")
			return
		}
		b.commit(w, body)
	default:
		azureError(w, http.StatusBadRequest, "UnsupportedQueryParameter", "comp="+r.URL.Query().Get("comp"))
	}
}

func (b *azureBlob) commit(w http.ResponseWriter, data []byte) {
	sum := sha256.Sum256(data)
	b.data, b.committed, b.staged = data, true, map[string][]byte{}
	b.etag, b.modified = fmt.Sprintf(`"0x%X"`, sum[:8]), time.Now().UTC()
	azureHeaders(w, b)
}

// azureHeaders answers a PUT with 201 and the headers Azure sends. x-ms-request-id is not optional here:
// go-actions-cache's uploadV2 logs *resp.RequestID, and a nil pointer there takes buildkitd down.
func azureHeaders(w http.ResponseWriter, b *azureBlob) {
	h := w.Header()
	h.Set("x-ms-request-id", randomID())
	h.Set("x-ms-version", "2024-11-04")
	h.Set("x-ms-request-server-encrypted", "true")
	if b.committed {
		h.Set("ETag", b.etag)
		h.Set("Last-Modified", b.modified.Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusCreated)
}

// download is Get Blob: the whole blob with 200, or with x-ms-range (Azure's header, which wins) or Range
// "bytes=N-[M]" the part with 206 and Content-Range.
func (b *azureBlob) download(w http.ResponseWriter, r *http.Request) {
	if !b.committed {
		azureError(w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	size := int64(len(b.data))
	spec := r.Header.Get("x-ms-range")
	if spec == "" {
		spec = r.Header.Get("Range")
	}
	start, end, err := parseRange(spec, size)
	if err != nil {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		azureError(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", b.modified.Format(http.TimeFormat))
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-request-id", randomID())
	h.Set("x-ms-version", "2024-11-04")
	status := http.StatusOK
	if spec != "" {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	w.Write(b.data[start:end])
}

// parseRange reads "bytes=N-" or "bytes=N-M" (inclusive) into the half-open [start, end); "" is all of it.
func parseRange(spec string, size int64) (start, end int64, err error) {
	if spec == "" {
		return 0, size, nil
	}
	from, to, ok := strings.Cut(strings.TrimPrefix(spec, "bytes="), "-")
	start, err1 := strconv.ParseInt(from, 10, 64)
	end, err2 := size, error(nil)
	if to != "" {
		end, err2 = strconv.ParseInt(to, 10, 64)
		end = min(end+1, size)
	}
	if !strings.HasPrefix(spec, "bytes=") || !ok || err1 != nil || err2 != nil || start >= size || start >= end {
		return 0, 0, fmt.Errorf("range %q of a %d-byte blob", spec, size)
	}
	return start, end, nil
}

// verify checks a runtime token this server issued and returns its scopes.
func (c *ActionsCache) verify(token string) ([]tokenScope, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the bearer token is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, c.sign(parts[0]+"."+parts[1])) {
		return nil, fmt.Errorf("the bearer token was not issued by this cache service")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("the token's claims: %w", err)
	}
	var claims struct {
		AC  string `json:"ac"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("the token's claims: %w", err)
	}
	if now := time.Now().Unix(); now > claims.Exp || now < claims.Nbf {
		return nil, fmt.Errorf("the token is valid from %d to %d, not now", claims.Nbf, claims.Exp)
	}
	var scopes []tokenScope
	if err := json.Unmarshal([]byte(claims.AC), &scopes); err != nil {
		return nil, fmt.Errorf("the token's ac claim: %w", err)
	}
	return scopes, nil
}

func (c *ActionsCache) sign(s string) []byte {
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte(s))
	return mac.Sum(nil)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// twirpError writes a twirp error: {"code", "msg"} with the HTTP status twirp maps the code to.
func twirpError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "msg": msg})
}

// azureError writes a storage error as Azure does: the code in x-ms-error-code and an XML body.
func azureError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("x-ms-request-id", randomID())
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}
