package scan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// gitRepo is a repository made in a test: files written and committed one commit at a time.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.test"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-11-20T10:00:00Z", "GIT_COMMITTER_DATE=2026-11-20T10:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files ("" deletes one) and commits them; it returns the commit.
func (r *gitRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, body := range files {
		p := filepath.Join(r.dir, name)
		if body == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// githubPAT is a classic personal access token shaped as GitHub issues them: ghp_, 30 base62 characters and
// their CRC32 in 6 base62 characters (the checksum veles verifies).
func githubPAT(seed int) string {
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	content := make([]byte, 30)
	for i := range content {
		n, _ := rand.Int(rand.Reader, big.NewInt(62))
		content[i] = b62[(int(n.Int64())+seed)%62]
	}
	crc := crc32.ChecksumIEEE(content)
	sum := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		sum[i] = b62[crc%62]
		crc /= 62
	}
	return "ghp_" + string(content) + string(sum)
}

func gitlabPAT() string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		b[i] = chars[n.Int64()]
	}
	return "glpat-" + string(b)
}

func ecKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// leak is a finding as both tools can say it: the commit, the file, gitleaks's rule ID and the line.
type leak struct {
	commit, file, rule string
	line               int
}

func (l leak) String() string { return fmt.Sprintf("%.7s %s:%d %s", l.commit, l.file, l.line, l.rule) }

// bothCover are the gitleaks rules whose credentials our detectors find too.
var bothCover = []string{"private-key", "github-pat", "gitlab-pat"}

// gitleaksLeaks runs gitleaks over the repository's history (log options as given, none: its default) and
// returns its findings of the rules both tools cover.
func gitleaksLeaks(t *testing.T, dir string, logOpts string) []leak {
	t.Helper()
	bin := peer(t, "SCRIBE_GITLEAKS")
	report := filepath.Join(t.TempDir(), "gitleaks.json")
	args := []string{"git", "--no-banner", "--report-format", "json", "--report-path", report, "--exit-code", "0"}
	if logOpts != "" {
		args = append(args, "--log-opts", logOpts)
	}
	cmd := exec.Command(bin, append(args, ".")...)
	cmd.Dir = dir // its .gitleaksignore is read from here
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gitleaks: %v\n%s", err, out)
	}
	var found []struct {
		RuleID, File, Commit string
		StartLine            int
	}
	raw, _ := os.ReadFile(report)
	if err := json.Unmarshal(raw, &found); err != nil {
		t.Fatalf("gitleaks report: %v\n%s", err, raw)
	}
	var out []leak
	for _, f := range found {
		if slices.Contains(bothCover, f.RuleID) {
			out = append(out, leak{f.Commit, f.File, f.RuleID, f.StartLine})
		}
	}
	return sortedLeaks(out)
}

func ourLeaks(src *Source) []leak {
	var out []leak
	for _, s := range src.Secrets {
		if s.Commit != "" && slices.Contains(bothCover, gitleaksRule(s.Rule)) {
			out = append(out, leak{s.Commit, s.Path, gitleaksRule(s.Rule), s.Line})
		}
	}
	return sortedLeaks(out)
}

func sortedLeaks(l []leak) []leak {
	slices.SortFunc(l, func(a, b leak) int { return strings.Compare(a.String(), b.String()) })
	return l
}

