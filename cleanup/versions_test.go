package cleanup

import (
	"maps"
	"math/rand"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// deletePackageVersions is what actions/delete-package-versions selects from a package's versions
// (src/delete.ts finalIds after src/input.ts checkInput): the versions oldest first, those ignore-versions (with
// ignore-versions-include-tags, by tag) matches left out, then the oldest len-min of the rest when
// min-versions-to-keep is given (minKeep >= 0), else the oldest num-old-versions-to-delete.
func deletePackageVersions(versions []*Node, minKeep, numOld int, ignore []string) map[string]bool {
	sorted := append([]*Node{}, versions...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Created.Before(sorted[j].Created) })
	var rest []*Node
	for _, v := range sorted {
		ignored := false
		for _, tag := range v.Tags {
			for _, p := range ignore {
				ok, _ := path.Match(p, tag)
				ignored = ignored || ok
			}
		}
		if !ignored {
			rest = append(rest, v)
		}
	}
	toDelete := 0
	switch {
	case minKeep >= 0:
		toDelete = len(rest) - minKeep
	case numOld > 0:
		toDelete = numOld
	}
	out := map[string]bool{}
	for _, v := range rest[:max(0, min(toDelete, len(rest)))] {
		out[v.Digest] = true
	}
	return out
}

func deletedSet(p *Plan) map[string]bool {
	out := map[string]bool{}
	for _, d := range p.Delete {
		out[d.Digest] = true
	}
	return out
}

func intp(n int) *int { return &n }

// On a package whose versions are single images (no index, no signature: each version is one image),
// min-versions-to-keep and num-old-versions-to-delete delete exactly what delete-package-versions would, with
// exclude-tags in the place of ignore-versions.
func TestCountsSelectWhatDeletePackageVersionsWould(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	var flat []*Node
	for i, tags := range [][]string{{"v1.0"}, nil, {"sha-1"}, {"v1.1", "latest"}, nil, {"sha-2"}, {"pr-7"}, nil, {"main", "sha-3"}} {
		n := &Node{Digest: digestOf(i + 1), ID: int64(100 + i), Kind: KindImage, Tags: tags, Created: now.Add(-time.Duration(40-i) * 24 * time.Hour)}
		g.Nodes[n.Digest] = n
		flat = append(flat, n)
	}
	for _, tt := range []struct {
		name    string
		min     int // -1: not given
		numOld  int
		exclude []string
	}{
		{"min-versions-to-keep 0 deletes all", 0, 0, nil},
		{"min-versions-to-keep 3", 3, 0, nil},
		{"min-versions-to-keep = all", 9, 0, nil},
		{"min-versions-to-keep > all", 20, 0, nil},
		{"num-old-versions-to-delete 1", -1, 1, nil},
		{"num-old-versions-to-delete 4", -1, 4, nil},
		{"num-old-versions-to-delete > all", -1, 20, nil},
		{"neither", -1, 0, nil},
		{"min-versions-to-keep 2, ignoring v*", 2, 0, []string{"v*"}},
		{"num-old-versions-to-delete 3, ignoring v* and latest", -1, 3, []string{"v*", "latest"}},
	} {
		r := Rules{KeepNTagged: -1, KeepNUntagged: -1, NumOldVersionsToDelete: tt.numOld, ExcludeTags: tt.exclude, Now: now}
		if tt.min >= 0 {
			r.MinVersionsToKeep = intp(tt.min)
		}
		p, err := MakePlan(g, r)
		if err != nil {
			t.Fatal(err)
		}
		got, want := deletedSet(p), deletePackageVersions(flat, tt.min, tt.numOld, tt.exclude)
		for d := range want {
			if !got[d] {
				t.Errorf("%s: keeps %v (created %s), delete-package-versions deletes it", tt.name, g.Nodes[d].Tags, g.Nodes[d].Created.Format(time.DateOnly))
			}
		}
		for d := range got {
			if !want[d] {
				t.Errorf("%s: deletes %v (created %s), delete-package-versions keeps it", tt.name, g.Nodes[d].Tags, g.Nodes[d].Created.Format(time.DateOnly))
			}
		}
	}
}

