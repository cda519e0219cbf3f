package build

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// pep440Case is one event and its tag rules, with the tags (without the image) metadata-action gives.
type pep440Case struct {
	name   string
	event  string
	ref    string
	rules  []string
	flavor []string
	want   []string
}

// tagNames computes the tags of a case for the image name/app and gives them without the image.
func tagNames(t *testing.T, tc pep440Case) ([]string, *Meta) {
	t.Helper()
	m, err := ComputeMeta(ctxFor(tc.event, tc.ref), []string{"name/app"}, tc.rules, tc.flavor, "", nil)
	if err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	var got []string
	for _, full := range m.Tags {
		got = append(got, strings.TrimPrefix(full, "name/app:"))
	}
	return got, m
}

func checkPep440Cases(t *testing.T, cases []pep440Case) {
	t.Helper()
	for _, tc := range cases {
		got, m := tagNames(t, tc)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s %s %v -> %q, want %q", tc.name, tc.event, tc.ref, tc.rules, got, tc.want)
		}
		if len(tc.want) > 0 && m.Version != tc.want[0] {
			t.Errorf("%s: version %q, want %q", tc.name, m.Version, tc.want[0])
		}
	}
}

// Every row of the table in docker/metadata-action's README, section "tags input" > "type=pep440" (columns Git
// tag, Pattern, Match, Output), and the section's two examples with value=. The table gives no latest column;
// a final release brings latest (flavor latest=auto) as procPep440 in src/meta.ts sets it, and a row marked *
// ("dev/pre/post release will only extend {{version}} (or {{raw}} if specified)") brings none.
func TestPep440MatchesMetadataActionREADME(t *testing.T) {
	rule := func(pattern string) []string { return []string{"type=pep440,pattern=" + pattern} }
	checkPep440Cases(t, []pep440Case{
		{"README 1.2.3 raw", "push", "refs/tags/1.2.3", rule("{{raw}}"), nil, []string{"1.2.3", "latest"}},
		{"README 1.2.3 version", "push", "refs/tags/1.2.3", rule("{{version}}"), nil, []string{"1.2.3", "latest"}},
		{"README v1.2.3 version", "push", "refs/tags/v1.2.3", rule("{{version}}"), nil, []string{"1.2.3", "latest"}},
		{"README 1.2.3 major.minor", "push", "refs/tags/1.2.3", rule("{{major}}.{{minor}}"), nil, []string{"1.2", "latest"}},
		{"README 1.2.3 v-major", "push", "refs/tags/1.2.3", rule("v{{major}}"), nil, []string{"v1", "latest"}},
		{"README v1.2.3rc2 raw", "push", "refs/tags/v1.2.3rc2", rule("{{raw}}"), nil, []string{"v1.2.3rc2"}},
		{"README 1.2.3rc2 version", "push", "refs/tags/1.2.3rc2", rule("{{version}}"), nil, []string{"1.2.3rc2"}},
		{"README p1/v1.2.3 match", "push", "refs/tags/p1/v1.2.3", []string{`type=pep440,pattern={{version}},match=v(\d.\d.\d)$`}, nil,
			[]string{"1.2.3", "latest"}},
		{"README 1.2.3rc2 major.minor*", "push", "refs/tags/1.2.3rc2", rule("{{major}}.{{minor}}"), nil, []string{"1.2.3rc2"}},
		{"README 1.2.3post1 major.minor*", "push", "refs/tags/1.2.3post1", rule("{{major}}.{{minor}}"), nil, []string{"1.2.3.post1"}},
		{"README 1.2.3beta2 major.minor*", "push", "refs/tags/1.2.3beta2", rule("{{major}}.{{minor}}"), nil, []string{"1.2.3b2"}},
		{"README 1.0dev4 major.minor*", "push", "refs/tags/1.0dev4", rule("{{major}}.{{minor}}"), nil, []string{"1.0.dev4"}},

		// The section's examples: "use custom value instead of git tag", "use custom value and match part of it".
		{"README value", "push", "refs/heads/master", []string{"type=pep440,pattern={{version}},value=1.0.0"}, nil, []string{"1.0.0", "latest"}},
		{"README value match", "push", "refs/heads/master", []string{`type=pep440,pattern={{version}},value=p1/v1.0.0,match=v(\d.\d.\d)$`}, nil,
			[]string{"1.0.0", "latest"}},
	})
}

