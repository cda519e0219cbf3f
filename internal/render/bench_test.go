package render

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// BenchmarkRenderAndValidate is what `gen-workflows render` costs for the default config: parse the config and
// lock file, render both services' workflows and the validation workflow, and lint them with actionlint.
func BenchmarkRenderAndValidate(b *testing.B) {
	root := filepath.Join("testdata", "render", "default")
	for i := 0; i < b.N; i++ {
		if _, err := renderRepo(root, "scribe.yaml", "", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActionlintCLI is the peer on the same files: the actionlint CLI (v1.7.12, with shellcheck when
// installed, as ours) linting the default config's two service workflows, and all three rendered files.
func BenchmarkActionlintCLI(b *testing.B) {
	bin, err := exec.LookPath("actionlint")
	testenv.Need(b, "the actionlint CLI", err)
	dir := filepath.Join("testdata", "render", "default", ".github", "workflows")
	services := []string{filepath.Join(dir, "backend-docker-build.yml"), filepath.Join(dir, "web-docker-build.yml")}
	for name, files := range map[string][]string{
		"service-workflows": services,
		"all-rendered":      append(services, filepath.Join(dir, "validate-workflows.yml")),
	} {
		b.Run(name, func(b *testing.B) {
			for _, f := range files {
				if _, err := os.Stat(f); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < b.N; i++ {
				if out, err := exec.Command(bin, append([]string{"-color=false"}, files...)...).CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
	}
}
