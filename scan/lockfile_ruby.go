package scan

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// gemSpec is a spec line of Gemfile.lock, "    name (version[-platform])", as osv-scalibr's gemfilelock reads
// it (a gem's version has no hyphen: what follows one is the platform).
var gemSpec = regexp.MustCompile(`^(.*?)(?: \(([^-]*)(?:-(.*))?\))?(!)?$`)

// readGemfileLock reads Gemfile.lock (gems.locked): the specs, indented by four, of its GEM, GIT and PLUGIN
// SOURCE sections; PATH's are local gems. A GIT section's gems are built from its revision: unassessable.
func readGemfileLock(_ string, data []byte, _ lockfileDir) ([]dependency, error) {
	var out []dependency
	section, revision := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			continue
		case !strings.HasPrefix(line, " "):
			section, revision = line, ""
			continue
		case strings.HasPrefix(line, "  revision: "):
			revision = strings.TrimPrefix(line, "  revision: ")
			continue
		case !strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "     "):
			continue // a section's fields, a spec's own dependencies
		}
		if section != "GEM" && section != "GIT" && section != "PLUGIN SOURCE" {
			continue
		}
		m := gemSpec.FindStringSubmatch(strings.TrimPrefix(line, "    "))
		if m == nil || m[1] == "" || m[2] == "" {
			return nil, errAt(n, "%q is not a gem spec (name (version))", strings.TrimSpace(line))
		}
		d := dependency{name: m[1], version: m[2], line: n}
		if section == "GIT" {
			d.unassessable(strings.TrimSpace(line), "a git dependency (revision %s): OSV's records name RubyGems releases", revision)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}
