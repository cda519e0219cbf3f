package render

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
	"github.com/infinite-scribe/scribe-actions/templates"
)

func TestConfigErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown top-level key", "regstry: ghcr.io\nservices: []\n",
			`scribe.yaml:1:1: unknown key "regstry" (did you mean "registry"?)`},
		{"unknown nested key", "services:\n  - name: api\n    paths: [a]\n    tset:\n      setup: uv\n",
			`scribe.yaml:4:5: unknown key "tset" in services[0] (did you mean "test"?)`},
		{"unknown deeper key", "services:\n  - name: api\n    paths: [a]\n    scan:\n      fail_on: high\n",
			`scribe.yaml:5:7: unknown key "fail_on" in services[0].scan (did you mean "fail-on"?)`},
		{"service without paths", "services:\n  - name: api\n  - name: web\n    context: web\n",
			`scribe.yaml:2: service "api" has no paths`},
		{"duplicate workflow", "services:\n  - name: api\n    paths: [a]\n  - name: web\n    workflow: api-docker-build.yml\n    paths: [b]\n",
			`scribe.yaml:4: service "web": workflow api-docker-build.yml is already rendered for the service at line 2`},
		{"duplicate service", "services:\n  - name: api\n    paths: [a]\n  - name: api\n    workflow: x.yml\n    paths: [b]\n",
			`scribe.yaml:4: service "api" is declared twice (first at line 2)`},
		{"unknown platform", "platforms: [linux/amd65]\nservices:\n  - name: api\n    paths: [a]\n",
			`scribe.yaml:1: platform "linux/amd65" is not a platform: unknown architecture "amd65"`},
		{"unknown service platform", "services:\n  - name: api\n    paths: [a]\n    platforms: [plan9/amd64]\n",
			`scribe.yaml:2: service "api": platform "plan9/amd64" is not a platform: unknown OS "plan9"`},
		{"native runner for no platform", "services:\n  - name: api\n    paths: [a]\n    native-runners: {linux/s390x: big-iron}\n",
			`scribe.yaml:2: service "api": native-runners names linux/s390x, which is not one of its platforms`},
		{"expression in a command", "services:\n  - name: api\n    paths: [a]\n    test:\n      setup: none\n      commands: ['echo ${{ github.head_ref }}']\n",
			`scribe.yaml:2: service "api": "echo ${{ github.head_ref }}" holds a ${{ }} expression`},
		{"bad test setup", "services:\n  - name: api\n    paths: [a]\n    test:\n      setup: poetry\n      commands: [pytest]\n",
			`scribe.yaml:2: service "api": test setup "poetry" is not one of uv, pnpm, go, none`},
		{"no services", "registry: ghcr.io\n", `scribe.yaml:1: no services`},
		{"bad yaml", "services: [\n", `scribe.yaml: yaml: line 1:`},
	}
	for _, tt := range tests {
		_, err := ParseConfig("scribe.yaml", []byte(tt.config))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: err = %v\nwant prefix %s", tt.name, err, tt.want)
		}
	}
}

func TestActionMissingFromLockNamesConfigAndLock(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "scribe.yaml"), []byte("scribe-actions:\n  sha: "+strings.Repeat("a", 40)+"\nservices:\n  - name: api\n    paths: [a]\n"), 0o644)
	os.WriteFile(filepath.Join(root, "actions.lock.yaml"), []byte("actions:\n  actions/checkout:\n    version: v7.0.1\n    sha: "+strings.Repeat("b", 40)+"\n"), 0o644)
	_, err := renderRepo(root, "scribe.yaml", "", &bytes.Buffer{})
	want := `service "api" (scribe.yaml:4): action github/codeql-action/upload-sarif is not in the lock file actions.lock.yaml`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// A pin of our own actions that names no release is a warning: every job would compile the binary.
