// Package drift audits the actions that workflows and composite actions use for version drift, in a
// repository or across every repository of an organisation (`gen-workflows drift`), and pins them safely
// (`gen-workflows pin`).
//
// A reference is judged against its repository as GitHub has it now, not against what its text claims: a SHA
// pin whose version comment names a tag of another commit is a lie (the comment is what reviewers read), a
// tag or branch can move under the workflow, and a release may be deprecated or behind the latest. The
// deprecations are a dated catalogue, deprecations.yaml, embedded so that a binary judges the same way
// everywhere, offline included; an entry is a warning before its date and an error from then on.
//
// The GitHub API is the cost, so lookups are memoised per (repository, ref): however many references share
// one, it is asked once. They run concurrently within a bound and go through internal/github's conditional
// cache, so a second run is answered by 304s and lookups by commit SHA from disk. Offline, the lock file and
// that cache answer what they can and the report lists what was not checked: a check that could not run is
// never reported as passed. A spent rate limit or a cancelled run stops the whole audit, since a partial
// audit would look clean; any other failed lookup only marks its kinds as not checked.
//
// Pinning shares the auditor's lookups and rewrites nothing but the uses: value and its comment on each
// line it changes, keeping quotes and line endings, so a pinned file differs from the original on those
// lines alone and a review shows exactly what moved.
package drift
