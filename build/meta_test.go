package build

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSHA = "860c1904a1ce19322e91ac35af1ab07466440c37"

func ctxFor(event, ref string) Context {
	c := Context{EventName: event, Ref: ref, SHA: testSHA, DefaultBranch: "master", Repository: "octocat/Hello-World",
		ServerURL: "https://github.com", RunNumber: 42, Time: time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)}
	if strings.HasPrefix(ref, "refs/pull/") {
		c.PRNumber = 2
	}
	return c
}

// The examples of docker/metadata-action's README, rule by rule: event, ref, rules -> tags (without the image).
func TestMetaMatchesMetadataActionExamples(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		ref    string
		rules  []string
		flavor []string
		want   []string
	}{
		{"schedule default", "schedule", "refs/heads/master", []string{"type=schedule"}, nil, []string{"nightly"}},
		{"schedule date", "schedule", "refs/heads/master", []string{"type=schedule,pattern={{date 'YYYYMMDD'}}"}, nil, []string{"20200110"}},
		{"schedule on push", "push", "refs/heads/master", []string{"type=schedule"}, nil, nil},

		{"semver raw", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{raw}}"}, nil, []string{"v1.2.3", "latest"}},
		{"semver version", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{version}}"}, nil, []string{"1.2.3", "latest"}},
		{"semver major.minor", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{major}}.{{minor}}"}, nil, []string{"1.2", "latest"}},
		{"semver v-major", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern=v{{major}}"}, nil, []string{"v1", "latest"}},
		{"semver minor", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{minor}}"}, nil, []string{"2", "latest"}},
		{"semver patch", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{patch}}"}, nil, []string{"3", "latest"}},
		{"semver prerelease raw", "push", "refs/tags/v2.0.8-beta.67", []string{"type=semver,pattern={{raw}}"}, nil, []string{"v2.0.8-beta.67"}},
		{"semver prerelease version", "push", "refs/tags/v2.0.8-beta.67", []string{"type=semver,pattern={{version}}"}, nil, []string{"2.0.8-beta.67"}},
		{"semver prerelease collapses", "push", "refs/tags/v2.0.8-beta.67", []string{"type=semver,pattern={{major}}.{{minor}}"}, nil, []string{"2.0.8-beta.67"}},
		{"semver on a branch", "push", "refs/heads/master", []string{"type=semver,pattern={{version}}"}, nil, nil},
		{"semver not semver", "push", "refs/tags/release1", []string{"type=semver,pattern={{version}}"}, nil, nil},
		{"semver major zero", "push", "refs/tags/v0.1.2", []string{"type=semver,pattern={{major}}"}, nil, []string{"0", "latest"}},
		{"semver major zero disabled", "push", "refs/tags/v0.1.2", []string{"type=semver,pattern={{version}}", "type=semver,pattern={{major}},enable=false"}, nil, []string{"0.1.2", "latest"}},
		{"semver value", "push", "refs/heads/master", []string{"type=semver,pattern={{version}},value=v1.0.0"}, nil, []string{"1.0.0", "latest"}},

		{"match whole", "push", "refs/tags/v1.2.3", []string{`type=match,pattern=\d.\d.\d`}, nil, []string{"1.2.3", "latest"}},
		{"match group", "push", "refs/tags/v2.0.8-beta.67", []string{`type=match,pattern=v(.*),group=1`}, nil, []string{"2.0.8-beta.67", "latest"}},
		{"match short", "push", "refs/tags/v2.0.8-beta.67", []string{`type=match,pattern=v(\d.\d),group=1`}, nil, []string{"2.0", "latest"}},
		{"match none", "push", "refs/tags/release1", []string{`type=match,pattern=\d{1,3}.\d{1,3}.\d{1,3}`}, nil, nil},
		{"match date", "push", "refs/tags/20200110-RC2", []string{`type=match,pattern=\d+`}, nil, []string{"20200110", "latest"}},
		{"match path", "push", "refs/tags/p1/v1.2.3", []string{`type=match,pattern=p1/v(\d.\d.\d),group=1`}, nil, []string{"1.2.3", "latest"}},

		{"edge default branch", "push", "refs/heads/master", []string{"type=edge"}, nil, []string{"edge"}},
		{"edge other branch", "push", "refs/heads/my/branch", []string{"type=edge"}, nil, nil},
		{"edge named branch", "push", "refs/heads/develop", []string{"type=edge,branch=develop"}, nil, []string{"edge"}},

		{"ref pr", "pull_request", "refs/pull/2/merge", []string{"type=ref,event=pr"}, nil, []string{"pr-2"}},
		{"ref branch", "push", "refs/heads/master", []string{"type=ref,event=branch"}, nil, []string{"master"}},
		{"ref branch slash", "push", "refs/heads/my/branch", []string{"type=ref,event=branch"}, nil, []string{"my-branch"}},
		{"ref tag", "push", "refs/tags/v1.2.3", []string{"type=ref,event=tag"}, nil, []string{"v1.2.3", "latest"}},
		{"ref tag prerelease", "push", "refs/tags/v2.0.8-beta.67", []string{"type=ref,event=tag"}, nil, []string{"v2.0.8-beta.67", "latest"}},
		{"ref branch on tag push", "push", "refs/tags/v1.2.3", []string{"type=ref,event=branch"}, nil, nil},

		{"sha short", "push", "refs/heads/master", []string{"type=sha"}, nil, []string{"sha-860c190"}},
		{"sha long", "push", "refs/heads/master", []string{"type=sha,format=long"}, nil, []string{"sha-" + testSHA}},
		{"sha no prefix", "push", "refs/heads/master", []string{"type=sha,prefix="}, nil, []string{"860c190"}},

		{"raw", "push", "refs/heads/master", []string{"type=raw,value=foo", "type=raw,bar", "baz"}, nil, []string{"foo", "bar", "baz"}},
		{"raw expressions", "push", "refs/heads/master", []string{"type=raw,value=mytag-{{branch}}-{{sha}}", "type=sha,prefix={{branch}}-"}, nil, []string{"mytag-master-860c190", "master-860c190"}},
		{"raw on default branch", "push", "refs/heads/master", []string{"type=raw,value=latest,enable={{is_default_branch}}"}, nil, []string{"latest"}},
		{"raw off the default branch", "push", "refs/heads/dev", []string{"type=raw,value=latest,enable={{is_default_branch}}"}, nil, nil},

		{"priority order", "push", "refs/tags/v1.2.3", []string{"type=sha", "type=ref,event=tag", "type=semver,pattern={{version}}", "type=raw,value=foo,priority=2000"}, nil,
			[]string{"foo", "1.2.3", "v1.2.3", "sha-860c190", "latest"}},
		{"latest false", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{version}}"}, []string{"latest=false"}, []string{"1.2.3"}},
		{"latest true", "push", "refs/heads/master", []string{"type=ref,event=branch"}, []string{"latest=true"}, []string{"master", "latest"}},
		{"latest auto on a branch", "push", "refs/heads/master", []string{"type=ref,event=branch", "type=sha"}, []string{"latest=auto"}, []string{"master", "sha-860c190"}},
		{"flavor prefix suffix", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{version}}"}, []string{"prefix=foo-", "suffix=-bar"}, []string{"foo-1.2.3-bar", "latest"}},
		{"flavor on latest", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{version}}"}, []string{"prefix=foo-,onlatest=true"}, []string{"foo-1.2.3", "foo-latest"}},
		{"sanitised", "push", "refs/heads/feature/new+stuff", []string{"type=ref,event=branch"}, nil, []string{"feature-new-stuff"}},
		{"dedupe", "push", "refs/tags/v1.2.3", []string{"type=semver,pattern={{version}}", "type=match,pattern=\\d.\\d.\\d"}, nil, []string{"1.2.3", "latest"}},
	}
	for _, tt := range tests {
		m, err := ComputeMeta(ctxFor(tt.event, tt.ref), []string{"name/app"}, tt.rules, tt.flavor, "", nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, full := range m.Tags {
			got = append(got, strings.TrimPrefix(full, "name/app:"))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %s %s %v -> %q, want %q", tt.name, tt.event, tt.ref, tt.rules, got, tt.want)
		}
		if len(tt.want) > 0 && m.Version != tt.want[0] {
			t.Errorf("%s: version %q, want %q", tt.name, m.Version, tt.want[0])
		}
	}
}

func TestMetaTagSuffixImagesAndLabels(t *testing.T) {
	c := ctxFor("workflow_dispatch", "refs/heads/master")
	c.Description, c.License = "Hello", "MIT"
	m, err := ComputeMeta(c, []string{"ghcr.io/Acme/App", "127.0.0.1:5000/app"}, []string{"type=ref,event=branch"}, nil, "manual",
		map[string]string{"org.opencontainers.image.vendor": "Acme", "org.opencontainers.image.title": "app"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ghcr.io/acme/app:master", "ghcr.io/acme/app:manual-42", "127.0.0.1:5000/app:master", "127.0.0.1:5000/app:manual-42"}
	if !reflect.DeepEqual(m.Tags, want) {
		t.Errorf("tags %q, want %q", m.Tags, want)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.title": "app", "org.opencontainers.image.source": "https://github.com/octocat/Hello-World",
		"org.opencontainers.image.version": "master", "org.opencontainers.image.revision": testSHA,
		"org.opencontainers.image.created": "2020-01-10T00:00:00Z", "org.opencontainers.image.licenses": "MIT",
		"org.opencontainers.image.description": "Hello", "org.opencontainers.image.vendor": "Acme",
	} {
		if m.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, m.Labels[k], v)
		}
	}
	for _, s := range []string{"dev", "staging", "prod"} {
		m, _ := ComputeMeta(c, []string{"app"}, nil, nil, s, nil)
		if !reflect.DeepEqual(m.Tags, []string{"app:" + s}) {
			t.Errorf("tag-suffix %s: %q", s, m.Tags)
		}
	}
}

func TestTagRuleErrors(t *testing.T) {
	for line, want := range map[string]string{
		"type=semver":                    "type=semver needs a pattern",
		"type=ref":                       "type=ref needs event=branch",
		"type=nope,value=x":              `unknown type "nope"`,
		"type=raw,value=x,priority=high": `priority "high" is not a number`,
	} {
		if err := CheckTagRule(line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckTagRule(%q) = %v, want %s", line, err, want)
		}
	}
}
