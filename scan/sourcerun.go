package scan

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// SourceReport is the JSON report of a source scan.
type SourceReport struct {
	Path    string `json:"path"`
	Range   string `json:"range,omitempty"` // the commits scanned, as git reads the range
	Commits int    `json:"commits"`
	Files   int    `json:"files"`
	// Lockfiles are the lockfiles read; Packages the dependencies they declare, each at its lockfile and line.
	Lockfiles []string  `json:"lockfiles"`
	Packages  []Package `json:"packages"`
	Findings  []Finding `json:"findings"`
	// Unassessable are dependencies declared without a version OSV can be matched with (a requirement that is
	// not pinned, a git checkout); UnreadableLockfiles the lockfiles that could not be read, as file:line: why.
	Unassessable        []Unassessable `json:"unassessable"`
	UnreadableLockfiles []string       `json:"unreadableLockfiles,omitempty"`
	Counts              map[string]int `json:"counts"`
	Coverage            []Coverage     `json:"coverage"` // per ecosystem: what its packages were matched against, or why not
	Secrets             []Secret       `json:"secrets"`
	Allowed             int            `json:"allowed"` // skipped by gitleaks:allow or a .gitleaksignore fingerprint
	Gate                Gate           `json:"gate"`
	IgnoreWarnings      []string       `json:"ignoreWarnings,omitempty"`
}

// runSource is the scan of a directory and, with history, of its commits: the same detectors, ignore files and
// gate (fail-on-secrets) as an image's secrets, reported with file, line and commit; and the dependencies its
// lockfiles declare, matched against the image scan's OSV database and gated by fail-on and ignore-unfixed,
// reported at the lockfile's line.
func runSource(ctx context.Context, s *actionio.Step, in *Inputs, policy Policy, now time.Time) error {
	if in.DBDir != "" {
		if info, err := os.Stat(in.DBDir); err != nil || !info.IsDir() {
			return fmt.Errorf(`input "db-dir": %q is not a directory (want the OSV bucket's layout: <Ecosystem>/all.zip)`, in.DBDir)
		}
	}
	rng, notes, err := historyRange(ctx, in, s.Action.Getenv)
	if err != nil {
		return err
	}
	src, err := ScanSource(ctx, in.Path, rng)
	if err != nil {
		return err
	}
	lf, err := ReadLockfiles(in.Path)
	if err != nil {
		return err
	}
	lf.underPrefix(src.Prefix)
	for _, n := range slices.Concat(notes, src.Notes, lf.Notes) {
		s.Warningf("%s", n)
	}
	for _, u := range lf.Unreadable {
		s.Warningf("lockfile not read, its dependencies are not assessed: %s", u)
	}
	for _, w := range unassessableWarnings(lf.Unassessable) {
		s.Warningf("%s", w)
	}
	db := NewDatabase(in.DBDir, in.DBURL, in.Offline, defaultCache(s.Action.Getenv))
	findings, coverage, err := Match(ctx, db, lf.Packages, "", s.Warningf)
	if err != nil {
		return err
	}
	for _, c := range coverage {
		if !c.Assessed {
			s.Warningf("%s not assessed: %s", packagesOf(c), c.Reason)
		}
	}
	g, warnings := Judge(findings, src.Secrets, policy, now)
	g.Reason = strings.Replace(g.Reason, "in the layers", "in the source", 1)
	for _, w := range warnings {
		s.Warningf("%s", w)
	}
	applyCoverage(&g, coverage, in.FailOnUnassessed)
	applyUnassessable(&g, lf, in.FailOnUnassessed)
	rep := &SourceReport{Path: in.Path, Range: rng, Commits: src.Commits, Files: src.Files,
		Lockfiles: orEmpty(lf.Files), Packages: orEmpty(lf.Packages), Findings: orEmpty(findings),
		Unassessable: orEmpty(lf.Unassessable), UnreadableLockfiles: lf.Unreadable, Counts: countBySeverity(findings),
		Coverage: orEmpty(coverage), Secrets: orEmpty(src.Secrets), Allowed: src.Allowed, Gate: g, IgnoreWarnings: warnings}
	if err := os.MkdirAll(in.OutputDir, 0o755); err != nil {
		return fmt.Errorf(`input "output-dir": %w`, err)
	}
	category := in.SARIFCategory
	if category == "" {
		category = "scribe-source"
	}
	sarifLog, _, err := buildSARIF(sarifInput{name: "source", ref: in.Path, category: category, source: true,
		unassessable: rep.Unassessable, images: []sarifImage{{findings: findings, secrets: src.Secrets, coverage: coverage}}})
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
	if err := setOutputs(s, files, rep.Counts, g.Passed); err != nil {
		return err
	}
	if err := s.Summary(sourceSummary(rep)); err != nil {
		return err
	}
	if !g.Passed {
		return fmt.Errorf("gate failed (fail-on: %s, fail-on-secrets: %t, fail-on-unassessed: %s): %s", in.FailOn, in.FailOnSecrets, in.FailOnUnassessed, g.Reason)
	}
	return nil
}

