package build

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

func TestBuildxArgs(t *testing.T) {
	meta := &Meta{Tags: []string{"ghcr.io/acme/app:main"}, Labels: map[string]string{"org.opencontainers.image.revision": "abc"}}
	in := &Inputs{Context: "apps/api", File: "apps/api/Dockerfile", Platforms: []string{"linux/amd64", "linux/arm64"}, Push: true,
		BuildArgs: map[string]string{"B": "2", "A": "1"}, Secrets: "npmrc=token-value-123",
		CacheFrom: []string{"type=gha,scope=api"}, CacheTo: []string{"type=gha,mode=max,scope=api"}, Provenance: "mode=min", Images: []string{"ghcr.io/acme/app"}}
	secrets, err := in.buildSecrets("https://github.com")
	if err != nil {
		t.Fatal(err)
	}
	args, files := buildxArgs(in, meta, secrets, "scribe-remote", "/tmp/x")
	got := strings.Join(args, " ")
	for _, want := range []string{"buildx build --builder scribe-remote --file apps/api/Dockerfile --platform linux/amd64,linux/arm64",
		"--tag ghcr.io/acme/app:main", "--label org.opencontainers.image.revision=abc", "--build-arg A=1 --build-arg B=2",
		"--secret id=npmrc,src=/tmp/x/secret-0", "--cache-from type=gha,scope=api", "--cache-to type=gha,mode=max,scope=api,ignore-error=true",
		"--provenance=mode=min --push --metadata-file /tmp/x/metadata.json --iidfile /tmp/x/iid apps/api"} {
		if !strings.Contains(got, want) {
			t.Errorf("args lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "token-value-123") || files["/tmp/x/secret-0"] != "token-value-123" {
		t.Errorf("the secret is on the command line, or not in its file: %q %q", got, files)
	}

	in.NoCache = true
	args, _ = buildxArgs(in, meta, secrets, "", "/tmp/x")
	got = strings.Join(args, " ")
	if strings.Contains(got, "--cache-from") || !strings.Contains(got, "--no-cache --pull") || strings.Contains(got, "--builder") {
		t.Errorf("no-cache: %s", got)
	}

	in = &Inputs{Context: ".", Platforms: []string{"linux/arm64"}, PushByDigest: true, Images: []string{"GHCR.io/Acme/App"}, Provenance: "false"}
	got = strings.Join(first2(buildxArgs(in, meta, nil, "", "/tmp/x")), " ")
	if strings.Contains(got, "--tag") || !strings.Contains(got, "--output type=image,name=ghcr.io/acme/app,push-by-digest=true,name-canonical=true,push=true") {
		t.Errorf("push-by-digest: %s", got)
	}
}

func first2(a []string, _ map[string]string) []string { return a }

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

// parseInputs reads inputs as the build action does on a runner (INPUT_ variables, the spec's splitting and
// checks), without running it: what a workflow's with: block becomes.
func parseInputs(t *testing.T, inputs map[string]string) *Inputs {
	t.Helper()
	var got *Inputs
	read := actionio.Define(Spec, func(_ context.Context, _ *actionio.Step, in *Inputs) error { got = in; return nil })
	if st := testenv.RunAction(t, read, inputs, nil); st.Code != 0 || got == nil {
		t.Fatalf("inputs %q refused: exit %d\n%s", inputs, st.Code, st.Log)
	}
	return got
}

// invocation is the buildx command and the secret files for a with: block, on github.com.
func invocation(t *testing.T, inputs map[string]string) ([]string, map[string]string) {
	t.Helper()
	in := parseInputs(t, inputs)
	secrets, err := in.buildSecrets("https://github.com")
	if err != nil {
		t.Fatal(err)
	}
	return buildxArgs(in, &Meta{}, secrets, "", "/tmp/x")
}

// hasFlag reports whether the command has flag with value as its next argument.
func hasFlag(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// The inputs build-push-action passes to buildx, with its syntax (List: one per line; List/CSV: commas too), give
// the flags its src/context.ts gives them.
func TestBuildxArgsOfBuildPushActionInputs(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "npmrc")
	os.WriteFile(secretFile, []byte("//registry.npmjs.org/:_authToken=x\n"), 0o600)
	tests := []struct {
		name   string
		inputs map[string]string
		want   [][2]string // flag, value
	}{
		{"network", map[string]string{"network": "host"}, [][2]string{{"--network", "host"}}},
		{"shm-size", map[string]string{"shm-size": "2g"}, [][2]string{{"--shm-size", "2g"}}},
		{"ulimit, one per line (a comma is not a separator)", map[string]string{"ulimit": "nofile=1024:2048\nnproc=512"},
			[][2]string{{"--ulimit", "nofile=1024:2048"}, {"--ulimit", "nproc=512"}}},
		{"add-hosts, lines or commas", map[string]string{"add-hosts": "docker:10.180.0.1,db=::1\ngw:host-gateway"},
			[][2]string{{"--add-host", "docker:10.180.0.1"}, {"--add-host", "db=::1"}, {"--add-host", "gw:host-gateway"}}},
		{"build-contexts", map[string]string{"build-contexts": "alpine=docker-image://alpine:3.20\nsrc=./src"},
			[][2]string{{"--build-context", "alpine=docker-image://alpine:3.20"}, {"--build-context", "src=./src"}}},
		{"ssh", map[string]string{"ssh": "default\ngithub=/home/runner/.ssh/id_ed25519"},
			[][2]string{{"--ssh", "default"}, {"--ssh", "github=/home/runner/.ssh/id_ed25519"}}},
		{"annotations, one per line (a comma is part of the value)", map[string]string{"annotations": "index:org.opencontainers.image.description=My app, in Go\nmanifest[linux/amd64]:com.example.k=v"},
			[][2]string{{"--annotation", "index:org.opencontainers.image.description=My app, in Go"}, {"--annotation", "manifest[linux/amd64]:com.example.k=v"}}},
		{"no-cache-filters, lines or commas", map[string]string{"no-cache-filters": "builder,test\nlint"},
			[][2]string{{"--no-cache-filter", "builder"}, {"--no-cache-filter", "test"}, {"--no-cache-filter", "lint"}}},
		{"secret-files", map[string]string{"secret-files": "npmrc=" + secretFile},
			[][2]string{{"--secret", "id=npmrc," + "src=" + secretFile}}},
		{"secret-envs, lines or commas", map[string]string{"secret-envs": "token=NPM_TOKEN,gh=GH_PAT"},
			[][2]string{{"--secret", "id=token,env=NPM_TOKEN"}, {"--secret", "id=gh,env=GH_PAT"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, files := invocation(t, tt.inputs)
			for _, w := range tt.want {
				if !hasFlag(args, w[0], w[1]) {
					t.Errorf("no %s %q in %q", w[0], w[1], args)
				}
			}
			if len(files) > 0 {
				t.Errorf("files written for secrets that are not values: %q", files)
			}
		})
	}
	if args, _ := invocation(t, map[string]string{}); slices.ContainsFunc(args, func(a string) bool {
		return slices.Contains([]string{"--network", "--shm-size", "--ulimit", "--add-host", "--build-context", "--ssh", "--annotation", "--no-cache-filter", "--secret"}, a)
	}) {
		t.Errorf("flags without their inputs: %q", args)
	}
}

// A multi-line value in secrets, CSV-quoted as build-push-action reads it, goes whole into a file buildx reads;
// no part of it is on the command line.
func TestBuildxArgsSecretValuesNeverOnTheCommandLine(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAC3NzaC1lZDI1NTE5AAAAIGx1\n-----END OPENSSH PRIVATE KEY-----"
	args, files := invocation(t, map[string]string{"secrets": `"deploy_key=` + key + `"` + "\nnpm_token=tok,with,commas\n" + `"quoted=say ""hi"""`})
	want := map[string]string{"deploy_key": key, "npm_token": "tok,with,commas", "quoted": `say "hi"`}
	for i, id := range []string{"deploy_key", "npm_token", "quoted"} {
		src := fmt.Sprintf("/tmp/x/secret-%d", i)
		if !hasFlag(args, "--secret", "id="+id+",src="+src) || files[src] != want[id] {
			t.Errorf("secret %s: args %q, file %q", id, args, files[src])
		}
	}
	joined := strings.Join(args, "\n")
	for _, v := range append(strings.Split(key, "\n"), "tok,with,commas", "hi") {
		if strings.Contains(joined, v) {
			t.Errorf("%q is on the command line:\n%s", v, joined)
		}
	}
}

// github-token is BuildKit's git token for a git URL context only, scoped to the GitHub server's host, as
// build-push-action passes it; a GIT_AUTH_TOKEN of the user's wins.
func TestBuildxArgsGitHubToken(t *testing.T) {
	for _, tt := range []struct {
		context, secrets, server string
		want                     string // the secret id, "" for none
	}{
		{"https://github.com/acme/app.git#main", "", "https://github.com", "GIT_AUTH_TOKEN.github.com"},
		{"https://github.com/acme/app.git?ref=main&subdir=api", "", "https://github.com", "GIT_AUTH_TOKEN.github.com"},
		{"github.com/acme/app#main", "", "https://github.com", "GIT_AUTH_TOKEN.github.com"},
		{"https://ghe.example.com/acme/app.git", "", "https://ghe.example.com/", "GIT_AUTH_TOKEN.ghe.example.com"},
		{".", "", "https://github.com", ""},
		{"https://example.com/context.tar.gz", "", "https://github.com", ""},
		{"https://github.com/acme/app.git", "GIT_AUTH_TOKEN=mine", "https://github.com", ""},
	} {
		in := parseInputs(t, map[string]string{"context": tt.context, "secrets": tt.secrets, "github-token": "ghs_token123"})
		secrets, err := in.buildSecrets(tt.server)
		if err != nil {
			t.Fatal(err)
		}
		args, files := buildxArgs(in, &Meta{}, secrets, "", "/tmp/x")
		n := len(secrets) - 1
		src := fmt.Sprintf("/tmp/x/secret-%d", n)
		got := hasFlag(args, "--secret", "id="+tt.want+",src="+src) && files[src] == "ghs_token123"
		if tt.want == "" {
			got = !slices.Contains(slices.Collect(maps.Values(files)), "ghs_token123")
		}
		if !got || strings.Contains(strings.Join(args, " "), "ghs_token123") {
			t.Errorf("context %q, secrets %q: %q %q", tt.context, tt.secrets, args, files)
		}
	}
	// Its default, ${{ github.token }}, is action.yml's for the runner to evaluate: the binary has none.
	in := parseInputs(t, map[string]string{"context": "https://github.com/acme/app.git"})
	if secrets, _ := in.buildSecrets("https://github.com"); in.GitHubToken != "" || len(secrets) != 0 {
		t.Errorf("default token %q, secrets %+v", in.GitHubToken, secrets)
	}
}

// A bad value of a new input fails the step naming the input, before anything runs.
func TestBuildPushActionInputsRefused(t *testing.T) {
	for input, tt := range map[string]struct{ value, want string }{
		"network":          {"bridge", `input "network": "bridge" is not allowed (want one of: default, host, none)`},
		"shm-size":         {"2 gigs", `input "shm-size": "2 gigs" is not a size`},
		"ulimit":           {"nofiles=10", `input "ulimit": item "nofiles=10" is not a ulimit`},
		"add-hosts":        {"docker:10.180.0", `input "add-hosts": item "docker:10.180.0" is not a host-to-IP mapping`},
		"build-contexts":   {"./src", `input "build-contexts": item "./src" is not a build context`},
		"annotations":      {"sbom:k=v", `input "annotations": item "sbom:k=v" has annotation type "sbom"`},
		"ssh":              {"=/key", `input "ssh": item "=/key" is not an SSH source`},
		"secret-files":     {"npmrc=/nonexistent/npmrc", `input "secret-files": item "npmrc=/nonexistent/npmrc" names no file that can be read`},
		"secret-envs":      {"NPM_TOKEN", `input "secret-envs": item "NPM_TOKEN" is not a secret from the environment (want id=VARIABLE)`},
		"secrets":          {"\"key=-----BEGIN KEY-----\nc2VjcmV0\n", `input "secrets": the double quote opened on line 1 is not closed`},
		"secrets (no id)":  {"key=-----BEGIN KEY-----\nc2VjcmV0\n-----END KEY-----", `input "secrets": item 2 of 3 is not id=value (a value on several lines must be double-quoted whole`},
		"secrets (twice)":  {"a=1\na=2", `input "secrets" gives secret id "a" twice`},
		"secrets (empty)":  {"a=", `input "secrets": secret "a" has an empty value`},
		"secret-envs (id)": {"npmrc=NPM_TOKEN", `secret id "npmrc" is given in input "secrets" and in input "secret-envs"`},
	} {
		name, _, _ := strings.Cut(input, " ")
		inputs := map[string]string{name: tt.value}
		if input == "secret-envs (id)" {
			inputs["secrets"] = "npmrc=token-value-123"
		}
		r := runAction(t, inputs)
		if r.code != 1 || !strings.Contains(r.log, tt.want) || strings.Contains(r.log, "docker buildx build") {
			t.Errorf("%s: exit %d, want 1 with %s, nothing run:\n%s", input, r.code, tt.want, r.log)
		}
		if strings.HasPrefix(input, "secrets") && strings.Contains(withoutMaskCommands(r.log), "c2VjcmV0") {
			t.Errorf("%s: the error shows the secret:\n%s", input, r.log)
		}
	}
}

// withoutMaskCommands is the log as a runner shows it: the ::add-mask:: commands that register a secret are
// consumed by the runner, never shown.
func withoutMaskCommands(log string) string {
	var kept []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}
