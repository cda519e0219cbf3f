#!/usr/bin/env bash
# dev-env.sh brings up the real build environment the tests drive: a Docker engine, the buildx plugin, a
# BuildKit daemon as a buildx "remote" builder for multi-platform builds, QEMU for arm64, and a distribution
# registry on 127.0.0.1:5000 with delete enabled. It is idempotent: a second `up` only checks.
#
#   scripts/dev-env.sh up [demo|test]
#                               install what is missing, start what is stopped, print the variables; `demo`
#                               brings up only what `make demo` drives (engine, buildx, BuildKit, QEMU, registry,
#                               base images), `test` (the default) adds the test peers (actionlint, act, cosign,
#                               syft, osv-scanner), the Debian root filesystem and Debian's Java and Ruby packages,
#                               and a trixie root filesystem with rpm
#   scripts/dev-env.sh status   say what runs
#   scripts/dev-env.sh env      print the variables the tests read (eval "$(scripts/dev-env.sh env)")
#   scripts/dev-env.sh down     stop what `up` started
#
# On a Debian/Ubuntu machine as root it installs Debian's docker.io, docker-registry and qemu-user-static and
# builds buildx, buildkitd and actionlint with Go into a directory keyed by version (SCRIBE_TOOLS_DIR), so a
# second run takes seconds. On a machine whose Docker already answers (a laptop, a GitHub runner) it uses it.
# Progress goes to stderr; stdout has only the export lines.
set -euo pipefail

STATE=${SCRIBE_ENV_DIR:-/var/tmp/scribe-env}
TOOLS=${SCRIBE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scribe-actions/tools}
REGISTRY=${SCRIBE_REGISTRY:-127.0.0.1:5000}
BUILDER=${SCRIBE_BUILDER:-scribe-remote}
BUILDX_VERSION=v0.38.2
BUILDKIT_VERSION=v0.29.0
ACTIONLINT_VERSION=v1.7.12
ACT_VERSION=v0.2.89
COSIGN2_VERSION=v2.6.5
COSIGN3_VERSION=v3.1.3
SYFT_VERSION=v1.57.1
OSV_SCANNER_VERSION=v2.6.0
GITLEAKS_VERSION=v8.30.1
APT_PACKAGES=(docker-registry qemu-user-static binfmt-support)
TEST_APT_PACKAGES=(shellcheck debootstrap)

