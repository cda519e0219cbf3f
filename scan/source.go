package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitleaks/go-gitdiff/gitdiff"
)

// The source scan is gitleaks's job done with the image scan's detectors: the files of a directory (the
// checkout) and, with history, the lines each commit added, read from `git log -p -U0` as gitleaks reads them
// (sources/git.go in gitleaks v8.30: `log -p -U0 --full-history --diff-filter=tuxdb`, each text fragment's
// added lines scanned from its new position; deleted and binary files skipped). The git CLI rather than
// go-git: it is what gitleaks runs, it is on every runner, and it reads packs and commit graphs natively.

// Source is what the source scan read and found.
type Source struct {
	Dir string // the directory scanned
	// Prefix is Dir's path in its git repository ("" at the root, or outside one): every path reported is
	// relative to the repository's root, as code scanning and gitleaks name files.
	Prefix  string
	Files   int      // files of the working tree read
	Range   string   // the commits scanned: "a..b", "HEAD" (all of its history) or "" (no history)
	Commits int      // commits whose changes were read
	Secrets []Secret // each with its file (relative to Dir) and line; history's with the commit and its author date
	Allowed int      // findings skipped by a gitleaks:allow comment or a .gitleaksignore fingerprint
	Notes   []string // what the scan could not do or chose, said as a warning
}

// maxSourceFile is the largest working-tree file read: a file larger than this is not source.
const maxSourceFile = 16 << 20

