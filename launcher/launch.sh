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

sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

# A tag or a full commit SHA names one immutable source; anything else (a branch, a working tree) may move,
# so its binary is keyed by a hash of the source it was built from as well.
key=$ref
case $ref in
v[0-9]*) ;;
*)
	if ! printf '%s' "$ref" | grep -Eq '^[0-9a-f]{40}$'; then
		src=$(cd "$root" && find go.mod go.sum cmd internal build scan sign cleanup templates launcher -type f \
			! -path '*/testdata/*' ! -name '*_test.go' 2>/dev/null | LC_ALL=C sort | xargs cat | cksum | cut -d' ' -f1)
		key=$ref-$src
	fi
	;;
esac
key=$(printf '%s' "$key" | tr -c 'A-Za-z0-9._-' '-')

cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/scribe-actions/$key/$arch
bin=$cache/scribe-actions$exe

fetch() { # fetch URL FILE: 0 when got, 1 when not there
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 --retry-delay 1 -o "$2" "$1" 2>/dev/null
	else
		wget -q -O "$2" "$1" 2>/dev/null
	fi
}

# download puts the verified release binary at $1. It returns 1 when this ref has no release to download
# and exits when a downloaded binary does not match its checksum.
download() {
	version=''
	case $ref in
	v[0-9]*) version=$ref ;;
	*) printf '%s' "$ref" | grep -Eq '^[0-9a-f]{40}$' && [ -f "$root/VERSION" ] && version=$(cat "$root/VERSION") ;;
	esac
	[ -n "$version" ] || return 1
	[ -n "$repo" ] || [ -n "${SCRIBE_RELEASE_URL:-}" ] || return 1
	base=${SCRIBE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}/$version
	asset=scribe-actions_${os}_$arch$exe
	fetch "$base/scribe-actions_checksums.txt" "$1.sums" || { debug "no release $version"; return 1; }
	# A SHA pin uses the release only when the release was built from that very commit.
	if [ "$ref" != "$version" ]; then
		if ! fetch "$base/scribe-actions_commit.txt" "$1.commit" || [ "$(cat "$1.commit")" != "$ref" ]; then
			debug "release $version was not built from $ref"
			return 1
		fi
	fi
	want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$1.sums")
	[ -n "$want" ] || { debug "release $version has no $asset"; return 1; }
	fetch "$base/$asset" "$1" || { say "release $version lists $asset but it could not be downloaded"; exit 1; }
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

if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	tmp=$cache/.tmp.$$
	trap 'rm -f "$tmp" "$tmp.sums" "$tmp.commit"' EXIT INT TERM
	download "$tmp" || build "$tmp"
	chmod 755 "$tmp"
	mv -f "$tmp" "$bin" # atomic: a concurrent step sees no binary or a whole one
	rm -f "$tmp.sums" "$tmp.commit"
	trap - EXIT INT TERM
else
	debug "tool cache hit: $bin"
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
