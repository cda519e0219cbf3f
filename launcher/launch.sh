#!/bin/sh
# launch.sh runs the scribe-actions binary that belongs to this action's tree, got the fastest safe way:
#   1. the tool cache, when an earlier step (or an earlier job on this runner) already has it, checked again
#      by SHA-256 before every run;
#   2. the release asset scribe-actions_<os>_<arch> named by the tree's launcher/checksums.txt (every release
#      tag's tree carries one; main never does), which must match the SHA-256 written there;
#   3. a build from the action's own source with the runner's Go.
#
# Usage: launch.sh <action> [flags...]   run the binary (every action does this)
#        launch.sh --install             only install it; print path=<binary> to GITHUB_OUTPUT (or stdout)
#
# Environment: SCRIBE_ACTION_REF and SCRIBE_ACTION_REPOSITORY (github.action_ref and action_repository),
# RUNNER_TOOL_CACHE, SCRIBE_RELEASE_URL (release download base, default $GITHUB_SERVER_URL/<repo>/releases/download).
set -eu
# Every step of every job starts here, so the path to a tool-cache hit forks as little as it can: a fork costs
# 3-10 ms on a small runner. Measured on 2 cores: the shell's own part of a hit 10 ms, the SHA-256 35 ms, the
# binary's start 45 ms (BenchmarkLauncher).

say() { printf 'scribe-actions launcher: %s\n' "$*" >&2; }
debug() { if [ "${GITHUB_ACTIONS:-}" = true ]; then printf '::debug::scribe-actions launcher: %s\n' "$*"; fi; }

