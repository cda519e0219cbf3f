package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

func run(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := actionio.Main(context.Background(), "scribe-actions", "test", actions(), args,
		actionio.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

// A platform typo fails before anything runs, with one line naming the input, in a terminal and on a runner.
func TestBuildRejectsUnknownPlatform(t *testing.T) {
	code, stdout, stderr := run(nil, "build", "--platforms", "linux/amd65")
	want := `error: input "platforms": item "linux/amd65" is not a platform: unknown architecture "amd65" (want one of: amd64, arm64,`
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("terminal: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	out := filepath.Join(t.TempDir(), "output")
	code, stdout, _ = run(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "INPUT_PLATFORMS": "linux/amd64\nlinux/amd65"}, "build")
	want = `::error title=input platforms::input "platforms": item "linux/amd65" is not a platform`
	if code != 1 || strings.Count(stdout, "\n") != 1 || !strings.HasPrefix(stdout, want) {
		t.Errorf("runner: exit %d, stdout %q", code, stdout)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("GITHUB_OUTPUT was written: %v", err)
	}
}

func TestEveryActionHasHelp(t *testing.T) {
	for _, a := range actions() {
		spec := a.Spec()
		code, _, stderr := run(nil, spec.Name, "--help")
		if code != 0 {
			t.Errorf("%s --help: exit %d", spec.Name, code)
		}
		for _, in := range spec.Inputs {
			if !strings.Contains(stderr, "--"+in.Name+" ") || !strings.Contains(stderr, in.Description) {
				t.Errorf("%s --help does not describe --%s", spec.Name, in.Name)
			}
		}
	}
}

// A scan of an image given by tag is refused before anything is read: the reports must name what was built.
func TestScanRefusesATag(t *testing.T) {
	code, _, stderr := run(nil, "scan", "--image", "127.0.0.1:5000/app:latest", "--output-dir", t.TempDir())
	if code != 1 || !strings.Contains(stderr, `input "image"`) || !strings.Contains(stderr, "by digest") {
		t.Errorf("scan: exit %d, stderr %q", code, stderr)
	}
}
