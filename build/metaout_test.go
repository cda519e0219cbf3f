package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// metaOfRelease is metadata-action's README example: name/app on tag v1.2.3 of octocat/Hello-World.
func metaOfRelease(t *testing.T, extraLabels map[string]string) *Meta {
	t.Helper()
	c := ctxFor("push", "refs/tags/v1.2.3")
	c.Description, c.License = "This your first repo!", "MIT"
	meta, err := ComputeMeta(c, []string{"name/app"}, []string{"type=semver,pattern={{version}}"}, nil, "", extraLabels)
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

const releaseLabels = `"org.opencontainers.image.created":"2020-01-10T00:00:00Z",` +
	`"org.opencontainers.image.description":"This your first repo!",` +
	`"org.opencontainers.image.licenses":"MIT",` +
	`"org.opencontainers.image.revision":"860c1904a1ce19322e91ac35af1ab07466440c37",` +
	`"org.opencontainers.image.source":"https://github.com/octocat/Hello-World",` +
	`"org.opencontainers.image.title":"Hello-World",` +
	`"org.opencontainers.image.url":"https://github.com/octocat/Hello-World",` +
	`"org.opencontainers.image.version":"1.2.3"`

// The json output has metadata-action's shape (src/meta.ts getJSON): tags, labels as an object, and the
// annotations at each level; the labels input reaches the labels, not the annotations, as there.
func TestMetadataJSONOutput(t *testing.T) {
	meta := metaOfRelease(t, map[string]string{"maintainer": "Ops <ops@example.com> & co"})
	levels := annotationLevels(func(string) string { return "" })
	got := metadataJSON(meta, annotationList(meta, levels))
	want := `{"tags":["name/app:1.2.3","name/app:latest"],"labels":{"maintainer":"Ops <ops@example.com> & co",` + releaseLabels + `},"annotations":[` +
		`"manifest:org.opencontainers.image.created=2020-01-10T00:00:00Z",` +
		`"manifest:org.opencontainers.image.description=This your first repo!",` +
		`"manifest:org.opencontainers.image.licenses=MIT",` +
		`"manifest:org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37",` +
		`"manifest:org.opencontainers.image.source=https://github.com/octocat/Hello-World",` +
		`"manifest:org.opencontainers.image.title=Hello-World",` +
		`"manifest:org.opencontainers.image.url=https://github.com/octocat/Hello-World",` +
		`"manifest:org.opencontainers.image.version=1.2.3"]}`
	if got != want {
		t.Errorf("json output\n got %s\nwant %s", got, want)
	}

	// DOCKER_METADATA_ANNOTATIONS_LEVELS puts every annotation at each level, level by level.
	levels = annotationLevels(func(k string) string {
		return map[string]string{"DOCKER_METADATA_ANNOTATIONS_LEVELS": "manifest,index"}[k]
	})
	list := annotationList(meta, levels)
	if len(list) != 16 || list[0] != "manifest:org.opencontainers.image.created=2020-01-10T00:00:00Z" ||
		list[8] != "index:org.opencontainers.image.created=2020-01-10T00:00:00Z" {
		t.Errorf("annotations at manifest,index: %q", list)
	}

	// No tag: an empty list, not null.
	none, _ := ComputeMeta(ctxFor("push", "refs/heads/dev"), []string{"name/app"}, []string{"type=semver,pattern={{version}}"}, nil, "", nil)
	if got := metadataJSON(none, nil); !strings.HasPrefix(got, `{"tags":[],"labels":{`) || !strings.HasSuffix(got, `"annotations":[]}`) {
		t.Errorf("no tags: %s", got)
	}
}

// The bake-file output is metadata-action's bake definition (src/meta.ts getBakeFileTagsLabels and
// generateBakeFile): target docker-metadata-action with tags, labels and args, indented by two spaces; the
// bake-file-* outputs hold one kind each.
func TestMetadataBakeFileOutputs(t *testing.T) {
	meta := metaOfRelease(t, nil)
	annotations := annotationList(meta, []string{"manifest"})
	defs := bakeFiles(meta, []string{"Name/App"}, "docker-metadata-action", annotations)
	labels := strings.ReplaceAll(strings.ReplaceAll(releaseLabels, `",`, "\",\n        "), `":"`, `": "`)
	want := `{
  "target": {
    "docker-metadata-action": {
      "tags": [
        "name/app:1.2.3",
        "name/app:latest"
      ],
      "labels": {
        ` + labels + `
      },
      "args": {
        "DOCKER_META_IMAGES": "name/app",
        "DOCKER_META_VERSION": "1.2.3"
      }
    }
  }
}`
	if defs["bake-file"] != want {
		t.Errorf("bake-file\n got %s\nwant %s", defs["bake-file"], want)
	}
	for output, want := range map[string][]string{
		"bake-file-tags":        {`"tags": [`, `"args": {`},
		"bake-file-labels":      {`"labels": {`},
		"bake-file-annotations": {`"annotations": [` + "\n" + `        "manifest:org.opencontainers.image.created=2020-01-10T00:00:00Z",`},
	} {
		got := defs[output]
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", output, w, got)
			}
		}
		if n := strings.Count(got, "\n    \"docker-metadata-action\": {\n      \""); n != 1 || strings.Count(got, "\n      \"") != len(want) {
			t.Errorf("%s has other kinds than %q:\n%s", output, want, got)
		}
	}

	// bake-target names the target; no version leaves DOCKER_META_VERSION out, as JSON.stringify does.
	none, _ := ComputeMeta(ctxFor("push", "refs/heads/dev"), []string{"name/app"}, []string{"type=semver,pattern={{version}}"}, nil, "", nil)
	got := bakeFiles(none, []string{"name/app"}, "meta", nil)["bake-file-tags"]
	if !strings.Contains(got, `"meta": {`) || !strings.Contains(got, `"tags": [],`) || strings.Contains(got, "DOCKER_META_VERSION") {
		t.Errorf("no version:\n%s", got)
	}

	// The files are where later steps of the job read them: under RUNNER_TEMP, with metadata-action's names.
	tmp := t.TempDir()
	paths, err := writeBakeFiles(func(k string) string { return map[string]string{"RUNNER_TEMP": tmp}[k] }, defs)
	if err != nil {
		t.Fatal(err)
	}
	for output, name := range bakeFileNames {
		data, err := os.ReadFile(paths[output])
		if err != nil || string(data) != defs[output] || filepath.Base(paths[output]) != name || !strings.HasPrefix(paths[output], tmp) {
			t.Errorf("%s: %s (%v)", output, paths[output], err)
		}
	}
}

// sep-tags, sep-labels and sep-annotations are read untrimmed, as metadata-action reads them, and are a
// newline when not given.
func TestSeparatorInputs(t *testing.T) {
	for _, tt := range []struct {
		env    map[string]string
		parsed string // the input as the step parsed it (trimmed)
		want   string
	}{
		{nil, "", "\n"},
		{map[string]string{"INPUT_SEP_TAGS": ", "}, ",", ", "},
		{map[string]string{"INPUT_SEP-TAGS": " "}, "", " "},
		{map[string]string{"INPUT_SEP-TAGS": ";"}, ";", ";"},
		{map[string]string{"INPUT_SEP_TAGS": " , "}, ";", ";"}, // a flag given in a terminal wins
	} {
		if got := separator(func(k string) string { return tt.env[k] }, "sep-tags", tt.parsed); got != tt.want {
			t.Errorf("%q parsed as %q: %q, want %q", tt.env, tt.parsed, got, tt.want)
		}
	}
}
