package cleanup

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// protected are the tags the rendered workflow excludes by default (see internal/render).
var protected = []string{"[0-9]*.[0-9]*", "v[0-9]*.[0-9]*", "latest", "prod", "staging", "dev", "main"}

// keep-n-tagged counts only what exclude-tags leaves, as dataaxiom's action does (exclusion takes an image out
// of every rule's scope before keep-n-tagged counts): releases, latest and the branch's image are kept and
// take none of the ten places.
func TestKeepNTaggedCountsOnlyWhatExcludeTagsLeaves(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	mk := func(i int, age time.Duration, tags ...string) *Node {
		n := &Node{Digest: digestOf(i), Kind: KindImage, Created: now.Add(-age), Tags: tags}
		g.Nodes[n.Digest] = n
		return n
	}
	var pushes []*Node // oldest first; the newest still carries main
	for i := 0; i < 15; i++ {
		tags := []string{fmt.Sprintf("sha-%07x", i)}
		if i == 14 {
			tags = append(tags, "main")
		}
		pushes = append(pushes, mk(i+1, time.Duration(30-i)*24*time.Hour, tags...))
	}
	// releases older than every push, so that only exclusion keeps them
	releases := []*Node{mk(100, 60*24*time.Hour, "1.0.0", "1.0", "sha-aaaaaaa"), mk(101, 50*24*time.Hour, "v1.1.0", "1.1", "latest")}
	dev := mk(102, 40*24*time.Hour, "dev", "sha-bbbbbbb")

	for _, tt := range []struct {
		name    string
		exclude []string
		deleted []*Node
	}{
		// 14 pushes are left to count: the 4 oldest go
		{"rendered defaults", protected, pushes[:4]},
		// without exclusion the 10 newest of all 18 tagged images stay: every release goes
		{"no exclude-tags", nil, append(append([]*Node{dev}, releases...), pushes[:5]...)},
	} {
		p, err := MakePlan(g, Rules{KeepNTagged: 10, KeepNUntagged: -1, DeleteUntagged: true, ExcludeTags: tt.exclude, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, n := range tt.deleted {
			want[n.Digest] = true
		}
		for _, d := range p.Delete {
			if !want[d.Digest] {
				t.Errorf("%s: deletes %v (%s)", tt.name, d.Tags, d.Reason)
			}
			delete(want, d.Digest)
		}
		for d := range want {
			t.Errorf("%s: keeps %v", tt.name, g.Nodes[d].Tags)
		}
		w := releaseWarning("r", p, Rules{ExcludeTags: tt.exclude})
		if (w != "") != (tt.exclude == nil) {
			t.Errorf("%s: release warning %q", tt.name, w)
		}
	}
}

// untagged-older-than keeps untagged images younger than it out of the untagged rules, so that a push by digest
// survives until its run merges it; older ones go as before.
func TestUntaggedGracePeriod(t *testing.T) {
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	mk := func(i int, age time.Duration) *Node {
		n := &Node{Digest: digestOf(i), Kind: KindImage, Created: now.Add(-age)}
		g.Nodes[n.Digest] = n
		return n
	}
	inFlight, dayOld, older := mk(1, time.Minute), mk(2, 25*time.Hour), mk(3, 72*time.Hour)
	for _, tt := range []struct {
		name    string
		rules   Rules
		deleted []*Node
	}{
		{"delete-untagged", Rules{KeepNTagged: -1, KeepNUntagged: -1, DeleteUntagged: true, UntaggedOlderThan: 24 * time.Hour}, []*Node{dayOld, older}},
		{"no grace", Rules{KeepNTagged: -1, KeepNUntagged: -1, DeleteUntagged: true}, []*Node{inFlight, dayOld, older}},
		// the image in its grace period takes no place: the newest one older than a day stays
		{"keep-n-untagged", Rules{KeepNTagged: -1, KeepNUntagged: 1, UntaggedOlderThan: 24 * time.Hour}, []*Node{older}},
		// older-than still narrows every rule
		{"with older-than", Rules{KeepNTagged: -1, KeepNUntagged: -1, DeleteUntagged: true, UntaggedOlderThan: 24 * time.Hour, OlderThan: 48 * time.Hour}, []*Node{older}},
	} {
		tt.rules.Now = now
		p, err := MakePlan(g, tt.rules)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, d := range p.Delete {
			got = append(got, short(d.Digest))
		}
		for _, n := range tt.deleted {
			want = append(want, short(n.Digest))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: deletes %v, want %v", tt.name, got, want)
		}
		for _, k := range p.Keep {
			if k.Digest == inFlight.Digest && tt.rules.UntaggedOlderThan > 0 && !strings.Contains(k.Reason, "untagged-older-than") {
				t.Errorf("%s: the in-flight image is kept because %q", tt.name, k.Reason)
			}
		}
	}
}

// A plan that deletes a release while exclude-tags is empty warns, naming the tags, in a dry run as in a real
// one; with exclude-tags set it does not.
func TestCleanupWarnsWhenReleasesAreUnprotected(t *testing.T) {
	reg := testenv.NeedRegistry(t)
	repo := testenv.Unique(t, reg)
	ref, _ := name.NewRepository(repo)
	for i, tags := range [][]string{{"1.0.0", "1.0"}, {"1.1.0", "1.1", "latest"}} {
		img, err := mutate.CreatedAt(testenv.Image(t, "linux/amd64", testenv.Layer{"release": tags[0]}),
			v1.Time{Time: time.Date(2026, 3, 1+i, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		testenv.Push(t, ref.Tag(tags[0]).String(), img)
		for _, tag := range tags[1:] {
			if err := remote.Tag(ref.Tag(tag), img); err != nil {
				t.Fatal(err)
			}
		}
	}
	host, pkg, _ := strings.Cut(repo, "/")
	const warning = "::warning::" // what a runner turns into an annotation
	for _, tt := range []struct {
		name, exclude string
		dryRun        string
		warns         bool
	}{
		{"dry run", "", "true", true},
		{"exclude-tags set", "[0-9]*.[0-9]*,latest", "true", false},
		{"real run", "", "false", true},
	} {
		code, log, out := runStep(t, Action(), map[string]string{"registry": host, "packages": pkg, "keep-n-tagged": "1",
			"exclude-tags": tt.exclude, "dry-run": tt.dryRun})
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", tt.name, code, log)
		}
		line := ""
		for _, l := range strings.Split(log, "\n") {
			if strings.HasPrefix(l, warning) && strings.Contains(l, "semver") {
				line = l
			}
		}
		switch {
		case tt.warns && !strings.Contains(line, "(1.0, 1.0.0)"):
			t.Errorf("%s: no warning naming 1.0 and 1.0.0 (deleted %s)\n%s", tt.name, out["deleted"], log)
		case tt.warns && strings.Contains(line, "1.1"):
			t.Errorf("%s: the warning names a kept release: %s", tt.name, line)
		case !tt.warns && line != "":
			t.Errorf("%s: %s", tt.name, line)
		}
	}
	if _, err := remote.Head(ref.Tag("1.0.0")); err == nil {
		t.Error("the real run kept 1.0.0")
	}
	if _, err := remote.Image(ref.Tag("1.1.0")); err != nil {
		t.Errorf("1.1.0: %v", err)
	}
}
