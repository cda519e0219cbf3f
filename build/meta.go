package build

import (
	"fmt"
	"maps"
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

// Meta is the result: tags (image:tag), the version, OCI labels, and warnings.
type Meta struct {
	Version string
	Tags    []string // full references, image:tag
	Labels  map[string]string
	// Annotations are the OCI labels of the event without the labels input: what metadata-action's annotations
	// output holds (its labels input does not reach annotations), before a level is put in front of each.
	Annotations map[string]string
	// Warnings say why a rule that applied gave no tag (a tag that is no version, a match= that does not
	// match), as metadata-action's warnings do: a missing tag must be explained, not silent.
	Warnings []string
}

// rule is one line of the tags input, in docker/metadata-action's language.
type rule struct {
	typ      string
	attrs    map[string]string
	enable   bool
	priority int
	match    *regexp.Regexp // pep440's match=, checked once here rather than on every event
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
	return r, parseMatch(&r)
}

// parseMatch compiles type=pep440's match=. metadata-action takes the match's group 1 as the version (and
// fails on a match without one), so a regular expression without a group is refused here, before any event.
func parseMatch(r *rule) error {
	m := r.attrs["match"]
	if r.typ != "pep440" || m == "" {
		return nil
	}
	re, err := regexp.Compile(m)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	if re.NumSubexp() == 0 {
		return fmt.Errorf("match %q has no group: its group 1 is the version", m)
	}
	r.match = re
	return nil
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
	cands, warnings, err := newEvent(ctx).candidates(rules)
	if err != nil {
		return nil, err
	}
	if tagSuffix != "" {
		v := tagSuffix
		if v == "manual" {
			v = fmt.Sprintf("manual-%d", ctx.RunNumber)
		}
		cands = append(cands, candidate{value: v, priority: defaultPriority["raw"]})
	}
	tags := fl.apply(cands)
	meta := &Meta{Warnings: warnings}
	if len(tags) > 0 {
		meta.Version = tags[0]
	}
	for _, img := range images {
		for _, t := range tags {
			meta.Tags = append(meta.Tags, strings.ToLower(img)+":"+t)
		}
	}
	meta.Labels = labels(ctx, meta.Version, extraLabels)
	meta.Annotations = labels(ctx, meta.Version, nil)
	return meta, nil
}

// event is the context as tag rules read it: the ref split into a branch or a tag.
type event struct {
	Context
	branch string // "" unless the ref is a branch
	tag    string // "" unless the ref is a tag
	isTag  bool
}

func newEvent(ctx Context) *event {
	e := &event{Context: ctx}
	if b, ok := strings.CutPrefix(ctx.Ref, "refs/heads/"); ok {
		e.branch = b
	}
	if t, ok := strings.CutPrefix(ctx.Ref, "refs/tags/"); ok {
		e.tag, e.isTag = t, true
	}
	return e
}

// expand replaces {{branch}}, {{tag}}, {{sha}}, {{is_default_branch}} and {{date '...'}}.
func (e *event) expand(s string) string {
	short := e.SHA
	if len(short) > 7 {
		short = short[:7]
	}
	r := strings.NewReplacer("{{branch}}", e.branch, "{{tag}}", e.tag, "{{sha}}", short,
		"{{is_default_branch}}", strconv.FormatBool(e.branch != "" && e.branch == e.DefaultBranch))
	return expandDate(r.Replace(s), e.Time)
}

// tagOf is what one rule gives for an event: a value ("" for none), whether it may bring latest=auto, the
// prefix it has when the rule names none, and warnings on why it gave less than it might have.
type tagOf struct {
	value         string
	latestOK      bool
	defaultPrefix string
	warnings      []string
}

// ruleTypes computes each type of rule; parseRule has checked the attributes each needs.
var ruleTypes = map[string]func(*event, rule) (tagOf, error){
	"schedule": scheduleTag, "semver": semverTag, "pep440": pep440Tag, "match": matchTag, "edge": edgeTag,
	"ref": refTag, "sha": shaTag, "raw": rawTag,
}

// candidates applies each enabled rule, in order; the warnings name the rule they are about.
func (e *event) candidates(rules []string) ([]candidate, []string, error) {
	var cands []candidate
	var warnings []string
	for _, line := range rules {
		r, err := parseRule(line)
		if err != nil {
			return nil, nil, fmt.Errorf("tag rule %q: %w", line, err)
		}
		if en, ok := r.attrs["enable"]; ok {
			r.enable = e.expand(en) == "true"
		}
		if !r.enable {
			continue
		}
		t, err := ruleTypes[r.typ](e, r)
		if err != nil {
			return nil, nil, fmt.Errorf("tag rule %q: %w", line, err)
		}
		for _, w := range t.warnings {
			warnings = append(warnings, fmt.Sprintf("tag rule %q: %s", line, w))
		}
		if t.value == "" {
			continue
		}
		prefix, ok := r.attrs["prefix"]
		if !ok {
			prefix = t.defaultPrefix
		}
		cands = append(cands, candidate{value: e.expand(prefix) + t.value + e.expand(r.attrs["suffix"]), priority: r.priority,
			latestOK: t.latestOK})
	}
	return cands, warnings, nil
}

// scheduleTag: type=schedule gives its pattern (nightly by default) on a scheduled run.
func scheduleTag(e *event, r rule) (tagOf, error) {
	if e.EventName != "schedule" {
		return tagOf{}, nil
	}
	p := r.attrs["pattern"]
	if p == "" {
		p = "nightly"
	}
	return tagOf{value: e.expand(p)}, nil
}

// ruleValue is what semver and match rules read: the value attribute, else the pushed tag; false when there is
// neither.
func (e *event) ruleValue(r rule) (string, bool) {
	v := r.attrs["value"]
	if v == "" {
		if !e.isTag {
			return "", false
		}
		v = e.tag
	}
	return e.expand(v), true
}

// semverTag: type=semver fills the pattern from a version; a prerelease gets only its full version, and
// brings no latest.
func semverTag(e *event, r rule) (tagOf, error) {
	value, ok := e.ruleValue(r)
	if !ok {
		return tagOf{}, nil
	}
	m := semverRe.FindStringSubmatch(value)
	if m == nil {
		return tagOf{warnings: []string{fmt.Sprintf("%q is not a valid semver (https://semver.org/)", value)}}, nil
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
	out := strings.NewReplacer("{{raw}}", value, "{{version}}", version, "{{major}}", m[1], "{{minor}}", m[2], "{{patch}}", m[3]).Replace(pattern)
	return tagOf{value: out, latestOK: !pre}, nil
}

// pep440Tag: type=pep440 fills the pattern from a PEP 440 version, as metadata-action's procPep440 does: a
// pre-, post- or dev release gets only its normalised version (or the value itself for pattern={{raw}}) and
// brings no latest; a value that is not PEP 440 gives no tag and a warning.
func pep440Tag(e *event, r rule) (tagOf, error) {
	value, ok := e.ruleValue(r)
	if !ok {
		return tagOf{}, nil
	}
	value, warnings, err := matchVersion(r, value)
	if err != nil {
		return tagOf{}, err
	}
	v, ok := parsePEP440(value)
	if !ok {
		w := fmt.Sprintf("%q does not conform to PEP 440 (https://peps.python.org/pep-0440/)", value)
		return tagOf{warnings: append(warnings, w)}, nil
	}
	version := v.metadataActionString()
	if !v.isFinal() {
		if rawStatement.MatchString(r.attrs["pattern"]) {
			return tagOf{value: value, warnings: warnings}, nil
		}
		return tagOf{value: version, warnings: warnings}, nil
	}
	out := strings.NewReplacer("{{raw}}", value, "{{version}}", version,
		"{{major}}", v.segment(0), "{{minor}}", v.segment(1), "{{patch}}", v.segment(2)).Replace(r.attrs["pattern"])
	return tagOf{value: out, latestOK: true, warnings: warnings}, nil
}

// rawStatement is a pattern that is {{raw}} and nothing else, the one pattern a pep440 prerelease keeps:
// metadata-action's isRawStatement asks handlebars for a single mustache statement named raw.
var rawStatement = regexp.MustCompile(`^\{\{\s*raw\s*\}\}$`)

// matchVersion takes match='s group 1 of the value, then makes "/" a "-", in metadata-action's order. A match
// that does not match leaves the value as it was, with a warning, as metadata-action does.
func matchVersion(r rule, value string) (string, []string, error) {
	var warnings []string
	if r.match != nil {
		switch m := r.match.FindStringSubmatchIndex(value); {
		case m == nil:
			warnings = append(warnings, fmt.Sprintf("match %q does not match %q", r.attrs["match"], value))
		case m[2] < 0:
			return "", nil, fmt.Errorf("match %q matches %q, but its group 1 takes no part", r.attrs["match"], value)
		default:
			value = value[m[2]:m[3]]
		}
	}
	return strings.ReplaceAll(value, "/", "-"), warnings, nil
}

// matchTag: type=match gives a regular expression's group of the value.
func matchTag(e *event, r rule) (tagOf, error) {
	value, ok := e.ruleValue(r)
	if !ok {
		return tagOf{}, nil
	}
	re, err := regexp.Compile(r.attrs["pattern"])
	if err != nil {
		return tagOf{}, fmt.Errorf("pattern: %w", err)
	}
	group, _ := strconv.Atoi(r.attrs["group"])
	if m := re.FindStringSubmatch(value); m != nil && group < len(m) {
		return tagOf{value: m[group], latestOK: true}, nil
	}
	return tagOf{}, nil
}

// edgeTag: type=edge gives "edge" on the default branch (or the one named).
func edgeTag(e *event, r rule) (tagOf, error) {
	want := r.attrs["branch"]
	if want == "" {
		want = e.DefaultBranch
	}
	if e.branch != "" && e.branch == want {
		return tagOf{value: "edge"}, nil
	}
	return tagOf{}, nil
}

// refTag: type=ref gives the branch, the tag, or the pull request's number (pr-N).
func refTag(e *event, r rule) (tagOf, error) {
	switch r.attrs["event"] {
	case "branch":
		return tagOf{value: e.branch}, nil
	case "tag":
		return tagOf{value: e.tag, latestOK: true}, nil
	case "pr":
		if e.PRNumber > 0 {
			return tagOf{value: strconv.Itoa(e.PRNumber), defaultPrefix: "pr-"}, nil
		}
	}
	return tagOf{}, nil
}

// shaTag: type=sha gives the commit, short (7) unless format=long, as sha-<commit>.
func shaTag(e *event, r rule) (tagOf, error) {
	sha := e.SHA
	if r.attrs["format"] != "long" && len(sha) > 7 {
		sha = sha[:7]
	}
	return tagOf{value: sha, defaultPrefix: "sha-"}, nil
}

// rawTag: type=raw gives its value.
func rawTag(e *event, r rule) (tagOf, error) {
	return tagOf{value: e.expand(r.attrs["value"])}, nil
}

// apply orders the candidates by priority, flavours and sanitises them, drops repeats and adds latest.
func (fl flavor) apply(cands []candidate) []string {
	latest := fl.latest == "true"
	if fl.latest == "auto" {
		for _, c := range cands {
			latest = latest || c.latestOK
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].priority > cands[j].priority })
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
	return tags
}

// labels are the OCI labels of the event, with the labels input over them.
func labels(ctx Context, version string, extra map[string]string) map[string]string {
	url := strings.TrimSuffix(ctx.ServerURL, "/") + "/" + ctx.Repository
	name := ctx.Repository
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	l := map[string]string{
		"org.opencontainers.image.title":       name,
		"org.opencontainers.image.description": ctx.Description,
		"org.opencontainers.image.url":         url,
		"org.opencontainers.image.source":      url,
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.created":     ctx.Time.UTC().Format(time.RFC3339),
		"org.opencontainers.image.revision":    ctx.SHA,
		"org.opencontainers.image.licenses":    ctx.License,
	}
	maps.Copy(l, extra)
	return l
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
