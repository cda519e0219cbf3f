package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Run scans the image, or the source at path. Every input is checked before anything is read; reports are
// written whatever the verdict; the exit code is the gate's.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	now := time.Now()
	switch {
	case in.Image == "" && in.Path == "":
		return fmt.Errorf(`input "image" or "path" is required: an image to scan, or a directory to scan as source`)
	case in.Image != "" && in.Path != "":
		return fmt.Errorf(`input "path": give "image" or "path", not both (two scan steps scan both)`)
	case in.Path == "" && (in.History || in.Since != ""):
		return fmt.Errorf(`input "history": reads a repository's commits, so it needs "path" (the checkout)`)
	case in.Since != "" && !in.History:
		return fmt.Errorf(`input "since": needs "history: true"`)
	}
	policy, err := NewPolicy(in)
	if err != nil {
		return err
	}
	if in.Path != "" {
		return runSource(ctx, s, in, policy, now)
	}
	var dockerfile *Dockerfile
	if in.Dockerfile != "" {
		if dockerfile, err = ReadDockerfile(in.Dockerfile, s.Action.Getenv("GITHUB_WORKSPACE")); err != nil {
			return fmt.Errorf(`input "dockerfile": %w`, err)
		}
	}
	if ws := s.Action.Getenv("GITHUB_WORKSPACE"); ws != "" && !slices.ContainsFunc(in.IgnoreFiles, isTrivyIgnore) {
		if _, err := os.Stat(filepath.Join(ws, ".trivyignore")); err == nil {
			s.Warningf(`.trivyignore is not read: trivy reads it by default, this scan only through "ignore-file" (add .trivyignore to it to apply it)`)
		}
	}
	if in.DBDir != "" {
		if info, err := os.Stat(in.DBDir); err != nil || !info.IsDir() {
			return fmt.Errorf(`input "db-dir": %q is not a directory (want the OSV bucket's layout: <Ecosystem>/all.zip)`, in.DBDir)
		}
	}
	cache := defaultCache(s.Action.Getenv)
	imgs, err := ReadImages(ctx, in.Image, in.Platforms, layerCacheDir(cache))
	if err != nil {
		return err
	}
	db := NewDatabase(in.DBDir, in.DBURL, in.Offline, cache)
	multi := len(imgs) > 1
	reps := make([]*Report, len(imgs))
	for i, img := range imgs {
		for _, n := range img.Notes {
			s.Infof("%s", n)
		}
		warn := s.Warningf
		if multi {
			warn = func(format string, a ...any) { s.Warningf("%s: %s", img.Platform, fmt.Sprintf(format, a...)) }
		}
		if reps[i], err = assess(ctx, db, img, policy, in, now, warn); err != nil {
			return err
		}
	}
	for _, w := range ignoreWarnings(reps) {
		s.Warningf("%s", w)
	}
	files, err := WriteReports(in.OutputDir, imgs, reps, ReportOptions{SBOMFormat: in.SBOMFormat, SARIFCategory: in.SARIFCategory,
		Dockerfile: dockerfile, Now: now})
	if err != nil {
		return err
	}
	g, counts := combine(reps)
	if err := setOutputs(s, files, counts, g.Passed); err != nil {
		return err
	}
	var sum strings.Builder
	for i, img := range imgs {
		sum.WriteString(summary(img, reps[i], multi))
	}
	if err := s.Summary(sum.String()); err != nil {
		return err
	}
	if !g.Passed {
		return fmt.Errorf("gate failed (fail-on: %s, fail-on-secrets: %t, fail-on-unassessed: %s): %s", in.FailOn, in.FailOnSecrets, in.FailOnUnassessed, g.Reason)
	}
	return nil
}

// assess matches one platform image's packages, judges its findings and secrets, and applies the coverage to
// the gate; what it could not do is a warning (the ignore file's are said once for all images: ignoreWarnings).
func assess(ctx context.Context, db Database, img *Image, policy Policy, in *Inputs, now time.Time, warn func(string, ...any)) (*Report, error) {
	for _, w := range img.Warnings {
		warn("%s", w)
	}
	_, unknownOS := img.Distro.Assessable()
	findings, coverage, err := Match(ctx, db, img.Packages, unknownOS, warn)
	if err != nil {
		return nil, err
	}
	coverage = withUnread(uncatalogued(coverage, img.Distro), img.Unread)
	for _, c := range coverage {
		if !c.Assessed {
			warn("%s not assessed: %s", packagesOf(c), c.Reason)
		}
	}
	g, warnings := Judge(findings, img.Secrets, policy, now)
	applyCoverage(&g, coverage, in.FailOnUnassessed)
	return &Report{Image: in.Image, Digest: img.Digest, Platform: img.Platform, Packages: img.Packages, Findings: findings,
		Secrets: img.Secrets, Counts: countBySeverity(findings), Gate: g, Distro: img.Distro, Coverage: coverage,
		IgnoreWarnings: warnings}, nil
}

// ignoreWarnings are the ignore file's warnings every platform image gave: an entry that expired, or that
// matched nothing in any of them, said once (an entry for one platform's package is not stale).
func ignoreWarnings(reps []*Report) []string {
	var out []string
	for _, w := range reps[0].IgnoreWarnings {
		if !slices.ContainsFunc(reps[1:], func(r *Report) bool { return !slices.Contains(r.IgnoreWarnings, w) }) {
			out = append(out, w)
		}
	}
	return out
}

// combine is the verdict on every platform image of the input, each failing one named in the reason, and the
// findings per severity counted once however many platform images have them.
func combine(reps []*Report) (Gate, map[string]int) {
	if len(reps) == 1 {
		return reps[0].Gate, reps[0].Counts
	}
	g := Gate{Passed: true, FailOn: reps[0].Gate.FailOn}
	var failed, passed []string
	distinct := map[string]Finding{}
	for _, r := range reps {
		if r.Gate.Passed {
			passed = append(passed, r.Platform)
		} else {
			g.Passed = false
			failed = append(failed, r.Platform+": "+r.Gate.Reason)
		}
		for _, f := range r.Findings {
			distinct[f.ID+"\x00"+vulnPrint(f)] = f
		}
	}
	if g.Passed {
		g.Reason = fmt.Sprintf("every platform image passed (%s): %s", strings.Join(passed, ", "), reps[0].Gate.Reason)
	} else {
		g.Reason = strings.Join(failed, "; ")
	}
	var all []Finding
	for _, f := range distinct {
		all = append(all, f)
	}
	return g, countBySeverity(all)
}

func setOutputs(s *actionio.Step, files *Reports, counts map[string]int, passed bool) error {
	countsJSON, _ := json.Marshal(counts)
	verdict := "passed"
	if !passed {
		verdict = "failed"
	}
	for _, o := range [][2]string{{"sbom", strings.Join(files.SBOMs, "\n")}, {"sarif", files.SARIF}, {"report", strings.Join(files.Reports, "\n")},
		{"counts", string(countsJSON)}, {"gate", verdict}} {
		if err := s.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}

// summary is the step summary of one platform image: the gate, counts per ecosystem and severity, the top
// findings, the secrets. The heading names the platform when the input held several.
func summary(img *Image, rep *Report, multi bool) string {
	var b strings.Builder
	verdict := "✅ passed"
	if !rep.Gate.Passed {
		verdict = "❌ failed"
	}
	title := "`" + img.Name + "`"
	if multi {
		title += " for " + orUnknown(img.Platform)
	}
	fmt.Fprintf(&b, "## Scan of %s\n\nGate %s: %s.\n\n", title, verdict, rep.Gate.Reason)
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
