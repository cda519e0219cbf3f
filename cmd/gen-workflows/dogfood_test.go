package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Dogfooding: this repository's own workflows and the example's are what their scribe.yaml renders, and
// the drift audit finds nothing in either (offline, from the lock file).
func TestDogfood(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	for _, dir := range []string{root, filepath.Join(root, "examples")} {
		if code, stdout, stderr := runCmd("check", "--root", dir); code != actionio.ExitOK {
			t.Errorf("check %s: exit %d\n%s%s", dir, code, stdout, stderr)
		}
		code, stdout, stderr := runCmd("drift", "--offline", "--lock", filepath.Join(dir, "actions.lock.yaml"), filepath.Join(dir, ".github", "workflows"))
		if code != actionio.ExitOK || !strings.Contains(stdout, ", 0 findings") {
			t.Errorf("drift %s: exit %d\n%s%s", dir, code, stdout, stderr)
		}
	}
}
