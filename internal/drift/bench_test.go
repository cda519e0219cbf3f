package drift

import (
	"io"
	"os/exec"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// BenchmarkDriftOfflineCorpus is `gen-workflows drift --offline` over the real workflows of the corpus
// (about 140 files): find every reference, check what can be checked offline, report.
func BenchmarkDriftOfflineCorpus(b *testing.B) {
	dir, _ := corpusFiles(b)
	cache := b.TempDir()
	for i := 0; i < b.N; i++ {
		if code := Command([]string{"--offline", "--cache-dir", cache, "--fail-on", "none", dir},
			actionio.Env{Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: io.Discard}); code != actionio.ExitOK {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkActionlintCLICorpus is the peer: the actionlint CLI on the same files (shellcheck off, as drift
// does not read scripts).
func BenchmarkActionlintCLICorpus(b *testing.B) {
	bin, err := exec.LookPath("actionlint")
	testenv.Need(b, "the actionlint CLI", err)
	_, files := corpusFiles(b)
	for i := 0; i < b.N; i++ {
		// actionlint exits 1 when it finds problems in these real files; only a failure to run matters here.
		if err := exec.Command(bin, append([]string{"-shellcheck=", "-pyflakes=", "-no-color"}, files...)...).Run(); err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				b.Fatal(err)
			}
		}
	}
}
