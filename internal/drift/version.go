package drift

import (
	"regexp"
	"strconv"
	"strings"
)

// version is a release version vMAJOR[.MINOR[.PATCH]]; parts says how many were written (v4 is a moving
// major tag, v4.2 a moving minor one).
type version struct {
	v     [3]int
	parts int
	pre   bool
}

var versionPattern = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?$`)

func parseVersion(s string) (version, bool) {
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	var v version
	for i := 1; i <= 3; i++ {
		if m[i] == "" {
			break
		}
		v.v[i-1], _ = strconv.Atoi(m[i])
		v.parts = i
	}
	v.pre = m[4] != ""
	return v, true
}

// exact reports a full vX.Y.Z release.
func (v version) exact() bool { return v.parts == 3 && !v.pre }

// ceiling is what a moving tag stands for when compared: v4 is the newest v4.x.y, so compare it as v4.max.max.
func (v version) ceiling() [3]int {
	c := v.v
	for i := v.parts; i < 3; i++ {
		c[i] = 1 << 30
	}
	return c
}

func cmp3(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// within reports whether the exact version e is one a moving tag t may point to (v4.2.2 within v4 and v4.2).
func within(e, t version) bool {
	for i := 0; i < t.parts; i++ {
		if e.v[i] != t.v[i] {
			return false
		}
	}
	return true
}

func (v version) String() string {
	s := "v" + strconv.Itoa(v.v[0])
	for i := 1; i < v.parts; i++ {
		s += "." + strconv.Itoa(v.v[i])
	}
	return s
}

// highest returns the highest exact release among names, or "".
func highest(names []string) string {
	best, bestV := "", version{}
	for _, n := range names {
		v, ok := parseVersion(n)
		if ok && v.exact() && strings.HasPrefix(n, "v") && (best == "" || cmp3(v.v, bestV.v) > 0) {
			best, bestV = n, v
		}
	}
	return best
}
