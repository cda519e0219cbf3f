// Command gen-workflows renders the path-filtered service workflows from scribe.yaml and audits workflows for
// action version drift: gen-workflows render|check|drift|pin.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	const usage = "Usage: gen-workflows render|check|drift|pin [flags]\n"
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "render", "check", "drift", "pin":
		fmt.Fprintf(stderr, "gen-workflows %s: not implemented yet\n", args[0])
		return 1
	}
	fmt.Fprintf(stderr, "gen-workflows: unknown command %q\n%s", args[0], usage)
	return 2
}
