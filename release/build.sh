#!/bin/sh
# build.sh builds the release binaries and the two checksums files the release workflow publishes and commits:
#   dist/scribe-actions_<os>_<arch>[.exe]   one binary per runner platform, the release's assets
#   dist/scribe-actions_checksums.txt       their SHA-256, `sha256sum` style, published with them
#   launcher/checksums.txt                  "version <tag>" then the same lines: committed on the commit the tag
#                                           names, it binds the launcher of that tree to these very binaries
#
# Usage: release/build.sh <version> [os/arch...]   (default: every platform a runner has)
# Environment: DIST (default dist) and CHECKSUMS (default launcher/checksums.txt), relative to the repository
# root: a test builds into a folder of its own, and never writes a checksums file into the working tree.
set -eu

version=${1:?usage: release/build.sh <version> [os/arch...]}
shift
# The launcher puts the version into a URL and a path, and accepts only this shape.
if ! printf '%s\n' "$version" | grep -Eqx 'v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?'; then
	echo "build.sh: version $version is not a release tag (v1.2.3, v1.2.3-rc.1)" >&2
	exit 1
fi
[ $# -gt 0 ] || set -- linux/amd64 linux/arm64 darwin/arm64 windows/amd64

cd -- "$(dirname -- "$0")/.."
dist=${DIST:-dist}
sums=${CHECKSUMS:-launcher/checksums.txt}
mkdir -p "$dist" "$(dirname -- "$sums")"

assets=''
for target in "$@"; do
	os=${target%/*} arch=${target#*/} ext=''
	[ "$os" = windows ] && ext=.exe
	asset=scribe-actions_${os}_$arch$ext
	# -trimpath: no path of the build machine in the binary; no cgo: static, it runs on any runner of its platform.
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "-s -w -X main.version=$version" \
		-o "$dist/$asset" ./cmd/scribe-actions
	assets="$assets $asset"
done

# sha256sum on Linux, shasum on a maintainer's Mac: the same "<hex>  <name>" lines.
if command -v sha256sum >/dev/null 2>&1; then hash='sha256sum'; else hash='shasum -a 256'; fi
# shellcheck disable=SC2086 # $hash is a command and its flags, $assets a list of plain names
(cd "$dist" && $hash $assets) >"$dist/scribe-actions_checksums.txt"
{
	echo "version $version"
	cat "$dist/scribe-actions_checksums.txt"
} >"$sums"
echo "build.sh: built$assets into $dist; checksums in $dist/scribe-actions_checksums.txt and $sums" >&2
