package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Report is the JSON report: every package, finding and secret, and the gate's verdict.
type Report struct {
	Image          string         `json:"image"`
	Digest         string         `json:"digest,omitempty"`
	Packages       []Package      `json:"packages"`
	Findings       []Finding      `json:"findings"`
	Secrets        []Secret       `json:"secrets"`
	Counts         map[string]int `json:"counts"`
	Gate           gate           `json:"gate"`
	Databases      []string       `json:"databases"`
	SARIFDropped   int            `json:"sarifDropped"`
	IgnoreWarnings []string       `json:"ignoreWarnings,omitempty"`
}

// Run scans the image. Every input is checked before the image is read; reports are written whatever the
// verdict; the exit code is the gate's.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	now := time.Now()
	var ignores []*ignoreEntry
	var err error
	if in.IgnoreFile != "" {
		if ignores, err = readIgnoreFile(in.IgnoreFile); err != nil {
			return err
		}
	}
	var stage []instruction
	if in.Dockerfile != "" {
		if stage, err = finalStage(in.Dockerfile); err != nil {
			return fmt.Errorf(`input "dockerfile": %w`, err)
		}
	}
	if in.DBDir != "" {
		if info, err := os.Stat(in.DBDir); err != nil || !info.IsDir() {
			return fmt.Errorf(`input "db-dir": %q is not a directory (want the OSV bucket's layout: <Ecosystem>/all.zip)`, in.DBDir)
		}
	}
	t, err := openImage(ctx, in.Image)
	if err != nil {
		return err
	}
	fs, err := readImage(t, newSecretScanner())
	if err != nil {
		return fmt.Errorf("reading %s: %w", in.Image, err)
	}
	pkgs := catalog(fs)
	src := &dbSource{dir: in.DBDir, url: in.DBURL, cache: defaultCache(), offline: in.Offline,
		client: &http.Client{Timeout: 10 * time.Minute}, now: time.Now}
	db, sources, err := loadDatabase(ctx, src, pkgs, s.Warningf)
	if err != nil {
		return err
	}
	findings := db.match(pkgs)
	warnings := applyIgnores(ignores, findings, fs.secrets, now)
	for _, w := range warnings {
		s.Warningf("%s", w)
	}
	g := decide(findings, fs.secrets, in.FailOn, in.IgnoreUnfixed, in.FailOnSecrets)

	if err := os.MkdirAll(in.OutputDir, 0o755); err != nil {
		return fmt.Errorf(`input "output-dir": %w`, err)
	}
	sboms, err := writeSBOMs(in.OutputDir, in.SBOMFormat, t, pkgs, now)
	if err != nil {
		return err
	}
	dockerfile := ""
	if in.Dockerfile != "" {
		dockerfile = repoPath(in.Dockerfile, s.Action.Getenv("GITHUB_WORKSPACE"))
	}
	sarifLog, dropped, err := buildSARIF(sarifInput{target: t, findings: findings, secrets: fs.secrets, category: in.SARIFCategory,
		dockerfile: dockerfile, lines: layerLines(t.img, stage)})
	if err != nil {
		return err
	}
	sarifPath := filepath.Join(in.OutputDir, t.name+".sarif")
	if err := os.WriteFile(sarifPath, sarifLog, 0o644); err != nil {
		return err
	}
	counts := countBySeverity(findings)
	rep := Report{Image: in.Image, Digest: t.digest, Packages: pkgs, Findings: findings, Secrets: fs.secrets, Counts: counts,
		Gate: g, Databases: sources, SARIFDropped: dropped, IgnoreWarnings: warnings}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	if rep.Secrets == nil {
		rep.Secrets = []Secret{}
	}
	reportPath := filepath.Join(in.OutputDir, t.name+"-scan.json")
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(reportPath, raw, 0o644); err != nil {
		return err
	}
	countsJSON, _ := json.Marshal(counts)
	verdict := "passed"
	if !g.Passed {
		verdict = "failed"
	}
	for _, o := range [][2]string{{"sbom", strings.Join(sboms, "\n")}, {"sarif", sarifPath}, {"report", reportPath},
		{"counts", string(countsJSON)}, {"gate", verdict}} {
		if err := s.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	if err := s.Summary(summary(t, rep, fs, dropped)); err != nil {
		return err
	}
	if !g.Passed {
		return fmt.Errorf("gate failed (fail-on: %s, fail-on-secrets: %t): %s", in.FailOn, in.FailOnSecrets, g.Reason)
	}
	return nil
}

