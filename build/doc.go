// Package build is the build action: multi-arch images with buildx, tags computed like docker/metadata-action,
// size and layer-waste analysis, and a smoke test of the image it produced. It is one step instead of
// setup-qemu, setup-buildx, metadata-action and build-push-action.
//
// Tags and labels are computed natively in metadata-action's rule language, one function per rule type
// (type=ref, semver, pep440, match, edge, schedule, sha, raw) under a driver that applies priorities, the
// flavor, prerelease and major-0 behaviour and tag sanitising, so the README examples of metadata-action are
// the test table and a difference from it is a bug here.
//
// The build is docker buildx build run with an argument array, never a shell: a secret's value reaches BuildKit
// from a 0600 file in the build's temporary directory, as build-push-action passes it (--secret id=...,src=...),
// never the command's arguments or logs. The inputs of build-push-action (secrets in its CSV form, where a
// double-quoted value may span lines; secret-files, secret-envs, github-token, annotations, build-contexts, ssh,
// network, shm-size, ulimit, add-hosts, no-cache-filters) and the outputs of metadata-action (json, annotations,
// the bake files, the sep-* separators) have those actions' names and syntax, so a workflow migrates by changing
// its uses: lines. A push the registry fails (429, 5xx) is retried; a cache that cannot be written is a warning,
// not a failed build.
//
// What the step reports is the truth about the image as the registry has it, not what buildx said: after a
// push the image is read back (the image-graph walk of internal/registry, which does not count buildx's
// attestation manifests as platforms), every requested platform must be there, and max-size applies to each
// platform's uncompressed size.
//
// Layer waste is what the final filesystem does not need: every layer of the runner's platform is applied in
// order through internal/layers (whiteouts and opaque directories honoured, as the scan action applies them),
// and waste is all copies of a path minus the surviving one. A layer that rewrites files unchanged gets a
// COPY --chown hint, since that is nearly always a RUN chown after a COPY.
//
// The smoke test runs the image for the runner's platform and waits for smoke-url, else the HEALTHCHECK, else
// for the container to stay up; the container is always removed, and on failure its last log lines go in the
// summary. Native multi-arch builds push one platform by digest per runner and merge the digests into one
// index with the computed tags, with go-containerregistry rather than docker.
package build