// A version, for the counts, is a top-level image with what it lists and its signatures: a multi-arch release
// counts once, its platform images go with it, and one a newer index shares stays. older-than and
// untagged-older-than narrow what is counted, as exclude-tags does.
func TestCountsAreOfImages(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	mk := func(i int, kind Kind, age time.Duration, tags ...string) *Node {
		n := &Node{Digest: digestOf(i), ID: int64(i), Kind: kind, Created: now.Add(-age), Tags: tags}
		g.Nodes[n.Digest] = n
		return n
	}
	shared, newOnly, oldOnly := mk(1, KindImage, 20*24*time.Hour), mk(2, KindImage, 2*24*time.Hour), mk(3, KindImage, 20*24*time.Hour)
	newIdx := mk(4, KindIndex, 2*24*time.Hour, "v2")
	newIdx.Children = []string{shared.Digest, newOnly.Digest}
	oldIdx := mk(5, KindIndex, 20*24*time.Hour, "v1")
	oldIdx.Children = []string{shared.Digest, oldOnly.Digest}
	sig := mk(6, KindSignature, 20*24*time.Hour, "sha256-"+strings.TrimPrefix(oldIdx.Digest, "sha256:")+".sig")
	sig.Subject = oldIdx.Digest
	inFlight := mk(7, KindImage, time.Hour) // untagged, pushed by digest an hour ago
	older := mk(8, KindImage, 30*24*time.Hour)

	for _, tt := range []struct {
		name    string
		rules   Rules
		deleted []*Node
	}{
		// newest first: inFlight, v2, v1, older; v1 goes with its own platform image and its signature
		{"min-versions-to-keep 2", Rules{MinVersionsToKeep: intp(2)}, []*Node{oldIdx, oldOnly, sig, older}},
		{"num-old-versions-to-delete 2", Rules{NumOldVersionsToDelete: 2}, []*Node{oldIdx, oldOnly, sig, older}},
		// the image in its grace period is not counted: v2 and v1 are the newest two
		{"min-versions-to-keep 2, untagged-older-than 1d", Rules{MinVersionsToKeep: intp(2), UntaggedOlderThan: 24 * time.Hour}, []*Node{older}},
		// only what is older than 10 days is counted, and all of it goes
		{"min-versions-to-keep 0, older-than 10d", Rules{MinVersionsToKeep: intp(0), OlderThan: 10 * 24 * time.Hour}, []*Node{oldIdx, oldOnly, sig, older}},
		{"min-versions-to-keep 0, exclude-tags v1", Rules{MinVersionsToKeep: intp(0), ExcludeTags: []string{"v1"}}, []*Node{newIdx, newOnly, inFlight, older}},
	} {
		tt.rules.KeepNTagged, tt.rules.KeepNUntagged, tt.rules.Now = -1, -1, now
		p, err := MakePlan(g, tt.rules)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, n := range tt.deleted {
			want[n.Digest] = true
		}
		got := deletedSet(p)
		for d := range got {
			if !want[d] {
				t.Errorf("%s: deletes %s %v", tt.name, g.Nodes[d].Kind, g.Nodes[d].Tags)
			}
		}
		for d := range want {
			if !got[d] {
				t.Errorf("%s: keeps %s %v", tt.name, g.Nodes[d].Kind, g.Nodes[d].Tags)
			}
		}
		if got[shared.Digest] {
			t.Errorf("%s: deleted the platform image v2 still lists", tt.name)
		}
	}
}

