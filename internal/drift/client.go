package drift

import (
	"os"
	"path/filepath"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// newClient is the GitHub client of drift and pin: the API from --api-url or GITHUB_API_URL, GITHUB_TOKEN or
// GH_TOKEN, the cache in --cache-dir or the user's cache folder.
func newClient(getenv func(string) string, apiURL, cacheDir string, offline bool, maxWait time.Duration) (*gh.Client, *github.Transport, error) {
	if apiURL == "" {
		apiURL = getenv("GITHUB_API_URL")
	}
	if cacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(dir, "scribe-actions", "github")
		}
	}
	return github.New(github.Options{BaseURL: apiURL, Token: github.TokenFromEnv(getenv), CacheDir: cacheDir, Offline: offline, MaxWait: maxWait})
}
