package testenv

import (
	"bytes"
	"crypto/sha256"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoFiles lists the files a fresh clone of the working tree would hold: tracked, plus untracked and not
// ignored (what the next commit may add).
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	Need(t, "git and the repository's history", err)
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil { // deleted but not yet committed: gone
			files = append(files, f)
		}
	}
	return files
}

// TestFreshCloneStandsAlone copies the repository into an empty temporary folder, with nothing beside it, and
// runs the suite there: every test that does not need the corpus passes, and the corpus tests say they did not
// run. The act scenarios are left to the main run (they drive the same files and take minutes), and so is this
// test itself.
func TestFreshCloneStandsAlone(t *testing.T) {
	root := moduleRoot(t)
	clone := filepath.Join(t.TempDir(), "scribe-actions")
	for _, f := range repoFiles(t, root) {
		copyRepoFile(t, filepath.Join(root, f), filepath.Join(clone, f))
	}
	git := exec.Command("sh", "-c", "git init -q && git add -A && git -c user.name=clone -c user.email=clone@example.com commit -qm clone")
	git.Dir = clone
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git in the clone: %v\n%s", err, out)
	}
	notRun := filepath.Join(t.TempDir(), "not-run")
	cmd := exec.Command("go", "test", "-count=1", "-skip", "^(TestAct(Pipeline|Dispatch|PullRequest|Triggers)|TestFreshCloneStandsAlone)", "./...")
	cmd.Dir = clone
	cmd.Env = append(withoutVar(os.Environ(), CorpusEnv, NotRunEnv), NotRunEnv+"="+notRun)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the suite fails in a fresh clone with nothing beside it: %v\n%s", err, out.String())
	}
	skipped, _ := os.ReadFile(notRun)
	for _, want := range []string{"TestDefaultLockMatchesRealTags", "TestDriftOfflineCorpusCount"} {
		if !strings.Contains(string(skipped), want) {
			t.Errorf("corpus test %s was not reported as not run; reported: %q", want, skipped)
		}
	}
}

// TestNoCorpusCopies: no file of the repository is a copy of one in the corpus, which is not ours to
// redistribute.
func TestNoCorpusCopies(t *testing.T) {
	corpus := Corpus(t)
	seen := map[[32]byte]string{}
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if data, err := os.ReadFile(p); err == nil && len(bytes.TrimSpace(data)) > 0 {
				seen[sha256.Sum256(data)] = p
			}
		}
		return nil
	})
	root := moduleRoot(t)
	for _, f := range repoFiles(t, root) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		if p, ok := seen[sha256.Sum256(data)]; ok {
			t.Errorf("%s is a copy of the corpus file %s", f, p)
		}
	}
	if len(seen) < 50 {
		t.Errorf("only %d corpus files read from %s", len(seen), corpus)
	}
}

// TestNoLongFunctions keeps every function outside tests readable in one screen or two: at most 100 lines.
func TestNoLongFunctions(t *testing.T) {
	const limit = 100
	root := moduleRoot(t)
	fset := token.NewFileSet()
	for _, f := range repoFiles(t, root) {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(root, f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if fn, ok := n.(*ast.FuncDecl); ok && fn.Body != nil {
				if lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; lines > limit {
					t.Errorf("%s: %s is %d lines (at most %d): split it into named steps", fset.Position(fn.Pos()), fn.Name.Name, lines, limit)
				}
			}
			return true
		})
	}
}

func copyRepoFile(t *testing.T, from, to string) {
	t.Helper()
	info, err := os.Lstat(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(from)
		if err == nil {
			err = os.Symlink(target, to)
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, info.Mode().Perm())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func withoutVar(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
