// Package cleanup is the cleanup action: retention of registry versions that reasons about the image graph,
// so it never breaks a multi-arch image or leaves a signature without its subject.
//
// A package's versions are not a flat list. An index lists an image per platform (and buildx's attestation
// manifests); signatures, attestations and SBOMs point at their subject through cosign's tag schema
// (sha256-<hex>.sig, .att, .sbom, and the sha256-<hex> referrers fallback tag) or OCI 1.1's subject field.
// Deleting by age or tag alone would delete a platform image an index still lists, or keep a signature of
// nothing. So BuildGraph reads every manifest first, and the rules decide about top-level images only: those
// no index lists, and those with a tag of their own (a tag promises that the image pulls on its own). What
// an image lists and what refers to it follow it.
//
// The plan keeps these invariants, which a property test checks on thousands of random graphs and rules:
//   - Nothing reachable from a kept or excluded image is deleted: a child of a multi-arch index goes only
//     when every index listing it goes, and a signature or attestation of a kept image stays. Exclusion
//     always wins.
//   - A manifest that cannot be read fails its package with nothing deleted (fail closed): a plan made from
//     part of the graph could delete what a kept image needs.
//   - The versions are listed again right before deleting, and nothing is deleted if they changed: a push
//     or another cleanup in between makes the plan stale.
//   - Referrers go first, then indexes from the outermost in, then what they list, so that a cleanup
//     stopped halfway leaves no manifest pointing at a deleted one; what a failed index lists is not
//     attempted.
//
// An untagged image is not always garbage: with native runners each platform's image is pushed by digest and
// stays untagged until a later job of the same run lists it in an index. untagged-older-than gives such images a
// grace period (older-than cannot: as in dataaxiom/ghcr-cleanup-action, whose inputs these are, it narrows every
// rule, tagged images too). Exclusion, like older-than there, takes an image out of scope, so keep-n-tagged
// counts only what exclude-tags leaves. And since keep-n-tagged alone deletes a release after N pushes to a
// branch, a plan that deletes a semver-tagged image while exclude-tags is empty is a warning naming the tags.
//
// It is a drop-in for actions/delete-package-versions and dataaxiom's action: the token defaults to the job's
// (a ${{ github.token }} default in action.yml, which only the runner can evaluate), packages to the repository's
// name, and older-than reads dataaxiom's "30 days" (ParseAge). delete-package-versions' min-versions-to-keep and
// num-old-versions-to-delete count top-level images, not versions: there a multi-arch release is seven versions,
// and deleting the oldest N deletes platform images newer indexes list. Its package-version-ids names versions,
// so it can name a platform image or a signature: those a kept image reaches are refused, with the image named.
//
// Dry run is the default: a first run shows what the rules would delete, and why, before anything is lost.
// The plan (what goes and why, what stays and why) is the step summary and a JSON file, with the GHCR version
// ids a restore within 30 days needs.
//
// GHCR refuses the registry's manifest DELETE, so on ghcr.io versions are listed and deleted through the
// GitHub Packages REST API (an organisation's package, else a user's), while manifests are still read
// through the registry. A public version with more than 5,000 downloads only GitHub Support can delete: it
// is reported as such rather than as a failure, and what its index lists stays. Other registries list
// versions by their tags and delete manifests by digest. Either way the OCI API deletes manifests, not
// tags, so removing one of an image's tags moves the tag to a one-off placeholder manifest and deletes that,
// after checking the tag still points where the plan saw it.
//
// Run only wires the inputs to exported steps (Connect, Inputs.Rules, Backends, CleanPackage, SavePlan,
// Count) and writes the outputs and the summary. The steps take what they need (the environment, a client,
// the rules, the time) as values, so that each can be tested on its own, against a real registry or a fixed
// graph. A package that fails does not stop the others: the step fails once all are done.
package cleanup
