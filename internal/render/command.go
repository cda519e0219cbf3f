package render

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// Command is `gen-workflows render|check [flags]`: verb "render" writes the workflows of a repository's
// config into its .github/workflows; verb "check" renders them in memory and fails with a diff when the
// committed files differ. It returns the process exit code.
func Command(verb string, args []string, env actionio.Env) int {
	fl := flag.NewFlagSet(verb, flag.ContinueOnError)
	fl.SetOutput(env.Stderr)
	root := fl.String("root", ".", "repository root: where .github/workflows is and config paths are relative to")
	config := fl.String("config", "scribe.yaml", "config file, relative to the root (the embedded default when the file does not exist)")
	tmpl := fl.String("templates", "", "directory of your own templates (service.yml.tmpl, validate.yml.tmpl); default: the embedded ones")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return actionio.ExitOK
		}
		return actionio.ExitUsage
	}
	files, err := renderRepo(*root, *config, *tmpl, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gen-workflows %s: %v\n", verb, err)
		return actionio.ExitFail
	}
	if verb == "check" {
		return check(*root, files, env.Stdout, env.Stderr)
	}
	for _, f := range files {
		dest := filepath.Join(*root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			fmt.Fprintf(env.Stderr, "gen-workflows render: %v\n", err)
			return actionio.ExitFail
		}
		if err := os.WriteFile(dest, f.Content, 0o644); err != nil {
			fmt.Fprintf(env.Stderr, "gen-workflows render: %v\n", err)
			return actionio.ExitFail
		}
		fmt.Fprintf(env.Stdout, "wrote %s\n", f.Path)
	}
	return actionio.ExitOK
}
