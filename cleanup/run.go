package cleanup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Run plans the retention of each package (the repository's, when packages is empty) and, unless dry-run,
// applies it.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	if len(in.Packages) == 0 {
		pkg, err := RepositoryPackage(s.Action.Getenv)
		if err != nil {
			return err
		}
		in.Packages = []string{pkg}
		s.Infof("packages not given: cleaning package %q, the repository's name (GITHUB_REPOSITORY=%s)", pkg, s.Action.Getenv("GITHUB_REPOSITORY"))
	}
	rules, err := in.Rules(time.Now())
	if err != nil {
		return err
	}
	owner, client, err := Connect(in, s.Action.Getenv)
	if err != nil {
		return err
	}
	backends, err := Backends(in, owner, client)
	if err != nil {
		return err
	}
	var reports []Report
	var errs []error
	var md strings.Builder
	for _, b := range backends {
		res, err := CleanPackage(ctx, b, rules, in.DryRun, in.Validate)
		if err != nil {
			return err
		}
		for _, w := range res.Warnings {
			s.Warningf("%s", w)
		}
		if res.Report != nil {
			reports = append(reports, *res.Report)
		}
		md.WriteString(res.Summary)
		errs = append(errs, res.Errs...)
	}
	planPath, err := SavePlan(s.Action.Getenv("RUNNER_TEMP"), reports)
	if err != nil {
		return err
	}
	deleted, kept, failed := Count(reports)
	for _, o := range [][2]string{{"deleted", fmt.Sprint(deleted)}, {"kept", fmt.Sprint(kept)}, {"failed", fmt.Sprint(failed)}, {"plan", planPath}} {
		if err := s.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	if err := s.Summary(md.String()); err != nil {
		return err
	}
	return errors.Join(errs...)
}