// package-version-ids deletes what it names and nothing a kept image needs: a platform image of a kept index,
// a kept image's signature, an excluded image stay, each with the reason, which names the image that needs it.
func TestPackageVersionIDs(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	mk := func(i int, kind Kind, tags ...string) *Node {
		n := &Node{Digest: digestOf(i), ID: int64(1000 + i), Kind: kind, Created: now.Add(-time.Duration(i) * time.Hour), Tags: tags}
		g.Nodes[n.Digest] = n
		return n
	}
	sigOf := func(i int, subject *Node) *Node {
		s := mk(i, KindSignature, "sha256-"+strings.TrimPrefix(subject.Digest, "sha256:")+".sig")
		s.Subject = subject.Digest
		return s
	}
	k1, k2 := mk(1, KindImage), mk(2, KindImage)
	kept := mk(3, KindIndex, "v3")
	kept.Children = []string{k1.Digest, k2.Digest}
	keptSig, k1Sig := sigOf(4, kept), sigOf(5, k1)
	o1, o2 := mk(6, KindImage), mk(7, KindImage)
	old := mk(8, KindIndex, "v1")
	old.Children = []string{o1.Digest, o2.Digest}
	oldSig := sigOf(9, old)
	f1, f2 := mk(10, KindImage), mk(11, KindImage)
	orphan := mk(12, KindSignature, "sha256-"+strings.Repeat("e", 64)+".sig")
	orphan.Subject = "sha256:" + strings.Repeat("e", 64)
	prod := mk(13, KindImage, "prod")

	for _, tt := range []struct {
		name    string
		ids     []*Node
		deleted []*Node
		refused map[*Node]string // a part of the reason
	}{
		{"untagged images", []*Node{f1, f2}, []*Node{f1, f2}, nil},
		{"an index goes with what it lists and its signature", []*Node{old}, []*Node{old, o1, o2, oldSig}, nil},
		{"an index and one of its platform images", []*Node{old, o1}, []*Node{old, o1, o2, oldSig}, nil},
		{"a platform image of a kept index", []*Node{k1, f1}, []*Node{f1},
			map[*Node]string{k1: "the kept index " + short(kept.Digest) + " (v3) lists it; deleting it would break that image"}},
		{"a kept index's signature", []*Node{keptSig}, nil, map[*Node]string{keptSig: "it is a signature of the kept index " + short(kept.Digest) + " (v3)"}},
		{"a signature of a kept platform image", []*Node{k1Sig}, nil,
			map[*Node]string{k1Sig: "it is a signature of " + short(k1.Digest) + ", which the kept index " + short(kept.Digest) + " (v3) reaches"}},
		{"an orphan signature", []*Node{orphan}, []*Node{orphan}, nil},
		{"an excluded image", []*Node{prod, k2}, nil, map[*Node]string{prod: "excluded by exclude-tags", k2: "the kept index"}},
	} {
		r := Rules{KeepNTagged: -1, KeepNUntagged: -1, ExcludeTags: []string{"prod"}, Now: now}
		for _, n := range tt.ids {
			r.VersionIDs = append(r.VersionIDs, n.ID)
		}
		p, err := MakePlan(g, r)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := map[string]bool{}
		for _, n := range tt.deleted {
			want[n.Digest] = true
		}
		got := deletedSet(p)
		if len(got) != len(want) {
			t.Errorf("%s: deletes %d versions, want %d", tt.name, len(got), len(want))
		}
		for d := range want {
			if !got[d] {
				t.Errorf("%s: keeps version %d", tt.name, g.Nodes[d].ID)
			}
		}
		for _, d := range p.Delete {
			if tt.ids[0] == old && d.Digest == o1.Digest && len(tt.ids) == 2 && d.Reason != namedReason {
				t.Errorf("%s: the named platform image is deleted because %q", tt.name, d.Reason)
			}
		}
		if len(p.Refused) != len(tt.refused) {
			t.Errorf("%s: refused %+v", tt.name, p.Refused)
		}
		for _, d := range p.Refused {
			part := tt.refused[g.Nodes[d.Digest]]
			if part == "" || d.ID != g.Nodes[d.Digest].ID || !strings.HasPrefix(d.Reason, namedReason+", refused: ") || !strings.Contains(d.Reason, part) {
				t.Errorf("%s: refused version %d: %q, want it to say %q", tt.name, d.ID, d.Reason, part)
			}
		}
	}

	_, err := MakePlan(g, Rules{KeepNTagged: -1, KeepNUntagged: -1, VersionIDs: []int64{f1.ID, 999}, Now: now})
	if err == nil || !strings.Contains(err.Error(), `input "package-version-ids": 999: not a version of this package`) {
		t.Errorf("an unknown id: %v", err)
	}
}

