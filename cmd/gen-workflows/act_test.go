package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// The workflows gen-workflows renders, run by act (a real runner implementation) on the host, with this
// repository mapped to the scribe-actions ref the workflows pin: triggers, job conditions, dispatch inputs and
// ${{ }} wiring are evaluated as a runner evaluates them, and our action's launcher really builds and runs
// the binary, which logs the inputs it got.

const actRef = "0123456789abcdef0123456789abcdef01234567"

type actRepo struct {
	t   *testing.T
	dir string
	act string
}

func newActRepo(t *testing.T) *actRepo {
	t.Helper()
	act, err := exec.LookPath("act")
	testenv.Need(t, "act (scripts/dev-env.sh builds it)", err)
	reg := testenv.NeedRegistry(t)
	_, err = exec.LookPath("docker")
	testenv.Need(t, "the docker CLI", err)

	dir := t.TempDir()
	config := "registry: " + reg + "\nimage: acme/app\nplatforms: [linux/amd64]\nscribe-actions:\n  sha: " + actRef +
		"\n  version: v0.1.0\nservices:\n  - name: app\n    paths: [app/**]\n" +
		"    scan:\n      enabled: false\n" // these scenarios look at the build's inputs; the pipeline's run the scan
	os.WriteFile(filepath.Join(dir, "scribe.yaml"), []byte(config), 0o644)
	if code, _, stderr := runCmd("render", "--root", dir); code != actionio.ExitOK {
		t.Fatalf("render: %s", stderr)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"},
		{"-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return &actRepo{t: t, dir: dir, act: act}
}

// run runs act for an event with extra arguments and returns its combined output.
func (r *actRepo) run(event string, args ...string) string {
	r.t.Helper()
	self, _ := filepath.Abs(filepath.Join("..", ".."))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.act, append([]string{event, "-P", "ubuntu-latest=-self-hosted",
		"--local-repository", "infinite-scribe/scribe-actions@" + actRef + "=" + self,
		"-s", "GITHUB_TOKEN=test-token", "--actor", "scribe-test", "-v"}, append(noRelease(r.t), args...)...)...)
	cmd.Dir = r.dir
	cmd.Env = actEnv(r.t) // act's tool cache: see pipeline_act_test.go
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// inputs collects the build action's inputs as the binary logged them (::debug::input name="value").
func inputs(log string) map[string]string { return jobInputs(log, "") }

// jobInputs is inputs for the lines of one job ("" for every job's).
func jobInputs(log, job string) map[string]string {
	got := map[string]string{}
	prefix := regexp.MustCompile(`/` + regexp.QuoteMeta(job) + `\s*\] `) // act pads job names: [wf/build   ]
	for _, line := range strings.Split(log, "\n") {
		if job != "" && !prefix.MatchString(line) {
			continue
		}
		_, kv, ok := strings.Cut(line, "::debug::input ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		got[k] = strings.Trim(v, `"`)
	}
	return got
}

func TestActDispatchInputsReachTheBuildAction(t *testing.T) {
	r := newActRepo(t)
	log := r.run("workflow_dispatch", "-j", "build", "--input", "tag_suffix=staging", "--input", "no_cache=true")
	got := inputs(log)
	want := map[string]string{"tag-suffix": "staging", "no-cache": "true", "push-by-digest": "true", "platforms": "linux/amd64",
		"images": testenv.NeedRegistry(t) + "/acme/app", "context": ".", "file": "Dockerfile",
		"cache-from": "type=gha,scope=app"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("input %s = %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("act output:\n%s", tail(log, 60))
	}
}

func TestActPullRequestDoesNotPush(t *testing.T) {
	r := newActRepo(t)
	log := r.run("pull_request", "-j", "pull-request")
	if got := inputs(log); got["push"] != "false" || got["push-by-digest"] != "false" || got["tag-suffix"] != "" || !strings.HasPrefix(got["outputs"], "type=oci,dest=") {
		t.Errorf("pull_request: push=%q push-by-digest=%q tag-suffix=%q outputs=%q, want false, false, none and an OCI layout\n%s",
			got["push"], got["push-by-digest"], got["tag-suffix"], got["outputs"], tail(log, 60))
	}
	if strings.Contains(log, "Login Succeeded") {
		t.Error("a pull request logged in to the registry")
	}
}

// TestActTriggers lists which events start the rendered workflows: the service workflow on push, pull
// request, dispatch and its weekly schedule; the validation workflow on push and pull request only.
func TestActTriggers(t *testing.T) {
	r := newActRepo(t)
	for event, want := range map[string][]string{
		"push":              {"app docker build", "validate workflows"},
		"pull_request":      {"app docker build", "validate workflows"},
		"workflow_dispatch": {"app docker build"},
		"schedule":          {"app docker build"},
		"release":           nil,
	} {
		log := r.run(event, "-l")
		for _, w := range []string{"app docker build", "validate workflows"} {
			listed := strings.Contains(log, w)
			if listed != contains(want, w) {
				t.Errorf("%s: workflow %q listed=%t, want %t\n%s", event, w, listed, !listed, tail(log, 20))
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
