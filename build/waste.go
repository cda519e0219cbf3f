package build

import (
	"archive/tar"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
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

type write struct {
	layer int
	size  int64
	sum   uint64
}

// AnalyzeWaste reads every layer of an image in order, honouring whiteouts and opaque directories.
func AnalyzeWaste(img v1.Image) (*Waste, error) {
	layers, err := img.Layers()
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
	seed := maphash.MakeSeed()
	live := map[string]write{}     // path -> its current copy
	copies := map[string][]write{} // path -> every copy ever written
	w := &Waste{}
	for i, l := range layers {
		lw := LayerWaste{}
		if i < len(history) {
			lw.CreatedBy = history[i]
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		counted := &countingReader{r: rc}
		tr := tar.NewReader(counted)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("layer %d: %w", i+1, err)
			}
			p := path.Clean("/" + hdr.Name)
			dir, base := path.Split(p)
			switch {
			case base == ".wh..wh..opq": // opaque directory: everything below it from earlier layers is gone
				for q, c := range live {
					if strings.HasPrefix(q, dir) && c.layer < i {
						lw.Shadowed += c.size
						delete(live, q)
					}
				}
			case strings.HasPrefix(base, ".wh."):
				gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
				for q, c := range live {
					if q == gone || strings.HasPrefix(q, gone+"/") {
						lw.Shadowed += c.size
						delete(live, q)
					}
				}
			case hdr.Typeflag == tar.TypeReg:
				h := maphash.Hash{}
				h.SetSeed(seed)
				n, err := io.Copy(&h, tr)
				if err != nil {
					rc.Close()
					return nil, fmt.Errorf("layer %d: %s: %w", i+1, p, err)
				}
				cur := write{layer: i, size: n, sum: h.Sum64()}
				if prev, ok := live[p]; ok {
					lw.Shadowed += prev.size
					lw.Rewritten++
					if prev.sum == cur.sum && prev.size == cur.size {
						lw.SameContent += prev.size
					}
				}
				live[p] = cur
				copies[p] = append(copies[p], cur)
				lw.Size += n
				w.Files += n
			}
		}
		io.Copy(io.Discard, counted) // the tar's end padding counts too
		rc.Close()
		w.Layered += counted.n
		w.Layers = append(w.Layers, lw)
	}
	var paths []WastedPath
	for p, cs := range copies {
		var total int64
		for _, c := range cs {
			total += c.size
		}
		wasted := total
		if c, ok := live[p]; ok {
			wasted -= c.size
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
	for i, lw := range w.Layers {
		// A layer that mostly writes earlier files again unchanged only changed their owner or mode.
		if lw.SameContent > 0 && lw.SameContent >= lw.Shadowed*9/10 && lw.SameContent >= 1<<20 {
			w.Hints = append(w.Hints, fmt.Sprintf("layer %d (%s) writes %d files again only to change their owner or mode, duplicating %s: "+
				"set them with COPY --chown/--chmod (or in the RUN that creates them) instead of a later RUN chown/chmod",
				i+1, shortCommand(lw.CreatedBy), lw.Rewritten, actionio.FormatBytes(lw.SameContent)))
		}
	}
	return w, nil
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
