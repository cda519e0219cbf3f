package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// SourceReport is the JSON report of a source scan.
type SourceReport struct {
	Path           string   `json:"path"`
	Range          string   `json:"range,omitempty"` // the commits scanned, as git reads the range
	Commits        int      `json:"commits"`
	Files          int      `json:"files"`
	Secrets        []Secret `json:"secrets"`
	Allowed        int      `json:"allowed"` // skipped by gitleaks:allow or a .gitleaksignore fingerprint
	Gate           Gate     `json:"gate"`
	IgnoreWarnings []string `json:"ignoreWarnings,omitempty"`
}

// runSource is the scan of a directory and, with history, of its commits: the same detectors, ignore files and
// gate (fail-on-secrets) as an image's secrets, reported with file, line and commit.
func runSource(ctx context.Context, s *actionio.Step, in *Inputs, policy Policy, now time.Time) error {
	rng, notes, err := historyRange(ctx, in, s.Action.Getenv)
	if err != nil {
		return err
	}
	src, err := ScanSource(ctx, in.Path, rng)
	if err != nil {
		return err
	}
	for _, n := range append(notes, src.Notes...) {
		s.Warningf("%s", n)
	}
	g, warnings := Judge(nil, src.Secrets, policy, now)
	switch { // the gate's words are an image's
	case !g.Passed:
		g.Reason = strings.Replace(g.Reason, "in the layers", "in the source", 1)
	case !in.FailOnSecrets:
		g.Reason = "secrets not gated (fail-on-secrets: false)"
	default:
		g.Reason = "no unignored secret"
	}
	for _, w := range warnings {
		s.Warningf("%s", w)
	}
	rep := &SourceReport{Path: in.Path, Range: rng, Commits: src.Commits, Files: src.Files, Secrets: src.Secrets,
		Allowed: src.Allowed, Gate: g, IgnoreWarnings: warnings}
	if rep.Secrets == nil {
		rep.Secrets = []Secret{}
	}
	if err := os.MkdirAll(in.OutputDir, 0o755); err != nil {
		return fmt.Errorf(`input "output-dir": %w`, err)
	}
	category := in.SARIFCategory
	if category == "" {
		category = "scribe-source"
	}
	sarifLog, _, err := buildSARIF(sarifInput{name: "source", ref: in.Path, category: category, source: true,
		images: []sarifImage{{secrets: src.Secrets}}})
	if err != nil {
		return err
	}
	files := &Reports{SARIF: filepath.Join(in.OutputDir, "source.sarif"), Reports: []string{filepath.Join(in.OutputDir, "source-scan.json")}}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(files.SARIF, sarifLog, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(files.Reports[0], raw, 0o644); err != nil {
		return err
	}
	if err := setOutputs(s, files, map[string]int{}, g.Passed); err != nil {
		return err
	}
	if err := s.Summary(sourceSummary(rep)); err != nil {
		return err
	}
	if !g.Passed {
		return fmt.Errorf("gate failed (fail-on-secrets: %t): %s", in.FailOnSecrets, g.Reason)
	}
	return nil
}

// historyRange is the commits a source scan reads (see the "since" input), and what it says about the choice.
// No history: "". "since" given: since..HEAD. Else from the event GitHub sends: a pull request's base branch
// (origin/<base>..HEAD, its own commits), a push's previous head (before..HEAD, the pushed commits), and any
// other event, or a branch's first push, all of HEAD's history.
func historyRange(ctx context.Context, in *Inputs, getenv func(string) string) (string, []string, error) {
	if !in.History {
		return "", nil, nil
	}
	resolves := func(rev string) bool {
		_, err := git(ctx, in.Path, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
		return err == nil
	}
	if in.Since != "" {
		if !resolves(in.Since) {
			return "", nil, fmt.Errorf(`input "since": %q is not a commit of %s (a shallow checkout lacks it: actions/checkout's fetch-depth: 0 fetches all)`, in.Since, in.Path)
		}
		return in.Since + "..HEAD", nil, nil
	}
	switch event := getenv("GITHUB_EVENT_NAME"); {
	case strings.HasPrefix(event, "pull_request") && getenv("GITHUB_BASE_REF") != "":
		base := "origin/" + getenv("GITHUB_BASE_REF")
		if !resolves(base) {
			return "", nil, fmt.Errorf("history: the pull request's base %s is not in the checkout of %s; check out with fetch-depth: 0 (or set since:)", base, in.Path)
		}
		return base + "..HEAD", nil, nil
	case event == "push":
		var payload struct{ Before string }
		if raw, err := os.ReadFile(getenv("GITHUB_EVENT_PATH")); err == nil {
			json.Unmarshal(raw, &payload)
		}
		switch {
		case payload.Before == "" || strings.Trim(payload.Before, "0") == "":
			return "HEAD", []string{"history: the push names no previous commit (a new branch): all of HEAD's history is scanned"}, nil
		case !resolves(payload.Before):
			return "HEAD", []string{fmt.Sprintf("history: the push's previous commit %.12s is not in the checkout (fetch-depth: 0 fetches it): all of the history the checkout has is scanned", payload.Before)}, nil
		}
		return payload.Before + "..HEAD", nil, nil
	}
	return "HEAD", nil, nil
}

// sourceSummary is the step summary of a source scan.
func sourceSummary(rep *SourceReport) string {
	var b strings.Builder
	verdict := "✅ passed"
	if !rep.Gate.Passed {
		verdict = "❌ failed"
	}
	scope := fmt.Sprintf("%d files", rep.Files)
	if rep.Range != "" {
		scope += fmt.Sprintf(" and %d commit%s (%s)", rep.Commits, plural(rep.Commits, "", "s"), rep.Range)
	}
	fmt.Fprintf(&b, "## Source scan of `%s`\n\nGate %s: %s.\n\n%s read; %d secret%s; %d allowed by gitleaks:allow or .gitleaksignore.\n",
		rep.Path, verdict, rep.Gate.Reason, scope, len(rep.Secrets), plural(len(rep.Secrets), "", "s"), rep.Allowed)
	if len(rep.Secrets) > 0 {
		b.WriteString("\n### Secrets (never shown; rotate them)\n\n| rule | file | line | commit | date | fingerprint |\n| --- | --- | ---: | --- | --- | --- |\n")
		for _, sc := range rep.Secrets {
			commit := "working tree"
			if sc.Commit != "" {
				commit = sc.Commit[:min(12, len(sc.Commit))]
			}
			rule := sc.Rule
			if sc.Ignored != "" {
				rule += " (ignored: " + sc.Ignored + ")"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %d | %s | %s | %s |\n", rule, sc.Path, sc.Line, commit, sc.Date, sc.Fingerprint)
		}
	}
	return b.String()
}
