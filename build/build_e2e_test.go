package build

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// runAction runs the build action on a fake runner with a push event to main of acme/app.
func runAction(t testing.TB, inputs map[string]string) run {
	t.Helper()
	event := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(event, []byte(`{"repository":{"default_branch":"main","description":"demo","license":{"spdx_id":"MIT"}}}`), 0o644)
	st := testenv.RunAction(t, Action(), inputs, map[string]string{
		"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37",
		"GITHUB_REPOSITORY": "acme/app", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_NUMBER": "7", "GITHUB_EVENT_PATH": event,
	})
	return run{code: st.Code, outputs: st.Outputs, summary: st.Summary, log: st.Log}
}

// run is what a build step did.
type run struct {
	code    int
	outputs map[string]string
	summary string
	log     string
}

// context writes a build context: the busybox root filesystems, a Dockerfile, and files.
func buildContext(t testing.TB, dockerfile string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		data, err := os.ReadFile(testenv.NeedRootfs(t, arch))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "rootfs-"+arch+".tar"), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nENV PATH=/bin\n"+dockerfile), 0o644)
	for p, data := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), data, 0o644)
	}
	return dir
}

func TestBuildTwoPlatformsPushed(t *testing.T) {
	docker := testenv.NeedDocker(t)
	image := testenv.Unique(t, testenv.NeedRegistry(t))
	dir := buildContext(t, "RUN uname -m > /built-on\n", nil)
	t.Setenv("ACTIONS_RUNTIME_TOKEN", "") // what a composite action's run: step has on GitHub's runner
	r := runAction(t, map[string]string{"images": image, "platforms": "linux/amd64,linux/arm64", "push": "true",
		"builder": docker.Builder, "context": dir, "provenance": "mode=max", "no-cache": "true",
		"tags": "type=ref,event=branch\ntype=sha", "tag-suffix": "staging", "cache-to": "type=gha,scope=e2e"})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	idx, err := remote.Index(mustRef(t, image+":main"))
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := idx.Digest()
	if r.outputs["digest"] != digest.String() || r.outputs["image"] != image+"@"+digest.String() {
		t.Errorf("digest output %q, the registry's index under :main is %s", r.outputs["digest"], digest)
	}
	for _, tag := range []string{"main", "sha-860c190", "staging"} {
		d, err := remote.Head(mustRef(t, image+":"+tag))
		if err != nil || d.Digest != digest {
			t.Errorf("tag %s: %v %v", tag, d, err)
		}
	}
	var plats map[string]string
	json.Unmarshal([]byte(r.outputs["platform-digests"]), &plats)
	if len(plats) != 2 || plats["linux/amd64"] == "" || plats["linux/arm64"] == "" {
		t.Errorf("platform-digests = %s", r.outputs["platform-digests"])
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 4 || !strings.Contains(r.summary, "2 attestation manifest(s), not platforms") {
		t.Errorf("the index has %d manifests (2 platforms + 2 attestations expected); summary:\n%s", len(im.Manifests), r.summary)
	}
	if !strings.Contains(r.summary, "emulated with QEMU: linux/arm64") || !strings.Contains(r.outputs["labels"], "org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37") {
		t.Errorf("summary:\n%s\nlabels: %s", r.summary, r.outputs["labels"])
	}
	if !strings.Contains(r.log, "provenance mode=max records every build-arg value") {
		t.Error("no warning about mode=max")
	}
	if !strings.Contains(r.log, `::warning::cache-to "type=gha,scope=e2e": no ACTIONS_RUNTIME_TOKEN`) {
		t.Errorf("buildx dropped the gha cache and nothing said so:\n%s", r.log)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// The original project's mistake: COPY then RUN chown -R duplicates every copied byte.
func TestBuildWasteOfChownAfterCopy(t *testing.T) {
	docker := testenv.NeedDocker(t)
	reg := testenv.NeedRegistry(t)
	files := map[string][]byte{"data/big.bin": randomBytes(6 << 20), "data/small.bin": randomBytes(300 << 10), "data/sub/x.txt": []byte("hello\n")}
	var truth int64
	for _, f := range files {
		truth += int64(len(f))
	}
	bad := buildContext(t, "COPY data /app/data\nRUN chown -R nobody:nogroup /app\n", files)
	r := runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": bad, "max-waste": "1MB"})
	if r.code != 1 || !strings.Contains(r.log, "over the max-waste budget of 1.0 MB") {
		t.Fatalf("exit %d, want 1 with the max-waste error\n%s", r.code, r.log)
	}
	var wasted int64
	json.Unmarshal([]byte(r.outputs["waste-bytes"]), &wasted)
	if diff := float64(wasted-truth) / float64(truth); diff < -0.01 || diff > 0.01 {
		t.Errorf("waste %d bytes, the duplicated files are %d bytes (%.2f%% off)", wasted, truth, 100*diff)
	}
	if !strings.Contains(r.summary, "COPY --chown") || !strings.Contains(r.summary, "chown -R nobody:nogroup /app") {
		t.Errorf("no chown hint naming the layer:\n%s", r.summary)
	}

	good := buildContext(t, "COPY --chown=nobody:nogroup data /app/data\n", files)
	r = runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": good, "max-waste": "1MB"})
	if r.code != 0 || r.outputs["waste-bytes"] != "0" {
		t.Errorf("COPY --chown: exit %d, waste %s\n%s", r.code, r.outputs["waste-bytes"], r.log)
	}
}

func TestBuildMaxSizeFailsWithTable(t *testing.T) {
	docker := testenv.NeedDocker(t)
	dir := buildContext(t, "COPY big.bin /big.bin\n", map[string][]byte{"big.bin": randomBytes(3 << 20)})
	r := runAction(t, map[string]string{"images": testenv.Unique(t, testenv.NeedRegistry(t)), "platforms": "linux/amd64,linux/arm64",
		"push": "true", "builder": docker.Builder, "context": dir, "max-size": "4MB"})
	if r.code != 1 || !strings.Contains(r.log, "linux/amd64 is 5.") || !strings.Contains(r.log, "over the max-size budget of 4.0 MB") {
		t.Errorf("exit %d\n%s", r.code, r.log)
	}
	if !strings.Contains(r.summary, "| linux/arm64 |") || !strings.Contains(r.summary, "**over 4.0 MB**") {
		t.Errorf("no table of sizes in the summary:\n%s", r.summary)
	}
	if r.outputs["digest"] == "" {
		t.Error("a build over budget should still say what it pushed")
	}
}

func TestBuildSmokeTest(t *testing.T) {
	docker := testenv.NeedDocker(t)
	reg := testenv.NeedRegistry(t)
	serving := buildContext(t, "RUN mkdir -p /www && echo ok > /www/health\n"+
		"HEALTHCHECK --interval=1s --timeout=1s CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1\n"+
		`CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]`+"\n", nil)
	r := runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": serving, "smoke-test": "true", "smoke-url": "http://localhost:8000/health"})
	if r.code != 0 || !strings.Contains(r.summary, "Passed: http://localhost:8000/health answered 200") {
		t.Errorf("serving image: exit %d\n%s\n%s", r.code, r.summary, r.log)
	}
	r = runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": serving, "smoke-test": "true", "smoke-url": "http://localhost:8000/nope", "smoke-expect-status": "503",
		"smoke-timeout": "3s"})
	if r.code != 1 || !strings.Contains(r.summary, "it answered 404, want 503") {
		t.Errorf("wrong status: exit %d\n%s", r.code, r.summary)
	}

	// A pull request's build: two platforms, nothing pushed; the runner's platform is loaded for the test.
	r = runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64,linux/arm64", "push": "false",
		"builder": docker.Builder, "context": serving, "smoke-test": "true", "smoke-url": "http://localhost:8000/health"})
	if r.code != 0 || !strings.Contains(r.summary, "Passed: http://localhost:8000/health answered 200") || !strings.Contains(r.log, "load linux/amd64 for the smoke test") {
		t.Errorf("pull request build: exit %d\n%s\n%s", r.code, r.summary, r.log)
	}

	exiting := buildContext(t, `CMD ["sh", "-c", "echo database unreachable >&2; exit 3"]`+"\n", nil)
	r = runAction(t, map[string]string{"images": testenv.Unique(t, reg), "platforms": "linux/amd64", "push": "true",
		"builder": docker.Builder, "context": exiting, "smoke-test": "true"})
	if r.code != 1 || !strings.Contains(r.summary, "the container exited with code 3") || !strings.Contains(r.summary, "database unreachable") {
		t.Errorf("exiting image: exit %d\n%s", r.code, r.summary)
	}
	if out, _ := docker.Run(context.Background(), "", "ps", "-a", "--filter", "name=scribe-smoke-", "--format", "{{.Names}}"); strings.TrimSpace(out) != "" {
		t.Errorf("smoke containers left behind: %s", out)
	}
}

