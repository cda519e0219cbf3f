package actionio

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"500MB", 500_000_000, false},
		{"500mb", 500_000_000, false},
		{"1.5GiB", 1_610_612_736, false},
		{"2048", 2048, false},
		{"10 KiB", 10240, false},
		{"1TB", 1_000_000_000_000, false},
		{"0B", 0, false},
		{"", 0, true},
		{"MB", 0, true},
		{"5 parsecs", 0, true},
		{"-1MB", 0, true},
		{"1e400", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"", 0, true},
		{"30", 0, true},
		{"d", 0, true},
		{"3x", 0, true},
		{"-5m", 0, true},
		{"99999999999999w", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in        string
		linesOnly bool
		want      []string
	}{
		{"linux/amd64,linux/arm64", false, []string{"linux/amd64", "linux/arm64"}},
		{"linux/amd64\nlinux/arm64\n", false, []string{"linux/amd64", "linux/arm64"}},
		{" a , b \r\n\n c", false, []string{"a", "b", "c"}},
		{`"A=x,y",B=z`, false, []string{"A=x,y", "B=z"}},
		{"type=semver,pattern={{version}}\ntype=sha", true, []string{"type=semver,pattern={{version}}", "type=sha"}},
		{"  \n ", false, nil},
	}
	for _, tt := range tests {
		got, err := splitList(tt.in, tt.linesOnly)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitList(%q, %t) = %q, %v; want %q", tt.in, tt.linesOnly, got, err, tt.want)
		}
	}
}

func TestParseMap(t *testing.T) {
	got, err := parseMap("A=1\nB = two=2\nC=", true)
	want := map[string]string{"A": "1", "B": "two=2", "C": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("parseMap = %v, %v; want %v", got, err, want)
	}
	for in, msg := range map[string]string{
		"A=1\nnovalue": `item "novalue" is not a key=value pair`,
		"=1":           `item "=1" is not a key=value pair`,
		"A=1\nA=2":     `key "A" is given twice`,
	} {
		if _, err := parseMap(in, true); err == nil || err.Error() != msg {
			t.Errorf("parseMap(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestRenderText(t *testing.T) {
	md := "## Build\n\n| platform | digest | size |\n| --- | --- | ---: |\n| linux/amd64 | `sha256:ab` | **12 MB** |\n| linux/arm64 | sha256:cd | 9 MB |\n\nSee [the docs](https://example.test/d).\n"
	want := `Build
=====

platform     digest     size
-----------------------------
linux/amd64  sha256:ab  12 MB
linux/arm64  sha256:cd  9 MB

See the docs (https://example.test/d).
`
	if got := RenderText(md); got != want {
		t.Errorf("RenderText:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(RenderText("a | b"), "-") {
		t.Error("a line that is not a table was drawn as one")
	}
}
