package cleanup

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// semverTag matches the tags a release gets: docker/metadata-action's type=semver patterns {{version}}
// (1.2.3, 1.2.3-rc.1) and {{major}}.{{minor}} (1.2), and the git tag itself (v1.2.3).
var semverTag = regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// releaseWarning says, for repo, which semver tags a plan deletes when no exclude-tags protects anything:
// keep-n-tagged alone counts every tagged image, so ten pushes to a branch are enough to delete a release.
// A plan that deletes none, or rules with exclude-tags, give "".
func releaseWarning(repo string, p *Plan, r Rules) string {
	if len(r.ExcludeTags) > 0 {
		return ""
	}
	var tags []string
	for _, d := range p.Delete {
		for _, t := range d.Tags {
			if semverTag.MatchString(t) {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 {
		return ""
	}
	sort.Strings(tags)
	return fmt.Sprintf("%s: the plan deletes images with semver tags (%s) and exclude-tags is empty: "+
		"releases are not protected; set exclude-tags (e.g. [0-9]*.[0-9]*,v[0-9]*.[0-9]*,latest) to keep them",
		repo, strings.Join(tags, ", "))
}