// ScanSource scans dir's files and, when rng is not "", the commits git selects with rng (a revision range
// such as base..HEAD, or HEAD for all of its history). gitleaks's allow-lists apply: a line holding
// "gitleaks:allow" and the fingerprints listed in dir's .gitleaksignore.
func ScanSource(ctx context.Context, dir, rng string) (*Source, error) {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return nil, fmt.Errorf(`input "path": %q is not a directory`, dir)
	}
	ignore, notes, err := readGitleaksIgnore(filepath.Join(dir, ".gitleaksignore"))
	if err != nil {
		return nil, err
	}
	src := &Source{Dir: dir, Range: rng, Notes: notes}
	if top, err := git(ctx, dir, "rev-parse", "--show-prefix"); err == nil {
		src.Prefix = strings.TrimSuffix(strings.TrimSpace(top), "/")
	}
	sc := newSecretScanner()
	keep := func(found []Secret, text []byte, offsetLine int, commit string, date time.Time) {
		for _, s := range found {
			if allowedLine(text, s.Line) {
				src.Allowed++
				continue
			}
			s.Line += offsetLine
			s.Layer = -1
			if commit != "" {
				s.Commit, s.Date = commit, date.UTC().Format(time.RFC3339)
			}
			// A commit's fingerprint (what gitleaks's git scan reports) covers the same file, rule and line in the
			// working tree too: gitleaks-action users list those, and it scans no working tree.
			global := s.gitleaksFingerprint(false)
			if ignore[global] || commit != "" && ignore[s.gitleaksFingerprint(true)] || commit == "" && ignore[anyCommit+global] {
				src.Allowed++
				continue
			}
			src.Secrets = append(src.Secrets, s)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > maxSourceFile {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		src.Files++
		keep(sc.scan(path.Join(src.Prefix, filepath.ToSlash(rel)), 0, data), data, 0, "", time.Time{})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf(`input "path": %w`, err)
	}
	if rng == "" {
		return src, nil
	}
	if err := scanHistory(ctx, dir, rng, sc, src, keep); err != nil {
		return nil, err
	}
	return src, nil
}

// scanHistory reads the lines each commit of rng added. The diff parser stops silently at what it cannot
// parse, so the commits it gave are checked against the ones git lists: a commit lost is an error.
func scanHistory(ctx context.Context, dir, rng string, sc *secretScanner, src *Source,
	keep func([]Secret, []byte, int, string, time.Time)) error {
	if out, err := git(ctx, dir, "rev-parse", "--is-shallow-repository"); err != nil {
		return fmt.Errorf(`input "path": %s is not a git repository (history: true needs one): %w`, dir, err)
	} else if strings.TrimSpace(out) == "true" {
		src.Notes = append(src.Notes, "the clone is shallow: commits before its depth are not scanned (actions/checkout: fetch-depth: 0 fetches them)")
	}
	// "." limits both to the directory scanned (git -C dir reads pathspecs from there); names stay the root's.
	listed, err := git(ctx, dir, "log", "--format=%x00%H", "--name-only", "--full-history", "--diff-filter=tuxdb", rng, "--", ".")
	if err != nil {
		return fmt.Errorf(`the commits of %q: %w`, rng, err)
	}
	var want []string // the commits with a change the diff filter keeps, which git log -p shows
	for _, line := range strings.Split(listed, "\n") {
		if c, ok := strings.CutPrefix(line, "\x00"); ok {
			want = append(want, c)
		}
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "-c", "core.quotePath=false", "log", "-p", "-U0", "--no-color", "--no-ext-diff",
		"--full-history", "--diff-filter=tuxdb", rng, "--", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	files, err := gitdiff.Parse(bufio.NewReaderSize(out, 1<<20))
	if err != nil {
		cmd.Wait()
		return fmt.Errorf("reading git log -p of %q: %w", rng, err)
	}
	seen := map[string]bool{}
	for f := range files {
		if f.PatchHeader == nil {
			continue
		}
		seen[f.PatchHeader.SHA] = true
		if f.IsDelete || f.IsBinary {
			continue
		}
		for _, frag := range f.TextFragments {
			raw := []byte(frag.Raw(gitdiff.OpAdd))
			if len(raw) == 0 {
				continue
			}
			keep(sc.scan(f.NewName, 0, raw), raw, int(frag.NewPosition)-1, f.PatchHeader.SHA, f.PatchHeader.AuthorDate)
		}
	}
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git log -p %s: %w: %s", rng, err, strings.TrimSpace(stderr.String()))
	}
	for _, c := range want {
		if !seen[c] {
			return fmt.Errorf("git log -p %s: commit %s was listed but its diff could not be read; its secrets would be missed", rng, c)
		}
	}
	src.Commits = len(want)
	return nil
}

// allowedLine tells a finding on a line that holds gitleaks's inline allow comment.
func allowedLine(text []byte, line int) bool {
	lines := bytes.SplitN(text, []byte("\n"), line+1)
	return line >= 1 && line <= len(lines) && bytes.Contains(lines[line-1], []byte("gitleaks:allow"))
}

// gitleaksFingerprint is the finding's fingerprint as gitleaks writes it (detect.go, AddFinding):
// commit:file:rule:line, or file:rule:line without the commit, with gitleaks's rule ID for ours.
func (s Secret) gitleaksFingerprint(withCommit bool) string {
	fp := fmt.Sprintf("%s:%s:%d", s.Path, gitleaksRule(s.Rule), s.Line)
	if withCommit {
		fp = s.Commit + ":" + fp
	}
	return fp
}

// gitleaksRules are gitleaks's rule IDs (config/gitleaks.toml, v8.30) for the detectors that find the same
// credentials, so a .gitleaksignore written by gitleaks applies here.
var gitleaksRules = map[string]string{
	"PrivateKey": "private-key", "GCPAPIKey": "gcp-api-key", "DigitaloceanAPIToken": "digitalocean-pat",
	"ClassicPersonalAccessToken": "github-pat", "FineGrainedPersonalAccessToken": "github-fine-grained-pat",
	"OAuthToken": "github-oauth", "AppServerToServerToken": "github-app-token", "AppUserToServerToken": "github-app-token",
	"AppRefreshToken": "github-refresh-token", "GitlabPAT": "gitlab-pat", "SlackAppLevelToken": "slack-app-token",
	"StripeSecretKey": "stripe-access-token", "NpmJsAccessToken": "npm-access-token", "PyPIAPIToken": "pypi-upload-token",
	"SendGridAPIKey": "sendgrid-api-token", "OpenAIAPIKey": "openai-api-key", "AnthropicModelAPIKey": "anthropic-api-key",
	"AnthropicWorkspaceAPIKey": "anthropic-admin-api-key", "HuggingfaceAPIKey": "huggingface-access-token",
}

// gitleaksRule is gitleaks's ID for rule, or rule itself where gitleaks has no such detector.
func gitleaksRule(rule string) string {
	if id, ok := gitleaksRules[rule]; ok {
		return id
	}
	return rule
}

// readGitleaksIgnore reads a .gitleaksignore as gitleaks does (detect.go, AddGitleaksIgnore): one fingerprint
// per line, commit:file:rule:line or file:rule:line, # comments; backslashes in the path read as slashes. A
// line of another shape is a warning naming it, as gitleaks warns (and it matches nothing). A commit's
// fingerprint is also kept under anyCommit, for the working tree's finding at the same file, rule and line.
func readGitleaksIgnore(path string) (map[string]bool, []string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	out := map[string]bool{}
	var notes []string
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		switch len(parts) {
		case 3:
			parts[0] = strings.ReplaceAll(parts[0], `\`, "/")
		case 4:
			parts[1] = strings.ReplaceAll(parts[1], `\`, "/")
			out[anyCommit+strings.Join(parts[1:], ":")] = true
		default:
			notes = append(notes, fmt.Sprintf("%s:%d: not a gitleaks fingerprint (want commit:file:rule:line or file:rule:line); it ignores nothing", filepath.Base(path), i+1))
		}
		out[strings.Join(parts, ":")] = true
	}
	return out, notes, nil
}

// anyCommit keys a commit fingerprint's file:rule:line in the ignore set.
const anyCommit = "any-commit:"

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
