package cleanup

import (
	"fmt"
	"sort"
	"strings"
)

// delete-package-versions' rules. There a version is any version GitHub Packages lists, so min-versions-to-keep
// counts a multi-arch release as its index, each platform image, each attestation manifest and each signature,
// and deleting "the oldest N" deletes platform images that newer indexes still list. Here the counts are of
// top-level images, each with what it lists and what refers to it, as every rule here decides; and
// package-version-ids, which names versions, still deletes nothing a kept image needs.

// decideByCount applies min-versions-to-keep and num-old-versions-to-delete to the top-level images the filters
// leave, newest first: those exclude-tags does not protect, older than older-than, and, untagged, past their
// untagged-older-than grace. The filters narrow the set the count runs over, as ignore-versions does in
// delete-package-versions (src/delete.ts filters, then slices).
func decideByCount(g *Graph, r Rules, excl []matcher, deleteTop map[string]string) {
	if r.MinVersionsToKeep == nil && r.NumOldVersionsToDelete <= 0 {
		return
	}
	var scope []*Node
	for _, n := range g.topLevel() { // newest first
		tags := userTags(n)
		if slicesAny(tags, excl) || !r.old(n) || len(tags) == 0 && r.inGrace(n) {
			continue
		}
		scope = append(scope, n)
	}
	if k := r.MinVersionsToKeep; k != nil {
		for _, n := range scope[min(max(*k, 0), len(scope)):] {
			deleteTop[n.Digest] = fmt.Sprintf("older than the newest %d versions (min-versions-to-keep)", *k)
		}
	}
	if m := r.NumOldVersionsToDelete; m > 0 {
		for _, n := range scope[max(len(scope)-m, 0):] {
			deleteTop[n.Digest] = fmt.Sprintf("one of the %d oldest versions (num-old-versions-to-delete)", m)
		}
	}
}

const namedReason = "named by package-version-ids"

