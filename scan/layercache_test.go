package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// scanWithCache scans an image with the OSV database and the layer cache under one folder, as consecutive
// runs on one runner do.
func scanWithCache(t *testing.T, cache, image, db string) result {
	t.Helper()
	st := testenv.RunAction(t, Action(), map[string]string{"image": image, "db-dir": db, "offline": "true", "fail-on": "none",
		"fail-on-secrets": "false", "output-dir": t.TempDir()}, map[string]string{"SCRIBE_OSV_CACHE": filepath.Join(cache, "osv")})
	if st.Code != 0 {
		t.Fatalf("exit %d\n%s", st.Code, st.Log)
	}
	return result{code: st.Code, log: st.Log, summary: st.Summary, out: st.Outputs}
}

// A rescan reads only the layers it has not seen: the same image again takes every layer from the cache and
// reports the same packages, findings and secrets; an image whose top layer changed reads only that layer; an
// entry that does not decode is read again, and said.
func TestLayerCache(t *testing.T) {
	host := testenv.Registry(t, false)
	db := osvDir(t)
	base := testenv.Layer{"etc/os-release": stretchOSRelease, "var/lib/dpkg/status": stretchStatus}
	app := testenv.Layer{"app/node_modules/minimist/package.json": `{"name":"minimist","version":"1.2.5"}`}
	key := testenv.Layer{"root/.ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDvGxTvWPeXq8MK8x0O1Dn3iURRt3u98i3k6tRfhK5cRwAAAJhpoqfIaaKn\n-----END OPENSSH PRIVATE KEY-----\n"}
	first := host + "/acme/cached@" + testenv.Push(t, host+"/acme/cached:1", testenv.Image(t, "linux/amd64", base, app, key)).String()
	cache := t.TempDir()

	cold := scanWithCache(t, cache, first, db)
	warm := scanWithCache(t, cache, first, db)
	if !strings.Contains(cold.summary, "in 3 layers (0 from the layer cache)") || !strings.Contains(warm.summary, "in 3 layers (3 from the layer cache)") {
		t.Errorf("cold:\n%s\nwarm:\n%s", cold.summary, warm.summary)
	}
	if !reflect.DeepEqual(reportOf(t, cold), reportOf(t, warm)) {
		t.Errorf("the cached scan reports something else:\n%+v\n%+v", reportOf(t, cold), reportOf(t, warm))
	}

	app2 := testenv.Layer{"app/node_modules/minimist/package.json": `{"name":"minimist","version":"1.2.6"}`}
	second := host + "/acme/cached@" + testenv.Push(t, host+"/acme/cached:2", testenv.Image(t, "linux/amd64", base, key, app2)).String()
	if r := scanWithCache(t, cache, second, db); !strings.Contains(r.summary, "in 3 layers (2 from the layer cache)") || !strings.Contains(r.out["report"], "-scan.json") {
		t.Errorf("top layer changed:\n%s", r.summary)
	}

	entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*", "*.gob"))
	if len(entries) != 4 {
		t.Fatalf("%d cache entries, want 4 (3 layers, then 1 new)", len(entries))
	}
	for _, e := range entries {
		os.WriteFile(e, []byte("not gob"), 0o644)
	}
	broken := scanWithCache(t, cache, first, db)
	if !strings.Contains(broken.summary, "(0 from the layer cache)") || !strings.Contains(broken.log, "unreadable") ||
		!reflect.DeepEqual(reportOf(t, broken), reportOf(t, cold)) {
		t.Errorf("corrupt entries:\n%s\n%s", broken.log, broken.summary)
	}
}

// reportOf is what a scan found, without what differs between runs (paths, times).
func reportOf(t *testing.T, r result) [3]any {
	raw, err := os.ReadFile(r.out["report"])
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	return [3]any{rep.Packages, rep.Findings, rep.Secrets}
}

// On the realistic image (Debian, Python, npm, a Go binary, secrets) a scan from the cache reports exactly
// what the scan that filled it did: every cataloguer's input survives the round trip (a Go binary's toolchain
// once did not: ParseBuildInfo does not read back the go line String writes).
func TestLayerCacheRealImage(t *testing.T) {
	img, db, cache := realImage(t), osvDir(t), t.TempDir()
	cold := scanWithCache(t, cache, img, db)
	warm := scanWithCache(t, cache, img, db)
	if !strings.Contains(warm.summary, "(5 from the layer cache)") || !reflect.DeepEqual(reportOf(t, cold), reportOf(t, warm)) {
		t.Errorf("cold:\n%s\nwarm:\n%s", cold.summary, warm.summary)
	}
}

const day = 24 * time.Hour

// aged writes size bytes at path (its folders made) and dates it age before now.
func aged(t *testing.T, path string, size int, now time.Time, age time.Duration) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	date(t, path, now, age)
}