// loadDatabase reads the all.zip of each ecosystem the image has, keeping the records of its packages.
func loadDatabase(ctx context.Context, src *dbSource, pkgs []Package, warn func(string, ...any)) (*database, []string, error) {
	db := &database{records: map[string][]*record{}, loaded: map[string]int{}}
	want := map[string]bool{}
	ecos := map[string]bool{}
	for _, p := range pkgs {
		name := p.Name
		if p.Source != "" {
			name = p.Source
		}
		want[matchKey(p.Ecosystem, name)] = true
		base, _, _ := strings.Cut(p.Ecosystem, ":")
		ecos[base] = true
	}
	var sources []string
	for _, eco := range slices.Sorted(maps.Keys(ecos)) {
		data, from, err := src.load(ctx, eco, warn)
		if err != nil {
			return nil, nil, err
		}
		if err := db.readZip(eco, data, want); err != nil {
			return nil, nil, fmt.Errorf("the OSV database (%s): %w", from, err)
		}
		sources = append(sources, fmt.Sprintf("%s: %s (%d records)", eco, from, db.loaded[eco]))
	}
	return db, sources, nil
}

func countBySeverity(findings []Finding) map[string]int {
	c := map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
	for _, f := range findings {
		c[f.Severity]++
	}
	return c
}

// repoPath is the Dockerfile's path as code scanning wants it: relative to the repository root.
func repoPath(p, workspace string) string {
	if abs, err := filepath.Abs(p); err == nil && workspace != "" {
		if rel, err := filepath.Rel(workspace, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

func summary(t *target, rep Report, fs *fileSystem, dropped int) string {
	var b strings.Builder
	verdict := "✅ passed"
	if !rep.Gate.Passed {
		verdict = "❌ failed"
	}
	fmt.Fprintf(&b, "## Scan of `%s`\n\nGate %s: %s.\n\n", t.name, verdict, rep.Gate.Reason)
	fmt.Fprintf(&b, "%d package%s in %d layer%s; %d vulnerabilit%s; %d secret%s.\n\n", len(rep.Packages), plural(len(rep.Packages), "", "s"),
		fs.layers, plural(fs.layers, "", "s"), len(rep.Findings), plural(len(rep.Findings), "y", "ies"), len(rep.Secrets), plural(len(rep.Secrets), "", "s"))
	sevs := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	byEco := map[string]map[string]int{}
	pkgsByEco := map[string]int{}
	for _, p := range rep.Packages {
		pkgsByEco[p.Ecosystem]++
	}
	for _, f := range rep.Findings {
		if byEco[f.Package.Ecosystem] == nil {
			byEco[f.Package.Ecosystem] = map[string]int{}
		}
		byEco[f.Package.Ecosystem][f.Severity]++
	}
	b.WriteString("| ecosystem | packages | critical | high | medium | low | unknown |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, eco := range slices.Sorted(maps.Keys(pkgsByEco)) {
		fmt.Fprintf(&b, "| %s | %d |", eco, pkgsByEco[eco])
		for _, sv := range sevs {
			fmt.Fprintf(&b, " %d |", byEco[eco][sv])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "| **all** | %d |", len(rep.Packages))
	for _, sv := range sevs {
		fmt.Fprintf(&b, " %d |", rep.Counts[sv])
	}
	b.WriteString("\n")
	if len(rep.Findings) > 0 {
		top := append([]Finding(nil), rep.Findings...)
		sort.SliceStable(top, func(i, j int) bool {
			if a, b := severityRank[top[i].Severity], severityRank[top[j].Severity]; a != b {
				return a > b
			}
			return top[i].Score > top[j].Score
		})
		b.WriteString("\n### Top findings\n\n| vulnerability | severity | package | installed | fixed in | layer |\n| --- | --- | --- | --- | --- | ---: |\n")
		for _, f := range top[:min(10, len(top))] {
			fixed := f.FixedVersion
			if fixed == "" {
				fixed = "—"
			}
			sev := f.Severity
			if f.Ignored != "" {
				sev += " (ignored: " + f.Ignored + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", f.ID, sev, f.Package.Name, f.Package.Version, fixed, f.Package.Layer+1)
		}
	}
	if len(rep.Secrets) > 0 {
		b.WriteString("\n### Secrets (never shown; rotate them)\n\n| rule | path | line | layer | fingerprint |\n| --- | --- | ---: | ---: | --- |\n")
		for _, sc := range rep.Secrets {
			fmt.Fprintf(&b, "| %s | `%s` | %d | %d | %s |\n", sc.Rule, sc.Path, sc.Line, sc.Layer+1, sc.Fingerprint)
		}
	}
	for _, w := range rep.IgnoreWarnings {
		fmt.Fprintf(&b, "\n> ⚠️ %s\n", w)
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "\nSARIF: %d least severe results dropped to stay within code scanning's limits (the JSON report has them all).\n", dropped)
	}
	b.WriteString("\nDatabase: " + strings.Join(rep.Databases, "; ") + "\n")
	return b.String()
}
