package cleanup

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func digestOf(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// randomGraph makes a package as registries hold them: images, indexes listing images (shared between
// indexes, nested), buildx attestation manifests inside indexes, cosign signatures and attestations (by tag
// schema) on random manifests, signatures of signatures, random tags and ages, some listed children missing.
func randomGraph(rng *rand.Rand) *Graph {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	id := 0
	add := func(kind Kind) *Node {
		id++
		n := &Node{Digest: digestOf(id), ID: int64(id), Kind: kind, Created: now.Add(-time.Duration(rng.Intn(90*24)) * time.Hour)}
		g.Nodes[n.Digest] = n
		return n
	}
	var images, indexes []*Node
	for i := 0; i < 3+rng.Intn(12); i++ {
		images = append(images, add(KindImage))
	}
	for i := 0; i < rng.Intn(8); i++ {
		idx := add(KindIndex)
		for j := 0; j < 1+rng.Intn(3); j++ {
			idx.Children = append(idx.Children, images[rng.Intn(len(images))].Digest)
		}
		if rng.Intn(2) == 0 {
			att := add(KindBuildxAtt)
			att.Subject = "" // buildx attestations hang off the index as children
			idx.Children = append(idx.Children, att.Digest)
		}
		if len(indexes) > 0 && rng.Intn(4) == 0 { // nested
			idx.Children = append(idx.Children, indexes[rng.Intn(len(indexes))].Digest)
		}
		if rng.Intn(6) == 0 { // a child the registry lost
			missing := digestOf(100000 + id)
			idx.Children = append(idx.Children, missing)
			g.Missing[missing] = true
		}
		indexes = append(indexes, idx)
	}
	all := append(append([]*Node{}, images...), indexes...)
	for _, n := range all {
		if rng.Intn(2) == 0 {
			for k := 0; k < 1+rng.Intn(2); k++ {
				n.Tags = append(n.Tags, []string{"latest", "main", "v1", "v2", "pr-7", "dev", "staging", "sha-abc"}[rng.Intn(8)]+fmt.Sprint(rng.Intn(3)))
			}
		}
	}
	var refs []*Node
	for i := 0; i < rng.Intn(10); i++ {
		kind := []Kind{KindSignature, KindAttestation, KindSBOM}[rng.Intn(3)]
		r := add(kind)
		targets := append(append([]*Node{}, all...), refs...)
		subject := targets[rng.Intn(len(targets))].Digest
		if rng.Intn(8) == 0 {
			subject = digestOf(200000 + id) // an orphan: its subject is gone
		}
		r.Subject = subject
		r.Tags = []string{"sha256-" + strings.TrimPrefix(subject, "sha256:") + "." + map[Kind]string{KindSignature: "sig", KindAttestation: "att", KindSBOM: "sbom"}[kind]}
		refs = append(refs, r)
	}
	return g
}

func randomRules(rng *rand.Rand) Rules {
	r := Rules{KeepNTagged: rng.Intn(4) - 1, KeepNUntagged: rng.Intn(4) - 1, Now: now,
		DeleteUntagged: rng.Intn(2) == 0, DeleteOrphans: rng.Intn(2) == 0, DeleteGhosts: rng.Intn(2) == 0, DeletePartials: rng.Intn(2) == 0}
	if rng.Intn(2) == 0 {
		r.OlderThan = time.Duration(rng.Intn(60*24)) * time.Hour
	}
	if rng.Intn(2) == 0 {
		r.DeleteTags = []string{[]string{"pr-*", "dev*", "sha-*", "*"}[rng.Intn(4)]}
	}
	if rng.Intn(2) == 0 {
		r.ExcludeTags = []string{[]string{"latest*", "v*", "main0"}[rng.Intn(3)]}
	}
	if rng.Intn(2) == 0 {
		r.UntaggedOlderThan = time.Duration(rng.Intn(30*24)) * time.Hour
	}
	return r
}

// TestPlanInvariantsOnRandomGraphs: thousands of random graphs and rules; after the plan's deletions, every kept
// image is whole (all it reaches is there), nothing reachable from an excluded tag is deleted, a child goes only
// when every index listing it goes, and parents are deleted before their children.
func TestPlanInvariantsOnRandomGraphs(t *testing.T) {
	rng := rand.New(rand.NewSource(20261127))
	deletedSome := 0
	for c := 0; c < 5000; c++ {
		g := randomGraph(rng)
		rules := randomRules(rng)
		p, err := MakePlan(g, rules)
		if err != nil {
			t.Fatal(err)
		}
		deleted := map[string]int{}
		for i, d := range p.Delete {
			deleted[d.Digest] = i + 1
		}
		if len(deleted) > 0 {
			deletedSome++
		}
		if len(p.Delete)+len(p.Keep) != len(g.Nodes) {
			t.Fatalf("case %d: %d deleted + %d kept != %d versions", c, len(p.Delete), len(p.Keep), len(g.Nodes))
		}
		excl, _ := compile(rules.ExcludeTags, false)
		referrers := g.referrers()
		parents := g.parents()
		for _, k := range p.Keep {
			n := g.Nodes[k.Digest]
			// Everything a kept manifest reaches is kept: a kept index still pulls, a kept image keeps its signatures.
			reach := map[string]bool{}
			g.reach(k.Digest, reach, referrers)
			for d := range reach {
				if deleted[d] > 0 {
					t.Fatalf("case %d: %s (%s, kept: %s) reaches %s, which is deleted", c, short(k.Digest), n.Kind, k.Reason, short(d))
				}
			}
			if slicesAny(userTags(n), excl) && deleted[k.Digest] > 0 {
				t.Fatalf("case %d: an excluded image is deleted", c)
			}
		}
		for _, d := range p.Delete {
			for _, parent := range parents[d.Digest] {
				if deleted[parent] == 0 {
					t.Fatalf("case %d: %s is deleted but its parent %s is kept", c, short(d.Digest), short(parent))
				}
				if deleted[parent] > deleted[d.Digest] {
					t.Fatalf("case %d: child %s is deleted before its parent %s", c, short(d.Digest), short(parent))
				}
			}
			if slicesAny(userTags(g.Nodes[d.Digest]), excl) {
				t.Fatalf("case %d: %s has an excluded tag and is deleted", c, short(d.Digest))
			}
			if strings.HasPrefix(d.Reason, "untagged") && rules.inGrace(g.Nodes[d.Digest]) {
				t.Fatalf("case %d: %s is in its grace period and deleted (%s)", c, short(d.Digest), d.Reason)
			}
		}
	}
	if deletedSome < 2000 {
		t.Errorf("only %d of 5000 random cases deleted anything: the test proves little", deletedSome)
	}
}

func TestPlanRules(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	mk := func(i int, kind Kind, age time.Duration, tags ...string) *Node {
		n := &Node{Digest: digestOf(i), Kind: kind, Created: now.Add(-age), Tags: tags}
		g.Nodes[n.Digest] = n
		return n
	}
	a1, a2 := mk(1, KindImage, 48*time.Hour), mk(2, KindImage, 48*time.Hour)
	newIdx := mk(3, KindIndex, time.Hour, "main", "v2")
	newIdx.Children = []string{a1.Digest}
	oldIdx := mk(4, KindIndex, 30*24*time.Hour, "v1")
	oldIdx.Children = []string{a1.Digest, a2.Digest} // a1 is shared with the new index
	sig := mk(5, KindSignature, 30*24*time.Hour, "sha256-"+strings.TrimPrefix(oldIdx.Digest, "sha256:")+".sig")
	sig.Subject = oldIdx.Digest
	orphan := mk(6, KindSignature, 30*24*time.Hour, "sha256-"+strings.Repeat("f", 64)+".sig")
	orphan.Subject = "sha256:" + strings.Repeat("f", 64)
	untagged := mk(7, KindImage, 10*24*time.Hour)
	pr := mk(8, KindImage, 5*24*time.Hour, "pr-7", "sha-abc")
	ghost := mk(9, KindIndex, 3*24*time.Hour, "ghost")
	ghost.Children = []string{digestOf(99)}
	g.Missing[digestOf(99)] = true

	p, err := MakePlan(g, Rules{KeepNTagged: 1, KeepNUntagged: -1, DeleteUntagged: true, DeleteOrphans: true, DeleteGhosts: true,
		DeleteTags: []string{"pr-*"}, ExcludeTags: []string{"ghost"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range p.Delete {
		got[d.Digest] = d.Reason
	}
	want := map[string]string{
		oldIdx.Digest:   "tagged, older than the newest 1 tagged",
		a2.Digest:       "belongs to a deleted image",
		sig.Digest:      "belongs to a deleted image",
		orphan.Digest:   "an orphan: its subject sha256:ffffffffffff is gone",
		untagged.Digest: "untagged",
	}
	for d, reason := range want {
		if got[d] != reason {
			t.Errorf("%s: %q, want %q", short(d), got[d], reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("deleted %v", got)
	}
	if len(p.Untag) != 1 || p.Untag[0] != (Untag{Digest: pr.Digest, Tag: "pr-7"}) {
		t.Errorf("untag: %+v (pr-7 goes, sha-abc keeps the image)", p.Untag)
	}
	if p.Delete[0].Kind != KindSignature || p.Delete[len(p.Delete)-1].Kind != KindImage {
		t.Errorf("order: %+v", p.Delete)
	}
}
