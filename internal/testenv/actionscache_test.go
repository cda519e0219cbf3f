package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestActionsCacheBuildxRoundTrip is the proof that the stand-in speaks the protocol as buildx's type=gha
// backend does: a build on a fresh builder writes its cache through the runner's environment alone, and a
// build on another fresh builder reads it back (its RUN steps CACHED, its random bytes those of the first
// build); withholding the token makes buildx drop the cache, so the same build runs cold.
func TestActionsCacheBuildxRoundTrip(t *testing.T) {
	rootfs := NeedRootfs(t, "amd64")
	cache := NewActionsCache(t)
	dir := cacheContext(t, rootfs)
	const scope = "proof"
	env := cache.RuntimeEnv(t)

	out1, noise1 := timedBuild(t, "build 1 (fresh builder, --cache-to)", env, dir,
		"--cache-to", "type=gha,mode=max,scope="+scope)
	if cached := cachedRuns(out1); len(cached) != 0 {
		t.Fatalf("build 1 on a fresh builder has CACHED steps %v\n%s", cached, out1)
	}
	ref := sha256.Sum256([]byte("refs/heads/main"))
	index := fmt.Sprintf("index-%s-1-%x#1", scope, ref[:4]) // gha.go keeps 8 hex digits of the scope's digest
	entries := cache.Entries()
	blobs := slices.DeleteFunc(slices.Clone(entries), func(k string) bool { return !strings.HasPrefix(k, "buildkit-blob-1-sha256:") })
	if !slices.Contains(entries, index) || len(blobs) != 5 {
		t.Fatalf("committed entries %q: want %s and a buildkit-blob-1-sha256: entry per layer (5)", entries, index)
	}
	if ops := cache.blobOps(); ops["Put Block List"] == 0 || ops["Put Blob"] == 0 {
		t.Errorf("blob operations %v: want both Put Blob (small layers) and Put Block List (the 1.5 MiB one)", ops)
	}
	hits := cache.Hits()

	out2, noise2 := timedBuild(t, "build 2 (fresh builder, --cache-from)", env, dir, "--cache-from", "type=gha,scope="+scope)
	if runs, cached := runSteps(out2), cachedRuns(out2); len(runs) != 3 || len(cached) != len(runs) {
		t.Errorf("build 2: RUN steps %q, CACHED %q: want all three CACHED\n%s", runs, cached, out2)
	}
	if !bytes.Equal(noise1, noise2) {
		t.Errorf("build 2's /noise is not build 1's: the layer did not come from the cache")
	}
	if cache.Hits() <= hits || cache.blobOps()["Get Blob"] == 0 {
		t.Errorf("build 2 read nothing from the cache service: %d hits before, %d after; blob operations %v", hits, cache.Hits(), cache.blobOps())
	}
	t.Logf("build 2's RUN steps:\n%s", strings.Join(runLines(out2), "\n"))
	t.Logf("entries %q, hits %d, blob operations %v", entries, cache.Hits(), cache.blobOps())
	hits = cache.Hits()

	withheld := without(env, "ACTIONS_RUNTIME_TOKEN")
	out3, noise3 := timedBuild(t, "build 3 (fresh builder, --cache-from, no token)", withheld, dir, "--cache-from", "type=gha,scope="+scope)
	if cached := cachedRuns(out3); len(cached) != 0 || bytes.Equal(noise1, noise3) || cache.Hits() != hits {
		t.Errorf("without ACTIONS_RUNTIME_TOKEN buildx should drop the cache: CACHED %q, same /noise %v, hits %d -> %d\n%s",
			cached, bytes.Equal(noise1, noise3), hits, cache.Hits(), out3)
	}
}

// cacheContext writes a build context whose RUN steps need nothing from the internet, and one of which
// writes 1.5 MiB of random bytes: its layer is over azblob's 1 MiB block, so it is uploaded as Put Block +
// Put Block List (the smaller ones as Put Blob), and a rerun of the step would write other bytes.
// The last step is not a RUN step: BuildKit pulls the cached layers for the export under the last step's
// progress, and the plain printer then sometimes shows that step DONE instead of CACHED.
func cacheContext(t *testing.T, rootfs string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, rootfs, filepath.Join(dir, "rootfs-amd64.tar"))
	dockerfile := "FROM scratch\nADD rootfs-amd64.tar /\nENV PATH=/bin\n" +
		"RUN echo one > /one\nRUN head -c 1572864 /dev/urandom > /noise\nRUN echo two > /two\nWORKDIR /done\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// timedBuild starts a fresh builder, builds dir on it for linux/amd64 with args and the environment env
