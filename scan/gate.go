package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Policy is what fails a scan and what it ignores: fail-on, ignore-unfixed, fail-on-secrets and the entries of
// the ignore file.
type Policy struct {
	FailOn        string // critical, high, medium, low or none
	IgnoreUnfixed bool
	FailOnSecrets bool
	ignore        []*ignoreEntry
}

// NewPolicy is the policy the inputs give; it reads and checks the ignore files.
func NewPolicy(in *Inputs) (Policy, error) {
	p := Policy{FailOn: in.FailOn, IgnoreUnfixed: in.IgnoreUnfixed, FailOnSecrets: in.FailOnSecrets}
	for _, f := range in.IgnoreFiles {
		read := readIgnoreFile
		if isTrivyIgnore(f) {
			read = readTrivyIgnore
		}
		entries, err := read(f)
		if err != nil {
			return Policy{}, err
		}
		p.ignore = append(p.ignore, entries...)
	}
	return p, nil
}

// Judge applies the policy: it marks the findings and secrets the ignore file covers (in place, so the reports
// say why), decides the gate, and returns the warnings about ignore entries that expired or matched nothing.
// It reads nothing and writes nothing: today is the day expiries are compared with.
func Judge(findings []Finding, secrets []Secret, p Policy, today time.Time) (Gate, []string) {
	warnings := applyIgnores(p.ignore, findings, secrets, today)
	return decide(findings, secrets, p.FailOn, p.IgnoreUnfixed, p.FailOnSecrets), warnings
}

// ignoreEntry is one line of the ignore file: a vulnerability (by any of its IDs) or a secret (by its
// fingerprint), optionally only in one package (or secret path), with a reason and an optional expiry.
type ignoreEntry struct {
	ID      string `yaml:"id"`
	Package string `yaml:"package"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`

	file  string // the ignore file's name, for messages
	line  int
	until time.Time // the first instant it no longer ignores; zero: never expires
	used  bool
}

