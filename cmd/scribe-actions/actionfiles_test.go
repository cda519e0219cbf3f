package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

var update = flag.Bool("update", false, "rewrite <action>/action.yml from the Go definitions")

const header = "Generated from the Go definition of this action; do not edit by hand.\n" +
	"Regenerate: go test ./cmd/scribe-actions -run TestActionFiles -update"

const repoRoot = "../.."

// TestActionFilesMatchGo is the one-source-of-truth check: every action.yml declares exactly the inputs and
// outputs of its Go definition, with the same defaults, required-ness and descriptions, and its main file
// starts the launcher for that action.
func TestActionFilesMatchGo(t *testing.T) {
	for _, a := range actions() {
		spec := a.Spec()
		path := filepath.Join(repoRoot, spec.Name, "action.yml")
		main := filepath.Join(repoRoot, spec.Name, actionio.MainFile)
		if *update {
			if err := os.WriteFile(path, actionio.ActionYML(spec, header), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(main, actionio.MainJS(spec.Name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(main); err != nil || !bytes.Equal(got, actionio.MainJS(spec.Name)) {
			t.Errorf("%s is not the launcher's one line for %s (err %v; run with -update)", main, spec.Name, err)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to write it)", spec.Name, err)
		}
		for _, d := range actionio.CheckActionYML(spec, content) {
			t.Errorf("%s: %s", path, d)
		}
	}
}

// TestActionFileCheckFindsDrift proves the check above can fail: an action.yml edited by hand disagrees.
func TestActionFileCheckFindsDrift(t *testing.T) {
	spec := actions()[0].Spec()
	good := string(actionio.ActionYML(spec, ""))
	edits := map[string]func(string) string{
		"default changed": func(s string) string { return strings.Replace(s, "default: .", "default: ./app", 1) },
		"input renamed":   func(s string) string { return strings.Replace(s, "  no-cache:\n", "  nocache:\n", 1) },
		"made optional":   func(s string) string { return s + "" },
		"made composite":  func(s string) string { return strings.Replace(s, "using: node24", "using: composite", 1) },
		"output dropped":  func(s string) string { return strings.Replace(s, "  digest:\n", "  digests:\n", 1) },
	}
	delete(edits, "made optional")
	for name, edit := range edits {
		bad := edit(good)
		if bad == good {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if diffs := actionio.CheckActionYML(spec, []byte(bad)); len(diffs) == 0 {
			t.Errorf("%s: no disagreement found", name)
		}
	}
	sign := actions()[2].Spec()
	bad := strings.Replace(string(actionio.ActionYML(sign, "")), "required: true", "required: false", 1)
	if diffs := actionio.CheckActionYML(sign, []byte(bad)); len(diffs) != 1 || !strings.Contains(diffs[0], `"image": required is false`) {
		t.Errorf("required-ness drift: %q", diffs)
	}
}

// lint runs actionlint, as a library, on a workflow as if it were in the repository's .github/workflows.
func lint(t *testing.T, name string, content []byte) []*actionlint.Error {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(filepath.Join(root, ".github", "workflows", name), content, project)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestActionlintAcceptsAllActions lints a workflow that uses the root action and the four actions, so
// actionlint reads each action.yml and checks every with: key against it.
func TestActionlintAcceptsAllActions(t *testing.T) {
	content, err := os.ReadFile("testdata/uses-all-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lint(t, "uses-all-actions.yml", content) {
		t.Errorf("%d:%d: %s [%s]", e.Line, e.Column, e.Message, e.Kind)
	}
	for _, want := range []string{"uses: ./\n", "uses: ./build", "uses: ./scan", "uses: ./sign", "uses: ./cleanup"} {
		if !bytes.Contains(content, []byte(want)) {
			t.Errorf("the workflow does not use %q", want)
		}
	}

	// And it really reads them: an input no action.yml declares, and a missing required one, are errors.
	bad := bytes.Replace(content, []byte("          fail-on: critical"), []byte("          fail-on: critical\n          severity: high"), 1)
	bad = bytes.Replace(bad, []byte("          image: ${{ steps.build.outputs.image }}\n"), nil, 1)
	errs := lint(t, "uses-all-actions.yml", bad)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, `input "severity" is not defined`) || !strings.Contains(joined, `missing input "image"`) {
		t.Errorf("actionlint did not check the with: keys against action.yml:\n%s", joined)
	}
}

// TestReadmeInputTablesMatchGo keeps the README's input and output tables generated from the same
// definitions (between <!-- inputs:NAME --> and <!-- /inputs:NAME -->).
func TestReadmeInputTablesMatchGo(t *testing.T) {
	path := filepath.Join(repoRoot, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, a := range actions() {
		spec := a.Spec()
		open, end := "<!-- inputs:"+spec.Name+" -->\n", "<!-- /inputs:"+spec.Name+" -->"
		i, j := strings.Index(text, open), strings.Index(text, end)
		if i < 0 || j < i {
			t.Errorf("README.md has no %s...%s block", strings.TrimSpace(open), end)
			continue
		}
		want := actionio.Markdown(spec)
		if got := text[i+len(open) : j]; got != want {
			if !*update {
				t.Errorf("README.md's %s table differs from the Go definition (run with -update)", spec.Name)
			}
			text = text[:i+len(open)] + want + text[j:]
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
