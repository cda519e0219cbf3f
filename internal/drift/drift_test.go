package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/internal/github"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

var today = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func newAuditor(t testing.TB, api *testenv.GitHubAPI, cache string, offline bool) (*Auditor, *github.Transport) {
	t.Helper()
	client, tr, err := github.New(github.Options{BaseURL: api.URL, CacheDir: cache, Offline: offline, MaxWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	return &Auditor{Client: client, Catalogue: cat, Now: today, Concurrency: 8}, tr
}

// sha is the commit a fixture tag points to.
func sha(t testing.TB, api *testenv.GitHubAPI, repo, tag string) string {
	t.Helper()
	tags, _, _ := api.Repo(repo)
	for _, tg := range tags {
		if tg.Name == tag {
			return tg.CommitSHA
		}
	}
	t.Fatalf("%s has no tag %s", repo, tag)
	return ""
}

func writeWorkflow(t *testing.T, dir, name, steps string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	wf := "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" + steps
	if err := os.WriteFile(p, []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// audit finds the references under dir and audits them online against api.
func audit(t *testing.T, api *testenv.GitHubAPI, dir string) ([]Use, *Report) {
	t.Helper()
	uses, err := FindUses([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newAuditor(t, api, t.TempDir(), false)
	rep, err := a.Audit(context.Background(), uses)
	if err != nil {
		t.Fatal(err)
	}
	return uses, rep
}

func TestDriftFindsEveryKind(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	codeql := func(tag string) string { return sha(t, api, "github/codeql-action", tag) }
	checkout := func(tag string) string { return sha(t, api, "actions/checkout", tag) }
	tags, _, _ := api.Repo("github/codeql-action")
	var tagObject string
	for _, tg := range tags {
		if tg.Name == "v4.36.2" {
			tagObject = tg.ObjectSHA
		}
	}
	dir := t.TempDir()
	writeWorkflow(t, dir, "a.yml", ""+
		"      - uses: actions/checkout@v4\n"+ // line 7
		"      - uses: actions/checkout@"+checkout("v4.2.2")+" # v4.2.2\n"+
		"      - uses: actions/checkout@"+checkout("v4.2.2")+" # v4\n"+
		"      - uses: github/codeql-action/upload-sarif@"+codeql("v3.30.5")+" # v3.29.5\n"+ // line 10
		"      - uses: github/codeql-action/upload-sarif@"+codeql("v4.36.2")+" # v4.36.2\n"+
		"      - uses: github/codeql-action/upload-sarif@"+tagObject+" # v4.36.2\n"+
		"      - uses: actions/upload-artifact@"+sha(t, api, "actions/upload-artifact", "v3.1.3")+" # v3.1.3\n"+
		"      - uses: actions/setup-go@"+sha(t, api, "actions/setup-go", "v5.0.0")+" # v5.0.0\n"+
		"      - uses: actions/checkout@v99.0.0\n"+ // line 15
		"      - uses: nobody/nothing@v1\n"+
		"      - uses: docker://alpine:3.20\n")
	_, rep := audit(t, api, dir)
	got := map[string]bool{}
	for _, d := range rep.Drifts {
		got[d.Use.Pos()+" "+d.Kind] = true
		t.Log(d)
	}
	f := filepath.Join(dir, "a.yml")
	want := []string{
		":7:15 unpinned", ":7:15 behind",
		":8:15 behind",
		":9:15 imprecise-comment",
		":10:15 comment-mismatch", ":10:15 deprecated", ":10:15 behind",
		":12:15 unknown-ref",
		":13:15 deprecated",
		":14:15 deprecated",
		":15:15 unknown-ref", ":16:15 unknown-ref", ":17:15 unpinned",
		":7:15 inconsistent",
	}
	for _, w := range want {
		if !got[f+w] {
			t.Errorf("missing %s", w)
		}
	}
	for _, no := range []string{":8:15 comment-mismatch", ":11:15 comment-mismatch", ":11:15 deprecated", ":11:15 behind", ":11:15 unknown-ref"} {
		if got[f+no] {
			t.Errorf("a truthful, current pin was reported: %s", no)
		}
	}
	for _, d := range rep.Drifts {
		switch {
		case d.Use.Line == 10 && d.Kind == KindCommentMismatch:
			if !strings.Contains(d.Message, "the comment says v3.29.5 (commit "+codeql("v3.29.5")[:7]+"), but the pinned commit "+codeql("v3.30.5")[:7]+" is v3.30.5") {
				t.Errorf("mismatch message: %s", d.Message)
			}
		case d.Use.Line == 7 && d.Kind == KindUnpinned:
			if !strings.Contains(d.Message, "pin it: actions/checkout@"+checkout("v4")+" # v4.") {
				t.Errorf("unpinned message: %s", d.Message)
			}
		case d.Use.Line == 14 && d.Kind == KindDeprecated:
			if !strings.Contains(d.Message, "runs on node20") {
				t.Errorf("runtime message: %s", d.Message)
			}
		}
	}
	// One request per unique (repository, ref), however many references share it.
	if n := api.RequestsFor("/repos/actions/checkout/commits/" + checkout("v4.2.2")); n != 1 {
		t.Errorf("%d requests for one (repository, ref)", n)
	}
}

func TestDriftSecondRunFromETagCache(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	dir, cache := t.TempDir(), t.TempDir()
	writeWorkflow(t, dir, "a.yml", "      - uses: actions/checkout@v4\n      - uses: actions/setup-go@v5\n"+
		"      - uses: actions/cache@"+sha(t, api, "actions/cache", "v4.2.0")+" # v4.2.0\n")
	uses, _ := FindUses([]string{dir})

	a, tr := newAuditor(t, api, cache, false)
	first, err := a.Audit(context.Background(), uses)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := api.Requests()
	if sent == 0 || tr.Stats.Requests.Load() != int64(sent) {
		t.Fatalf("first run: the API saw %d requests, the client sent %d", sent, tr.Stats.Requests.Load())
	}

	a2, tr2 := newAuditor(t, api, cache, false)
	second, err := a2.Audit(context.Background(), uses)
	if err != nil {
		t.Fatal(err)
	}
	total, notModified := api.Requests()
	again := total - sent
	// Lookups by commit SHA are immutable: served from disk. Tags and releases move: revalidated, and answered 304.
	if notModified != again || again == 0 || tr2.Stats.CacheHits.Load() == 0 || int(tr2.Stats.NotModified.Load()) != again {
		t.Errorf("second run: %d requests, %d answered 304, %d cache hits; want every request answered 304", again, notModified, tr2.Stats.CacheHits.Load())
	}
	if again+int(tr2.Stats.CacheHits.Load()) != sent {
		t.Errorf("second run made %d requests + %d cache hits, the first %d requests", again, tr2.Stats.CacheHits.Load(), sent)
	}
	if len(first.Drifts) != len(second.Drifts) {
		t.Errorf("the cached run found %d findings, the first %d", len(second.Drifts), len(first.Drifts))
	}

	// Offline, the cache alone answers the same audit.
	a3, _ := newAuditor(t, api, cache, true)
	third, err := a3.Audit(context.Background(), uses)
	if err != nil || len(third.Drifts) != len(first.Drifts) || len(third.NotChecked) != 0 {
		t.Errorf("offline from the cache: %v, %d findings, not checked %v", err, len(third.Drifts), third.NotChecked)
	}
}

func TestDriftRateLimitExhaustedMidRun(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	api.Budget = 3
	dir := t.TempDir()
	writeWorkflow(t, dir, "a.yml", "      - uses: actions/checkout@v4\n      - uses: actions/setup-go@v5\n      - uses: actions/cache@v4\n      - uses: actions/stale@v9\n")
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--max-wait", "1s", dir},
		actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if code != actionio.ExitFail || !strings.Contains(stderr.String(), "GitHub API rate limit exhausted until") ||
		!strings.Contains(stderr.String(), "set GITHUB_TOKEN or GH_TOKEN") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}

	uses, _ := FindUses([]string{dir})
	a, _ := newAuditor(t, api, t.TempDir(), false)
	_, err := a.Audit(context.Background(), uses)
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Errorf("err = %v, want a RateLimitError", err)
	}
}

// The corpus: real workflows from public repositories.
func corpusFiles(t testing.TB) (string, []string) {
	dir := testenv.Corpus(t, "corpus", "workflows")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.y*ml"))
	if len(files) < 100 {
		t.Fatalf("only %d corpus files", len(files))
	}
	return dir, files
}

// TestDriftOfflineCorpusCount parses every real workflow and counts its references two ways: ours, and
// actionlint's parsed syntax tree.
func TestDriftOfflineCorpusCount(t *testing.T) {
	dir, files := corpusFiles(t)
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--offline", "--cache-dir", t.TempDir(), "--format", "json", "--fail-on", "none", dir},
		actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if code != actionio.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var want int
	for _, f := range files {
		data, _ := os.ReadFile(f)
		wf, errs := actionlint.Parse(data)
		if wf == nil {
			t.Fatalf("%s: actionlint cannot parse it: %v", f, errs)
		}
		for _, job := range wf.Jobs {
			if job.WorkflowCall != nil && job.WorkflowCall.Uses != nil {
				want++
			}
			for _, step := range job.Steps {
				if ex, ok := step.Exec.(*actionlint.ExecAction); ok && ex.Uses != nil {
					want++
				}
			}
		}
	}
	if !strings.Contains(stdout.String(), `"references": `+strconv.Itoa(want)+",") {
		t.Errorf("actionlint counts %d references; drift says %s", want, firstLines(stdout.String(), 2))
	}
	if !strings.Contains(stderr.String(), "0 API requests") {
		t.Errorf("offline made requests: %s", stderr.String())
	}
}

// TestDriftCorpusCommentMismatches: over the real workflows, every SHA pin (of the 24 actions whose tags the
// fixtures hold) whose comment names a tag of another commit is reported, and no truthful pin is.
func TestDriftCorpusCommentMismatches(t *testing.T) {
	api := testenv.NewCorpusGitHubAPI(t)
	dir, _ := corpusFiles(t)
	uses, rep := audit(t, api, dir)
	reported := map[string]bool{}
	for _, d := range rep.Drifts {
		if d.Kind == KindCommentMismatch {
			reported[d.Use.Pos()] = true
		}
	}
	lies, truths := 0, 0
	for _, u := range uses {
		tags, _, known := api.Repo(u.Ref.Repository())
		if !known || !actionref.IsSHA(u.Ref.Ref) || u.Comment == "" {
			continue
		}
		var commentCommit string
		for _, tg := range tags {
			if tg.Name == u.Comment {
				commentCommit = tg.CommitSHA
			}
		}
		if commentCommit == "" {
			continue // a comment naming no tag: reported too, but not what this test counts
		}
		lie := commentCommit != u.Ref.Ref
		// A moving tag over an exact release inside it is imprecise, not a lie.
		if v, _ := parseVersion(u.Comment); lie && v.parts < 3 {
			continue
		}
		if lie {
			lies++
			if !reported[u.Pos()] {
				t.Errorf("%s: %s # %s is a lie (the tag is commit %s) and was not reported", u.Pos(), u.Value, u.Comment, short(commentCommit))
			}
		} else {
			truths++
			if reported[u.Pos()] {
				t.Errorf("%s: the truthful pin %s # %s was reported", u.Pos(), u.Value, u.Comment)
			}
		}
	}
	if lies == 0 || truths < 20 {
		t.Errorf("the corpus gave %d lying and %d truthful pins; the test proves little", lies, truths)
	}
	t.Logf("%d lying pins reported, %d truthful pins left alone", lies, truths)
}

func TestDriftSARIFValidates(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	dir := t.TempDir()
	writeWorkflow(t, dir, "a.yml", "      - uses: actions/checkout@v3\n      - uses: actions/upload-artifact@v3\n")
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--format", "sarif", dir},
		actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if code != actionio.ExitFail {
		t.Errorf("exit %d with a deprecated action and --fail-on error", code)
	}
	path := testenv.Corpus(t, "fixtures", "schemas", "sarif-schema-2.1.0.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.JSONSchema(t, path, data).Validate(testenv.SchemaDocument(t, stdout.Bytes())); err != nil {
		t.Errorf("SARIF does not validate: %v", err)
	}
	for _, want := range []string{`"ruleId": "deprecated"`, `"startLine": 8`, `"driftFingerprint/v1"`, `"level": "error"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}
}

func TestDriftAnnotationsAndFailOn(t *testing.T) {
	api := testenv.NewGitHubAPI(t)
	dir := t.TempDir()
	p := writeWorkflow(t, dir, "a.yml", "      - uses: actions/checkout@v7.0.1\n")
	var stdout, stderr bytes.Buffer
	summary := filepath.Join(t.TempDir(), "summary.md")
	env := func(k string) string {
		if k == "GITHUB_STEP_SUMMARY" {
			return summary
		}
		return ""
	}
	code := Command([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--format", "github", p}, actionio.Env{Getenv: env, Stdout: &stdout, Stderr: &stderr})
	want := "::warning file=" + p + ",line=7,col=15,title=unpinned::actions/checkout uses the tag or branch \"v7.0.1\""
	if code != actionio.ExitOK || !strings.HasPrefix(stdout.String(), want) {
		t.Errorf("exit %d (a warning passes --fail-on error), stdout %q", code, stdout.String())
	}
	if md, _ := os.ReadFile(summary); !strings.Contains(string(md), "| unpinned | 1 |") {
		t.Errorf("step summary: %s", md)
	}
	stdout.Reset()
	if code := Command([]string{"--api-url", api.URL, "--cache-dir", t.TempDir(), "--fail-on", "warning", p}, actionio.Env{Getenv: env, Stdout: &stdout, Stderr: &stderr}); code != actionio.ExitFail {
		t.Errorf("--fail-on warning: exit %d", code)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestDriftOrgReport audits an organisation through the API: the corpus served as the repositories of one
// org, its workflow files read through the contents API. The same references are found as in the local
// files, and the per-action repository counts agree with a count made by reading the files.
func TestDriftOrgReport(t *testing.T) {
	api := testenv.NewCorpusGitHubAPI(t)
	dir, _ := corpusFiles(t)
	repos := api.ServeWorkflows(t, "corpus", dir)
	local, err := FindUses([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--org", "corpus", "--api-url", api.URL, "--cache-dir", t.TempDir(), "--format", "json", "--fail-on", "none"},
		actionio.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	if code != actionio.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		References   int                       `json:"references"`
		Findings     []struct{ File string }   `json:"findings"`
		Repositories map[string]map[string]int `json:"repositories"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.References != len(local) {
		t.Errorf("org audit found %d references, the local files hold %d", out.References, len(local))
	}
	if !strings.Contains(stderr.String(), "read the workflows of "+strconv.Itoa(len(repos))+" repositories") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// Independent count: repositories whose files mention actions/checkout@.
	usersOf := func(action string) int {
		n := 0
		for _, r := range repos {
			files, _ := filepath.Glob(filepath.Join(dir, strings.Replace(r, "/", "__", 1), "*"))
			for _, f := range files {
				if data, _ := os.ReadFile(f); bytes.Contains(data, []byte("uses: "+action+"@")) {
					n++
					break
				}
			}
		}
		return n
	}
	for _, action := range []string{"actions/checkout", "github/codeql-action/upload-sarif", "docker/build-push-action"} {
		want := usersOf(action)
		// A repository using two refs of an action counts under each: at least want, at most the sum.
		sum := 0
		for _, n := range out.Repositories[action] {
			sum += n
		}
		refs := 0
		for _, u := range local {
			if u.Ref.Action() == action {
				refs++
			}
		}
		if want == 0 || sum < want || sum > refs {
			t.Errorf("%s: %d repository uses in the report; %d repositories and %d references use it", action, sum, want, refs)
		}
	}
	if len(out.Findings) == 0 || !strings.Contains(out.Findings[0].File, "/.github/workflows/") {
		t.Errorf("findings are not named by repository: %+v", out.Findings[:min(1, len(out.Findings))])
	}
}
