package migrate

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/render"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// importInto runs the import command in dir on the workflows given (relative to dir).
func importInto(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	code := Command(args, actionio.Env{Getenv: os.Getenv, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

// copyTree copies testdata/<name> into a temporary repository.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join("testdata", name)+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return dir
}

// The shop's hand-written backend and web workflows (build-push-action, metadata-action, trivy-action, cosign,
// delete-package-versions) become a scribe.yaml (golden) that renders; what it cannot carry over is named at
// its file and line (golden), and so is what the rendered pipeline adds.
func TestImportShop(t *testing.T) {
	dir := copyTree(t, "shop")
	code, stdout, stderr := importInto(t, dir, ".github/workflows/backend.yml", ".github/workflows/web.yml")
	if code != actionio.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "scribe.yaml"))
	golden(t, "shop.scribe.yaml", got)
	golden(t, "shop.out", []byte(stdout))

	// The written config renders (validated by actionlint inside render), beside the old workflows, once it
	// names the scribe-actions commit to pin (a released generator knows its own).
	pinned := string(got) + pin
	os.WriteFile(filepath.Join(dir, "scribe.yaml"), []byte(pinned), 0o644)
	var out, errs bytes.Buffer
	if code := render.Command("render", []string{"--root", dir}, actionio.Env{Getenv: os.Getenv, Stdout: &out, Stderr: &errs}); code != actionio.ExitOK {
		t.Fatalf("render of the imported config: exit %d\n%s", code, errs.String())
	}
	for _, w := range []string{"backend-docker-build.yml", "web-docker-build.yml"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("render did not write %s:\n%s", w, out.String())
		}
	}

	// An existing scribe.yaml is kept unless --force.
	if code, _, stderr := importInto(t, dir, ".github/workflows/backend.yml"); code != actionio.ExitFail || !strings.Contains(stderr, "scribe.yaml exists; --force overwrites it") {
		t.Errorf("overwrote without --force: exit %d %s", code, stderr)
	}
	// Workflows with no build: an error naming them.
	os.WriteFile(filepath.Join(dir, "lint.yml"), []byte("on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n"), 0o644)
	if code, _, stderr := importInto(t, dir, "--out", "other.yaml", "lint.yml"); code != actionio.ExitFail || !strings.Contains(stderr, "no docker/build-push-action step in lint.yml") {
		t.Errorf("no build: exit %d %s", code, stderr)
	}
}

// The real workflows of the corpus that use build-push-action (metadata-action with it or not): at least 80% import to a
// config that renders (render validates its output with actionlint); each note sits at a line of its file;
// ruff's matrix build gives its two platforms and its pep440 rule is named as not carried over.
func TestImportCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, "corpus", "workflows"), "*", "*.y*ml"))
	n, rendered := 0, 0
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		if !bytes.Contains(raw, []byte("docker/build-push-action@")) {
			continue
		}
		n++
		r, err := Import([]string{f})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, note := range r.Notes {
			if note.Line == 0 || note.File != f {
				t.Errorf("%s: a note without its line: %s", f, note)
			}
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "scribe.yaml"), []byte(r.Config()+pin), 0o644)
		var out, errs bytes.Buffer
		if code := render.Command("render", []string{"--root", dir}, actionio.Env{Getenv: os.Getenv, Stdout: &out, Stderr: &errs}); code == actionio.ExitOK {
			rendered++
		} else {
			t.Logf("%s: does not render (%d notes say what was dropped): %s", f, len(r.Notes), errs.String())
		}
		if strings.HasSuffix(f, "astral-sh__ruff/build-docker.yml") {
			if s := r.Services[0]; strings.Join(s.Platforms, ",") != "linux/amd64,linux/arm64" {
				t.Errorf("ruff: platforms %v", s.Platforms)
			}
			if !strings.Contains(strings.Join(noteTexts(r), "\n"), `tag rule "type=pep440`) {
				t.Errorf("ruff: the pep440 rule is not named:\n%s", strings.Join(noteTexts(r), "\n"))
			}
		}
	}
	t.Logf("%d of %d corpus workflows with build-push-action render", rendered, n)
	if n < 5 || rendered*5 < n*4 {
		t.Errorf("%d of %d corpus workflows render; want at least 80%%", rendered, n)
	}
}

// pin is what a config needs to render in a test: the scribe-actions commit (a released generator knows its own).
const pin = "scribe-actions:\n  sha: 0123456789abcdef0123456789abcdef01234567\n  version: v1.0.0\n"

