package drift

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	gh "github.com/google/go-github/v62/github"
	"golang.org/x/sync/errgroup"
)

// reposToAudit lists the repositories of --org, or reads them from --repos.
func reposToAudit(ctx context.Context, c *gh.Client, org, file string) ([]string, error) {
	if org != "" {
		return listOrgRepos(ctx, c, org)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var repos []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Count(line, "/") != 1 {
			return nil, fmt.Errorf("%s:%d: %q is not owner/repo", file, i+1, line)
		}
		repos = append(repos, line)
	}
	return repos, nil
}

// listOrgRepos lists an organisation's repositories.
func listOrgRepos(ctx context.Context, c *gh.Client, org string) ([]string, error) {
	var repos []string
	opts := &gh.RepositoryListByOrgOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.Repositories.ListByOrg(ctx, org, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of %s: %w", org, err)
		}
		for _, r := range page {
			if !r.GetArchived() {
				repos = append(repos, r.GetFullName())
			}
		}
		if resp.NextPage == 0 {
			return repos, nil
		}
		opts.Page = resp.NextPage
	}
}

// fetchWorkflows downloads each repository's .github/workflows files through the contents API into
// dir/<owner>__<repo>/, a few repositories at a time. A repository without workflows is skipped.
func fetchWorkflows(ctx context.Context, c *gh.Client, repos []string, dir string, concurrency int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(concurrency, 1))
	for _, repo := range repos {
		g.Go(func() error { return fetchRepo(ctx, c, repo, dir) })
	}
	return g.Wait()
}

func fetchRepo(ctx context.Context, c *gh.Client, repo, dir string) error {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return fmt.Errorf("%q is not owner/repo", repo)
	}
	_, list, _, err := c.Repositories.GetContents(ctx, owner, name, ".github/workflows", nil)
	if apiStatus(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", repo, err)
	}
	local := filepath.Join(dir, owner+"__"+name)
	if err := os.MkdirAll(local, 0o755); err != nil {
		return err
	}
	for _, f := range list {
		if f.GetType() != "file" || !(strings.HasSuffix(f.GetName(), ".yml") || strings.HasSuffix(f.GetName(), ".yaml")) {
			continue
		}
		file, _, _, err := c.Repositories.GetContents(ctx, owner, name, f.GetPath(), nil)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", repo, f.GetPath(), err)
		}
		content, err := file.GetContent()
		if err != nil {
			return fmt.Errorf("%s/%s: %w", repo, f.GetPath(), err)
		}
		if err := os.WriteFile(filepath.Join(local, f.GetName()), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// remoteNames rewrites the positions of findings read from fetched files to owner/repo/.github/workflows/....
func remoteNames(dir string, rep *Report) {
	rename := func(u *Use) {
		rel, err := filepath.Rel(dir, u.File)
		if err != nil {
			return
		}
		first, rest, ok := strings.Cut(filepath.ToSlash(rel), "/")
		owner, name, ok2 := strings.Cut(first, "__")
		if ok && ok2 {
			u.File = owner + "/" + name + "/.github/workflows/" + rest
		}
	}
	for i := range rep.Drifts {
		rename(&rep.Drifts[i].Use)
	}
}

// repositoryOf is the owner/repo of a reference's file in an org audit ("" for a local audit).
func repositoryOf(dir, file string) string {
	rel, err := filepath.Rel(dir, file)
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	owner, name, ok := strings.Cut(first, "__")
	if !ok {
		return ""
	}
	return owner + "/" + name
}
