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
	cmd.Dir = t.TempDir() // outside any module and workspace: the download touches no go.mod
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		err = errors.New(m.Error) // go says why in the JSON, and exits 1
	} else if err == nil {
		err = jerr
	}
	Need(t, "the Go module "+path+"@"+version+" (through the module proxy)", err)
	p := filepath.Join(append([]string{m.Dir}, rel...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s@%s has no %s: %v", path, version, filepath.Join(rel...), err)
	}
	return p
}
