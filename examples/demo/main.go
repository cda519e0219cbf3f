// Command demo runs the whole suite on the example repository (examples/), as `make demo` does: render and
// check its workflows, build both services for two platforms with a smoke test, scan them offline, sign and
// attest with a key made for the demo, verify, build a newer backend, clean up (a dry run, then for real,
// keeping the newest image) and verify that the kept image still pulls and verifies. Each action runs as the
// binary on a runner would (INPUT_ variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY); each step's summary is
// printed, and all of them are written to one markdown report.
package main

import (
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/scan"
)

const password = "demo password: generated for this run"

type demo struct {
	root, work, bin, registry string
	key, pub                  string
	results                   []result
	report                    strings.Builder
}

type result struct {
	step     string
	ok       bool
	duration time.Duration
	note     string
}

func main() {
	d, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	os.Exit(d.run())
}

func setup() (*demo, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "scribe.yaml")); err != nil {
		return nil, errors.New("run it from the repository root (make demo)")
	}
	d := &demo{root: root, work: filepath.Join(root, ".scribe", "demo"), bin: filepath.Join(root, "bin"), registry: os.Getenv("SCRIBE_REGISTRY")}
	if d.registry == "" || os.Getenv("SCRIBE_ROOTFS_DIR") == "" {
		return nil, errors.New(`SCRIBE_REGISTRY and SCRIBE_ROOTFS_DIR are not set: eval "$(scripts/dev-env.sh up)" first (make demo does)`)
	}
	os.RemoveAll(d.work)
	return d, os.MkdirAll(d.work, 0o755)
}

func (d *demo) run() int {
	image := d.registry + "/demo/shop"
	r := &release{backend: image, web: image + "-web", id: fmt.Sprintf("%d", time.Now().Unix())}
	d.step("render and check the example's workflows", d.renderWorkflows)
	d.step("base images in the local registry (scripts/dev-env.sh pushes them)", d.baseImages)
	d.buildAndScan(r)
	d.signAndVerify(r)
	d.replaceAndCleanUp(r)
	return d.finish()
}

// release is what the steps hand on to later ones: the image names, this run's tag prefix (the registry keeps
// earlier demos' images), the outputs of each build and scan (nil when its step could not run), and the OSV
// database.
type release struct {
	backend, web, id             string
	backend1, backend2, webImage map[string]string
	backendScan, webScan         map[string]string
	db                           string
	dbErr                        error
}

// buildAndScan builds the backend and the web service for two platforms, then scans both offline.
func (d *demo) buildAndScan(r *release) {
	d.step("build backend "+r.id+"-1 (amd64 + arm64, smoke test)", func() (s string, err error) {
		r.backend1, s, err = d.build(r.backend, "backend", r.id+"-1", map[string]string{"smoke-url": "http://localhost:8000/health", "build-args": "VERSION=" + r.id + "-1"})
		return s, err
	})
	d.step("build web "+r.id+"-1 (amd64 + arm64, smoke test)", func() (s string, err error) {
		r.webImage, s, err = d.build(r.web, "web", r.id+"-1", map[string]string{"smoke-url": "http://localhost:8080/", "build-args": "VERSION=" + r.id})
		return s, err
	})
	r.db, r.dbErr = d.osvDatabase()
	d.step("scan backend (offline, OSV records from examples/osv)", func() (s string, err error) {
		r.backendScan, s, err = d.scanImage(r, "backend", r.backend1)
		return s, err
	})
	d.step("scan web", func() (s string, err error) {
		r.webScan, s, err = d.scanImage(r, "web", r.webImage)
		return s, err
	})
}

// signAndVerify makes a signing key, signs both images with attestations of their SBOM and provenance, and
// verifies them.
func (d *demo) signAndVerify(r *release) {
	d.step("make a signing key for the demo (cosign's encrypted format)", d.makeKey)
	d.step("sign backend + attest its SBOM and provenance", func() (string, error) { return d.sign(r.backend1, r.backendScan) })
	d.step("sign web + attest its SBOM and provenance", func() (string, error) { return d.sign(r.webImage, r.webScan) })
	d.step("verify backend (index and both platforms)", func() (string, error) { return d.verify(r.backend1) })
	d.step("verify web", func() (string, error) { return d.verify(r.webImage) })
}

// replaceAndCleanUp builds and signs a newer backend, cleans up keeping only it (a dry run first), and checks
// what the cleanup left.
func (d *demo) replaceAndCleanUp(r *release) {
	d.step("build backend "+r.id+"-2, a newer release", func() (s string, err error) {
		r.backend2, s, err = d.build(r.backend, "backend", r.id+"-2", map[string]string{"smoke-url": "http://localhost:8000/health", "build-args": "VERSION=" + r.id + "-2"})
		return s, err
	})
	d.step("sign backend "+r.id+"-2", func() (string, error) { return d.sign(r.backend2, nil) })
	d.step("cleanup dry run: keep the newest backend", func() (string, error) { return d.cleanup(true) })
	d.step("cleanup: keep the newest backend", func() (string, error) { return d.cleanup(false) })
	d.step("the kept backend still pulls and verifies; the old one is gone", func() (string, error) {
		return d.checkCleanup(r.backend1, r.backend2)
	})
}

