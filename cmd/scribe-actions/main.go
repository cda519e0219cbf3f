// Command scribe-actions is the one binary the four actions run: scribe-actions build|scan|sign|cleanup.
// From a terminal every input is a flag, outputs print as name=value and the step summary as text.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/infinite-scribe/scribe-actions/build"
	"github.com/infinite-scribe/scribe-actions/cleanup"
	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/scan"
	"github.com/infinite-scribe/scribe-actions/sign"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// actions lists what the binary dispatches to.
func actions() []actionio.Action {
	return []actionio.Action{build.Action(), scan.Action(), sign.Action(), cleanup.Action()}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := actionio.Main(ctx, "scribe-actions", version, actions(), os.Args[1:],
		actionio.Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
