package cleanup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	gh "github.com/google/go-github/v62/github"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// Run plans the retention of each package and, unless dry-run, applies it.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	useAPI := in.PackagesAPI == "github" || in.PackagesAPI == "auto" && in.Registry == "ghcr.io"
	owner := in.Owner
	if owner == "" {
		owner = s.Action.Getenv("GITHUB_REPOSITORY_OWNER")
	}
	if useAPI && owner == "" {
		return errors.New(`input "owner" is required with the GitHub Packages API (the runner's GITHUB_REPOSITORY_OWNER is not set)`)
	}
	var client *gh.Client
	if useAPI {
		token := in.Token
		if token == "" {
			token = github.TokenFromEnv(s.Action.Getenv)
		}
		var err error
		if client, _, err = github.New(github.Options{BaseURL: s.Action.Getenv("GITHUB_API_URL"), Token: token, MaxWait: time.Minute}); err != nil {
			return err
		}
	}
	rules := Rules{KeepNTagged: in.KeepNTagged, KeepNUntagged: in.KeepNUntagged, OlderThan: in.OlderThan, DeleteTags: in.DeleteTags,
		ExcludeTags: in.ExcludeTags, UseRegex: in.UseRegex, DeleteUntagged: in.DeleteUntagged, DeleteOrphans: in.DeleteOrphans,
		DeleteGhosts: in.DeleteGhosts, DeletePartials: in.DeletePartials, Now: time.Now()}
	if _, err := compile(append(append([]string{}, rules.DeleteTags...), rules.ExcludeTags...), rules.UseRegex); err != nil {
		return fmt.Errorf(`inputs "delete-tags"/"exclude-tags": %w`, err)
	}
	var backends []Backend
	for _, pkg := range in.Packages {
		path := pkg
		if owner != "" {
			path = owner + "/" + pkg
		}
		repo, err := name.NewRepository(in.Registry + "/" + strings.ToLower(path))
		if err != nil {
			return fmt.Errorf(`input "packages": %q: %w`, pkg, err)
		}
		if useAPI {
			backends = append(backends, NewGHCR(client, repo, owner, pkg))
		} else {
			backends = append(backends, NewOCI(repo))
		}
	}

	type report struct {
		Package string   `json:"package"`
		DryRun  bool     `json:"dry_run"`
		Plan    *Plan    `json:"plan"`
		Outcome *Outcome `json:"outcome,omitempty"`
	}
	var reports []report
	var deleted, kept, failed int
	var errs []error
	var md strings.Builder
	for _, b := range backends {
		repo := b.Repository()
		versions, err := b.Versions(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g, err := BuildGraph(ctx, b, versions)
		if err != nil {
			errs = append(errs, err) // fail closed: nothing deleted for this package
			continue
		}
		p, err := MakePlan(g, rules)
		if err != nil {
			return err
		}
		rep := report{Package: repo.String(), DryRun: in.DryRun, Plan: p}
		kept += len(p.Keep)
		if in.DryRun {
			deleted += len(p.Delete)
		} else {
			out, err := Apply(ctx, b, g, versions, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", repo, err))
				reports = append(reports, rep)
				continue
			}
			rep.Outcome = out
			deleted += len(out.Deleted)
			failed += len(out.Failed)
			for _, f := range out.Failed {
				errs = append(errs, fmt.Errorf("%s: deleting %s: %s", repo, f.Digest, f.Error))
			}
			for _, f := range out.UntagFailed {
				s.Warningf("%s: tag not removed: %s", repo, f)
			}
			for _, n := range out.NeedsSupport {
				s.Warningf("%s: %s is public with more than 5,000 downloads: only GitHub Support can delete it", repo, n.Digest)
			}
			if in.Validate {
				if err := Validate(ctx, b, g, p); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", repo, err))
				}
			}
		}
		reports = append(reports, rep)
		writePlanMarkdown(&md, repo.String(), p, rep.Outcome, in.DryRun)
	}
	planPath := filepath.Join(os.TempDir(), fmt.Sprintf("scribe-cleanup-plan-%d.json", time.Now().UnixNano()))
	if dir := s.Action.Getenv("RUNNER_TEMP"); dir != "" {
		planPath = filepath.Join(dir, "scribe-cleanup-plan.json")
	}
	data, _ := json.MarshalIndent(reports, "", "  ")
	if err := os.WriteFile(planPath, data, 0o644); err != nil {
		return err
	}
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