// Inputs that cannot mean one thing together are an input error naming them, before any registry is read.
func TestDropInInputCombinations(t *testing.T) {
	base := func() *Inputs {
		return &Inputs{Registry: "ghcr.io", PackagesAPI: "auto", Packages: []string{"app"}, KeepNTagged: -1, KeepNUntagged: -1, MinVersionsToKeep: -1}
	}
	for _, tt := range []struct {
		name string
		edit func(*Inputs)
		want string // "" when valid
	}{
		{"min-versions-to-keep alone", func(in *Inputs) { in.MinVersionsToKeep = 3 }, ""},
		{"min-versions-to-keep with filters", func(in *Inputs) {
			in.MinVersionsToKeep, in.ExcludeTags, in.OlderThan, in.UntaggedOlderThan = 3, []string{"v*"}, "30 days", "1d"
		}, ""},
		{"num-old-versions-to-delete with delete-orphans", func(in *Inputs) { in.NumOldVersionsToDelete, in.DeleteOrphans = 2, true }, ""},
		{"package-version-ids with exclude-tags", func(in *Inputs) { in.PackageVersionIDs, in.ExcludeTags = []string{"12", "34"}, []string{"prod"} }, ""},
		{"package-version-ids on the repository's package", func(in *Inputs) { in.PackageVersionIDs, in.Packages = []string{"12"}, nil }, ""},
		{"both counts", func(in *Inputs) { in.MinVersionsToKeep, in.NumOldVersionsToDelete = 3, 2 },
			`inputs "min-versions-to-keep" and "num-old-versions-to-delete" cannot be used together`},
		{"min-versions-to-keep with keep-n-tagged", func(in *Inputs) { in.MinVersionsToKeep, in.KeepNTagged = 3, 10 },
			`input "min-versions-to-keep" counts every image, tagged or not, so it cannot be used with "keep-n-tagged"`},
		{"num-old-versions-to-delete with delete-untagged", func(in *Inputs) { in.NumOldVersionsToDelete, in.DeleteUntagged = 1, true },
			`input "num-old-versions-to-delete" counts every image, tagged or not, so it cannot be used with "delete-untagged"`},
		{"package-version-ids with keep rules", func(in *Inputs) {
			in.PackageVersionIDs, in.KeepNTagged, in.MinVersionsToKeep, in.OlderThan = []string{"12"}, 10, 2, "30d"
		}, `input "package-version-ids" deletes exactly the versions it names, so it cannot be used with "min-versions-to-keep", "keep-n-tagged", "older-than"`},
		{"package-version-ids on an OCI registry", func(in *Inputs) { in.PackageVersionIDs, in.Registry = []string{"12"}, "registry.example.com" },
			`input "package-version-ids": version ids are the GitHub Packages API's, and registry.example.com is cleaned through its manifest DELETE`},
		{"package-version-ids with packages-api: oci", func(in *Inputs) { in.PackageVersionIDs, in.PackagesAPI = []string{"12"}, "oci" },
			`input "package-version-ids": version ids are the GitHub Packages API's`},
		{"package-version-ids over two packages", func(in *Inputs) { in.PackageVersionIDs, in.Packages = []string{"12"}, []string{"app", "web"} },
			`input "package-version-ids" names versions of one package, and "packages" names 2: app, web`},
		{"a bad id", func(in *Inputs) { in.PackageVersionIDs = []string{"MDE0OlBhY2thZ2VWZXJzaW9uOTcyMDY3"} },
			`input "package-version-ids": item "MDE0OlBhY2thZ2VWZXJzaW9uOTcyMDY3" is not a package version id`},
	} {
		in := base()
		tt.edit(in)
		_, err := in.Rules(now)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v\nwant %s", tt.name, err, tt.want)
		}
	}
}

