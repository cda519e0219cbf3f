package cleanup

import (
	"sort"
	"strings"
	"time"
)

// Kind is what a manifest is, for retention.
type Kind string

// The kinds of manifest. Only images and indexes are top-level; the rest follow what they belong to.
const (
	KindImage       Kind = "image"
	KindIndex       Kind = "index"
	KindSignature   Kind = "signature"   // cosign .sig, or a sigstore bundle referrer
	KindAttestation Kind = "attestation" // cosign .att, in-toto
	KindSBOM        Kind = "sbom"        // cosign .sbom
	KindReferrer    Kind = "referrer"    // any other OCI 1.1 referrer
	KindBuildxAtt   Kind = "buildx-attestation"
)

// Node is one manifest of a package: a version.
type Node struct {
	Digest  string
	ID      int64 // the GitHub Packages version id (0 on other registries)
	Tags    []string
	Created time.Time
	Kind    Kind
	// Children are the manifests an index lists; Subject is the manifest a referrer (signature, attestation) is about.
	Children []string
	Subject  string
	// Public and Downloads matter on GHCR: a public version downloaded more than 5,000 times cannot be deleted.
	Public    bool
	Downloads int64
}

// Graph is every version of a package and how they refer to each other.
type Graph struct {
	Nodes map[string]*Node
	// Missing lists digests an index names but the registry does not have.
	Missing map[string]bool
}

// parents maps each manifest to the indexes that list it.
func (g *Graph) parents() map[string][]string {
	p := map[string][]string{}
	for _, n := range g.Nodes {
		for _, c := range n.Children {
			p[c] = append(p[c], n.Digest)
		}
	}
	return p
}

// referrers maps each manifest to the signatures, attestations and other referrers about it.
func (g *Graph) referrers() map[string][]string {
	r := map[string][]string{}
	for _, n := range g.Nodes {
		if n.Subject != "" {
			r[n.Subject] = append(r[n.Subject], n.Digest)
		}
	}
	return r
}

// topLevel lists the versions retention rules apply to: images and indexes no index lists, and those that
// carry tags of their own (a tag is a promise that they pull on their own).
func (g *Graph) topLevel() []*Node {
	parents := g.parents()
	var out []*Node
	for _, n := range g.Nodes {
		if (n.Kind == KindImage || n.Kind == KindIndex) && (len(parents[n.Digest]) == 0 || len(userTags(n)) > 0) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created) // newest first
		}
		return out[i].Digest < out[j].Digest
	})
	return out
}

// reach adds to set every manifest reachable from digest: an index's children (nested too) and the
// referrers of anything reached (signatures of signatures too).
func (g *Graph) reach(digest string, set map[string]bool, referrers map[string][]string) {
	if set[digest] {
		return
	}
	set[digest] = true
	if n, ok := g.Nodes[digest]; ok {
		for _, c := range n.Children {
			g.reach(c, set, referrers)
		}
	}
	for _, r := range referrers[digest] {
		g.reach(r, set, referrers)
	}
}

// subjectOfTag reads cosign's tag schema: sha256-<hex>.sig / .att / .sbom, and sha256-<hex> (the referrers
// fallback tag of registries without the referrers API).
func subjectOfTag(tag string) (digest string, kind Kind, ok bool) {
	rest, found := strings.CutPrefix(tag, "sha256-")
	if !found {
		return "", "", false
	}
	hex, suffix, _ := strings.Cut(rest, ".")
	if len(hex) != 64 {
		return "", "", false
	}
	switch suffix {
	case "sig":
		kind = KindSignature
	case "att":
		kind = KindAttestation
	case "sbom":
		kind = KindSBOM
	case "":
		kind = KindReferrer
	default:
		return "", "", false
	}
	return "sha256:" + hex, kind, true
}
