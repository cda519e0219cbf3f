package drift

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v62/github"
	"golang.org/x/sync/errgroup"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// Auditor checks references against their repositories through the GitHub API (or its cache, offline).
type Auditor struct {
	Client      *gh.Client
	Lock        *actionref.Lock // offline help: a lock entry's version resolves to its sha
	Catalogue   *catalogue
	Now         time.Time
	Concurrency int

	memo sync.Map
}

// Audit checks every reference and returns the report. Lookups run concurrently, bounded by Concurrency.
func (a *Auditor) Audit(ctx context.Context, uses []Use) (*Report, error) {
	rep := &Report{References: len(uses), NotChecked: map[string]int{}, Versions: map[string]map[string]int{}}
	results := make([]checked, len(uses))
	g, gctx := errgroup.WithContext(ctx) // a fatal error (rate limit, network) stops the rest
	g.SetLimit(max(a.Concurrency, 1))
	for i, u := range uses {
		g.Go(func() (err error) {
			results[i], err = a.check(gctx, u)
			return err
		})
	}
	fatalErr := g.Wait()
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

// checked is what the audit of one reference found, and what it could not check.
type checked struct {
	drifts     []Drift
	notChecked []string
	commit     string // the resolved commit, when known
}

// variant is a reference as written: its ref and, when it has one, its version comment.
func variant(u Use) string {
	if u.Comment != "" {
		return u.Ref.Ref + " # " + u.Comment
	}
	return u.Ref.Ref
}

// short is a commit SHA as git abbreviates it.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
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
