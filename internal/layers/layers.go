package layers

import (
	"archive/tar"
	"io"
	"iter"
	"path"
	"strings"
)

// Kind is what a tar entry of a layer does to the filesystem of the layers below it.
type Kind int

// The kinds of entry. Only files and deletions change what Stack holds.
const (
	// Other is a directory, a link or a device: not tracked.
	Other Kind = iota
	// File is a regular file: it replaces a lower copy of its path.
	File
	// Whiteout (.wh.<name>) deletes its path, and everything below it, from the lower layers.
	Whiteout
	// Opaque (.wh..wh..opq) deletes everything below its directory from the lower layers.
	Opaque
)

// Entry is one tar entry of a layer, its path absolute and clean, whiteout markers decoded.
type Entry struct {
	Kind Kind
	// Path is the file's path; for Whiteout the path deleted, for Opaque the directory emptied.
	Path   string
	Header *tar.Header
}

// Decode reads what a tar header means for the filesystem.
func Decode(hdr *tar.Header) Entry {
	p := path.Clean("/" + hdr.Name)
	dir, base := path.Split(p)
	switch {
	case base == ".wh..wh..opq":
		return Entry{Kind: Opaque, Path: path.Clean(dir), Header: hdr}
	case strings.HasPrefix(base, ".wh."):
		return Entry{Kind: Whiteout, Path: path.Join(dir, strings.TrimPrefix(base, ".wh.")), Header: hdr}
	case hdr.Typeflag == tar.TypeReg:
		return Entry{Kind: File, Path: p, Header: hdr}
	}
	return Entry{Kind: Other, Path: p, Header: hdr}
}

// Read reads one layer's tar stream and calls fn for each entry, in order. For a File, fn may read its content
// from content before it returns; what it leaves unread is skipped. Read returns fn's error as it is, and the
// tar reader's.
func Read(r io.Reader, fn func(e Entry, content io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(Decode(hdr), tr); err != nil {
			return err
		}
	}
}

// Copy is one path's copy in a Stack: the layer that wrote it (0 is the lowest) and what the caller keeps of it.
type Copy[T any] struct {
	Layer int
	Value T
}

// Stack is the filesystem that applying layers in order leaves: for each path, the copy of the layer that
// wrote it last. Deletions apply to lower layers only, as the OCI image spec says, so the entries of one layer
// may come in any order.
type Stack[T any] struct {
	files map[string]Copy[T]
}

// NewStack is an empty filesystem, before the first layer.
func NewStack[T any]() *Stack[T] { return &Stack[T]{files: map[string]Copy[T]{}} }

// Write puts layer's copy of path, and returns the copy it replaces, if any.
func (s *Stack[T]) Write(path string, layer int, v T) (prev Copy[T], replaced bool) {
	prev, replaced = s.files[path]
	s.files[path] = Copy[T]{Layer: layer, Value: v}
	return prev, replaced
}

// Delete applies a Whiteout or Opaque entry of layer and returns the lower copies it removes; other entries
// remove nothing.
func (s *Stack[T]) Delete(e Entry, layer int) []Copy[T] {
	var gone []Copy[T]
	for p, c := range s.files {
		if c.Layer < layer && deletes(e, p) {
			gone = append(gone, c)
			delete(s.files, p)
		}
	}
	return gone
}

func deletes(e Entry, p string) bool {
	switch e.Kind {
	case Whiteout:
		return p == e.Path || strings.HasPrefix(p, strings.TrimSuffix(e.Path, "/")+"/")
	case Opaque:
		return strings.HasPrefix(p, strings.TrimSuffix(e.Path, "/")+"/")
	}
	return false
}

// Get is path's surviving copy.
func (s *Stack[T]) Get(path string) (Copy[T], bool) {
	c, ok := s.files[path]
	return c, ok
}

// Len is the number of paths the filesystem holds.
func (s *Stack[T]) Len() int { return len(s.files) }

// All yields every surviving path and its copy, in no particular order.
func (s *Stack[T]) All() iter.Seq2[string, Copy[T]] {
	return func(yield func(string, Copy[T]) bool) {
		for p, c := range s.files {
			if !yield(p, c) {
				return
			}
		}
	}
}
