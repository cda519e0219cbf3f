package scan

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkScanVsPeers times, on the same docker-save tarball of the realistic image (348 MB, 205 packages),
// our scan (SBOMs + vulnerabilities + secrets + SARIF) as the binary runs it, syft (SBOM only) and
// osv-scanner's offline image scan with the same all.zip files: wall time per run and peak RSS.
func BenchmarkScanVsPeers(b *testing.B) {
	syft, osvScanner := peer(b, "SCRIBE_SYFT"), peer(b, "SCRIBE_OSV_SCANNER")
	img := realImage(b)
	db := osvDir(b)
	cache := b.TempDir()
	os.Symlink(db, filepath.Join(cache, "osv-scalibr"))
	bin := filepath.Join(b.TempDir(), "scribe-actions")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/scribe-actions").CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	out := b.TempDir()
	tools := []struct {
		name string
		args []string
		env  []string
	}{
		{"scribe-scan", []string{bin, "scan", "--image", img, "--db-dir", db, "--offline=true", "--fail-on", "none",
			"--fail-on-secrets=false", "--sbom-format", "both", "--output-dir", out}, nil},
		{"syft-sbom-only", []string{syft, "docker-archive:" + img, "-q", "-o", "cyclonedx-json=" + filepath.Join(out, "syft.json")}, nil},
		{"osv-scanner-offline", []string{osvScanner, "scan", "image", "--archive", img, "--offline", "--format", "json"},
			[]string{"OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY=" + cache}},
	}
	for _, tool := range tools {
		b.Run(tool.name, func(b *testing.B) {
			var peak int64
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(tool.args[0], tool.args[1:]...)
				cmd.Env = append(os.Environ(), tool.env...)
				start := time.Now()
				outp, err := cmd.CombinedOutput()
				wall += time.Since(start)
				if err != nil && cmd.ProcessState.ExitCode() != 1 { // osv-scanner exits 1 when it finds something
					b.Fatalf("%v\n%s", err, outp)
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss*1024)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
		})
	}
}