// renderWorkflows renders the example's workflows from its scribe.yaml and checks them.
func (d *demo) renderWorkflows() (string, error) {
	out, err := d.cmd(filepath.Join(d.bin, "gen-workflows"), "render", "--root", "examples")
	if err != nil {
		return out, err
	}
	check, err := d.cmd(filepath.Join(d.bin, "gen-workflows"), "check", "--root", "examples")
	return "```\n" + out + check + "```\n", err
}

// build runs the build action for both platforms with a smoke test; args add to or replace its inputs.
func (d *demo) build(img, svc, tag string, args map[string]string) (map[string]string, string, error) {
	in := map[string]string{"images": img, "tags": "type=raw,value=" + tag, "context": "examples/" + svc,
		"file": "examples/" + svc + "/Dockerfile", "platforms": "linux/amd64,linux/arm64", "push": "true",
		"smoke-test": "true", "provenance": "false", "max-size": "50MB", "builder": os.Getenv("SCRIBE_BUILDER")}
	for k, v := range args {
		in[k] = v
	}
	return d.action("build", in)
}

// scanImage runs the scan action offline on the image a build made, against the release's OSV database.
func (d *demo) scanImage(r *release, svc string, out map[string]string) (map[string]string, string, error) {
	if err := needs(out); err != nil {
		return nil, "", err
	}
	if r.dbErr != nil {
		return nil, "", r.dbErr
	}
	return d.action("scan", map[string]string{"image": out["image"], "dockerfile": "examples/" + svc + "/Dockerfile",
		"db-dir": r.db, "offline": "true", "fail-on": "critical", "sbom-format": "both", "output-dir": filepath.Join(d.work, "scan-"+svc)})
}

// makeKey makes the demo's key pair; the private key stays in memory, the public one is written for the reader.
func (d *demo) makeKey() (string, error) {
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte(password), nil })
	d.key, d.pub = string(priv), string(pub)
	os.WriteFile(filepath.Join(d.work, "cosign.pub"), pub, 0o644)
	return "Public key: `.scribe/demo/cosign.pub` (the private key stays in memory).\n", err
}

// sign signs the image a build made and attests its provenance and, given a scan's outputs, its SBOM.
func (d *demo) sign(out, scanOut map[string]string) (string, error) {
	if err := needs(out); err != nil {
		return "", err
	}
	// The demo's registry is on this machine: nothing of it goes to the public transparency log.
	in := map[string]string{"image": out["image"], "key": d.key, "key-password": password, "attest-provenance": "true", "tlog-upload": "false"}
	if scanOut != nil {
		in["attest-sbom"] = strings.Split(scanOut["sbom"], "\n")[0]
	}
	_, s, err := d.action("sign", in)
	return s, err
}

// verify checks the signatures of the image a build made against the demo's public key.
func (d *demo) verify(out map[string]string) (string, error) {
	if err := needs(out); err != nil {
		return "", err
	}
	_, s, err := d.action("sign", map[string]string{"image": out["image"], "verify": "true", "public-key": d.pub, "insecure-ignore-tlog": "true"})
	return s, err
}

// cleanup runs the cleanup action on the backend, keeping the newest tagged image.
func (d *demo) cleanup(dry bool) (string, error) {
	_, s, err := d.action("cleanup", map[string]string{"packages": "demo/shop", "registry": d.registry, "packages-api": "oci",
		"keep-n-tagged": "1", "delete-orphans": "true", "dry-run": fmt.Sprint(dry), "validate": "true"})
	return s, err
}

