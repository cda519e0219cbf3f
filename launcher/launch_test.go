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
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The launcher's three paths, driven for real: sh runs launch.sh against an empty or filled tool cache and a
// local HTTPS server (its certificate trusted through CURL_CA_BUNDLE) that serves release assets. A release
// is what release/build.sh makes for this platform; a tree is a copy of launch.sh beside the checksums file
// build.sh wrote, as the release workflow commits it on the commit it tags.

var asset = fmt.Sprintf("scribe-actions_%s_%s", runtime.GOOS, runtime.GOARCH)

// fakeRelease is a release binary for the tests that need no real one: a script that says it is one.
const fakeRelease = "#!/bin/sh\necho \"release binary: $*\"\n"

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is what release/build.sh made, by version, shared by every test and benchmark of this test binary:
// each build links a 26 MB binary.
var built = struct {
	sync.Mutex
	dir      string
	versions map[string]bool
}{versions: map[string]bool{}}

// realRelease builds release version for this platform with release/build.sh and returns its dist/ folder
// and the launcher/checksums.txt it wrote.
func realRelease(tb testing.TB, version string) (dist, checksums string) {
	tb.Helper()
	built.Lock()
	defer built.Unlock()
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "scribe-release")
		if err != nil {
			tb.Fatal(err)
		}
		built.dir = dir
	}
	dist, checksums = filepath.Join(built.dir, version, "dist"), filepath.Join(built.dir, version, "checksums.txt")
	if !built.versions[version] {
		cmd := exec.Command("sh", "../release/build.sh", version, runtime.GOOS+"/"+runtime.GOARCH)
		cmd.Env = append(os.Environ(), "DIST="+dist, "CHECKSUMS="+checksums)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("release/build.sh %s: %v\n%s", version, err, out)
		}
		built.versions[version] = true
	}
	return dist, checksums
}

// tree is an action checkout of a release: launcher/launch.sh with the given launcher/checksums.txt.
func tree(tb testing.TB, checksums []byte) string {
	tb.Helper()
	dir := tb.TempDir()
	script, err := os.ReadFile("launch.sh")
	if err != nil {
		tb.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "launcher"), 0o755)
	os.WriteFile(filepath.Join(dir, "launcher", "launch.sh"), script, 0o755)
	os.WriteFile(filepath.Join(dir, "launcher", "checksums.txt"), checksums, 0o644)
	return dir
}

// realTree is the tree of release version, and the release server's files for it.
func realTree(tb testing.TB, version string) (string, map[string]string) {
	dist, checksums := realRelease(tb, version)
	sums, err := os.ReadFile(checksums)
	if err != nil {
		tb.Fatal(err)
	}
	served := map[string]string{}
	entries, _ := os.ReadDir(dist)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dist, e.Name()))
		served["/"+version+"/"+e.Name()] = string(data)
	}
	return tree(tb, sums), served
}

// fakeTree is a release tree whose checksums name the SHA-256 of checksumOf for this platform's asset.
func fakeTree(tb testing.TB, version, checksumOf string) string {
	sum := sha256.Sum256([]byte(checksumOf))
	return tree(tb, []byte("version "+version+"\n"+hex.EncodeToString(sum[:])+"  "+asset+"\n"+
		strings.Repeat("0", 64)+"  scribe-actions_other_os\n"))
}

type release struct {
	files    map[string]string // path under the server -> body
	redirect string            // when set, every request is redirected there
	gate     *sync.WaitGroup   // when set, each request waits there for the others
	requests atomic.Int32
}

// serve starts the release server and returns the launcher's environment for it: SCRIBE_RELEASE_URL, and
// CURL_CA_BUNDLE naming a file with the server's certificate.
func (r *release) serve(tb testing.TB, env map[string]string) map[string]string {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if r.gate != nil {
			r.gate.Done()
			r.gate.Wait()
		}
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
	tb.Cleanup(s.Close)
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644)
	env["SCRIBE_RELEASE_URL"], env["CURL_CA_BUNDLE"] = s.URL, ca
	return env
}

// launch runs this repository's launch.sh (a tree without checksums, as main is) with only the given
// environment (and PATH, HOME, Go's) and returns its exit code and output.
func launch(tb testing.TB, env map[string]string, args ...string) (int, string, string) {
	tb.Helper()
	return launchTree(tb, "..", env, args...)
}

