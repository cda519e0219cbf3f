package cleanup

import (
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Inputs are the cleanup action's inputs, named as dataaxiom/ghcr-cleanup-action names them. UntaggedOlderThan
// is ours: dataaxiom's older-than narrows every rule, tagged too, so it cannot be a grace period for untagged
// images alone.
type Inputs struct {
	Token         string
	Owner         string
	Packages      []string
	Registry      string
	KeepNTagged   int
	KeepNUntagged int
	OlderThan     time.Duration
	// UntaggedOlderThan is a grace period for untagged images: a per-platform image pushed by digest is untagged
	// until its run merges it into an index.
	UntaggedOlderThan time.Duration
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
	s.String(&in.Token, "token", "", "Token for the GitHub Packages API and the registry (GITHUB_TOKEN needs packages: write).").Secret()
	s.String(&in.Owner, "owner", "", "Owner (user or organisation) of the packages (default: the repository owner).")
	s.List(&in.Packages, "packages", "", "Package names to clean, comma or newline separated.").Required()
	s.String(&in.Registry, "registry", "ghcr.io", "Registry host the packages are in.")
	s.Enum(&in.PackagesAPI, "packages-api", "auto", []string{"auto", "github", "oci"},
		"How versions are listed and deleted: the GitHub Packages API (github; auto for ghcr.io) or the registry's manifest DELETE (oci).")
	s.Int(&in.KeepNTagged, "keep-n-tagged", -1, "Keep the newest N tagged images; images exclude-tags protects are not counted (-1: no limit).")
	s.Int(&in.KeepNUntagged, "keep-n-untagged", -1, "Keep the newest N untagged images (-1: no limit).")
	s.Duration(&in.OlderThan, "older-than", "", "Only delete images older than this (e.g. 30d).")
	s.Duration(&in.UntaggedOlderThan, "untagged-older-than", "",
		"Only delete untagged images older than this, and leave younger ones out of keep-n-untagged: a grace period for images pushed by digest that their run has not yet listed in an index (e.g. 1d).")
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

// Action is the cleanup action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
