package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// The realistic image, from real files only: Debian 12 from debootstrap (real dpkg status; Python packages
// from Debian's python3-* .debs), npm packages installed by npm from the npm registry, a Go binary built here against old module versions, and a layer with a private key and a .env
// file that a later layer deletes.
var npmPackages = []string{"lodash@4.17.20", "minimist@1.2.5", "axios@1.5.0"}

const oldGoMod = `module example.com/oldapp

go 1.21

require (
	github.com/gin-gonic/gin v1.8.1
	golang.org/x/crypto v0.16.0
	golang.org/x/net v0.15.0
)
`

const oldGoMain = `package main

import (
	"fmt"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/ssh"
	"golang.org/x/net/http2"
)

func main() { fmt.Println(gin.Version, ssh.CertAlgoRSAv01, http2.NextProtoTLS) }
`

// realDockerfile is how the realistic image would be built (its base: Debian with the python3-* packages).
const realDockerfile = `FROM python-base:bookworm
COPY app /app
COPY --from=build /out/app /usr/local/bin/app
COPY secrets/ /
RUN rm /root/.ssh/id_ecdsa
`

var (
	realOnce  sync.Once
	realPath  string
	realError error
)

// realImage returns the realistic image as a docker-save tarball, built once and kept in the user's cache.
func realImage(t testing.TB) string {
	t.Helper()
	rootfs := os.Getenv("SCRIBE_DEBIAN_ROOTFS")
	_, err := os.Stat(rootfs)
	if rootfs == "" {
		err = os.ErrNotExist
	}
	testenv.Need(t, "the Debian rootfs from debootstrap (SCRIBE_DEBIAN_ROOTFS)", err)
	_, err = exec.LookPath("npm")
	testenv.Need(t, "npm (to fetch packages from the npm registry)", err)
	_, err = exec.Command("docker", "version").CombinedOutput()
	testenv.Need(t, "the Docker engine (docker save)", err)
	realOnce.Do(func() { realPath, realError = buildRealImage(rootfs) })
	if realError != nil {
		t.Fatal(realError)
	}
	return realPath
}

func buildRealImage(rootfs string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	info, _ := os.Stat(rootfs)
	key := sha256.Sum256([]byte(strings.Join(npmPackages, ",") + oldGoMod + oldGoMain + info.ModTime().String() + "v2"))
	dir := filepath.Join(cache, "scribe-actions", "test-images", hex.EncodeToString(key[:8]))
	out := filepath.Join(dir, "realistic.tar")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "scribe-realimage")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)

	// npm packages, installed by npm from the npm registry (package-lock.json, node_modules/.package-lock.json).
	app := filepath.Join(work, "app")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"demo-web","version":"1.0.0","private":true}`), 0o644)
	cmd := exec.Command("npm", append([]string{"install", "--no-audit", "--no-fund", "--silent"}, npmPackages...)...)
	cmd.Dir = app
	if outp, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{"npm install", err, outp}
	}

	// A Go binary built against old modules.
	gosrc := filepath.Join(work, "gosrc")
	os.MkdirAll(gosrc, 0o755)
	os.WriteFile(filepath.Join(gosrc, "go.mod"), []byte(oldGoMod), 0o644)
	os.WriteFile(filepath.Join(gosrc, "main.go"), []byte(oldGoMain), 0o644)
	bin := filepath.Join(work, "bin", "usr", "local", "bin", "app")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-trimpath", "-o", bin, "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = gosrc
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOOS=linux", "GOARCH=amd64")
		if outp, err := cmd.CombinedOutput(); err != nil {
			return "", &buildError{"go " + args[0], err, outp}
		}
	}

	// A private key and a .env file, then a layer deleting the key.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(priv)
	secrets := map[string][]byte{
		"root/.ssh/id_ecdsa": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		"app/.env":           []byte("APP_ENV=production\nDB_PASSWORD=s3cr3t-Pa55word-42\nAPI_TOKEN=${API_TOKEN}\n"),
	}

	layers := []func(*tar.Writer) error{
		func(tw *tar.Writer) error { return copyTar(tw, rootfs) },
		func(tw *tar.Writer) error { return dirTar(tw, app, "app") },
		func(tw *tar.Writer) error { return dirTar(tw, filepath.Join(work, "bin"), "") },
		func(tw *tar.Writer) error {
			for _, p := range []string{"app/.env", "root/.ssh/id_ecdsa"} {
				tw.WriteHeader(&tar.Header{Name: p, Mode: 0o600, Size: int64(len(secrets[p])), Typeflag: tar.TypeReg})
				tw.Write(secrets[p])
			}
			return nil
		},
		func(tw *tar.Writer) error {
			return tw.WriteHeader(&tar.Header{Name: "root/.ssh/.wh.id_ecdsa", Mode: 0o600, Typeflag: tar.TypeReg})
		},
	}
	history := []string{"debootstrap --variant=minbase bookworm", "COPY app /app # buildkit", "COPY /out/app /usr/local/bin/app # buildkit",
		"COPY secrets/ / # buildkit", "RUN /bin/sh -c rm /root/.ssh/id_ecdsa # buildkit"}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, fill := range layers {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		if err := fill(tw); err != nil {
			return "", err
		}
		tw.Close()
		zw.Close()
		raw := buf.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
			tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return "", err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: history[i], Created: v1.Time{Time: time.Unix(1767225600, 0)}}}); err != nil {
			return "", err
		}
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, _ = mutate.ConfigFile(img, cf)
	// Through the Docker engine, so the tarball is what `docker save` writes (uncompressed layer.tar files).
	tag, _ := name.NewTag("scribe.test/realistic:1")
	tmp := filepath.Join(work, "image.tar")
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return "", err
	}
	for _, args := range [][]string{{"load", "-i", tmp}, {"save", "-o", out + ".tmp", tag.String()}, {"rmi", tag.String()}} {
		if outp, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			return "", &buildError{"docker " + args[0], err, outp}
		}
	}
	return out, os.Rename(out+".tmp", out)
}

type buildError struct {
	what string
	err  error
	out  []byte
}

func (e *buildError) Error() string { return e.what + ": " + e.err.Error() + "\n" + string(e.out) }

// copyTar copies a tar file's entries into tw.
func copyTar(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// dirTar writes a directory tree into tw under prefix.
func dirTar(tw *tar.Writer, root, prefix string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(filepath.Join(prefix, rel))
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
}

// osvDir packs the OSV records of testdata/osv into the bucket's layout: <Ecosystem>/all.zip, Debian's with
// testdata/osv-distro's Debian 12 record beside the Debian 9 ones: the realistic image is Debian 12, and a
// database naming no Debian 12 record would leave its packages not assessed.
func osvDir(t testing.TB) string {
	t.Helper()
	src, dir := t.TempDir(), t.TempDir()
	for _, from := range []string{filepath.Join("testdata", "osv", "*", "*.json"), filepath.Join("testdata", "osv-distro", "Debian", "*.json")} {
		files, _ := filepath.Glob(from)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			eco := filepath.Join(src, filepath.Base(filepath.Dir(f)))
			if err := os.MkdirAll(eco, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(eco, filepath.Base(f)), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := PackRecords(src, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
