package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// Builder is a throwaway BuildKit daemon of the test's own, with an empty build cache, and the buildx
// builder (driver remote) that drives it. Where a test must show that something came from a remote cache,
// the machine's shared builder will not do: it may hold the result from an earlier build.
type Builder struct {
	// Name is the buildx builder's name, for --builder.
	Name string
	// Log is the path of buildkitd's log.
	Log string
}

// NewBuilder starts buildkitd as scripts/dev-env.sh starts the machine's one (the OCI worker, the local
// registry as plain HTTP), on its own root and socket under a temporary directory, creates a buildx builder
// for it, and removes both when the test ends. buildkitd runs on the host network, so servers the test
// starts on 127.0.0.1 are reachable from builds.
func NewBuilder(t testing.TB) Builder {
	t.Helper()
	bin, err := exec.LookPath("buildkitd")
	Need(t, "buildkitd on PATH (scripts/dev-env.sh env puts it there)", err)
	_, err = exec.Command("docker", "buildx", "version").CombinedOutput()
	Need(t, "docker buildx", err)
	// A socket path must fit in 108 bytes: t.TempDir's can be long for a long test name.
	dir, err := os.MkdirTemp("", "bk")
	if err != nil {
		t.Fatal(err)
	}
	b := Builder{Name: fmt.Sprintf("scribe-throwaway-%d", time.Now().UnixNano()), Log: filepath.Join(dir, "buildkitd.log")}
	t.Cleanup(func() { os.RemoveAll(dir) }) // runs last: after the daemon is stopped
	daemon := startBuildkitd(t, bin, dir, b.Log)
	t.Cleanup(func() { stopDaemon(t, daemon) })
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	if out, err := exec.Command("docker", "buildx", "create", "--name", b.Name, "--driver", "remote", addr).CombinedOutput(); err != nil {
		t.Fatalf("docker buildx create: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "buildx", "rm", b.Name).Run() })
	if out, err := waitForBuilder(b.Name); err != nil {
		log, _ := os.ReadFile(b.Log)
		t.Fatalf("builder %s did not come up: %v\n%s\nbuildkitd log:\n%s", b.Name, err, out, log)
	}
	return b
}

func startBuildkitd(t testing.TB, bin, dir, logPath string) *exec.Cmd {
	t.Helper()
	config := ""
	if reg := os.Getenv("SCRIBE_REGISTRY"); reg != "" {
		config = fmt.Sprintf("[registry.%q]\n  http = true\n  insecure = true\n", reg)
	}
	if err := os.WriteFile(filepath.Join(dir, "buildkitd.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "--config", filepath.Join(dir, "buildkitd.toml"), "--root", filepath.Join(dir, "root"),
		"--addr", "unix://"+filepath.Join(dir, "buildkitd.sock"), "--oci-worker=true", "--containerd-worker=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start buildkitd: %v", err)
	}
	return cmd
}

var running = regexp.MustCompile(`(?m)^Status:\s+running$`)

// waitForBuilder bootstraps the builder until its daemon answers, for up to 60 s.
func waitForBuilder(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		out, err := exec.CommandContext(ctx, "docker", "buildx", "inspect", "--bootstrap", name).CombinedOutput()
		if err == nil && running.Match(out) {
			return string(out), nil
		}
		select {
		case <-ctx.Done():
			return string(out), fmt.Errorf("%v (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopDaemon asks the daemon to stop and kills it after 15 s, so its root can be removed.
func stopDaemon(t testing.TB, cmd *exec.Cmd) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Logf("buildkitd %d did not stop in 15 s: killing it", cmd.Process.Pid)
		cmd.Process.Kill()
		<-done
	}
}
