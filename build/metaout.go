package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// The outputs of docker/metadata-action that a build-push-action workflow reads, beyond tags, labels and
// version: the annotations, json and bake-file outputs and the separators of the list outputs. Their shapes are
// metadata-action's: src/meta.ts (getAnnotations, getJSON, getBakeFile, getBakeFileTagsLabels, generateBakeFile)
// and src/main.ts (DOCKER_METADATA_ANNOTATIONS_LEVELS, which bake file goes to which output), src/context.ts
// (sep-tags, sep-labels, sep-annotations read untrimmed, a newline when empty; bake-target).

// annotationLevels are the levels metadata-action puts each annotation at: DOCKER_METADATA_ANNOTATIONS_LEVELS,
// comma-separated, manifest by default.
func annotationLevels(getenv func(string) string) []string {
	levels := getenv("DOCKER_METADATA_ANNOTATIONS_LEVELS")
	if levels == "" {
		levels = "manifest"
	}
	return strings.Split(levels, ",")
}

// annotationList is metadata-action's annotations: for each level, every annotation sorted by key, as
// level:key=value.
func annotationList(meta *Meta, levels []string) []string {
	out := []string{}
	for _, level := range levels {
		for _, k := range slices.Sorted(maps.Keys(meta.Annotations)) {
			out = append(out, level+":"+k+"="+meta.Annotations[k])
		}
	}
	return out
}

// labelList is the labels output's items, key=value sorted by key.
func labelList(meta *Meta) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(meta.Labels)) {
		out = append(out, k+"="+meta.Labels[k])
	}
	return out
}

// metadataJSON is metadata-action's json output: JSON.stringify({tags, labels, annotations}), compact.
func metadataJSON(meta *Meta, annotations []string) string {
	return encodeJSON(struct {
		Tags        []string          `json:"tags"`
		Labels      map[string]string `json:"labels"`
		Annotations []string          `json:"annotations"`
	}{orEmpty(meta.Tags), meta.Labels, orEmpty(annotations)}, false)
}

// bakeTarget is one target of a bake definition as metadata-action writes it; a nil field is left out, in the
// order metadata-action writes the fields (tags, labels, annotations, args).
type bakeTarget struct {
	Tags        *[]string          `json:"tags,omitempty"`
	Labels      *map[string]string `json:"labels,omitempty"`
	Annotations *[]string          `json:"annotations,omitempty"`
	Args        *map[string]string `json:"args,omitempty"`
}

// bakeFiles are the bake definitions of the bake-file outputs, by output name: bake-file has the tags, labels
// and args (getBakeFileTagsLabels), the others one kind each (getBakeFile). args are DOCKER_META_IMAGES (the
// image names, lower-case, comma-separated) and DOCKER_META_VERSION (left out when there is no version, as
// JSON.stringify leaves out an undefined one).
func bakeFiles(meta *Meta, images []string, target string, annotations []string) map[string]string {
	tags := orEmpty(meta.Tags)
	var names []string
	for _, img := range images {
		names = append(names, strings.ToLower(img))
	}
	args := map[string]string{"DOCKER_META_IMAGES": strings.Join(names, ",")}
	if meta.Version != "" {
		args["DOCKER_META_VERSION"] = meta.Version
	}
	labels := meta.Labels
	def := func(t bakeTarget) string {
		return encodeJSON(map[string]map[string]bakeTarget{"target": {target: t}}, true)
	}
	return map[string]string{
		"bake-file":             def(bakeTarget{Tags: &tags, Labels: &labels, Args: &args}),
		"bake-file-tags":        def(bakeTarget{Tags: &tags, Args: &args}),
		"bake-file-labels":      def(bakeTarget{Labels: &labels}),
		"bake-file-annotations": def(bakeTarget{Annotations: &annotations}),
	}
}

// bakeFileNames are the files metadata-action writes each bake definition to.
var bakeFileNames = map[string]string{
	"bake-file":             "docker-metadata-action-bake.json",
	"bake-file-tags":        "docker-metadata-action-bake-tags.json",
	"bake-file-labels":      "docker-metadata-action-bake-labels.json",
	"bake-file-annotations": "docker-metadata-action-bake-annotations.json",
}

// writeBakeFiles writes the bake definitions in a new directory under RUNNER_TEMP (the system's temporary
// directory in a terminal), where later steps of the job can read them, and returns each output's path.
func writeBakeFiles(getenv func(string) string, defs map[string]string) (map[string]string, error) {
	base := getenv("RUNNER_TEMP")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "scribe-build-meta-")
	if err != nil {
		return nil, fmt.Errorf("writing the bake files: %w", err)
	}
	paths := map[string]string{}
	for output, content := range defs {
		p := filepath.Join(dir, bakeFileNames[output])
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("writing the bake files: %w", err)
		}
		paths[output] = p
	}
	return paths, nil
}

// separator is a sep-* input as metadata-action reads it: core.getInput(name, {trimWhitespace: false}), a newline
// when empty. The step's inputs are trimmed, so the text is taken again from the runner's variable (or the
// launcher's INPUT_SEP_TAGS alias) when that is what was trimmed: a separator may be ", " or a space.
func separator(getenv func(string) string, name, parsed string) string {
	for _, v := range []string{"INPUT_" + strings.ToUpper(name), actionio.EnvName(name)} {
		if raw := getenv(v); raw != "" && strings.TrimSpace(raw) == parsed {
			return raw
		}
	}
	if parsed == "" {
		return "\n"
	}
	return parsed
}

// encodeJSON writes v as JavaScript's JSON.stringify does (no escaping of <, > and &), indented by two spaces
// when indent is set, without a final newline.
func encodeJSON(v any, indent bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		panic(err) // strings, maps and slices of strings always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
