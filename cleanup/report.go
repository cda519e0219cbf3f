package cleanup

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is the plan JSON's entry for one package: its plan and, when it was applied, what happened.
type Report struct {
	Package string   `json:"package"`
	DryRun  bool     `json:"dry_run"`
	Plan    *Plan    `json:"plan"`
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Count totals the reports for the action's outputs: versions deleted (that would be, in a dry run), kept,
// and failed to delete. A plan that could not be applied deletes nothing, and keeps what it planned to keep.
func Count(reports []Report) (deleted, kept, failed int) {
	for _, r := range reports {
		kept += len(r.Plan.Keep)
		switch {
		case r.DryRun:
			deleted += len(r.Plan.Delete)
		case r.Outcome != nil:
			deleted += len(r.Outcome.Deleted)
			failed += len(r.Outcome.Failed)
		}
	}
	return deleted, kept, failed
}

// SavePlan writes the reports as the plan JSON (with GHCR version ids, for a restore within 30 days) to
// RUNNER_TEMP on a runner, else to a new file in the system's temporary directory, and returns its path.
func SavePlan(runnerTemp string, reports []Report) (string, error) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("scribe-cleanup-plan-%d.json", time.Now().UnixNano()))
	if runnerTemp != "" {
		path = filepath.Join(runnerTemp, "scribe-cleanup-plan.json")
	}
	data, _ := json.MarshalIndent(reports, "", "  ")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// writePlanMarkdown writes one package's step summary: what is deleted (or would be) and why, the versions
// package-version-ids names that a kept image needs, the tags removed, what failed or was not attempted, and what is kept and why.
func writePlanMarkdown(b *strings.Builder, repo string, p *Plan, out *Outcome, dryRun bool) {
	verb := "Deleted"
	if dryRun {
		verb = "Would delete (dry run)"
	}
	fmt.Fprintf(b, "## Cleanup of `%s`\n\n%s %d, keep %d.\n\n", repo, verb, len(p.Delete), len(p.Keep))
	if len(p.Delete) > 0 {
		b.WriteString("| version | kind | tags | why |\n| --- | --- | --- | --- |\n")
		for _, d := range p.Delete {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", short(d.Digest), d.Kind, strings.Join(d.Tags, ", "), d.Reason)
		}
	}
	for _, r := range p.Refused {
		fmt.Fprintf(b, "\nNot deleted, although package-version-ids names it: version %d `%s`: %s\n", r.ID, short(r.Digest), strings.TrimPrefix(r.Reason, namedReason+", refused: "))
	}
	for _, u := range p.Untag {
		fmt.Fprintf(b, "\nRemove tag `%s` from `%s` (its other tags stay).\n", u.Tag, short(u.Digest))
	}
	if out != nil {
		for _, f := range out.UntagFailed {
			fmt.Fprintf(b, "\nTag not removed: %s\n", f)
		}
		for _, f := range out.Failed {
			fmt.Fprintf(b, "\nFailed: `%s`: %s\n", short(f.Digest), f.Error)
		}
		for _, sk := range out.Skipped {
			fmt.Fprintf(b, "\nNot attempted (an index listing it failed to delete): `%s`\n", short(sk.Digest))
		}
	}
	b.WriteString("\n| kept | kind | tags | why |\n| --- | --- | --- | --- |\n")
	for _, k := range p.Keep {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", short(k.Digest), k.Kind, strings.Join(k.Tags, ", "), k.Reason)
	}
}
