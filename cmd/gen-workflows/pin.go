package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
)

// pinChange is one uses: line to rewrite.
type pinChange struct {
	Use     Use
	SHA     string
	Version string
}

// planPins decides, for every remote reference, the commit and release to pin: the same release
// (upgrade "none"), or the newest one within the same major and minor ("patch"), major ("minor"), or any ("major").
func (a *Auditor) planPins(ctx context.Context, uses []Use, upgrade string, warn io.Writer) ([]pinChange, error) {
	var changes []pinChange
	for _, u := range uses {
		if u.Kind != "action" && u.Kind != "workflow" || u.Ref.Owner == "" {
			continue
		}
		r := u.Ref
		c, err := a.commit(ctx, r, r.Ref)
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			fmt.Fprintf(warn, "%s: %s: left alone: %v\n", u.Pos(), u.Value, err)
			continue
		}
		version := ""
		if v, ok := parseVersion(r.Ref); ok && v.exact() {
			version = r.Ref
		} else if tags, err := a.tagsAt(ctx, r, c.SHA); err == nil {
			version = highest(tags)
		} else if fatal(err) {
			return nil, err
		}
		target := pinChange{Use: u, SHA: c.SHA, Version: version}
		if upgrade != "none" {
			next, err := a.newest(ctx, r, version, upgrade)
			if err != nil {
				if fatal(err) {
					return nil, err
				}
				fmt.Fprintf(warn, "%s: %s: cannot upgrade: %v\n", u.Pos(), u.Value, err)
			} else if next.Version != "" {
				target.SHA, target.Version = next.SHA, next.Version
			}
		}
		if target.Version == "" {
			if !actionref.IsSHA(r.Ref) {
				target.Version = r.Ref // a branch: say which
			} else {
				target.Version = u.Comment
			}
		}
		if target.SHA == r.Ref && target.Version == u.Comment {
			continue
		}
		changes = append(changes, target)
	}
	return changes, nil
}

// newest finds the highest release above from that the upgrade policy allows.
func (a *Auditor) newest(ctx context.Context, r actionref.Ref, from, upgrade string) (pinChange, error) {
	cur, ok := parseVersion(from)
	if !ok {
		return pinChange{}, fmt.Errorf("the current version %q is not a release", from)
	}
	bySHA, err := a.tags(ctx, r)
	if err != nil {
		return pinChange{}, err
	}
	best := pinChange{}
	bestV := cur
	for sha, names := range bySHA {
		for _, n := range names {
			nv, ok := parseVersion(n)
			if !ok || !nv.exact() || !strings.HasPrefix(n, "v") || cmp3(nv.v, bestV.v) <= 0 {
				continue
			}
			if upgrade == "patch" && (nv.v[0] != cur.v[0] || nv.v[1] != cur.v[1]) || upgrade == "minor" && nv.v[0] != cur.v[0] {
				continue
			}
			best, bestV = pinChange{SHA: sha, Version: n}, nv
		}
	}
	return best, nil
}

// applyPins rewrites the uses: lines, changing only the value and its comment; every other byte stays.
func applyPins(content []byte, changes []pinChange) []byte {
	lines := strings.SplitAfter(string(content), "\n")
	for _, ch := range changes {
		i := ch.Use.Line - 1
		if i < 0 || i >= len(lines) {
			continue
		}
		line := []rune(lines[i])
		end := ""
		body := string(line)
		if strings.HasSuffix(body, "\r\n") {
			end, body = "\r\n", strings.TrimSuffix(body, "\r\n")
		} else if strings.HasSuffix(body, "\n") {
			end, body = "\n", strings.TrimSuffix(body, "\n")
		}
		runes := []rune(body)
		col := ch.Use.Col - 1
		if col < 0 || col > len(runes) {
			continue
		}
		quote := ""
		if col < len(runes) && (runes[col] == '\'' || runes[col] == '"') {
			quote = string(runes[col])
		}
		value := quote + ch.Use.Ref.Action() + "@" + ch.SHA + quote
		if ch.Version != "" {
			value += " # " + ch.Version
		}
		lines[i] = string(runes[:col]) + value + end
	}
	return []byte(strings.Join(lines, ""))
}

// pinCommand is `gen-workflows pin [flags] [PATH...]`.
func pinCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("pin", flag.ContinueOnError)
	fl.SetOutput(stderr)
	upgrade := fl.String("upgrade", "none", "also move to a newer release: none, patch, minor or major")
	dryRun := fl.Bool("dry-run", false, "print the diff; change nothing")
	lockPath := fl.String("lock", "actions.lock.yaml", "lock file to update with the pins")
	apiURL := fl.String("api-url", "", "GitHub REST API root (default: $GITHUB_API_URL, else https://api.github.com)")
	cacheDir := fl.String("cache-dir", "", "on-disk API cache (default: the user cache dir)/scribe-actions/github")
	maxWait := fl.Duration("max-wait", time.Minute, "longest wait for a rate-limit reset before giving up")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if !slices.Contains([]string{"none", "patch", "minor", "major"}, *upgrade) {
		fmt.Fprintf(stderr, "gen-workflows pin: --upgrade %q is not one of none, patch, minor, major\n", *upgrade)
		return exitUsage
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gen-workflows pin: %v\n", err)
		return exitFail
	}
	uses, err := FindUses(paths)
	if err != nil {
		return fail(err)
	}
	client, _, err := newClient(getenv, *apiURL, *cacheDir, false, *maxWait)
	if err != nil {
		return fail(err)
	}
	a := &Auditor{Client: client, Now: time.Now(), Concurrency: 8}
	changes, err := a.planPins(context.Background(), uses, *upgrade, stderr)
	if err != nil {
		return fail(err)
	}

	lock := &actionref.Lock{Path: *lockPath, Pins: map[string]actionref.Pin{}}
	oldLock, err := os.ReadFile(*lockPath)
	if err == nil {
		if lock, err = actionref.ReadLock(*lockPath, oldLock); err != nil {
			return fail(err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	byFile := map[string][]pinChange{}
	for _, ch := range changes {
		byFile[ch.Use.File] = append(byFile[ch.Use.File], ch)
	}
	for _, ch := range changes {
		if _, ok := parseVersion(ch.Version); ok {
			lock.Set(ch.Use.Ref.Repository(), actionref.Pin{Version: ch.Version, SHA: ch.SHA})
		}
	}
	files := slices.Sorted(maps.Keys(byFile))
	writes := map[string][2][]byte{}
	for _, f := range files {
		before, err := os.ReadFile(f)
		if err != nil {
			return fail(err)
		}
		writes[f] = [2][]byte{before, applyPins(before, byFile[f])}
	}
	if len(changes) > 0 {
		writes[*lockPath] = [2][]byte{oldLock, lock.Marshal()}
	}
	names := slices.Sorted(maps.Keys(writes))
	for _, f := range names {
		w := writes[f]
		if *dryRun {
			diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(w[0])),
				B: difflib.SplitLines(string(w[1])), FromFile: "a/" + f, ToFile: "b/" + f, Context: 1})
			fmt.Fprint(stdout, diff)
			continue
		}
		if err := os.WriteFile(f, w[1], 0o644); err != nil {
			return fail(err)
		}
	}
	verb := "pinned"
	if *dryRun {
		verb = "would pin"
	}
	fmt.Fprintf(stderr, "gen-workflows pin: %s %d references in %d files\n", verb, len(changes), len(files))
	return exitOK
}