// date sets a path's times to age before now (a folder's after what it holds is written, which would move it).
func date(t *testing.T, path string, now time.Time, age time.Duration) {
	t.Helper()
	if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
		t.Fatal(err)
	}
}

// recent fails unless path was modified within a minute of now.
func recent(t *testing.T, path string, now time.Time) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := now.Sub(info.ModTime()).Abs(); d > time.Minute {
		t.Errorf("%s modified %s from now, want touched", path, d.Round(time.Second))
	}
}

// A sweep removes the folders of other binaries untouched for a week, this binary's entries unread for a month
// and its temporary files a day old, says what it removed and how much, and leaves every other name alone.
func TestLayerCacheEviction(t *testing.T) {
	id, err := scannerID()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	root := t.TempDir()
	own, old, young := filepath.Join(root, id), filepath.Join(root, "0123456789abcdef"), filepath.Join(root, "fedcba9876543210")
	aged(t, filepath.Join(own, "sha256-fresh.gob"), 100, now, time.Hour)
	aged(t, filepath.Join(own, "sha256-old.gob"), 500, now, 40*day)
	aged(t, filepath.Join(own, ".tmp-x"), 100, now, 2*day)
	aged(t, filepath.Join(own, ".tmp-y"), 100, now, time.Hour) // a write in progress
	aged(t, filepath.Join(own, "notes.txt"), 100, now, 40*day)
	aged(t, filepath.Join(old, "sha256-a.gob"), 1000, now, 9*day)
	aged(t, filepath.Join(old, "sha256-b.gob"), 2000, now, 40*day)
	date(t, old, now, 8*day)
	aged(t, filepath.Join(young, "sha256-c.gob"), 100, now, 40*day)
	date(t, young, now, 2*day)
	aged(t, filepath.Join(root, "keep-me", "data"), 100, now, 30*day)
	date(t, filepath.Join(root, "keep-me"), now, 30*day)
	aged(t, filepath.Join(root, "0123456789ABCDEF", "sha256-d.gob"), 100, now, 8*day)
	date(t, filepath.Join(root, "0123456789ABCDEF"), now, 8*day)
	aged(t, filepath.Join(root, "0123456789abcdee"), 100, now, 8*day) // a file, not a scanner's folder

	e := evictLayerCache(root, id, now, os.Remove)
	for _, c := range []struct {
		path string
		kept bool
	}{
		{filepath.Join(own, "sha256-fresh.gob"), true},
		{filepath.Join(own, "sha256-old.gob"), false},
		{filepath.Join(own, ".tmp-x"), false},
		{filepath.Join(own, ".tmp-y"), true},
		{filepath.Join(own, "notes.txt"), true},
		{old, false},
		{filepath.Join(young, "sha256-c.gob"), true},
		{filepath.Join(root, "keep-me", "data"), true},
		{filepath.Join(root, "0123456789ABCDEF", "sha256-d.gob"), true},
		{filepath.Join(root, "0123456789abcdee"), true},
	} {
		if _, err := os.Lstat(c.path); (err == nil) != c.kept {
			t.Errorf("%s: kept %t, want %t (%v)", strings.TrimPrefix(c.path, root), err == nil, c.kept, err)
		}
	}
	want := "layer cache: removed 2 entries of 1 older scanner, 1 unused for 30 days and 1 unfinished write (3.6 kB)"
	if got := e.note(); got != want {
		t.Errorf("note:\n got %q\nwant %q", got, want)
	}
	if w := e.warning(); w != "" {
		t.Errorf("warning %q, want none", w)
	}
	if again := evictLayerCache(root, id, now, os.Remove); again.note() != "" {
		t.Errorf("a second sweep removed more: %q", again.note())
	}

	// a cache actions/cache restored keeps the times it was saved with: its entries, all a month old, are as
	// old as its newest, and stay
	restored := t.TempDir()
	aged(t, filepath.Join(restored, id, "sha256-a.gob"), 100, now, 40*day)
	aged(t, filepath.Join(restored, id, "sha256-b.gob"), 100, now, 45*day)
	if e := evictLayerCache(restored, id, now, os.Remove); e.note() != "" {
		t.Errorf("a restored cache lost entries: %q", e.note())
	}
}

