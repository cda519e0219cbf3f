package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The corpus is real-world public material gathered for testing (OSV records, a workflow corpus, the tags of
// popular actions, JSON schemas). It is not ours to redistribute, so it never enters the repository: corpus
// tests read it in place from SCRIBE_CORPUS, by default the shared/ folder beside the repository when there is
// one. Without it they are reported as not run, never as passed.
const (
	// CorpusEnv names the corpus folder; set but empty, it says there is none.
	CorpusEnv = "SCRIBE_CORPUS"
	// NotRunEnv names a file each corpus test that could not run appends its name to, for make test to list.
	NotRunEnv = "SCRIBE_CORPUS_NOT_RUN"
)

// Corpus returns the path of a file or folder of the corpus. A corpus test without a corpus is skipped, and
// its name written to the file named by SCRIBE_CORPUS_NOT_RUN; a corpus named by SCRIBE_CORPUS that lacks the
// path fails the test.
func Corpus(t testing.TB, rel ...string) string {
	t.Helper()
	dir, set := os.LookupEnv(CorpusEnv)
	if !set {
		dir = filepath.Join(filepath.Dir(moduleRoot(t)), "shared")
		if _, err := os.Stat(dir); err != nil {
			dir = ""
		}
	}
	if dir == "" {
		notRun(t)
	}
	path := filepath.Join(append([]string{dir}, rel...)...)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s=%s has no %s: %v", CorpusEnv, dir, filepath.Join(rel...), err)
	}
	return path
}

func notRun(t testing.TB) {
	t.Helper()
	if name := os.Getenv(NotRunEnv); name != "" {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, t.Name())
			f.Close()
		}
	}
	t.Skipf("corpus test not run: no corpus (%s unset or empty, and no shared/ beside the repository)", CorpusEnv)
}

// moduleRoot is the folder of the go.mod above the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
