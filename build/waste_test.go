package build

import (
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

func TestAnalyzeWaste(t *testing.T) {
	a, b1, b2, c := strings.Repeat("a", 1000), strings.Repeat("b", 2000), strings.Repeat("B", 3000), strings.Repeat("c", 500)
	img := testenv.Image(t, "linux/amd64",
		testenv.Layer{"app/": "", "app/a": a, "app/b": b1, "app/c": c},
		testenv.Layer{"app/a": a, "app/b": b2, "app/.wh.c": ""},
		testenv.Layer{"app/d": "dddd"},
	)
	w, err := AnalyzeWaste(img)
	if err != nil {
		t.Fatal(err)
	}
	if w.Files != 7504 || w.Wasted != 3500 {
		t.Errorf("files %d wasted %d; want 7504 and 3500 (a: 1000 rewritten unchanged, b: 2000 replaced, c: 500 deleted)", w.Files, w.Wasted)
	}
	if l := w.Layers[1]; l.Shadowed != 3500 || l.SameContent != 1000 || l.Rewritten != 2 {
		t.Errorf("layer 2: %+v", l)
	}
	if len(w.Top) != 3 || w.Top[0].Path != "/app/b" || w.Top[0].Wasted != 2000 || w.Top[0].Copies != 2 {
		t.Errorf("top: %+v", w.Top)
	}
	if len(w.Hints) != 0 {
		t.Errorf("hints for a small rewrite: %v", w.Hints)
	}
}

// A layer that only rewrites earlier files unchanged (what RUN chown -R does) gets the COPY --chown hint.
func TestAnalyzeWasteChownHint(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	img := testenv.Image(t, "linux/amd64",
		testenv.Layer{"app/data.bin": big, "app/other": "1"},
		testenv.Layer{"app/data.bin": big, "app/other": "1"},
	)
	w, err := AnalyzeWaste(img)
	if err != nil {
		t.Fatal(err)
	}
	if w.Wasted != int64(len(big))+1 || len(w.Hints) != 1 || !strings.Contains(w.Hints[0], "COPY --chown") ||
		!strings.Contains(w.Hints[0], "layer 2") {
		t.Errorf("wasted %d, hints %v", w.Wasted, w.Hints)
	}
	// Opaque directories delete everything below them.
	img = testenv.Image(t, "linux/amd64", testenv.Layer{"app/x": "12345"}, testenv.Layer{"app/.wh..wh..opq": "", "app/y": "1"})
	if w, _ = AnalyzeWaste(img); w.Wasted != 5 {
		t.Errorf("opaque dir: wasted %d, want 5", w.Wasted)
	}
}