// What a sweep cannot remove is a warning naming the path; what it did remove is still said, and a folder it
// could not empty is not counted as removed.
func TestLayerCacheEvictionFailure(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	root := t.TempDir()
	id, locked := "1111111111111111", filepath.Join(root, "2222222222222222")
	aged(t, filepath.Join(root, id, "sha256-old.gob"), 500, now, 40*day)
	aged(t, filepath.Join(root, id, "sha256-new.gob"), 100, now, time.Hour)
	aged(t, filepath.Join(locked, "sha256-a.gob"), 1000, now, 9*day)
	aged(t, filepath.Join(locked, "sha256-b.gob"), 1000, now, 9*day)
	date(t, locked, now, 8*day)
	denied := func(path string) error {
		if strings.HasPrefix(path, locked) {
			return &fs.PathError{Op: "remove", Path: path, Err: fs.ErrPermission}
		}
		return os.Remove(path)
	}
	e := evictLayerCache(root, id, now, denied)
	if w := e.warning(); !strings.Contains(w, filepath.Join(locked, "sha256-b.gob")) || !strings.Contains(w, "permission denied") {
		t.Errorf("warning %q, want the path it could not remove and why", w)
	}
	if got, want := e.note(), "layer cache: removed 1 entry unused for 30 days (500 B)"; got != want {
		t.Errorf("note:\n got %q\nwant %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(locked, "sha256-a.gob")); err != nil {
		t.Errorf("the folder it could not empty lost an entry: %v", err)
	}
}

// Opening the cache sweeps it when asked (the first platform image of a scan) and touches this binary's folder, so another binary's sweep
// leaves it; a hit touches its entry, so the entries scans read are kept.
func TestLayerCacheTouch(t *testing.T) {
	id, err := scannerID()
	if err != nil {
		t.Fatal(err)
	}
	now, root := time.Now(), t.TempDir()
	own := filepath.Join(root, id)
	aged(t, filepath.Join(own, "sha256-old.gob"), 500, now, 40*day)
	aged(t, filepath.Join(own, "sha256-new.gob"), 100, now, time.Hour)
	aged(t, filepath.Join(root, "0123456789abcdef", "sha256-a.gob"), 1000, now, 40*day)
	date(t, filepath.Join(root, "0123456789abcdef"), now, 8*day)
	date(t, own, now, 10*day)

	c := newLayerCache(root, now, true)
	if want := "layer cache: removed 1 entry of 1 older scanner and 1 unused for 30 days (1.5 kB)"; c.evicted != want || len(c.warn) > 0 {
		t.Errorf("first open: evicted %q, warnings %q; want %q", c.evicted, c.warn, want)
	}
	aged(t, filepath.Join(own, "sha256-later.gob"), 500, now, 40*day)
	date(t, own, now, 10*day)
	if again := newLayerCache(root, now, false); again.evicted != "" {
		t.Errorf("second open swept again: %q", again.evicted)
	}
	recent(t, own, now) // by the open itself: this one removed nothing from it
	if _, err := os.Stat(filepath.Join(own, "sha256-later.gob")); err != nil {
		t.Errorf("second open swept again: %v", err)
	}

	diff := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	c.put(diff, &layerScan{bytes: 42})
	date(t, c.path(diff), now, 40*day)
	if ls := c.get(diff, 0); ls == nil || ls.bytes != 42 {
		t.Fatalf("get = %+v, want the entry put (warnings %q)", ls, c.warn)
	}
	recent(t, c.path(diff), now)
}

// A Java archive is catalogued as its layer is read, and the cache keeps its packages, not its bytes: from the
// cache the same packages come back, at the index the layer has in the image scanned (not the one it had in the
// image that filled the cache), with what could not be read.
func TestLayerCacheJavaArchives(t *testing.T) {
	jars := testenv.Layer{
		"app/lib/guava.jar":  string(zipOf(t, map[string]string{"META-INF/maven/com.google.guava/guava/pom.properties": fmt.Sprintf(pomProps, "com.google.guava", "guava", "31.1-jre")})),
		"app/lib/broken.jar": "PK\x03\x04 truncated",
	}
	first, second := filepath.Join(t.TempDir(), "first"), filepath.Join(t.TempDir(), "second")
	for dir, layers := range map[string][]testenv.Layer{first: {jars}, second: {{"etc/motd": "hello\n"}, jars}} {
		lp, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := lp.AppendImage(testenv.Image(t, "linux/amd64", layers...)); err != nil {
			t.Fatal(err)
		}
	}
	db, cache := t.TempDir(), t.TempDir()
	scanWithCache(t, cache, first, db)
	warm := scanWithCache(t, cache, second, db)
	rep := reportOf(t, warm)
	pkgs := rep[0].([]Package)
	if !strings.Contains(warm.summary, "(1 from the layer cache)") || len(pkgs) != 1 || pkgs[0].Name != "com.google.guava:guava" || pkgs[0].Layer != 1 ||
		!strings.Contains(warm.log, "Java archive /app/lib/broken.jar: 1 archive not read") {
		t.Errorf("packages %+v\n%s\n%s", pkgs, warm.log, warm.summary)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*", "*.gob"))
	for _, e := range entries {
		if raw, _ := os.ReadFile(e); bytes.Contains(raw, []byte("pom.properties")) {
			t.Errorf("%s keeps the archive's bytes", e)
		}
	}
}
