package layers

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"
)

// file is one tar entry: a name and content ("/" ending a name makes a directory).
type file struct{ name, content string }

func layerTar(t *testing.T, files ...file) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.content)), Typeflag: tar.TypeReg}
		if f.name[len(f.name)-1] == '/' {
			hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.content)
	}
	tw.Close()
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name string
		typ  byte
		want Entry
	}{
		{"app/a", tar.TypeReg, Entry{Kind: File, Path: "/app/a"}},
		{"./app/../app/a", tar.TypeReg, Entry{Kind: File, Path: "/app/a"}},
		{"app/", tar.TypeDir, Entry{Kind: Other, Path: "/app"}},
		{"app/link", tar.TypeSymlink, Entry{Kind: Other, Path: "/app/link"}},
		{"app/.wh.a", tar.TypeReg, Entry{Kind: Whiteout, Path: "/app/a"}},
		{"app/.wh..wh..opq", tar.TypeReg, Entry{Kind: Opaque, Path: "/app"}},
		{".wh..wh..opq", tar.TypeReg, Entry{Kind: Opaque, Path: "/"}},
	} {
		got := Decode(&tar.Header{Name: tt.name, Typeflag: tt.typ})
		if got.Kind != tt.want.Kind || got.Path != tt.want.Path {
			t.Errorf("Decode(%q) = %v %q, want %v %q", tt.name, got.Kind, got.Path, tt.want.Kind, tt.want.Path)
		}
	}
}

// Layers apply in order: a later copy replaces an earlier one, a whiteout deletes a path and what is below it,
// an opaque directory empties what lower layers put below it; deletions never touch the layer's own files,
// whatever their order in the tar.
func TestStack(t *testing.T) {
	tests := []struct {
		name    string
		layers  [][]file
		want    map[string]string // surviving path -> "layer:content"
		removed []string          // per layer: the contents its writes replaced and its deletions removed
	}{
		{"replace", [][]file{{{"a", "1"}}, {{"a", "2"}}}, map[string]string{"/a": "1:2"}, []string{"[]", "[1]"}},
		{"whiteout a file", [][]file{{{"d/a", "1"}, {"d/b", "2"}}, {{"d/.wh.a", ""}}}, map[string]string{"/d/b": "0:2"}, []string{"[]", "[1]"}},
		{"whiteout a directory", [][]file{{{"d/", ""}, {"d/a", "1"}, {"d/e/b", "2"}, {"dd", "3"}}, {{".wh.d", ""}}},
			map[string]string{"/dd": "0:3"}, []string{"[]", "[1 2]"}},
		{"opaque directory", [][]file{{{"d/a", "1"}, {"d/b", "2"}}, {{"d/.wh..wh..opq", ""}, {"d/c", "3"}}},
			map[string]string{"/d/c": "1:3"}, []string{"[]", "[1 2]"}},
		{"opaque after the layer's own file", [][]file{{{"d/a", "1"}}, {{"d/c", "3"}, {"d/.wh..wh..opq", ""}}},
			map[string]string{"/d/c": "1:3"}, []string{"[]", "[1]"}},
		{"whiteout after the layer's own copy", [][]file{{{"a", "1"}}, {{"a", "2"}, {".wh.a", ""}}},
			map[string]string{"/a": "1:2"}, []string{"[]", "[1]"}},
		{"whiteout then write again", [][]file{{{"a", "1"}}, {{".wh.a", ""}}, {{"a", "3"}}},
			map[string]string{"/a": "2:3"}, []string{"[]", "[1]", "[]"}},
	}
	for _, tt := range tests {
		s := NewStack[string]()
		var removed []string
		for i, l := range tt.layers {
			var gone []string
			err := Read(bytes.NewReader(layerTar(t, l...)), func(e Entry, content io.Reader) error {
				if e.Kind != File {
					for _, c := range s.Delete(e, i) {
						gone = append(gone, c.Value)
					}
					return nil
				}
				data, err := io.ReadAll(content)
				if prev, ok := s.Write(e.Path, i, string(data)); ok {
					gone = append(gone, prev.Value)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(gone)
			removed = append(removed, fmt.Sprint(gone))
		}
		got := map[string]string{}
		for p, c := range s.All() {
			got[p] = fmt.Sprintf("%d:%s", c.Layer, c.Value)
		}
		if !maps.Equal(got, tt.want) || s.Len() != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if !slices.Equal(removed, tt.removed) {
			t.Errorf("%s: removed %v, want %v", tt.name, removed, tt.removed)
		}
		for p := range tt.want {
			if _, ok := s.Get(p); !ok {
				t.Errorf("%s: Get(%s) found nothing", tt.name, p)
			}
		}
	}
}

// Read skips what fn leaves unread and returns fn's error as it is.
func TestRead(t *testing.T) {
	raw := layerTar(t, file{"a", "12345"}, file{"b", "6"})
	var paths []string
	if err := Read(bytes.NewReader(raw), func(e Entry, _ io.Reader) error { paths = append(paths, e.Path); return nil }); err != nil ||
		!slices.Equal(paths, []string{"/a", "/b"}) {
		t.Errorf("%v %v", paths, err)
	}
	stop := fmt.Errorf("stop")
	if err := Read(bytes.NewReader(raw), func(Entry, io.Reader) error { return stop }); err != stop {
		t.Errorf("err %v", err)
	}
	if err := Read(bytes.NewReader(raw[:1024+100]), func(Entry, io.Reader) error { return nil }); err == nil {
		t.Error("a truncated layer read without error")
	}
}
