package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/github"
	"github.com/infinite-scribe/scribe-actions/templates"
)

// driftCommand is `gen-workflows drift [flags] [PATH...]`.
func driftCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("drift", flag.ContinueOnError)
	fl.SetOutput(stderr)
	format := fl.String("format", "table", "output: table, json, sarif, github (annotations) or markdown")
	failOn := fl.String("fail-on", "error", "exit 1 when a finding is at least this severe: error, warning, note or none")
	offline := fl.Bool("offline", false, "use only the lock file and the local cache; say what could not be checked")
	apiURL := fl.String("api-url", "", "GitHub REST API root (default: $GITHUB_API_URL, else https://api.github.com)")
	cacheDir := fl.String("cache-dir", "", "on-disk API cache (default: the user cache dir)/scribe-actions/github")
	lockPath := fl.String("lock", "actions.lock.yaml", "lock file consulted offline (the embedded default when missing)")
	concurrency := fl.Int("concurrency", 8, "API requests at once")
	maxWait := fl.Duration("max-wait", time.Minute, "longest wait for a rate-limit reset before giving up")
	org := fl.String("org", "", "audit every repository of this organisation (its .github/workflows, through the API)")
	reposFile := fl.String("repos", "", "audit the repositories listed in this file, one owner/repo a line")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if !slices.Contains(driftFormats, *format) {
		fmt.Fprintf(stderr, "gen-workflows drift: --format %q is not one of %v\n", *format, driftFormats)
		return exitUsage
	}
	if _, ok := severityRank[*failOn]; !ok && *failOn != "none" {
		fmt.Fprintf(stderr, "gen-workflows drift: --fail-on %q is not one of error, warning, note, none\n", *failOn)
		return exitUsage
	}
	client, transport, err := newClient(getenv, *apiURL, *cacheDir, *offline, *maxWait)
	if err != nil {
		fmt.Fprintf(stderr, "gen-workflows drift: --api-url: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gen-workflows drift: %v\n", err)
		return exitFail
	}
	paths := fl.Args()
	remote := ""
	if *org != "" || *reposFile != "" {
		if *offline {
			fmt.Fprintln(stderr, "gen-workflows drift: --org and --repos read repositories through the API: not with --offline")
			return exitUsage
		}
		repos, err := reposToAudit(ctx, client, *org, *reposFile)
		if err != nil {
			return fail(err)
		}
		if remote, err = os.MkdirTemp("", "scribe-drift-"); err != nil {
			return fail(err)
		}
		defer os.RemoveAll(remote)
		if err := fetchWorkflows(ctx, client, repos, remote, *concurrency); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "gen-workflows drift: read the workflows of %d repositories\n", len(repos))
		paths = []string{remote}
	}
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	uses, err := FindUses(paths)
	if err != nil {
		return fail(err)
	}
	lockData, err := os.ReadFile(*lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		lockData, err = fs.ReadFile(templates.FS, "actions.lock.yaml")
	}
	var lock *actionref.Lock
	if err == nil {
		lock, err = actionref.ReadLock(*lockPath, lockData)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gen-workflows drift: %v\n", err)
		return exitFail
	}
	cat, err := loadCatalogue()
	if err != nil {
		fmt.Fprintf(stderr, "gen-workflows drift: %v\n", err)
		return exitFail
	}
	a := &Auditor{Client: client, Lock: lock, Catalogue: cat, Now: time.Now(), Concurrency: *concurrency}
	rep, err := a.Audit(ctx, uses)
	if err != nil {
		return fail(err)
	}
	if remote != "" {
		rep.countRepositories(uses, func(file string) string { return repositoryOf(remote, file) })
		remoteNames(remote, rep)
	}
	if err := rep.write(stdout, *format); err != nil {
		fmt.Fprintf(stderr, "gen-workflows drift: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stderr, "gen-workflows drift: %d API requests (%d answered 304 from the ETag cache), %d served from the cache\n",
		transport.Stats.Requests.Load(), transport.Stats.NotModified.Load(), transport.Stats.CacheHits.Load())
	if summary := getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		if f, err := os.OpenFile(summary, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
			rep.writeMarkdown(f)
			f.Close()
		}
	}
	if *failOn != "none" {
		for _, d := range rep.Drifts {
			if severityRank[d.Severity] >= severityRank[*failOn] {
				return exitFail
			}
		}
	}
	return exitOK
}

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

// newClient is the GitHub client of drift and pin: the API from --api-url or GITHUB_API_URL, GITHUB_TOKEN or
// GH_TOKEN, the cache in --cache-dir or the user's cache folder.
func newClient(getenv func(string) string, apiURL, cacheDir string, offline bool, maxWait time.Duration) (*gh.Client, *github.Transport, error) {
	if apiURL == "" {
		apiURL = getenv("GITHUB_API_URL")
	}
	if cacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(dir, "scribe-actions", "github")
		}
	}
	return github.New(github.Options{BaseURL: apiURL, Token: github.TokenFromEnv(getenv), CacheDir: cacheDir, Offline: offline, MaxWait: maxWait})
}
