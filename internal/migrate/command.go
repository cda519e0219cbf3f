package migrate

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/render"
)

// Command is `gen-workflows import [flags] <workflow files>`: it writes the scribe.yaml of the workflows and
// prints, as file:line: text, what it could not carry over, then what the rendered pipeline does that they did
// not. The config it writes is checked as render reads it; an existing file is kept unless --force.
func Command(args []string, env actionio.Env) int {
	fl := flag.NewFlagSet("import", flag.ContinueOnError)
	fl.SetOutput(env.Stderr)
	out := fl.String("out", "scribe.yaml", "config file to write")
	force := fl.Bool("force", false, "overwrite the config file when it exists")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return actionio.ExitOK
		}
		return actionio.ExitUsage
	}
	if fl.NArg() == 0 {
		fmt.Fprintln(env.Stderr, "gen-workflows import: name the workflow files to import (e.g. .github/workflows/*.yml)")
		return actionio.ExitUsage
	}
	r, err := Import(fl.Args())
	if err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows import: %v\n", err)
		return actionio.ExitFail
	}
	config := r.Config()
	if _, err := render.ParseConfig(*out, []byte(config)); err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows import: the config it would write does not parse: %v\n%s", err, config)
		return actionio.ExitFail
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		fmt.Fprintf(env.Stderr, "gen-workflows import: %s exists; --force overwrites it\n", *out)
		return actionio.ExitFail
	}
	if err := os.WriteFile(*out, []byte(config), 0o644); err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows import: %v\n", err)
		return actionio.ExitFail
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d service(s)); then: gen-workflows render\n", *out, len(r.Services))
	for _, n := range r.Notes {
		fmt.Fprintf(env.Stdout, "%s\n", n)
	}
	for _, d := range r.Defaults() {
		fmt.Fprintf(env.Stdout, "note: %s\n", d)
	}
	return actionio.ExitOK
}
