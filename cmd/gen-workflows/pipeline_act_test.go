package main

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
	"github.com/infinite-scribe/scribe-actions/scan"
)

// The example repository (examples/) as a user has it: its workflows rendered by gen-workflows and run by act
// on the host, with this repository mapped to the scribe-actions commit the workflows pin. Every `uses:` of our
// actions, every ${{ }} between their outputs and inputs, the jobs' conditions and the dispatch inputs run for
// real: images are built for two platforms and pushed to the local registry, scanned, signed, attested and
// cleaned up. The third-party actions act cannot download are replaced, for the test only, by stand-ins that
// record their inputs and fail on a missing file (upload-artifact, download-artifact, upload-sarif, setup-go).

type pipeline struct {
	t                           *testing.T
	dir, act, owner, image, log string
	artifacts, standins         string
	pins                        map[string]string // owner/repo -> pinned commit
	env                         []string
	secrets                     []string
}

const standinScript = `set -eu
printf '%s\n' "$STANDIN $*" >> "$SCRIBE_STANDIN_LOG"
`

// standins: action.yml of each stand-in, by repository (and subfolder).
var standins = map[string]string{
	"actions/upload-artifact": `name: "upload-artifact (test stand-in)"
inputs:
  name: {required: true}
  path: {required: true}
runs:
  using: composite
  steps:
    - shell: bash
      env: {NAME: "${{ inputs.name }}", FILES: "${{ inputs.path }}"}
      run: |
        [ -n "$FILES" ] || { echo "::error::upload-artifact stand-in: input path is empty"; exit 1; }
        mkdir -p "$SCRIBE_ARTIFACTS/$NAME"
        while IFS= read -r f; do
          [ -z "$f" ] && continue
          [ -e "$f" ] || { echo "::error::upload-artifact stand-in: no file $f"; exit 1; }
          cp -r "$f" "$SCRIBE_ARTIFACTS/$NAME/"
          echo "upload-artifact name=$NAME file=$f" >> "$SCRIBE_STANDIN_LOG"
        done <<< "$FILES"
`,
	"actions/download-artifact": `name: "download-artifact (test stand-in)"
inputs:
  name: {required: true}
  path: {required: false, default: "."}
runs:
  using: composite
  steps:
    - shell: bash
      env: {NAME: "${{ inputs.name }}", DEST: "${{ inputs.path }}"}
      run: |
        [ -d "$SCRIBE_ARTIFACTS/$NAME" ] || { echo "::error::download-artifact stand-in: no artifact $NAME"; exit 1; }
        mkdir -p "$DEST" && cp -r "$SCRIBE_ARTIFACTS/$NAME/." "$DEST/"
        echo "download-artifact name=$NAME path=$DEST files=$(ls "$DEST" | tr '\n' ' ')" >> "$SCRIBE_STANDIN_LOG"
`,
	"github/codeql-action/upload-sarif": `name: "upload-sarif (test stand-in)"
inputs:
  sarif_file: {required: true}
  category: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      env: {FILE: "${{ inputs.sarif_file }}", CATEGORY: "${{ inputs.category }}"}
      run: |
        [ -f "$FILE" ] || { echo "::error::upload-sarif stand-in: no SARIF file '$FILE'"; exit 1; }
        grep -q '"version": "2.1.0"' "$FILE" || { echo "::error::upload-sarif stand-in: $FILE is not SARIF 2.1.0"; exit 1; }
        echo "upload-sarif file=$FILE category=$CATEGORY results=$(grep -c '"ruleId"' "$FILE")" >> "$SCRIBE_STANDIN_LOG"
`,
	"actions/setup-go": `name: "setup-go (test stand-in: the host's Go)"
inputs:
  go-version: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      env: {VERSION: "${{ inputs.go-version }}"}
      run: echo "setup-go go-version=$VERSION ($(go version))" >> "$SCRIBE_STANDIN_LOG"
`,
}

