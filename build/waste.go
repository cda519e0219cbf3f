package build

import (
	"fmt"
	"hash/maphash"
	"io"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/layers"
)

// Waste is what an image's layers hold that its final filesystem does not need: files written in one layer
// and rewritten or deleted in a later one. Unlike dive's "wasted bytes", the surviving copy is not counted.
type Waste struct {
	Files      int64 // bytes of regular files in all layers
	Layered    int64 // uncompressed bytes of all layers (tar streams), what docker reports as the image size
	Wasted     int64 // bytes of copies the final filesystem does not show
	Efficiency float64
	Top        []WastedPath // the paths wasting the most, largest first (at most 5)
	Layers     []LayerWaste // per layer, in order
	Hints      []string
}

// WastedPath is one path's waste.
type WastedPath struct {
	Path   string
	Copies int
	Wasted int64
}

// LayerWaste is what one layer did to the files of the layers below it.
type LayerWaste struct {
	CreatedBy string
	Size      int64 // uncompressed bytes of its files
	// Shadowed is the bytes of earlier copies this layer replaced or deleted: the waste it caused.
	Shadowed int64
	// SameContent is the part of Shadowed whose content this layer wrote again unchanged (owner or mode only).
	SameContent int64
	Rewritten   int
}

// write is one copy of a file: its size and a hash of its content.
type write struct {
	size int64
	sum  uint64
}

// wasteScan is the state of an analysis between layers: what the filesystem holds so far and every copy of
// every path ever written.
type wasteScan struct {
	seed   maphash.Seed
	live   *layers.Stack[write]
	copies map[string][]write
	w      *Waste
}

// AnalyzeWaste reads every layer of an image in order, honouring whiteouts and opaque directories.
func AnalyzeWaste(img v1.Image) (*Waste, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	var history []string
	for _, h := range cf.History {
		if !h.EmptyLayer {
			history = append(history, h.CreatedBy)
		}
	}
	s := &wasteScan{seed: maphash.MakeSeed(), live: layers.NewStack[write](), copies: map[string][]write{}, w: &Waste{}}
	for i, l := range ls {
		lw := LayerWaste{}
		if i < len(history) {
			lw.CreatedBy = history[i]
		}
		if err := s.layer(l, i, &lw); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		s.w.Layers = append(s.w.Layers, lw)
	}
	s.tally()
	s.hint()
	return s.w, nil
}

// layer applies one layer: what it replaces or deletes from the layers below is the waste it causes.
func (s *wasteScan) layer(l v1.Layer, i int, lw *LayerWaste) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	counted := &countingReader{r: rc}
	err = layers.Read(counted, func(e layers.Entry, content io.Reader) error {
		if e.Kind != layers.File {
			for _, c := range s.live.Delete(e, i) {
				lw.Shadowed += c.Value.size
			}
			return nil
		}
		h := maphash.Hash{}
		h.SetSeed(s.seed)
		n, err := io.Copy(&h, content)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		cur := write{size: n, sum: h.Sum64()}
		if prev, ok := s.live.Write(e.Path, i, cur); ok {
			lw.Shadowed += prev.Value.size
			lw.Rewritten++
			if prev.Value == cur {
				lw.SameContent += prev.Value.size
			}
		}
		s.copies[e.Path] = append(s.copies[e.Path], cur)
		lw.Size += n
		s.w.Files += n
		return nil
	})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, counted) // the tar's end padding counts too
	s.w.Layered += counted.n
	return nil
}

// tally adds up, per path, the copies the final filesystem does not show, and the efficiency.
func (s *wasteScan) tally() {
	w := s.w
	var paths []WastedPath
	for p, cs := range s.copies {
		var total int64
		for _, c := range cs {
			total += c.size
		}
		wasted := total
		if c, ok := s.live.Get(p); ok {
			wasted -= c.Value.size
		}
		if wasted > 0 {
			w.Wasted += wasted
			paths = append(paths, WastedPath{Path: p, Copies: len(cs), Wasted: wasted})
		}
	}
	sort.Slice(paths, func(i, j int) bool {
		if paths[i].Wasted != paths[j].Wasted {
			return paths[i].Wasted > paths[j].Wasted
		}
		return paths[i].Path < paths[j].Path
	})
	w.Top = paths[:min(5, len(paths))]
	if w.Files > 0 {
		w.Efficiency = 1 - float64(w.Wasted)/float64(w.Files)
	} else {
		w.Efficiency = 1
	}
}

// hint says which layers only changed the owner or mode of earlier files.
func (s *wasteScan) hint() {
	for i, lw := range s.w.Layers {
		// A layer that mostly writes earlier files again unchanged only changed their owner or mode.
		if lw.SameContent > 0 && lw.SameContent >= lw.Shadowed*9/10 && lw.SameContent >= 1<<20 {
			s.w.Hints = append(s.w.Hints, fmt.Sprintf("layer %d (%s) writes %d files again only to change their owner or mode, duplicating %s: "+
				"set them with COPY --chown/--chmod (or in the RUN that creates them) instead of a later RUN chown/chmod",
				i+1, shortCommand(lw.CreatedBy), lw.Rewritten, actionio.FormatBytes(lw.SameContent)))
		}
	}
}

// shortCommand is a history entry as the Dockerfile wrote it: BuildKit's "RUN |1 TARGETARCH=amd64 /bin/sh -c
// chown ..." becomes "RUN chown ...".
func shortCommand(createdBy string) string {
	s := strings.TrimSuffix(strings.TrimSpace(createdBy), " # buildkit")
	s = strings.TrimPrefix(s, "/bin/sh -c #(nop) ")
	if rest, ok := strings.CutPrefix(s, "RUN |"); ok { // build args BuildKit records before the command
		f := strings.Fields(rest)
		if n, err := strconv.Atoi(first(f)); err == nil && len(f) > n+1 {
			s = "RUN " + strings.Join(f[n+1:], " ")
		}
	}
	s = strings.Replace(s, "/bin/sh -c ", "", 1)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	if s == "" {
		return "no history"
	}
	return s
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func first(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
