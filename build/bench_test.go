package build

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// BenchmarkAnalyzeWaste400MB analyses an image of about 400 MB (1,800 files of 200 kB, a layer rewriting a
// third of them, another adding more), read from a registry as the action reads it: download, gunzip, untar,
// hash.
func BenchmarkAnalyzeWaste400MB(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	chunk := func() string {
		buf := make([]byte, 200<<10)
		rng.Read(buf)
		return string(buf)
	}
	base, rewrite, extra := testenv.Layer{}, testenv.Layer{}, testenv.Layer{}
	for i := 0; i < 1200; i++ {
		name := fmt.Sprintf("app/lib/%04d.bin", i)
		base[name] = chunk()
		if i%3 == 0 {
			rewrite[name] = base[name]
		}
	}
	for i := 0; i < 600; i++ {
		extra[fmt.Sprintf("app/assets/%04d.bin", i)] = chunk()
	}
	img := testenv.Image(b, "linux/amd64", base, rewrite, extra)
	host := testenv.Registry(b, false)
	testenv.Push(b, host+"/bench/waste:1", img)
	remoteImg, err := remote.Image(mustRef(b, host+"/bench/waste:1"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var w *Waste
	for i := 0; i < b.N; i++ {
		if w, err = AnalyzeWaste(remoteImg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Layered)/1e6, "MB")
	b.ReportMetric(float64(w.Wasted)/1e6, "MB-wasted")
}

// BenchmarkBuildActionVsBuildx runs the same cached two-platform build and push, bare (docker buildx build
// --push) and through the action (which adds tags, the read-back, sizes and the waste analysis).
func BenchmarkBuildActionVsBuildx(b *testing.B) {
	docker := testenv.NeedDocker(b)
	image := testenv.Unique(b, testenv.NeedRegistry(b))
	dir := b.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		data, _ := os.ReadFile(testenv.NeedRootfs(b, arch))
		os.WriteFile(dir+"/rootfs-"+arch+".tar", data, 0o644)
	}
	os.WriteFile(dir+"/Dockerfile", []byte("FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nRUN uname -m > /built-on\n"), 0o644)
	bare := []string{"buildx", "build", "--builder", docker.Builder, "--platform", "linux/amd64,linux/arm64", "--provenance=mode=min",
		"--push", "--tag", image + ":bare", "--metadata-file", dir + "/md.json", dir}
	if out, err := exec.Command("docker", bare...).CombinedOutput(); err != nil { // warm the cache
		b.Fatalf("%v\n%s", err, out)
	}
	b.Run("buildx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, err := exec.Command("docker", bare...).CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
	b.Run("action", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := runAction(b, map[string]string{"images": image, "platforms": "linux/amd64,linux/arm64", "push": "true",
				"builder": docker.Builder, "context": dir, "provenance": "mode=min"})
			if r.code != 0 {
				b.Fatalf("exit %d\n%s", r.code, r.log)
			}
		}
	})
}
