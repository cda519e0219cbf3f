package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// runCmd runs gen-workflows with args as from a terminal and returns its exit code, stdout and stderr.
func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(args, actionio.Env{Getenv: os.Getenv, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

// TestMainDispatch: the command word picks the command, which parses its own flags; help and -h exit 0, an
// unknown command or a bad flag value exits 2 and says why.
func TestMainDispatch(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, actionio.ExitOK, "Usage: gen-workflows <command> [flags]", ""},
		{[]string{"--help"}, actionio.ExitOK, "Run 'gen-workflows <command> -h' for its flags.", ""},
		{[]string{"deploy"}, actionio.ExitUsage, "", "gen-workflows: unknown command \"deploy\"\nUsage: gen-workflows"},
		{[]string{"render", "-h"}, actionio.ExitOK, "", "-templates string"},
		{[]string{"check", "--nope"}, actionio.ExitUsage, "", "flag provided but not defined: -nope"},
		{[]string{"drift", "-h"}, actionio.ExitOK, "", "-fail-on string"},
		{[]string{"drift", "--format", "xml"}, actionio.ExitUsage, "", `gen-workflows drift: --format "xml" is not one of [table json sarif github markdown]`},
		{[]string{"pin", "-h"}, actionio.ExitOK, "", "-upgrade string"},
		{[]string{"pin", "--upgrade", "all"}, actionio.ExitUsage, "", `gen-workflows pin: --upgrade "all" is not one of none, patch, minor, major`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("gen-workflows %v: exit %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout, stderr)
		}
	}
}