// The pep440 cases of docker/metadata-action's __tests__/meta.test.ts (describe "tag" tag23 to tag32, describe
// "push" push14), for the image name/app. tag33 is tag28 without images, which ComputeMeta does not produce.
func TestPep440MatchesMetadataActionTests(t *testing.T) {
	all := []string{"type=pep440,pattern={{version}}", "type=pep440,pattern={{major}}.{{minor}}.{{patch}}",
		"type=pep440,pattern={{major}}.{{minor}}", "type=pep440,pattern={{major}}"}
	checkPep440Cases(t, []pep440Case{
		{"tag23", "push", "refs/tags/v1.1.1", []string{"type=pep440,pattern={{raw}}", "type=pep440,pattern={{major}}.{{minor}}"}, nil,
			[]string{"v1.1.1", "1.1", "latest"}},
		{"tag24", "push", "refs/tags/1.2", []string{all[0], all[2]}, nil, []string{"1.2", "latest"}},
		{"tag25", "push", "refs/tags/1.1beta2", []string{all[2], all[3]}, nil, []string{"1.1b2"}},
		{"tag26", "push", "refs/tags/1.0dev4", []string{all[2], all[3]}, nil, []string{"1.0.dev4"}},
		{"tag27", "push", "refs/tags/1.2.3rc2", []string{"type=pep440,pattern={{raw}}", all[0], all[2], all[3]}, nil, []string{"1.2.3rc2"}},
		{"tag28", "push", "refs/tags/v1.1.1", all, nil, []string{"1.1.1", "1.1", "1", "latest"}},
		{"tag29", "push", "refs/tags/1.2post1", []string{all[0], all[2], all[3]}, nil, []string{"1.2.post1"}},
		{"tag30", "push", "refs/tags/sometag", []string{"type=ref,event=tag", all[0], all[2], all[3]}, []string{"latest=false"},
			[]string{"sometag"}},
		{"tag32", "push", "refs/tags/v1.2.3rc2", []string{"type=pep440,pattern={{raw}}", all[2]}, nil, []string{"v1.2.3rc2", "1.2.3rc2"}},
		{"push14", "push", "refs/heads/master", []string{"type=semver,pattern={{version}},value=v1.2.3",
			"type=pep440,pattern={{version}},value=v1.2.3", "type=edge"}, nil, []string{"1.2.3", "edge", "latest"}},
	})
}

