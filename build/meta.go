package build

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Context is what tags and labels are computed from: the GitHub event, as a runner describes it.
type Context struct {
	EventName     string // push, pull_request, schedule, workflow_dispatch, ...
	Ref           string // refs/heads/main, refs/tags/v1.2.3, refs/pull/2/merge
	SHA           string
	DefaultBranch string
	Repository    string // owner/name
	ServerURL     string // https://github.com
	RunNumber     int
	PRNumber      int
	Time          time.Time
	Description   string
	License       string
}

// Meta is the result: tags (image:tag), the version, and OCI labels.
type Meta struct {
	Version string
	Tags    []string // full references, image:tag
	Labels  map[string]string
}

// rule is one line of the tags input, in docker/metadata-action's language.
type rule struct {
	typ      string
	attrs    map[string]string
	enable   bool
	priority int
}

var defaultPriority = map[string]int{"schedule": 1000, "semver": 900, "pep440": 900, "match": 800, "edge": 700, "ref": 600, "raw": 200, "sha": 100}

// parseRule reads one CSV rule ("type=semver,pattern={{version}}"); a line without type= is a raw value.
func parseRule(line string) (rule, error) {
	r := rule{attrs: map[string]string{}, enable: true}
	for _, field := range splitCSV(line) {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			r.attrs["value"] = field // "type=raw,foo" and plain "foo"
			continue
		}
		r.attrs[strings.TrimSpace(k)] = v
	}
	r.typ = r.attrs["type"]
	if r.typ == "" {
		r.typ = "raw"
		if v, ok := r.attrs["value"]; !ok || v == "" {
			r.attrs["value"] = line
		}
	}
	prio, ok := defaultPriority[r.typ]
	if !ok {
		return r, fmt.Errorf("unknown type %q (want schedule, semver, pep440, match, edge, ref, raw or sha)", r.typ)
	}
	r.priority = prio
	if p, ok := r.attrs["priority"]; ok {
		n, err := strconv.Atoi(p)
		if err != nil {
			return r, fmt.Errorf("priority %q is not a number", p)
		}
		r.priority = n
	}
	if e, ok := r.attrs["enable"]; ok {
		r.enable = e == "true"
	}
	if r.typ == "ref" && !slicesContains([]string{"branch", "tag", "pr"}, r.attrs["event"]) {
		return r, fmt.Errorf("type=ref needs event=branch, event=tag or event=pr")
	}
	if (r.typ == "semver" || r.typ == "pep440" || r.typ == "match") && r.attrs["pattern"] == "" {
		return r, fmt.Errorf("type=%s needs a pattern", r.typ)
	}
	return r, nil
}

// CheckTagRule validates one line of the tags input.
func CheckTagRule(line string) error {
	if _, err := parseRule(line); err != nil {
		return fmt.Errorf("is not a tag rule: %v", err)
	}
	return nil
}

