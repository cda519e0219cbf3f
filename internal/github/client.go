package github

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"
)

// Options configure New.
type Options struct {
	// BaseURL is the REST API root: GITHUB_API_URL on a runner, https://api.github.com by default, or a GitHub
	// Enterprise Server's https://HOST/api/v3.
	BaseURL  string
	Token    string
	CacheDir string
	Offline  bool
	MaxWait  time.Duration
}

// New returns a go-github client over the caching, rate-limit-aware transport, and the transport (for its
// statistics).
func New(o Options) (*gh.Client, *Transport, error) {
	t := &Transport{Dir: o.CacheDir, Offline: o.Offline, MaxWait: o.MaxWait}
	if t.MaxWait == 0 {
		t.MaxWait = time.Minute
	}
	c := gh.NewClient(&http.Client{Transport: t, Timeout: 30 * time.Second})
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	if o.BaseURL != "" {
		u, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/") + "/")
		if err != nil {
			return nil, nil, err
		}
		c.BaseURL = u
	}
	return c, t, nil
}

// TokenFromEnv is GITHUB_TOKEN, else GH_TOKEN.
func TokenFromEnv(getenv func(string) string) string {
	if t := getenv("GITHUB_TOKEN"); t != "" {
		return t
	}
	return getenv("GH_TOKEN")
}
