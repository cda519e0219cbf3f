package drift

import "fmt"

// The kinds of drift, and their severities.
const (
	KindUnpinned        = "unpinned"
	KindCommentMismatch = "comment-mismatch"
	KindImprecise       = "imprecise-comment"
	KindDeprecated      = "deprecated"
	KindBehind          = "behind"
	KindInconsistent    = "inconsistent"
	KindUnknownRef      = "unknown-ref"

	SevError   = "error"
	SevWarning = "warning"
	SevNote    = "note"
)

// runtimeCheck names the deprecated-runtime check in the list of what could not be checked.
const runtimeCheck = "deprecated (runtime)"

// severityRank orders the severities for --fail-on.
var severityRank = map[string]int{SevNote: 1, SevWarning: 2, SevError: 3}

// Drift is one finding of the audit, at a uses: line.
type Drift struct {
	Use      Use
	Kind     string
	Severity string
	Message  string
}

// String prints the finding as file:line:col: message [kind].
func (d Drift) String() string { return fmt.Sprintf("%s: %s [%s]", d.Use.Pos(), d.Message, d.Kind) }

// Report is the result of an audit.
type Report struct {
	Drifts     []Drift
	References int
	// NotChecked counts, per kind, the references that kind could not be checked for (offline, no cache).
	NotChecked map[string]int
	// Versions counts, per action, the refs in use (as written, with their comment) and how many references use each.
	Versions map[string]map[string]int
	// Repositories counts, in an org audit, per action and ref, how many repositories use it.
	Repositories map[string]map[string]int
}

// countRepositories fills Repositories: for each action and ref in use, the number of repositories using it.
func (rep *Report) countRepositories(uses []Use, repoOf func(file string) string) {
	seen := map[[3]string]bool{}
	rep.Repositories = map[string]map[string]int{}
	for _, u := range uses {
		if u.Kind != "action" && u.Kind != "workflow" || u.Ref.Owner == "" {
			continue
		}
		k := [3]string{u.Ref.Action(), variant(u), repoOf(u.File)}
		if seen[k] {
			continue
		}
		seen[k] = true
		if rep.Repositories[k[0]] == nil {
			rep.Repositories[k[0]] = map[string]int{}
		}
		rep.Repositories[k[0]][k[1]]++
	}
}
