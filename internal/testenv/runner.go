package testenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
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
	return Step{Code: code, Outputs: parseOutputs(string(out)), Output: string(out), Summary: string(summary),
		Log: stdout.String() + stderr.String()}
}

// parseOutputs reads GITHUB_OUTPUT's name<<DELIMITER blocks.
func parseOutputs(s string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}
