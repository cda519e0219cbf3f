package build

import (
	"strings"
	"testing"
)

// The runner's contract for the Actions cache, as buildx applies it: which environments leave a type=gha
// entry without what it needs, and so dropped.
func TestGHACacheGaps(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		env     map[string]string
		want    []string // what the warning names; none when the cache is usable
	}{
		{"a composite's run: step (no runtime)", []string{"type=gha,mode=max"}, nil,
			[]string{`cache-to "type=gha,mode=max": no ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL`}},
		{"the runtime exported to the job (cache service v2)", []string{"type=gha,mode=max"},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt", "ACTIONS_RESULTS_URL": "https://results.example/", "ACTIONS_CACHE_SERVICE_V2": "True"}, nil},
		{"the legacy cache URL is enough", []string{"type=gha"},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt", "ACTIONS_CACHE_URL": "https://cache.example/"}, nil},
		{"a URL without a token", []string{"type=gha"}, map[string]string{"ACTIONS_CACHE_URL": "https://cache.example/"},
			[]string{"no ACTIONS_RUNTIME_TOKEN in this step's environment"}},
		{"a token without a URL", []string{"type=gha"}, map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt"},
			[]string{"no ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL in"}},
		{"given in the entry itself", []string{"type=gha,token=jwt,url=https://cache.example/"}, nil, nil},
		{"version=2 with its own url_v2", []string{"type=gha,version=2,url_v2=https://results.example/"},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt"}, nil},
		{"its own url_v2 without version=2 (buildx keeps any given url_v2)", []string{"type=gha,url_v2=https://results.example/"},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt"}, nil},
		{"an empty token given in the entry wins over the environment", []string{"type=gha,token="},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "jwt", "ACTIONS_CACHE_URL": "https://cache.example/"},
			[]string{"no ACTIONS_RUNTIME_TOKEN in"}},
		{"a token in the entry is never printed", []string{"type=gha,token=s3cret"}, nil,
			[]string{`cache-to "type=gha,token=***": no ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL in`}},
		{"not a gha cache", []string{"type=registry,ref=ghcr.io/acme/app:cache", "type=local,dest=/tmp/c"}, nil, nil},
		{"an empty token is no token (buildx checks for \"\")", []string{"type=gha"},
			map[string]string{"ACTIONS_RUNTIME_TOKEN": "", "ACTIONS_RESULTS_URL": "https://results.example/"},
			[]string{"no ACTIONS_RUNTIME_TOKEN in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ghaCacheGaps("cache-to", tt.entries, func(k string) string { return tt.env[k] })
			if len(got) != len(tt.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || !strings.Contains(got[i], "JavaScript and container actions only") {
					t.Errorf("warning %q does not say %q and why", got[i], w)
				}
			}
		})
	}
}

// no-cache drops cache-from, so only cache-to is checked then.
func TestCacheGapsFollowNoCache(t *testing.T) {
	in := &Inputs{CacheFrom: []string{"type=gha"}, CacheTo: []string{"type=gha,mode=max"}}
	none := func(string) string { return "" }
	if got := in.cacheGaps(none); len(got) != 2 || !strings.HasPrefix(got[0], "cache-from") || !strings.HasPrefix(got[1], "cache-to") {
		t.Errorf("gaps %q", got)
	}
	in.NoCache = true
	if got := in.cacheGaps(none); len(got) != 1 || !strings.HasPrefix(got[0], "cache-to") {
		t.Errorf("with no-cache: gaps %q", got)
	}
}
