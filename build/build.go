package build

import (
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/platform"
)

// Inputs are the build action's inputs. Names shared with docker/build-push-action and docker/metadata-action
// mean the same as there, so a workflow migrates by changing its uses: line.
type Inputs struct {
	Images      []string
	Tags        []string
	Flavor      []string
	Labels      map[string]string
	Annotations []string
	TagSuffix   string
	// SepTags, SepLabels and SepAnnotations join the tags, labels and annotations outputs ("" is a newline).
	SepTags        string
	SepLabels      string
	SepAnnotations string
	BakeTarget     string
	Context        string
	File           string
	Platforms      []string
	Push           bool
	Load           bool
	Builder        string
	BuildArgs      map[string]string
	// BuildContexts are buildx's --build-context name=value, one per item.
	BuildContexts []string
	// Secrets is the secrets input as given: build-push-action's CSV records, id=value (see parseSecrets).
	Secrets        string
	SecretFiles    []string
	SecretEnvs     []string
	SSH            []string
	GitHubToken    string
	Target         string
	Network        string
	ShmSize        string
	Ulimit         []string
	AddHosts       []string
	CacheFrom      []string
	CacheTo        []string
	NoCache        bool
	NoCacheFilters []string
	Pull           bool
	Provenance     string
	SBOM           bool
	Outputs        []string
	PushByDigest   bool
	Merge          []string
	Promote        string
	MaxSize        int64
	MaxWaste       int64
	SmokeTest      bool
	SmokeURL       string
	SmokeStatus    int
	SmokeTimeout   time.Duration
	BudgetsFile    string
	Verbose        bool
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
	s.List(&in.Annotations, "annotations", "", "Annotations to set on the image, one per line, as build-push-action: buildx --annotation ([manifest:|index:|...]key=value).").
		LinesOnly().Check(checkAnnotation)
	s.Enum(&in.TagSuffix, "tag-suffix", "", []string{"dev", "staging", "prod", "manual"},
		"Add a deployment tag: dev, staging, prod, or manual (becomes manual-<run number>).")
	s.String(&in.SepTags, "sep-tags", "", "Separator of the tags output, as metadata-action (default: a newline; spaces are kept).")
	s.String(&in.SepLabels, "sep-labels", "", "Separator of the labels output, as metadata-action (default: a newline; spaces are kept).")
	s.String(&in.SepAnnotations, "sep-annotations", "", "Separator of the annotations output, as metadata-action (default: a newline; spaces are kept).")
	s.String(&in.BakeTarget, "bake-target", "docker-metadata-action", "Target name in the bake-file outputs, as metadata-action.")
	s.String(&in.Context, "context", ".", "Build context: a directory, or a git URL as buildx takes it (see github-token).")
	s.String(&in.File, "file", "", "Path to the Dockerfile (default: <context>/Dockerfile).")
	s.List(&in.Platforms, "platforms", "", "Target platforms, e.g. linux/amd64,linux/arm64 (default: the builder's own).").Check(platform.Check)
	s.Bool(&in.Push, "push", false, "Push the image to its registry.")
	s.Bool(&in.Load, "load", false, "Load the single-platform image into the local docker engine.")
	s.String(&in.Builder, "builder", "", "Name of the buildx builder to use (created when the current one cannot build the platforms).")
	s.Map(&in.BuildArgs, "build-args", "", "Build arguments, KEY=value, one per line.").LinesOnly()
	s.List(&in.BuildContexts, "build-contexts", "", "Additional build contexts, name=path or name=docker-image://..., one per line (buildx --build-context).").
		LinesOnly().Check(checkPair("a build context (want name=value: a directory, docker-image://, oci-layout:// or a URL)"))
	s.String(&in.Secrets, "secrets", "", `Build secrets, id=value, one per line, as build-push-action; a value on several lines (a PEM key) is double-quoted whole, a quote before the id and one after its last line ("" is a quote in it). Each reaches BuildKit from a 0600 temporary file (--secret id=...,src=...), never the command line or logs.`).
		Secret()
	s.List(&in.SecretFiles, "secret-files", "", "Build secrets read from files, id=path, one per line (buildx --secret id=...,src=path).").
		LinesOnly().Check(checkSecretFile)
	s.List(&in.SecretEnvs, "secret-envs", "", "Build secrets read from the step's environment, id=VARIABLE (buildx --secret id=...,env=VARIABLE).").
		Check(checkPair("a secret from the environment (want id=VARIABLE)"))
	s.List(&in.SSH, "ssh", "", "SSH agent sockets or keys to expose to the build: default, or id=path (buildx --ssh).").Check(checkSSH)
	s.String(&in.GitHubToken, "github-token", "", "Token for a git URL context, as build-push-action: when context is a git URL and no secret is named GIT_AUTH_TOKEN, it goes to BuildKit as the secret GIT_AUTH_TOKEN.github.com (the GitHub server's host), which BuildKit sends only to that host when it clones.").
		Secret().RunnerDefault("${{ github.token }}")
	s.String(&in.Target, "target", "", "Dockerfile stage to build.")
	s.Enum(&in.Network, "network", "", []string{"default", "host", "none"}, "Networking mode of the RUN instructions (buildx --network).")
	s.String(&in.ShmSize, "shm-size", "", "Size of /dev/shm for the RUN instructions, e.g. 2g (buildx --shm-size).").Check(checkShmSize)
	s.List(&in.Ulimit, "ulimit", "", "Ulimits of the RUN instructions, name=soft[:hard], one per line, e.g. nofile=1024:2048 (buildx --ulimit).").
		LinesOnly().Check(checkUlimit)
	s.List(&in.AddHosts, "add-hosts", "", "Host-to-IP mappings for the RUN instructions, host:ip, e.g. docker:10.180.0.1 (buildx --add-host).").Check(checkAddHost)
	s.List(&in.CacheFrom, "cache-from", "", "Cache sources, as buildx --cache-from (type=gha, type=registry,ref=...).").LinesOnly()
	s.List(&in.CacheTo, "cache-to", "", "Cache destinations, as buildx --cache-to.").LinesOnly()
	s.Bool(&in.NoCache, "no-cache", false, "Build without any cache: no cache-from, --no-cache and --pull.")
	s.List(&in.NoCacheFilters, "no-cache-filters", "", "Stages to build without cache (buildx --no-cache-filter).")
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
	s.Output("tags", "Computed tags, one per line (or joined with sep-tags).")
	s.Output("labels", "Computed labels, one per line (or joined with sep-labels).")
	s.Output("annotations", "Computed annotations, as metadata-action: the OCI labels at each level of DOCKER_METADATA_ANNOTATIONS_LEVELS (default manifest), one per line (or joined with sep-annotations).")
	s.Output("version", "Version computed from the tag rules.")
	s.Output("json", `Tags, labels and annotations as metadata-action's json output: {"tags":[...],"labels":{...},"annotations":[...]}.`)
	s.Output("bake-file", "Path of a bake definition with the tags, labels and args of target bake-target, as metadata-action's bake-file.")
	s.Output("bake-file-tags", "Path of a bake definition with the tags and args, as metadata-action.")
	s.Output("bake-file-labels", "Path of a bake definition with the labels, as metadata-action.")
	s.Output("bake-file-annotations", "Path of a bake definition with the annotations, as metadata-action.")
	s.Output("metadata", "Build result metadata (JSON).")
	s.Output("platform-digests", "Digest of each platform's image (JSON).")
	s.Output("sizes", "Compressed and uncompressed size of each platform's image (JSON).")
	s.Output("waste-bytes", "Bytes of layer waste.")
	return s
}

// Action is the build action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
