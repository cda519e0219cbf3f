package launcher_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// The launcher's three paths, driven for real: sh runs launch.sh against an empty or filled tool cache and a
// local HTTPS server (its certificate trusted through CURL_CA_BUNDLE) that serves release assets with a right
// or a wrong checksum.

var asset = fmt.Sprintf("scribe-actions_%s_%s", runtime.GOOS, runtime.GOARCH)

// fakeRelease is a release binary: a script that says it is one.
const fakeRelease = "#!/bin/sh\necho \"release binary: $*\"\n"

type release struct {
	files    map[string]string // path under the server -> body
	redirect string            // when set, every request is redirected there
	requests atomic.Int32
}

// serve starts the release server and returns the launcher's environment for it: SCRIBE_RELEASE_URL, and
// CURL_CA_BUNDLE naming a file with the server's certificate.
func (r *release) serve(t *testing.T, env map[string]string) map[string]string {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if r.redirect != "" {
			http.Redirect(w, req, r.redirect+req.URL.Path, http.StatusFound)
			return
		}
		body, ok := r.files[req.URL.Path]
		if !ok {
			http.NotFound(w, req)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644)
	env["SCRIBE_RELEASE_URL"], env["CURL_CA_BUNDLE"] = s.URL, ca
	return env
}

func newRelease(version, binary, checksumOf string) *release {
	sum := sha256.Sum256([]byte(checksumOf))
	return &release{files: map[string]string{
		"/" + version + "/" + asset: binary,
		"/" + version + "/scribe-actions_checksums.txt": hex.EncodeToString(sum[:]) + "  " + asset + "\n" +
			strings.Repeat("0", 64) + "  scribe-actions_other_os\n",
	}}
}

// launch runs launch.sh with only the given environment (and PATH, HOME) and returns its exit code and output.
func launch(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"launch.sh"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"GOCACHE", "GOPATH", "GOMODCACHE", "GOFLAGS", "GOPROXY"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func files(t *testing.T, dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	return found
}

func TestLauncherCacheHit(t *testing.T) {
	cache := t.TempDir()
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9", runtime.GOARCH, "scribe-actions")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	cached := "#!/bin/sh\necho \"cached binary: $*\"\n"
	os.WriteFile(bin, []byte(cached), 0o755)
	sum := sha256.Sum256([]byte(cached))
	os.WriteFile(bin+".sha256", []byte(hex.EncodeToString(sum[:])+"\n"), 0o644)
	rel := newRelease("v9.9.9", fakeRelease, fakeRelease)
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"})

	code, stdout, stderr := launch(t, env, "build", "--push")
	if code != 0 || stdout != "cached binary: build --push\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := rel.requests.Load(); n != 0 {
		t.Errorf("a cache hit made %d HTTP requests", n)
	}
}

