package actionio

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// Exit codes of the binary.
const (
	ExitOK    = 0 // the action did what was asked
	ExitFail  = 1 // bad input, or the action failed
	ExitUsage = 2 // unknown action or flag
)

// Action is one command of the binary: a spec that binds inputs and the function that runs on them.
type Action interface {
	// Spec declares the action's inputs and outputs.
	Spec() *Spec
	// bind declares the inputs bound to a fresh set of values, and the run function that reads them.
	bind() (*Spec, func(context.Context, *Step) error)
}

// Define makes an Action from a spec function that binds inputs to the fields of T and a run function that
// gets those fields filled in.
func Define[T any](spec func(*T) *Spec, run func(context.Context, *Step, *T) error) Action {
	return action[T]{spec: spec, run: run}
}

type action[T any] struct {
	spec func(*T) *Spec
	run  func(context.Context, *Step, *T) error
}

func (a action[T]) Spec() *Spec { return a.spec(new(T)) }

func (a action[T]) bind() (*Spec, func(context.Context, *Step) error) {
	in := new(T)
	return a.spec(in), func(ctx context.Context, s *Step) error { return a.run(ctx, s, in) }
}

// Env is how the binary reaches its process: arguments aside, everything an action may read or write.
type Env struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs the action named by args[0] with the rest as flags, and returns the process exit code.
// Inputs come from flags first, then INPUT_<NAME> variables (hyphens kept or as underscores), then defaults. Every bad input is reported,
// each on one line naming it, and nothing runs when any is bad.
func Main(ctx context.Context, prog, version string, actions []Action, args []string, env Env) int {
	byName, names := index(actions)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stdout, "Usage: %s <action> [flags]\n\nActions: %s\nRun '%s <action> --help' for its inputs.\n",
			prog, strings.Join(names, ", "), prog)
		return ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(env.Stdout, version)
		return ExitOK
	}
	a, ok := byName[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: unknown action %q (want one of: %s)\n", prog, args[0], strings.Join(names, ", "))
		return ExitUsage
	}
	spec, run := a.bind()
	step := newStep(spec, env)
	given, exit, ok := parseFlags(prog, spec, args[1:], env.Stderr)
	if !ok {
		return exit
	}
	if !step.setInputs(given) {
		return ExitFail
	}
	if err := run(ctx, step); err != nil {
		step.errorf("", "%s: %v", spec.Name, err)
		return ExitFail
	}
	return ExitOK
}

// index maps the actions by name, and lists the names in order for usage lines.
func index(actions []Action) (map[string]Action, []string) {
	byName := map[string]Action{}
	var names []string
	for _, a := range actions {
		name := a.Spec().Name
		byName[name] = a
		names = append(names, name)
	}
	sort.Strings(names)
	return byName, names
}

// newStep is the step of an action that runs in env: on a runner when GITHUB_ACTIONS is true.
func newStep(spec *Spec, env Env) *Step {
	return &Step{
		Action: githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout)),
		spec:   spec,
		runner: env.Getenv("GITHUB_ACTIONS") == "true",
		stdout: env.Stdout,
		stderr: env.Stderr,
	}
}

// parseFlags reads an action's flags into the text given for each input. When ok is false the action must
// not run, and exit is the code to end with: --help is a success, a bad flag or argument a usage error.
func parseFlags(prog string, spec *Spec, args []string, stderr io.Writer) (given map[string]string, exit int, ok bool) {
	fs, given := flags(spec)
	fs.SetOutput(stderr)
	fs.Usage = func() { Help(stderr, prog, spec) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ExitOK, false
		}
		return nil, ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s %s: unexpected argument %q (inputs are flags: --name value)\n", prog, spec.Name, fs.Arg(0))
		return nil, ExitUsage, false
	}
	return given, ExitOK, true
}

// setInputs resolves and sets every input of the step's spec: the flag's text, else the INPUT_ variable, else
// the default. Secrets are masked before anything can log them. It reports each bad input on its own line
// and returns false when any is bad; when all are good, it logs them (secrets hidden) for step debugging.
func (s *Step) setInputs(given map[string]string) bool {
	bad := 0
	resolved := map[string]string{}
	for _, in := range s.spec.Inputs {
		text, ok := given[in.Name]
		if !ok {
			text = s.Action.GetInput(in.Name) // INPUT_TAG-SUFFIX, the runner's name
		}
		if !ok && text == "" {
			text = strings.TrimSpace(s.Action.Getenv(EnvName(in.Name))) // INPUT_TAG_SUFFIX, what action.yml passes
		}
		if text == "" {
			text = in.Default
		}
		if in.secret {
			s.Mask(text)
		}
		resolved[in.Name] = text
		if text == "" {
			if in.required {
				s.errorf("input "+in.Name, "input %q is required and was not given (%s)", in.Name, in.Description)
				bad++
			}
			continue
		}
		if err := in.set(in, text); err != nil {
			s.errorf("input "+in.Name, "input %q: %v", in.Name, err)
			bad++
		}
	}
	if bad > 0 {
		return false
	}
	for _, in := range s.spec.Inputs {
		text := resolved[in.Name]
		if in.secret && text != "" {
			text = "***"
		}
		s.Debugf("input %s=%q", in.Name, text)
	}
	return true
}

// flags makes one flag per input. Each records the text the user gave; parsing happens with the other
// sources, so a flag and an INPUT_ variable fail the same way.
func flags(spec *Spec) (*flag.FlagSet, map[string]string) {
	fs := flag.NewFlagSet(spec.Name, flag.ContinueOnError)
	given := map[string]string{}
	for _, in := range spec.Inputs {
		fs.Var(&textFlag{name: in.Name, given: given, bool: in.Kind == KindBool}, in.Name, in.Description)
	}
	return fs, given
}

type textFlag struct {
	name  string
	given map[string]string
	bool  bool
}

func (f *textFlag) String() string { return "" }

func (f *textFlag) Set(v string) error {
	f.given[f.name] = v
	return nil
}

func (f *textFlag) IsBoolFlag() bool { return f.bool }

// Help prints an action's inputs as flags, with their kinds, defaults and descriptions, then its outputs.
func Help(w io.Writer, prog string, spec *Spec) {
	fmt.Fprintf(w, "Usage: %s %s [flags]\n\n%s\n\nInputs (flags here; with: keys in a workflow; INPUT_<NAME> variables):\n",
		prog, spec.Name, spec.Description)
	for _, in := range spec.Inputs {
		kind := string(in.Kind)
		if in.Kind == KindEnum {
			kind = strings.Join(in.Allowed, "|")
		}
		fmt.Fprintf(w, "  --%s %s\n", in.Name, kind)
		fmt.Fprintf(w, "      %s", in.Description)
		switch {
		case in.required:
			fmt.Fprint(w, " (required)")
		case in.Default != "":
			fmt.Fprintf(w, " (default %q)", in.Default)
		case in.runnerDefault != "":
			fmt.Fprintf(w, " (default on a runner: %s)", in.runnerDefault)
		}
		if in.secret {
			fmt.Fprint(w, " (secret: masked in logs)")
		}
		fmt.Fprintln(w)
	}
	if len(spec.Outputs) > 0 {
		fmt.Fprintln(w, "\nOutputs (printed as name=value here):")
		for _, o := range spec.Outputs {
			fmt.Fprintf(w, "  %s\n      %s\n", o.Name, o.Description)
		}
	}
}