// Normalisation as it reaches a tag: PEP 440's normal form, sanitised ("!" and "+" become "-"), with the
// release segment's missing numbers 0 and the epoch no part of {{major}}.
func TestPep440Tags(t *testing.T) {
	rule := func(pattern string) []string { return []string{"type=pep440,pattern=" + pattern} }
	checkPep440Cases(t, []pep440Case{
		{"upper-case rc", "push", "refs/tags/1.0RC1", rule("{{version}}"), nil, []string{"1.0rc1"}},
		{"dash dev", "push", "refs/tags/1.0-dev1", rule("{{version}}"), nil, []string{"1.0.dev1"}},
		{"dot dev", "push", "refs/tags/1.0.dev1", rule("{{major}}"), nil, []string{"1.0.dev1"}},
		{"implicit post", "push", "refs/tags/1.0-1", rule("{{major}}"), nil, []string{"1.0.post1"}},
		{"semver-style prerelease", "push", "refs/tags/v2.0.8-beta.67", rule("{{version}}"), nil, []string{"2.0.8b67"}},
		{"raw of a prerelease keeps v", "push", "refs/tags/v1.0-RC1", rule("{{raw}}"), nil, []string{"v1.0-RC1"}},
		{"raw inside a pattern is not raw", "push", "refs/tags/v1.0rc1", rule("img-{{raw}}"), nil, []string{"1.0rc1"}},
		{"epoch", "push", "refs/tags/1!2.0", rule("{{version}}"), nil, []string{"1-2.0", "latest"}},
		{"epoch not in major", "push", "refs/tags/1!2.0", rule("{{major}}.{{minor}}.{{patch}}"), nil, []string{"2.0.0", "latest"}},
		{"short release", "push", "refs/tags/3", rule("{{major}}.{{minor}}.{{patch}}"), nil, []string{"3.0.0", "latest"}},
		{"leading zeros", "push", "refs/tags/01.002.0003", rule("{{version}}"), nil, []string{"1.2.3", "latest"}},
		{"local", "push", "refs/tags/1.2+AbC", rule("{{version}}"), nil, []string{"1.2-abc", "latest"}},
		{"local is final", "push", "refs/tags/1.2+abc", rule("{{major}}.{{minor}}"), nil, []string{"1.2", "latest"}},
		{"local segments", "push", "refs/tags/1.2+abc.05", rule("{{version}}"), nil, []string{"1.2-abc-5", "latest"}},
		{"prefix and suffix on a prerelease", "push", "refs/tags/1.0a1", []string{"type=pep440,pattern={{major}},prefix=py-,suffix=-slim"}, nil,
			[]string{"py-1.0a1-slim"}},
		{"latest true on a prerelease", "push", "refs/tags/1.0a1", rule("{{version}}"), []string{"latest=true"}, []string{"1.0a1", "latest"}},
		{"slash becomes dash", "push", "refs/tags/1.0/2", rule("{{version}}"), nil, []string{"1.0.post2"}},
		{"not a tag", "push", "refs/heads/master", rule("{{version}}"), nil, nil},
		{"not PEP 440", "push", "refs/tags/release1", rule("{{version}}"), nil, nil},
		{"match that does not match", "push", "refs/tags/p1/v1.2.3", []string{`type=pep440,pattern={{version}},match=^x(\d)`}, nil, nil},
		{"disabled", "push", "refs/tags/1.2.3", []string{"type=pep440,pattern={{version}},enable=false"}, nil, nil},
		{"priority", "push", "refs/tags/1.2.3", []string{"type=raw,value=foo", "type=pep440,pattern={{major}}", "type=match,pattern=\\d.\\d"}, nil,
			[]string{"1", "1.2", "foo", "latest"}},
	})
}

// A rule that applies but gives no tag says why, as metadata-action's core.warning does; a rule that does not
// apply (no tag pushed, no value) says nothing.
func TestPep440Warnings(t *testing.T) {
	tests := []struct {
		tc   pep440Case
		want []string
	}{
		{pep440Case{name: "not PEP 440", event: "push", ref: "refs/tags/release1", rules: []string{"type=pep440,pattern={{version}}"}},
			[]string{`tag rule "type=pep440,pattern={{version}}": "release1" does not conform to PEP 440`}},
		{pep440Case{name: "match does not match", event: "push", ref: "refs/tags/p1/v1.2.3", rules: []string{`type=pep440,pattern={{version}},match=^x(\d)`}},
			[]string{`match "^x(\\d)" does not match "p1/v1.2.3"`, `"p1-v1.2.3" does not conform to PEP 440`}},
		{pep440Case{name: "semver alike", event: "push", ref: "refs/tags/release1", rules: []string{"type=semver,pattern={{version}}"}},
			[]string{`tag rule "type=semver,pattern={{version}}": "release1" is not a valid semver`}},
		{pep440Case{name: "on a branch", event: "push", ref: "refs/heads/master", rules: []string{"type=pep440,pattern={{version}}", "type=semver,pattern={{version}}"}}, nil},
		{pep440Case{name: "valid", event: "push", ref: "refs/tags/1.0", rules: []string{"type=pep440,pattern={{version}}"}}, nil},
	}
	for _, tt := range tests {
		_, m := tagNames(t, tt.tc)
		if len(m.Warnings) != len(tt.want) {
			t.Errorf("%s: warnings %q, want %d like %q", tt.tc.name, m.Warnings, len(tt.want), tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(m.Warnings[i], w) {
				t.Errorf("%s: warning %q, want it to contain %q", tt.tc.name, m.Warnings[i], w)
			}
		}
	}
}

// metadata-action fails on a match= without a group 1 (group 1 is the version); here that is refused when the
// rule is checked, and a group that takes no part fails the event.
func TestPep440MatchErrors(t *testing.T) {
	for line, want := range map[string]string{
		"type=pep440": "type=pep440 needs a pattern",
		`type=pep440,pattern={{version}},match=v\d`:   `match "v\\d" has no group`,
		`type=pep440,pattern={{version}},match=v(\d`:  "match: error parsing regexp",
		`type=pep440,pattern={{version}},match=v(\d)`: "",
	} {
		err := CheckTagRule(line)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckTagRule(%q) = %v, want %q", line, err, want)
		}
	}
	rules := []string{`type=pep440,pattern={{version}},match=(x)?v\d`}
	_, err := ComputeMeta(ctxFor("push", "refs/tags/v1.2.3"), []string{"app"}, rules, nil, "", nil)
	if err == nil || !strings.Contains(err.Error(), "group 1 takes no part") {
		t.Errorf("group 1 not taking part: %v", err)
	}
}

