package build

import (
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/platform"
)

// Inputs are the build action's inputs. Names shared with docker/build-push-action and docker/metadata-action
// mean the same as there, so a workflow migrates by changing its uses: line.
type Inputs struct {
	Images       []string
	Tags         []string
	Flavor       []string
	Labels       map[string]string
	TagSuffix    string
	Context      string
	File         string
	Platforms    []string
	Push         bool
	Load         bool
	Builder      string
	BuildArgs    map[string]string
	Secrets      []string
	Target       string
	CacheFrom    []string
	CacheTo      []string
	NoCache      bool
	Pull         bool
	Provenance   string
	SBOM         bool
	Outputs      []string
	PushByDigest bool
	Merge        []string
	Promote      string
	MaxSize      int64
	MaxWaste     int64
	SmokeTest    bool
	SmokeURL     string
	SmokeStatus  int
	SmokeTimeout time.Duration
	BudgetsFile  string
	Verbose      bool
}

// Spec declares the build action's inputs and outputs, bound to in.
func Spec(in *Inputs) *actionio.Spec {
	s := &actionio.Spec{
		Name:        "build",
		Description: "Build a multi-arch container image with buildx, tag it like docker/metadata-action, check its size and layer waste, and smoke-test it.",
	}
	s.List(&in.Images, "images", "", "Image names to tag, one per line (registry/owner/name).")
	s.List(&in.Tags, "tags", "type=schedule\ntype=ref,event=branch\ntype=ref,event=tag\ntype=ref,event=pr",
		"Tag rules in docker/metadata-action's language, one per line.").LinesOnly().Check(CheckTagRule)
	s.List(&in.Flavor, "flavor", "", "Global tag flavor, as metadata-action: latest=auto|true|false, prefix=, suffix=.").LinesOnly()
	s.Map(&in.Labels, "labels", "", "Extra image labels, key=value, one per line.").LinesOnly()
	s.Enum(&in.TagSuffix, "tag-suffix", "", []string{"dev", "staging", "prod", "manual"},
		"Add a deployment tag: dev, staging, prod, or manual (becomes manual-<run number>).")
	s.String(&in.Context, "context", ".", "Build context directory.")
	s.String(&in.File, "file", "", "Path to the Dockerfile (default: <context>/Dockerfile).")
	s.List(&in.Platforms, "platforms", "", "Target platforms, e.g. linux/amd64,linux/arm64 (default: the builder's own).").Check(platform.Check)
	s.Bool(&in.Push, "push", false, "Push the image to its registry.")
	s.Bool(&in.Load, "load", false, "Load the single-platform image into the local docker engine.")
	s.String(&in.Builder, "builder", "", "Name of the buildx builder to use (created when the current one cannot build the platforms).")
	s.Map(&in.BuildArgs, "build-args", "", "Build arguments, KEY=value, one per line.").LinesOnly()
	s.List(&in.Secrets, "secrets", "", "Build secrets, id=value, one per line; never logged.").LinesOnly().Secret()
	s.String(&in.Target, "target", "", "Dockerfile stage to build.")
	s.List(&in.CacheFrom, "cache-from", "", "Cache sources, as buildx --cache-from (type=gha, type=registry,ref=...).").LinesOnly()
	s.List(&in.CacheTo, "cache-to", "", "Cache destinations, as buildx --cache-to.").LinesOnly()
	s.Bool(&in.NoCache, "no-cache", false, "Build without any cache: no cache-from, --no-cache and --pull.")
	s.Bool(&in.Pull, "pull", false, "Always pull newer versions of base images.")
	s.String(&in.Provenance, "provenance", "mode=min", "Provenance attestation, as buildx --provenance (false to disable; mode=max exposes build args).")
	s.Bool(&in.SBOM, "sbom", false, "Attach a BuildKit SBOM attestation.")
	s.List(&in.Outputs, "outputs", "", "Output destinations, as buildx --output (type=oci,dest=image.tar for a tarball).").LinesOnly()
	s.Bool(&in.PushByDigest, "push-by-digest", false, "Push the image without tags and output its digest: for a later merge, or a promote after the scan and signature.")
	s.List(&in.Merge, "merge", "", "Digests of single-platform images to merge into one multi-arch index with the computed tags (none with push-by-digest).")
	s.String(&in.Promote, "promote", "", "An image by digest that passed the gate (name@sha256:...): write the computed tags onto it; nothing is built.")
	s.Bytes(&in.MaxSize, "max-size", "", "Fail when any platform's image is larger than this (e.g. 500MB).")
	s.Bytes(&in.MaxWaste, "max-waste", "", "Fail when layer waste (bytes the final filesystem does not need) exceeds this.")
	s.Bool(&in.SmokeTest, "smoke-test", false, "Run the built image and wait for its HEALTHCHECK or smoke-url.")
	s.String(&in.SmokeURL, "smoke-url", "", "URL the smoke test probes, as seen from inside the container (its port is published), e.g. http://localhost:8000/health.")
	s.Int(&in.SmokeStatus, "smoke-expect-status", 200, "HTTP status the smoke-url must answer (503 is fine for an API whose database is not there).")
	s.Duration(&in.SmokeTimeout, "smoke-timeout", "60s", "How long the smoke test waits for the container to be ready.")
	s.String(&in.BudgetsFile, "budgets-file", ".dive-ci", "dive-style CI rules (lowestEfficiency, highestWastedBytes, highestUserWastedPercent), read when it exists.")
	s.Bool(&in.Verbose, "verbose", false, "Show the full build output (--progress=plain).")

	s.Output("digest", "Digest of the pushed image (the index for a multi-arch build).")
	s.Output("image", "The image by digest: name@sha256:....")
	s.Output("imageid", "Image ID (config digest).")
	s.Output("tags", "Computed tags, one per line.")
	s.Output("labels", "Computed labels, one per line.")
	s.Output("version", "Version computed from the tag rules.")
	s.Output("metadata", "Build result metadata (JSON).")
	s.Output("platform-digests", "Digest of each platform's image (JSON).")
	s.Output("sizes", "Compressed and uncompressed size of each platform's image (JSON).")
	s.Output("waste-bytes", "Bytes of layer waste.")
	return s
}

// Action is the build action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