func newPipeline(t *testing.T, templatesDir string) *pipeline {
	t.Helper()
	return newPipelineWith(t, templatesDir, nil)
}

// edits change files of the example, by path, before the render and the commit.
type edits map[string]func(string) string

// newPipelineWith is newPipeline with files of the example (its scribe.yaml, a Dockerfile) edited first.
func newPipelineWith(t *testing.T, templatesDir string, edit edits) *pipeline {
	t.Helper()
	act, err := exec.LookPath("act")
	testenv.Need(t, "act (scripts/dev-env.sh builds it)", err)
	if reg := testenv.NeedRegistry(t); reg != "127.0.0.1:5000" {
		testenv.Need(t, "the registry on 127.0.0.1:5000 (the example's scribe.yaml names it)", fmt.Errorf("SCRIBE_REGISTRY is %s", reg))
	}
	testenv.NeedDocker(t)
	self, _ := filepath.Abs(filepath.Join("..", ".."))
	p := &pipeline{t: t, dir: t.TempDir(), act: act, owner: fmt.Sprintf("act%d", time.Now().UnixNano()%1e9),
		artifacts: t.TempDir(), standins: t.TempDir(), pins: map[string]string{}}
	p.image = "127.0.0.1:5000/" + p.owner + "/shop"
	p.log = filepath.Join(t.TempDir(), "standins.log")

	// The example, copied as a repository of its own, its image renamed for this test.
	src := filepath.Join(self, "examples")
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "demo" || rel == ".github" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(p.dir, rel), 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "scribe.yaml" {
			raw = []byte(strings.Replace(string(raw), "image: demo/shop", "image: "+p.owner+"/shop", 1))
		}
		if e := edit[filepath.ToSlash(rel)]; e != nil {
			raw = []byte(e(string(raw)))
			delete(edit, filepath.ToSlash(rel))
		}
		return os.WriteFile(filepath.Join(p.dir, rel), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range edit {
		t.Fatalf("the example has no %s to edit", rel)
	}
	args := []string{"render", "--root", p.dir}
	if templatesDir != "" {
		args = append(args, "--templates", templatesDir)
	}
	if code, _, stderr := runCmd(args...); code != actionio.ExitOK {
		t.Fatalf("render: %s", stderr)
	}
	// The origin's main as a clone with fetch-depth: 0 has it: a pull request's source scan reads from there.
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"remote", "add", "origin", "https://github.com/" + p.owner + "/shop.git"},
		{"add", "-A"}, {"-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "init"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"}} {
		if out, err := exec.Command("git", append([]string{"-C", p.dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}

	// The pinned commits of the workflows: ours maps to this working tree, the others to stand-ins.
	uses := regexp.MustCompile(`uses: ([\w.-]+/[\w.-]+)(/[\w./-]+)?@([0-9a-f]{40})`)
	files, _ := filepath.Glob(filepath.Join(p.dir, ".github", "workflows", "*.yml"))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, m := range uses.FindAllStringSubmatch(string(raw), -1) {
			p.pins[m[1]] = m[3]
		}
	}
	for name, body := range standins {
		repo := strings.Join(strings.Split(name, "/")[:2], "/")
		dir := filepath.Join(p.standins, repo, strings.TrimPrefix(name, repo))
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "action.yml"), []byte(body), 0o644)
	}

	// The OSV database (the example's records, as the demo scans with), as the scan action's cache holds it
	// after a download today.
	cache := t.TempDir()
	if err := scan.PackRecords(filepath.Join("..", "..", "examples", "osv"), cache); err != nil {
		t.Fatal(err)
	}
	zips, _ := filepath.Glob(filepath.Join(cache, "*", "all.zip"))
	for _, z := range zips {
		meta, _ := json.Marshal(map[string]any{"fetched": time.Now().UTC()})
		os.WriteFile(z+".json", meta, 0o644)
	}
	priv, _, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte("act pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "secrets")
	quoted, _ := json.Marshal(string(priv))
	os.WriteFile(keyFile, []byte("COSIGN_PRIVATE_KEY="+string(quoted)+"\nCOSIGN_PASSWORD=act pw\nGITHUB_TOKEN=test-token\n"), 0o600)
	p.secrets = []string{"--secret-file", keyFile}
	p.env = []string{"SCRIBE_OSV_CACHE=" + cache, "SCRIBE_ARTIFACTS=" + p.artifacts, "SCRIBE_STANDIN_LOG=" + p.log,
		"BUILDX_BUILDER=" + os.Getenv("SCRIBE_BUILDER"), "DOCKER_HOST=" + os.Getenv("DOCKER_HOST")}
	return p
}