// (as a runner's step has it: no ACTIONS_ variable but env's), exports the result to a directory, and
// returns the plain progress output and the image's /noise.
func timedBuild(t *testing.T, what string, env map[string]string, dir string, args ...string) (string, []byte) {
	t.Helper()
	start := time.Now()
	b := NewBuilder(t)
	up := time.Since(start)
	dest := t.TempDir()
	args = append([]string{"buildx", "build", "--builder", b.Name, "--progress=plain", "--platform", "linux/amd64",
		"--provenance=false", "--output", "type=local,dest=" + dest}, append(args, dir)...)
	cmd := exec.Command("docker", args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "ACTIONS_") })
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(b.Log)
		t.Fatalf("%s: docker %s: %v\n%s\nbuildkitd log:\n%s", what, strings.Join(args, " "), err, out, log)
	}
	t.Logf("%s: builder up in %s, build in %s", what, up.Round(time.Millisecond), (time.Since(start) - up).Round(time.Millisecond))
	noise, err := os.ReadFile(filepath.Join(dest, "noise"))
	if err != nil || len(noise) != 1572864 {
		t.Fatalf("%s: /noise of the result: %d bytes, %v", what, len(noise), err)
	}
	return string(out), noise
}

var (
	stepLine   = regexp.MustCompile(`(?m)^#(\d+) \[\d+/\d+\] (RUN .*)$`)
	cachedLine = regexp.MustCompile(`(?m)^#(\d+) CACHED$`)
)

// runSteps returns the RUN steps of a plain progress log, by vertex number.
func runSteps(out string) map[string]string {
	steps := map[string]string{}
	for _, m := range stepLine.FindAllStringSubmatch(out, -1) {
		steps[m[1]] = m[2]
	}
	return steps
}

// cachedRuns returns the RUN steps the log reports CACHED.
func cachedRuns(out string) []string {
	steps := runSteps(out)
	var cached []string
	for _, m := range cachedLine.FindAllStringSubmatch(out, -1) {
		if run, ok := steps[m[1]]; ok {
			cached = append(cached, run)
		}
	}
	return cached
}

// runLines returns the lines of the log that name a RUN step or report one CACHED.
func runLines(out string) []string {
	steps := runSteps(out)
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		m := cachedLine.FindStringSubmatch(line)
		if (stepLine.MatchString(line) || m != nil && steps[m[1]] != "") && !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	return lines
}

// without returns a copy of m without the keys drop.
func without(m map[string]string, drop ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !slices.Contains(drop, k) {
			out[k] = v
		}
	}
	return out
}