// launchTree is launch for the launch.sh of another tree.
func launchTree(tb testing.TB, tree string, env map[string]string, args ...string) (int, string, string) {
	tb.Helper()
	cmd := exec.Command("sh", append([]string{filepath.Join(tree, "launcher", "launch.sh")}, args...)...)
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
		tb.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// installedPath is where the launcher of tree keeps the binary for env (it is installed already).
func installedPath(t *testing.T, tree string, env map[string]string) string {
	out := filepath.Join(t.TempDir(), "out")
	env = maps.Clone(env)
	env["GITHUB_OUTPUT"] = out
	if code, _, stderr := launchTree(t, tree, env, "--install"); code != 0 {
		t.Fatalf("--install: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	return strings.TrimSpace(strings.TrimPrefix(string(got), "path="))
}

// files lists every file and folder under dir, relative to it.
func files(t *testing.T, dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if rel, _ := filepath.Rel(dir, p); err == nil && rel != "." {
			found = append(found, rel)
		}
		return nil
	})
	return found
}

func sha(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

// A tool cache hit needs no network, and no record beside the binary: the tree's checksums are the record.
func TestLauncherCacheHit(t *testing.T) {
	cache := t.TempDir()
	cached := "#!/bin/sh\necho \"cached binary: $*\"\n"
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9-sha256."+sha(cached)[:16], runtime.GOARCH, "scribe-actions")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte(cached), 0o755)
	rel := &release{}
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9"})

	code, stdout, stderr := launchTree(t, fakeTree(t, "v9.9.9", cached), env, "build", "--push")
	if code != 0 || stdout != "cached binary: build --push\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := rel.requests.Load(); n != 0 {
		t.Errorf("a cache hit made %d HTTP requests", n)
	}
}

// Every ref of a release's tree (v9.9.9, the moving v9 and v9.9, the commit's SHA) gets the release named by
// the tree's checksums, downloaded once from <base>/<version>/<asset> and verified against the tree.
func TestLauncherVerifiedDownload(t *testing.T) {
	cache := t.TempDir()
	dir, served := realTree(t, "v9.9.9")
	rel := &release{files: served}
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache})
	for _, ref := range []string{"v9.9.9", "v9", "v9.9", strings.Repeat("ab", 20)} {
		env["SCRIBE_ACTION_REF"] = ref
		if code, stdout, stderr := launchTree(t, dir, env, "version"); code != 0 || stdout != "v9.9.9\n" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", ref, code, stdout, stderr)
		}
	}
	if n := rel.requests.Load(); n != 1 {
		t.Errorf("%d HTTP requests for four refs of one release, want 1", n)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "launcher", "checksums.txt"))
	bin := filepath.Join(cache, "scribe-actions", "v9.9.9-sha256."+strings.Fields(string(want))[2][:16], runtime.GOARCH, "scribe-actions")
	if got := files(t, cache); len(got) != 4 || !strings.HasSuffix(bin, got[3]) {
		t.Errorf("tool cache holds %v, want only %s", got, bin)
	}
	// A fork's release of the same tree is kept apart from upstream's.
	env["SCRIBE_ACTION_REPOSITORY"] = "fork/scribe-actions"
	if code, stdout, stderr := launchTree(t, dir, env, "version"); code != 0 || stdout != "v9.9.9\n" {
		t.Fatalf("fork: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if path := installedPath(t, dir, env); !strings.Contains(path, "fork-scribe-actions@v9.9.9-sha256.") {
		t.Errorf("the fork's release is at %s, not under its own key", path)
	}
	// --install reports the path through GITHUB_OUTPUT and puts its folder on GITHUB_PATH.
	delete(env, "SCRIBE_ACTION_REPOSITORY")
	out, path := filepath.Join(t.TempDir(), "out"), filepath.Join(t.TempDir(), "path")
	env["GITHUB_OUTPUT"], env["GITHUB_PATH"] = out, path
	if code, _, stderr := launchTree(t, dir, env, "--install"); code != 0 {
		t.Fatalf("--install: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "path="+bin+"\n" {
		t.Errorf("GITHUB_OUTPUT = %q, want path=%s", got, bin)
	}
	if got, _ := os.ReadFile(path); string(got) != filepath.Dir(bin)+"\n" {
		t.Errorf("GITHUB_PATH = %q", got)
	}
}

// v9 moves from release v9.9.8 to v9.9.9: the new tree's checksums name another binary, so the runner that
// kept v9.9.8's gets v9.9.9's, and a job still on the old tree keeps its own.
func TestLauncherMovedTagGetsTheNewRelease(t *testing.T) {
	cache := t.TempDir()
	oldTree, oldFiles := realTree(t, "v9.9.8")
	newTree, newFiles := realTree(t, "v9.9.9")
	rel := &release{files: oldFiles}
	maps.Copy(rel.files, newFiles)
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9"})
	for i, want := range []struct{ tree, version string }{{oldTree, "v9.9.8"}, {newTree, "v9.9.9"}, {oldTree, "v9.9.8"}} {
		if code, stdout, stderr := launchTree(t, want.tree, env, "version"); code != 0 || stdout != want.version+"\n" {
			t.Fatalf("run %d: exit %d, stdout %q, want %s; stderr %q", i, code, stdout, want.version, stderr)
		}
	}
	if n := rel.requests.Load(); n != 2 {
		t.Errorf("%d HTTP requests, want one per release", n)
	}
	if a, b := installedPath(t, oldTree, env), installedPath(t, newTree, env); a == b {
		t.Errorf("both trees run %s", a)
	}
}

// A release asset that is not the one the tree's checksums name (replaced after the release) never runs and
// leaves nothing in the tool cache.
func TestLauncherReleaseMismatchRefusesAndLeavesNothing(t *testing.T) {
	cache := t.TempDir()
	dir, served := realTree(t, "v9.9.9")
	_, other := realTree(t, "v9.9.8")
	served["/v9.9.9/"+asset] = other["/v9.9.8/"+asset]
	env := (&release{files: served}).serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9"})
	code, stdout, stderr := launchTree(t, dir, env, "version")
	if code == 0 || stdout != "" {
		t.Fatalf("a binary with a wrong checksum ran: exit %d, stdout %q", code, stdout)
	}
	sums, _ := os.ReadFile(filepath.Join(dir, "launcher", "checksums.txt"))
	want := fmt.Sprintf("checksum mismatch for %s of v9.9.9: got %s, this action's launcher/checksums.txt says %s; refusing to run it",
		asset, sha(other["/v9.9.8/"+asset]), strings.Fields(string(sums))[2])
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if left := files(t, cache); len(left) != 1 || left[0] != "scribe-actions" {
		t.Errorf("left in the tool cache: %v", left)
	}
}

// A binary changed in the tool cache after it was installed (self-hosted runners share the tool cache) never
// runs, even with a matching record planted beside it: the tree's checksums decide.
func TestLauncherTamperedCacheRefuses(t *testing.T) {
	cache := t.TempDir()
	dir := fakeTree(t, "v9.9.9", fakeRelease)
	rel := &release{files: map[string]string{"/v9.9.9/" + asset: fakeRelease}}
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9.9.9"})
	if code, stdout, stderr := launchTree(t, dir, env, "build"); code != 0 || stdout != "release binary: build\n" {
		t.Fatalf("install: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bin := installedPath(t, dir, env)
	planted := "#!/bin/sh\necho \"planted binary: $*\"\n"
	os.WriteFile(bin, []byte(planted), 0o755)
	os.WriteFile(bin+".sha256", []byte(sha(planted)+"\n"), 0o644)
	code, stdout, stderr := launchTree(t, dir, env, "build")
	want := "has SHA-256 " + sha(planted) + ", but this action's launcher/checksums.txt (v9.9.9) says " + sha(fakeRelease) + "; refusing to run it"
	if code == 0 || strings.Contains(stdout, "planted") || !strings.Contains(stderr, want) {
		t.Errorf("a tampered cache hit: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Jobs that install under one key at the same instant all run a whole, verified binary, and leave one.
func TestLauncherInstallRace(t *testing.T) {
	const jobs = 4
	cache := t.TempDir()
	dir := fakeTree(t, "v9.9.9", fakeRelease)
	rel := &release{files: map[string]string{"/v9.9.9/" + asset: fakeRelease}, gate: &sync.WaitGroup{}}
	rel.gate.Add(jobs) // every download is answered once all are under way
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v9"})
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() {
			if code, stdout, stderr := launchTree(t, dir, env, "build"); code != 0 || stdout != "release binary: build\n" {
				t.Errorf("job %d: exit %d, stdout %q, stderr %q", i, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	bin, _ := filepath.Rel(cache, installedPath(t, dir, env))
	if got := files(t, cache); len(got) != 4 || got[3] != bin {
		t.Errorf("tool cache holds %v, want only %s", got, bin)
	}
}

// A tree's checksums file is read strictly: a broken one stops the launcher instead of building or
// downloading something else; a release without this platform's asset builds from source.
func TestLauncherTreeChecksumsFormat(t *testing.T) {
	hash := sha(fakeRelease)
	for _, tc := range []struct{ name, checksums, stdout, stderr string }{
		{"CRLF from a Windows checkout", "version v9.9.9\r\n" + hash + "  " + asset + "\r\n", "release binary: x\n", ""},
		{"binary-mode line", "version v9.9.9\n" + hash + " *" + asset + "\n", "release binary: x\n", ""},
		{"no version", hash + "  " + asset + "\n", "", "is not a release's checksums file"},
		{"version with a path", "version v9.9.9/../x\n" + hash + "  " + asset + "\n", "", "is not a release's checksums file"},
		{"short hash", "version v9.9.9\n" + hash[:60] + "  " + asset + "\n", "", "is not a release's checksums file"},
		{"no asset for this platform", "version v9.9.9\n" + hash + "  scribe-actions_plan9_mips\n", "",
			"release v9.9.9 has no " + asset + ": building from source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := &release{files: map[string]string{"/v9.9.9/" + asset: fakeRelease}}
			env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": t.TempDir(), "SCRIBE_ACTION_REF": "v9", "PATH": "/usr/bin:/bin"})
			code, stdout, stderr := launchTree(t, tree(t, []byte(tc.checksums)), env, "x")
			if stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) || (code == 0) != (tc.stdout != "") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

// A tree without checksums (main, any commit between releases) downloads nothing: it builds the binary from
// its own source with Go, says why, and records the binary's SHA-256 beside it for later cache hits.
func TestLauncherBuildsFromSource(t *testing.T) {
	cache := t.TempDir()
	rel := &release{files: map[string]string{}}
	sha := strings.Repeat("cd", 20)
	env := rel.serve(t, map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": sha})
	code, stdout, stderr := launch(t, env, "version")
	if code != 0 || stdout != sha+"\n" || !strings.Contains(stderr, sha+" has no launcher/checksums.txt (release tags do)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := rel.requests.Load(); n != 0 {
		t.Errorf("%d HTTP requests for a tree without checksums", n)
	}
	bin := filepath.Join("scribe-actions", sha+"-source", runtime.GOARCH, "scribe-actions")
	if got := files(t, cache); len(got) != 5 || got[3] != bin || got[4] != bin+".sha256" {
		t.Errorf("tool cache holds %v, want %s and its SHA-256", got, bin)
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
	// The record catches a binary changed after it was built.
	os.WriteFile(filepath.Join(cache, bin), []byte("#!/bin/sh\necho planted\n"), 0o755)
	if code, stdout, stderr = launch(t, env, "version"); code == 0 || stdout != "" ||
		!strings.Contains(stderr, "but the record made when it was built ("+filepath.Join(cache, bin)+".sha256) says") {
		t.Errorf("tampered source build: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A moving tag (v1) without checksums is keyed by the source it was built from: the binary a runner kept
// under "v1" before is not used, and a tree that changed gets a binary of its own.
func TestLauncherMovingTagGetsTheNewBinary(t *testing.T) {
	cache := t.TempDir()
	stale := filepath.Join(cache, "scribe-actions", "v1", runtime.GOARCH, "scribe-actions")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("#!/bin/sh\necho stale\n"), 0o755)
	os.WriteFile(stale+".sha256", []byte(sha("#!/bin/sh\necho stale\n")+"\n"), 0o644)

	env := map[string]string{"RUNNER_TOOL_CACHE": cache, "SCRIBE_ACTION_REF": "v1"}
	code, stdout, stderr := launch(t, env, "version")
	if code != 0 || stdout != "v1\n" || !strings.Contains(stderr, "keyed by its SHA-256 as v1 may move") {
		t.Fatalf("exit %d, stdout %q (want the binary built from this tree), stderr %q", code, stdout, stderr)
	}
	first := installedPath(t, "..", env)
	if !strings.Contains(first, string(filepath.Separator)+"v1-source.") {
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
	env["PATH"] = "/usr/bin:/bin" // no Go: it fails after saying it would build
	code, stdout, stderr = launchTree(t, moved, env, "--install")
	if code == 0 || strings.Contains(stdout, first) || !strings.Contains(stderr, "no Go to build one") {
		t.Errorf("the moved tree reused %s or did not try to build: exit %d, stdout %q, stderr %q", first, code, stdout, stderr)
	}
}

// "No such release" and "no answer" are different outcomes: a 404 builds from source (here: no Go, so it says
// so), an unreachable server or a plain-http URL or redirect fails, naming the URL, and builds nothing.
func TestLauncherNotFoundIsNotANetworkError(t *testing.T) {
	noGo := "/usr/bin:/bin"
	dir := fakeTree(t, "v9.9.9", fakeRelease)
	notFound := (&release{files: map[string]string{}}).serve(t, map[string]string{"RUNNER_TOOL_CACHE": t.TempDir(),
		"SCRIBE_ACTION_REF": "v9.9.9", "PATH": noGo})
	code, _, stderr := launchTree(t, dir, notFound, "build")
	if code == 0 || !strings.Contains(stderr, "no release v9.9.9 at "+notFound["SCRIBE_RELEASE_URL"]+" (404): building from source") ||
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
		code, _, stderr := launchTree(t, dir, env, "build")
		if code == 0 || !strings.Contains(stderr, "cannot download "+env["SCRIBE_RELEASE_URL"]+"/v9.9.9/"+asset+": ") ||
			!strings.Contains(stderr, "not building from source") || strings.Contains(stderr, "no Go to build one") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
}

// BenchmarkLauncher measures the three ways a step gets the binary, each to the binary's first line of output
// (`version`, which prints before any action's work): a tool-cache hit (the launcher's checks, the SHA-256 of
// the binary, its start), a download from a loopback HTTPS server of the release release/build.sh made
// (verified, installed, started), and a build from source with a warm Go build cache.
func BenchmarkLauncher(b *testing.B) {
	dir, served := realTree(b, "v9.9.9")
	size := float64(len(served["/v9.9.9/"+asset])) / 1e6
	env := (&release{files: served}).serve(b, map[string]string{"SCRIBE_ACTION_REF": "v9"})
	run := func(b *testing.B, tree, want string) {
		if code, stdout, stderr := launchTree(b, tree, env, "version"); code != 0 || stdout != want+"\n" {
			b.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	}
	// timed runs fn as often as the benchmark asks, each time after fresh (not timed), and reports the mean in ms.
	timed := func(b *testing.B, fresh, fn func()) {
		var total time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			fresh()
			b.StartTimer()
			start := time.Now()
			fn()
			total += time.Since(start)
			n++
		}
		b.ReportMetric(float64(total.Microseconds())/1e3/float64(n), "ms/op")
	}
	newCache := func(b *testing.B) func() {
		return func() {
			os.RemoveAll(env["RUNNER_TOOL_CACHE"])
			env["RUNNER_TOOL_CACHE"] = b.TempDir()
		}
	}
	b.Run("cache-hit", func(b *testing.B) {
		env["RUNNER_TOOL_CACHE"] = b.TempDir()
		run(b, dir, "v9.9.9") // installs it
		timed(b, func() {}, func() { run(b, dir, "v9.9.9") })
		b.ReportMetric(size, "binary-MB")
	})
	b.Run("download", func(b *testing.B) {
		timed(b, newCache(b), func() { run(b, dir, "v9.9.9") })
		b.ReportMetric(size, "binary-MB")
	})
	b.Run("source-build", func(b *testing.B) {
		env["SCRIBE_ACTION_REF"] = strings.Repeat("ef", 20)
		build := func() { run(b, "..", env["SCRIBE_ACTION_REF"]) }
		env["RUNNER_TOOL_CACHE"] = b.TempDir()
		build() // warms the Go build cache
		timed(b, newCache(b), build)
	})
}
