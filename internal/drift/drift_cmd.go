package drift

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
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/templates"
)

// driftOptions are the flags and paths of `gen-workflows drift`.
type driftOptions struct {
	format, failOn   string
	offline          bool
	apiURL, cacheDir string
	lockPath         string
	concurrency      int
	maxWait          time.Duration
	org, reposFile   string
	paths            []string
}

// Command is `gen-workflows drift [flags] [PATH...]`: it audits the workflows and composite actions under the
// paths (or of the repositories of --org or --repos), writes the report and returns the process exit code.
func Command(args []string, env actionio.Env) int {
	o, code := parseDriftFlags(args, env.Stderr)
	if o == nil {
		return code
	}
	client, transport, err := newClient(env.Getenv, o.apiURL, o.cacheDir, o.offline, o.maxWait)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows drift: --api-url: %v\n", err)
		return actionio.ExitUsage
	}
	if o.remote() && o.offline {
		fmt.Fprintln(env.Stderr, "gen-workflows drift: --org and --repos read repositories through the API: not with --offline")
		return actionio.ExitUsage
	}
	rep, err := o.audit(context.Background(), client, env.Stderr)
	if err == nil {
		err = rep.write(env.Stdout, o.format)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows drift: %v\n", err)
		return actionio.ExitFail
	}
	fmt.Fprintf(env.Stderr, "gen-workflows drift: %d API requests (%d answered 304 from the ETag cache), %d served from the cache\n",
		transport.Stats.Requests.Load(), transport.Stats.NotModified.Load(), transport.Stats.CacheHits.Load())
	if summary := env.Getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		if f, err := os.OpenFile(summary, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
			rep.writeMarkdown(f)
			f.Close()
		}
	}
	if o.fails(rep) {
		return actionio.ExitFail
	}
	return actionio.ExitOK
}

// parseDriftFlags reads the flags; on -h, or a flag or value that is wrong, it returns no options and the
// exit code.
func parseDriftFlags(args []string, stderr io.Writer) (*driftOptions, int) {
	o := &driftOptions{}
	fl := flag.NewFlagSet("drift", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.format, "format", "table", "output: table, json, sarif, github (annotations) or markdown")
	fl.StringVar(&o.failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: error, warning, note or none")
	fl.BoolVar(&o.offline, "offline", false, "use only the lock file and the local cache; say what could not be checked")
	fl.StringVar(&o.apiURL, "api-url", "", "GitHub REST API root (default: $GITHUB_API_URL, else https://api.github.com)")
	fl.StringVar(&o.cacheDir, "cache-dir", "", "on-disk API cache (default: the user cache dir)/scribe-actions/github")
	fl.StringVar(&o.lockPath, "lock", "actions.lock.yaml", "lock file consulted offline (the embedded default when missing)")
	fl.IntVar(&o.concurrency, "concurrency", 8, "API requests at once")
	fl.DurationVar(&o.maxWait, "max-wait", time.Minute, "longest wait for a rate-limit reset before giving up")
	fl.StringVar(&o.org, "org", "", "audit every repository of this organisation (its .github/workflows, through the API)")
	fl.StringVar(&o.reposFile, "repos", "", "audit the repositories listed in this file, one owner/repo a line")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, actionio.ExitOK
		}
		return nil, actionio.ExitUsage
	}
	if !slices.Contains(driftFormats, o.format) {
		fmt.Fprintf(stderr, "gen-workflows drift: --format %q is not one of %v\n", o.format, driftFormats)
		return nil, actionio.ExitUsage
	}
	if _, ok := severityRank[o.failOn]; !ok && o.failOn != "none" {
		fmt.Fprintf(stderr, "gen-workflows drift: --fail-on %q is not one of error, warning, note, none\n", o.failOn)
		return nil, actionio.ExitUsage
	}
	o.paths = fl.Args()
	return o, actionio.ExitOK
}

// remote reports an audit of repositories read through the API (--org or --repos) rather than of local files.
func (o *driftOptions) remote() bool { return o.org != "" || o.reposFile != "" }

// audit finds the references to audit, local or fetched, and audits them with the lock file and the
// deprecations catalogue.
func (o *driftOptions) audit(ctx context.Context, client *gh.Client, stderr io.Writer) (*Report, error) {
	paths, remote := o.paths, ""
	if o.remote() {
		var err error
		if remote, err = o.fetch(ctx, client, stderr); err != nil {
			return nil, err
		}
		defer os.RemoveAll(remote)
		paths = []string{remote}
	}
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	uses, err := FindUses(paths)
	if err != nil {
		return nil, err
	}
	lock, err := readLock(o.lockPath)
	if err != nil {
		return nil, err
	}
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	a := &Auditor{Client: client, Lock: lock, Catalogue: cat, Now: time.Now(), Concurrency: o.concurrency}
	rep, err := a.Audit(ctx, uses)
	if err != nil {
		return nil, err
	}
	if remote != "" {
		rep.countRepositories(uses, func(file string) string { return repositoryOf(remote, file) })
		remoteNames(remote, rep)
	}
	return rep, nil
}

// fetch reads the workflows of the repositories of --org or --repos into a new temporary folder, which the
// caller removes.
func (o *driftOptions) fetch(ctx context.Context, client *gh.Client, stderr io.Writer) (string, error) {
	repos, err := reposToAudit(ctx, client, o.org, o.reposFile)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "scribe-drift-")
	if err != nil {
		return "", err
	}
	if err := fetchWorkflows(ctx, client, repos, dir, o.concurrency); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	fmt.Fprintf(stderr, "gen-workflows drift: read the workflows of %d repositories\n", len(repos))
	return dir, nil
}

// readLock reads the lock file consulted offline, or the embedded default when there is no such file.
func readLock(path string) (*actionref.Lock, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = fs.ReadFile(templates.FS, "actions.lock.yaml")
	}
	if err != nil {
		return nil, err
	}
	return actionref.ReadLock(path, data)
}

// fails reports a finding at least as severe as --fail-on.
func (o *driftOptions) fails(rep *Report) bool {
	if o.failOn == "none" {
		return false
	}
	for _, d := range rep.Drifts {
		if severityRank[d.Severity] >= severityRank[o.failOn] {
			return true
		}
	}
	return false
}
