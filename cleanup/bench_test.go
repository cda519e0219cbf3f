package cleanup

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// graphOf makes n versions shaped like a busy package: releases of two-platform indexes with buildx attestation
// manifests and signatures on the index and each platform, plus untagged single images.
func graphOf(n int) *Graph {
	rng := rand.New(rand.NewSource(7))
	g := &Graph{Nodes: map[string]*Node{}, Missing: map[string]bool{}}
	id := 0
	add := func(kind Kind, tags ...string) *Node {
		id++
		nd := &Node{Digest: digestOf(id), ID: int64(id), Kind: kind, Tags: tags, Created: now.Add(-time.Duration(rng.Intn(365*24)) * time.Hour)}
		g.Nodes[nd.Digest] = nd
		return nd
	}
	sig := func(subject string) {
		s := add(KindSignature, "sha256-"+strings.TrimPrefix(subject, "sha256:")+".sig")
		s.Subject = subject
	}
	for len(g.Nodes) < n {
		if rng.Intn(4) == 0 {
			add(KindImage)
			continue
		}
		idx := add(KindIndex, fmt.Sprintf("v%d", id), fmt.Sprintf("sha-%x", id))
		for range 2 {
			img, att := add(KindImage), add(KindBuildxAtt)
			idx.Children = append(idx.Children, img.Digest, att.Digest)
			sig(img.Digest)

		}
		sig(idx.Digest)
	}
	return g
}

// BenchmarkPlan10000 plans the retention of 10,000 versions (keep-n-tagged, delete-untagged, orphans).
func BenchmarkPlan10000(b *testing.B) {
	g := graphOf(10000)
	rules := Rules{KeepNTagged: 20, KeepNUntagged: -1, DeleteUntagged: true, DeleteOrphans: true, ExcludeTags: []string{"v1*"}, Now: now}
	b.ResetTimer()
	var p *Plan
	for i := 0; i < b.N; i++ {
		var err error
		if p, err = MakePlan(g, rules); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Delete)), "deletions")
}