// actCache is one act cache for every act run of the test binary: the launcher builds our binary once.
var actTools string

func actCache(t *testing.T) string {
	if actTools == "" {
		actTools, _ = os.MkdirTemp("", "scribe-act-tools")
	}
	return actTools
}

// actEnv is act's environment: a fresh XDG_CACHE_HOME (act's tool cache, see actCache) but the machine's Go
// build cache, which Go would otherwise look for under XDG_CACHE_HOME and compile every package again.
func actEnv(t *testing.T) []string {
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	return append(os.Environ(), "XDG_CACHE_HOME="+actCache(t), "GOCACHE="+strings.TrimSpace(string(gocache)))
}

// noRelease is act's environment for a release server that has no release of the pinned commit (as for any
// commit between releases): the launcher then builds the binary from the working tree. Without it the launcher
// would ask the real release host, which this machine cannot reach, and a network failure fails the step.
func noRelease(t *testing.T) []string {
	s := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(s.Close)
	ca := filepath.Join(t.TempDir(), "release-ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644)
	return []string{"--env", "SCRIBE_RELEASE_URL=" + s.URL, "--env", "CURL_CA_BUNDLE=" + ca}
}

// run runs act for an event on the backend workflow and returns its output and the jobs' results.
func (p *pipeline) run(event string, payload map[string]any, args ...string) (string, map[string]string) {
	p.t.Helper()
	self, _ := filepath.Abs(filepath.Join("..", ".."))
	cmdArgs := []string{event, "-W", ".github/workflows/backend-docker-build.yml", "-P", "ubuntu-latest=-self-hosted", "--actor", "scribe-test", "-v"}
	for repo, sha := range p.pins {
		dir := filepath.Join(p.standins, repo)
		if repo == "infinite-scribe/scribe-actions" {
			dir = self
		} else if _, err := os.Stat(dir); err != nil {
			continue // actions/checkout: act copies the local repository
		}
		cmdArgs = append(cmdArgs, "--local-repository", repo+"@"+sha+"="+dir)
	}
	for _, e := range p.env {
		cmdArgs = append(cmdArgs, "--env", e)
	}
	cmdArgs = append(cmdArgs, noRelease(p.t)...)
	cmdArgs = append(cmdArgs, p.secrets...)
	if payload != nil {
		ev := filepath.Join(p.t.TempDir(), "event.json")
		raw, _ := json.Marshal(payload)
		os.WriteFile(ev, raw, 0o644)
		cmdArgs = append(cmdArgs, "-e", ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.act, append(cmdArgs, args...)...)
	cmd.Dir = p.dir
	// act keeps its tool cache (RUNNER_TOOL_CACHE, where the launcher keeps binaries by ref) under
	// XDG_CACHE_HOME: a fresh one per test binary, so the pinned commit's binary is built from this working tree.
	cmd.Env = actEnv(p.t)
	out, _ := cmd.CombinedOutput()
	return string(out), jobResults(string(out))
}

// jobResults reads act's "🏁  Job succeeded" / "Job failed" lines: job name -> succeeded or failed.
func jobResults(log string) map[string]string {
	res := map[string]string{}
	re := regexp.MustCompile(`\[[^/\]]+/([^\]]+)\]\s+🏁\s+Job (succeeded|failed)`)
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		res[strings.TrimSpace(m[1])] = m[2]
	}
	return res
}

func (p *pipeline) standinLog() string {
	raw, _ := os.ReadFile(p.log)
	return string(raw)
}

func (p *pipeline) tags() []string {
	out, _ := exec.Command("curl", "-fsS", "http://127.0.0.1:5000/v2/"+p.owner+"/shop/tags/list").Output()
	var l struct{ Tags []string }
	json.Unmarshal(out, &l)
	return l.Tags
}

// pushToMain is the push event's payload as GitHub sends it, in the parts the workflows read.
var pushToMain = map[string]any{"ref": "refs/heads/main", "repository": map[string]any{"default_branch": "main"}}

// A push to the default branch: test -> build (pushed by digest, no tag) -> scan -> sign -> publish (the tags
// written onto the signed digest) -> cleanup, all succeeding, wired through each other's outputs.
func TestActPipelinePush(t *testing.T) {
	p := newPipeline(t, "")
	log, jobs := p.run("push", pushToMain)
	want := map[string]string{"test": "succeeded", "source-scan": "succeeded", "build": "succeeded", "scan": "succeeded", "sign": "succeeded",
		"publish": "succeeded", "cleanup": "succeeded"}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("jobs %v, want %v\n%s", jobs, want, problems(log))
	}
	sl := p.standinLog()
	for _, w := range []string{"setup-go go-version=1.26", "upload-artifact name=backend-sbom file=scan-results/shop-linux-amd64-sbom.cdx.json",
		"upload-artifact name=backend-sbom file=scan-results/shop-linux-arm64-sbom.cdx.json",
		"upload-sarif file=scan-results/shop.sarif category=backend-image results=1",
		"download-artifact name=backend-sbom path=sbom files=shop-linux-amd64-sbom.cdx.json shop-linux-arm64-sbom.cdx.json"} {
		if !strings.Contains(sl, w) {
			t.Errorf("stand-ins did not record %q:\n%s", w, sl)
		}
	}
	tags := strings.Join(p.tags(), " ")
	for _, w := range []string{"main", "latest", "sha-", ".sig", ".att"} {
		if !strings.Contains(tags, w) {
			t.Errorf("registry tags %q lack %q", tags, w)
		}
	}
	for _, w := range []string{"Smoke test", "Passed: http://localhost:8000/health answered 200", "GHSA-4374-p667-p6c8", "Cleanup of"} {
		if !strings.Contains(log, w) {
			t.Errorf("the run's log lacks %q", w)
		}
	}
	signed := regexp.MustCompile("Signed `127\\.0\\.0\\.1:5000/" + p.owner + "/shop@(sha256:[0-9a-f]{64})").FindStringSubmatch(log)
	for _, tag := range []string{"main", "latest"} {
		if signed == nil || p.digestOf(tag) != signed[1] {
			t.Errorf("tag %s names %s, not the signed digest %v", tag, p.digestOf(tag), signed)
		}
	}
	t.Logf("stand-ins:\n%s\nregistry tags: %s", sl, tags)
	if t.Failed() {
		t.Logf("act output:\n%s", tail(log, 150))
	}
}