// orEmpty is a list the JSON report writes as [] when it is empty, so a reader need not tell null from none.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// unassessableWarnings says, one warning per lockfile, which of its dependencies could not be assessed and why.
func unassessableWarnings(us []Unassessable) []string {
	var files []string
	byFile := map[string][]string{}
	for _, u := range us {
		if byFile[u.Path] == nil {
			files = append(files, u.Path)
		}
		byFile[u.Path] = append(byFile[u.Path], fmt.Sprintf("%s (line %d: %s)", u.Name, u.Line, u.Reason))
	}
	var out []string
	for _, f := range files {
		n := len(byFile[f])
		out = append(out, fmt.Sprintf("%s: %d dependenc%s not assessed: %s", f, n, plural(n, "y", "ies"), strings.Join(byFile[f], "; ")))
	}
	return out
}

// applyUnassessable fails the gate under fail-on-unassessed: all for the dependencies no version could be
// matched for and the lockfiles that could not be read: the packages of no ecosystem, as the image scan's are.
func applyUnassessable(g *Gate, lf *Lockfiles, mode string) {
	if mode != "all" {
		return
	}
	var why []string
	if n := len(lf.Unassessable); n > 0 {
		why = append(why, fmt.Sprintf("%d dependenc%s declared without a version OSV can be matched with", n, plural(n, "y", "ies")))
	}
	if n := len(lf.Unreadable); n > 0 {
		why = append(why, fmt.Sprintf("%d lockfile%s not read", n, plural(n, "", "s")))
	}
	if len(why) == 0 {
		return
	}
	reason := strings.Join(why, " and ") + " [fail-on-unassessed: all]"
	if g.Passed {
		g.Passed, g.Reason = false, reason
	} else {
		g.Reason += " and " + reason
	}
}

// historyRange is the commits a source scan reads (see the "since" input), and what it says about the choice.
// No history: "". "since" given: since..HEAD. Else from the event GitHub sends: a pull request's own commits
// (origin/<base>..HEAD); a push's pushed ones (before..HEAD); a new branch's or tag's the default branch lacks
// (origin/<default>..HEAD), all of the history on the default branch's first push. Any other event (a
// dispatch, the schedule) reads no commits, with a warning: pushes and pull requests read theirs, and a
// release or a manual build must not fail on a secret committed and rotated long ago.
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
	var payload struct {
		Before     string
		Repository struct {
			DefaultBranch string `json:"default_branch"`
		}
	}
	if raw, err := os.ReadFile(getenv("GITHUB_EVENT_PATH")); err == nil {
		json.Unmarshal(raw, &payload)
	}
	switch event := getenv("GITHUB_EVENT_NAME"); {
	case strings.HasPrefix(event, "pull_request") && getenv("GITHUB_BASE_REF") != "":
		base := "origin/" + getenv("GITHUB_BASE_REF")
		if !resolves(base) {
			return "", nil, fmt.Errorf("history: the pull request's base %s is not in the checkout of %s; check out with fetch-depth: 0 (or set since:)", base, in.Path)
		}
		return base + "..HEAD", nil, nil
	case event == "push" && strings.Trim(payload.Before, "0") != "":
		if !resolves(payload.Before) {
			return "HEAD", []string{fmt.Sprintf("history: the push's previous commit %.12s is not in the checkout (fetch-depth: 0 fetches it): all of the history the checkout has is scanned", payload.Before)}, nil
		}
		return payload.Before + "..HEAD", nil, nil
	case event == "push":
		def := payload.Repository.DefaultBranch
		switch {
		case def == "" || getenv("GITHUB_REF") == "refs/heads/"+def:
			return "HEAD", []string{"history: the first push of the default branch: all of its history is scanned"}, nil
		case !resolves("origin/" + def):
			return "HEAD", []string{fmt.Sprintf("history: a new branch or tag, and origin/%s is not in the checkout (fetch-depth: 0 fetches it): all of its history is scanned", def)}, nil
		}
		return "origin/" + def + "..HEAD", []string{fmt.Sprintf("history: a new branch or tag: the commits origin/%s does not have are scanned", def)}, nil
	case event == "":
		return "HEAD", nil, nil // not on a runner: all of the history
	default:
		return "", []string{fmt.Sprintf("history: a %s run reads no commits (pushes and pull requests read theirs; since: names a base to read from)", event)}, nil
	}
}

