// Package testenv gives tests the real parts they drive: the Docker engine, buildx and the registry that
// scripts/dev-env.sh starts, in-process registries (a plain one and a GHCR-like one), and small real images.
//
// The e2e rule: a test that needs a part that is missing FAILS when SCRIBE_E2E=1 (CI sets it) and may only
// skip on a developer's machine without it.
package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// E2E reports whether the real environment is required (SCRIBE_E2E=1).
func E2E() bool { return os.Getenv("SCRIBE_E2E") == "1" }

// Need fails the test when a part it needs is missing and SCRIBE_E2E=1, and skips it otherwise.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if E2E() {
		t.Fatalf("SCRIBE_E2E=1 but %s is missing: %v (start it with: eval \"$(scripts/dev-env.sh up)\")", what, err)
	}
	t.Skipf("%s is missing (%v); set SCRIBE_E2E=1 to make this a failure", what, err)
}

// Docker is the Docker engine and buildx builder the tests use.
type Docker struct {
	// Builder is the buildx builder that builds for linux/amd64 and linux/arm64 (SCRIBE_BUILDER).
	Builder string
}

// NeedDocker returns the Docker engine with buildx and the multi-platform builder, or fails/skips.
func NeedDocker(t testing.TB) Docker {
	t.Helper()
	d := Docker{Builder: os.Getenv("SCRIBE_BUILDER")}
	if d.Builder == "" {
		Need(t, "the multi-platform buildx builder", fmt.Errorf("SCRIBE_BUILDER is not set"))
	}
	_, err := d.Run(context.Background(), "", "info", "--format", "{{.ServerVersion}}")
	Need(t, "the Docker engine", err)
	out, err := d.Run(context.Background(), "", "buildx", "inspect", "--bootstrap", d.Builder)
	Need(t, "buildx and builder "+d.Builder, err)
	if !strings.Contains(out, "linux/arm64") {
		Need(t, "linux/arm64 support in builder "+d.Builder, fmt.Errorf("its platforms: %s", out))
	}
	return d
}

// Run runs the docker CLI with args (no shell) in dir and returns its combined output.
func (d Docker) Run(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// NeedRegistry returns the address (host:port) of the real distribution registry (SCRIBE_REGISTRY), or
// fails/skips when it does not answer.
func NeedRegistry(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("SCRIBE_REGISTRY")
	if addr == "" {
		Need(t, "the registry", fmt.Errorf("SCRIBE_REGISTRY is not set"))
	}
	resp, err := http.Get("http://" + addr + "/v2/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET /v2/ answered %s", resp.Status)
		}
	}
	Need(t, "the registry at "+addr, err)
	return addr
}

// NeedRootfs returns the path of a busybox root filesystem tarball for a Linux architecture (amd64, arm64),
// for FROM scratch + ADD base images: the engine has no images and cannot pull any.
func NeedRootfs(t testing.TB, arch string) string {
	t.Helper()
	path := filepath.Join(os.Getenv("SCRIBE_ROOTFS_DIR"), "rootfs-"+arch+".tar")
	_, err := os.Stat(path)
	if os.Getenv("SCRIBE_ROOTFS_DIR") == "" {
		err = fmt.Errorf("SCRIBE_ROOTFS_DIR is not set")
	}
	Need(t, "the busybox rootfs for "+arch, err)
	return path
}

// Unique returns a repository name no other test run uses, so tests against the shared registry do not
// see each other's images.
func Unique(t testing.TB, prefix string) string {
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("%s/%s-%d", prefix, name, time.Now().UnixNano())
}