// checkCleanup verifies the kept image, pulls all of its layers, and checks that the old image is gone.
func (d *demo) checkCleanup(old, kept map[string]string) (string, error) {
	if err := needs(old, kept); err != nil {
		return "", err
	}
	s, err := d.verify(kept)
	if err != nil {
		return s, err
	}
	ref, _ := name.NewDigest(kept["image"])
	img, err := remote.Image(ref)
	if err != nil {
		return s, fmt.Errorf("pulling %s: %w", ref, err)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return s, err
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	gone, _ := name.NewDigest(old["image"])
	if _, err := remote.Head(gone); err == nil {
		return s, fmt.Errorf("%s is still there", gone)
	}
	return s + fmt.Sprintf("\nPulled `%s` (%d layers). `%s` is gone.\n", ref.DigestStr(), len(layers), gone.DigestStr()), nil
}

// errSkipped marks a step that could not run because an earlier one failed.
var errSkipped = errors.New("skipped: an earlier step it needs failed")

// needs says whether the steps that produce these outputs succeeded.
func needs(outputs ...map[string]string) error {
	for _, o := range outputs {
		if o == nil {
			return errSkipped
		}
	}
	return nil
}

// step runs one step, prints its summary as text, and records its result and duration.
func (d *demo) step(title string, fn func() (string, error)) {
	fmt.Printf("\n\033[1m== %s\033[0m\n", title)
	start := time.Now()
	summary, err := fn()
	r := result{step: title, ok: err == nil, duration: time.Since(start)}
	if summary != "" {
		fmt.Println(actionio.RenderText(summary))
	}
	fmt.Fprintf(&d.report, "## %s\n\n%s\n", title, summary)
	if err != nil {
		r.note = firstLine(err.Error())
		fmt.Printf("FAILED: %v\n", err)
		fmt.Fprintf(&d.report, "**Failed:** %s\n\n", err)
	}
	d.results = append(d.results, r)
}

func (d *demo) finish() int {
	var table strings.Builder
	table.WriteString("| step | result | duration |\n| --- | --- | ---: |\n")
	failed := 0
	var total time.Duration
	for _, r := range d.results {
		res := "ok"
		if !r.ok {
			res, failed = "FAILED: "+r.note, failed+1
		}
		total += r.duration
		fmt.Fprintf(&table, "| %s | %s | %.1f s |\n", r.step, res, r.duration.Seconds())
	}
	fmt.Fprintf(&table, "| **all** | %d of %d ok | %.1f s |\n", len(d.results)-failed, len(d.results), total.Seconds())
	fmt.Printf("\n\033[1m== demo: %d steps\033[0m\n%s\n", len(d.results), actionio.RenderText(table.String()))
	report := "# scribe-actions demo\n\n" + table.String() + "\n" + d.report.String()
	path := filepath.Join(d.work, "report.md")
	if err := os.WriteFile(path, []byte(report), 0o644); err == nil {
		fmt.Printf("Every step's summary: %s\n", strings.TrimPrefix(path, d.root+"/"))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// action runs bin/scribe-actions as a runner runs an action: inputs as INPUT_ variables, outputs and the
// summary through the files the runner reads. The log is kept in the work directory.
// A failed action gives no outputs (nil), so the steps that need them are skipped, not run on empty values.
func (d *demo) action(name string, inputs map[string]string) (map[string]string, string, error) {
	dir, err := os.MkdirTemp(d.work, name+"-")
	if err != nil {
		return nil, "", err
	}
	env := append(os.Environ(), "GITHUB_ACTIONS=true", "GITHUB_OUTPUT="+filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary"), "RUNNER_TEMP="+dir, "GITHUB_REPOSITORY=demo/shop",
		"GITHUB_SHA=0000000000000000000000000000000000000000", "GITHUB_REF=refs/heads/main", "GITHUB_EVENT_NAME=push",
		"GITHUB_WORKFLOW_REF=demo/shop/.github/workflows/backend-docker-build.yml@refs/heads/main", "GITHUB_RUN_ID=1", "GITHUB_RUN_ATTEMPT=1")
	for k, v := range inputs {
		env = append(env, actionio.EnvName(k)+"="+v)
	}
	cmd := exec.Command(filepath.Join(d.bin, "scribe-actions"), name)
	cmd.Dir, cmd.Env = d.root, env
	log, _ := os.Create(filepath.Join(dir, "log"))
	defer log.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = log, io.MultiWriter(log, &stderr)
	runErr := cmd.Run()
	summary, _ := os.ReadFile(filepath.Join(dir, "summary"))
	written, _ := os.ReadFile(filepath.Join(dir, "output")) // none when the action failed before its outputs
	outputs, parseErr := actionio.ParseOutputFile(string(written))
	if outputs == nil {
		outputs = map[string]string{}
	}
	if runErr != nil {
		why := errorLines(filepath.Join(dir, "log"))
		return nil, string(summary), fmt.Errorf("%s: %v: %s (log: %s)", name, runErr, why, strings.TrimPrefix(filepath.Join(dir, "log"), d.root+"/"))
	}
	if parseErr != nil {
		return nil, string(summary), fmt.Errorf("%s: %s: %w", name, strings.TrimPrefix(filepath.Join(dir, "output"), d.root+"/"), parseErr)
	}
	return outputs, string(summary), nil
}

func errorLines(log string) string {
	raw, _ := os.ReadFile(log)
	var errs []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "::error") {
			_, msg, _ := strings.Cut(strings.TrimPrefix(l, "::error"), "::")
			msg, _, _ = strings.Cut(msg, "%0A") // the first line of a multi-line error
			errs = append(errs, msg)
		}
	}
	return strings.Join(errs, "; ")
}

func (d *demo) cmd(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = d.root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// baseImages checks that the registry serves the base images the example's Dockerfiles build FROM.
func (d *demo) baseImages() (string, error) {
	var b strings.Builder
	for _, ref := range []string{"base/busybox:1", "base/golang:1.26"} {
		r, err := name.ParseReference(d.registry + "/" + ref)
		if err != nil {
			return "", err
		}
		desc, err := remote.Head(r)
		if err != nil {
			return b.String(), fmt.Errorf("%s: %w (scripts/dev-env.sh up pushes it)", r, err)
		}
		fmt.Fprintf(&b, "- `%s` `%s`\n", r, desc.Digest)
	}
	return b.String(), nil
}

// osvDatabase packs the OSV records of examples/osv into the bucket's layout for offline use.
func (d *demo) osvDatabase() (string, error) {
	dir := filepath.Join(d.work, "osv")
	return dir, scan.PackRecords(filepath.Join(d.root, "examples", "osv"), dir)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