// sourceSummary is the step summary of a source scan: the gate, the dependencies per ecosystem, every
// vulnerability at its lockfile and line (the first maxSummaryFindings, most severe first), what could not be
// assessed, and the secrets.
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
	fmt.Fprintf(&b, "## Source scan of `%s`\n\nGate %s: %s.\n\n%s read; %d lockfile%s declaring %d package%s; %d vulnerabilit%s; %d secret%s; %d allowed by gitleaks:allow or .gitleaksignore.\n",
		rep.Path, verdict, rep.Gate.Reason, scope, len(rep.Lockfiles), plural(len(rep.Lockfiles), "", "s"), len(rep.Packages), plural(len(rep.Packages), "", "s"),
		len(rep.Findings), plural(len(rep.Findings), "y", "ies"), len(rep.Secrets), plural(len(rep.Secrets), "", "s"), rep.Allowed)
	if len(rep.Coverage) > 0 {
		b.WriteString("\n### Dependencies\n\n")
		b.WriteString(coverageTable(rep.Coverage, rep.Findings))
	}
	if len(rep.Findings) > 0 {
		top := slices.Clone(rep.Findings)
		slices.SortStableFunc(top, func(a, b Finding) int {
			if ra, rb := severityRank[a.Severity], severityRank[b.Severity]; ra != rb {
				return rb - ra
			}
			return strings.Compare(a.Package.Path, b.Package.Path)
		})
		b.WriteString("\n### Vulnerabilities\n\n| vulnerability | severity | package | version | fixed in | declared at |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, f := range top[:min(maxSummaryFindings, len(top))] {
			sev := f.Severity
			if f.Ignored != "" {
				sev += " (ignored: " + f.Ignored + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | `%s:%d` |\n", f.ID, sev, f.Package.Name, f.Package.Version, cmp.Or(f.FixedVersion, "—"), f.Package.Path, f.Package.Line)
		}
		if len(top) > maxSummaryFindings {
			fmt.Fprintf(&b, "\n%d more in the JSON report.\n", len(top)-maxSummaryFindings)
		}
	}
	if len(rep.Unassessable) > 0 || len(rep.UnreadableLockfiles) > 0 {
		b.WriteString("\n### Not assessed\n\n| dependency | ecosystem | declared at | why |\n| --- | --- | --- | --- |\n")
		for _, u := range rep.Unassessable {
			fmt.Fprintf(&b, "| %s | %s | `%s:%d` | %s |\n", strings.ReplaceAll(u.Name, "|", "\\|"), u.Ecosystem, u.Path, u.Line, strings.ReplaceAll(u.Reason, "|", "\\|"))
		}
		for _, u := range rep.UnreadableLockfiles {
			fmt.Fprintf(&b, "| every dependency of the lockfile | | | not read: %s |\n", strings.ReplaceAll(u, "|", "\\|"))
		}
	}
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
	for _, w := range rep.IgnoreWarnings {
		fmt.Fprintf(&b, "\n> ⚠️ %s\n", w)
	}
	return b.String()
}

// maxSummaryFindings bounds the summary's table of vulnerabilities (a step summary holds 1 MiB); the JSON report
// and the SARIF have them all.
const maxSummaryFindings = 200
