package testenv

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitHubAPI is a GitHub REST API for tests: response bodies written here from the REST API's documented fields
// (testdata/github-api), filled with real tags, branch heads and action runtimes: by default those of the
// eleven actions in testdata/action-tags.json, or with NewCorpusGitHubAPI the 24 repositories of the corpus
// (fixtures/action-refs). It answers
//
//	GET /repos/{o}/{r}/commits/{ref}                 a tag (annotated tags peeled), branch or commit SHA
//	GET /repos/{o}/{r}/releases/latest               the highest vX.Y.Z tag (releases are not in git)
//	GET /repos/{o}/{r}/tags?per_page=&page=          every tag, paginated with Link headers
//	GET /repos/{o}/{r}/contents/{dir}/action.yml     an action.yml with the real runs.using at that ref
//
// with ETags (If-None-Match answers 304, which does not count against the budget) and X-RateLimit headers.
type GitHubAPI struct {
	URL string
	// Budget is the rate-limit budget; when spent, requests get 403 with X-RateLimit-Remaining: 0.
	Budget int

	mu       sync.Mutex
	repos    map[string]*fixtureRepo
	orgs     map[string][]string          // org -> repositories (owner/name) with workflows to serve
	hosted   map[string]map[string][]byte // repository -> workflow file name -> content
	requests map[string]int               // path -> count, 304s included
	used     int
	total    int
	notMod   int
	examples map[string]map[string]any
}

type fixtureTag struct {
	Name       string            `json:"name"`
	ObjectType string            `json:"object_type"`
	ObjectSHA  string            `json:"object_sha"`
	CommitSHA  string            `json:"commit_sha"`
	CommitDate string            `json:"commit_date"`
	RunsUsing  map[string]string `json:"runs_using"`
}

type fixtureRepo struct {
	Repository    string       `json:"repository"`
	DefaultBranch string       `json:"default_branch"`
	Tags          []fixtureTag `json:"tags"`
	Branches      []fixtureTag `json:"branches"`
}

//go:embed testdata/action-tags.json testdata/github-api
var testdata embed.FS

// NewGitHubAPI starts the API with the repositories of testdata/action-tags.json.
func NewGitHubAPI(t testing.TB) *GitHubAPI {
	t.Helper()
	data, err := testdata.ReadFile("testdata/action-tags.json")
	if err != nil {
		t.Fatal(err)
	}
	var repos []*fixtureRepo
	if err := json.Unmarshal(data, &repos); err != nil {
		t.Fatalf("testdata/action-tags.json: %v", err)
	}
	return startGitHubAPI(t, repos)
}

// NewCorpusGitHubAPI starts the API with every repository of the corpus's fixtures/action-refs (a corpus test:
// see Corpus).
func NewCorpusGitHubAPI(t testing.TB) *GitHubAPI {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(Corpus(t, "fixtures", "action-refs"), "*.json"))
	var repos []*fixtureRepo
	for _, f := range files {
		r := new(fixtureRepo)
		data, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(data, r)
		}
		if err != nil {
			t.Fatalf("corpus file %s: %v", f, err)
		}
		repos = append(repos, r)
	}
	return startGitHubAPI(t, repos)
}

func startGitHubAPI(t testing.TB, repos []*fixtureRepo) *GitHubAPI {
	api := &GitHubAPI{Budget: 5000, repos: map[string]*fixtureRepo{}, requests: map[string]int{}, examples: map[string]map[string]any{},
		orgs: map[string][]string{}, hosted: map[string]map[string][]byte{}}
	for _, r := range repos {
		api.repos[strings.ToLower(r.Repository)] = r
	}
	for _, name := range []string{"commit", "release", "tag-item"} {
		api.examples[name] = example(t, name)
	}
	s := httptest.NewServer(api)
	t.Cleanup(s.Close)
	api.URL = s.URL
	return api
}

// example is one of the response bodies of testdata/github-api.
func example(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := testdata.ReadFile("testdata/github-api/" + name + ".json")
	var body map[string]any
	if err == nil {
		err = json.Unmarshal(data, &body)
	}
	if err != nil {
		t.Fatalf("testdata/github-api/%s.json: %v", name, err)
	}
	return body
}

// Requests is how many requests reached the API (304s included); NotModified how many were answered 304.
func (a *GitHubAPI) Requests() (total, notModified int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total, a.notMod
}

// RequestsFor counts the requests for one path.
func (a *GitHubAPI) RequestsFor(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[path]
}

