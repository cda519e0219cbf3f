package build

import (
	"regexp"
	"strings"
)

// pep440Re is the regular expression of PEP 440, Appendix B ("Parsing version strings with regular
// expressions", https://peps.python.org/pep-0440/#appendix-b-parsing-version-strings-with-regular-expressions),
// which is pypa/packaging's VERSION_PATTERN, compiled case-insensitive and anchored as the appendix does. It
// leaves out the appendix's surrounding \s*, because metadata-action checks a tag with @renovate/pep440's
// valid(), whose expression has none. Go's regexp picks the submatches a backtracking engine would, so the
// groups are the ones Python finds.
var pep440Re = regexp.MustCompile(`(?i)^v?` +
	`(?:` +
	`(?:(?P<epoch>[0-9]+)!)?` + // epoch
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` + // release segment
	`(?P<pre>[-_\.]?(?P<pre_l>(a|b|c|rc|alpha|beta|pre|preview))[-_\.]?(?P<pre_n>[0-9]+)?)?` + // pre-release
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_\.]?(?P<post_l>post|rev|r)[-_\.]?(?P<post_n2>[0-9]+)?))?` + // post release
	`(?P<dev>[-_\.]?(?P<dev_l>dev)[-_\.]?(?P<dev_n>[0-9]+)?)?` + // dev release
	`)` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?$`) // local version

// pep440Version is a PEP 440 version in its parts. Numbers stay decimal strings without leading zeros, so a
// number of any length normalises exactly, as Python's unbounded ints do.
type pep440Version struct {
	epoch   string   // "0" when the version has none
	release []string // never empty
	pre     string   // normalised, "a1", "b0", "rc2"; "" for none
	post    string   // the post-release number; "" for none (a post release always has one, "0" if implicit)
	dev     string   // the dev-release number; "" for none
	local   []string // lower case, numbers without leading zeros; nil for none
}

// parsePEP440 parses a version, normalising as PEP 440's "Normalization" section (and packaging) do; false when
// s is not a PEP 440 version.
func parsePEP440(s string) (pep440Version, bool) {
	m := pep440Re.FindStringSubmatch(s)
	if m == nil {
		return pep440Version{}, false
	}
	group := func(name string) string { return m[pep440Re.SubexpIndex(name)] }
	v := pep440Version{epoch: "0"}
	if e := group("epoch"); e != "" {
		v.epoch = trimZeros(e)
	}
	for _, n := range strings.Split(group("release"), ".") {
		v.release = append(v.release, trimZeros(n))
	}
	if l := group("pre_l"); l != "" {
		v.pre = preSpelling(strings.ToLower(l)) + orZero(group("pre_n"))
	}
	if group("post") != "" {
		v.post = orZero(group("post_n1") + group("post_n2")) // at most one of them is set
	}
	if group("dev") != "" {
		v.dev = orZero(group("dev_n"))
	}
	if l := group("local"); l != "" {
		for _, part := range localSeparators.Split(strings.ToLower(l), -1) {
			if strings.Trim(part, "0123456789") == "" {
				part = trimZeros(part) // a numeric segment is a number: "007" is "7"
			}
			v.local = append(v.local, part)
		}
	}
	return v, true
}

var localSeparators = regexp.MustCompile(`[-_.]`)

// preSpelling maps the alternative spellings PEP 440 accepts to the ones it normalises to.
func preSpelling(l string) string {
	switch l {
	case "alpha":
		return "a"
	case "beta":
		return "b"
	case "c", "pre", "preview":
		return "rc"
	}
	return l
}

// trimZeros writes a number without leading zeros ("00" is "0").
func trimZeros(n string) string {
	if t := strings.TrimLeft(n, "0"); t != "" {
		return t
	}
	return "0"
}

// orZero is a release number that may be implicit: "1.0rc" is "1.0rc0".
func orZero(n string) string {
	if n == "" {
		return "0"
	}
	return trimZeros(n)
}

// String is the normalised form of PEP 440: [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local].
func (v pep440Version) String() string {
	return v.format(".")
}

// metadataActionString is the normalised form as metadata-action's {{version}} writes it, through
// @renovate/pep440's clean(). It differs from String only in a local version of several segments:
// clean() puts the array of segments in a template string, which joins them with commas, where PEP 440
// joins them with dots ("1.0+abc.5" is "1.0+abc,5"). A tag sanitises the comma to "-"; taking it over keeps
// the tags the same as metadata-action's.
func (v pep440Version) metadataActionString() string {
	return v.format(",")
}

func (v pep440Version) format(localSep string) string {
	var b strings.Builder
	if v.epoch != "0" {
		b.WriteString(v.epoch + "!")
	}
	b.WriteString(strings.Join(v.release, "."))
	b.WriteString(v.pre)
	if v.post != "" {
		b.WriteString(".post" + v.post)
	}
	if v.dev != "" {
		b.WriteString(".dev" + v.dev)
	}
	if v.local != nil {
		b.WriteString("+" + strings.Join(v.local, localSep))
	}
	return b.String()
}

// isFinal is false for a pre-, post- or dev release: metadata-action gives those only their full version and
// no latest, since they are replaced often (README, type=pep440). A local version does not count.
func (v pep440Version) isFinal() bool {
	return v.pre == "" && v.post == "" && v.dev == ""
}

// segment is the i-th number of the release segment ({{major}} is 0), 0 past its end as @renovate/pep440's
// minor() and patch() give; the epoch is not part of it.
func (v pep440Version) segment(i int) string {
	if i < len(v.release) {
		return v.release[i]
	}
	return "0"
}