func splitCSV(line string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

func slicesContains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

type flavor struct {
	latest         string // auto, true, false
	prefix, suffix string
	prefixOnLatest bool
	suffixOnLatest bool
}

func parseFlavor(lines []string) (flavor, error) {
	f := flavor{latest: "auto"}
	for _, line := range lines {
		for _, field := range splitCSV(line) {
			k, v, _ := strings.Cut(field, "=")
			switch k {
			case "latest":
				if !slicesContains([]string{"auto", "true", "false"}, v) {
					return f, fmt.Errorf("latest=%q: want auto, true or false", v)
				}
				f.latest = v
			case "prefix":
				f.prefix = v
			case "suffix":
				f.suffix = v
			case "onlatest":
				// applies to the prefix or suffix written before it on the line
				if strings.Contains(line, "prefix=") {
					f.prefixOnLatest = v == "true"
				}
				if strings.Contains(line, "suffix=") {
					f.suffixOnLatest = v == "true"
				}
			default:
				return f, fmt.Errorf("unknown flavor %q (want latest, prefix, suffix, onlatest)", k)
			}
		}
	}
	return f, nil
}

var semverRe = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$`)

var invalidTagChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// sanitize makes a string a valid tag: runs of other characters become "-", at most 128 characters.
func sanitize(tag string) string {
	t := invalidTagChars.ReplaceAllString(tag, "-")
	if len(t) > 128 {
		t = t[:128]
	}
	return t
}

type candidate struct {
	value    string
	priority int
	latestOK bool // may bring latest=auto
	raw      bool // already flavoured or not subject to it
}

// ComputeMeta applies the tag rules, flavor and tag suffix to the context, as docker/metadata-action does.
func ComputeMeta(ctx Context, images, rules, flavorLines []string, tagSuffix string, extraLabels map[string]string) (*Meta, error) {
	fl, err := parseFlavor(flavorLines)
	if err != nil {
		return nil, fmt.Errorf("flavor: %w", err)
	}
	var cands []candidate
	refTag := strings.TrimPrefix(ctx.Ref, "refs/tags/")
	isTag := strings.HasPrefix(ctx.Ref, "refs/tags/")
	branch := ""
	if strings.HasPrefix(ctx.Ref, "refs/heads/") {
		branch = strings.TrimPrefix(ctx.Ref, "refs/heads/")
	}
	expand := func(s string) string {
		short := ctx.SHA
		if len(short) > 7 {
			short = short[:7]
		}
		r := strings.NewReplacer("{{branch}}", branch, "{{tag}}", map[bool]string{true: refTag}[isTag], "{{sha}}", short,
			"{{is_default_branch}}", strconv.FormatBool(branch != "" && branch == ctx.DefaultBranch))
		return expandDate(r.Replace(s), ctx.Time)
	}
	for _, line := range rules {
		r, err := parseRule(line)
		if err != nil {
			return nil, fmt.Errorf("tag rule %q: %w", line, err)
		}
		if e, ok := r.attrs["enable"]; ok {
			r.enable = expand(e) == "true"
		}
		if !r.enable {
			continue
		}
		prefix, suffix := expand(r.attrs["prefix"]), expand(r.attrs["suffix"])
		addC := func(v string, latestOK bool) {
			if v != "" {
				cands = append(cands, candidate{value: prefix + v + suffix, priority: r.priority, latestOK: latestOK})
			}
		}
		switch r.typ {
		case "schedule":
			if ctx.EventName == "schedule" {
				p := r.attrs["pattern"]
				if p == "" {
					p = "nightly"
				}
				addC(expand(p), false)
			}
		case "semver", "pep440":
			value := r.attrs["value"]
			if value == "" {
				if !isTag {
					continue
				}
				value = refTag
			}
			m := semverRe.FindStringSubmatch(expand(value))
			if m == nil {
				continue
			}
			pattern := r.attrs["pattern"]
			pre := m[4] != ""
			version := m[1] + "." + m[2] + "." + m[3]
			if pre {
				version += "-" + m[4]
			}
			if pre && !strings.Contains(pattern, "{{raw}}") {
				pattern = "{{version}}" // a prerelease only ever gets its full version
			}
			out := strings.NewReplacer("{{raw}}", expand(value), "{{version}}", version, "{{major}}", m[1], "{{minor}}", m[2], "{{patch}}", m[3]).Replace(pattern)
			addC(out, !pre)
		case "match":
			value := r.attrs["value"]
			if value == "" {
				if !isTag {
					continue
				}
				value = refTag
			}
			re, err := regexp.Compile(r.attrs["pattern"])
			if err != nil {
				return nil, fmt.Errorf("tag rule %q: pattern: %w", line, err)
			}
			group, _ := strconv.Atoi(r.attrs["group"])
			if m := re.FindStringSubmatch(expand(value)); m != nil && group < len(m) {
				addC(m[group], true)
			}
		case "edge":
			want := r.attrs["branch"]
			if want == "" {
				want = ctx.DefaultBranch
			}
			if branch != "" && branch == want {
				addC("edge", false)
			}
		case "ref":
			switch r.attrs["event"] {
			case "branch":
				addC(branch, false)
			case "tag":
				if isTag {
					addC(refTag, true)
				}
			case "pr":
				if ctx.PRNumber > 0 {
					if _, ok := r.attrs["prefix"]; !ok {
						prefix = "pr-"
					}
					addC(strconv.Itoa(ctx.PRNumber), false)
				}
			}
		case "sha":
			if ctx.SHA != "" {
				sha := ctx.SHA
				if r.attrs["format"] != "long" && len(sha) > 7 {
					sha = sha[:7]
				}
				if _, ok := r.attrs["prefix"]; !ok {
					prefix = "sha-"
				}
				addC(sha, false)
			}
		case "raw":
			addC(expand(r.attrs["value"]), false)
		}
	}
	if tagSuffix != "" {
		v := tagSuffix
		if v == "manual" {
			v = fmt.Sprintf("manual-%d", ctx.RunNumber)
		}
		cands = append(cands, candidate{value: v, priority: defaultPriority["raw"]})
	}

	latest := false
	switch fl.latest {
	case "true":
		latest = true
	case "auto":
		for _, c := range cands {
			latest = latest || c.latestOK
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].priority > cands[j].priority })
	meta := &Meta{Labels: map[string]string{}}
	var tags []string
	seen := map[string]bool{}
	for _, c := range cands {
		t := sanitize(fl.prefix + c.value + fl.suffix)
		if !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	if latest {
		t := "latest"
		if fl.prefixOnLatest {
			t = fl.prefix + t
		}
		if fl.suffixOnLatest {
			t += fl.suffix
		}
		if t = sanitize(t); !seen[t] {
			tags = append(tags, t)
		}
	}
	if len(tags) > 0 {
		meta.Version = tags[0]
	}
	for _, img := range images {
		for _, t := range tags {
			meta.Tags = append(meta.Tags, strings.ToLower(img)+":"+t)
		}
	}

	url := strings.TrimSuffix(ctx.ServerURL, "/") + "/" + ctx.Repository
	name := ctx.Repository
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.title":       name,
		"org.opencontainers.image.description": ctx.Description,
		"org.opencontainers.image.url":         url,
		"org.opencontainers.image.source":      url,
		"org.opencontainers.image.version":     meta.Version,
		"org.opencontainers.image.created":     ctx.Time.UTC().Format(time.RFC3339),
		"org.opencontainers.image.revision":    ctx.SHA,
		"org.opencontainers.image.licenses":    ctx.License,
	} {
		meta.Labels[k] = v
	}
	for k, v := range extraLabels {
		meta.Labels[k] = v
	}
	return meta, nil
}

var dateExpr = regexp.MustCompile(`\{\{date '([^']+)'\}\}`)

// expandDate replaces {{date 'YYYYMMDD'}} (moment.js tokens YYYY, MM, DD, HH, mm, ss) with the time.
func expandDate(s string, t time.Time) string {
	return dateExpr.ReplaceAllStringFunc(s, func(m string) string {
		f := dateExpr.FindStringSubmatch(m)[1]
		r := strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02", "HH", "15", "mm", "04", "ss", "05")
		return t.UTC().Format(r.Replace(f))
	})
}