// A push whose image fails the scan gate publishes nothing: the image is in the registry by digest only, no
// tag points at it, and neither sign, publish nor cleanup runs.
func TestActPipelineGateFailureTagsNothing(t *testing.T) {
	p := newPipelineWith(t, "", edits{"backend/Dockerfile": func(d string) string {
		// A credential in the linux/arm64 image only: the linux/amd64 one passes the gate.
		return strings.Replace(d, "\nFROM scratch\n", `
RUN mkdir -p /out/app && if [ "$TARGETARCH" = arm64 ]; then printf 'DB_PASSWORD=s3cr3t-in-arm64-only\n' > /out/app/.env; fi

FROM scratch
COPY --from=build /out/app/ /app/
`, 1)
	}})
	log, jobs := p.run("push", pushToMain)
	want := map[string]string{"test": "succeeded", "source-scan": "succeeded", "build": "succeeded", "scan": "failed"}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("jobs %v, want %v\n%s", jobs, want, problems(log))
	}
	if tags := p.tags(); len(tags) != 0 {
		t.Errorf("an image that failed the gate got tags %v", tags)
	}
	if !strings.Contains(log, "gate failed (fail-on: critical") || !strings.Contains(log, "linux/arm64: 1 secret in the layers") ||
		strings.Contains(log, "linux/amd64: 1 secret") {
		t.Errorf("the scan did not fail its gate on the linux/arm64 image alone:\n%s", tail(log, 80))
	}
}

