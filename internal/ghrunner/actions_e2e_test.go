package ghrunner

import (
	"crypto/elliptic"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// The repository's own actions, run from the working tree as a local action (uses: ./build) would be: the
// launcher finds no release for it and builds the binary once into the shared tool cache.
const repoRoot = "../.."

var toolCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scribe-ghrunner-tools")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	toolCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hostedJob is a push to main of acme/app on a hosted runner whose Actions runtime is rt.
func hostedJob(t *testing.T, rt Runtime) *Runner {
	t.Helper()
	ws := t.TempDir()
	event := filepath.Join(ws, "event.json")
	os.WriteFile(event, []byte(`{"repository":{"default_branch":"main"}}`), 0o644)
	return &Runner{Workspace: ws, ToolCache: toolCache, Temp: t.TempDir(), Runtime: rt, GitHubToken: "ghs_job-token", Env: map[string]string{
		"GITHUB_REPOSITORY": "acme/app", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": event, "GITHUB_REF": "refs/heads/main",
		"GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_NUMBER": "7",
		"GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/build.yml@refs/heads/main"}}
}

// runtimeOf is the runtime a hosted runner has for a job whose cache service is c.
func runtimeOf(t *testing.T, c *testenv.ActionsCache) Runtime {
	env := c.RuntimeEnv(t)
	return Runtime{Token: env["ACTIONS_RUNTIME_TOKEN"], RuntimeURL: env["ACTIONS_RUNTIME_URL"], CacheURL: env["ACTIONS_CACHE_URL"],
		ResultsURL: env["ACTIONS_RESULTS_URL"], CacheV2: env["ACTIONS_CACHE_SERVICE_V2"] == "True"}
}

// buildContext is a busybox image with the given Dockerfile lines.
func buildContext(t *testing.T, lines string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(testenv.NeedRootfs(t, "amd64"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "rootfs.tar"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nADD rootfs.tar /\nENV PATH=/bin\n"+lines), 0o644)
	return dir
}

// compositeBuild is the build action as it was before it became a JavaScript action: a composite whose run:
// step starts the launcher, its inputs passed through env:. The contrast the hosted runner makes.
func compositeBuild(t *testing.T, inputs ...string) string {
	t.Helper()
	root, _ := filepath.Abs(repoRoot)
	var decl, env strings.Builder
	for _, in := range inputs {
		fmt.Fprintf(&decl, "  %s:\n    description: %s\n", in, in)
		fmt.Fprintf(&env, "        INPUT_%s: ${{ inputs.%s }}\n", strings.ToUpper(strings.ReplaceAll(in, "-", "_")), in)
	}
	dir := t.TempDir()
	yml := "name: composite build\ndescription: the build action as a composite\ninputs:\n" + decl.String() +
		"runs:\n  using: composite\n  steps:\n    - id: run\n      shell: bash\n" +
		"      run: sh \"" + root + "/launcher/launch.sh\" build\n      env:\n" + env.String()
	os.WriteFile(filepath.Join(dir, "action.yml"), []byte(yml), 0o644)
	return dir
}

const dropped = "buildx drops this cache without a word"

// The four actions, run as the hosted runner runs them, one job: build pushes with a type=gha cache (the
// binary has the runtime, so no warning and the cache service gets entries), scan scans the pushed digest,
// sign signs it with a key, cleanup plans a dry run over the repository. Then the same build as a composite
// action on the same runner: its run: step has no runtime, and the build says so.
func TestFourActionsOnAHostedRunner(t *testing.T) {
	docker := testenv.NeedDocker(t)
	reg := testenv.NeedRegistry(t)
	cache := testenv.NewActionsCache(t)
	job := hostedJob(t, runtimeOf(t, cache))
	repo := testenv.Unique(t, reg)
	buildIn := map[string]string{"images": repo, "tags": "type=raw,value=hosted", "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": buildContext(t, "RUN echo hosted > /hosted\n"), "cache-to": "type=gha,mode=max,scope=hosted"}
	built := run(t, job, filepath.Join(repoRoot, "build"), buildIn)
	if strings.Contains(built.Log, dropped) || len(cache.Entries()) == 0 {
		t.Errorf("the JavaScript action's binary did not use the runtime: %d cache entries\n%s", len(cache.Entries()), built.Log)
	}
	image := built.Outputs["image"]
	if !strings.HasPrefix(image, repo+"@sha256:") {
		t.Fatalf("build output image = %q", image)
	}

	scanned := run(t, job, filepath.Join(repoRoot, "scan"), map[string]string{"image": image, "db-dir": t.TempDir(), "offline": "true",
		"output-dir": filepath.Join(job.Workspace, "scan-results")})
	if scanned.Outputs["gate"] == "" || scanned.Outputs["sbom"] == "" {
		t.Errorf("scan outputs: %v", scanned.Outputs)
	}

	priv, _, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	signed := run(t, job, filepath.Join(repoRoot, "sign"), map[string]string{"image": image, "key": string(priv), "key-password": "pw", "tlog-upload": "false"})
	if signed.Outputs["signatures"] == "" || strings.Contains(signed.Log, "pw") && strings.Contains(signed.Log, "key-password: pw") {
		t.Errorf("sign: outputs %v\n%s", signed.Outputs, signed.Log)
	}

	host, pkg, _ := strings.Cut(repo, "/")
	cleaned := run(t, job, filepath.Join(repoRoot, "cleanup"), map[string]string{"registry": host, "packages": pkg, "keep-n-tagged": "5"})
	if cleaned.Outputs["deleted"] != "0" || cleaned.Outputs["plan"] == "" {
		t.Errorf("cleanup dry run: outputs %v\n%s", cleaned.Outputs, cleaned.Log)
	}

	old := run(t, job, compositeBuild(t, "images", "platforms", "builder", "context", "cache-to"),
		map[string]string{"images": repo, "platforms": "linux/amd64", "builder": docker.Builder, "context": buildIn["context"],
			"cache-to": "type=gha,mode=max,scope=hosted"})
	if !strings.Contains(old.Log, `cache-to "type=gha,mode=max,scope=hosted": no ACTIONS_RUNTIME_TOKEN`) {
		t.Errorf("the composite's run: step had the runtime, or the build did not say it had none:\n%s", old.Log)
	}
}

var cachedStep = regexp.MustCompile(`(?m)^#\d+ \[\d+/\d+\] RUN echo (one|two).*\n#\d+ CACHED$`)

// A type=gha cache written by one build is read by a build on a fresh builder, through the cache service, as on
// a hosted runner: the second build's RUN steps are CACHED. The same second build as a composite action (the
// runtime withheld from its run: step) is warned about and builds cold.
func TestGHACacheAcrossFreshBuilders(t *testing.T) {
	testenv.NeedDocker(t)
	cache := testenv.NewActionsCache(t)
	dir := buildContext(t, "RUN echo one > /one\nRUN echo two > /two\nWORKDIR /done\n") // not a RUN last: BuildKit may show the last step DONE while it pulls the cached layers
	in := func(b testenv.Builder, cacheKey, cacheRef string) map[string]string {
		return map[string]string{"context": dir, "builder": b.Name, "platforms": "linux/amd64", "verbose": "true", cacheKey: cacheRef}
	}
	first := run(t, hostedJob(t, runtimeOf(t, cache)), filepath.Join(repoRoot, "build"),
		in(testenv.NewBuilder(t), "cache-to", "type=gha,mode=max,scope=fresh"))
	if strings.Contains(first.Log, dropped) || len(cache.Entries()) == 0 {
		t.Fatalf("the first build wrote no cache: %d entries\n%s", len(cache.Entries()), first.Log)
	}

	second := run(t, hostedJob(t, runtimeOf(t, cache)), filepath.Join(repoRoot, "build"),
		in(testenv.NewBuilder(t), "cache-from", "type=gha,scope=fresh"))
	if got := cachedStep.FindAllString(second.Log, -1); len(got) != 2 || cache.Hits() == 0 {
		t.Errorf("the second build on a fresh builder: %d RUN steps CACHED (want 2), %d cache hits\n%s", len(got), cache.Hits(), second.Log)
	}

	withheld := run(t, hostedJob(t, runtimeOf(t, cache)), compositeBuild(t, "context", "builder", "platforms", "verbose", "cache-from"),
		in(testenv.NewBuilder(t), "cache-from", "type=gha,scope=fresh"))
	if !strings.Contains(withheld.Log, `cache-from "type=gha,scope=fresh": no ACTIONS_RUNTIME_TOKEN`) || cachedStep.MatchString(withheld.Log) {
		t.Errorf("without the runtime: want the warning and a cold build\n%s", withheld.Log)
	}
}
