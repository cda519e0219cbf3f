package sign

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Predicate types cosign verify-attestation --type maps to.
const (
	cycloneDXPredicate  = "https://cyclonedx.org/bom"
	spdxPredicate       = "https://spdx.dev/Document"
	slsaProvenanceV1    = "https://slsa.dev/provenance/v1"
	inTotoStatementType = "https://in-toto.io/Statement/v0.1"
	inTotoPayloadType   = "application/vnd.in-toto+json"
)

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type statement struct {
	Type          string    `json:"_type"`
	PredicateType string    `json:"predicateType"`
	Subject       []subject `json:"subject"`
	Predicate     any       `json:"predicate"`
}

func newStatement(d name.Digest, predicateType string, predicate any) ([]byte, error) {
	hex := strings.TrimPrefix(d.DigestStr(), "sha256:")
	return json.Marshal(statement{Type: inTotoStatementType, PredicateType: predicateType,
		Subject: []subject{{Name: d.Context().Name(), Digest: map[string]string{"sha256": hex}}}, Predicate: predicate})
}

// sbomPredicates reads an SBOM file, or every JSON file of a folder, and tells CycloneDX from SPDX.
func sbomPredicates(path string) ([]sbom, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf(`input "attest-sbom": %w`, err)
	}
	files := []string{path}
	if info.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*.json"))
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf(`input "attest-sbom": %s holds no .json SBOM`, path)
		}
	}
	var out []sbom
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf(`input "attest-sbom": %s is not JSON: %w`, f, err)
		}
		switch {
		case doc["bomFormat"] == "CycloneDX":
			out = append(out, sbom{file: f, predicateType: cycloneDXPredicate, doc: doc})
		case doc["spdxVersion"] != nil:
			out = append(out, sbom{file: f, predicateType: spdxPredicate, doc: doc})
		default:
			return nil, fmt.Errorf(`input "attest-sbom": %s is neither a CycloneDX nor an SPDX JSON document`, f)
		}
	}
	return out, nil
}

type sbom struct {
	file          string
	predicateType string
	doc           map[string]any
}

// provenance is a SLSA provenance v1 predicate from the GitHub context: the workflow run as the builder, its
// inputs as external parameters, the source commit as the resolved dependency.
func provenance(getenv func(string) string) map[string]any {
	server, repo := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY")
	if server == "" {
		server = "https://github.com"
	}
	workflowRef := getenv("GITHUB_WORKFLOW_REF") // owner/repo/.github/workflows/x.yml@refs/heads/main
	path := ""
	if _, rest, ok := strings.Cut(workflowRef, repo+"/"); ok {
		path, _, _ = strings.Cut(rest, "@")
	}
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{
				"ref": getenv("GITHUB_REF"), "repository": server + "/" + repo, "path": path}},
			"internalParameters": map[string]any{"github": map[string]any{
				"event_name": getenv("GITHUB_EVENT_NAME"), "repository_id": getenv("GITHUB_REPOSITORY_ID"),
				"repository_owner_id": getenv("GITHUB_REPOSITORY_OWNER_ID"), "runner_environment": getenv("RUNNER_ENVIRONMENT")}},
			"resolvedDependencies": []any{map[string]any{
				"uri": "git+" + server + "/" + repo + "@" + getenv("GITHUB_REF"), "digest": map[string]any{"gitCommit": getenv("GITHUB_SHA")}}},
		},
		"runDetails": map[string]any{
			"builder": map[string]any{"id": server + "/" + workflowRef},
			"metadata": map[string]any{"invocationId": fmt.Sprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo,
				getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT"))},
		},
	}
}
