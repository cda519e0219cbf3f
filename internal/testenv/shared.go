package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Shared returns the path of a file or folder of the shared/ directory that sits beside the repository
// (real fixtures and corpora), failing or skipping by the e2e rule when it is missing.
func Shared(t testing.TB, rel ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	path := filepath.Join(append([]string{filepath.Dir(dir), "shared"}, rel...)...)
	_, err = os.Stat(path)
	Need(t, "shared/"+filepath.Join(rel...), err)
	return path
}
