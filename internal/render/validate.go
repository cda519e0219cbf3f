package render

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// Finding is a problem at a position of a rendered file, printed as actionlint prints them.
type Finding struct {
	Path         string
	Line, Column int
	Message      string
	Kind         string
}

// String prints the finding as file:line:col: message [kind].
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s [%s]", f.Path, f.Line, f.Column, f.Message, f.Kind)
}

// Validate parses each file as YAML and lints it with the actionlint library (with shellcheck on run:
// scripts when shellcheck is installed, as the CLI does); it returns every finding.
func Validate(files []File) ([]Finding, error) {
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	linter, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	for _, f := range files {
		var doc yaml.Node
		if err := yaml.Unmarshal(f.Content, &doc); err != nil {
			findings = append(findings, Finding{Path: f.Path, Line: 1, Column: 1, Message: err.Error(), Kind: "yaml"})
			continue
		}
		errs, err := linter.Lint(f.Path, f.Content, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		for _, e := range errs {
			findings = append(findings, Finding{Path: f.Path, Line: e.Line, Column: e.Column, Message: e.Message, Kind: e.Kind})
		}
		if bytes.Contains(f.Content, []byte("${{")) {
			findings = append(findings, runExpressions(f)...)
		}
	}
	return findings, nil
}

// runExpressions finds ${{ }} inside run: scripts, where a value would be pasted into the shell (script
// injection); values must reach scripts through env:. actionlint only flags untrusted inputs there.
func runExpressions(f File) []Finding {
	var found []Finding
	inRun, runIndent := false, 0
	for i, line := range strings.Split(string(f.Content), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if inRun && trimmed != "" && indent <= runIndent {
			inRun = false
		}
		key := strings.TrimPrefix(trimmed, "- ")
		if strings.HasPrefix(key, "run:") {
			inRun, runIndent = true, indent
		}
		if inRun && strings.Contains(line, "${{") {
			found = append(found, Finding{Path: f.Path, Line: i + 1, Column: strings.Index(line, "${{") + 1,
				Message: "${{ }} inside a run: script; pass the value through env:", Kind: "script-injection"})
		}
	}
	return found
}