// On a repository whose secrets were added, changed, deleted in later commits and allow-listed both ways
// gitleaks knows, the history scan finds what gitleaks v8.30 finds, at the same commits, files and lines; a
// pull request's range finds only its own commits' secrets.
func TestSourceSecretsAgreeWithGitleaks(t *testing.T) {
	r := newGitRepo(t)
	key, pat1, pat2, glpat := ecKeyPEM(t), githubPAT(1), githubPAT(2), gitlabPAT()
	c1 := r.commit("add the service", map[string]string{
		"config/deploy.pem": key,
		"app/settings.py":   "DEBUG = False\nGITHUB_TOKEN = \"" + pat1 + "\"\n",
		"README.md":         "# service\n",
	})
	c2 := r.commit("rotate the token, add the deploy script", map[string]string{
		"app/settings.py": "DEBUG = False\nTIMEOUT = 30\nGITHUB_TOKEN = \"" + pat2 + "\"\n",
		"deploy.sh":       "#!/bin/sh\nset -eu\ncurl -H \"PRIVATE-TOKEN: " + glpat + "\" https://gitlab.example/api/v4/projects\n",
	})
	r.commit("remove the key", map[string]string{"config/deploy.pem": ""})
	r.commit("a test fixture", map[string]string{"tests/fixture.py": "TOKEN = \"" + githubPAT(3) + "\"  # gitleaks:allow\n"})
	c5 := r.commit("an example", map[string]string{"notes/setup.txt": "export GH=" + githubPAT(4) + "\n"})
	r.commit("ignore the example's token", map[string]string{".gitleaksignore": "# reviewed: revoked\n" + c5 + ":notes/setup.txt:github-pat:1\nnot-a-fingerprint\n"})

	src, err := ScanSource(t.Context(), r.dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	want := []leak{{c1, "app/settings.py", "github-pat", 2}, {c1, "config/deploy.pem", "private-key", 1},
		{c2, "app/settings.py", "github-pat", 3}, {c2, "deploy.sh", "gitlab-pat", 3}}
	ours, theirs := ourLeaks(src), gitleaksLeaks(t, r.dir, "")
	if fmt.Sprint(ours) != fmt.Sprint(sortedLeaks(want)) || fmt.Sprint(theirs) != fmt.Sprint(ours) {
		t.Errorf("history:\nours     %v\ngitleaks %v\nwant     %v", ours, theirs, sortedLeaks(want))
	}
	// Read: every commit but the one that only deletes. Allowed: the inline comment in the tree and in its
	// commit, and the example by its commit's .gitleaksignore fingerprint, in its commit and in the tree (the
	// same file, rule and line). The line that is no fingerprint is a warning, as gitleaks warns.
	if src.Commits != 5 || src.Allowed != 4 || !strings.Contains(strings.Join(src.Notes, "\n"), ".gitleaksignore:3: not a gitleaks fingerprint") {
		t.Errorf("%d commits read, %d allowed, notes %q; want 5, 4 and the bad line named", src.Commits, src.Allowed, src.Notes)
	}
	for _, s := range src.Secrets {
		if s.Commit != "" && s.Date != "2026-11-20T10:00:00Z" {
			t.Errorf("%s: author date %q", s.Path, s.Date)
		}
		if strings.Contains(fmt.Sprintf("%+v", s), pat2[4:]) {
			t.Errorf("a finding holds the secret: %+v", s)
		}
	}
	// The working tree holds the current tokens; the deleted key is only in the history.
	var tree []string
	for _, s := range src.Secrets {
		if s.Commit == "" {
			tree = append(tree, fmt.Sprintf("%s:%d %s", s.Path, s.Line, gitleaksRule(s.Rule)))
		}
	}
	slices.Sort(tree)
	if fmt.Sprint(tree) != "[app/settings.py:3 github-pat deploy.sh:3 gitlab-pat]" {
		t.Errorf("working tree: %v", tree)
	}

	// A pull request: the branch's own commits only, as gitleaks reads them with the same range.
	r.git("checkout", "-q", "-b", "feature")
	c7 := r.commit("feature", map[string]string{"app/feature.py": "import os\n\nTOKEN = \"" + githubPAT(5) + "\"\n"})
	pr, err := ScanSource(t.Context(), r.dir, "main..HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs = ourLeaks(pr), gitleaksLeaks(t, r.dir, "main..HEAD")
	if fmt.Sprint(ours) != fmt.Sprint([]leak{{c7, "app/feature.py", "github-pat", 3}}) || fmt.Sprint(theirs) != fmt.Sprint(ours) || pr.Commits != 1 {
		t.Errorf("pull request range: %d commits\nours     %v\ngitleaks %v", pr.Commits, ours, theirs)
	}
}

// The action's source mode: history ranges from the event GitHub sends (a pull request's base, a push's
// previous head), SARIF results at the file and line with the commit in their fingerprints, the gate on
// secrets, and input errors before anything is read.
func TestSourceScanAction(t *testing.T) {
	r := newGitRepo(t)
	base := r.commit("base", map[string]string{"app/main.py": "print('hi')\n"})
	r.git("update-ref", "refs/remotes/origin/main", "HEAD")
	r.git("checkout", "-q", "-b", "feature")
	leak := r.commit("leak", map[string]string{"app/main.py": "print('hi')\nTOKEN = '" + githubPAT(7) + "'\n"})
	fixed := r.commit("remove", map[string]string{"app/main.py": "print('hi')\n"})
	events := t.TempDir()
	event := func(name, body string) string {
		p := filepath.Join(events, name+".json")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	pushed := event("push", `{"before": "`+leak+`", "after": "`+fixed+`", "repository": {"default_branch": "main"}}`)
	newRef := event("new-ref", `{"before": "0000000000000000000000000000000000000000", "after": "`+fixed+`", "repository": {"default_branch": "main"}}`)
	run := func(inputs map[string]string, env map[string]string) result {
		t.Helper()
		inputs["output-dir"] = t.TempDir()
		st := testenv.RunAction(t, Action(), inputs, env)
		out := result{code: st.Code, log: st.Log, out: st.Outputs, summary: st.Summary, dir: inputs["output-dir"]}
		return out
	}
	for _, tt := range []struct {
		name        string
		inputs, env map[string]string
		code        int
		commits     int
		log         string
	}{
		{"working tree only: the token is gone", map[string]string{"path": r.dir}, nil, 0, 0, ""},
		{"a pull request: its own commits", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}, 1, 2, "1 secret in the source"},
		{"a push: the pushed commits", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": pushed, "GITHUB_REF": "refs/heads/feature"}, 0, 1, ""},
		{"a new tag: the commits the default branch lacks", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": newRef, "GITHUB_REF": "refs/tags/v1.0.0"}, 1, 2, "history: a new branch or tag: the commits origin/main does not have are scanned"},
		{"the default branch's first push: all of it", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": newRef, "GITHUB_REF": "refs/heads/main"}, 1, 3, "the first push of the default branch"},
		{"a dispatch: no commits", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_EVENT_PATH": newRef}, 0, 0, "a workflow_dispatch run reads no commits"},
		{"since", map[string]string{"path": r.dir, "history": "true", "since": base}, nil, 1, 2, ""},
		{"not on a runner: all of the history", map[string]string{"path": r.dir, "history": "true"}, nil, 1, 3, ""},
		{"a base the clone lacks", map[string]string{"path": r.dir, "history": "true"},
			map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "release"}, 1, 0, "base origin/release is not in the checkout"},
		{"both", map[string]string{"path": r.dir, "image": "x.tar"}, nil, 1, 0, `give "image" or "path", not both`},
		{"history without path", map[string]string{"image": "x.tar", "history": "true"}, nil, 1, 0, `input "history": reads a repository's commits`},
		{"since without history", map[string]string{"path": r.dir, "since": "main"}, nil, 1, 0, `input "since": needs "history: true"`},
		{"neither", map[string]string{}, nil, 1, 0, `input "image" or "path" is required`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(tt.inputs, tt.env)
			if res.code != tt.code || !strings.Contains(res.log, tt.log) {
				t.Fatalf("exit %d, want %d; log lacks %q:\n%s", res.code, tt.code, tt.log, res.log)
			}
			if res.out["report"] == "" {
				return
			}
			var rep SourceReport
			raw, _ := os.ReadFile(res.out["report"])
			if err := json.Unmarshal(raw, &rep); err != nil || rep.Commits != tt.commits {
				t.Errorf("report: %v, %d commits, want %d", err, rep.Commits, tt.commits)
			}
		})
	}

	// The SARIF of the pull request's scan: one result at app/main.py line 2, the commit in its fingerprints.
	res := run(map[string]string{"path": r.dir, "history": "true", "since": base}, nil)
	var log struct {
		Runs []struct {
			AutomationDetails struct{ ID string }
			Results           []struct {
				RuleID              string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	raw, _ := os.ReadFile(res.out["sarif"])
	if err := json.Unmarshal(raw, &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, raw)
	}
	got := log.Runs[0].Results[0]
	if loc := got.Locations[0].PhysicalLocation; loc.ArtifactLocation.URI != "app/main.py" || loc.Region.StartLine != 2 ||
		got.PartialFingerprints["commitSha"] != leak || got.RuleID != "secret/ClassicPersonalAccessToken" || log.Runs[0].AutomationDetails.ID != "scribe-source/" {
		t.Errorf("SARIF result: %+v, category %q", got, log.Runs[0].AutomationDetails.ID)
	}
	if !strings.Contains(res.summary, "| ClassicPersonalAccessToken | `app/main.py` | 2 | "+leak[:12]+" | 2026-11-20T10:00:00Z |") {
		t.Errorf("summary:\n%s", res.summary)
	}
}

// BenchmarkSourceHistory scans this repository's own history (every commit reachable from HEAD, plus, for
// ours, the working tree) with our detectors and with gitleaks on the same commits.
func BenchmarkSourceHistory(b *testing.B) {
	root, _ := filepath.Abs("..")
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		b.Skip("not a git checkout")
	}
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			if _, err := ScanSource(b.Context(), root, "HEAD"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gitleaks", func(b *testing.B) {
		bin := peer(b, "SCRIBE_GITLEAKS")
		for b.Loop() {
			cmd := exec.Command(bin, "git", "--no-banner", "--exit-code", "0", "--report-path", filepath.Join(b.TempDir(), "r.json"),
				"--log-opts", "--full-history --diff-filter=tuxdb HEAD", root)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}

// A subdirectory of a repository: every path, the working tree's, the history's and the lockfiles', is the
// repository root's, as code scanning and gitleaks name files; the history is limited to the subdirectory.
func TestSourceScanOfASubdirectory(t *testing.T) {
	r := newGitRepo(t)
	r.commit("two services", map[string]string{
		"svc/app.py":           "TOKEN = '" + githubPAT(8) + "'\n",
		"svc/requirements.txt": "requests==2.19.0\n",
		"other/settings.py":    "TOKEN = '" + githubPAT(9) + "'\n",
	})
	src, err := ScanSource(t.Context(), filepath.Join(r.dir, "svc"), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, s := range src.Secrets {
		paths = append(paths, fmt.Sprintf("%s %t", s.Path, s.Commit != ""))
	}
	slices.Sort(paths)
	if fmt.Sprint(paths) != "[svc/app.py false svc/app.py true]" || src.Prefix != "svc" {
		t.Errorf("secrets at %v (prefix %q); want svc/app.py in the tree and in its commit, nothing of other/", paths, src.Prefix)
	}
	lf, err := ReadLockfiles(filepath.Join(r.dir, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	lf.underPrefix(src.Prefix)
	if len(lf.Packages) != 1 || lf.Packages[0].Path != "svc/requirements.txt" {
		t.Errorf("lockfile packages %+v", lf.Packages)
	}
}