// A pull request builds both platforms without pushing or logging in, saves them as an OCI layout, scans it and
// uploads the SARIF; no job that runs holds a write permission but security-events (the upload's).
func TestActPipelinePullRequest(t *testing.T) {
	p := newPipeline(t, "")
	log, jobs := p.run("pull_request", map[string]any{"pull_request": map[string]any{"number": 7,
		"head": map[string]any{"ref": "feature"}, "base": map[string]any{"ref": "main"}}})
	want := map[string]string{"test": "succeeded", "source-scan": "succeeded", "pull-request": "succeeded"}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("jobs %v, want %v\n%s", jobs, want, problems(log))
	}
	if got := inputs(log); got["push"] != "false" || got["smoke-test"] != "true" || !strings.Contains(log, "Passed: http://localhost:8000/health answered 200") {
		t.Errorf("push=%q smoke-test=%q, or the smoke test did not pass\n%s", got["push"], got["smoke-test"], tail(log, 80))
	}
	if sl := p.standinLog(); !strings.Contains(sl, "upload-sarif file=") || !strings.Contains(sl, "category=backend-image") ||
		!strings.Contains(sl, "upload-sarif file=scan-results/source.sarif category=source") {
		t.Errorf("no image and source SARIF uploaded:\n%s", sl)
	}
	if tags := p.tags(); len(tags) != 0 || strings.Contains(log, "Login Succeeded") {
		t.Errorf("a pull request pushed %v or logged in", tags)
	}
	p.noWritePermissions(jobs)
}

// Native runners: a pull request builds each platform on its own runner (here the host), smoke-tests it and
// scans it, without a login or a push.
func TestActPipelineNativePullRequest(t *testing.T) {
	p := newPipelineWith(t, "", edits{"scribe.yaml": func(cfg string) string {
		return strings.Replace(cfg, "    dockerfile: backend/Dockerfile\n",
			"    dockerfile: backend/Dockerfile\n    platforms: [linux/amd64]\n    native-runners:\n      linux/amd64: ubuntu-latest\n    max-size: 500MB\n", 1)
	}})
	log, jobs := p.run("pull_request", map[string]any{"pull_request": map[string]any{"number": 8,
		"head": map[string]any{"ref": "feature"}, "base": map[string]any{"ref": "main"}}})
	want := map[string]string{"test": "succeeded", "source-scan": "succeeded", "pull-request-amd64": "succeeded"}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("jobs %v, want %v\n%s", jobs, want, problems(log))
	}
	if got := inputs(log); got["max-size"] != "500MB" || !strings.Contains(log, "Passed: http://localhost:8000/health answered 200") {
		t.Errorf("max-size=%q, or the smoke test did not pass\n%s", got["max-size"], tail(log, 80))
	}
	if tags := p.tags(); len(tags) != 0 || strings.Contains(log, "Login Succeeded") {
		t.Errorf("a pull request pushed %v or logged in", tags)
	}
	p.noWritePermissions(jobs)
}