// decideByID finds the versions package-version-ids names. A top-level image among them is deleted with what it
// lists and its signatures, as any image here (leaving them would leave platform images nothing lists and
// signatures of nothing), unless exclude-tags protects it; the others are settled by addNamed once what is kept
// is known. It returns every digest named. An id the package does not list is an error: a typo must not delete
// the rest of a list made for another package.
func decideByID(g *Graph, r Rules, excl []matcher, deleteTop map[string]string) (map[string]bool, error) {
	if len(r.VersionIDs) == 0 {
		return nil, nil
	}
	byID := map[int64]*Node{}
	for _, n := range g.Nodes {
		if n.ID != 0 {
			byID[n.ID] = n
		}
	}
	top := map[string]bool{}
	for _, n := range g.topLevel() {
		top[n.Digest] = true
	}
	named := map[string]bool{}
	var unknown []string
	for _, id := range r.VersionIDs {
		n := byID[id]
		if n == nil {
			unknown = append(unknown, fmt.Sprint(id))
			continue
		}
		named[n.Digest] = true
		if top[n.Digest] && !slicesAny(userTags(n), excl) {
			deleteTop[n.Digest] = namedReason
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf(`input "package-version-ids": %s: not a version of this package (%d versions listed); nothing deleted`,
			strings.Join(unknown, ", "), len(byID))
	}
	return named, nil
}

// addNamed settles the named versions once the rules have decided: a version goes only when everything that
// holds it goes too (the indexes that list it, the manifest it signs or attests), so one an image that stays
// needs is refused, and one nothing holds any more (an orphan signature, a platform image of a deleted index)
// goes, with what then holds nothing but it (its signatures). An image exclude-tags protects is refused as
// named. It returns the reason each refused version stays.
func addNamed(g *Graph, named map[string]bool, why, deleteTop map[string]string, excl []matcher) map[string]string {
	referrers, parents := g.referrers(), g.parents()
	holders := func(d string) []string {
		hs := parents[d]
		if s := g.Nodes[d].Subject; g.Nodes[s] != nil {
			hs = append(append([]string{}, hs...), s)
		}
		return hs
	}
	released := func(d string) bool {
		for _, h := range holders(d) {
			if _, gone := why[h]; !gone {
				return false
			}
		}
		return true
	}
	var pending []string // named, not yet deleted
	for d := range named {
		if _, gone := why[d]; gone {
			why[d] = namedReason
		} else if !slicesAny(userTags(g.Nodes[d]), excl) {
			pending = append(pending, d)
		}
	}
	sort.Strings(pending)
	var follow func(d string)
	follow = func(d string) { // what d held, once d goes
		next := append(append([]string{}, g.Nodes[d].Children...), referrers[d]...)
		sort.Strings(next)
		for _, x := range next {
			if _, gone := why[x]; !gone && g.Nodes[x] != nil && released(x) {
				why[x] = "belongs to a deleted image"
				follow(x)
			}
		}
	}
	for progress := true; progress; { // a named version can hold another: settle until nothing changes
		progress = false
		rest := pending[:0]
		for _, d := range pending {
			if _, gone := why[d]; gone {
				why[d] = namedReason
				continue
			}
			if !released(d) {
				rest = append(rest, d)
				continue
			}
			why[d], progress = namedReason, true
			follow(d)
		}
		pending = rest
	}
	refused := map[string]string{}
	for d := range named {
		if _, gone := why[d]; !gone {
			refused[d] = namedReason + ", refused: " + neededBy(g, d, deleteTop, why, excl, referrers, holders(d))
		}
	}
	return refused
}

// neededBy says which kept or excluded image needs d, and how: it lists d, or d signs or attests it; failing
// an image, which manifest that stays holds d.
func neededBy(g *Graph, d string, deleteTop, why map[string]string, excl []matcher, referrers map[string][]string, holders []string) string {
	n := g.Nodes[d]
	if slicesAny(userTags(n), excl) {
		return "excluded by exclude-tags"
	}
	for _, top := range g.topLevel() {
		if _, gone := why[top.Digest]; top.Digest == d || gone || deleteTop[top.Digest] != "" {
			continue
		}
		reached := map[string]bool{}
		g.reach(top.Digest, reached, referrers)
		if !reached[d] {
			continue
		}
		state := "kept"
		if slicesAny(userTags(top), excl) {
			state = "excluded"
		}
		img := fmt.Sprintf("the %s %s %s", state, top.Kind, label(top))
		switch {
		case n.Subject == top.Digest:
			return fmt.Sprintf("it is a %s of %s", n.Kind, img)
		case n.Subject != "":
			return fmt.Sprintf("it is a %s of %s, which %s reaches", n.Kind, short(n.Subject), img)
		}
		return img + " lists it; deleting it would break that image"
	}
	for _, h := range holders {
		if _, gone := why[h]; gone {
			continue
		}
		if h == n.Subject {
			return fmt.Sprintf("it is a %s of the %s %s, which stays", n.Kind, g.Nodes[h].Kind, label(g.Nodes[h]))
		}
		return fmt.Sprintf("the %s %s, which stays, lists it", g.Nodes[h].Kind, label(g.Nodes[h]))
	}
	return "a manifest that stays needs it"
}

// label is a manifest as a person knows it: its short digest and its tags.
func label(n *Node) string {
	if tags := userTags(n); len(tags) > 0 {
		return short(n.Digest) + " (" + strings.Join(tags, ", ") + ")"
	}
	return short(n.Digest)
}

// checkCombinations refuses inputs that cannot mean one thing together, naming them: delete-package-versions'
// two counts (it refuses them too: "This cannot be specified with num-old-versions-to-delete"), its counts with
// the tagged/untagged rules that count differently, and package-version-ids, which deletes exactly what it names,
// with any rule (there the ids override every other input); exclude-tags may stay with it, as a protection.
func (in *Inputs) checkCombinations() error {
	counting := in.MinVersionsToKeep >= 0 || in.NumOldVersionsToDelete > 0
	rules := []struct {
		name  string
		given bool
		count bool // cannot be used with min-versions-to-keep or num-old-versions-to-delete
	}{
		{"min-versions-to-keep", in.MinVersionsToKeep >= 0, false},
		{"num-old-versions-to-delete", in.NumOldVersionsToDelete > 0, false},
		{"keep-n-tagged", in.KeepNTagged >= 0, true},
		{"keep-n-untagged", in.KeepNUntagged >= 0, true},
		{"delete-tags", len(in.DeleteTags) > 0, true},
		{"delete-untagged", in.DeleteUntagged, true},
		{"delete-orphans", in.DeleteOrphans, false},
		{"delete-ghosts", in.DeleteGhosts, false},
		{"delete-partials", in.DeletePartials, false},
		{"older-than", in.OlderThan != "", false},
		{"untagged-older-than", in.UntaggedOlderThan != "", false},
	}
	if in.MinVersionsToKeep >= 0 && in.NumOldVersionsToDelete > 0 {
		return fmt.Errorf(`inputs "min-versions-to-keep" and "num-old-versions-to-delete" cannot be used together, as in actions/delete-package-versions: keep the newest N, or delete the oldest N`)
	}
	if len(in.PackageVersionIDs) > 0 {
		if !in.usesPackagesAPI() {
			return fmt.Errorf(`input "package-version-ids": version ids are the GitHub Packages API's, and %s is cleaned through its manifest DELETE (packages-api: %s); select what to delete with the rules (delete-tags, keep-n-tagged, ...) there`,
				in.Registry, in.PackagesAPI)
		}
		if len(in.Packages) > 1 {
			return fmt.Errorf(`input "package-version-ids" names versions of one package, and "packages" names %d: %s`, len(in.Packages), strings.Join(in.Packages, ", "))
		}
		var with []string
		for _, r := range rules {
			if r.given {
				with = append(with, fmt.Sprintf("%q", r.name))
			}
		}
		if len(with) > 0 {
			return fmt.Errorf(`input "package-version-ids" deletes exactly the versions it names, so it cannot be used with %s (in actions/delete-package-versions the ids override every other input); exclude-tags may stay, to protect images`,
				strings.Join(with, ", "))
		}
	}
	if counting {
		var with []string
		for _, r := range rules {
			if r.given && r.count {
				with = append(with, fmt.Sprintf("%q", r.name))
			}
		}
		name := "min-versions-to-keep"
		if in.MinVersionsToKeep < 0 {
			name = "num-old-versions-to-delete"
		}
		if len(with) > 0 {
			return fmt.Errorf(`input %q counts every image, tagged or not, so it cannot be used with %s: use one kind of rule (delete-package-versions' delete-only-untagged-versions with min-versions-to-keep: N is keep-n-untagged: N here)`,
				name, strings.Join(with, ", "))
		}
	}
	return nil
}
