#!/bin/sh
# launch.sh runs the scribe-actions binary that belongs to this action's ref, got the fastest safe way:
#   1. the tool cache, when an earlier step (or an earlier job on this runner) already has it;
#   2. the release asset scribe-actions_<os>_<arch> for the ref, verified against the release's SHA-256
#      checksums file (a mismatch is a hard failure and leaves nothing behind);
#   3. a build from the action's own source with the runner's Go.
#
# Usage: launch.sh <action> [flags...]   run the binary (every action.yml does this)
#        launch.sh --install             only install it; print path=<binary> to GITHUB_OUTPUT (or stdout)
#
# Environment: SCRIBE_ACTION_REF and SCRIBE_ACTION_REPOSITORY (github.action_ref and action_repository),
# RUNNER_TOOL_CACHE, SCRIBE_RELEASE_URL (release download base, default $GITHUB_SERVER_URL/<repo>/releases/download).
set -eu

say() { printf 'scribe-actions launcher: %s\n' "$*" >&2; }
debug() { if [ "${GITHUB_ACTIONS:-}" = true ]; then printf '::debug::scribe-actions launcher: %s\n' "$*"; fi; }

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
ref=${SCRIBE_ACTION_REF:-}
repo=${SCRIBE_ACTION_REPOSITORY:-}
# A runner checks an action out into .../_actions/<owner>/<repo>/<ref>/: the fallback when the expressions
# are empty (they are, inside some composite actions).
case $root in
*/_actions/*/*/*)
	rest=${root#*/_actions/}
	owner=${rest%%/*} rest=${rest#*/}
	name=${rest%%/*} rest=${rest#*/}
	[ -n "$ref" ] || ref=${rest%%/*}
	[ -n "$repo" ] || repo=$owner/$name
	;;
esac
[ -n "$ref" ] || ref=dev

case $(uname -s) in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
*) say "unsupported OS $(uname -s)"; exit 1 ;;
esac
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) say "unsupported architecture $(uname -m)"; exit 1 ;;
esac
exe=''
[ "$os" = windows ] && exe=.exe

# sha256 FILE prints the file's SHA-256, with the fastest tool there: OpenSSL uses the CPU's SHA instructions
# (41 ms for the 26 MB binary here, sha256sum 72 ms), and every cache hit pays it.
# Without FILE it hashes standard input. No tool, no hash: the launcher stops rather than compare "" to "".
sha256() {
	if command -v openssl >/dev/null 2>&1; then
		h=$(openssl dgst -sha256 -r "$@")
	elif command -v sha256sum >/dev/null 2>&1; then
		h=$(sha256sum "$@")
	else
		h=$(shasum -a 256 "$@")
	fi
	h=${h%% *}
	[ ${#h} -eq 64 ] || { say "cannot compute a SHA-256 (no openssl, sha256sum or shasum)"; exit 1; }
	printf '%s\n' "$h"
}

# Only a full release tag (v1.2.3, v1.2.3-rc.1) or a full commit SHA names one immutable source. Anything else
# may move: a major or minor tag (v1, v1.2), a branch, a working tree; its binary is keyed by the SHA-256 of
# the source it was built from as well, so a moved v1 gets a new binary, never the one a runner kept from
# before. The repository is part of the key: a fork's v1.2.3 is not upstream's.
immutable=false
if printf '%s' "$ref" | grep -Eq '^(v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?|[0-9a-f]{40})$'; then immutable=true; fi
key=$ref
if [ "$immutable" = false ]; then
	src=$(cd "$root" && find go.mod go.sum cmd internal build scan sign cleanup templates launcher -type f \
		! -path '*/testdata/*' ! -name '*_test.go' 2>/dev/null | LC_ALL=C sort | xargs cat | sha256)
	key=$ref-$(printf '%s' "$src" | cut -c1-16)
fi
[ -z "$repo" ] || key=$repo@$key
key=$(printf '%s' "$key" | tr -c 'A-Za-z0-9._@-' '-')

cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/scribe-actions/$key/$arch
bin=$cache/scribe-actions$exe

# fetch URL FILE: 0 when got; 1 when the server says it is not there (404); anything else (no answer, TLS,
# another status, a redirect to plain http) retried by curl, then a failure that stops the launcher: a
# network error must not turn into a source build. HTTPS only, TLS 1.2 or later, redirects included.
fetch() {
	case $1 in https://*) ;; *) say "cannot download $1: not an https:// URL; not building from source in its place"; exit 1 ;; esac
	if ! command -v curl >/dev/null 2>&1; then # busybox or Alpine images: wget (redirects unchecked there)
		if wget -q --tries=3 -O "$2" "$1"; then return 0; fi
		status=$?
		rm -f "$2"
		[ "$status" -eq 8 ] && return 1 # the server answered with an error: no such release
		say "cannot download $1: wget exit $status; not building from source in its place"
		exit 1
	fi
	status=$(curl -sS -L --proto =https --proto-redir =https --tlsv1.2 --retry 3 --retry-delay 1 --retry-connrefused \
		-o "$2" -w '%{http_code}' "$1" 2>"$2.err") || status="failed ($(tr -d '\r' <"$2.err" | head -n 1))"
	rm -f "$2.err"
	case $status in
	200) return 0 ;;
	404) rm -f "$2"; return 1 ;;
	esac
	rm -f "$2"
	say "cannot download $1: $status; not building from source in its place (retry the job, or check SCRIBE_RELEASE_URL)"
	exit 1
}

# download puts the verified release binary at $1. It returns 1 when this ref has no release to download
# and exits when a downloaded binary does not match its checksum.
download() {
	version=''
	case $ref in
	v[0-9]*) [ "$immutable" = true ] && version=$ref ;;
	*) [ "$immutable" = true ] && [ -f "$root/VERSION" ] && version=$(cat "$root/VERSION") ;;
	esac
	if [ -z "$version" ]; then
		say "$ref is neither a release tag (v1.2.3) nor a commit SHA, so it may move: building from this checkout's source; pin a release or its commit SHA to download a verified binary"
		return 1
	fi
	if [ -z "$repo" ] && [ -z "${SCRIBE_RELEASE_URL:-}" ]; then
		say "no action repository (SCRIBE_ACTION_REPOSITORY) to download release $version from: building from source"
		return 1
	fi
	base=${SCRIBE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}/$version
	asset=scribe-actions_${os}_$arch$exe
	fetch "$base/scribe-actions_checksums.txt" "$1.sums" || { say "no release $version at $base (404): building from source"; return 1; }
	# A SHA pin uses the release only when the release was built from that very commit.
	if [ "$ref" != "$version" ]; then
		if ! fetch "$base/scribe-actions_commit.txt" "$1.commit" || [ "$(cat "$1.commit")" != "$ref" ]; then
			say "release $version was not built from $ref: building from source"
			return 1
		fi
	fi
	want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$1.sums")
	[ -n "$want" ] || { say "release $version has no $asset: building from source"; return 1; }
	fetch "$base/$asset" "$1" || { say "release $version lists $asset but it is not there (404)"; exit 1; }
	got=$(sha256 "$1")
	if [ "$got" != "$want" ]; then
		say "checksum mismatch for $asset of $version: got $got, the release says $want; refusing to run it"
		exit 1
	fi
	debug "downloaded and verified $asset of $version"
}

build() {
	command -v go >/dev/null 2>&1 || {
		say "no release binary for $ref and no Go to build one: add actions/setup-go before this step, or use a release tag"
		exit 1
	}
	debug "building from source at $root"
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$ref" -o "$1" ./cmd/scribe-actions)
}

# A tool cache hit runs only after its SHA-256 matches the one recorded when it was installed, which catches a
# binary corrupted or replaced in a tool cache that self-hosted runners share between jobs. It does not stop
# someone who can rewrite both files: binding to checksums in the action's own tree would. A binary without a
# record is installed again.
if [ -x "$bin" ] && [ -f "$bin.sha256" ]; then
	if [ "$(sha256 "$bin")" != "$(cat "$bin.sha256")" ]; then
		say "the tool cache's $bin does not match the SHA-256 recorded when it was installed; refusing to run it (delete $cache to install it again)"
		exit 1
	fi
	debug "tool cache hit: $bin (SHA-256 checked)"
else
	mkdir -p "$cache"
	tmp=$cache/.tmp.$$
	trap 'rm -f "$tmp" "$tmp.sums" "$tmp.commit" "$tmp.sha256" "$tmp.err" "$tmp.sums.err" "$tmp.commit.err"' EXIT INT TERM
	download "$tmp" || build "$tmp"
	chmod 755 "$tmp"
	sha256 "$tmp" >"$tmp.sha256"
	mv -f "$tmp.sha256" "$bin.sha256"
	mv -f "$tmp" "$bin" # atomic: a concurrent step sees no binary or a whole one
	rm -f "$tmp.sums" "$tmp.commit"
	trap - EXIT INT TERM
fi

if [ "${1:-}" = --install ]; then
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "path=$bin" >>"$GITHUB_OUTPUT"
		[ -z "${GITHUB_PATH:-}" ] || echo "$cache" >>"$GITHUB_PATH"
	else
		echo "path=$bin"
	fi
	exit 0
fi
exec "$bin" "$@"