// noWritePermissions fails when a job that ran holds a write permission other than security-events.
func (p *pipeline) noWritePermissions(jobs map[string]string) {
	p.t.Helper()
	raw, _ := os.ReadFile(filepath.Join(p.dir, ".github", "workflows", "backend-docker-build.yml"))
	var wf struct {
		Jobs map[string]struct {
			Permissions map[string]string `yaml:"permissions"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		p.t.Fatal(err)
	}
	for job := range jobs {
		for scope, level := range wf.Jobs[job].Permissions {
			if level == "write" && scope != "security-events" {
				p.t.Errorf("job %s ran on a pull request with %s: write", job, scope)
			}
		}
	}
}

// digestOf is the digest a tag of the test's image names, "" when there is none.
func (p *pipeline) digestOf(tag string) string {
	out, _ := exec.Command("curl", "-fsSI", "-H", "Accept: application/vnd.oci.image.index.v1+json",
		"http://127.0.0.1:5000/v2/"+p.owner+"/shop/manifests/"+tag).Output()
	m := regexp.MustCompile(`(?i)docker-content-digest:\s*(\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		return ""
	}
	return m[1]
}

// workflow_dispatch with tag_suffix=prod and no_cache=true: the inputs reach the build, the image gets the
// prod tag (from the publish job, which runs in the prod environment), scan and sign run, cleanup does not
// (it runs for pushes to main and on schedule).
func TestActPipelineDispatch(t *testing.T) {
	p := newPipeline(t, "")
	log, jobs := p.run("workflow_dispatch", nil, "--input", "tag_suffix=prod", "--input", "no_cache=true")
	want := map[string]string{"test": "succeeded", "source-scan": "succeeded", "build": "succeeded", "scan": "succeeded", "sign": "succeeded", "publish": "succeeded"}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("jobs %v, want %v\n%s", jobs, want, problems(log))
	}
	got := jobInputs(log, "build")
	if got["tag-suffix"] != "prod" || got["no-cache"] != "true" {
		t.Errorf("tag-suffix=%q no-cache=%q\n%s", got["tag-suffix"], got["no-cache"], grepLines(log, "::debug::input"))
	}
	if tags := strings.Join(p.tags(), " "); !strings.Contains(tags, "prod") {
		t.Errorf("tags %q lack prod", tags)
	}
}

// The scenarios can fail: a template whose upload step reads an output the scan action does not have
// (sarif_path for sarif) renders a workflow that actionlint accepts, and the run fails at that step.
func TestActPipelineCatchesAMismatchedOutput(t *testing.T) {
	self, _ := filepath.Abs(filepath.Join("..", ".."))
	tmpl := t.TempDir()
	for _, f := range []string{"service.yml.tmpl", "validate.yml.tmpl"} {
		raw, err := os.ReadFile(filepath.Join(self, "templates", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "service.yml.tmpl" {
			if !strings.Contains(string(raw), "steps.scan.outputs.sarif }}") {
				t.Fatal("the template no longer reads steps.scan.outputs.sarif")
			}
			raw = []byte(strings.Replace(string(raw), "steps.scan.outputs.sarif }}", "steps.scan.outputs.sarif_path }}", 1))
		}
		os.WriteFile(filepath.Join(tmpl, f), raw, 0o644)
	}
	p := newPipeline(t, tmpl)
	log, jobs := p.run("push", pushToMain)
	if jobs["build"] != "succeeded" || jobs["scan"] != "failed" || !strings.Contains(log, "Gate ✅ passed") ||
		!strings.Contains(log, "upload-sarif stand-in: no SARIF file ''") {
		t.Errorf("the mismatched output did not fail the scan job: %v\n%s", jobs, tail(log, 60))
	}
}

// problems are the lines of an act log that say what failed.
func problems(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "[DEBUG]") && (strings.Contains(l, "❗") || strings.Contains(l, "❌") || strings.Contains(l, "::error")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// grepLines are the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