func noteTexts(r *Result) []string {
	var out []string
	for _, n := range r.Notes {
		out = append(out, n.String())
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(p, got, 0o644)
		return
	}
	want, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./internal/migrate -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// A script's lines become commands, continuations joined and comments dropped; a script whose lines share a
// shell is named as one to review.
func TestTestScripts(t *testing.T) {
	got := commandLines("# deps\nuv sync \\\n  --frozen\n\nuv run pytest -q\n")
	if strings.Join(got, "|") != "uv sync --frozen|uv run pytest -q" {
		t.Errorf("commandLines: %q", got)
	}
	for script, shared := range map[string]bool{"cd app\nmake test\n": true, "export X=1\nmake\n": true,
		"for f in *; do\n  echo $f\ndone\n": true, "make lint\nmake test\n": false, "./ci/test.sh\n": false} {
		if sharedShell.MatchString(script) != shared {
			t.Errorf("%q: shared shell %t, want %t", script, !shared, shared)
		}
	}
}

// The README's migration guide is true: its "before" workflow imports into its "after" scribe.yaml (compared
// as render reads both).
func TestReadmeMigrationGuide(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := func(marker string) string {
		_, rest, ok := strings.Cut(string(raw), "<!-- migrate:"+marker+" -->\n```yaml\n")
		body, _, ok2 := strings.Cut(rest, "```\n")
		if !ok || !ok2 {
			t.Fatalf("README.md has no %s block", marker)
		}
		return body
	}
	before := filepath.Join(t.TempDir(), "backend.yml")
	os.WriteFile(before, []byte(block("before")), 0o644)
	r, err := Import([]string{before})
	if err != nil {
		t.Fatal(err)
	}
	got, err := render.ParseConfig("imported.yaml", []byte(r.Config()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := render.ParseConfig("README.md", []byte(block("after")))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := yaml.Marshal(got)
	w, _ := yaml.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("the README's before imports into\n%s\nnot its after\n%s\n(notes: %v)", g, w, noteTexts(r))
	}
}

// Retention is carried only as far as it means the same: a rule that never deleted tagged images keeps them
// all, regular expressions are not read as globs, a dry run stays off; the image name survives an expression in
// the tag; odd build steps never crash the import.
func TestImportEdgeCases(t *testing.T) {
	build := func(with string) string {
		return "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n" + with
	}
	cleanup := func(uses, with string) string {
		return build("          context: .\n          tags: ghcr.io/acme/app:latest\n") +
			"  cleanup:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: " + uses + "\n        with:\n" + with
	}
	for _, tt := range []struct {
		name, workflow string
		config, notes  []string // substrings of the config, and of the notes
		notConfig      []string
	}{
		{"use-regex exclude-tags are not globs", cleanup("dataaxiom/ghcr-cleanup-action@v1",
			"          keep-n-tagged: 5\n          use-regex: true\n          exclude-tags: '^v\\d+\\.\\d+\\.\\d+$'\n"),
			[]string{"keep-n-tagged: 5"}, []string{"are regular expressions (use-regex): not carried over"}, []string{"exclude-tags:"}},
		{"delete-only-untagged keeps every tagged image", cleanup("actions/delete-package-versions@v5",
			"          min-versions-to-keep: 3\n          delete-only-untagged-versions: 'true'\n"),
			[]string{"keep-n-tagged: -1"}, []string{"delete-only-untagged-versions"}, []string{"keep-n-tagged: 3"}},
		{"dataaxiom without a count deletes no tagged image", cleanup("dataaxiom/ghcr-cleanup-action@v1", "          delete-untagged: true\n"),
			[]string{"keep-n-tagged: -1"}, nil, nil},
		{"a dry run stays off", cleanup("dataaxiom/ghcr-cleanup-action@v1", "          keep-n-tagged: 5\n          dry-run: true\n"),
			[]string{"enabled: false"}, []string{"dry-run: true deletes nothing"}, []string{"keep-n-tagged"}},
		{"an expression in the tag keeps the image", build("          tags: ghcr.io/acme/app:${{ github.sha }}\n"),
			[]string{"image: acme/app"}, nil, nil},
		{"empty tags", build("          tags: \"\"\n"), nil, []string{"no image name this import can read"}, nil},
		{"a list of tags", build("          tags:\n            - ghcr.io/acme/app:1\n"), []string{"image: acme/app"}, nil, nil},
		{"a path with a comma", "on:\n  push:\n    paths: ['lib/a,b.txt', 'src/**']\n" + build("          context: .\n")[len("on: push\n"):],
			[]string{"- lib/a,b.txt\n", "- src/**\n"}, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "w.yml")
			os.WriteFile(f, []byte(tt.workflow), 0o644)
			r, err := Import([]string{f})
			if err != nil {
				t.Fatal(err)
			}
			config, notes := r.Config(), strings.Join(append(noteTexts(r), r.Defaults()...), "\n")
			if _, err := render.ParseConfig("scribe.yaml", []byte(config)); err != nil {
				t.Errorf("does not parse: %v\n%s", err, config)
			}
			for _, w := range tt.config {
				if !strings.Contains(config, w) {
					t.Errorf("config lacks %q:\n%s", w, config)
				}
			}
			for _, w := range tt.notConfig {
				if strings.Contains(config, w) {
					t.Errorf("config holds %q:\n%s", w, config)
				}
			}
			for _, w := range tt.notes {
				if !strings.Contains(notes, w) {
					t.Errorf("notes lack %q:\n%s", w, notes)
				}
			}
		})
	}
}
