package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Run scans the image. Every input is checked before the image is read; reports are written whatever the
// verdict; the exit code is the gate's.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	now := time.Now()
	policy, err := NewPolicy(in)
	if err != nil {
		return err
	}
	var dockerfile *Dockerfile
	if in.Dockerfile != "" {
		if dockerfile, err = ReadDockerfile(in.Dockerfile, s.Action.Getenv("GITHUB_WORKSPACE")); err != nil {
			return fmt.Errorf(`input "dockerfile": %w`, err)
		}
	}
	if in.DBDir != "" {
		if info, err := os.Stat(in.DBDir); err != nil || !info.IsDir() {
			return fmt.Errorf(`input "db-dir": %q is not a directory (want the OSV bucket's layout: <Ecosystem>/all.zip)`, in.DBDir)
		}
	}
	cache := defaultCache(s.Action.Getenv)
	img, err := ReadImage(ctx, in.Image, layerCacheDir(cache))
	if err != nil {
		return err
	}
	for _, w := range img.Warnings {
		s.Warningf("%s", w)
	}
	_, unknownOS := img.Distro.Assessable()
	findings, coverage, err := Match(ctx, NewDatabase(in.DBDir, in.DBURL, in.Offline, cache), img.Packages, unknownOS, s.Warningf)
	if err != nil {
		return err
	}
	coverage = uncatalogued(coverage, img.Distro)
	for _, c := range coverage {
		if !c.Assessed {
			s.Warningf("%s not assessed: %s", packagesOf(c), c.Reason)
		}
	}
	g, warnings := Judge(findings, img.Secrets, policy, now)
	for _, w := range warnings {
		s.Warningf("%s", w)
	}
	applyCoverage(&g, coverage, in.FailOnUnassessed)
	rep := &Report{Image: in.Image, Digest: img.Digest, Packages: img.Packages, Findings: findings, Secrets: img.Secrets,
		Counts: countBySeverity(findings), Gate: g, Distro: img.Distro, Coverage: coverage, IgnoreWarnings: warnings}
	files, err := WriteReports(in.OutputDir, img, rep, ReportOptions{SBOMFormat: in.SBOMFormat, SARIFCategory: in.SARIFCategory,
		Dockerfile: dockerfile, Now: now})
	if err != nil {
		return err
	}
	if err := setOutputs(s, files, rep); err != nil {
		return err
	}
	if err := s.Summary(summary(img, rep)); err != nil {
		return err
	}
	if !g.Passed {
		return fmt.Errorf("gate failed (fail-on: %s, fail-on-secrets: %t, fail-on-unassessed: %s): %s", in.FailOn, in.FailOnSecrets, in.FailOnUnassessed, g.Reason)
	}
	return nil
}

func setOutputs(s *actionio.Step, files *Reports, rep *Report) error {
	countsJSON, _ := json.Marshal(rep.Counts)
	verdict := "passed"
	if !rep.Gate.Passed {
		verdict = "failed"
	}
	for _, o := range [][2]string{{"sbom", strings.Join(files.SBOMs, "\n")}, {"sarif", files.SARIF}, {"report", files.Report},
		{"counts", string(countsJSON)}, {"gate", verdict}} {
		if err := s.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}

// summary is the step summary: the gate, counts per ecosystem and severity, the top findings, the secrets.
func summary(img *Image, rep *Report) string {
	var b strings.Builder
	verdict := "✅ passed"
	if !rep.Gate.Passed {
		verdict = "❌ failed"
	}
	fmt.Fprintf(&b, "## Scan of `%s`\n\nGate %s: %s.\n\n", img.Name, verdict, rep.Gate.Reason)
	fmt.Fprintf(&b, "%d package%s in %d layer%s (%d from the layer cache); %d vulnerabilit%s; %d secret%s.\n\n", len(rep.Packages), plural(len(rep.Packages), "", "s"),
		img.Layers, plural(img.Layers, "", "s"), img.CachedLayers, len(rep.Findings), plural(len(rep.Findings), "y", "ies"), len(rep.Secrets), plural(len(rep.Secrets), "", "s"))
	b.WriteString(coverageTable(rep.Coverage, rep.Findings))
	fmt.Fprintf(&b, "| **all** | %d | |", len(rep.Packages))
	for _, sv := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
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
	if rep.SARIFDropped > 0 {
		fmt.Fprintf(&b, "\nSARIF: %d least severe results dropped to stay within code scanning's limits (the JSON report has them all).\n", rep.SARIFDropped)
	}
	return b.String()
}
