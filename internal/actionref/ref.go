// Package actionref parses the action references of workflows (uses: owner/repo/path@ref) and reads the
// lock file that pins each action repository to a release and the commit that release's tag points to.
package actionref

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is one parsed `uses:` value of a remote action or reusable workflow.
type Ref struct {
	Owner, Repo string
	// Path is the folder of an action inside the repository ("upload-sarif"), or a reusable workflow's file;
	// "" for the root action.
	Path string
	Ref  string
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// IsSHA reports whether ref is a full 40-hex commit SHA, the only ref that cannot move.
func IsSHA(ref string) bool { return shaPattern.MatchString(ref) }

var releasePattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// IsRelease tells a full release version (v1.2.3, v1.2.3-rc.1) from a moving one (v1, v1.2) or none.
func IsRelease(version string) bool { return releasePattern.MatchString(version) }

// Parse reads owner/repo[/path]@ref. Local (./) and docker:// references are not remote actions: it refuses them.
func Parse(uses string) (Ref, error) {
	if strings.HasPrefix(uses, "./") || strings.HasPrefix(uses, "docker://") {
		return Ref{}, fmt.Errorf("%q is not a remote action reference", uses)
	}
	name, ref, ok := strings.Cut(uses, "@")
	parts := strings.SplitN(name, "/", 3)
	if !ok || ref == "" || len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return Ref{}, fmt.Errorf("%q is not an action reference (want owner/repo[/path]@ref)", uses)
	}
	r := Ref{Owner: parts[0], Repo: parts[1], Ref: ref}
	if len(parts) == 3 {
		r.Path = parts[2]
	}
	return r, nil
}

// Repository is owner/repo.
func (r Ref) Repository() string { return r.Owner + "/" + r.Repo }

// Action is owner/repo[/path], the reference without its ref.
func (r Ref) Action() string {
	if r.Path == "" {
		return r.Repository()
	}
	return r.Repository() + "/" + r.Path
}

// String is the reference as a workflow writes it.
func (r Ref) String() string { return r.Action() + "@" + r.Ref }
