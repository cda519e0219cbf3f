package drift

import (
	"context"
	"fmt"
	"io"
	"strings"

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
