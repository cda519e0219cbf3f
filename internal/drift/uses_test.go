package drift

import (
	"os"
	"path/filepath"
	"testing"
)

// A local composite action is followed into its own steps; a reusable workflow and a docker:// image are
// references too; comments in the styles people write are read.
func TestFindUsesFollowsLocalActions(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, ".github", "workflows"), 0o755)
	os.MkdirAll(filepath.Join(root, ".github", "actions", "setup"), 0o755)
	os.WriteFile(filepath.Join(root, ".github", "workflows", "ci.yml"), []byte(`on: push
jobs:
  call:
    uses: acme/shared/.github/workflows/build.yml@v2
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/setup
      - uses: ./.github/actions/setup
      - uses: docker://alpine:3.20
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # pin@v4.2.2
      - uses: 'actions/cache@v4' # v4
`), 0o644)
	os.WriteFile(filepath.Join(root, ".github", "actions", "setup", "action.yml"), []byte(`name: setup
runs:
  using: composite
  steps:
    - uses: actions/setup-go@v5
`), 0o644)
	uses, err := FindUses([]string{filepath.Join(root, ".github", "workflows")})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ kind, value, comment, via string }
	var got []want
	for _, u := range uses {
		got = append(got, want{u.Kind, u.Value, u.Comment, filepath.Base(u.Via)})
	}
	expect := []want{
		{"action", "actions/setup-go@v5", "", "ci.yml"},
		{"workflow", "acme/shared/.github/workflows/build.yml@v2", "", "."},
		{"local", "./.github/actions/setup", "", "."},
		{"local", "./.github/actions/setup", "", "."},
		{"docker", "docker://alpine:3.20", "", "."},
		{"action", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2", "."},
		{"action", "actions/cache@v4", "v4", "."},
	}
	if len(got) != len(expect) {
		t.Fatalf("got %d references: %+v", len(got), got)
	}
	for i := range expect {
		if got[i] != expect[i] {
			t.Errorf("reference %d = %+v, want %+v", i, got[i], expect[i])
		}
	}
}
