package build

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// builderInfo is the buildx builder a build ran on, and how its platforms are provided.
type builderInfo struct {
	Name      string
	Driver    string
	Platforms []string
	Created   bool
	// Emulated lists the platforms built under QEMU (binfmt_misc), Native the others.
	Emulated, Native []string
}

func inspectBuilder(ctx context.Context, d docker, name string) (builderInfo, error) {
	args := []string{"buildx", "inspect", "--bootstrap"}
	if name != "" {
		args = append(args, name)
	}
	out, err := d.output(ctx, args...)
	if err != nil {
		return builderInfo{}, err
	}
	b := builderInfo{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "Name":
			if b.Name == "" {
				b.Name = v
			}
		case "Driver":
			b.Driver = v
		case "Platforms":
			for _, p := range strings.Split(v, ",") {
				b.Platforms = append(b.Platforms, strings.TrimSuffix(strings.TrimSpace(p), "*"))
			}
		}
	}
	return b, nil
}

// normalize writes a platform as buildx lists it: linux/arm64 for linux/arm64/v8.
func normalize(p string) string { return strings.TrimSuffix(p, "/v8") }

// prepareBuilder uses the named builder, or the current one when it can build the platforms, or creates a
// docker-container builder; it makes sure each foreign platform has an emulator, installing QEMU on a GitHub
// runner, and says which builder and which emulation it used.
func prepareBuilder(ctx context.Context, s *actionio.Step, d docker, in *Inputs) (builderInfo, error) {
	b, err := inspectBuilder(ctx, d, in.Builder)
	if err != nil {
		if in.Builder != "" {
			return b, fmt.Errorf("builder %q: %w (docker buildx ls lists the builders)", in.Builder, err)
		}
		return b, fmt.Errorf("docker buildx does not answer: %w", err)
	}
	if in.Builder == "" && len(in.Platforms) > 1 && b.Driver == "docker" {
		name := "scribe-builder"
		s.Infof("the %s builder of the docker driver cannot build %d platforms at once: creating %s (docker-container)", b.Name, len(in.Platforms), name)
		if _, err := d.output(ctx, "buildx", "create", "--name", name, "--driver", "docker-container", "--bootstrap"); err != nil {
			return b, fmt.Errorf("creating a docker-container builder for %s: %w", strings.Join(in.Platforms, ","), err)
		}
		if b, err = inspectBuilder(ctx, d, name); err != nil {
			return b, err
		}
		b.Created = true
	}
	host := hostPlatform()
	for _, p := range in.Platforms {
		np := normalize(p)
		if np == host || strings.HasPrefix(np, host+"/") {
			b.Native = append(b.Native, p)
			continue
		}
		if !slices.ContainsFunc(b.Platforms, func(bp string) bool { return normalize(bp) == np }) {
			if err := installEmulator(ctx, s, d, np); err != nil {
				return b, err
			}
		}
		b.Emulated = append(b.Emulated, p)
	}
	return b, nil
}

// qemuArch is binfmt_misc's name for an architecture.
var qemuArch = map[string]string{"arm64": "aarch64", "arm": "arm", "amd64": "x86_64", "386": "i386", "ppc64le": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el", "loong64": "loongarch64"}

func installEmulator(ctx context.Context, s *actionio.Step, d docker, platform string) error {
	arch := strings.Split(platform, "/")[1]
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-" + qemuArch[arch]); err == nil {
		return nil // registered; the builder lists it once restarted
	}
	if !s.OnRunner() {
		return fmt.Errorf("platform %s needs QEMU and binfmt_misc has no handler for %s: install qemu-user-static and binfmt-support (scripts/dev-env.sh up does)", platform, qemuArch[arch])
	}
	s.Infof("installing QEMU for %s (tonistiigi/binfmt)", platform)
	if _, err := d.output(ctx, "run", "--privileged", "--rm", "tonistiigi/binfmt", "--install", arch); err != nil {
		return fmt.Errorf("installing QEMU for %s: %w", platform, err)
	}
	return nil
}
