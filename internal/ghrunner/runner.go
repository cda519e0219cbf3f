package ghrunner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Runner is one job on a hosted runner: its folders, its env (job and workflow env:) and the runtime the
// service gave it. Env is kept between Run calls, with what steps add through GITHUB_ENV, as a job does.
type Runner struct {
	Workspace string // GITHUB_WORKSPACE and every step's working directory
	ToolCache string // RUNNER_TOOL_CACHE
	Temp      string // RUNNER_TEMP
	Env       map[string]string
	Runtime   Runtime
	// GitHubToken is github.token, the job's GITHUB_TOKEN: what an input default of ${{ github.token }}
	// evaluates to.
	GitHubToken string
	// ActionRepository and ActionRef are github.action_repository and github.action_ref of the action run
	// (empty for a local action, uses: ./path, as on GitHub).
	ActionRepository, ActionRef string
}

// Result is what a step did, as the job sees it.
type Result struct {
	Code    int
	Outputs map[string]string // the action's outputs
	Log     string            // stdout and stderr, masked, without the ::add-mask:: lines
	Summary string            // what it wrote to GITHUB_STEP_SUMMARY
}

// action is the part of an action.yml the runner reads.
type action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Main  string `yaml:"main"`
		Pre   string `yaml:"pre"`
		Post  string `yaml:"post"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Run   string            `yaml:"run"`
			Uses  string            `yaml:"uses"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// Run runs the action in dir with the given with: inputs; every declared input the step does not give gets its
// default, as ActionRunner.cs does. What the harness cannot run as GitHub would (a container action, pre: and
// post:, a uses: inside a composite, an expression it does not know) is an error, never a guess.
func (r *Runner) Run(ctx context.Context, dir string, with map[string]string) (*Result, error) {
	dir, err := filepath.Abs(dir) // steps run in the workspace
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		return nil, err
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%s/action.yml: %w", dir, err)
	}
	// The runner evaluates a default's expressions with the github context (ActionRunner.cs); the harness knows
	// github.token, and refuses any other.
	defaults := exprContext{github: map[string]string{"token": r.GitHubToken}}
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		if inputs[name], err = defaults.eval(in.Default); err != nil {
			return nil, fmt.Errorf("%s/action.yml: input %q's default: %w", dir, name, err)
		}
	}
	for name, v := range with {
		if _, ok := a.Inputs[name]; !ok {
			return nil, fmt.Errorf("unexpected input %q: %s/action.yml does not declare it", name, dir)
		}
		inputs[name] = v
	}
	if a.Runs.Pre != "" || a.Runs.Post != "" {
		return nil, fmt.Errorf("%s: pre: and post: are not run by this harness", dir)
	}
	switch a.Runs.Using {
	case "node20", "node24":
		return r.runNode(ctx, dir, &a, inputs)
	case "composite":
		return r.runComposite(ctx, dir, &a, inputs)
	}
	return nil, fmt.Errorf("%s: runs.using %q is not run by this harness", dir, a.Runs.Using)
}

// runNode runs a JavaScript action: node <dir>/<main> with the runtime and the INPUT_ variables.
func (r *Runner) runNode(ctx context.Context, dir string, a *action, inputs map[string]string) (*Result, error) {
	env := r.Runtime.Env(NodeStep)
	for name, v := range inputs {
		env[InputEnvName(name)] = v
	}
	res, outputs, err := r.step(ctx, env, "node", filepath.Join(dir, a.Runs.Main))
	if err != nil {
		return nil, err
	}
	res.Outputs = map[string]string{}
	for name := range a.Outputs {
		res.Outputs[name] = outputs[name]
	}
	return res, nil
}

// runComposite runs a composite action's run: steps in order, stopping at the first that fails, as the runner
// does: no runtime, no INPUT_ variables, GITHUB_ACTION_PATH set, env: from expressions.
func (r *Runner) runComposite(ctx context.Context, dir string, a *action, inputs map[string]string) (*Result, error) {
	ctxt := exprContext{inputs: inputs, steps: map[string]map[string]string{}, github: map[string]string{
		"action_path": dir, "action_ref": r.ActionRef, "action_repository": r.ActionRepository, "workspace": r.Workspace}}
	total := &Result{}
	for i, s := range a.Runs.Steps {
		if s.Uses != "" || s.Run == "" {
			return nil, fmt.Errorf("%s: step %d: only run: steps are run by this harness", dir, i+1)
		}
		env := r.Runtime.Env(RunStep)
		env["GITHUB_ACTION_PATH"] = dir
		var err error
		for k, v := range s.Env {
			if env[k], err = ctxt.eval(v); err != nil {
				return nil, fmt.Errorf("%s: step %d: env %s: %w", dir, i+1, k, err)
			}
		}
		script, err := ctxt.eval(s.Run)
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: run: %w", dir, i+1, err)
		}
		argv, err := shellCommand(s.Shell, filepath.Join(r.Temp, fmt.Sprintf("step-%d.sh", i+1)), script)
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", dir, i+1, err)
		}
		res, outputs, err := r.step(ctx, env, argv[0], argv[1:]...)
		if err != nil {
			return nil, err
		}
		ctxt.steps[s.ID] = outputs
		total.Log += res.Log
		total.Summary += res.Summary
		if total.Code = res.Code; res.Code != 0 {
			break
		}
	}
	total.Outputs = map[string]string{}
	for name, o := range a.Outputs {
		total.Outputs[name], _ = ctxt.eval(o.Value)
	}
	return total, nil
}

