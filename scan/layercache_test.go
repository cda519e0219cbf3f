package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
