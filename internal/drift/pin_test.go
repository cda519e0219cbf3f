package drift

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

func lintKeys(t *testing.T, path string, content []byte) map[string]bool {
	t.Helper()
	l, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(path, content, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range errs {
		keys[fmt.Sprintf("%d:%d %s", e.Line, e.Column, e.Kind)] = true
	}
	return keys
}

// TestPinRoundTripsCorpus pins every real workflow of the corpus against the test API: only uses: lines
// change, actionlint finds nothing new, and every pin it wrote is truthful.
func TestPinRoundTripsCorpus(t *testing.T) {
	api := testenv.NewCorpusGitHubAPI(t)
	src, files := corpusFiles(t)
	dir := t.TempDir()
	originals := map[string][]byte{}
	for _, f := range files {
		rel, _ := filepath.Rel(src, f)
		data, _ := os.ReadFile(f)
		dest := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(dest), 0o755)
		os.WriteFile(dest, data, 0o644)
		originals[dest] = data
	}
	before, err := FindUses([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	usesLines := map[string]bool{}
	for _, u := range before {
		usesLines[fmt.Sprintf("%s:%d", u.File, u.Line)] = true
	}

	lock := filepath.Join(t.TempDir(), "actions.lock.yaml")
	var stdout, stderr bytes.Buffer
	code := PinCommand([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--lock", lock, dir},
		actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if code != actionio.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	t.Log(lastLine(stderr.String()))

	changed := 0
	for path, orig := range originals {
		now, _ := os.ReadFile(path)
		a, b := strings.SplitAfter(string(orig), "\n"), strings.SplitAfter(string(now), "\n")
		if len(a) != len(b) {
			t.Errorf("%s: %d lines became %d", path, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i] == b[i] {
				continue
			}
			changed++
			if !usesLines[fmt.Sprintf("%s:%d", path, i+1)] {
				t.Errorf("%s:%d is not a uses: line and changed:\n-%s+%s", path, i+1, a[i], b[i])
			}
		}
		for k := range lintKeys(t, path, now) {
			if !lintKeys(t, path, orig)[k] {
				t.Errorf("%s: actionlint finds something new after pinning: %s", path, k)
			}
		}
	}
	if changed < 150 {
		t.Errorf("only %d lines pinned", changed)
	}

	// Every reference to an action the test API knows is now a truthful SHA pin.
	after, _ := FindUses([]string{dir})
	a, _ := newAuditor(t, api, t.TempDir(), false)
	rep, err := a.Audit(context.Background(), after)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Drifts {
		tags, branches, known := api.Repo(d.Use.Ref.Repository())
		if !known || d.Kind != KindUnpinned && d.Kind != KindCommentMismatch {
			continue
		}
		held := false // a commit the fixtures hold; pin leaves the others alone
		for _, tg := range append(tags, branches...) {
			held = held || tg.CommitSHA == d.Use.Ref.Ref || !actionref.IsSHA(d.Use.Ref.Ref)
		}
		if held {
			t.Errorf("after pin: %s", d)
		}
	}
	l, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := actionref.ReadLock(lock, l); err != nil || !strings.Contains(string(l), "actions/checkout:") {
		t.Errorf("lock file: %v\n%s", err, l)
	}
}

func TestPinUpgradeDryRunAndQuotes(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	dir := t.TempDir()
	p := writeWorkflow(t, dir, "a.yml", "      - uses: 'actions/checkout@v3' # old\n      - uses: actions/setup-go@v5\r\n")
	orig, _ := os.ReadFile(p)
	lock := filepath.Join(t.TempDir(), "actions.lock.yaml")
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := PinCommand(append([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--lock", lock}, append(args, p)...),
			actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
		return code, stdout.String() + stderr.String()
	}
	code, out := run("--dry-run", "--upgrade", "minor")
	if now, _ := os.ReadFile(p); code != actionio.ExitOK || !bytes.Equal(now, orig) {
		t.Fatalf("dry run: exit %d, file changed: %v", code, !bytes.Equal(now, orig))
	}
	v3 := newestWithin(t, api, "actions/checkout", "v3.")
	if !strings.Contains(out, "-      - uses: 'actions/checkout@v3' # old\n") ||
		!strings.Contains(out, "+      - uses: 'actions/checkout@"+sha(t, api, "actions/checkout", v3)+"' # "+v3+"\n") {
		t.Errorf("dry-run diff:\n%s", out)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Error("a dry run wrote the lock file")
	}

	if code, out = run("--upgrade", "major"); code != actionio.ExitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	now, _ := os.ReadFile(p)
	latestCheckout, latestGo := newestWithin(t, api, "actions/checkout", "v"), newestWithin(t, api, "actions/setup-go", "v")
	v7, go7 := sha(t, api, "actions/checkout", latestCheckout), sha(t, api, "actions/setup-go", latestGo)
	want := strings.Replace(strings.Replace(string(orig), "'actions/checkout@v3' # old", "'actions/checkout@"+v7+"' # "+latestCheckout, 1),
		"actions/setup-go@v5\r\n", "actions/setup-go@"+go7+" # "+latestGo+"\r\n", 1)
	if string(now) != want {
		t.Errorf("pinned file:\n%q\nwant:\n%q", now, want)
	}
	l, _ := os.ReadFile(lock)
	if !strings.Contains(string(l), "  actions/checkout:\n    version: "+latestCheckout+"\n    sha: "+v7+"\n") {
		t.Errorf("lock file:\n%s", l)
	}
	// Pinned already: a second run changes nothing.
	if code, out = run(); code != actionio.ExitOK || !strings.Contains(out, "pinned 0 references") {
		t.Errorf("second run: exit %d: %s", code, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// newestWithin is the highest vX.Y.Z tag of a fixture repository that starts with prefix.
func newestWithin(t *testing.T, api *testenv.GitHubAPI, repo, prefix string) string {
	tags, _, _ := api.Repo(repo)
	var names []string
	for _, tg := range tags {
		if strings.HasPrefix(tg.Name, prefix) {
			names = append(names, tg.Name)
		}
	}
	return highest(names)
}