// Normalisation by the PEP 440 parser: the cases of @renovate/pep440's test/version.test.js ("clean"), which
// are pypa/packaging's, less the surrounding whitespace valid() refuses, and the task's own examples. Each
// normal form must also be the same version as the input for an independent PEP 440 implementation,
// osv-scalibr's semantic.PyPIVersion.
func TestParsePEP440Normalises(t *testing.T) {
	for in, want := range map[string]string{
		"1.0dev": "1.0.dev0", "1.0.dev": "1.0.dev0", "1.0dev1": "1.0.dev1", "1.0-dev": "1.0.dev0", "1.0-dev1": "1.0.dev1",
		"1.0DEV": "1.0.dev0", "1.0.DEV": "1.0.dev0", "1.0DEV1": "1.0.dev1", "1.0.DEV1": "1.0.dev1", "1.0-DEV": "1.0.dev0",
		"1.0-DEV1": "1.0.dev1", "1.0.dev1": "1.0.dev1",
		"1.0a": "1.0a0", "1.0.a": "1.0a0", "1.0.a1": "1.0a1", "1.0-a": "1.0a0", "1.0-a1": "1.0a1", "1.0alpha": "1.0a0",
		"1.0.alpha": "1.0a0", "1.0.alpha1": "1.0a1", "1.0-alpha": "1.0a0", "1.0-alpha1": "1.0a1", "1.0A": "1.0a0",
		"1.0.A1": "1.0a1", "1.0-ALPHA1": "1.0a1",
		"1.0b": "1.0b0", "1.0.b1": "1.0b1", "1.0-b1": "1.0b1", "1.0beta": "1.0b0", "1.0.beta1": "1.0b1", "1.0-BETA1": "1.0b1",
		"1.0c": "1.0rc0", "1.0.c1": "1.0rc1", "1.0-c1": "1.0rc1", "1.0rc": "1.0rc0", "1.0.rc1": "1.0rc1", "1.0-rc1": "1.0rc1",
		"1.0C": "1.0rc0", "1.0RC": "1.0rc0", "1.0.RC1": "1.0rc1", "1.0-RC1": "1.0rc1", "1.0RC1": "1.0rc1", "1.0c1": "1.0rc1",
		"1.0pre": "1.0rc0", "1.0preview2": "1.0rc2",
		"1.0post": "1.0.post0", "1.0.post": "1.0.post0", "1.0post1": "1.0.post1", "1.0-post": "1.0.post0",
		"1.0-post1": "1.0.post1", "1.0POST": "1.0.post0", "1.0.POST1": "1.0.post1", "1.0r": "1.0.post0",
		"1.0rev": "1.0.post0", "1.0.r1": "1.0.post1", "1.0.rev1": "1.0.post1", "1.0-5": "1.0.post5", "1.0-r5": "1.0.post5",
		"1.0-rev5": "1.0.post5", "1.2.3post1": "1.2.3.post1",
		"1.0+AbC": "1.0+abc", "1.0+abc.5": "1.0+abc.5", "1.0+abc-5_x": "1.0+abc.5.x", "1.0+007": "1.0+7",
		"1.01": "1.1", "1.0a05": "1.0a5", "1.0b07": "1.0b7", "1.0c056": "1.0rc56", "1.0rc09": "1.0rc9",
		"1.0.post000": "1.0.post0", "1.1.dev09000": "1.1.dev9000", "00!1.2": "1.2", "0100!0.0": "100!0.0", "1!2.0": "1!2.0",
		"v1.0": "1.0", "V1.0": "1.0", "v1.2.3": "1.2.3",
		"1.0b2-346": "1.0b2.post346", "1!1.0b2.post345.dev456": "1!1.0b2.post345.dev456", "1.2.rev33+123456": "1.2.post33+123456",
		"12345678901234567890.1": "12345678901234567890.1",
	} {
		v, ok := parsePEP440(in)
		if !ok || v.String() != want {
			t.Errorf("parsePEP440(%q) = %q, %v; want %q", in, v.String(), ok, want)
			continue
		}
		pv, err := semantic.ParsePyPIVersion(in)
		if err != nil {
			t.Fatalf("osv-scalibr cannot parse %q: %v", in, err)
		}
		if c, err := pv.CompareStr(want); err != nil || c != 0 {
			t.Errorf("osv-scalibr: %q compares %d (%v) with its normal form %q, want 0", in, c, err, want)
		}
	}
}