// Repo returns a repository's fixture data, for tests that compute expectations.
func (a *GitHubAPI) Repo(name string) (tags, branches []fixtureTag, ok bool) {
	r, ok := a.repos[strings.ToLower(name)]
	if !ok {
		return nil, nil, false
	}
	return r.Tags, r.Branches, true
}

// ServeWorkflows serves a folder laid out as <owner>__<repo>/<workflow files> (as the corpus's workflows are) as
// the repositories of org: GET /orgs/{org}/repos lists them, and the contents API serves their
// .github/workflows folder and files. It returns the repositories, sorted.
func (a *GitHubAPI) ServeWorkflows(t testing.TB, org, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range entries {
		owner, name, ok := strings.Cut(e.Name(), "__")
		if !e.IsDir() || !ok {
			continue
		}
		repo := owner + "/" + name
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		a.hosted[strings.ToLower(repo)] = map[string][]byte{}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, e.Name(), f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			a.hosted[strings.ToLower(repo)][f.Name()] = data
		}
		a.orgs[org] = append(a.orgs[org], repo)
	}
	sort.Strings(a.orgs[org])
	return a.orgs[org]
}

var orgRepos = regexp.MustCompile(`^/orgs/([^/]+)/repos$`)

var workflowsPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/contents/\.github/workflows(?:/([^/]+))?$`)

// hostedAnswer serves the org listing and workflow contents of ServeWorkflows.
func (a *GitHubAPI) hostedAnswer(r *http.Request) (int, any, bool) {
	if m := orgRepos.FindStringSubmatch(r.URL.Path); m != nil {
		repos, ok := a.orgs[m[1]]
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Not Found"}, true
		}
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per <= 0 {
			per = 30
		}
		page := max(1, atoi(r.URL.Query().Get("page")))
		items := []any{}
		for i := (page - 1) * per; i < len(repos) && i < page*per; i++ {
			owner, name, _ := strings.Cut(repos[i], "/")
			items = append(items, map[string]any{"id": i + 1, "name": name, "full_name": repos[i], "private": false,
				"owner": map[string]any{"login": owner}, "default_branch": "main"})
		}
		link := ""
		if page*per < len(repos) {
			link = fmt.Sprintf(`<%s/orgs/%s/repos?per_page=%d&page=%d>; rel="next"`, a.URL, m[1], per, page+1)
		}
		return http.StatusOK, paged{items: items, link: link}, true
	}
	m := workflowsPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return 0, nil, false
	}
	files, ok := a.hosted[strings.ToLower(m[1]+"/"+m[2])]
	if !ok {
		return 0, nil, false
	}
	if m[3] == "" {
		var list []any
		for _, name := range sortedNames(files) {
			list = append(list, map[string]any{"type": "file", "name": name, "path": ".github/workflows/" + name, "size": len(files[name])})
		}
		return http.StatusOK, list, true
	}
	data, ok := files[m[3]]
	if !ok {
		return http.StatusNotFound, map[string]any{"message": "Not Found"}, true
	}
	return http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "name": m[3], "path": ".github/workflows/" + m[3],
		"size": len(data), "content": base64.StdEncoding.EncodeToString(data)}, true
}

func sortedNames(m map[string][]byte) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var repoPath = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/(commits|releases/latest|tags|contents)(?:/(.*))?$`)

func (a *GitHubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.total++
	a.requests[r.URL.Path]++
	spent := a.used >= a.Budget
	a.mu.Unlock()
	reset := strconv.FormatInt(time.Now().Add(30*time.Minute).Unix(), 10)
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(a.Budget))
	w.Header().Set("X-RateLimit-Reset", reset)
	if spent {
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "API rate limit exceeded for 127.0.0.1.",
			"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"})
		return
	}
	a.mu.Lock()
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(a.Budget-a.used))
	a.mu.Unlock()
	status, body, hosted := a.hostedAnswer(r)
	if !hosted {
		m := repoPath.FindStringSubmatch(r.URL.Path)
		if m == nil || r.Method != http.MethodGet {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		repo, ok := a.repos[strings.ToLower(m[1]+"/"+m[2])]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		status, body = a.answer(repo, m[3], m[4], r)
	}
	data, _ := json.MarshalIndent(body, "", "  ")
	sum := sha256.Sum256(data)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	a.mu.Lock()
	defer a.mu.Unlock()
	if status == http.StatusOK && r.Header.Get("If-None-Match") == etag {
		a.notMod++
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(a.Budget-a.used))
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	a.used++
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(a.Budget-a.used))
	if status == http.StatusOK {
		w.Header().Set("ETag", etag)
	}
	if link, ok := body.(paged); ok {
		w.Header().Set("Link", link.link)
		body = link.items
		data, _ = json.MarshalIndent(body, "", "  ")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}

