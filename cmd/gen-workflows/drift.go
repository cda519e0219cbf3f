package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v62/github"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// The kinds of drift, and their severities.
const (
	KindUnpinned        = "unpinned"
	KindCommentMismatch = "comment-mismatch"
	KindImprecise       = "imprecise-comment"
	KindDeprecated      = "deprecated"
	KindBehind          = "behind"
	KindInconsistent    = "inconsistent"
	KindUnknownRef      = "unknown-ref"

	SevError   = "error"
	SevWarning = "warning"
	SevNote    = "note"
)

// runtimeCheck names the deprecated-runtime check in the list of what could not be checked.
const runtimeCheck = "deprecated (runtime)"

var severityRank = map[string]int{SevNote: 1, SevWarning: 2, SevError: 3}

// Drift is one finding of the audit, at a uses: line.
type Drift struct {
	Use      Use
	Kind     string
	Severity string
	Message  string
}

func (d Drift) String() string { return fmt.Sprintf("%s: %s [%s]", d.Use.Pos(), d.Message, d.Kind) }

// Report is the result of an audit.
type Report struct {
	Drifts     []Drift
	References int
	// NotChecked counts, per kind, the references that kind could not be checked for (offline, no cache).
	NotChecked map[string]int
	// Versions counts, per action, the refs in use (as written, with their comment) and how many references use each.
	Versions map[string]map[string]int
	// Repositories counts, in an org audit, per action and ref, how many repositories use it.
	Repositories map[string]map[string]int
}

// countRepositories fills Repositories: for each action and ref in use, the number of repositories using it.
func (rep *Report) countRepositories(uses []Use, repoOf func(file string) string) {
	seen := map[[3]string]bool{}
	rep.Repositories = map[string]map[string]int{}
	for _, u := range uses {
		if u.Kind != "action" && u.Kind != "workflow" || u.Ref.Owner == "" {
			continue
		}
		k := [3]string{u.Ref.Action(), variant(u), repoOf(u.File)}
		if seen[k] {
			continue
		}
		seen[k] = true
		if rep.Repositories[k[0]] == nil {
			rep.Repositories[k[0]] = map[string]int{}
		}
		rep.Repositories[k[0]][k[1]]++
	}
}

//go:embed deprecations.yaml
var deprecationsYAML []byte

type catalogue struct {
	Actions []struct {
		Action string `yaml:"action"`
		From   string `yaml:"from"`
		Below  string `yaml:"below"`
		Date   string `yaml:"date"`
		Reason string `yaml:"reason"`
	} `yaml:"actions"`
	Runtimes map[string]struct {
		Date   string `yaml:"date"`
		Reason string `yaml:"reason"`
	} `yaml:"runtimes"`
}

func loadCatalogue() (*catalogue, error) {
	var c catalogue
	if err := yaml.Unmarshal(deprecationsYAML, &c); err != nil {
		return nil, fmt.Errorf("deprecations.yaml: %w", err)
	}
	return &c, nil
}

// Auditor checks references against their repositories through the GitHub API (or its cache, offline).
type Auditor struct {
	Client      *gh.Client
	Lock        *actionref.Lock // offline help: a lock entry's version resolves to its sha
	Catalogue   *catalogue
	Now         time.Time
	Concurrency int

	memo sync.Map
}

type memoEntry struct {
	once sync.Once
	val  any
	err  error
}

// once computes f once per key, however many references ask at the same time: one request per unique
// (repository, ref).
func (a *Auditor) once(key string, f func() (any, error)) (any, error) {
	e, _ := a.memo.LoadOrStore(key, &memoEntry{})
	m := e.(*memoEntry)
	m.once.Do(func() { m.val, m.err = f() })
	return m.val, m.err
}

type commitInfo struct {
	SHA  string
	Date time.Time
}

// errNotFound is a repository or ref the API does not know.
type errNotFound struct{ what string }

