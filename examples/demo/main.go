// Command demo runs the whole suite on the example repository (examples/), as `make demo` does: render and
// check its workflows, build both services for two platforms with a smoke test, scan them offline, sign and
// attest with a key made for the demo, verify, build a newer backend, clean up (a dry run, then for real,
// keeping the newest image) and verify that the kept image still pulls and verifies. Each action runs as the
// binary on a runner would (INPUT_ variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY); each step's summary is
// printed, and all of them are written to one markdown report.
package main

import (
	"bufio"
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
	web := image + "-web"
	run := fmt.Sprintf("%d", time.Now().Unix()) // tags of this run: the registry keeps earlier demos' images
	var backend1, backend2, webImage map[string]string

	d.step("render and check the example's workflows", func() (string, error) {
		out, err := d.cmd(filepath.Join(d.bin, "gen-workflows"), "render", "--root", "examples")
		if err != nil {
			return out, err
		}
		check, err := d.cmd(filepath.Join(d.bin, "gen-workflows"), "check", "--root", "examples")
		return "```\n" + out + check + "```\n", err
	})
	d.step("base images in the local registry (scripts/dev-env.sh pushes them)", func() (string, error) {
		return d.baseImages()
	})
	build := func(img, svc, tag string, args map[string]string) (map[string]string, string, error) {
		in := map[string]string{"images": img, "tags": "type=raw,value=" + tag, "context": "examples/" + svc,
			"file": "examples/" + svc + "/Dockerfile", "platforms": "linux/amd64,linux/arm64", "push": "true",
			"smoke-test": "true", "provenance": "false", "max-size": "50MB", "builder": os.Getenv("SCRIBE_BUILDER")}
		for k, v := range args {
			in[k] = v
		}
		return d.action("build", in)
	}
	d.step("build backend "+run+"-1 (amd64 + arm64, smoke test)", func() (s string, err error) {
		backend1, s, err = build(image, "backend", run+"-1", map[string]string{"smoke-url": "http://localhost:8000/health", "build-args": "VERSION=" + run + "-1"})
		return s, err
	})
	d.step("build web "+run+"-1 (amd64 + arm64, smoke test)", func() (s string, err error) {
		webImage, s, err = build(web, "web", run+"-1", map[string]string{"smoke-url": "http://localhost:8080/", "build-args": "VERSION=" + run})
		return s, err
	})
	db, dbErr := d.osvDatabase()
	scan := func(svc string, out map[string]string) (map[string]string, string, error) {
		if err := needs(out); err != nil {
			return nil, "", err
		}
		if dbErr != nil {
			return nil, "", dbErr
		}
		return d.action("scan", map[string]string{"image": out["image"], "dockerfile": "examples/" + svc + "/Dockerfile",
			"db-dir": db, "offline": "true", "fail-on": "critical", "sbom-format": "both", "output-dir": filepath.Join(d.work, "scan-"+svc)})
	}
	var backendScan, webScan map[string]string
	d.step("scan backend (offline, real OSV records from examples/osv)", func() (s string, err error) {
		backendScan, s, err = scan("backend", backend1)
		return s, err
	})
	d.step("scan web", func() (s string, err error) {
		webScan, s, err = scan("web", webImage)
		return s, err
	})
	d.step("make a signing key for the demo (cosign's encrypted format)", func() (string, error) {
		priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) { return []byte(password), nil })
		d.key, d.pub = string(priv), string(pub)
		os.WriteFile(filepath.Join(d.work, "cosign.pub"), pub, 0o644)
		return "Public key: `.scribe/demo/cosign.pub` (the private key stays in memory).\n", err
	})
	sign := func(out, scanOut map[string]string) (string, error) {
		if err := needs(out); err != nil {
			return "", err
		}
		in := map[string]string{"image": out["image"], "key": d.key, "key-password": password, "attest-provenance": "true"}
		if scanOut != nil {
			in["attest-sbom"] = strings.Split(scanOut["sbom"], "\n")[0]
		}
		_, s, err := d.action("sign", in)
		return s, err
	}
	verify := func(out map[string]string) (string, error) {
		if err := needs(out); err != nil {
			return "", err
		}
		_, s, err := d.action("sign", map[string]string{"image": out["image"], "verify": "true", "public-key": d.pub})
		return s, err
	}
	d.step("sign backend + attest its SBOM and provenance", func() (string, error) { return sign(backend1, backendScan) })
	d.step("sign web + attest its SBOM and provenance", func() (string, error) { return sign(webImage, webScan) })
	d.step("verify backend (index and both platforms)", func() (string, error) { return verify(backend1) })
	d.step("verify web", func() (string, error) { return verify(webImage) })
	d.step("build backend "+run+"-2, a newer release", func() (s string, err error) {
		backend2, s, err = build(image, "backend", run+"-2", map[string]string{"smoke-url": "http://localhost:8000/health", "build-args": "VERSION=" + run + "-2"})
		return s, err
	})
	d.step("sign backend "+run+"-2", func() (string, error) { return sign(backend2, nil) })
	cleanup := func(dry bool) (string, error) {
		_, s, err := d.action("cleanup", map[string]string{"packages": "demo/shop", "registry": d.registry, "packages-api": "oci",
			"keep-n-tagged": "1", "delete-orphans": "true", "dry-run": fmt.Sprint(dry), "validate": "true"})
		return s, err
	}
	d.step("cleanup dry run: keep the newest backend", func() (string, error) { return cleanup(true) })
	d.step("cleanup: keep the newest backend", func() (string, error) { return cleanup(false) })
	d.step("the kept backend still pulls and verifies; the old one is gone", func() (string, error) {
		if err := needs(backend1, backend2); err != nil {
			return "", err
		}
		s, err := verify(backend2)
		if err != nil {
			return s, err
		}
		ref, _ := name.NewDigest(backend2["image"])
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
		old, _ := name.NewDigest(backend1["image"])
		if _, err := remote.Head(old); err == nil {
			return s, fmt.Errorf("%s is still there", old)
		}
		return s + fmt.Sprintf("\nPulled `%s` (%d layers). `%s` is gone.\n", ref.DigestStr(), len(layers), old.DigestStr()), nil
	})
	return d.finish()
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
	outputs := readOutputs(filepath.Join(dir, "output"))
	if runErr != nil {
		why := errorLines(filepath.Join(dir, "log"))
		return outputs, string(summary), fmt.Errorf("%s: %v: %s (log: %s)", name, runErr, why, strings.TrimPrefix(filepath.Join(dir, "log"), d.root+"/"))
	}
	return outputs, string(summary), nil
}

// readOutputs reads GITHUB_OUTPUT's name<<DELIMITER blocks.
func readOutputs(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		k, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			continue
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[k] = strings.Join(lines, "\n")
	}
	return out
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

// osvDatabase packs the real OSV records of examples/osv into the bucket's layout for offline use.
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
