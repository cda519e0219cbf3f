package build

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// The Actions cache contract, as buildx v0.38.2 applies it to a type=gha cache entry (build/opt.go,
// addGithubToken and isActive): token= comes from ACTIONS_RUNTIME_TOKEN; url= from ACTIONS_CACHE_URL, else
// ACTIONS_RESULTS_URL; url_v2= from ACTIONS_RESULTS_URL when version=2 or ACTIONS_CACHE_SERVICE_V2 is true.
// An entry left without a token, or without any URL, is dropped without a word, and the build runs cold.
//
// GitHub's runner gives these variables to JavaScript and container actions only, never to run: steps, and
// the steps of a composite action are run: steps (internal/ghrunner.Contract, from the runner's source). The
// build action is a JavaScript action for that reason (launcher/entry.cjs); they are still missing when the
// binary runs from a run: step of the user's own, under act without --artifact-server-path, or on a runner
// older than the protocol.

// ghaCacheGaps says, for each type=gha entry of the cache inputs that buildx would drop, which input and why.
// getenv is the environment buildx runs in.
func ghaCacheGaps(input string, entries []string, getenv func(string) string) []string {
	var gaps []string
	for _, e := range entries {
		attrs := map[string]string{}
		var shown []string // the entry as the warning prints it: a token's value never
		for _, field := range strings.Split(e, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
			attrs[k] = v
			if k == "token" {
				field = "token=***"
			}
			shown = append(shown, field)
		}
		if attrs["type"] != "gha" {
			continue
		}
		// As buildx fills an entry: an attribute given stays as given, even empty; a missing one comes from
		// the environment.
		fill := func(key, value string) {
			if _, given := attrs[key]; !given {
				attrs[key] = value
			}
		}
		if v2, _ := strconv.ParseBool(getenv("ACTIONS_CACHE_SERVICE_V2")); v2 {
			fill("version", "2")
		}
		fill("token", getenv("ACTIONS_RUNTIME_TOKEN"))
		if attrs["version"] == "2" {
			fill("url_v2", getenv("ACTIONS_RESULTS_URL"))
		}
		fill("url", cmp.Or(getenv("ACTIONS_CACHE_URL"), getenv("ACTIONS_RESULTS_URL")))
		var missing []string
		if attrs["token"] == "" {
			missing = append(missing, "ACTIONS_RUNTIME_TOKEN")
		}
		if attrs["url"] == "" && attrs["url_v2"] == "" {
			missing = append(missing, "ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL")
		}
		if len(missing) > 0 {
			gaps = append(gaps, fmt.Sprintf("%s %q: no %s in this step's environment, so buildx drops this cache without a word "+
				"and the build runs without it. GitHub gives the Actions runtime to JavaScript and container actions only, "+
				"not to run: steps (a composite action's included): run this through uses: .../build, or export the runtime "+
				"to the job in an earlier JavaScript step (for example crazy-max/ghaction-github-runtime), or use a "+
				"type=registry cache",
				input, strings.Join(shown, ","), strings.Join(missing, " and ")))
		}
	}
	return gaps
}

// cacheGaps is ghaCacheGaps over the cache inputs buildx will get (no-cache drops cache-from).
func (in *Inputs) cacheGaps(getenv func(string) string) []string {
	gaps := ghaCacheGaps("cache-to", in.CacheTo, getenv)
	if !in.NoCache {
		gaps = append(ghaCacheGaps("cache-from", in.CacheFrom, getenv), gaps...)
	}
	return gaps
}