func TestPinWithoutReleaseWarns(t *testing.T) {
	for version, warns := range map[string]bool{"": true, "v1": true, "v1.2.3": false} {
		root := t.TempDir()
		config := "scribe-actions:\n  sha: " + strings.Repeat("a", 40) + "\n"
		if version != "" {
			config += "  version: " + version + "\n"
		}
		os.WriteFile(filepath.Join(root, "scribe.yaml"), []byte(config+"services:\n  - name: api\n    paths: [a]\n"), 0o644)
		var stderr bytes.Buffer
		if _, err := renderRepo(root, "scribe.yaml", "", &stderr); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(stderr.String(), "which names no release"); got != warns {
			t.Errorf("version %q: warned %v, want %v: %q", version, got, warns, stderr.String())
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	data, _ := fs.ReadFile(templates.FS, "scribe.yaml")
	c, err := ParseConfig("scribe.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	backend, web := c.Services[0], c.Services[1]
	if backend.Workflow != "backend-docker-build.yml" || backend.Dockerfile != "apps/backend/Dockerfile" ||
		!reflect.DeepEqual(backend.Paths, []string{"apps/backend/**", "pyproject.toml", "uv.lock"}) ||
		!reflect.DeepEqual(backend.Platforms, []string{"linux/amd64", "linux/arm64"}) || backend.Test.WorkingDirectory != "apps/backend" {
		t.Errorf("backend = %+v", backend)
	}
	if web.ImageSuffix != "-web" || web.Context != "apps/frontend" || web.Scan.FailOn != "critical" || web.Cleanup.KeepNTagged != 10 {
		t.Errorf("web = %+v", web)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, _ := fs.ReadFile(templates.FS, "scribe.schema.json")
	return testenv.JSONSchema(t, "scribe.schema.json", data)
}

// TestSchemaAcceptsConfigsAndRejectsTypos validates the shipped configs against the shipped JSON Schema.
func TestSchemaAcceptsConfigsAndRejectsTypos(t *testing.T) {
	schema := compileSchema(t)
	configs := map[string][]byte{}
	configs["embedded default"], _ = fs.ReadFile(templates.FS, "scribe.yaml")
	for _, name := range []string{"single", "native"} {
		configs[name], _ = os.ReadFile(filepath.Join("testdata", "render", name, "scribe.yaml"))
	}
	for name, data := range configs {
		if err := schema.Validate(testenv.SchemaDocument(t, data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{"services:\n  - name: api\n    paths: [a]\n    tset: {}\n", "services:\n  - name: api\n", "services: []\n",
		"platforms: [linux]\nservices:\n  - name: api\n    paths: [a]\n"} {
		if err := schema.Validate(testenv.SchemaDocument(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts %q", bad)
		}
	}
}

// TestSchemaKeysMatchConfigStruct keeps the editor schema and the parser on the same keys.
func TestSchemaKeysMatchConfigStruct(t *testing.T) {
	var schema map[string]any
	data, _ := fs.ReadFile(templates.FS, "scribe.schema.json")
	json.Unmarshal(data, &schema)
	defs := schema["$defs"].(map[string]any)
	props := func(m map[string]any) []string {
		var keys []string
		for k := range m["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	service := defs["service"].(map[string]any)
	sub := func(key string) map[string]any { return service["properties"].(map[string]any)[key].(map[string]any) }
	pairs := []struct {
		name   string
		schema []string
		typ    reflect.Type
	}{
		{"config", props(schema), reflect.TypeOf(Config{})},
		{"scribe-actions", props(schema["properties"].(map[string]any)["scribe-actions"].(map[string]any)), reflect.TypeOf(ScribeActions{})},
		{"service", props(service), reflect.TypeOf(Service{})},
		{"test", props(sub("test")), reflect.TypeOf(ServiceTests{})},
		{"smoke-test", props(sub("smoke-test")), reflect.TypeOf(SmokeTest{})},
		{"scan", props(sub("scan")), reflect.TypeOf(Scan{})},
		{"sign", props(sub("sign")), reflect.TypeOf(Sign{})},
		{"cleanup", props(sub("cleanup")), reflect.TypeOf(Cleanup{})},
	}
	for _, p := range pairs {
		var keys []string
		for i := 0; i < p.typ.NumField(); i++ {
			if tag := p.typ.Field(i).Tag.Get("yaml"); tag != "" {
				keys = append(keys, tag)
			}
		}
		sort.Strings(keys)
		if !reflect.DeepEqual(keys, p.schema) {
			t.Errorf("%s: Go keys %v, schema keys %v", p.name, keys, p.schema)
		}
	}
}
