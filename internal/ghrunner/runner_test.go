package ghrunner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// jobRunner is a hosted runner's job with every part of the runtime the service can send.
func jobRunner(t *testing.T) *Runner {
	dir := t.TempDir()
	return &Runner{Workspace: dir, ToolCache: filepath.Join(dir, "tool-cache"), Temp: t.TempDir(),
		Runtime: Runtime{Token: "runtime-token", RuntimeURL: "https://pipelines.example/", CacheURL: "https://cache.example/",
			ResultsURL: "https://results.example/", CacheV2: true, IDTokenURL: "https://token.example/"}}
}

// run runs an action that must succeed.
func run(t *testing.T, r *Runner, dir string, with map[string]string) *Result {
	t.Helper()
	res, err := r.Run(context.Background(), dir, with)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, res.Log)
	}
	return res
}

// The contract, seen from inside the steps: a composite's run: step gets only the id-token pair (and
// GITHUB_ACTION_PATH), a JavaScript action the whole runtime and its inputs, hyphen kept, space as "_". The
// expected names are written out here, not taken from Contract, so a wrong table fails this test.
func TestStepKindsSeeWhatTheRunnerGives(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Need(t, "node", err)
	}
	runtime := []string{"ACTIONS_CACHE_SERVICE_V2", "ACTIONS_CACHE_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_URL"}
	cases := []struct {
		action string
		want   []string
	}{
		{"env-composite", []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "GITHUB_ACTION_PATH"}},
		{"env-node", append(runtime, "INPUT_CACHE-TO", "INPUT_MY_INPUT")},
	}
	for _, c := range cases {
		t.Run(c.action, func(t *testing.T) {
			res := run(t, jobRunner(t), filepath.Join("testdata", c.action), nil)
			if got := strings.Fields(res.Outputs["seen"]); !reflect.DeepEqual(got, c.want) {
				t.Errorf("the step sees %q\nwant %q", got, c.want)
			}
		})
	}
}

// A masked value never shows in the log, and what a step writes to GITHUB_ENV reaches the job's later steps.
func TestMaskAndEnvFile(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Need(t, "node", err)
	}
	r := jobRunner(t)
	res := run(t, r, "testdata/env-composite", map[string]string{"cache-to": "s3cret-value"})
	if strings.Contains(res.Log, "s3cret-value") || !strings.Contains(res.Log, "the secret is ***") || strings.Contains(res.Log, "add-mask") {
		t.Errorf("log not masked as the runner masks it:\n%s", res.Log)
	}
	if res = run(t, r, "testdata/env-node", nil); !strings.Contains(res.Log, "LATER=from-env-file") {
		t.Errorf("GITHUB_ENV of the first step did not reach the second:\n%s", res.Log)
	}
}

// What the harness cannot run as GitHub would is an error naming it, never a guess.
func TestHarnessRefusesWhatItDoesNotModel(t *testing.T) {
	r := jobRunner(t)
	if _, err := r.Run(context.Background(), "testdata/env-node", map[string]string{"nope": "x"}); err == nil || !strings.Contains(err.Error(), `unexpected input "nope"`) {
		t.Errorf("an undeclared input: %v", err)
	}
	c := exprContext{inputs: map[string]string{"a": "1"}, github: map[string]string{}}
	if _, err := c.eval("${{ secrets.TOKEN }}"); err == nil || !strings.Contains(err.Error(), "secrets.TOKEN") {
		t.Errorf("an unknown expression: %v", err)
	}
	if got, err := c.eval("x=${{ inputs.a }}"); got != "x=1" || err != nil {
		t.Errorf("inputs.a = %q, %v", got, err)
	}
}

// An input default is evaluated as the runner evaluates it: ${{ github.token }} is the job's token (cleanup's
// and build's defaults); an expression the harness does not model is an error, not a literal passed on.
func TestInputDefaultsAreEvaluated(t *testing.T) {
	dir := t.TempDir()
	write := func(def string) {
		os.WriteFile(filepath.Join(dir, "action.yml"), []byte(`name: t
description: t
inputs:
  token:
    description: the token
    default: `+def+`
runs:
  using: composite
  steps:
    - shell: bash
      env: {TOKEN: "${{ inputs.token }}"}
      run: test "$TOKEN" = job-token
`), 0o644)
	}
	r := jobRunner(t)
	r.GitHubToken = "job-token"
	write("${{ github.token }}")
	run(t, r, dir, nil)
	write("${{ secrets.GITHUB_TOKEN }}")
	if _, err := r.Run(context.Background(), dir, nil); err == nil || !strings.Contains(err.Error(), `input "token"'s default: expression ${{ secrets.GITHUB_TOKEN }} is not evaluated`) {
		t.Errorf("an unmodelled default: %v", err)
	}
}
