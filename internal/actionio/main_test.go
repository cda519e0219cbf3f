package actionio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type demoInputs struct {
	Name      string
	Push      bool
	Retries   int
	OlderThan time.Duration
	MaxSize   int64
	Platforms []string
	Suffix    string
	Args      map[string]string
	Password  string
}

func demoSpec(in *demoInputs) *Spec {
	s := &Spec{Name: "demo", Description: "A demo action."}
	s.String(&in.Name, "name", "", "Image name.").Required()
	s.Bool(&in.Push, "push", false, "Push the image.")
	s.Int(&in.Retries, "retries", 3, "Retries.")
	s.Duration(&in.OlderThan, "older-than", "30d", "Age.")
	s.Bytes(&in.MaxSize, "max-size", "", "Size budget.")
	s.List(&in.Platforms, "platforms", "linux/amd64", "Platforms.").Check(func(p string) error {
		if !strings.HasPrefix(p, "linux/") {
			return errors.New("is not a linux platform")
		}
		return nil
	})
	s.Enum(&in.Suffix, "tag-suffix", "", []string{"dev", "prod"}, "Suffix.")
	s.Map(&in.Args, "build-args", "", "Build args.")
	s.String(&in.Password, "key-password", "", "Password.").Secret()
	s.Output("digest", "Digest.")
	s.Output("report", "Report.")
	return s
}

// runDemo runs the demo action with the given environment and flags and returns the exit code, what it
// printed, and the inputs its run function got (nil when it did not run).
func runDemo(t *testing.T, env map[string]string, args ...string) (int, string, string, *demoInputs) {
	t.Helper()
	var got *demoInputs
	act := Define(demoSpec, func(_ context.Context, s *Step, in *demoInputs) error {
		got = in
		if err := s.SetOutput("digest", "sha256:abc"); err != nil {
			return err
		}
		if err := s.SetOutput("report", "line one\nline two"); err != nil {
			return err
		}
		return s.Summary("## Demo\n\n| image | pushed |\n| --- | --- |\n| " + in.Name + " | yes |\n")
	})
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), "scribe-actions", "v0", []Action{act}, append([]string{"demo"}, args...),
		Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String(), got
}

// runnerEnv is what a GitHub runner gives a step: GITHUB_ACTIONS and the command files.
func runnerEnv(t *testing.T, inputs map[string]string) (map[string]string, string, string) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": sum}
	for k, v := range inputs {
		env[EnvName(k)] = v
	}
	return env, out, sum
}

func TestMainRunnerBadInputFailsBeforeAnySideEffect(t *testing.T) {
	env, out, sum := runnerEnv(t, map[string]string{"name": "app", "platforms": "linux/amd64,windows/amd64", "push": "yes"})
	code, stdout, _, ran := runDemo(t, env)
	if code != ExitFail || ran != nil {
		t.Fatalf("exit %d, ran %v; want exit 1 and no run", code, ran != nil)
	}
	want := []string{
		`::error title=input push::input "push": "yes" is not a boolean (want true or false)`,
		`::error title=input platforms::input "platforms": item "windows/amd64" is not a linux platform`,
	}
	if got := strings.Split(strings.TrimSpace(stdout), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("stdout lines:\n%q\nwant:\n%q", got, want)
	}
	for _, f := range []string{out, sum} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s was written although an input was bad", filepath.Base(f))
		}
	}
}

func TestMainErrorsNameInputValueAndWhatIsAllowed(t *testing.T) {
	tests := []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{}, `::error title=input name::input "name" is required and was not given (Image name.)`},
		{map[string]string{"name": "a", "retries": "three"}, `input "retries": "three" is not a whole number`},
		{map[string]string{"name": "a", "older-than": "3x"}, `input "older-than": "3x" is not a duration (want`},
		{map[string]string{"name": "a", "max-size": "5 parsecs"}, `input "max-size": "5 parsecs" is not a size (want`},
		{map[string]string{"name": "a", "tag-suffix": "qa"}, `input "tag-suffix": "qa" is not allowed (want one of: dev, prod)`},
		{map[string]string{"name": "a", "build-args": "A=1,B"}, `input "build-args": item "B" is not a key=value pair`},
	}
	for _, tt := range tests {
		env, _, _ := runnerEnv(t, tt.inputs)
		code, stdout, _, _ := runDemo(t, env)
		if code != ExitFail || strings.Count(stdout, "::error") != 1 || !strings.Contains(stdout, tt.want) {
			t.Errorf("inputs %v: exit %d, stdout %q; want exit 1 and one error containing %q", tt.inputs, code, stdout, tt.want)
		}
	}
}

