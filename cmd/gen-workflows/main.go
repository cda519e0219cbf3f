// Command gen-workflows renders the path-filtered service workflows from scribe.yaml, pinned and validated,
// and audits workflows for action version drift: gen-workflows render|check|drift|pin.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/templates"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // bad config, invalid output, or check found differences
	exitUsage = 2
)

const usage = `Usage: gen-workflows <command> [flags]

Commands:
  render   write one workflow per service of scribe.yaml (and validate-workflows.yml) into .github/workflows
  check    render in memory and fail with a diff when the committed workflows differ
  drift    audit workflows and composite actions for action version drift
  pin      pin every action to a full commit SHA with its version comment, and update the lock file

Run 'gen-workflows <command> -h' for its flags.
`

func main() { os.Exit(runEnv(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int { return runEnv(args, os.Getenv, stdout, stderr) }

func runEnv(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	switch args[0] {
	case "render", "check":
		return renderCommand(args[0], args[1:], stdout, stderr)
	case "drift":
		return driftCommand(args[1:], getenv, stdout, stderr)
	case "pin":
		return pinCommand(args[1:], getenv, stdout, stderr)
	}
	fmt.Fprintf(stderr, "gen-workflows: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func renderCommand(verb string, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet(verb, flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", ".", "repository root: where .github/workflows is and config paths are relative to")
	config := fl.String("config", "scribe.yaml", "config file, relative to the root (the embedded default when the file does not exist)")
	tmpl := fl.String("templates", "", "directory of your own templates (service.yml.tmpl, validate.yml.tmpl); default: the embedded ones")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	files, err := renderRepo(*root, *config, *tmpl, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gen-workflows %s: %v\n", verb, err)
		return exitFail
	}
	if verb == "check" {
		return check(*root, files, stdout, stderr)
	}
	for _, f := range files {
		dest := filepath.Join(*root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			fmt.Fprintf(stderr, "gen-workflows render: %v\n", err)
			return exitFail
		}
		if err := os.WriteFile(dest, f.Content, 0o644); err != nil {
			fmt.Fprintf(stderr, "gen-workflows render: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "wrote %s\n", f.Path)
	}
	return exitOK
}

// renderRepo loads the config, lock file and templates of a repository, renders its workflows and validates
// them; any finding is an error listing them all.
func renderRepo(root, configPath, templatesDir string, stderr io.Writer) ([]File, error) {
	data, err := os.ReadFile(filepath.Join(root, configPath))
	if errors.Is(err, fs.ErrNotExist) && configPath == "scribe.yaml" {
		fmt.Fprintf(stderr, "gen-workflows: no %s in %s: using the embedded default\n", configPath, root)
		data, err = fs.ReadFile(templates.FS, "scribe.yaml")
	}
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(configPath, data)
	if err != nil {
		return nil, err
	}
	lockData, err := os.ReadFile(filepath.Join(root, cfg.Lock))
	lockPath := cfg.Lock
	if errors.Is(err, fs.ErrNotExist) {
		lockPath = "embedded default lock file (templates/actions.lock.yaml)"
		lockData, err = fs.ReadFile(templates.FS, "actions.lock.yaml")
	}
	if err != nil {
		return nil, err
	}
	lock, err := actionref.ReadLock(lockPath, lockData)
	if err != nil {
		return nil, err
	}
	pin, err := scribePin(cfg, lock)
	if err != nil {
		return nil, err
	}
	var tfs fs.FS = templates.FS
	if templatesDir != "" {
		tfs = os.DirFS(templatesDir)
	}
	r := &Renderer{Templates: tfs, Lock: lock, ScribeRepo: cfg.ScribeActions.Repository, Scribe: pin, Dir: ".github/workflows"}
	files, err := r.Render(cfg)
	if err != nil {
		return nil, err
	}
	findings, err := Validate(files)
	if err != nil {
		return nil, err
	}
	if len(findings) > 0 {
		msg := fmt.Sprintf("the rendered workflows are not valid (%d findings):", len(findings))
		for _, f := range findings {
			msg += "\n  " + f.String()
		}
		return nil, errors.New(msg)
	}
	return files, nil
}
