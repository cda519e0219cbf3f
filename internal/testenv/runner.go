package testenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Step is one action run on a fake runner: its exit code, outputs, step summary and log.
type Step struct {
	Code    int
	Outputs map[string]string // parsed from GITHUB_OUTPUT
	Output  string            // GITHUB_OUTPUT as written
	Summary string
	Log     string // stdout and stderr
}

// RunAction runs an action as a GitHub runner does: GITHUB_ACTIONS=true, fresh GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY and RUNNER_TEMP, the inputs as the INPUT_ variables its action.yml passes, and env on top.
func RunAction(t testing.TB, a actionio.Action, inputs, env map[string]string) Step {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "RUNNER_TEMP": dir}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range inputs {
		vars[actionio.EnvName(k)] = v
	}
	var stdout, stderr bytes.Buffer
	code := actionio.Main(context.Background(), "scribe-actions", "test", []actionio.Action{a}, []string{a.Spec().Name},
		actionio.Env{Getenv: func(k string) string { return vars[k] }, Stdout: &stdout, Stderr: &stderr})
	out, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
	summary, _ := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	outputs, err := actionio.ParseOutputFile(string(out))
	if err != nil {
		t.Errorf("action %s wrote a GITHUB_OUTPUT the runner would refuse: %v\n%s", a.Spec().Name, err, out)
	}
	return Step{Code: code, Outputs: outputs, Output: string(out), Summary: string(summary),
		Log: stdout.String() + stderr.String()}
}