// Strings that are not PEP 440 versions: @renovate/pep440's test/fixture.js INVALID_VERSIONS (strings) and more.
func TestParsePEP440Rejects(t *testing.T) {
	for _, s := range []string{"french toast", "1.0+a+", "1.0++", "1.0+_foobar", "1.0+foo&asd", "1.0+1+1", "",
		" 1.0", "1.0\n", "release1", "sometag", "v", "1.", ".1", "1..2", "1.0-", "1.0+", "1!", "1.0.post.dev.x", "p1/v1.2.3",
		"1.0-rc1-rc2", "1.2.3-beta.67+build/7"} {
		if v, ok := parsePEP440(s); ok {
			t.Errorf("parsePEP440(%q) = %q, want not a version", s, v)
		}
	}
}

// The parts a pattern reads: final or not, and the release numbers, 0 past the end.
func TestPEP440Parts(t *testing.T) {
	tests := []struct {
		in                  string
		final               bool
		major, minor, patch string
	}{
		{"1.2.3", true, "1", "2", "3"},
		{"1.2", true, "1", "2", "0"},
		{"7", true, "7", "0", "0"},
		{"2!3.4.5.6", true, "3", "4", "5"},
		{"1.2+local.7", true, "1", "2", "0"},
		{"1.2a1", false, "1", "2", "0"},
		{"1.2.post1", false, "1", "2", "0"},
		{"1.2.dev1", false, "1", "2", "0"},
	}
	for _, tt := range tests {
		v, ok := parsePEP440(tt.in)
		if !ok {
			t.Fatalf("parsePEP440(%q) failed", tt.in)
		}
		got := []string{v.segment(0), v.segment(1), v.segment(2)}
		if v.isFinal() != tt.final || !reflect.DeepEqual(got, []string{tt.major, tt.minor, tt.patch}) {
			t.Errorf("%q: final %v, parts %q; want %v, %s.%s.%s", tt.in, v.isFinal(), got, tt.final, tt.major, tt.minor, tt.patch)
		}
	}
}

// A rule that applies and gives no tag is a warning in the step's log, not a silent gap: here a tag push whose
// name is no PEP 440 version, on the merge path (which computes the tags before it reads any registry).
func TestTagRuleWarningReachesTheLog(t *testing.T) {
	st := testenv.RunAction(t, Action(), map[string]string{"images": "127.0.0.1:9/acme/app", "merge": "sha256:" + strings.Repeat("a", 64),
		"tags": "type=pep440,pattern={{version}}"}, map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/release-candidate",
		"GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37", "GITHUB_REPOSITORY": "acme/app"})
	if st.Code != 1 || !strings.Contains(st.Log, `::warning::tag rule "type=pep440,pattern={{version}}"`) || !strings.Contains(st.Log, "give no tag") {
		t.Errorf("exit %d\n%s", st.Code, st.Log)
	}
}
