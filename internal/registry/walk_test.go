package registry

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// countingRegistry is an in-process registry that counts the manifest GETs per digest or tag.
func countingRegistry(t *testing.T) (string, func() map[string]int) {
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	var mu sync.Mutex
	gets := map[string]int{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ref, ok := strings.Cut(r.URL.Path, "/manifests/"); ok && r.Method == http.MethodGet {
			mu.Lock()
			gets[ref]++
			mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := gets
		gets = map[string]int{}
		return out
	}
}

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// graph is a buildx-shaped index: two platform images and their attestation manifest, and a nested index
// holding a third platform.
func graph(t *testing.T) (root v1.ImageIndex, nested v1.ImageIndex, leaves map[string]v1.Image) {
	t.Helper()
	leaves = map[string]v1.Image{"linux/amd64": randomImage(t), "linux/arm64/v8": randomImage(t), "att": randomImage(t),
		"linux/s390x": randomImage(t)}
	nested = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: leaves["linux/s390x"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}})
	root = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: leaves["linux/amd64"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: leaves["linux/arm64/v8"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: leaves["att"], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}},
		mutate.IndexAddendum{Add: nested},
	)
	return root, nested, leaves
}

// seen is what a walk met, one line per manifest: its depth, platform (or kind) and whether it is an attestation.
func seen(n *Node) string {
	depth := 0
	for p := n.Parent; p != nil; p = p.Parent {
		depth++
	}
	what := n.Platform()
	if n.IsIndex() {
		what = "index"
	}
	if n.IsAttestation() {
		what += " (attestation)"
	}
	return fmt.Sprintf("%d %s", depth, what)
}

func TestWalk(t *testing.T) {
	host, gets := countingRegistry(t)
	root, nested, leaves := graph(t)
	ref, err := name.ParseReference(host + "/acme/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, root); err != nil {
		t.Fatal(err)
	}
	repo := ref.Context()
	want := []string{"0 index", "1 linux/amd64", "1 linux/arm64/v8", "1 unknown/unknown (attestation)", "1 index", "2 linux/s390x"}
	tests := []struct {
		name  string
		visit func(n *Node) error
		want  []string
		reads map[string]int // manifest GETs besides the root's
		err   string
	}{
		{"digests only: only the indexes are read", func(*Node) error { return nil }, want,
			map[string]int{digestOf(t, nested): 1}, ""},
		{"images read once each, however often asked", func(n *Node) error {
			if n.IsIndex() {
				return nil
			}
			for range 2 {
				if _, err := n.Image(); err != nil {
					return err
				}
			}
			return nil
		}, want, map[string]int{digestOf(t, nested): 1, digestOf(t, leaves["linux/amd64"]): 1, digestOf(t, leaves["linux/arm64/v8"]): 1,
			digestOf(t, leaves["att"]): 1, digestOf(t, leaves["linux/s390x"]): 1}, ""},
		{"an index read by its visit is not read again", func(n *Node) error {
			if n.IsIndex() {
				_, err := n.ImageIndex()
				return err
			}
			return nil
		}, want, map[string]int{digestOf(t, nested): 1}, ""},
		{"SkipChildren", func(n *Node) error {
			if n.IsIndex() && n.Parent != nil {
				return SkipChildren
			}
			return nil
		}, want[:5], map[string]int{}, ""},
		{"a visit's error stops the walk as it is", func(n *Node) error {
			if n.IsAttestation() {
				return errors.New("boom")
			}
			return nil
		}, want[:4], map[string]int{}, "boom"},
	}
	for _, tt := range tests {
		desc, err := remote.Get(repo.Digest(digestOf(t, root)))
		if err != nil {
			t.Fatal(err)
		}
		gets()
		var got []string
		err = Walk(repo, desc, func(n *Node) error {
			got = append(got, seen(n))
			if n.Parent != nil && n.Ref().String() != repo.Digest(n.Descriptor.Digest.String()).String() {
				t.Errorf("%s: ref %s", tt.name, n.Ref())
			}
			return tt.visit(n)
		})
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || err.Error() != tt.err) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: walked\n%q\nwant\n%q", tt.name, got, tt.want)
		}
		if reads := gets(); fmt.Sprint(reads) != fmt.Sprint(tt.reads) {
			t.Errorf("%s: manifest reads %v, want %v", tt.name, reads, tt.reads)
		}
	}
}

// A manifest an index lists that the registry lacks is the visitor's to judge: Image says 404.
func TestWalkMissingChild(t *testing.T) {
	host, _ := countingRegistry(t)
	root, _, leaves := graph(t)
	ref, _ := name.ParseReference(host + "/acme/app:v1")
	if err := remote.WriteIndex(ref, root); err != nil {
		t.Fatal(err)
	}
	repo := ref.Context()
	gone := digestOf(t, leaves["linux/arm64/v8"])
	if err := remote.Delete(repo.Digest(gone)); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	err = Walk(repo, desc, func(n *Node) error {
		if n.IsIndex() {
			return nil
		}
		_, err := n.Image()
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			missing = append(missing, n.Descriptor.Digest.String())
			return nil
		}
		return err
	})
	if err != nil || !slices.Equal(missing, []string{gone}) {
		t.Errorf("err %v, missing %v, want [%s]", err, missing, gone)
	}
}

// A single image is a root without children; an index opened elsewhere (a layout, memory) walks the same.
func TestWalkImageAndIndex(t *testing.T) {
	host, _ := countingRegistry(t)
	img := randomImage(t)
	ref, _ := name.ParseReference(host + "/acme/one:v1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = Walk(ref.Context(), desc, func(n *Node) error {
		got = append(got, seen(n))
		_, err := n.Image()
		return err
	})
	if err != nil || !slices.Equal(got, []string{"0 "}) {
		t.Errorf("single image: %q %v", got, err)
	}

	root, _, _ := graph(t)
	got = nil
	err = WalkIndex(root, func(n *Node) error {
		got = append(got, seen(n))
		if n.Ref() != (name.Digest{}) {
			t.Errorf("a walk of a local index has refs: %s", n.Ref())
		}
		if n.IsIndex() {
			_, err := n.Image()
			if err == nil {
				t.Errorf("%s: Image of an index", n)
			}
			return nil
		}
		_, err := n.Image()
		return err
	})
	if err != nil || !slices.Equal(got, []string{"0 index", "1 linux/amd64", "1 linux/arm64/v8", "1 unknown/unknown (attestation)", "1 index", "2 linux/s390x"}) {
		t.Errorf("local index: %q %v", got, err)
	}
}