// TestActionsCacheProtocol checks the parts of the protocol a BuildKit build may not reach: matching, a
// second reservation, a foreign token, ranged and unsigned blob reads.
func TestActionsCacheProtocol(t *testing.T) {
	c := NewActionsCache(t)
	token := c.Token(t, "refs/heads/main")
	save(t, c, token, "k-1", []byte("first"))
	save(t, c, token, "k-2", []byte("0123456789"))
	other := NewActionsCache(t).Token(t, "refs/heads/main")
	for _, tc := range []struct {
		name, token, method, body string
		status                    int
		want                      string
	}{
		{"exact key", token, "GetCacheEntryDownloadURL", `{"key":"k-1","restore_keys":["k-"],"version":"v"}`, 200, `"matched_key":"k-1"`},
		{"prefix, newest first", token, "GetCacheEntryDownloadURL", `{"key":"k-","restore_keys":["x","k-"],"version":"v"}`, 200, `"matched_key":"k-2"`},
		{"other version", token, "GetCacheEntryDownloadURL", `{"key":"k-1","restore_keys":["k-"],"version":"w"}`, 200, `"ok":false`},
		{"other scope", c.Token(t, "refs/heads/dev"), "GetCacheEntryDownloadURL", `{"key":"k-1","version":"v"}`, 200, `"ok":false`},
		{"second reservation", token, "CreateCacheEntry", `{"key":"k-1","version":"v"}`, 409, `"code":"already_exists"`},
		{"finalize before upload", token, "FinalizeCacheEntryUpload", `{"key":"k-3","size_bytes":"1","version":"v"}`, 404, `"code":"not_found"`},
		{"token of another service", other, "GetCacheEntryDownloadURL", `{"key":"k-1","version":"v"}`, 401, `"code":"unauthenticated"`},
		{"no such method", token, "DeleteCacheEntry", `{"key":"k-1","version":"v"}`, 404, `"code":"bad_route"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := twirp(t, c, tc.token, tc.method, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s, want %d and %s", tc.method, status, body, tc.status, tc.want)
			}
		})
	}
	_, body := twirp(t, c, token, "GetCacheEntryDownloadURL", `{"key":"k-2","version":"v"}`)
	var hit struct {
		URL string `json:"signed_download_url"`
	}
	json.Unmarshal([]byte(body), &hit)
	for _, tc := range []struct {
		name, url, header, value string
		status                   int
		want, contentRange       string
	}{
		{"whole blob", hit.URL, "", "", 200, "0123456789", ""},
		{"x-ms-range to the end", hit.URL, "x-ms-range", "bytes=3-", 206, "3456789", "bytes 3-9/10"},
		{"Range with an end", hit.URL, "Range", "bytes=2-4", 206, "234", "bytes 2-4/10"},
		{"past the end", hit.URL, "x-ms-range", "bytes=10-", 416, "InvalidRange", "bytes */10"},
		{"unsigned", strings.Split(hit.URL, "?")[0], "", "", 403, "AuthenticationFailed", ""},
		{"upload URL's permission", strings.Replace(hit.URL, "sp=r", "sp=cw", 1), "", "", 403, "AuthenticationFailed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			resp, got := send(t, req)
			if resp.StatusCode != tc.status || !strings.Contains(got, tc.want) || resp.Header.Get("Content-Range") != tc.contentRange {
				t.Errorf("GET %s %s: %s %q Content-Range %q, want %d %q %q", tc.header, tc.value, resp.Status, got,
					resp.Header.Get("Content-Range"), tc.status, tc.want, tc.contentRange)
			}
		})
	}
	if got := c.Entries(); !slices.Equal(got, []string{"k-1", "k-2"}) {
		t.Errorf("entries %q", got)
	}
}

// save stores data under key as go-actions-cache does, in two blocks and a block list.
func save(t *testing.T, c *ActionsCache, token, key string, data []byte) {
	t.Helper()
	_, body := twirp(t, c, token, "CreateCacheEntry", fmt.Sprintf(`{"key":%q,"version":"v"}`, key))
	var created struct {
		URL string `json:"signed_upload_url"`
	}
	json.Unmarshal([]byte(body), &created)
	half := len(data) / 2
	for i, part := range [][]byte{data[:half], data[half:]} {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s&comp=block&blockid=b%d", created.URL, i), bytes.NewReader(part))
		if resp, got := send(t, req); resp.StatusCode != http.StatusCreated || resp.Header.Get("x-ms-request-id") == "" {
			t.Fatalf("Put Block: %s %s", resp.Status, got)
		}
	}
	list := `<?xml version="1.0" encoding="UTF-8"?><BlockList><Latest>b0</Latest><Latest>b1</Latest></BlockList>`
	req, _ := http.NewRequest(http.MethodPut, created.URL+"&comp=blocklist", strings.NewReader(list))
	if resp, got := send(t, req); resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" {
		t.Fatalf("Put Block List: %s %s", resp.Status, got)
	}
	if status, got := twirp(t, c, token, "FinalizeCacheEntryUpload",
		fmt.Sprintf(`{"key":%q,"size_bytes":%d,"version":"v"}`, key, len(data))); status != 200 || !strings.Contains(got, `"ok":true`) {
		t.Fatalf("FinalizeCacheEntryUpload: %d %s", status, got)
	}
}

func twirp(t *testing.T, c *ActionsCache, token, method, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL+twirpPrefix+method, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, got := send(t, req)
	return resp.StatusCode, got
}

func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}
