package render

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// cleanupInputs parses a rendered workflow and returns the with: of its cleanup job's cleanup step.
func cleanupInputs(t *testing.T, workflow []byte) map[string]string {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(workflow, &wf); err != nil {
		t.Fatal(err)
	}
	for _, s := range wf.Jobs["cleanup"].Steps {
		if strings.Contains(s.Uses, "/cleanup@") {
			return s.With
		}
	}
	t.Fatalf("no cleanup step in the cleanup job:\n%s", workflow)
	return nil
}

// renderService renders a one-service config and returns its workflow.
func renderService(t *testing.T, config string) []byte {
	t.Helper()
	root := t.TempDir()
	config = "scribe-actions:\n  sha: " + strings.Repeat("a", 40) + "\n  version: v1.2.3\n" + config
	if err := os.WriteFile(filepath.Join(root, "scribe.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := renderRepo(root, "scribe.yaml", "", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Path, "api-docker-build.yml") {
			return f.Content
		}
	}
	t.Fatal("no api workflow")
	return nil
}

// The cleanup keys of scribe.yaml: by default releases, latest, the deployment suffixes and the default
// branch's tag are excluded and untagged images get a day's grace; exclude-tags replaces the list ([] protects
// nothing, and the action then warns before deleting a release); untagged-older-than changes the grace.
func TestCleanupConfig(t *testing.T) {
	const service = "services:\n  - name: api\n    paths: [a]\n"
	for _, tt := range []struct {
		name, config       string
		exclude, untagged  string // the rendered inputs; exclude one tag a line
		keepNTagged, older string
	}{
		{"defaults", service, "[0-9]*.[0-9]*\nv[0-9]*.[0-9]*\nlatest\nprod\nstaging\ndev\nmain\n", "1d", "10", ""},
		{"another default branch", "default-branch: release/2.x\n" + service,
			"[0-9]*.[0-9]*\nv[0-9]*.[0-9]*\nlatest\nprod\nstaging\ndev\nrelease-2.x\n", "1d", "10", ""},
		{"own list", service + "    cleanup:\n      exclude-tags: [v*, prod]\n      untagged-older-than: 6h\n      keep-n-tagged: 3\n      older-than: 30d\n",
			"v*\nprod\n", "6h", "3", "30d"},
		{"nothing protected", service + "    cleanup:\n      exclude-tags: []\n      untagged-older-than: \"0\"\n", "", "0", "10", ""},
	} {
		with := cleanupInputs(t, renderService(t, tt.config))
		want := map[string]string{"exclude-tags": tt.exclude, "untagged-older-than": tt.untagged, "keep-n-tagged": tt.keepNTagged,
			"older-than": tt.older, "delete-untagged": "true", "dry-run": "false"}
		for k, v := range want {
			if with[k] != v {
				t.Errorf("%s: %s: %q, want %q", tt.name, k, with[k], v)
			}
		}
		if _, ok := with["exclude-tags"]; ok != (tt.exclude != "") {
			t.Errorf("%s: exclude-tags rendered: %v", tt.name, ok)
		}
	}

	c, err := ParseConfig("scribe.yaml", []byte(service))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Services[0].Cleanup; !reflect.DeepEqual(got.ExcludeTags, defaultExcludeTags("main")) || got.UntaggedOlderThan != "1d" {
		t.Errorf("defaults: %+v", got)
	}

	for _, tt := range []struct{ config, want string }{
		{"    cleanup:\n      exclude-tags: ['[0-9']\n", `scribe.yaml:2: service "api": cleanup exclude-tags "[0-9" is not a tag glob`},
		{"    cleanup:\n      exclude-tags: ['v1,v2']\n", `scribe.yaml:2: service "api": cleanup exclude-tags "v1,v2" is not a tag glob`},
		{"    cleanup:\n      exclude-tags: ['${{ inputs.x }}']\n", `scribe.yaml:2: service "api": cleanup exclude-tags "${{ inputs.x }}" is not a tag glob`},
		{"    cleanup:\n      untagged-older-than: soon\n", `scribe.yaml:2: service "api": cleanup untagged-older-than "soon" is not an age`},
		{"    cleanup:\n      older-than: 1 fortnight\n", `scribe.yaml:2: service "api": cleanup older-than "1 fortnight" is not an age`},
		{"    cleanup:\n      untaged-older-than: 1d\n", `scribe.yaml:5:7: unknown key "untaged-older-than" in services[0].cleanup (did you mean "untagged-older-than"?)`},
	} {
		_, err := ParseConfig("scribe.yaml", []byte(service+tt.config))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("err = %v\nwant prefix %s", err, tt.want)
		}
	}
}

// Editors see the same cleanup keys: the schema accepts them and refuses what the parser refuses.
func TestCleanupSchema(t *testing.T) {
	schema := compileSchema(t)
	const service = "services:\n  - name: api\n    paths: [a]\n    cleanup:\n"
	for config, ok := range map[string]bool{
		service + "      exclude-tags: ['[0-9]*.[0-9]*', latest]\n      untagged-older-than: 6h\n": true,
		service + "      exclude-tags: []\n":        true,
		service + "      exclude-tags: 'v1,v2'\n":   false,
		service + "      exclude-tags: ['v1,v2']\n": false,
		service + "      untaged-older-than: 1d\n":  false,
	} {
		if err := schema.Validate(testenv.SchemaDocument(t, []byte(config))); (err == nil) != ok {
			t.Errorf("%q: valid %v, want %v (%v)", config, err == nil, ok, err)
		}
	}
}
