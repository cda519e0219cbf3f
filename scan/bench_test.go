package scan

import (
	"archive/tar"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
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
				// a fresh layer cache every run: the figure is a first scan's (BenchmarkScanRescan has the cached one)
				cmd.Env = append(os.Environ(), append(tool.env, "SCRIBE_OSV_CACHE="+filepath.Join(b.TempDir(), "osv"))...)
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

// BenchmarkScanRescan times the scan of the realistic image with an empty layer cache, and the rescan of the
// same image with one new top layer (what a rebuild that changed only the application does) once the cache holds
// the first scan: only the new layer is read.
func BenchmarkScanRescan(b *testing.B) {
	img := realImage(b)
	db := osvDir(b)
	bin := filepath.Join(b.TempDir(), "scribe-actions")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/scribe-actions").CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	changed := withTopLayer(b, img, testenv.Layer{"app/VERSION": "2\n"})
	scan := func(b *testing.B, image, cache string) {
		cmd := exec.Command(bin, "scan", "--image", image, "--db-dir", db, "--offline=true", "--fail-on", "none",
			"--fail-on-secrets=false", "--sbom-format", "both", "--output-dir", b.TempDir())
		cmd.Env = append(os.Environ(), "SCRIBE_OSV_CACHE="+filepath.Join(cache, "osv"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		if os.Getenv("SCRIBE_BENCH_LOG") != "" {
			b.Logf("%s", out)
		}
	}
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			scan(b, img, b.TempDir())
		}
	})
	b.Run("rescan-new-top-layer", func(b *testing.B) {
		cache := b.TempDir()
		scan(b, img, cache)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			scan(b, changed, cache)
		}
	})
}

// withTopLayer writes the tarball image with one more layer as an OCI layout.
func withTopLayer(b *testing.B, tarPath string, files testenv.Layer) string {
	base, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	top, err := testenv.Image(b, "linux/amd64", files).Layers()
	if err != nil {
		b.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, top...)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "changed")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkJavaImage scans, as the binary runs it, an image of 40 application jars of 5 MiB each (random class
// data, so nothing compresses, and a pom.properties each): peak RSS, wall time, and the bytes the layer cache
// keeps for it. The layer is written to disk a jar at a time: a child's peak RSS counts this process's peak,
// whose pages it shares until it execs.
func BenchmarkJavaImage(b *testing.B) {
	tarPath := filepath.Join(b.TempDir(), "layer.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		b.Fatal(err)
	}
	tw := tar.NewWriter(f)
	junk := make([]byte, 5<<20)
	for i := range 40 {
		rand.Read(junk)
		jar := zipOf(b, map[string]string{
			"META-INF/maven/org.example/lib" + fmt.Sprint(i) + "/pom.properties": fmt.Sprintf(pomProps, "org.example", fmt.Sprintf("lib%d", i), "1.0.0"),
			"org/example/Big.class": string(junk),
		})
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/lib/lib%02d.jar", i), Mode: 0o644, Size: int64(len(jar)), Typeflag: tar.TypeReg})
		tw.Write(jar)
	}
	if err := errors.Join(tw.Close(), f.Close()); err != nil {
		b.Fatal(err)
	}
	layer, err := tarball.LayerFromFile(tarPath)
	if err != nil {
		b.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		b.Fatal(err)
	}
	image := filepath.Join(b.TempDir(), "java")
	lp, err := layout.Write(image, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "scribe-actions")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/scribe-actions").CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	var peak, cached int64
	var wall time.Duration
	for i := 0; i < b.N; i++ {
		cache := filepath.Join(b.TempDir(), "osv")
		cmd := exec.Command(bin, "scan", "--image", image, "--db-dir", b.TempDir(), "--offline=true", "--fail-on", "none",
			"--fail-on-unassessed", "none", "--output-dir", b.TempDir())
		cmd.Env = append(os.Environ(), "SCRIBE_OSV_CACHE="+cache)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		wall += time.Since(start)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss*1024)
		}
		cached = 0
		filepath.Walk(layerCacheDir(cache), func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				cached += fi.Size()
			}
			return nil
		})
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
	b.ReportMetric(float64(cached)/(1<<20), "cache-MiB")
}