func TestMainRunnerWritesOutputsSummaryAndMasks(t *testing.T) {
	key := "-----BEGIN KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END KEY-----"
	env, out, sum := runnerEnv(t, map[string]string{
		"name": "ghcr.io/acme/app", "push": "true", "max-size": "500MB", "platforms": "linux/amd64\nlinux/arm64",
		"build-args": "A=1\nB=2", "key-password": key,
	})
	code, stdout, _, in := runDemo(t, env)
	if code != ExitOK {
		t.Fatalf("exit %d, stdout %s", code, stdout)
	}
	want := &demoInputs{Name: "ghcr.io/acme/app", Push: true, Retries: 3, OlderThan: 30 * 24 * time.Hour,
		MaxSize: 500_000_000, Platforms: []string{"linux/amd64", "linux/arm64"}, Args: map[string]string{"A": "1", "B": "2"},
		Password: key}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("inputs = %+v\nwant %+v", in, want)
	}
	for _, m := range []string{"::add-mask::c2VjcmV0LWtleS1ib2R5", "::add-mask::-----BEGIN KEY-----"} {
		if !strings.Contains(stdout, m) {
			t.Errorf("stdout lacks %q:\n%s", m, stdout)
		}
	}
	outputs, _ := os.ReadFile(out)
	for _, o := range []string{"digest<<", "sha256:abc", "report<<", "line one\nline two"} {
		if !strings.Contains(string(outputs), o) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", o, outputs)
		}
	}
	summary, _ := os.ReadFile(sum)
	if !strings.Contains(string(summary), "| ghcr.io/acme/app | yes |") {
		t.Errorf("GITHUB_STEP_SUMMARY = %q", summary)
	}
}

func TestMainTerminalPrintsOutputsAndReadableSummary(t *testing.T) {
	code, stdout, stderr, in := runDemo(t, map[string]string{"INPUT_NAME": "from-env"}, "--name", "from-flag", "--push", "--tag-suffix=prod")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if in.Name != "from-flag" || !in.Push || in.Suffix != "prod" {
		t.Errorf("inputs = %+v; want the flags to win over INPUT_ variables", in)
	}
	if want := "digest=sha256:abc\nreport=line one\nline two\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "Demo\n====") || !strings.Contains(stderr, "from-flag  yes") {
		t.Errorf("summary on stderr is not rendered as text:\n%s", stderr)
	}
}

func TestMainTerminalBadFlag(t *testing.T) {
	code, stdout, stderr, ran := runDemo(t, nil, "--name", "a", "--platforms", "linux/amd64,darwin/arm64")
	if code != ExitFail || ran != nil || stdout != "" {
		t.Fatalf("exit %d, ran %t, stdout %q", code, ran != nil, stdout)
	}
	if want := "error: input \"platforms\": item \"darwin/arm64\" is not a linux platform\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

func TestMainUsage(t *testing.T) {
	if code, _, stderr, _ := runDemo(t, nil, "--nope"); code != ExitUsage || !strings.Contains(stderr, "-nope") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, stderr)
	}
	if code, _, _, _ := runDemo(t, nil, "stray"); code != ExitUsage {
		t.Errorf("stray argument: exit %d", code)
	}
	var stdout, stderr bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}
	if code := Main(context.Background(), "x", "v0", []Action{Define(demoSpec, nil)}, []string{"nope"}, env); code != ExitUsage {
		t.Errorf("unknown action: exit %d", code)
	}
}

func TestHelpListsEveryInputWithDefault(t *testing.T) {
	code, _, stderr, _ := runDemo(t, nil, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"--name string\n      Image name. (required)",
		"--older-than duration\n      Age. (default \"30d\")",
		"--tag-suffix dev|prod",
		"--key-password string\n      Password. (secret: masked in logs)",
		"Outputs", "digest\n      Digest.",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("help lacks %q:\n%s", want, stderr)
		}
	}
}

func TestSetOutputRefusesUndeclared(t *testing.T) {
	s := &Step{spec: &Spec{Name: "demo"}, stdout: &bytes.Buffer{}}
	if err := s.SetOutput("nope", "x"); err == nil {
		t.Error("an undeclared output was accepted")
	}
}

// An input reaches the binary under the runner's name (INPUT_TAG-SUFFIX) or the one action.yml passes
// through every shell (INPUT_TAG_SUFFIX).
func TestMainReadsBothInputNames(t *testing.T) {
	for env, want := range map[string]string{"INPUT_TAG-SUFFIX": "prod", "INPUT_TAG_SUFFIX": "dev"} {
		code, _, stderr, in := runDemo(t, map[string]string{"INPUT_NAME": "a", env: want})
		if code != ExitOK || in.Suffix != want {
			t.Errorf("%s=%s: exit %d, got %+v, %s", env, want, code, in, stderr)
		}
	}
}
