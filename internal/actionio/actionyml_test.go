package actionio

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type tokenInputs struct{ Token, Owner string }

func tokenSpec(in *tokenInputs) *Spec {
	s := &Spec{Name: "tok", Description: "Uses a token."}
	s.String(&in.Token, "token", "", "Token.").Secret().RunnerDefault("${{ github.token }}")
	s.String(&in.Owner, "owner", "acme", "Owner.")
	return s
}

// A ${{ }} default is written into action.yml for the runner to evaluate, agrees with the check, shows in the
// README table and --help, and is never the binary's own default: outside a runner the input is empty.
func TestRunnerDefaultIsActionYMLsAlone(t *testing.T) {
	spec := tokenSpec(new(tokenInputs))
	yml := ActionYML(spec, "")
	var f actionFile
	if err := yaml.Unmarshal(yml, &f); err != nil {
		t.Fatal(err)
	}
	if d := f.Inputs["token"].Default; d == nil || *d != "${{ github.token }}" {
		t.Errorf("action.yml token default %v\n%s", d, yml)
	}
	if d := f.Inputs["owner"].Default; d == nil || *d != "acme" {
		t.Errorf("action.yml owner default %v", d)
	}
	if diffs := CheckActionYML(spec, yml); len(diffs) != 0 {
		t.Errorf("the generated action.yml disagrees with its spec: %q", diffs)
	}
	literal := bytes.Replace(yml, []byte("default: ${{ github.token }}"), nil, 1)
	if diffs := CheckActionYML(spec, literal); len(diffs) != 1 || !strings.Contains(diffs[0], `"token": default is ""`) {
		t.Errorf("a dropped runner default: %q", diffs)
	}
	if md := Markdown(spec); !strings.Contains(md, "| `token` | string | `${{ github.token }}` |") {
		t.Errorf("README table:\n%s", md)
	}
	var help bytes.Buffer
	Help(&help, "x", spec)
	if !strings.Contains(help.String(), "Token. (default on a runner: ${{ github.token }})") {
		t.Errorf("help:\n%s", help.String())
	}

	var got *tokenInputs
	act := Define(tokenSpec, func(_ context.Context, _ *Step, in *tokenInputs) error { got = in; return nil })
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"terminal", map[string]string{}, ""},
		{"runner", map[string]string{"GITHUB_ACTIONS": "true", "INPUT_TOKEN": "ghs_job"}, "ghs_job"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), "x", "v0", []Action{act}, []string{"tok"},
			Env{Getenv: func(k string) string { return tt.env[k] }, Stdout: &stdout, Stderr: &stderr})
		if code != ExitOK || got.Token != tt.want || got.Owner != "acme" {
			t.Errorf("%s: exit %d, inputs %+v; want token %q\n%s%s", tt.name, code, got, tt.want, stdout.String(), stderr.String())
		}
	}
}

// A required input has no default of any kind.
func TestRequiredDropsRunnerDefault(t *testing.T) {
	var v string
	s := &Spec{Name: "x"}
	in := s.String(&v, "token", "", "Token.").RunnerDefault("${{ github.token }}").Required()
	if in.actionDefault() != "" || strings.Contains(string(ActionYML(s, "")), "default:") {
		t.Errorf("a required input kept its runner default:\n%s", ActionYML(s, ""))
	}
}
