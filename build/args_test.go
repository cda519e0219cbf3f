package build

import (
	"slices"
	"strings"
	"testing"
)

func TestBuildxArgs(t *testing.T) {
	meta := &Meta{Tags: []string{"ghcr.io/acme/app:main"}, Labels: map[string]string{"org.opencontainers.image.revision": "abc"}}
	in := &Inputs{Context: "apps/api", File: "apps/api/Dockerfile", Platforms: []string{"linux/amd64", "linux/arm64"}, Push: true,
		BuildArgs: map[string]string{"B": "2", "A": "1"}, Secrets: []string{"npmrc=token-value-123"},
		CacheFrom: []string{"type=gha,scope=api"}, CacheTo: []string{"type=gha,mode=max,scope=api"}, Provenance: "mode=min", Images: []string{"ghcr.io/acme/app"}}
	args, env := buildxArgs(in, meta, "scribe-remote", "/tmp/x")
	got := strings.Join(args, " ")
	for _, want := range []string{"buildx build --builder scribe-remote --file apps/api/Dockerfile --platform linux/amd64,linux/arm64",
		"--tag ghcr.io/acme/app:main", "--label org.opencontainers.image.revision=abc", "--build-arg A=1 --build-arg B=2",
		"--secret id=npmrc,env=SCRIBE_BUILD_SECRET_0", "--cache-from type=gha,scope=api", "--cache-to type=gha,mode=max,scope=api,ignore-error=true",
		"--provenance=mode=min --push --metadata-file /tmp/x/metadata.json --iidfile /tmp/x/iid apps/api"} {
		if !strings.Contains(got, want) {
			t.Errorf("args lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "token-value-123") || !slices.Contains(env, "SCRIBE_BUILD_SECRET_0=token-value-123") {
		t.Errorf("the secret is on the command line, or not in its environment: %q %q", got, env)
	}

	in.NoCache = true
	args, _ = buildxArgs(in, meta, "", "/tmp/x")
	got = strings.Join(args, " ")
	if strings.Contains(got, "--cache-from") || !strings.Contains(got, "--no-cache --pull") || strings.Contains(got, "--builder") {
		t.Errorf("no-cache: %s", got)
	}

	in = &Inputs{Context: ".", Platforms: []string{"linux/arm64"}, PushByDigest: true, Images: []string{"GHCR.io/Acme/App"}, Provenance: "false"}
	got = strings.Join(first2(buildxArgs(in, meta, "", "/tmp/x")), " ")
	if strings.Contains(got, "--tag") || !strings.Contains(got, "--output type=image,name=ghcr.io/acme/app,push-by-digest=true,name-canonical=true,push=true") {
		t.Errorf("push-by-digest: %s", got)
	}
}

func first2(a, _ []string) []string { return a }

func TestInputCombinationsRefused(t *testing.T) {
	for want, in := range map[string]*Inputs{
		`pushing needs input "images"`:                   {Push: true},
		`"push-by-digest" pushes to one repository`:      {PushByDigest: true, Images: []string{"a", "b"}, Platforms: []string{"linux/amd64", "linux/arm64"}},
		`"promote" tags an image that is already pushed`: {Promote: "a@sha256:" + strings.Repeat("0", 64), Images: []string{"a"}, Push: true},
		`"load" loads one platform`:                      {Load: true, Platforms: []string{"linux/amd64", "linux/arm64"}},
		`"smoke-test" runs the image on this runner`:     {SmokeTest: true, Platforms: []string{"linux/s390x"}},
		`"merge" needs input "images"`:                   {Merge: []string{"sha256:abc"}},
	} {
		if err := in.check(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %s", in, err, want)
		}
	}
}
