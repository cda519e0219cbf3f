package drift

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
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/actionref"
)

// PinCommand is `gen-workflows pin [flags] [PATH...]`: it pins every action reference under the paths to a
// full commit SHA with its version as a comment, records the pins in the lock file, and returns the process
// exit code.
func PinCommand(args []string, env actionio.Env) int {
	fl := flag.NewFlagSet("pin", flag.ContinueOnError)
	fl.SetOutput(env.Stderr)
	upgrade := fl.String("upgrade", "none", "also move to a newer release: none, patch, minor or major")
	dryRun := fl.Bool("dry-run", false, "print the diff; change nothing")
	lockPath := fl.String("lock", "actions.lock.yaml", "lock file to update with the pins")
	apiURL := fl.String("api-url", "", "GitHub REST API root (default: $GITHUB_API_URL, else https://api.github.com)")
	cacheDir := fl.String("cache-dir", "", "on-disk API cache (default: the user cache dir)/scribe-actions/github")
	maxWait := fl.Duration("max-wait", time.Minute, "longest wait for a rate-limit reset before giving up")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return actionio.ExitOK
		}
		return actionio.ExitUsage
	}
	if !slices.Contains([]string{"none", "patch", "minor", "major"}, *upgrade) {
		fmt.Fprintf(env.Stderr, "gen-workflows pin: --upgrade %q is not one of none, patch, minor, major\n", *upgrade)
		return actionio.ExitUsage
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "gen-workflows pin: %v\n", err)
		return actionio.ExitFail
	}
	uses, err := FindUses(paths)
	if err != nil {
		return fail(err)
	}
	client, _, err := newClient(env.Getenv, *apiURL, *cacheDir, false, *maxWait)
	if err != nil {
		return fail(err)
	}
	a := &Auditor{Client: client, Now: time.Now(), Concurrency: 8}
	changes, err := a.planPins(context.Background(), uses, *upgrade, env.Stderr)
	if err != nil {
		return fail(err)
	}
	writes, files, err := pinWrites(changes, *lockPath)
	if err != nil {
		return fail(err)
	}
	if err := writePins(writes, *dryRun, env.Stdout); err != nil {
		return fail(err)
	}
	verb := "pinned"
	if *dryRun {
		verb = "would pin"
	}
	fmt.Fprintf(env.Stderr, "gen-workflows pin: %s %d references in %d files\n", verb, len(changes), files)
	return actionio.ExitOK
}

// pinWrites is what pinning changes, by path, before and after: each workflow with changes, and the lock file
// with every pinned release set (when anything changes). files counts the workflows.
func pinWrites(changes []pinChange, lockPath string) (writes map[string][2][]byte, files int, err error) {
	lock := &actionref.Lock{Path: lockPath, Pins: map[string]actionref.Pin{}}
	oldLock, err := os.ReadFile(lockPath)
	if err == nil {
		if lock, err = actionref.ReadLock(lockPath, oldLock); err != nil {
			return nil, 0, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, err
	}
	byFile := map[string][]pinChange{}
	for _, ch := range changes {
		byFile[ch.Use.File] = append(byFile[ch.Use.File], ch)
		if _, ok := parseVersion(ch.Version); ok {
			lock.Set(ch.Use.Ref.Repository(), actionref.Pin{Version: ch.Version, SHA: ch.SHA})
		}
	}
	writes = map[string][2][]byte{}
	for _, f := range slices.Sorted(maps.Keys(byFile)) {
		before, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		writes[f] = [2][]byte{before, applyPins(before, byFile[f])}
	}
	if len(changes) > 0 {
		writes[lockPath] = [2][]byte{oldLock, lock.Marshal()}
	}
	return writes, len(byFile), nil
}

// writePins writes each file in path order or, for a dry run, prints its unified diff instead.
func writePins(writes map[string][2][]byte, dryRun bool, stdout io.Writer) error {
	for _, f := range slices.Sorted(maps.Keys(writes)) {
		w := writes[f]
		if dryRun {
			diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(w[0])),
				B: difflib.SplitLines(string(w[1])), FromFile: "a/" + f, ToFile: "b/" + f, Context: 1})
			fmt.Fprint(stdout, diff)
			continue
		}
		if err := os.WriteFile(f, w[1], 0o644); err != nil {
			return err
		}
	}
	return nil
}