func (e errNotFound) Error() string { return e.what }

func apiStatus(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// commit resolves a tag (annotated tags peeled), branch or SHA to its commit.
func (a *Auditor) commit(ctx context.Context, r actionref.Ref, ref string) (commitInfo, error) {
	v, err := a.once("commit "+r.Repository()+"@"+ref, func() (any, error) {
		c, _, err := a.Client.Repositories.GetCommit(ctx, r.Owner, r.Repo, ref, nil)
		if errors.Is(err, github.ErrOffline) && a.Lock != nil {
			if p, ok := a.Lock.Pins[r.Repository()]; ok && (p.Version == ref || p.SHA == ref) {
				return commitInfo{SHA: p.SHA}, nil
			}
		}
		if err != nil {
			switch apiStatus(err) {
			case http.StatusNotFound:
				return nil, errNotFound{fmt.Sprintf("%s: no repository %s, or no access to it", r.Repository(), r.Repository())}
			case http.StatusUnprocessableEntity:
				return nil, errNotFound{fmt.Sprintf("%s has no tag, branch or commit %q", r.Repository(), ref)}
			}
			return nil, err
		}
		return commitInfo{SHA: c.GetSHA(), Date: c.GetCommit().GetCommitter().GetDate().Time}, nil
	})
	if err != nil {
		return commitInfo{}, err
	}
	return v.(commitInfo), nil
}

// tagsAt lists the tags of a repository that point to a commit.
func (a *Auditor) tagsAt(ctx context.Context, r actionref.Ref, sha string) ([]string, error) {
	all, err := a.tags(ctx, r)
	return all[sha], err
}

// tags lists every tag of a repository by the commit it points to (the tags API gives peeled commits).
func (a *Auditor) tags(ctx context.Context, r actionref.Ref) (map[string][]string, error) {
	v, err := a.once("tags "+r.Repository(), func() (any, error) {
		bySHA := map[string][]string{}
		opts := &gh.ListOptions{PerPage: 100}
		for {
			tags, resp, err := a.Client.Repositories.ListTags(ctx, r.Owner, r.Repo, opts)
			if err != nil {
				return nil, err
			}
			for _, t := range tags {
				bySHA[t.GetCommit().GetSHA()] = append(bySHA[t.GetCommit().GetSHA()], t.GetName())
			}
			if resp.NextPage == 0 {
				return bySHA, nil
			}
			opts.Page = resp.NextPage
		}
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string][]string), nil
}

type release struct {
	Tag  string
	Date time.Time
}

func (a *Auditor) latest(ctx context.Context, r actionref.Ref) (release, error) {
	v, err := a.once("latest "+r.Repository(), func() (any, error) {
		rel, _, err := a.Client.Repositories.GetLatestRelease(ctx, r.Owner, r.Repo)
		if err != nil {
			return nil, err
		}
		return release{Tag: rel.GetTagName(), Date: rel.GetPublishedAt().Time}, nil
	})
	if err != nil {
		return release{}, err
	}
	return v.(release), nil
}

// runtime reads runs.using of the action's action.yml (or action.yaml) at a commit.
func (a *Auditor) runtime(ctx context.Context, r actionref.Ref, sha string) (string, error) {
	v, err := a.once("runtime "+r.Action()+"@"+sha, func() (any, error) {
		for _, name := range []string{"action.yml", "action.yaml"} {
			path := strings.TrimPrefix(r.Path+"/"+name, "/")
			f, _, _, err := a.Client.Repositories.GetContents(ctx, r.Owner, r.Repo, path, &gh.RepositoryContentGetOptions{Ref: sha})
			if apiStatus(err) == http.StatusNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			content, err := f.GetContent()
			if err != nil {
				return nil, fmt.Errorf("%s/%s at %s: %w", r.Repository(), path, sha, err)
			}
			var meta struct {
				Runs struct {
					Using string `yaml:"using"`
				} `yaml:"runs"`
			}
			if err := yaml.Unmarshal([]byte(content), &meta); err != nil {
				return nil, fmt.Errorf("%s/%s at %s: %w", r.Repository(), path, sha, err)
			}
			return meta.Runs.Using, nil
		}
		return "", nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// fatal is an error that stops the audit: the budget is spent, or the run was cancelled.
func fatal(err error) bool {
	var rl *github.RateLimitError
	var grl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	return errors.As(err, &rl) || errors.As(err, &grl) || errors.As(err, &abuse) || errors.Is(err, context.Canceled)
}

// Audit checks every reference and returns the report. Lookups run concurrently, bounded by Concurrency.
func (a *Auditor) Audit(ctx context.Context, uses []Use) (*Report, error) {
	rep := &Report{References: len(uses), NotChecked: map[string]int{}, Versions: map[string]map[string]int{}}
	results := make([]checked, len(uses))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(a.Concurrency, 1))
	var wg sync.WaitGroup
	var fatalErr error
	var once sync.Once
	for i, u := range uses {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := a.check(ctx, u)
			if err != nil {
				once.Do(func() { fatalErr = err; cancel() })
				return
			}
			results[i] = res
		}()
	}
	wg.Wait()
	var grl *gh.RateLimitError
	if errors.As(fatalErr, &grl) { // go-github refused to send: the budget seen earlier is spent
		return nil, &github.RateLimitError{Reset: grl.Rate.Reset.Time}
	}
	if fatalErr != nil {
		return nil, fatalErr
	}
	for i, res := range results {
		rep.Drifts = append(rep.Drifts, res.drifts...)
		for _, k := range res.notChecked {
			rep.NotChecked[k]++
		}
		u := uses[i]
		if u.Kind == "action" || u.Kind == "workflow" {
			if rep.Versions[u.Ref.Action()] == nil {
				rep.Versions[u.Ref.Action()] = map[string]int{}
			}
			rep.Versions[u.Ref.Action()][variant(u)]++
		}
	}
	rep.Drifts = append(rep.Drifts, inconsistent(uses, results)...)
	sort.SliceStable(rep.Drifts, func(i, j int) bool {
		a, b := rep.Drifts[i].Use, rep.Drifts[j].Use
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return rep, nil
}

type checked struct {
	drifts     []Drift
	notChecked []string
	commit     string // the resolved commit, when known
}

func variant(u Use) string {
	if u.Comment != "" {
		return u.Ref.Ref + " # " + u.Comment
	}
	return u.Ref.Ref
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// check audits one reference. Its error is fatal to the audit; anything else becomes a finding or a note of
// what could not be checked.
func (a *Auditor) check(ctx context.Context, u Use) (checked, error) {
	var res checked
	add := func(kind, sev, format string, args ...any) {
		res.drifts = append(res.drifts, Drift{Use: u, Kind: kind, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	unchecked := func(kinds ...string) { res.notChecked = append(res.notChecked, kinds...) }
	soft := func(err error, kinds ...string) error { // a lookup that failed: fatal, or an unchecked kind
		if fatal(err) {
			return err
		}
		unchecked(kinds...)
		return nil
	}

	switch u.Kind {
	case "docker":
		if !strings.Contains(u.Value, "@sha256:") {
			add(KindUnpinned, SevWarning, "%s is a container image by tag; pin it by digest (docker://image@sha256:...)", u.Value)
		}
		return res, nil
	case "local":
		return res, nil
	}
	if u.Ref.Owner == "" {
		add(KindUnknownRef, SevError, "%q is not an action reference (want owner/repo[/path]@ref)", u.Value)
		return res, nil
	}
	r := u.Ref
	pinned := actionref.IsSHA(r.Ref)

	c, err := a.commit(ctx, r, r.Ref)
	var nf errNotFound
	switch {
	case errors.As(err, &nf):
		add(KindUnknownRef, SevError, "%s", nf.what)
		if !pinned || u.Comment == "" {
			return res, nil
		}
		// A SHA the repository does not know can still carry a comment that names another commit.
		if cc, err := a.commit(ctx, r, u.Comment); err == nil && cc.SHA != r.Ref {
			add(KindCommentMismatch, SevError, "the comment says %s (commit %s), but the pin is %s", u.Comment, short(cc.SHA), short(r.Ref))
		} else if fatal(err) {
			return res, err
		}
		return res, nil
	case err != nil:
		if err := soft(err, KindUnknownRef, KindCommentMismatch, KindBehind, runtimeCheck); err != nil {
			return res, err
		}
	}
	res.commit = c.SHA

	// The exact release this reference stands for.
	exact := ""
	if v, ok := parseVersion(r.Ref); ok && v.exact() {
		exact = r.Ref
	} else if c.SHA != "" {
		tags, err := a.tagsAt(ctx, r, c.SHA)
		if err != nil {
			if err := soft(err, KindBehind); err != nil {
				return res, err
			}
		}
		exact = highest(tags)
	}

	if !pinned {
		what := "the tag or branch"
		if exact != "" && c.SHA != "" {
			add(KindUnpinned, SevWarning, "%s uses %s %q, which can move; pin it: %s@%s # %s", r.Action(), what, r.Ref, r.Action(), c.SHA, exact)
		} else {
			add(KindUnpinned, SevWarning, "%s uses %s %q, which can move; pin it to a full commit SHA", r.Action(), what, r.Ref)
		}
	}

	if pinned && u.Comment != "" && c.SHA != "" {
		cc, err := a.commit(ctx, r, u.Comment)
		switch {
		case errors.As(err, &nf):
			add(KindCommentMismatch, SevError, "the comment says %s, but %s has no such tag; the pin is %s", u.Comment, r.Repository(), orUntagged(exact, c.SHA))
		case err != nil:
			if err := soft(err, KindCommentMismatch); err != nil {
				return res, err
			}
		case cc.SHA == c.SHA:
			// a truthful comment
		default:
			cv, _ := parseVersion(u.Comment)
			ev, ok := parseVersion(exact)
			if ok && cv.parts < 3 && within(ev, cv) {
				add(KindImprecise, SevNote, "the comment names the moving tag %s (now at %s); the pin is %s: write # %s", u.Comment, short(cc.SHA), exact, exact)
			} else {
				add(KindCommentMismatch, SevError, "the comment says %s (commit %s), but the pinned commit %s is %s", u.Comment, short(cc.SHA), short(c.SHA), orUntagged(exact, c.SHA))
			}
		}
	}

	// The version deprecations and "behind" are judged on.
	ver := exact
	if ver == "" && !pinned {
		ver = r.Ref
	}
	if ver == "" && u.Comment != "" && c.SHA == "" {
		ver = u.Comment // offline: the comment is all there is
	}
	a.deprecated(u, ver, add)
	if c.SHA != "" && u.Kind == "action" {
		using, err := a.runtime(ctx, r, c.SHA)
		if err != nil {
			if err := soft(err, runtimeCheck); err != nil {
				return res, err
			}
		} else if rt, ok := a.Catalogue.Runtimes[using]; ok {
			add(KindDeprecated, a.sevByDate(rt.Date), "%s at %s runs on %s: %s", r.Action(), orUntagged(ver, c.SHA), using, rt.Reason)
		}
	}

	if c.SHA != "" {
		if err := a.behind(ctx, u, ver, c, add); err != nil {
			if err := soft(err, KindBehind); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func orUntagged(version, sha string) string {
	if version != "" {
		return version
	}
	return "untagged commit " + short(sha)
}

func (a *Auditor) sevByDate(date string) string {
	d, err := time.Parse("2006-01-02", date)
	if err == nil && d.After(a.Now) {
		return SevWarning
	}
	return SevError
}

func (a *Auditor) deprecated(u Use, ver string, add func(kind, sev, format string, args ...any)) {
	v, ok := parseVersion(ver)
	if !ok {
		return
	}
	for _, e := range a.Catalogue.Actions {
		if e.Action != u.Ref.Repository() {
			continue
		}
		below, _ := parseVersion(e.Below)
		from, hasFrom := parseVersion(e.From)
		at := v.ceiling()
		if cmp3(at, below.v) < 0 && (!hasFrom || cmp3(at, from.v) >= 0) {
			verb := "since"
			if a.sevByDate(e.Date) == SevWarning {
				verb = "from"
			}
			add(KindDeprecated, a.sevByDate(e.Date), "%s %s is deprecated %s %s: %s", u.Ref.Action(), ver, verb, e.Date, e.Reason)
		}
	}
}

func (a *Auditor) behind(ctx context.Context, u Use, ver string, c commitInfo, add func(kind, sev, format string, args ...any)) error {
	rel, err := a.latest(ctx, u.Ref)
	if apiStatus(err) == http.StatusNotFound {
		return nil // no releases
	}
	if err != nil {
		return err
	}
	cur, ok1 := parseVersion(ver)
	latest, ok2 := parseVersion(rel.Tag)
	if !ok1 || !ok2 || !latest.exact() || cmp3(cur.ceiling(), latest.v) >= 0 {
		return nil
	}
	level, sev := "patch", SevNote
	switch {
	case cur.v[0] < latest.v[0]:
		level, sev = "major", SevWarning
	case cur.parts > 1 && cur.v[1] < latest.v[1]:
		level = "minor"
	}
	days := ""
	if !c.Date.IsZero() && !rel.Date.IsZero() && rel.Date.After(c.Date) {
		days = fmt.Sprintf(", %d days behind", int(rel.Date.Sub(c.Date).Hours()/24))
	}
	add(KindBehind, sev, "%s %s is a %s version behind the latest release %s%s", u.Ref.Action(), ver, level, rel.Tag, days)
	return nil
}

// inconsistent reports, for an action referenced in more than one way across the audit, every reference that
// is not the most common way.
func inconsistent(uses []Use, results []checked) []Drift {
	type way struct{ key, label string }
	ways := map[string]map[string]int{} // action -> way key -> count
	labels := map[string]string{}
	keyOf := func(i int) string {
		if results[i].commit != "" {
			return results[i].commit
		}
		return uses[i].Ref.Ref
	}
	for i, u := range uses {
		if u.Kind != "action" && u.Kind != "workflow" || u.Ref.Owner == "" {
			continue
		}
		if ways[u.Ref.Action()] == nil {
			ways[u.Ref.Action()] = map[string]int{}
		}
		k := keyOf(i)
		ways[u.Ref.Action()][k]++
		if _, ok := labels[k]; !ok {
			labels[k] = variant(u)
		}
	}
	var out []Drift
	for i, u := range uses {
		w := ways[u.Ref.Action()]
		if len(w) < 2 {
			continue
		}
		var list []way
		for k := range w {
			list = append(list, way{k, labels[k]})
		}
		sort.Slice(list, func(a, b int) bool {
			if w[list[a].key] != w[list[b].key] {
				return w[list[a].key] > w[list[b].key]
			}
			return list[a].label < list[b].label
		})
		if keyOf(i) == list[0].key {
			continue
		}
		var desc []string
		for _, l := range list {
			desc = append(desc, fmt.Sprintf("%s (%d)", l.label, w[l.key]))
		}
		out = append(out, Drift{Use: u, Kind: KindInconsistent, Severity: SevWarning,
			Message: fmt.Sprintf("%s is referenced %d ways across the audit: %s", u.Ref.Action(), len(list), strings.Join(desc, ", "))})
	}
	return out
}
