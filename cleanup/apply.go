package cleanup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Outcome is what applying a plan did.
type Outcome struct {
	Deleted      []Decision `json:"deleted"`
	Failed       []Failure  `json:"failed"`
	NeedsSupport []Decision `json:"needs_github_support"`
	Skipped      []Decision `json:"skipped"` // not attempted: a parent failed to delete
	Untagged     []Untag    `json:"untagged"`
	UntagFailed  []string   `json:"untag_failed"`
}

// Failure is a deletion that failed.
type Failure struct {
	Decision
	Error string `json:"error"`
}

// Apply deletes what the plan says, after listing the versions again: if the package changed since the graph
// was read, nothing is deleted. Referrers go first, then indexes from the outermost in, then what they list;
// a manifest whose index failed to delete is not attempted. Deletions of one level run a few at a time.
func Apply(ctx context.Context, b Backend, g *Graph, planned []Version, p *Plan) (*Outcome, error) {
	now, err := b.Versions(ctx)
	if err != nil {
		return nil, err
	}
	if !sameVersions(now, planned) {
		return nil, errors.New("the package changed between planning and deleting (a push or another cleanup): nothing deleted; run again")
	}
	out := &Outcome{}
	failed := map[string]bool{}
	parents := g.parents()
	depth := g.depths()
	level := func(d Decision) string { return fmt.Sprintf("%d/%d", kindLevel(d.Kind), depth[d.Digest]) }
	for i := 0; i < len(p.Delete); {
		j := i
		for j < len(p.Delete) && level(p.Delete[j]) == level(p.Delete[i]) {
			j++
		}
		var mu sync.Mutex
		var eg errgroup.Group
		eg.SetLimit(4)
		for _, d := range p.Delete[i:j] {
			blocked := false
			for _, parent := range parents[d.Digest] {
				blocked = blocked || failed[parent]
			}
			if blocked || failed[g.Nodes[d.Digest].Subject] {
				failed[d.Digest] = true
				out.Skipped = append(out.Skipped, d)
				continue
			}
			eg.Go(func() error {
				err := b.Delete(ctx, d)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, ErrTooPopular):
					failed[d.Digest] = true
					out.NeedsSupport = append(out.NeedsSupport, d)
				case err != nil:
					failed[d.Digest] = true
					out.Failed = append(out.Failed, Failure{Decision: d, Error: err.Error()})
				default:
					out.Deleted = append(out.Deleted, d)
				}
				return nil
			})
		}
		eg.Wait()
		i = j
	}
	for _, u := range p.Untag {
		if err := untag(ctx, b, u); err != nil {
			out.UntagFailed = append(out.UntagFailed, fmt.Sprintf("%s from %s: %v", u.Tag, u.Digest, err))
			continue
		}
		out.Untagged = append(out.Untagged, u)
	}
	return out, nil
}

func kindLevel(k Kind) int {
	switch k {
	case KindSignature, KindAttestation, KindSBOM, KindReferrer:
		return 0
	case KindIndex:
		return 1
	}
	return 2
}

// Validate reads every kept top-level image again, down to each manifest it lists, and fails if any is broken.
func Validate(ctx context.Context, b Backend, g *Graph, p *Plan) error {
	kept := map[string]bool{}
	for _, k := range p.Keep {
		kept[k.Digest] = true
	}
	var broken []string
	for _, n := range g.topLevel() {
		if !kept[n.Digest] {
			continue
		}
		if err := pullable(ctx, b, n.Digest, g); err != nil {
			broken = append(broken, err.Error())
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("kept images are broken after the cleanup: %v", broken)
	}
	return nil
}

func pullable(ctx context.Context, b Backend, digest string, g *Graph) error {
	if g.Missing[digest] {
		return nil // was missing before the cleanup: not its doing
	}
	if _, err := remote.Get(b.Repository().Digest(digest), registry.Options(ctx)...); err != nil {
		return fmt.Errorf("%s: %w", digest, err)
	}
	if n := g.Nodes[digest]; n != nil {
		for _, c := range n.Children {
			if err := pullable(ctx, b, c, g); err != nil {
				return err
			}
		}
	}
	return nil
}
