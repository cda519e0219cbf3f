package cleanup

import (
	"context"
	"fmt"
	"strings"
)

// Result is the cleanup of one package: what goes in the plan JSON, the step summary and the log, and what
// went wrong without stopping the other packages.
type Result struct {
	Report   *Report  // nil when the package could not be read
	Summary  string   // markdown; empty when the package could not be read or the plan could not be applied
	Warnings []string // releases deleted without exclude-tags, named versions refused, tags not removed, versions only GitHub Support can delete
	Errs     []error  // fail the step once every package is done
}

// CleanPackage reads a package's graph, plans its retention and, unless dryRun, applies the plan and, with
// validate, pulls what it kept again. A package that cannot be read whole gets no plan and loses nothing
// (fail closed). The error is for a plan that cannot be made at all, which stops the whole run.
func CleanPackage(ctx context.Context, b Backend, rules Rules, dryRun, validate bool) (*Result, error) {
	versions, err := b.Versions(ctx)
	if err != nil {
		return &Result{Errs: []error{err}}, nil
	}
	g, err := BuildGraph(ctx, b, versions)
	if err != nil {
		return &Result{Errs: []error{err}}, nil // fail closed: nothing deleted for this package
	}
	repo := b.Repository()
	p, err := MakePlan(g, rules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", repo, err)
	}
	res := &Result{Report: &Report{Package: repo.String(), DryRun: dryRun, Plan: p}}
	if w := releaseWarning(repo.String(), p, rules); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	for _, d := range p.Refused {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: version %d (%s) is not deleted: %s", repo, d.ID, d.Digest, d.Reason))
	}
	if !dryRun {
		out, err := Apply(ctx, b, g, versions, p)
		if err != nil {
			res.Errs = append(res.Errs, fmt.Errorf("%s: %w", repo, err))
			return res, nil
		}
		res.Report.Outcome = out
		errs, warnings := problems(repo.String(), out)
		res.Errs, res.Warnings = append(res.Errs, errs...), append(res.Warnings, warnings...)
		if validate {
			if err := Validate(ctx, b, g, p); err != nil {
				res.Errs = append(res.Errs, fmt.Errorf("%s: %w", repo, err))
			}
		}
	}
	var md strings.Builder
	writePlanMarkdown(&md, repo.String(), p, res.Report.Outcome, dryRun)
	res.Summary = md.String()
	return res, nil
}

// problems are what applying a plan to repo left undone: failed deletions fail the step; a tag not removed and
// a version only GitHub Support can delete are warnings.
func problems(repo string, out *Outcome) (errs []error, warnings []string) {
	for _, f := range out.Failed {
		errs = append(errs, fmt.Errorf("%s: deleting %s: %s", repo, f.Digest, f.Error))
	}
	for _, f := range out.UntagFailed {
		warnings = append(warnings, fmt.Sprintf("%s: tag not removed: %s", repo, f))
	}
	for _, n := range out.NeedsSupport {
		warnings = append(warnings, fmt.Sprintf("%s: %s is public with more than 5,000 downloads: only GitHub Support can delete it", repo, n.Digest))
	}
	return errs, warnings
}