type paged struct {
	items []any
	link  string
}

func (p paged) MarshalJSON() ([]byte, error) { return json.Marshal(p.items) }

func (a *GitHubAPI) answer(repo *fixtureRepo, kind, rest string, r *http.Request) (int, any) {
	apiRepo := a.URL + "/repos/" + repo.Repository
	switch kind {
	case "commits":
		c, ok := resolve(repo, rest)
		if !ok {
			return http.StatusUnprocessableEntity, map[string]any{"message": "No commit found for SHA: " + rest,
				"documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit"}
		}
		body := clone(a.examples["commit"])
		body["sha"], body["url"] = c.CommitSHA, apiRepo+"/commits/"+c.CommitSHA
		commit := body["commit"].(map[string]any)
		commit["author"].(map[string]any)["date"] = c.CommitDate
		commit["committer"].(map[string]any)["date"] = c.CommitDate
		return http.StatusOK, body
	case "releases/latest":
		latest, ok := latestTag(repo)
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Not Found"}
		}
		body := clone(a.examples["release"])
		body["tag_name"], body["name"] = latest.Name, latest.Name
		body["published_at"], body["created_at"] = latest.CommitDate, latest.CommitDate
		return http.StatusOK, body
	case "tags":
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per <= 0 {
			per = 30
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		tags := append([]fixtureTag{}, repo.Tags...)
		sort.Slice(tags, func(i, j int) bool { return tags[i].CommitDate > tags[j].CommitDate })
		var items []any
		for i := (page - 1) * per; i < len(tags) && i < page*per; i++ {
			item := clone(a.examples["tag-item"])
			item["name"] = tags[i].Name
			item["commit"] = map[string]any{"sha": tags[i].CommitSHA, "url": apiRepo + "/commits/" + tags[i].CommitSHA}
			items = append(items, item)
		}
		link := ""
		if page*per < len(tags) {
			link = fmt.Sprintf(`<%s/tags?per_page=%d&page=%d>; rel="next"`, apiRepo, per, page+1)
		}
		if items == nil {
			items = []any{}
		}
		return http.StatusOK, paged{items: items, link: link}
	case "contents":
		dir := strings.TrimSuffix(strings.TrimSuffix(rest, "action.yml"), "/")
		if dir == "" {
			dir = "."
		}
		ref := r.URL.Query().Get("ref")
		c, ok := resolve(repo, ref)
		if !ok || !strings.HasSuffix(rest, "action.yml") {
			return http.StatusNotFound, map[string]any{"message": "Not Found"}
		}
		using := ""
		for _, t := range repo.Tags {
			if t.CommitSHA == c.CommitSHA && t.RunsUsing[dir] != "" {
				using = t.RunsUsing[dir]
			}
		}
		if using == "" {
			return http.StatusNotFound, map[string]any{"message": "Not Found"}
		}
		content := "name: " + repo.Repository + "\nruns:\n  using: " + using + "\n"
		return http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "name": "action.yml", "path": rest,
			"size": len(content), "sha": c.CommitSHA, "content": base64.StdEncoding.EncodeToString([]byte(content))}
	}
	return http.StatusNotFound, map[string]any{"message": "Not Found"}
}

// resolve finds a ref as git would: a full commit SHA known as a tag or branch head, else a tag, else a branch.
func resolve(repo *fixtureRepo, ref string) (fixtureTag, bool) {
	for _, list := range [][]fixtureTag{repo.Tags, repo.Branches} {
		for _, t := range list {
			if t.CommitSHA == ref {
				return t, true
			}
		}
	}
	for _, list := range [][]fixtureTag{repo.Tags, repo.Branches} {
		for _, t := range list {
			if t.Name == ref {
				return t, true
			}
		}
	}
	return fixtureTag{}, false
}

var release = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)$`)

func latestTag(repo *fixtureRepo) (fixtureTag, bool) {
	var best fixtureTag
	var bestV [3]int
	found := false
	for _, t := range repo.Tags {
		m := release.FindStringSubmatch(t.Name)
		if m == nil {
			continue
		}
		var v [3]int
		for i := range v {
			v[i], _ = strconv.Atoi(m[i+1])
		}
		if !found || v[0] > bestV[0] || v[0] == bestV[0] && (v[1] > bestV[1] || v[1] == bestV[1] && v[2] > bestV[2]) {
			best, bestV, found = t, v, true
		}
	}
	return best, found
}

func clone(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	var c map[string]any
	json.Unmarshal(data, &c)
	return c
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