func TestBuildPushByDigestThenMerge(t *testing.T) {
	docker := testenv.NeedDocker(t)
	image := testenv.Unique(t, testenv.NeedRegistry(t))
	dir := buildContext(t, "RUN uname -m > /built-on\n", nil)
	var digests []string
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		r := runAction(t, map[string]string{"images": image, "platforms": p, "push-by-digest": "true", "builder": docker.Builder,
			"context": dir, "provenance": "false"})
		if r.code != 0 || !strings.HasPrefix(r.outputs["digest"], "sha256:") {
			t.Fatalf("%s: exit %d, digest %q\n%s", p, r.code, r.outputs["digest"], r.log)
		}
		digests = append(digests, r.outputs["digest"])
	}
	if _, err := remote.Head(mustRef(t, image+":main")); err == nil {
		t.Fatal("push-by-digest wrote a tag")
	}
	r := runAction(t, map[string]string{"images": image, "merge": strings.Join(digests, ","), "tags": "type=ref,event=branch\ntype=raw,value=v1"})
	if r.code != 0 {
		t.Fatalf("merge: exit %d\n%s", r.code, r.log)
	}
	for _, tag := range []string{"main", "v1"} {
		idx, err := remote.Index(mustRef(t, image+":"+tag))
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		im, _ := idx.IndexManifest()
		d, _ := idx.Digest()
		if len(im.Manifests) != 2 || im.Manifests[0].Digest.String() != digests[0] || im.Manifests[1].Platform.Architecture != "arm64" ||
			d.String() != r.outputs["digest"] {
			t.Errorf("%s: %+v, digest %s vs output %s", tag, im.Manifests, d, r.outputs["digest"])
		}
	}
}

func mustRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pemLike is a private key as a secret store holds it: several lines, none shorter than a mask would skip.
func pemLike() string {
	lines := []string{"-----BEGIN OPENSSH PRIVATE KEY-----"}
	for range 5 {
		lines = append(lines, base64.StdEncoding.EncodeToString(randomBytes(48)))
	}
	return strings.Join(append(lines, "-----END OPENSSH PRIVATE KEY-----"), "\n")
}

// secretCheck is a RUN that fails unless the secret id mounts with exactly the bytes of value (its hash, so
// the Dockerfile, which buildx prints, does not hold the value).
func secretCheck(id, value string) string {
	return fmt.Sprintf("RUN --mount=type=secret,id=%s test \"$(sha256sum < /run/secrets/%s | cut -c1-64)\" = %x && test \"$(wc -l < /run/secrets/%s)\" -eq %d\n",
		id, id, sha256.Sum256([]byte(value)), id, strings.Count(value, "\n"))
}

// A multi-line secret, CSV-quoted in secrets as build-push-action's users write a PEM key, reaches a RUN
// --mount=type=secret whole, and the log as the runner shows it holds no line of it.
func TestBuildMultiLineSecretReachesRun(t *testing.T) {
	docker := testenv.NeedDocker(t)
	image := testenv.Unique(t, testenv.NeedRegistry(t))
	key := pemLike()
	dir := buildContext(t, secretCheck("deploy_key", key), nil)
	inputs := map[string]string{"images": image, "platforms": "linux/amd64", "builder": docker.Builder, "context": dir,
		"no-cache": "true", "secrets": `"deploy_key=` + key + `"` + "\nnpm_token=tok,with,commas", "tags": "type=ref,event=branch\ntype=sha",
		"sep-tags": ", "}
	r := runAction(t, inputs)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	shown := withoutMaskCommands(r.log)
	for _, line := range strings.Split(key, "\n")[1:6] {
		if strings.Contains(shown, line) {
			t.Errorf("the log shows a line of the key, %q:\n%s", line, shown)
		}
	}
	if !strings.Contains(r.log, "::add-mask::"+strings.Split(key, "\n")[1]) {
		t.Error("the key's lines are not masked")
	}

	// The metadata-action outputs of the same step: sep-tags as given (", ", untrimmed), json, bake-file.
	if want := image + ":main, " + image + ":sha-860c190"; r.outputs["tags"] != want {
		t.Errorf("tags output %q, want %q", r.outputs["tags"], want)
	}
	var js struct {
		Tags        []string          `json:"tags"`
		Labels      map[string]string `json:"labels"`
		Annotations []string          `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(r.outputs["json"]), &js); err != nil || len(js.Tags) != 2 || js.Labels["org.opencontainers.image.revision"] != testSHA ||
		!slices.Contains(js.Annotations, "manifest:org.opencontainers.image.version=main") {
		t.Errorf("json output %s (%v)", r.outputs["json"], err)
	}
	bake, err := os.ReadFile(r.outputs["bake-file"])
	if err != nil || !strings.Contains(string(bake), `"docker-metadata-action": {`) || !strings.Contains(string(bake), `"DOCKER_META_VERSION": "main"`) {
		t.Errorf("bake-file %s: %s (%v)", r.outputs["bake-file"], bake, err)
	}

	// The check is live: another key fails the RUN, and the log shows none of it either.
	other := pemLike()
	inputs["secrets"] = `"deploy_key=` + other + `"`
	r = runAction(t, inputs)
	if r.code != 1 || !strings.Contains(r.log, "id=deploy_key test") || !strings.Contains(r.log, "did not complete successfully: exit code: 1") {
		t.Fatalf("a wrong key passed the check: exit %d\n%s", r.code, r.log)
	}
	if shown := withoutMaskCommands(r.log); strings.Contains(shown, strings.Split(other, "\n")[2]) {
		t.Errorf("the failed build's log shows the key:\n%s", shown)
	}
}

// build-contexts and secret-envs reach buildx: a COPY --from a named context, and a secret from the step's
// environment; a secret-envs variable the environment lacks is a warning naming it.
func TestBuildWithBuildContextsAndSecretEnvs(t *testing.T) {
	docker := testenv.NeedDocker(t)
	extra := t.TempDir()
	os.WriteFile(filepath.Join(extra, "greeting.txt"), []byte("hello from another context\n"), 0o644)
	token := fmt.Sprintf("npm_%x", randomBytes(16))
	t.Setenv("SCRIBE_E2E_NPM_TOKEN", token)
	dir := buildContext(t, "COPY --from=extra greeting.txt /greeting.txt\n"+
		"RUN test \"$(cat /greeting.txt)\" = 'hello from another context'\n"+secretCheck("npm_token", token), nil)
	r := runAction(t, map[string]string{"images": testenv.Unique(t, testenv.NeedRegistry(t)), "platforms": "linux/amd64",
		"builder": docker.Builder, "context": dir, "no-cache": "true", "build-contexts": "extra=" + extra,
		"secret-envs": "npm_token=SCRIBE_E2E_NPM_TOKEN,absent=SCRIBE_E2E_NOT_SET"})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	if !strings.Contains(r.log, `the step's environment has no SCRIBE_E2E_NOT_SET, so the build gets no secret "absent"`) {
		t.Errorf("no warning for the missing variable:\n%s", r.log)
	}
	if strings.Contains(r.log, token) {
		t.Errorf("the log shows the token:\n%s", r.log)
	}
}