// The graph invariants hold for delete-package-versions' rules too, on thousands of random graphs: nothing a
// kept image reaches is deleted, a child goes only after every index listing it, nothing excluded goes, and every
// named version is either deleted or refused with a reason.
func TestVersionRulesKeepInvariantsOnRandomGraphs(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	refusedSome, deletedSome := 0, 0
	for c := 0; c < 3000; c++ {
		g := randomGraph(rng)
		r := Rules{KeepNTagged: -1, KeepNUntagged: -1, Now: now}
		if rng.Intn(2) == 0 {
			r.ExcludeTags = []string{[]string{"latest*", "v*", "main0"}[rng.Intn(3)]}
		}
		named := map[int64]bool{}
		switch rng.Intn(3) {
		case 0:
			r.MinVersionsToKeep = intp(rng.Intn(4))
			if rng.Intn(2) == 0 {
				r.OlderThan = time.Duration(rng.Intn(60*24)) * time.Hour
			}
		case 1:
			r.NumOldVersionsToDelete = 1 + rng.Intn(4)
			if rng.Intn(2) == 0 {
				r.UntaggedOlderThan = time.Duration(rng.Intn(30*24)) * time.Hour
			}
		default:
			for _, d := range slices.Sorted(maps.Keys(g.Nodes)) {
				if n := g.Nodes[d]; rng.Intn(4) == 0 && !named[n.ID] {
					named[n.ID] = true
					r.VersionIDs = append(r.VersionIDs, n.ID)
				}
			}
		}
		p, err := MakePlan(g, r)
		if err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		deleted := map[string]int{}
		for i, d := range p.Delete {
			deleted[d.Digest] = i + 1
		}
		if len(p.Delete)+len(p.Keep) != len(g.Nodes) {
			t.Fatalf("case %d: %d deleted + %d kept != %d versions", c, len(p.Delete), len(p.Keep), len(g.Nodes))
		}
		excl, _ := compile(r.ExcludeTags, false)
		referrers, parents := g.referrers(), g.parents()
		for _, k := range p.Keep {
			reach := map[string]bool{}
			g.reach(k.Digest, reach, referrers)
			for d := range reach {
				if deleted[d] > 0 {
					t.Fatalf("case %d: kept %s …%s (%s) reaches %s …%s, which is deleted (%s)", c, g.Nodes[k.Digest].Kind, k.Digest[64:], k.Reason,
						g.Nodes[d].Kind, d[64:], p.Delete[deleted[d]-1].Reason)
				}
			}
		}
		for _, d := range p.Delete {
			if slicesAny(userTags(g.Nodes[d.Digest]), excl) {
				t.Fatalf("case %d: %s has an excluded tag and is deleted", c, short(d.Digest))
			}
			for _, parent := range parents[d.Digest] {
				if deleted[parent] == 0 || deleted[parent] > deleted[d.Digest] {
					t.Fatalf("case %d: %s is deleted, its parent %s kept or deleted after it", c, short(d.Digest), short(parent))
				}
			}
		}
		refused := map[int64]string{}
		for _, d := range p.Refused {
			refused[d.ID] = d.Reason
		}
		for id := range named {
			var n *Node
			for _, x := range g.Nodes {
				if x.ID == id {
					n = x
				}
			}
			switch {
			case deleted[n.Digest] > 0 && refused[id] != "":
				t.Fatalf("case %d: version %d is deleted and refused", c, id)
			case deleted[n.Digest] == 0 && !strings.HasPrefix(refused[id], namedReason+", refused: "):
				t.Fatalf("case %d: version %d is named, kept, and not refused", c, id)
			}
		}
		if len(p.Refused) > 0 {
			refusedSome++
		}
		if len(p.Delete) > 0 {
			deletedSome++
		}
	}
	if refusedSome < 300 || deletedSome < 1500 {
		t.Errorf("%d cases refused and %d deleted anything: the test proves little", refusedSome, deletedSome)
	}
}