case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
root=$(CDPATH='' cd -- "$here/.." && pwd)
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
# A full commit SHA names one source; any other ref (a branch, v1, even v1.2.3) may move.
sha_pin=false
if [ ${#ref} -eq 40 ] && [ "${ref#*[!0-9a-f]}" = "$ref" ]; then sha_pin=true; fi

system=$(uname -sm)
case ${system% *} in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
*) say "unsupported OS ${system% *}"; exit 1 ;;
esac
case ${system##* } in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) say "unsupported architecture ${system##* }"; exit 1 ;;
esac
exe=''
[ "$os" = windows ] && exe=.exe
asset=scribe-actions_${os}_$arch$exe

# sha256 FILE sets h to the file's SHA-256, with the fastest tool there: OpenSSL uses the CPU's SHA
# instructions (35 ms for the 26 MB binary, half of it OpenSSL's own start; sha256sum 80 ms), and every cache
# hit pays it. Without FILE it hashes standard input. No tool, no hash: the launcher stops rather than compare
# "" to "".
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
}

# The tree's checksums bind the binary to the commit the workflow pinned: release/build.sh writes them, the
# release workflow commits them on the commit it tags (v1.2.3, then v1.2 and v1 moved there). For any ref
# (v1.2.3, v1, v1.2 or that commit's SHA) they name the release and the asset's SHA-256, so a moved v1 (a tree
# with other checksums) gets another binary, and a release asset replaced after the fact never runs.
# A tree without them gets no download at all, not even for a tag: the release's own checksums file would be
# the only witness, and it sits beside the asset it vouches for, where whoever can replace one can replace the
# other. Such a tree (a branch, a commit between releases, a release made before checksums were committed)
# builds from its own source instead.
sums=$root/launcher/checksums.txt
version='' want=''
if [ -f "$sums" ]; then
	while read -r first second || [ -n "$first" ]; do
		second=${second%[!0-9A-Za-z._-]} # the CR of a line a Windows checkout ended with CRLF
		if [ "$first" = version ]; then version=$second; fi
		if [ "${second#\*}" = "$asset" ]; then want=$first; fi
		first=''
	done <"$sums"
	bad=false
	case $version in
	*[!0-9A-Za-z.-]*) bad=true ;; # it goes into a URL and a path: letters, digits, dots and hyphens only
	v[0-9]*.[0-9]*.[0-9]*) ;;
	*) bad=true ;;
	esac
	case $want in *[!0-9a-f]*) bad=true ;; esac
	[ -z "$want" ] || [ ${#want} -eq 64 ] || bad=true
	if [ "$bad" = true ]; then
		say "$sums is not a release's checksums file (want a first line 'version v1.2.3', then '<sha256>  <asset>' lines); refusing to guess"
		exit 1
	fi
fi

# at KEY puts the binary's place in the tool cache under KEY, made safe for a path. The repository is part of
# it: a fork's build is not upstream's.
at() {
	key=$1
	[ -z "$repo" ] || key=${repo%%/*}-${repo#*/}@$key
	case $key in *[!A-Za-z0-9._@-]*) key=$(printf '%s' "$key" | tr -c 'A-Za-z0-9._@-' '-') ;; esac
	cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/scribe-actions/$key/$arch
	bin=$cache/scribe-actions$exe
}

# source_key is the key of a binary built from this tree: the SHA pinned, else the ref and the SHA-256 of the
# source it builds from, so a moved ref never runs the binary a runner kept from before.
source_key() {
	if [ "$sha_pin" = true ]; then
		echo "$ref-source"
		return
	fi
	src=$(cd "$root" && find go.mod go.sum cmd internal build scan sign cleanup templates launcher -type f \
		! -path '*/testdata/*' ! -name '*_test.go' 2>/dev/null | LC_ALL=C sort | xargs cat | { sha256 && echo "$h"; })
	printf '%s-source.%.16s\n' "$ref" "$src"
}

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

# download puts the release asset the tree names at $1, verified against the tree's SHA-256. It returns 1 when
# there is no release to download (a fork, or the moment between the tag and the release), and exits when the
# asset does not match.
download() {
	if [ -z "$repo" ] && [ -z "${SCRIBE_RELEASE_URL:-}" ]; then
		say "no action repository (SCRIBE_ACTION_REPOSITORY) to download release $version from: building from source"
		return 1
	fi
	base=${SCRIBE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}
	fetch "$base/$version/$asset" "$1" || { say "no release $version at $base (404): building from source"; return 1; }
	sha256 "$1"
	if [ "$h" != "$want" ]; then
		say "checksum mismatch for $asset of $version: got $h, this action's launcher/checksums.txt says $want; refusing to run it"
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

# install GET fills $cache with the binary GET (download or build) makes, and its SHA-256 when no tree checksum
# vouches for it. It works in a directory beside $cache and renames it into place: one rename(2), so a step
# sees no $cache or a whole one. Two jobs that race both finish; the loser's rename lands inside the winner's
# directory, and it drops that and runs the winner's binary, which the check below then verifies.
install() {
	if ! mkdir -p "${cache%/*}" || ! stage=$(mktemp -d "$cache.XXXXXX"); then
		say "cannot write to the tool cache at $cache"
		exit 1
	fi
	trap 'rm -rf "$stage"; rmdir "${cache%/*}" 2>/dev/null || :' EXIT
	trap 'exit 1' INT TERM
	"$1" "$stage/scribe-actions$exe" || { rm -rf "$stage"; trap - EXIT INT TERM; return 1; }
	chmod 755 "$stage/scribe-actions$exe"
	[ -n "$want" ] || { sha256 "$stage/scribe-actions$exe" && echo "$h" >"$stage/scribe-actions$exe.sha256"; }
	mv "$stage" "$cache"
	rm -rf "${cache:?}/${stage##*/}"
	trap - EXIT INT TERM
}

why=''
if [ -n "$want" ]; then
	at "$version-sha256.${want%"${want#????????????????}"}" # its first 16 characters, without a fork
	[ -d "$cache" ] || install download || want='' # download said why
elif [ -n "$version" ]; then
	why="release $version has no $asset: building from source"
else
	why="$ref has no launcher/checksums.txt (release tags do), so no release binary is bound to it: building from this checkout's source"
	[ "$sha_pin" = true ] || why="$why, keyed by its SHA-256 as $ref may move"
	why="$why; pin a release (v1.2.3, v1) or its commit SHA to download a verified binary"
fi
if [ -z "$want" ]; then
	at "$(source_key)"
	[ -d "$cache" ] || { [ -z "$why" ] || say "$why"; install build; }
fi

# Every run checks the binary's SHA-256 first: against the tree's checksums for a release (so rewriting the
# binary and anything beside it in a tool cache that self-hosted runners share does not pass), else against
# the one recorded when it was built here (which catches corruption, not someone who rewrites both).
if [ -n "$want" ]; then
	said="this action's launcher/checksums.txt ($version)"
else
	said="the record made when it was built ($bin.sha256)"
	want=''
	[ ! -f "$bin.sha256" ] || read -r want <"$bin.sha256" || :
fi
h='(no file)'
[ ! -f "$bin" ] || sha256 "$bin"
if [ "$h" != "$want" ]; then
	say "the tool cache's $bin has SHA-256 $h, but $said says ${want:-nothing}; refusing to run it (delete $cache to install it again)"
	exit 1
fi
debug "running $bin (SHA-256 checked)"

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
