package cleanup

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Inputs are the cleanup action's inputs, named as dataaxiom/ghcr-cleanup-action names them, with
// actions/delete-package-versions' min-versions-to-keep, num-old-versions-to-delete and package-version-ids, and
// the defaults both give token and packages, so that either's users can switch by changing uses:.
// UntaggedOlderThan is ours: dataaxiom's older-than narrows every rule, tagged too, so it cannot be a grace
// period for untagged images alone.
type Inputs struct {
	Token         string
	Owner         string
	Packages      []string
	Registry      string
	KeepNTagged   int
	KeepNUntagged int
	// OlderThan and UntaggedOlderThan are ages as ParseAge reads them ("30d", "30 days"); "" is none.
	OlderThan string
	// UntaggedOlderThan is a grace period for untagged images: a per-platform image pushed by digest is untagged
	// until its run merges it into an index.
	UntaggedOlderThan string
	// MinVersionsToKeep (-1: not given) and NumOldVersionsToDelete (0: none) are delete-package-versions' counts.
	MinVersionsToKeep      int
	NumOldVersionsToDelete int
	// PackageVersionIDs are GitHub Packages version ids to delete, and nothing else.
	PackageVersionIDs []string
	DeleteTags        []string
	ExcludeTags       []string
	UseRegex          bool
	DeleteUntagged    bool
	DeleteOrphans     bool
	DeleteGhosts      bool
	DeletePartials    bool
	DryRun            bool
	Validate          bool
	PackagesAPI       string
}

// Spec declares the cleanup action's inputs and outputs, bound to in.
func Spec(in *Inputs) *actionio.Spec {
	s := &actionio.Spec{
		Name:        "cleanup",
		Description: "Delete old registry versions by retention rules without breaking multi-arch images or signatures. Dry-run by default.",
	}
	s.String(&in.Token, "token", "", "Token for the GitHub Packages API (it needs packages: write); the job's token by default, as in actions/delete-package-versions.").
		Secret().RunnerDefault("${{ github.token }}")
	s.String(&in.Owner, "owner", "", "Owner (user or organisation) of the packages (default: the repository owner).")
	s.List(&in.Packages, "packages", "", "Package names to clean, comma or newline separated (default: the repository's name, as in dataaxiom/ghcr-cleanup-action).")
	s.String(&in.Registry, "registry", "ghcr.io", "Registry host the packages are in.")
	s.Enum(&in.PackagesAPI, "packages-api", "auto", []string{"auto", "github", "oci"},
		"How versions are listed and deleted: the GitHub Packages API (github; auto for ghcr.io) or the registry's manifest DELETE (oci).")
	s.Int(&in.KeepNTagged, "keep-n-tagged", -1, "Keep the newest N tagged images; images exclude-tags protects are not counted (-1: no limit).")
	s.Int(&in.KeepNUntagged, "keep-n-untagged", -1, "Keep the newest N untagged images (-1: no limit).")
	// Ages are read by ParseAge, which takes dataaxiom's wording too: declared as text, shown as durations.
	s.String(&in.OlderThan, "older-than", "", "Only delete images older than this (e.g. 30d, or dataaxiom's 30 days, 2 weeks, 1 month).").
		Check(checkAge).Kind = actionio.KindDuration
	s.String(&in.UntaggedOlderThan, "untagged-older-than", "",
		"Only delete untagged images older than this, and leave younger ones out of keep-n-untagged: a grace period for images pushed by digest that their run has not yet listed in an index (e.g. 1d).").
		Check(checkAge).Kind = actionio.KindDuration
	s.Int(&in.MinVersionsToKeep, "min-versions-to-keep", -1,
		"As in actions/delete-package-versions: keep the newest N images (an image counts once with what it lists and its signatures), delete the rest of those exclude-tags, older-than and untagged-older-than leave (-1: not used; 0: delete them all).").
		Check(atLeast(-1))
	s.Int(&in.NumOldVersionsToDelete, "num-old-versions-to-delete", 0,
		"As in actions/delete-package-versions: delete the N oldest images of those exclude-tags, older-than and untagged-older-than leave (0: none).").
		Check(atLeast(0))
	s.List(&in.PackageVersionIDs, "package-version-ids", "",
		"As in actions/delete-package-versions: GitHub Packages version ids to delete, and nothing else; one a kept image needs (a platform image of a kept index, a kept image's signature) is refused with the reason. GitHub Packages API only.").
		Check(checkVersionID)
	s.List(&in.DeleteTags, "delete-tags", "", "Tags to delete (globs, or regular expressions with use-regex).")
	s.List(&in.ExcludeTags, "exclude-tags", "", "Tags never to delete, nor anything they reach; exclusion always wins.")
	s.Bool(&in.UseRegex, "use-regex", false, "Read delete-tags and exclude-tags as regular expressions.")
	s.Bool(&in.DeleteUntagged, "delete-untagged", false, "Delete untagged top-level images.")
	s.Bool(&in.DeleteOrphans, "delete-orphans", false, "Delete signatures and attestations whose subject is gone.")
	s.Bool(&in.DeleteGhosts, "delete-ghosts", false, "Delete indexes whose children are all missing.")
	s.Bool(&in.DeletePartials, "delete-partials", false, "Delete indexes whose children are partly missing.")
	s.Bool(&in.DryRun, "dry-run", true, "Only print the plan; delete nothing.")
	s.Bool(&in.Validate, "validate", false, "After deleting, re-read every kept image and fail if any is broken.")

	s.Output("deleted", "Number of versions deleted (or that would be, in a dry run).")
	s.Output("kept", "Number of versions kept.")
	s.Output("failed", "Number of versions that failed to delete.")
	s.Output("plan", "Path of the plan JSON.")
	return s
}

func checkAge(text string) error {
	_, err := actionio.ParseAge(text)
	return err
}

func atLeast(n int) func(string) error {
	return func(text string) error {
		if v, _ := strconv.Atoi(text); v < n {
			return fmt.Errorf("is less than %d", n)
		}
		return nil
	}
}

// checkVersionID accepts what GitHub's REST API gives as a package version's id: a positive whole number.
func checkVersionID(text string) error {
	if id, err := strconv.ParseInt(text, 10, 64); err != nil || id <= 0 {
		return errors.New("is not a package version id (want the number GitHub's REST API gives a version, e.g. 123456789)")
	}
	return nil
}

// Action is the cleanup action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
