package actionio

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	githubactions "github.com/sethvargo/go-githubactions"
)

func TestParseOutputFile(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr string // a part of the error; "" for none
	}{
		{"empty", "", map[string]string{}, ""},
		{"name=value", "digest=sha256:abc\nimage=r/a@sha256:abc\n", map[string]string{"digest": "sha256:abc", "image": "r/a@sha256:abc"}, ""},
		{"value with = and <<", "args=A=1<<2\n", map[string]string{"args": "A=1<<2"}, ""},
		{"empty value", "tags=\n", map[string]string{"tags": ""}, ""},
		{"no final line break", "kept=3", map[string]string{"kept": "3"}, ""},
		{"heredoc", "digest<<EOF\nsha256:abc\nEOF\n", map[string]string{"digest": "sha256:abc"}, ""},
		{"heredoc multi-line", "report<<ghadelim_1\nline one\n\nline three\nghadelim_1\n",
			map[string]string{"report": "line one\n\nline three"}, ""},
		{"heredoc empty value", "sbom<<EOF\nEOF\n", map[string]string{"sbom": ""}, ""},
		{"heredoc value of one empty line", "sbom<<EOF\n\nEOF\n", map[string]string{"sbom": ""}, ""},
		{"heredoc delimiter at the end of the file", "a<<EOF\nx\nEOF", map[string]string{"a": "x"}, ""},
		{"heredoc name with =", "a=b<<EOF\n", map[string]string{"a": "b<<EOF"}, ""},
		{"a line like the delimiter but longer is part of the value", "a<<EOF\nEOF \nEOFX\nEOF\n",
			map[string]string{"a": "EOF \nEOFX"}, ""},
		{"both forms, blank lines between", "a=1\n\nb<<D\nx\ny\nD\n\nc=3\n", map[string]string{"a": "1", "b": "x\ny", "c": "3"}, ""},
		{"a name twice keeps the last value", "a=1\na<<D\n2\nD\n", map[string]string{"a": "2"}, ""},
		{"CRLF", "a=1\r\nb<<D\r\nx\r\ny\r\nD\r\nc=3\r\n", map[string]string{"a": "1", "b": "x\r\ny", "c": "3"}, ""},
		{"CRLF file, LF inside a value", "b<<D\r\nx\ny\r\nD\r\n", map[string]string{"b": "x\ny"}, ""},
		{"missing delimiter", "a=1\nreport<<EOF\nline one\nline two\n", nil, `line 2: output "report": no line "EOF" ends its value`},
		{"missing delimiter, CR in it", "report<<EOF\r\nx\nEOF\r\r\n", nil, `line 1: output "report": no line "EOF" ends its value`},
		{"no name", "=1\n", nil, `line 1: "=1" has no name before =`},
		{"heredoc without a name", "a=1\n<<EOF\nEOF\n", nil, `line 2: "<<EOF" wants a name before << and a delimiter after it`},
		{"heredoc without a delimiter", "a<<\n", nil, `line 1: "a<<" wants a name before << and a delimiter after it`},
		{"neither form", "a=1\njust text\n", nil, `line 2: "just text" is neither name=value nor name<<DELIMITER`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutputFile(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOutputFile(%q) = %q, %v; want an error containing %q", tt.text, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOutputFile(%q) = %q, %v; want %q", tt.text, got, err, tt.want)
			}
		})
	}
}

// What an action writes through Step.SetOutput, the parser reads back unchanged.
func TestParseOutputFileReadsWhatSetOutputWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "output")
	env := map[string]string{"GITHUB_OUTPUT": path}
	a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }))
	want := map[string]string{"digest": "sha256:abc", "sbom": "sbom.spdx.json\nsbom.cdx.json", "empty": "", "eq": "a=b<<c"}
	for _, k := range []string{"digest", "sbom", "empty", "eq"} {
		a.SetOutput(k, want[k])
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseOutputFile(string(text))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseOutputFile(%q) = %q, %v; want %q", text, got, err, want)
	}
}