log() { printf 'dev-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# wait_for CMD... retries a check for up to 60 s.
wait_for() {
	local _
	for _ in $(seq 1 120); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	return 1
}

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

# start NAME CMD... runs a daemon in the background with its log and pid file under $STATE.
start() {
	local name=$1
	shift
	log "starting $name (log: $STATE/$name.log)"
	nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null &
	echo $! >"$STATE/$name.pid"
}

docker_host() {
	if [ -S "$STATE/docker.sock" ] && running dockerd; then
		echo "unix://$STATE/docker.sock"
	else
		echo "${DOCKER_HOST:-}"
	fi
}

apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		die "need ${missing[*]}: install them (apt-get as root)"
	fi
	log "apt-get install ${missing[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# go_tool NAME VERSION BUILD-COMMAND: builds a tool once into $TOOLS/NAME-VERSION.
go_tool() {
	local dir=$TOOLS/$1-$2
	if [ ! -f "$dir/.done" ]; then
		command -v go >/dev/null || die "need Go to build $1 $2"
		log "building $1 $2 into $dir (first run only: a few minutes)"
		mkdir -p "$dir"
		(eval "$3") >&2
		touch "$dir/.done"
	fi
	echo "$dir"
}

# build_tools builds what every profile drives: the buildx plugin and BuildKit, side by side (their module
# downloads overlap the other's compile).
build_tools() {
	local d pid
	go_tool buildx "$BUILDX_VERSION" "GOBIN=$TOOLS/buildx-$BUILDX_VERSION go install github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION" >/dev/null &
	pid=$!
	# buildkit's go.mod has exclude directives, so `go install pkg@version` refuses it: build in its module.
	go_tool buildkit "$BUILDKIT_VERSION" "go mod download github.com/moby/buildkit@$BUILDKIT_VERSION &&
		cd \"\$(go env GOMODCACHE)/github.com/moby/buildkit@$BUILDKIT_VERSION\" &&
		GOFLAGS=-mod=mod go build -o $TOOLS/buildkit-$BUILDKIT_VERSION/ ./cmd/buildkitd ./cmd/buildctl" >/dev/null
	wait "$pid" || die "building buildx $BUILDX_VERSION failed"
	d=$TOOLS/buildx-$BUILDX_VERSION
	mkdir -p "$HOME/.docker/cli-plugins"
	if ! cmp -s "$d/buildx" "$HOME/.docker/cli-plugins/docker-buildx"; then
		cp "$d/buildx" "$HOME/.docker/cli-plugins/docker-buildx"
	fi
}

# test_tools builds the peers only the tests drive.
test_tools() {
	go_tool actionlint "$ACTIONLINT_VERSION" "GOBIN=$TOOLS/actionlint-$ACTIONLINT_VERSION go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >/dev/null
	go_tool act "$ACT_VERSION" "GOBIN=$TOOLS/act-$ACT_VERSION go install github.com/nektos/act@$ACT_VERSION" >/dev/null
	# cosign, both majors: the peers that must accept our signatures (tests only, never shipped)
	go_tool cosign "$COSIGN2_VERSION" "GOBIN=$TOOLS/cosign-$COSIGN2_VERSION go install github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN2_VERSION" >/dev/null
	go_tool cosign "$COSIGN3_VERSION" "GOBIN=$TOOLS/cosign-$COSIGN3_VERSION go install github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN3_VERSION" >/dev/null
	# the scan action's peers: syft's SBOM and osv-scanner's offline findings are compared with ours
	go_tool syft "$SYFT_VERSION" "GOBIN=$TOOLS/syft-$SYFT_VERSION go install github.com/anchore/syft/cmd/syft@$SYFT_VERSION" >/dev/null
	go_tool osv-scanner "$OSV_SCANNER_VERSION" "GOTOOLCHAIN=go1.27.3 GOBIN=$TOOLS/osv-scanner-$OSV_SCANNER_VERSION go install github.com/google/osv-scanner/v2/cmd/osv-scanner@$OSV_SCANNER_VERSION" >/dev/null
	# the source scan's peer: gitleaks's findings over a repository's history are compared with ours
	go_tool gitleaks "$GITLEAKS_VERSION" "GOBIN=$TOOLS/gitleaks-$GITLEAKS_VERSION go install github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION" >/dev/null
	# real-world data the scan's tests read in place from these modules (scan/realdata_test.go pins the same)
	(cd "$TOOLS" && go mod download github.com/anchore/grype@v0.121.2 github.com/anchore/syft@v1.57.1 github.com/aquasecurity/trivy@v0.74.0 github.com/google/osv-scalibr@v0.4.5) >/dev/null
}

up_docker() {
	if [ -n "$(docker_host)" ] && DOCKER_HOST=$(docker_host) docker info >/dev/null 2>&1; then
		return 0
	fi
	if [ -z "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
		log "using the Docker engine that already answers"
		return 0
	fi
	command -v dockerd >/dev/null || die "no Docker engine answers and dockerd is not installed"
	start dockerd dockerd --host "unix://$STATE/docker.sock" --data-root "$STATE/docker" \
		--exec-root "$STATE/exec" --pidfile "$STATE/dockerd.real.pid"
	wait_for env DOCKER_HOST="unix://$STATE/docker.sock" docker info || die "dockerd did not start: see $STATE/dockerd.log"
}

up_registry() {
	if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then return 0; fi
	command -v docker-registry >/dev/null || die "no registry answers on $REGISTRY and docker-registry is not installed"
	cat >"$STATE/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
YML
	start registry docker-registry serve "$STATE/registry.yml"
	wait_for curl -fsS "http://$REGISTRY/v2/" || die "the registry did not start: see $STATE/registry.log"
}

up_qemu() {
	[ "$(uname -m)" = x86_64 ] || return 0
	if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc (QEMU needs it)"
	fi
	if ! grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
		update-binfmts --enable qemu-aarch64 >&2 || die "cannot register QEMU for arm64"
	fi
}

up_buildkit() {
	local bk=$TOOLS/buildkit-$BUILDKIT_VERSION
	if ! running buildkitd; then
		cat >"$STATE/buildkitd.toml" <<TOML
[registry."$REGISTRY"]
  http = true
  insecure = true
TOML
		start buildkitd "$bk/buildkitd" --config "$STATE/buildkitd.toml" --root "$STATE/buildkit" \
			--addr "unix://$STATE/buildkitd.sock" --oci-worker=true --containerd-worker=false
		wait_for "$bk/buildctl" --addr "unix://$STATE/buildkitd.sock" debug workers || die "buildkitd did not start: see $STATE/buildkitd.log"
	fi
	# A builder of that name left by another state directory points at a dead socket: replace it.
	if ! DOCKER_HOST=$(docker_host) docker buildx inspect "$BUILDER" 2>/dev/null | grep -qF "unix://$STATE/buildkitd.sock"; then
		DOCKER_HOST=$(docker_host) docker buildx rm "$BUILDER" >/dev/null 2>&1 || true
		DOCKER_HOST=$(docker_host) docker buildx create --name "$BUILDER" --driver remote "unix://$STATE/buildkitd.sock" >&2
	fi
}

# rootfs makes busybox root filesystems for amd64 and arm64 (from Debian's busybox-static), the base of the
# test images: the engine starts with no images and nothing can be pulled from public registries.
rootfs() {
	local dir=$TOOLS/busybox-rootfs-1 arch tmp
	[ -f "$dir/.done" ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		log "no apt-get as root: no busybox rootfs for test images"
		return 0
	fi
	log "making busybox root filesystems in $dir"
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq >&2; }
	tmp=$(mktemp -d)
	mkdir -p "$dir"
	(cd "$tmp" && apt-get download busybox-static:amd64 busybox-static:arm64 >&2) ||
		{ apt-get update -qq >&2 && (cd "$tmp" && apt-get download busybox-static:amd64 busybox-static:arm64 >&2); }
	for arch in amd64 arm64; do
		dpkg-deb -x "$tmp"/busybox-static_*_"$arch".deb "$tmp/x-$arch"
		mkdir -p "$tmp/r-$arch/bin" "$tmp/r-$arch/tmp" "$tmp/r-$arch/etc"
		cp "$tmp/x-$arch/bin/busybox" "$tmp/r-$arch/bin/busybox"
		"$tmp/x-amd64/bin/busybox" --list | while read -r applet; do
			[ "$applet" = busybox ] || ln -sf busybox "$tmp/r-$arch/bin/$applet"
		done
		printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$tmp/r-$arch/etc/passwd"
		printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/r-$arch/etc/group"
		tar -C "$tmp/r-$arch" --owner=0 --group=0 -cf "$dir/rootfs-$arch.tar" .
	done
	rm -rf "$tmp"
	touch "$dir/.done"
}

# debian_rootfs makes a real Debian 12 root filesystem with debootstrap (real dpkg status, Python packages
# installed from Debian's python3-* .debs), the base of the scan action's realistic test image.
DEBIAN_PACKAGES=python3-jinja2,python3-urllib3,python3-requests,python3-yaml,python3-numpy,git,curl
debian_rootfs() {
	local dir=$TOOLS/debian-rootfs-bookworm-1
	[ -f "$dir/.done" ] && return 0
	debootstrap_root "$dir" bookworm "$DEBIAN_PACKAGES" "Debian rootfs for the scan tests" || return 0
	tar -C "$dir/root" --numeric-owner -cf "$dir/rootfs.tar" .
	rm -rf "$dir/root"
	touch "$dir/.done"
}

# java_ruby_rootfs extracts Debian's Java library and Ruby packages (apt-get download, dpkg-deb -x) into one tar:
# real jars, some with Maven's pom.properties and some with only a MANIFEST.MF, and real installed gemspecs, the
# files the scan action's Java and Ruby cataloguers read and syft is compared on. No dpkg database: only what the
# packages install.
JAVA_RUBY_PACKAGES=(libcommons-lang3-java libcommons-text-java libcommons-io-java libjackson2-core-java liblog4j2-java
	libguava-java libslf4j-java libcommons-collections3-java libhamcrest-java junit4 libjsr305-java libxerces2-java
	ruby-rack ruby-json ruby-nokogiri ruby-sinatra ruby-rack-protection ruby-mustermann ruby-tilt ruby-rack-test)
java_ruby_rootfs() {
	local dir=$TOOLS/java-ruby-rootfs-1 tmp deb
	[ -f "$dir/.done" ] && return 0
	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		log "no apt-get: no Java and Ruby packages for the scan tests"
		return 0
	fi
	log "extracting Debian's Java and Ruby packages into $dir"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download "${JAVA_RUBY_PACKAGES[@]}" >&2) ||
		{ apt-get update -qq >&2 && (cd "$tmp" && apt-get download "${JAVA_RUBY_PACKAGES[@]}" >&2); }
	mkdir -p "$tmp/root" "$dir"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root"
	done
	tar -C "$tmp/root" --owner=0 --group=0 --numeric-owner -cf "$dir/rootfs.tar" .
	rm -rf "$tmp"
	touch "$dir/.done"
}

# rpm_root makes a Debian trixie root filesystem with rpm 4.20 and Berkeley DB's utilities, where the scan
# tests build real rpm packages and write real rpm databases (as root, by chroot): bookworm's rpm 4.18 writes
# only sqlite databases, trixie's also ndb (SUSE's), and Berkeley DB's own db5.3_load writes the format of
# RHEL 7 and 8 and Amazon Linux 2, which rpm itself only reads since 4.16.
RPM_ROOT_PACKAGES=rpm,db5.3-util
rpm_root() {
	local dir=$TOOLS/rpm-root-trixie-1
	[ -f "$dir/.done" ] && return 0
	debootstrap_root "$dir" trixie "$RPM_ROOT_PACKAGES" "rpm root filesystem for the scan's rpm tests" || return 0
	touch "$dir/.done"
}

# debootstrap_root DIR SUITE PACKAGES WHAT makes a minbase root filesystem of the Debian SUITE with PACKAGES in
# DIR/root (apt's caches emptied); without debootstrap as root it says there is no WHAT and returns 1.
debootstrap_root() {
	local dir=$1 suite=$2 packages=$3 what=$4
	if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null; then
		log "no debootstrap as root: no $what"
		return 1
	fi
	log "debootstrap $suite with $packages into $dir (first run only: a few minutes)"
	rm -rf "$dir" && mkdir -p "$dir"
	debootstrap --variant=minbase --include="$packages" "$suite" "$dir/root" >&2
	rm -rf "$dir/root/var/cache/apt/archives"/*.deb "$dir/root/var/lib/apt/lists"/*
}

# test_roots makes the Debian and rpm root filesystems side by side: both mostly wait on downloads.
test_roots() {
	local pid
	debian_rootfs &
	pid=$!
	rpm_root
	wait "$pid" || die "making the Debian root filesystem failed"
}

# base_images pushes the example's base images into the local registry, as a registry mirror would serve them:
# base/busybox:1 (amd64 + arm64, from the busybox root filesystems) and base/golang:<go version> (the host's
# Go toolchain on busybox, for the build platform). The example's Dockerfiles build FROM them.
base_images() {
	local dh go_version ctx
	dh=$(docker_host)
	[ -f "$TOOLS/busybox-rootfs-1/.done" ] || return 0
	go_version=$(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')
	if ! curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$REGISTRY/v2/base/busybox/manifests/1"; then
		log "pushing $REGISTRY/base/busybox:1"
		ctx=$(mktemp -d)
		cp "$TOOLS"/busybox-rootfs-1/rootfs-*.tar "$ctx/"
		# shellcheck disable=SC2016 # a Dockerfile variable, expanded by BuildKit
		printf 'FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nENV PATH=/bin\nCMD ["sh"]\n' >"$ctx/Dockerfile"
		DOCKER_HOST=$dh docker buildx build --builder "$BUILDER" --platform linux/amd64,linux/arm64 --provenance=false \
			-t "$REGISTRY/base/busybox:1" --push "$ctx" >&2
		rm -rf "$ctx"
	fi
	if ! curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REGISTRY/v2/base/golang/manifests/$go_version"; then
		log "pushing $REGISTRY/base/golang:$go_version (the host's Go toolchain)"
		ctx=$(mktemp -d)
		cp "$TOOLS/busybox-rootfs-1/rootfs-amd64.tar" "$ctx/"
		cp -a "$(go env GOROOT)" "$ctx/go"
		cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
		printf 'FROM scratch\nADD rootfs-amd64.tar /\nCOPY go /usr/local/go\nCOPY ca-certificates.crt /etc/ssl/certs/\nENV PATH=/usr/local/go/bin:/root/go/bin:/bin GOTOOLCHAIN=local CGO_ENABLED=0\n' >"$ctx/Dockerfile"
		DOCKER_HOST=$dh docker buildx build --builder "$BUILDER" --platform linux/amd64 --provenance=false \
			-t "$REGISTRY/base/golang:$go_version" --push "$ctx" >&2
		rm -rf "$ctx"
	fi
}

print_env() {
	local dh
	dh=$(docker_host)
	[ -n "$dh" ] && echo "export DOCKER_HOST=$dh"
	echo "export SCRIBE_REGISTRY=$REGISTRY"
	echo "export SCRIBE_BUILDER=$BUILDER"
	[ -f "$TOOLS/busybox-rootfs-1/.done" ] && echo "export SCRIBE_ROOTFS_DIR=$TOOLS/busybox-rootfs-1"
	echo "export SCRIBE_COSIGN_V2=$TOOLS/cosign-$COSIGN2_VERSION/cosign"
	echo "export SCRIBE_COSIGN_V3=$TOOLS/cosign-$COSIGN3_VERSION/cosign"
	[ -f "$TOOLS/debian-rootfs-bookworm-1/.done" ] && echo "export SCRIBE_DEBIAN_ROOTFS=$TOOLS/debian-rootfs-bookworm-1/rootfs.tar"
	[ -f "$TOOLS/rpm-root-trixie-1/.done" ] && echo "export SCRIBE_RPM_ROOT=$TOOLS/rpm-root-trixie-1/root"
	[ -f "$TOOLS/java-ruby-rootfs-1/.done" ] && echo "export SCRIBE_JAVA_RUBY_ROOTFS=$TOOLS/java-ruby-rootfs-1/rootfs.tar"
	echo "export SCRIBE_SYFT=$TOOLS/syft-$SYFT_VERSION/syft"
	echo "export SCRIBE_OSV_SCANNER=$TOOLS/osv-scanner-$OSV_SCANNER_VERSION/osv-scanner"
	echo "export SCRIBE_GITLEAKS=$TOOLS/gitleaks-$GITLEAKS_VERSION/gitleaks"
	echo "export PATH=$TOOLS/actionlint-$ACTIONLINT_VERSION:$TOOLS/act-$ACT_VERSION:$TOOLS/buildkit-$BUILDKIT_VERSION:\$PATH"
}

status() {
	local dh ok=0
	dh=$(docker_host)
	if DOCKER_HOST=$dh docker info >/dev/null 2>&1; then log "docker: up (${dh:-default})"; else log "docker: down"; ok=1; fi
	if DOCKER_HOST=$dh docker buildx version >/dev/null 2>&1; then log "buildx: $(DOCKER_HOST=$dh docker buildx version)"; else log "buildx: missing"; ok=1; fi
	if DOCKER_HOST=$dh docker buildx inspect "$BUILDER" >/dev/null 2>&1; then
		log "builder $BUILDER: $(DOCKER_HOST=$dh docker buildx inspect "$BUILDER" | grep -m1 Platforms || echo unreachable)"
	else log "builder $BUILDER: missing"; ok=1; fi
	if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then log "registry: up ($REGISTRY)"; else log "registry: down"; ok=1; fi
	if grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then log "qemu arm64: registered"; else log "qemu arm64: not registered"; fi
	return $ok
}

down() {
	local name
	for name in buildkitd registry dockerd; do
		if running "$name"; then
			log "stopping $name"
			kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
			wait_for sh -c "! kill -0 $(cat "$STATE/$name.pid") 2>/dev/null" || kill -9 "$(cat "$STATE/$name.pid")" 2>/dev/null || true
		fi
		rm -f "$STATE/$name.pid"
	done
}

main() {
	mkdir -p "$STATE" "$TOOLS"
	case "${1:-}" in
	up)
		local t0=$SECONDS profile=${2:-test} packages=("${APT_PACKAGES[@]}")
		case "$profile" in
		demo | test) ;;
		*) die "unknown profile \"$profile\": want demo or test" ;;
		esac
		[ "$profile" = test ] && packages+=("${TEST_APT_PACKAGES[@]}")
		# Debian's docker.io only where no engine is installed: it conflicts with Docker's own packages.
		command -v dockerd >/dev/null || packages+=(docker.io)
		apt_install "${packages[@]}"
		# the scan tests install npm packages from the npm registry
		[ "$profile" = test ] && { command -v npm >/dev/null || apt_install npm; }
		# the actions are node24 actions: internal/ghrunner and act run their entry with node
		[ "$profile" = test ] && { command -v node >/dev/null || apt_install nodejs; }
		build_tools
		[ "$profile" = test ] && test_tools
		up_docker
		up_registry
		up_qemu
		up_buildkit
		rootfs
		base_images
		[ "$profile" = test ] && test_roots
		[ "$profile" = test ] && java_ruby_rootfs
		log "ready in $((SECONDS - t0)) s"
		print_env
		;;
	env) print_env ;;
	status) status ;;
	down) down ;;
	*)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

main "$@"
