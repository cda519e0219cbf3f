package actionref

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
	"github.com/infinite-scribe/scribe-actions/templates"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		err  bool
	}{
		{"actions/checkout@v4", Ref{Owner: "actions", Repo: "checkout", Ref: "v4"}, false},
		{"github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e", Ref{Owner: "github", Repo: "codeql-action", Path: "upload-sarif", Ref: "8aad20d150bbac5944a9f9d289da16a4b0d87c1e"}, false},
		{"acme/wf/.github/workflows/build.yml@main", Ref{Owner: "acme", Repo: "wf", Path: ".github/workflows/build.yml", Ref: "main"}, false},
		{"./actions/build", Ref{}, true},
		{"docker://alpine:3", Ref{}, true},
		{"actions/checkout", Ref{}, true},
		{"checkout@v4", Ref{}, true},
		{"actions/checkout@", Ref{}, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, got, err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestIsRelease(t *testing.T) {
	for v, want := range map[string]bool{"v1.2.3": true, "v0.1.0": true, "v1.2.3-rc.1": true, "v1": false, "v1.2": false,
		"": false, "1.2.3": false, "main": false, "v1.2.3.4": false} {
		if IsRelease(v) != want {
			t.Errorf("IsRelease(%q) = %v, want %v", v, !want, want)
		}
	}
}

func TestReadLockErrors(t *testing.T) {
	sha := strings.Repeat("a", 40)
	tests := map[string]string{
		"actions:\n  actions/checkout:\n    version: v4\n    sha: abc\n":                          `x.yaml:2: actions/checkout: sha "abc" is not a full 40-hex commit SHA`,
		"actions:\n  actions/checkout:\n    version: main\n    sha: " + sha + "\n":                `x.yaml:2: actions/checkout: version "main" is not a release version`,
		"actions:\n  github/codeql-action/upload-sarif:\n    version: v4\n    sha: " + sha + "\n": `x.yaml:2: "github/codeql-action/upload-sarif" is not an action repository`,
		"actions: [1]\n": `x.yaml:1: want an actions: mapping`,
	}
	for in, want := range tests {
		if _, err := ReadLock("x.yaml", []byte(in)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ReadLock(%q) = %v, want %s", in, err, want)
		}
	}
	l, err := ReadLock("x.yaml", []byte("actions:\n  github/codeql-action:\n    version: v4.36.2\n    sha: "+sha+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Uses("github/codeql-action/upload-sarif"); got != "github/codeql-action/upload-sarif@"+sha+" # v4.36.2" {
		t.Errorf("Uses = %q", got)
	}
}

// fixtureRepo is one file of shared/fixtures/action-refs: an action repository's real tags.
type fixtureRepo struct {
	Repository string `json:"repository"`
	Tags       []struct {
		Name       string            `json:"name"`
		CommitSHA  string            `json:"commit_sha"`
		ObjectType string            `json:"object_type"`
		RunsUsing  map[string]string `json:"runs_using"`
	} `json:"tags"`
}

var semver = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)$`)

func less(a, b string) bool {
	ma, mb := semver.FindStringSubmatch(a), semver.FindStringSubmatch(b)
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return x < y
		}
	}
	return false
}

// TestDefaultLockMatchesRealTags checks every pin of the shipped lock file against the action's own tags: the
// version's tag exists, the pinned SHA is the commit it points to (annotated tags peeled), it is the newest
// release, and none of its actions runs on a removed Node runtime.
func TestDefaultLockMatchesRealTags(t *testing.T) {
	dir := testenv.Corpus(t, "fixtures", "action-refs")
	data, _ := fs.ReadFile(templates.FS, "actions.lock.yaml")
	lock, err := ReadLock("actions.lock.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Pins) < 8 {
		t.Fatalf("only %d pins", len(lock.Pins))
	}
	for _, repo := range lock.Repositories() {
		pin := lock.Pins[repo]
		raw, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(repo, "/", "__")+".json"))
		if err != nil {
			t.Errorf("%s: no fixture: %v", repo, err)
			continue
		}
		var f fixtureRepo
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		newest, found := "", false
		for _, tag := range f.Tags {
			if semver.MatchString(tag.Name) && (newest == "" || less(newest, tag.Name)) {
				newest = tag.Name
			}
			if tag.Name != pin.Version {
				continue
			}
			found = true
			if tag.CommitSHA != pin.SHA {
				t.Errorf("%s %s: pinned %s, the tag points to commit %s (%s tag)", repo, pin.Version, pin.SHA, tag.CommitSHA, tag.ObjectType)
			}
			for path, using := range tag.RunsUsing {
				if using == "node12" || using == "node16" || using == "node20" {
					t.Errorf("%s %s: action %s runs on %s, a removed runtime", repo, pin.Version, path, using)
				}
			}
		}
		if !found {
			t.Errorf("%s: no tag %s", repo, pin.Version)
		}
		if newest != pin.Version {
			t.Errorf("%s: pinned %s, newest release is %s", repo, pin.Version, newest)
		}
	}
}
