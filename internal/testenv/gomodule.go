package testenv

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GoModule returns the folder of a Go module's files, downloaded through the module proxy into the module
// cache (once; later calls read the cache). Some well-kept projects of the field ship real-world test data in
// their modules (an Alpine apk database in osv-scalibr, Chainguard's and AlmaLinux's OSV records and vunnel's
// Alpine and Wolfi secdb data in grype): tests read it there, in place, at a pinned version, and it never enters
// this repository. A module that cannot be had fails the test when SCRIBE_E2E=1 and skips it otherwise.
func GoModule(t testing.TB, path, version string, rel ...string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir() // outside this module: the download must not touch go.mod
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if err == nil {
		err = json.Unmarshal(out, &m)
	}
	if err == nil && m.Error != "" {
		err = errors.New(m.Error)
	}
	Need(t, "the Go module "+path+"@"+version+" (through the module proxy)", err)
	p := filepath.Join(append([]string{m.Dir}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s@%s has no %s: %v", path, version, filepath.Join(rel...), err)
	}
	return p
}