// shellCommand writes the script where the runner would and gives the command line of the step's shell:
// bash --noprofile --norc -eo pipefail {0}, sh -e {0} (docs, jobs.<job_id>.steps[*].shell).
func shellCommand(shell, path, script string) ([]string, error) {
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, err
	}
	switch shell {
	case "bash":
		return []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", path}, nil
	case "sh":
		return []string{"sh", "-e", path}, nil
	}
	return nil, fmt.Errorf("shell %q: a composite run: step needs shell bash or sh here", shell)
}

// step runs one process as the runner runs a step: the job's environment without anything of this test
// process's that a runner would not give (ACTIONS_, INPUT_, GITHUB_), then the step's own variables, fresh
// file-command files, GITHUB_WORKSPACE as the working directory. It reads the files back afterwards.
func (r *Runner) step(ctx context.Context, stepEnv map[string]string, name string, args ...string) (*Result, map[string]string, error) {
	files, err := os.MkdirTemp(r.Temp, "file-commands-")
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "ACTIONS_") && !strings.HasPrefix(k, "INPUT_") && !strings.HasPrefix(k, "GITHUB_") {
			env[k] = v
		}
	}
	for k, v := range r.Env {
		env[k] = v
	}
	for _, f := range []string{"OUTPUT", "ENV", "PATH", "STATE", "STEP_SUMMARY"} {
		p := filepath.Join(files, strings.ToLower(f))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, nil, err
		}
		env["GITHUB_"+f] = p
	}
	env["GITHUB_ACTIONS"], env["CI"], env["GITHUB_WORKSPACE"] = "true", "true", r.Workspace
	env["RUNNER_TOOL_CACHE"], env["RUNNER_TEMP"] = r.ToolCache, r.Temp
	env["GITHUB_ACTION_REPOSITORY"], env["GITHUB_ACTION_REF"] = r.ActionRepository, r.ActionRef
	for k, v := range stepEnv {
		env[k] = v
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.Workspace
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	res := &Result{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		res.Code = exit.ExitCode()
	}
	res.Log = mask(log.String())
	outputs, err := r.readFiles(files, res)
	return res, outputs, err
}

// readFiles applies the step's file commands: outputs, GITHUB_ENV (kept in the job's Env for later steps),
// GITHUB_PATH (prepended to PATH), and the step summary.
func (r *Runner) readFiles(dir string, res *Result) (map[string]string, error) {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	outputs, err := actionio.ParseOutputFile(read("output"))
	if err != nil {
		return nil, fmt.Errorf("GITHUB_OUTPUT: %w", err)
	}
	env, err := actionio.ParseOutputFile(read("env"))
	if err != nil {
		return nil, fmt.Errorf("GITHUB_ENV: %w", err)
	}
	if r.Env == nil {
		r.Env = map[string]string{}
	}
	for k, v := range env {
		r.Env[k] = v
	}
	for _, p := range strings.Fields(read("path")) {
		path := r.Env["PATH"]
		if path == "" {
			path = os.Getenv("PATH")
		}
		r.Env["PATH"] = p + string(os.PathListSeparator) + path
	}
	res.Summary = read("step_summary")
	return outputs, nil
}

// mask applies ::add-mask:: as the runner does: the command line is not shown, and the value is *** in every
// line after it.
func mask(log string) string {
	var secrets []string
	var out strings.Builder
	for _, line := range strings.SplitAfter(log, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "::add-mask::"); ok {
			if v = strings.TrimSpace(v); v != "" {
				secrets = append(secrets, v)
			}
			continue
		}
		for _, s := range secrets {
			line = strings.ReplaceAll(line, s, "***")
		}
		out.WriteString(line)
	}
	return out.String()
}

// exprContext is what a composite's ${{ }} expressions may read here.
type exprContext struct {
	inputs map[string]string
	github map[string]string
	steps  map[string]map[string]string
}

var expr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval replaces every ${{ x.y }} it knows; anything else is an error naming it.
func (c exprContext) eval(s string) (string, error) {
	var bad error
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		path := strings.Split(expr.FindStringSubmatch(m)[1], ".")
		switch {
		case len(path) == 2 && path[0] == "inputs":
			return c.inputs[path[1]]
		case len(path) == 2 && path[0] == "github":
			if v, ok := c.github[path[1]]; ok {
				return v
			}
		case len(path) == 4 && path[0] == "steps" && path[2] == "outputs":
			return c.steps[path[1]][path[3]]
		}
		bad = fmt.Errorf("expression %s is not evaluated by this harness", m)
		return ""
	})
	return out, bad
}
