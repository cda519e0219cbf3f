package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// Run builds the image.
func Run(ctx context.Context, s *actionio.Step, in *Inputs) error {
	if err := in.check(); err != nil {
		return err
	}
	gctx, err := githubContext(s)
	if err != nil {
		return err
	}
	secrets, err := in.buildSecrets(gctx.ServerURL)
	if err != nil {
		return err
	}
	for _, sec := range secrets {
		s.Mask(sec.value) // each value alone too: the input as a whole is masked already
	}
	switch {
	case in.Promote != "":
		return runPromote(ctx, s, in, gctx)
	case len(in.Merge) > 0:
		return runMerge(ctx, s, in, gctx)
	}
	meta, err := ComputeMeta(gctx, in.Images, in.Tags, in.Flavor, in.TagSuffix, in.Labels)
	if err != nil {
		return err
	}
	for _, w := range meta.Warnings {
		s.Warningf("%s", w)
	}
	budgets, err := readBudgets(in)
	if err != nil {
		return err
	}
	d := docker{env: os.Environ()}
	for _, sec := range secrets {
		if _, ok := d.lookupEnv(sec.env); sec.env != "" && !ok {
			s.Warningf("input \"secret-envs\": the step's environment has no %s, so the build gets no secret %q (set it in the step's env:)", sec.env, sec.id)
		}
	}
	builder, err := prepareBuilder(ctx, s, d, in)
	if err != nil {
		return err
	}
	for _, gap := range in.cacheGaps(d.getenv) {
		s.Warningf("%s", gap)
	}
	if strings.Contains(in.Provenance, "mode=max") {
		s.Warningf("provenance mode=max records every build-arg value in the image's attestation; do not pass secrets as build args")
	}

	dir, err := os.MkdirTemp("", "scribe-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args, files := buildxArgs(in, meta, secrets, builder.Name, dir)
	if err := writeSecretFiles(files); err != nil {
		return err
	}
	started := time.Now()
	err = s.Group("docker buildx build", func() error { return buildWithRetry(ctx, s, d, args, in.pushes()) })
	if err != nil {
		return err
	}
	res, err := readBuildResult(dir)
	if err != nil {
		return err
	}
	rep := &report{meta: meta, builder: builder, took: time.Since(started), digest: res.digest, imageID: res.imageID, budgets: budgets}
	if in.pushes() {
		if res.digest == "" {
			return fmt.Errorf("buildx pushed but reported no digest (metadata file: %s)", res.raw)
		}
		rep.image = registry.Repository(in.Images[0]) + "@" + res.digest
		if err := s.Group("read the image back", func() error { return rep.readBack(ctx, in) }); err != nil {
			return err
		}
	}
	if in.SmokeTest {
		ref := rep.image
		if ref == "" {
			ref = res.imageID
		}
		if !in.pushes() && !in.Load { // a pull request: load the runner's platform, from the cache just filled
			if ref, err = loadHostPlatform(ctx, s, d, in, meta, secrets, builder.Name); err != nil {
				return err
			}
		}
		rep.smoke = smokeTest(ctx, d, ref, in)
	}
	if err := rep.outputs(s, in, res.raw); err != nil {
		return err
	}
	if err := s.Summary(rep.markdown()); err != nil {
		return err
	}
	return rep.verdict()
}

// check refuses combinations that cannot work, before anything runs.
func (in *Inputs) check() error {
	switch {
	case len(in.Merge) > 0 && len(in.Images) == 0:
		return errors.New(`input "merge" needs input "images" (where the platform images are and the index goes)`)
	case in.Promote != "" && (len(in.Images) == 0 || len(in.Merge) > 0 || in.Push || in.PushByDigest):
		return errors.New(`input "promote" tags an image that is already pushed: it needs input "images" (where the tags go) and excludes "merge", "push" and "push-by-digest"`)
	case (in.Push || in.PushByDigest) && len(in.Images) == 0:
		return errors.New(`pushing needs input "images" (registry/owner/name)`)
	case in.PushByDigest && len(in.Images) != 1:
		return errors.New(`input "push-by-digest" pushes to one repository: give exactly one image`)
	case in.Load && len(in.Platforms) > 1:
		return errors.New(`input "load" loads one platform into the docker engine; with several platforms, push instead`)
	case in.Load && (in.Push || in.PushByDigest):
		return errors.New(`inputs "load" and "push" exclude each other here: push, then pull what you need`)
	case in.SmokeTest && !in.pushes() && !in.Load && len(in.Platforms) > 0 && !slices.Contains(in.Platforms, hostPlatform()):
		return fmt.Errorf(`input "smoke-test" runs the image on this runner (%s), which "platforms" does not build; push it, or build %s too`, hostPlatform(), hostPlatform())
	}
	return nil
}

func (in *Inputs) pushes() bool { return in.Push || in.PushByDigest }

// buildxArgs is the docker buildx build command, as an argument array (no shell), and the files to write before
// it runs: a secret's value goes in a 0600 file under dir that --secret id=...,src= names (as build-push-action's
// Build.resolveSecretString does), never in the arguments. The flags build-push-action passes as they are
// (annotations, build-contexts, network, shm-size, ulimit, add-hosts, ssh, no-cache-filters) are checked by the
// spec before anything runs.
func buildxArgs(in *Inputs, meta *Meta, secrets []secret, builder, dir string) ([]string, map[string]string) {
	a := []string{"buildx", "build"}
	files := map[string]string{}
	if builder != "" {
		a = append(a, "--builder", builder)
	}
	if in.File != "" {
		a = append(a, "--file", in.File)
	}
	if len(in.Platforms) > 0 {
		a = append(a, "--platform", strings.Join(in.Platforms, ","))
	}
	if in.Target != "" {
		a = append(a, "--target", in.Target)
	}
	if !in.PushByDigest {
		for _, t := range meta.Tags {
			a = append(a, "--tag", t)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(meta.Labels)) {
		a = append(a, "--label", k+"="+meta.Labels[k])
	}
	for _, an := range in.Annotations {
		a = append(a, "--annotation", an)
	}
	for _, k := range slices.Sorted(maps.Keys(in.BuildArgs)) {
		a = append(a, "--build-arg", k+"="+in.BuildArgs[k])
	}
	for _, c := range in.BuildContexts {
		a = append(a, "--build-context", c)
	}
	for i, sec := range secrets {
		flag, src := secretFlag(sec, i, dir)
		if src != "" {
			files[src] = sec.value
		}
		a = append(a, "--secret", flag)
	}
	for _, s := range in.SSH {
		a = append(a, "--ssh", s)
	}
	if in.Network != "" {
		a = append(a, "--network", in.Network)
	}
	if in.ShmSize != "" {
		a = append(a, "--shm-size", in.ShmSize)
	}
	for _, u := range in.Ulimit {
		a = append(a, "--ulimit", u)
	}
	for _, h := range in.AddHosts {
		a = append(a, "--add-host", h)
	}
	for _, f := range in.NoCacheFilters {
		a = append(a, "--no-cache-filter", f)
	}
	if in.NoCache {
		a = append(a, "--no-cache", "--pull")
	} else {
		for _, c := range in.CacheFrom {
			a = append(a, "--cache-from", c)
		}
		if in.Pull {
			a = append(a, "--pull")
		}
	}
	for _, c := range in.CacheTo {
		if !strings.Contains(c, "ignore-error=") {
			c += ",ignore-error=true" // a cache that cannot be written is a warning, not a failed build
		}
		a = append(a, "--cache-to", c)
	}
	switch {
	case in.Load:
		a = append(a, "--provenance=false") // the docker exporter stores no attestations
	case in.Provenance != "":
		a = append(a, "--provenance="+in.Provenance)
	}
	if in.SBOM {
		a = append(a, "--sbom=true")
	}
	switch {
	case in.PushByDigest:
		a = append(a, "--output", "type=image,name="+registry.Repository(in.Images[0])+",push-by-digest=true,name-canonical=true,push=true")
	case in.Push:
		a = append(a, "--push")
	case in.Load:
		a = append(a, "--load")
	}
	for _, o := range in.Outputs {
		a = append(a, "--output", o)
	}
	if in.Verbose {
		a = append(a, "--progress=plain")
	}
	a = append(a, "--metadata-file", filepath.Join(dir, "metadata.json"), "--iidfile", filepath.Join(dir, "iid"))
	return append(a, in.Context), files
}

// registryFault recognises a push that failed on the registry's side (429, 5xx, a dropped connection), which
// a retry may get past; buildx does not retry pushes itself.
func registryFault(out string) bool {
	for _, s := range []string{"500 Internal Server Error", "502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout",
		"429 Too Many Requests", "toomanyrequests", "connection reset by peer", "unexpected status: 50", "unexpected status from PUT", "EOF"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}

func buildWithRetry(ctx context.Context, s *actionio.Step, d docker, args []string, pushes bool) error {
	backoff := 2 * time.Second
	for attempt := 1; ; attempt++ {
		out, err := d.stream(ctx, s.Stdout(), args...)
		if err == nil {
			return nil
		}
		if !pushes || attempt == 3 || !registryFault(out) {
			return fmt.Errorf("docker buildx build failed: %w%s", err, lastLines(out, 15))
		}
		s.Warningf("the registry failed the push (attempt %d of 3); retrying in %s", attempt, backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff *= 2
	}
}

type buildResult struct {
	digest, imageID string
	raw             string
}

func readBuildResult(dir string) (buildResult, error) {
	var r buildResult
	data, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		return r, fmt.Errorf("buildx wrote no metadata file: %w", err)
	}
	r.raw = string(data)
	var md map[string]any
	if err := json.Unmarshal(data, &md); err != nil {
		return r, fmt.Errorf("buildx metadata file: %w", err)
	}
	r.digest, _ = md["containerimage.digest"].(string)
	if id, err := os.ReadFile(filepath.Join(dir, "iid")); err == nil {
		r.imageID = strings.TrimSpace(string(id))
	}
	return r, nil
}

// githubContext reads the event from the runner; in a terminal it asks git for the commit and branch.
func githubContext(s *actionio.Step) (Context, error) {
	c := Context{Time: time.Now().UTC(), ServerURL: "https://github.com"}
	gc, err := s.Action.Context()
	if err != nil {
		return c, fmt.Errorf("reading the GitHub context: %w", err)
	}
	c.EventName, c.Ref, c.SHA, c.Repository, c.RunNumber = gc.EventName, gc.Ref, gc.SHA, gc.Repository, int(gc.RunNumber)
	if gc.ServerURL != "" {
		c.ServerURL = gc.ServerURL
	}
	if repo, ok := gc.Event["repository"].(map[string]any); ok {
		c.DefaultBranch, _ = repo["default_branch"].(string)
		c.Description, _ = repo["description"].(string)
		if lic, ok := repo["license"].(map[string]any); ok {
			c.License, _ = lic["spdx_id"].(string)
		}
	}
	if pr, ok := gc.Event["pull_request"].(map[string]any); ok {
		if n, ok := pr["number"].(float64); ok {
			c.PRNumber = int(n)
		}
	}
	if c.PRNumber == 0 && strings.HasPrefix(c.Ref, "refs/pull/") {
		c.PRNumber, _ = strconv.Atoi(strings.Split(c.Ref, "/")[2])
	}
	if !s.OnRunner() && c.SHA == "" { // a terminal: what the working tree is
		if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
			c.SHA = strings.TrimSpace(string(out))
		}
		if out, err := exec.Command("git", "symbolic-ref", "-q", "HEAD").Output(); err == nil {
			c.Ref = strings.TrimSpace(string(out))
		}
		c.EventName = "push"
	}
	return c, nil
}

// docker runs the docker CLI.
type docker struct{ env []string }

// getenv reads the environment docker runs in (the last value of a name wins, as exec does).
func (d docker) getenv(name string) string {
	v, _ := d.lookupEnv(name)
	return v
}

// lookupEnv reads a variable of the environment docker runs in, and whether it is there.
func (d docker) lookupEnv(name string) (string, bool) {
	v, ok := "", false
	for _, kv := range d.env {
		if k, val, found := strings.Cut(kv, "="); found && k == name {
			v, ok = val, true
		}
	}
	return v, ok
}

// output runs docker and returns its standard output.
func (d docker) output(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = d.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// outputAll runs docker and returns its standard output and error together.
func (d docker) outputAll(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stream runs docker with its output shown as it comes, and returns that output too.
func (d docker) stream(ctx context.Context, w io.Writer, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = d.env
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(w, &buf)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	return buf.String(), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n" + strings.Join(lines, "\n")
}

// loadHostPlatform builds the runner's platform again with --load, all from the cache the build just filled,
// for a smoke test of an image that is not pushed (a pull request's). It returns the loaded image's ID.
func loadHostPlatform(ctx context.Context, s *actionio.Step, d docker, in *Inputs, meta *Meta, secrets []secret, builder string) (string, error) {
	local := *in
	local.Platforms, local.Load, local.CacheTo, local.Outputs, local.Provenance, local.SBOM = []string{hostPlatform()}, true, nil, nil, "false", false
	local.Annotations = nil // the image only runs here; buildx refuses index annotations for one platform
	dir, err := os.MkdirTemp("", "scribe-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	args, files := buildxArgs(&local, meta, secrets, builder, dir)
	if err := writeSecretFiles(files); err != nil {
		return "", err
	}
	if err := s.Group("load "+hostPlatform()+" for the smoke test", func() error { return buildWithRetry(ctx, s, d, args, false) }); err != nil {
		return "", err
	}
	res, err := readBuildResult(dir)
	if err != nil {
		return "", err
	}
	return res.imageID, nil
}

// hostPlatform is the platform a smoke test runs: the runner's own.
func hostPlatform() string { return "linux/" + runtime.GOARCH }
