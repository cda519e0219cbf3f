package cleanup

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Rules are the retention rules; every field mirrors an input.
type Rules struct {
	KeepNTagged, KeepNUntagged int // -1: no limit
	OlderThan                  time.Duration
	UntaggedOlderThan          time.Duration // a grace period for untagged images; 0: none
	DeleteTags, ExcludeTags    []string
	UseRegex                   bool
	DeleteUntagged             bool
	DeleteOrphans              bool
	DeleteGhosts               bool
	DeletePartials             bool
	// MinVersionsToKeep and NumOldVersionsToDelete are delete-package-versions' counts over the top-level images
	// the filters leave: keep the newest N (nil: not given; 0 keeps none), delete the oldest N (0: none).
	MinVersionsToKeep      *int
	NumOldVersionsToDelete int
	// VersionIDs are GitHub Packages version ids to delete, and nothing else (package-version-ids).
	VersionIDs []int64
	Now        time.Time
}

// Decision is what the plan does with one version, and why.
type Decision struct {
	Digest string   `json:"digest"`
	ID     int64    `json:"id,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	Kind   Kind     `json:"kind"`
	Reason string   `json:"reason"`
}

// Untag removes one tag of an image that keeps its other tags.
type Untag struct {
	Digest string `json:"digest"`
	Tag    string `json:"tag"`
}

// Plan is what a cleanup will do: deletions in a safe order (referrers, then indexes, then what they list), tags
// to remove, and what is kept. Refused are the versions package-version-ids names that stay, and why; they are
// in Keep too.
type Plan struct {
	Delete  []Decision `json:"delete"`
	Untag   []Untag    `json:"untag"`
	Keep    []Decision `json:"keep"`
	Refused []Decision `json:"refused,omitempty"`
}

// Rules are the retention rules the inputs give, as of now. A bad age or tag pattern, and inputs that cannot be
// used together, fail here, naming the inputs, before any registry is read.
func (in *Inputs) Rules(now time.Time) (Rules, error) {
	r := Rules{KeepNTagged: in.KeepNTagged, KeepNUntagged: in.KeepNUntagged, DeleteTags: in.DeleteTags, ExcludeTags: in.ExcludeTags,
		UseRegex: in.UseRegex, DeleteUntagged: in.DeleteUntagged, DeleteOrphans: in.DeleteOrphans, DeleteGhosts: in.DeleteGhosts,
		DeletePartials: in.DeletePartials, NumOldVersionsToDelete: in.NumOldVersionsToDelete, Now: now}
	var err error
	if r.OlderThan, err = parseAgeInput("older-than", in.OlderThan); err != nil {
		return Rules{}, err
	}
	if r.UntaggedOlderThan, err = parseAgeInput("untagged-older-than", in.UntaggedOlderThan); err != nil {
		return Rules{}, err
	}
	if in.MinVersionsToKeep >= 0 {
		n := in.MinVersionsToKeep
		r.MinVersionsToKeep = &n
	}
	for _, text := range in.PackageVersionIDs {
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil || id <= 0 {
			return Rules{}, fmt.Errorf(`input "package-version-ids": item %q %w`, text, checkVersionID(text))
		}
		r.VersionIDs = append(r.VersionIDs, id)
	}
	if err := in.checkCombinations(); err != nil {
		return Rules{}, err
	}
	if _, err := compile(append(append([]string{}, r.DeleteTags...), r.ExcludeTags...), r.UseRegex); err != nil {
		return Rules{}, fmt.Errorf(`inputs "delete-tags"/"exclude-tags": %w`, err)
	}
	return r, nil
}

type matcher func(string) bool

func compile(patterns []string, regex bool) ([]matcher, error) {
	var out []matcher
	for _, p := range patterns {
		if regex {
			re, err := regexp.Compile("^(?:" + p + ")$")
			if err != nil {
				return nil, fmt.Errorf("tag pattern %q: %w", p, err)
			}
			out = append(out, re.MatchString)
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("tag pattern %q: %w", p, err)
		}
		out = append(out, func(tag string) bool { ok, _ := path.Match(p, tag); return ok })
	}
	return out, nil
}

func matchesAny(ms []matcher, tag string) bool {
	for _, m := range ms {
		if m(tag) {
			return true
		}
	}
	return false
}

// userTags are an image's tags other than cosign's schema tags.
func userTags(n *Node) []string {
	var out []string
	for _, t := range n.Tags {
		if _, _, ok := subjectOfTag(t); !ok {
			out = append(out, t)
		}
	}
	return out
}

// MakePlan applies the rules to the graph. It decides about top-level images only; their children and
// referrers follow them, and nothing reachable from a kept image is ever deleted.
func MakePlan(g *Graph, r Rules) (*Plan, error) {
	del, err := compile(r.DeleteTags, r.UseRegex)
	if err != nil {
		return nil, err
	}
	excl, err := compile(r.ExcludeTags, r.UseRegex)
	if err != nil {
		return nil, err
	}
	deleteTop, untags, graced := decideTopLevel(g, r, del, excl)
	decideByCount(g, r, excl, deleteTop)
	named, err := decideByID(g, r, excl, deleteTop)
	if err != nil {
		return nil, err
	}
	decideBrokenIndexes(g, r, excl, deleteTop)
	keep, why := followDeletions(g, deleteTop)
	if r.DeleteOrphans {
		addOrphans(g, keep, why)
	}
	refused := addNamed(g, named, why, deleteTop, excl)
	p := &Plan{Untag: untags, Delete: deletions(g, why), Keep: keeps(g, why, keep, excl, graced, refused)}
	sortForDeletion(g, p.Delete)
	sort.Slice(p.Keep, func(i, j int) bool { return p.Keep[i].Digest < p.Keep[j].Digest })
	for _, k := range p.Keep {
		if refused[k.Digest] != "" {
			p.Refused = append(p.Refused, k)
		}
	}
	return p, nil
}

// old reports whether n is old enough for the rules to delete it: older-than is a filter on every rule.
func (r Rules) old(n *Node) bool { return r.OlderThan == 0 || r.Now.Sub(n.Created) > r.OlderThan }

// inGrace reports whether an untagged image is too young for the untagged rules: with native runners each
// platform's image is pushed by digest, untagged, and only an index made by a later job of the same run lists
// it. Deleting it in between breaks that run's merge.
func (r Rules) inGrace(n *Node) bool {
	return r.UntaggedOlderThan > 0 && r.Now.Sub(n.Created) <= r.UntaggedOlderThan
}

// decideTopLevel applies the retention rules to the top-level images, newest first, and says why each one it
// deletes goes (by digest), which tags it removes from images that keep others, and which untagged images the
// grace period keeps. The keep-n counts run over tagged and untagged images separately. An image with an
// excluded tag is neither deleted nor counted, as dataaxiom's exclude-tags takes it out of every rule's scope:
// keep-n-tagged counts only what exclude-tags leaves. Likewise an untagged image in its grace period is out of
// the untagged rules' scope, as older-than takes young images out in dataaxiom's action.
func decideTopLevel(g *Graph, r Rules, del, excl []matcher) (deleteTop map[string]string, untags []Untag, graced map[string]bool) {
	deleteTop, graced = map[string]string{}, map[string]bool{}
	tagged, untagged := 0, 0
	for _, n := range g.topLevel() { // newest first
		tags := userTags(n)
		if slicesAny(tags, excl) {
			continue // exclusion always wins, and what it reaches stays
		}
		if len(tags) > 0 {
			tagged++
			var hit []string
			for _, t := range tags {
				if matchesAny(del, t) {
					hit = append(hit, t)
				}
			}
			switch {
			case len(hit) > 0 && len(hit) == len(tags) && r.old(n):
				deleteTop[n.Digest] = "its tags match delete-tags: " + strings.Join(hit, ", ")
			case len(hit) > 0 && r.old(n):
				for _, t := range hit {
					untags = append(untags, Untag{Digest: n.Digest, Tag: t})
				}
			case r.KeepNTagged >= 0 && tagged > r.KeepNTagged && r.old(n):
				deleteTop[n.Digest] = fmt.Sprintf("tagged, older than the newest %d tagged", r.KeepNTagged)
			}
			continue
		}
		if r.inGrace(n) {
			graced[n.Digest] = true
			continue
		}
		untagged++
		switch {
		case r.KeepNUntagged >= 0 && untagged > r.KeepNUntagged && r.old(n):
			deleteTop[n.Digest] = fmt.Sprintf("untagged, older than the newest %d untagged", r.KeepNUntagged)
		case r.DeleteUntagged && r.KeepNUntagged < 0 && r.old(n):
			deleteTop[n.Digest] = "untagged"
		}
	}
	return deleteTop, untags, graced
}

// decideBrokenIndexes adds to deleteTop the indexes delete-ghosts (every manifest listed is gone) and
// delete-partials (some are) apply to, whatever their age; an excluded index stays.
func decideBrokenIndexes(g *Graph, r Rules, excl []matcher, deleteTop map[string]string) {
	for _, n := range g.Nodes {
		if n.Kind != KindIndex || len(n.Children) == 0 || deleteTop[n.Digest] != "" || slicesAny(userTags(n), excl) {
			continue
		}
		missing := 0
		for _, c := range n.Children {
			if g.Missing[c] {
				missing++
			}
		}
		switch {
		case r.DeleteGhosts && missing == len(n.Children):
			deleteTop[n.Digest] = "a ghost: every manifest it lists is gone"
		case r.DeletePartials && missing > 0 && missing < len(n.Children):
			deleteTop[n.Digest] = fmt.Sprintf("partial: %d of the %d manifests it lists are gone", missing, len(n.Children))
		}
	}
}

// followDeletions extends the top-level deletions to what they reach (children, nested too, and referrers),
// and returns what the kept top-level images reach and why each deleted manifest goes. A manifest both reach
// is kept: a child shared with a kept index, or a signature of a kept image, is never deleted.
func followDeletions(g *Graph, deleteTop map[string]string) (keep map[string]bool, why map[string]string) {
	referrers := g.referrers()
	keep, gone := map[string]bool{}, map[string]bool{}
	for _, n := range g.topLevel() {
		if deleteTop[n.Digest] == "" {
			g.reach(n.Digest, keep, referrers)
		}
	}
	for d := range deleteTop {
		g.reach(d, gone, referrers)
	}
	why = map[string]string{}
	for d := range gone {
		if keep[d] || g.Nodes[d] == nil {
			continue
		}
		why[d] = deleteTop[d]
		if why[d] == "" {
			why[d] = "belongs to a deleted image"
		}
	}
	return keep, why
}

// addOrphans adds to why the referrers whose subject is gone, and what they reach, unless a kept image
// reaches it.
func addOrphans(g *Graph, keep map[string]bool, why map[string]string) {
	referrers := g.referrers()
	for _, n := range g.Nodes {
		if n.Subject != "" && g.Nodes[n.Subject] == nil && !keep[n.Digest] {
			orphans := map[string]bool{}
			g.reach(n.Digest, orphans, referrers)
			for d := range orphans {
				if !keep[d] && g.Nodes[d] != nil {
					why[d] = "an orphan: its subject " + short(n.Subject) + " is gone"
				}
			}
		}
	}
}

// deletions are the decisions to delete the manifests why names, in no order.
func deletions(g *Graph, why map[string]string) []Decision {
	var out []Decision
	for d, reason := range why {
		n := g.Nodes[d]
		out = append(out, Decision{Digest: d, ID: n.ID, Tags: n.Tags, Kind: n.Kind, Reason: reason})
	}
	return out
}

// keeps are the decisions to keep every other manifest, with the reason that keeps it, in no order.
func keeps(g *Graph, why map[string]string, keep map[string]bool, excl []matcher, graced map[string]bool, refused map[string]string) []Decision {
	var out []Decision
	parents := g.parents()
	for d, n := range g.Nodes {
		if _, deleted := why[d]; deleted {
			continue
		}
		reason := "no rule matches it"
		switch {
		case refused[d] != "":
			reason = refused[d]
		case slicesAny(userTags(n), excl):
			reason = "excluded by exclude-tags"
		case graced[d]:
			reason = "untagged, younger than untagged-older-than: a run may still merge it into an index"
		case keep[d] && (n.Kind == KindImage || n.Kind == KindIndex) && (len(parents[d]) == 0 || len(userTags(n)) > 0):
			reason = "kept by the rules"
		case keep[d]:
			reason = "reachable from a kept image"
		}
		out = append(out, Decision{Digest: d, ID: n.ID, Tags: n.Tags, Kind: n.Kind, Reason: reason})
	}
	return out
}

// sortForDeletion puts deletions in a safe order: referrers first, then indexes from the outermost in, then
// what they list, so that a cleanup stopped halfway leaves no manifest pointing at a deleted one.
func sortForDeletion(g *Graph, del []Decision) {
	order := map[Kind]int{KindSignature: 0, KindAttestation: 0, KindSBOM: 0, KindReferrer: 0, KindIndex: 1, KindImage: 2, KindBuildxAtt: 2}
	depth := g.depths()
	sort.Slice(del, func(i, j int) bool {
		a, b := del[i], del[j]
		if order[a.Kind] != order[b.Kind] {
			return order[a.Kind] < order[b.Kind]
		}
		if depth[a.Digest] != depth[b.Digest] { // an outer index before a nested one
			return depth[a.Digest] < depth[b.Digest]
		}
		return a.Digest < b.Digest
	})
}

// depths is how deep each manifest sits under indexes (0 for top-level).
func (g *Graph) depths() map[string]int {
	d := map[string]int{}
	var walk func(digest string, depth int)
	walk = func(digest string, depth int) {
		if cur, ok := d[digest]; ok && cur >= depth {
			return
		}
		d[digest] = depth
		if n := g.Nodes[digest]; n != nil {
			for _, c := range n.Children {
				walk(c, depth+1)
			}
		}
	}
	for _, n := range g.topLevel() {
		walk(n.Digest, 0)
	}
	return d
}

func slicesAny(tags []string, ms []matcher) bool {
	for _, t := range tags {
		if matchesAny(ms, t) {
			return true
		}
	}
	return false
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
