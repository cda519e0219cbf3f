package scan

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"
)

// isGemspec tells an installed gem's specification. RubyGems writes one per installed gem into
// <gem home>/specifications/ (its default gems into specifications/default/); Debian's ruby-* packages into
// /usr/share/rubygems-integration/all/specifications/ and, for gems with native code,
// /usr/lib/<triplet>/rubygems-integration/<ruby ABI>/specifications/. A .gemspec elsewhere is a gem's source,
// not an installed gem: syft's installed-gem cataloguer reads the same files.
func isGemspec(p string) bool {
	return strings.HasSuffix(p, ".gemspec") && strings.Contains(p, "/specifications/")
}

// gemspecField is one of the assignments RubyGems writes when it installs a gem, `s.name = "rack".freeze` and
// `s.version = "2.2.22"`. A gemspec is Ruby source, but an installed one is generated in this shape, so reading
// the literal assignments is enough, as syft does; one whose name or version is computed is left out rather
// than guessed.
var gemspecField = regexp.MustCompile(`^\w+\.(name|version)\s*=\s*(?:"([^"\\#]*)"|'([^'\\]*)')(?:\.freeze)?\s*(?:#.*)?$`)

// gemToken is what a gem's name and version are made of.
var gemToken = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// gemPackage is the gem an installed gemspec describes: the first literal assignment of each field wins, the
// one in Gem::Specification.new's block.
func gemPackage(f found) (Package, bool) {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() && (fields["name"] == "" || fields["version"] == "") {
		m := gemspecField.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil || fields[m[1]] != "" {
			continue
		}
		fields[m[1]] = m[2] + m[3]
	}
	name, version := fields["name"], fields["version"]
	if !gemToken.MatchString(name) || !gemToken.MatchString(version) {
		return Package{}, false
	}
	return Package{Name: name, Version: version, Type: "gem", Ecosystem: ecoRubyGems,
		PURL:  packageurl.NewPackageURL("gem", "", name, version, nil, "").ToString(),
		Layer: f.layer, Path: f.path}, true
}
