package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/infinite-scribe/scribe-actions/internal/actionref"
	"github.com/infinite-scribe/scribe-actions/templates"
)

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
	lockPath, lockFile := cfg.Lock, cfg.Lock
	if errors.Is(err, fs.ErrNotExist) {
		lockFile = ""
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
	if !actionref.IsRelease(pin.Version) {
		fmt.Fprintf(stderr, "gen-workflows: warning: %s is pinned to %s, which names no release (version %q): every job "+
			"that uses it will compile the binary from source (about 17 s with a warm Go cache, minutes without); pin a "+
			"released version's commit (scribe-actions.version and .sha, or the lock file)\n", cfg.ScribeActions.Repository, pin.SHA, pin.Version)
	}
	var tfs fs.FS = templates.FS
	if templatesDir != "" {
		tfs = os.DirFS(templatesDir)
	}
	r := &Renderer{Templates: tfs, Lock: lock, ScribeRepo: cfg.ScribeActions.Repository, Scribe: pin, Dir: ".github/workflows", LockFile: lockFile}
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
