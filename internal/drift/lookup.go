package drift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v62/github"
	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// memoEntry is one memoised lookup: computed once, its result shared by every reference that asks.
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

// commitInfo is the commit a ref resolves to; Date is zero when only the lock file answered.
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