func TestLauncherVerifiedDownload(t *testing.T) {
	cache := t.TempDir()
	rel := newRelease("v9.9.9", fakeRelease, fakeRelease)
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"})

	code, stdout, stderr := launch(t, env, "scan", "--image", "x")
	if code != 0 || stdout != "release binary: scan --image x\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A prerelease tag is a release too; a fork's release of the same tag is kept apart from upstream's.
	pre := newRelease("v9.9.9-rc.1", fakeRelease, fakeRelease)
	preEnv := pre.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9-rc.1", "SCRIBE_ACTION_REPOSITORY": "fork/scribe-actions"})
	if code, stdout, stderr := launch(t, preEnv, "scan"); code != 0 || stdout != "release binary: scan\n" {
		t.Fatalf("prerelease: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(cache, "scribe-actions", "fork-scribe-actions@v9.9.9-rc.1", runtime.GOARCH, "scribe-actions")); err != nil {
		t.Errorf("the fork's release is not under its own key: %v (cache: %v)", err, files(t, cache))
	}
	// The second step of the job finds it in the tool cache.
	before := rel.requests.Load()
	if code, stdout, _ = launch(t, env, "sign"); code != 0 || stdout != "release binary: sign\n" || rel.requests.Load() != before {
		t.Errorf("second run: exit %d, stdout %q, %d more requests", code, stdout, rel.requests.Load()-before)
	}
	// --install reports the path through GITHUB_OUTPUT and puts its folder on GITHUB_PATH.
	out, path := filepath.Join(t.TempDir(), "out"), filepath.Join(t.TempDir(), "path")
	env["GITHUB_OUTPUT"], env["GITHUB_PATH"] = out, path
	if code, _, stderr := launch(t, env, "--install"); code != 0 {
		t.Fatalf("--install: exit %d: %s", code, stderr)
	}
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9", runtime.GOARCH, "scribe-actions")
	if got, _ := os.ReadFile(out); string(got) != "path="+bin+"\n" {
		t.Errorf("GITHUB_OUTPUT = %q", got)
	}
	if got, _ := os.ReadFile(path); string(got) != filepath.Dir(bin)+"\n" {
		t.Errorf("GITHUB_PATH = %q", got)
	}
}

func TestLauncherChecksumMismatchFailsAndLeavesNothing(t *testing.T) {
	cache := t.TempDir()
	rel := newRelease("v9.9.9", fakeRelease+"# tampered\n", fakeRelease)
	code, stdout, stderr := launch(t, rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"}), "build")
	if code == 0 || strings.Contains(stdout, "release binary") {
		t.Fatalf("a binary with a wrong checksum ran: exit %d, stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, "checksum mismatch for "+asset+" of v9.9.9") {
		t.Errorf("stderr = %q", stderr)
	}
	if left := files(t, cache); len(left) != 0 {
		t.Errorf("files left in the tool cache: %v", left)
	}
}

// A SHA pin uses a release only when the release says it was built from that commit.
func TestLauncherSHAPinUsesOnlyItsOwnRelease(t *testing.T) {
	version, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(version))
	sha := strings.Repeat("ab", 20)
	rel := newRelease(v, fakeRelease, fakeRelease)
	rel.files["/"+v+"/scribe-actions_commit.txt"] = sha
	code, stdout, stderr := launch(t, rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": t.TempDir(), "SCRIBE_ACTION_REF": sha}), "cleanup")
	if code != 0 || stdout != "release binary: cleanup\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// With no release for the ref (the server answers 404, or the ref is a branch), the launcher builds the
// binary from the action's own source with Go; the build carries the ref as its version.
func TestLauncherBuildsFromSource(t *testing.T) {
	cache := t.TempDir()
	rel := &release{files: map[string]string{}}
	sha := strings.Repeat("cd", 20)
	rel.files["/v0.1.0/scribe-actions_commit.txt"] = strings.Repeat("ef", 20) // a release of another commit
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": sha})
	code, stdout, stderr := launch(t, env, "version")
	if code != 0 || stdout != sha+"\n" || !strings.Contains(stderr, "(404): building from source") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := files(t, cache); len(got) != 2 || filepath.Base(got[0]) != "scribe-actions" || filepath.Base(got[1]) != "scribe-actions.sha256" {
		t.Errorf("tool cache holds %v, want the one binary and its SHA-256", got)
	}
	// The binary it built is the real one: it knows the actions.
	if code, _, stderr = launch(t, env, "build", "--platforms", "linux/amd65"); code != 1 || !strings.Contains(stderr, `input "platforms"`) {
		t.Errorf("built binary: exit %d, stderr %q", code, stderr)
	}
	// An input with a hyphen in its name gets through the launcher's shell (dash drops INPUT_TAG-SUFFIX).
	env["INPUT_TAG_SUFFIX"] = "qa"
	if code, _, stderr = launch(t, env, "build"); code != 1 || !strings.Contains(stderr, `input "tag-suffix": "qa" is not allowed`) {
		t.Errorf("INPUT_TAG_SUFFIX through the launcher: exit %d, stderr %q", code, stderr)
	}
}

// A binary changed in the tool cache after it was installed (self-hosted runners share the tool cache) never runs.
func TestLauncherTamperedCacheRefuses(t *testing.T) {
	cache := t.TempDir()
	rel := newRelease("v9.9.9", fakeRelease, fakeRelease)
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"})
	if code, stdout, stderr := launch(t, env, "build"); code != 0 || stdout != "release binary: build\n" {
		t.Fatalf("install: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9", runtime.GOARCH, "scribe-actions")
	os.WriteFile(bin, []byte("#!/bin/sh\necho \"planted binary: $*\"\n"), 0o755)
	code, stdout, stderr := launch(t, env, "build")
	if code == 0 || strings.Contains(stdout, "planted") || !strings.Contains(stderr, "does not match the SHA-256 recorded when it was installed") {
		t.Errorf("a tampered cache hit: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A moving tag (v1) is keyed by the source it was built from: the binary a runner kept under "v1" before the
// tag moved is not used, and a tree that changed gets a binary of its own.
func TestLauncherMovingTagGetsTheNewBinary(t *testing.T) {
	cache := t.TempDir()
	stale := filepath.Join(cache, "scribe-actions", "v1", runtime.GOARCH, "scribe-actions")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("#!/bin/sh\necho stale\n"), 0o755)
	sum := sha256.Sum256([]byte("#!/bin/sh\necho stale\n"))
	os.WriteFile(stale+".sha256", []byte(hex.EncodeToString(sum[:])+"\n"), 0o644)

	env := map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v1"}
	code, stdout, stderr := launch(t, env, "version")
	if code != 0 || stdout != "v1\n" || !strings.Contains(stderr, "v1 is neither a release tag (v1.2.3) nor a commit SHA, so it may move") {
		t.Fatalf("exit %d, stdout %q (want the binary built from this tree), stderr %q", code, stdout, stderr)
	}
	first := installedPath(t, env)
	if !strings.Contains(first, string(filepath.Separator)+"v1-") {
		t.Errorf("v1's binary is at %s, not under a key with the source's hash", first)
	}
	// The tag moves: the tree changes, and so does the binary's place.
	moved := t.TempDir()
	for _, dir := range []string{"launcher", "cmd/scribe-actions"} {
		os.MkdirAll(filepath.Join(moved, dir), 0o755)
	}
	for _, f := range []string{"launcher/launch.sh", "go.mod", "cmd/scribe-actions/main.go"} {
		data, _ := os.ReadFile(filepath.Join("..", f))
		if f == "cmd/scribe-actions/main.go" {
			data = append(data, []byte("\n// moved\n")...)
		}
		os.WriteFile(filepath.Join(moved, f), data, 0o644)
	}
	cmd := exec.Command("sh", filepath.Join(moved, "launcher", "launch.sh"), "--install")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME"), "RUNNER_TOOL_CACHE=" + cache, "SCRIBE_ACTION_REF=v1"}
	out, _ := cmd.CombinedOutput() // no Go on PATH: it fails after naming where it would build
	if strings.Contains(string(out), first) || !strings.Contains(string(out), "no Go to build one") {
		t.Errorf("the moved tree reused %s or did not try to build: %s", first, out)
	}
}

// installedPath is where the launcher keeps the binary for env (it is installed already).
func installedPath(t *testing.T, env map[string]string) string {
	out := filepath.Join(t.TempDir(), "out")
	env = maps.Clone(env)
	env["GITHUB_OUTPUT"] = out
	if code, _, stderr := launch(t, env, "--install"); code != 0 {
		t.Fatalf("--install: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	return strings.TrimSpace(strings.TrimPrefix(string(got), "path="))
}

// "No such release" and "no answer" are different outcomes: a 404 builds from source (here: no Go, so it says
// so), an unreachable server or a plain-http URL or redirect fails, naming the URL, and builds nothing.
func TestLauncherNotFoundIsNotANetworkError(t *testing.T) {
	noGo := "/usr/bin:/bin"
	notFound := (&release{files: map[string]string{}}).serve(t, map[string]string{"RUNNER_TOOL_CACHE": t.TempDir(),
		"SCRIBE_ACTION_REF": "v9.9.9", "PATH": noGo})
	code, _, stderr := launch(t, notFound, "build")
	if code == 0 || !strings.Contains(stderr, "no release v9.9.9 at ") || !strings.Contains(stderr, "(404): building from source") ||
		!strings.Contains(stderr, "no Go to build one") {
		t.Errorf("404: exit %d, stderr %q", code, stderr)
	}

	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()
	for name, env := range map[string]map[string]string{
		"unreachable":            {"SCRIBE_RELEASE_URL": closed.URL},
		"plain http":             {"SCRIBE_RELEASE_URL": "http://127.0.0.1:9"},
		"redirect to plain http": (&release{redirect: "http://127.0.0.1:9"}).serve(t, map[string]string{}),
	} {
		env["RUNNER_TOOL_CACHE"], env["SCRIBE_ACTION_REF"], env["PATH"] = t.TempDir(), "v9.9.9", noGo
		code, _, stderr := launch(t, env, "build")
		if code == 0 || !strings.Contains(stderr, "cannot download "+env["SCRIBE_RELEASE_URL"]+"/v9.9.9/scribe-actions_checksums.txt: ") ||
			!strings.Contains(stderr, "not building from source") || strings.Contains(stderr, "no Go to build one") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
}

// BenchmarkLauncherCacheHit measures what a step pays to start the binary once the tool cache has it:
// the launcher's checks plus the binary's own start, running `version`.
func BenchmarkLauncherCacheHit(b *testing.B) {
	cache := b.TempDir()
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9", runtime.GOARCH, "scribe-actions")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=v9.9.9", "-o", bin, "../cmd/scribe-actions").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(bin)
	sum := sha256.Sum256(data)
	os.WriteFile(bin+".sha256", []byte(hex.EncodeToString(sum[:])+"\n"), 0o644) // as the launcher records it
	env := map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code, stdout, stderr := launch(b, env, "version"); code != 0 || stdout != "v9.9.9\n" {
			b.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	}
}
