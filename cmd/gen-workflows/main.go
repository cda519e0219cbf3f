// Command gen-workflows renders the path-filtered service workflows from scribe.yaml, pinned and validated,
// audits workflows for action version drift, and imports hand-written ones: gen-workflows
// render|check|drift|pin|import. The work is done by internal/render (render, check), internal/drift (drift,
// pin) and internal/migrate (import); this main only dispatches.
package main

import (
	"fmt"
	"os"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/drift"
	"github.com/infinite-scribe/scribe-actions/internal/migrate"
	"github.com/infinite-scribe/scribe-actions/internal/render"
)

const usage = `Usage: gen-workflows <command> [flags]

Commands:
  render   write one workflow per service of scribe.yaml (and validate-workflows.yml) into .github/workflows
  check    render in memory and fail with a diff when the committed workflows differ
  drift    audit workflows and composite actions for action version drift
  pin      pin every action to a full commit SHA with its version comment, and update the lock file
  import   write scribe.yaml from hand-written workflows (build-push-action, metadata-action, trivy-action,
           cosign, delete-package-versions), saying at file:line what it could not carry over

Run 'gen-workflows <command> -h' for its flags.
`

func main() {
	os.Exit(Main(os.Args[1:], actionio.Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr}))
}

// Main runs the command args[0] with the rest as its flags and returns the process exit code:
// actionio.ExitOK; actionio.ExitFail for a bad config, invalid output, a check that found differences or an
// audit with a finding at --fail-on; actionio.ExitUsage for an unknown command or flag.
func Main(args []string, env actionio.Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, usage)
		return actionio.ExitOK
	}
	switch args[0] {
	case "render", "check":
		return render.Command(args[0], args[1:], env)
	case "drift":
		return drift.Command(args[1:], env)
	case "pin":
		return drift.PinCommand(args[1:], env)
	case "import":
		return migrate.Command(args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "gen-workflows: unknown command %q\n%s", args[0], usage)
	return actionio.ExitUsage
}