// readIgnoreFile parses the ignore file:
//
//	ignore:
//	  - id: CVE-2024-0001         # or GHSA-..., any alias; a secret's fingerprint
//	    package: openssl          # optional
//	    reason: not reachable: we never parse untrusted certificates
//	    expires: 2026-12-31       # optional: after this day the entry stops ignoring
func readIgnoreFile(path string) ([]*ignoreEntry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf(`input "ignore-file": %w`, err)
	}
	var doc struct {
		Ignore []yaml.Node `yaml:"ignore"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf(`input "ignore-file": %s: %w (want a list under "ignore:" of id, package, reason, expires)`, path, err)
	}
	var out []*ignoreEntry
	for _, n := range doc.Ignore {
		e := &ignoreEntry{file: filepath.Base(path), line: n.Line}
		if err := n.Decode(e); err != nil {
			return nil, fmt.Errorf(`input "ignore-file": %s:%d: %w`, path, n.Line, err)
		}
		var unknown []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; !slices.Contains([]string{"id", "package", "reason", "expires"}, k) {
				unknown = append(unknown, k)
			}
		}
		switch {
		case len(unknown) > 0:
			return nil, fmt.Errorf(`input "ignore-file": %s:%d: unknown key %q (want id, package, reason, expires)`, path, n.Line, unknown[0])
		case e.ID == "":
			return nil, fmt.Errorf(`input "ignore-file": %s:%d: an entry without "id"`, path, n.Line)
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf(`input "ignore-file": %s:%d: %s has no "reason": say why it is safe to ignore`, path, n.Line, e.ID)
		}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return nil, fmt.Errorf(`input "ignore-file": %s:%d: expires %q is not a date (want YYYY-MM-DD)`, path, n.Line, e.Expires)
			}
			e.until = t.AddDate(0, 0, 1) // it ignores through the day it names
		}
		out = append(out, e)
	}
	return out, nil
}

// isTrivyIgnore tells trivy's line-based ignore file (.trivyignore) from a YAML one by its name, as trivy does:
// a .yaml or .yml extension is YAML.
func isTrivyIgnore(path string) bool {
	base, ext := filepath.Base(path), filepath.Ext(path)
	return strings.HasPrefix(base, ".trivyignore") && ext != ".yaml" && ext != ".yml"
}

// readTrivyIgnore parses trivy's .trivyignore, as trivy's pkg/result/ignore.go (parseIgnore, getExpirationDate)
// reads it: one ID per line, the first field; blank lines and lines starting with # skipped; an optional
// exp:YYYY-MM-DD field anywhere on the line, the entry no longer ignoring from that day on (trivy prunes an
// entry whose date is before now, the date read as midnight UTC); other fields ignored. The reason is the
// line's trailing # comment, else where it came from. Where trivy skips a line whose date does not parse with a
// warning, this is an error naming the file and line: an expiry must not be lost to a typo.
func readTrivyIgnore(path string) ([]*ignoreEntry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf(`input "ignore-file": %w`, err)
	}
	var out []*ignoreEntry
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := &ignoreEntry{file: filepath.Base(path), line: i + 1}
		if body, comment, ok := strings.Cut(line, " #"); ok {
			line, e.Reason = body, strings.TrimSpace(comment)
		}
		fields := strings.Fields(line)
		e.ID = fields[0]
		for _, f := range fields[1:] {
			if date, ok := strings.CutPrefix(f, "exp:"); ok {
				t, err := time.Parse("2006-01-02", date)
				if err != nil {
					return nil, fmt.Errorf(`input "ignore-file": %s:%d: exp:%s is not a date (want exp:YYYY-MM-DD)`, path, i+1, date)
				}
				e.Expires, e.until = date, t
				break
			}
		}
		if e.Reason == "" {
			e.Reason = fmt.Sprintf("listed in %s line %d", e.file, e.line)
		}
		out = append(out, e)
	}
	return out, nil
}

// applyIgnores marks the findings and secrets that an active entry covers, and returns warnings for entries
// that expired (they no longer ignore anything) and for active entries that matched nothing.
func applyIgnores(entries []*ignoreEntry, findings []Finding, secrets []Secret, today time.Time) []string {
	var warnings []string
	for _, e := range entries {
		e.used = false
		if !e.until.IsZero() && !today.Before(e.until) {
			warnings = append(warnings, fmt.Sprintf("ignore entry %s (%s line %d) expired on %s: it no longer ignores anything", e.ID, e.file, e.line, e.Expires))
			continue
		}
		for i := range findings {
			f := &findings[i]
			if f.Ignored == "" && (f.ID == e.ID || slices.Contains(f.Aliases, e.ID)) &&
				(e.Package == "" || e.Package == f.Package.Name || e.Package == f.Package.Source) {
				f.Ignored, e.used = e.Reason, true
			}
		}
		for i := range secrets {
			s := &secrets[i]
			if s.Ignored == "" && (s.Fingerprint == e.ID || strings.EqualFold(s.Rule, e.ID)) && (e.Package == "" || e.Package == s.Path) {
				s.Ignored, e.used = e.Reason, true
			}
		}
		if !e.used {
			warnings = append(warnings, fmt.Sprintf("ignore entry %s (%s line %d) matched nothing in what was scanned", e.ID, e.file, e.line))
		}
	}
	return warnings
}

// Gate is the verdict: what fails it, and only that. Reports hold every finding regardless.
type Gate struct {
	Passed  bool      `json:"passed"`
	FailOn  string    `json:"failOn"`
	Failing []Finding `json:"-"`
	Secrets []Secret  `json:"-"`
	Reason  string    `json:"reason"`
	Unfixed int       `json:"unfixedNotFailing,omitempty"` // at or above the threshold, not failing because unfixed
}

var failRank = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 99}

// decide applies fail-on, ignore-unfixed and fail-on-secrets. UNKNOWN severity never reaches a threshold; the
// summary counts it apart.
func decide(findings []Finding, secrets []Secret, failOn string, ignoreUnfixed, failOnSecrets bool) Gate {
	g := Gate{FailOn: failOn}
	threshold := failRank[failOn]
	for _, f := range findings {
		if f.Ignored != "" || severityRank[f.Severity] < threshold {
			continue
		}
		if ignoreUnfixed && f.FixedVersion == "" {
			g.Unfixed++
			continue
		}
		g.Failing = append(g.Failing, f)
	}
	if failOnSecrets {
		for _, s := range secrets {
			if s.Ignored == "" {
				g.Secrets = append(g.Secrets, s)
			}
		}
	}
	var why []string
	if n := len(g.Failing); n > 0 {
		why = append(why, fmt.Sprintf("%d vulnerabilit%s at or above %s", n, plural(n, "y", "ies"), strings.ToUpper(failOn)))
	}
	if n := len(g.Secrets); n > 0 {
		why = append(why, fmt.Sprintf("%d secret%s in the layers", n, plural(n, "", "s")))
	}
	g.Passed = len(why) == 0
	if g.Passed {
		g.Reason = "no unignored finding at or above " + strings.ToUpper(failOn)
		if failOn == "none" {
			g.Reason = "fail-on: none"
		}
		if !failOnSecrets {
			g.Reason += "; secrets not gated"
		} else {
			g.Reason += ", no secret"
		}
	} else {
		g.Reason = strings.Join(why, " and ")
	}
	return g
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
