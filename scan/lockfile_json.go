package scan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// JSON lockfiles (package-lock.json, Pipfile.lock, composer.lock) are decoded by encoding/json, and their
// lines read from the same bytes' token stream, whose offsets place every member and element.

// lineIndex turns byte offsets into lines and columns.
type lineIndex []int // offsets of the line starts

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// at is the 1-based line and column of an offset.
func (idx lineIndex) at(offset int64) (int, int) {
	i := sort.Search(len(idx), func(i int) bool { return int64(idx[i]) > offset }) - 1
	return i + 1, int(offset) - idx[max(i, 0)] + 1
}

// jsonError places a JSON syntax or type error at its line and column.
func jsonError(idx lineIndex, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		at := syn.Offset - 1 // the byte that did not fit
		if strings.Contains(syn.Error(), "unexpected end") {
			at = syn.Offset // past the last byte
		}
		l, c := idx.at(max(at, 0))
		return &posError{line: l, col: c, err: fmt.Errorf("not JSON: %w", err)}
	case errors.As(err, &typ):
		l, c := idx.at(max(typ.Offset-1, 0))
		want := map[reflect.Kind]string{reflect.Map: "an object", reflect.Struct: "an object", reflect.Slice: "an array",
			reflect.String: "a string", reflect.Bool: "true or false"}[typ.Type.Kind()]
		return &posError{line: l, col: c, err: fmt.Errorf("not the lockfile's shape: %q is a JSON %s, want %s", typ.Field, typ.Value, cmp.Or(want, "a number"))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &posError{line: len(idx), err: errors.New("not JSON: the document ends early")}
	}
	return err
}

// readJSON decodes a JSON lockfile into v and returns the line of every object member and array element,
// keyed by its path (member names and element indexes joined by jsonPath): the line of a member's name, or
// of an element's first character. keep selects the paths worth keeping (a package-lock.json has many).
func readJSON(data []byte, v any, keep func(path []string) bool) (map[string]int, error) {
	idx := newLineIndex(data)
	lines, err := jsonLines(data, idx, keep)
	if err != nil {
		return nil, jsonError(idx, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, jsonError(idx, err)
	}
	return lines, nil
}

func jsonPath(path ...string) string { return strings.Join(path, "\x00") }

// jsonLines walks the document's tokens, keeping the containers it is in, and records where each member's name
// or element starts.
func jsonLines(data []byte, idx lineIndex, keep func(path []string) bool) (map[string]int, error) {
	type container struct {
		array   bool
		wantKey bool // an object, between members
		n       int  // elements begun, in an array
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*container
	var names []string // the path of the value being read: its name in each container
	lines := map[string]int{}
	valueEnd := func() { // the value named last is read
		if len(stack) == 0 {
			return
		}
		names = names[:len(names)-1]
		if top := stack[len(stack)-1]; !top.array {
			top.wantKey = true
		}
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		var top *container
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		d, isDelim := tok.(json.Delim)
		switch {
		case isDelim && (d == '}' || d == ']'):
			stack = stack[:len(stack)-1]
			valueEnd()
			continue
		case top != nil && top.wantKey:
			key, _ := tok.(string)
			names = append(names, key)
			top.wantKey = false
			if keep(names) {
				l, _ := idx.at(dec.InputOffset() - 1)
				lines[jsonPath(names...)] = l
			}
			continue
		case top != nil && top.array:
			names = append(names, strconv.Itoa(top.n))
			top.n++
			if keep(names) {
				l, _ := idx.at(firstNonSpace(data, before))
				lines[jsonPath(names...)] = l
			}
		}
		switch {
		case isDelim && d == '{':
			stack = append(stack, &container{wantKey: true})
		case isDelim && d == '[':
			stack = append(stack, &container{array: true})
		default:
			valueEnd()
		}
	}
}

// firstNonSpace is the offset of the first character of a value after from, past separators.
func firstNonSpace(data []byte, from int64) int64 {
	for from < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[from]) >= 0 {
		from++
	}
	return from
}
