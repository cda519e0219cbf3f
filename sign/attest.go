package sign

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// Predicate types cosign verify-attestation --type maps to.
const (
	cycloneDXPredicate = "https://cyclonedx.org/bom"
	spdxPredicate      = "https://spdx.dev/Document"
	slsaProvenanceV1   = "https://slsa.dev/provenance/v1"
)

// Predicate is what an attestation states about the image: its in-toto predicate type and body.
type Predicate struct {
	Type string
	Body *structpb.Struct
}

// Predicates are the attestations the inputs ask for: each SBOM of the attest-sbom file or folder, then, with
// provenance, a SLSA provenance v1 predicate from the GitHub context getenv reads.
func Predicates(sbomPath string, provenance bool, getenv func(string) string) ([]Predicate, error) {
	var out []Predicate
	if sbomPath != "" {
		sboms, err := sbomPredicates(sbomPath)
		if err != nil {
			return nil, err
		}
		out = append(out, sboms...)
	}
	if provenance {
		p, err := provenancePredicate(getenv)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// sbomPredicates reads an SBOM file, or every JSON file of a folder, and tells CycloneDX from SPDX.
func sbomPredicates(path string) ([]Predicate, error) {
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
	var out []Predicate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf(`input "attest-sbom": %s is not JSON: %w`, f, err)
		}
		p := Predicate{}
		switch {
		case doc["bomFormat"] == "CycloneDX":
			p.Type = cycloneDXPredicate
		case doc["spdxVersion"] != nil:
			p.Type = spdxPredicate
		default:
			return nil, fmt.Errorf(`input "attest-sbom": %s is neither a CycloneDX nor an SPDX JSON document`, f)
		}
		if p.Body, err = structpb.NewStruct(doc); err != nil {
			return nil, fmt.Errorf(`input "attest-sbom": %s: %w`, f, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// provenancePredicate is a SLSA provenance v1 predicate from the GitHub context: the workflow run as the builder,
// its inputs as external parameters, the source commit as the resolved dependency.
func provenancePredicate(getenv func(string) string) (Predicate, error) {
	server, repo, ref := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_REF")
	if server == "" {
		server = "https://github.com"
	}
	workflowRef := getenv("GITHUB_WORKFLOW_REF") // owner/repo/.github/workflows/x.yml@refs/heads/main
	path := ""
	if _, rest, ok := strings.Cut(workflowRef, repo+"/"); ok {
		path, _, _ = strings.Cut(rest, "@")
	}
	external, err := structpb.NewStruct(map[string]any{"workflow": map[string]any{
		"ref": ref, "repository": server + "/" + repo, "path": path}})
	if err != nil {
		return Predicate{}, err
	}
	internal, err := structpb.NewStruct(map[string]any{"github": map[string]any{
		"event_name": getenv("GITHUB_EVENT_NAME"), "repository_id": getenv("GITHUB_REPOSITORY_ID"),
		"repository_owner_id": getenv("GITHUB_REPOSITORY_OWNER_ID"), "runner_environment": getenv("RUNNER_ENVIRONMENT")}})
	if err != nil {
		return Predicate{}, err
	}
	source := &intoto.ResourceDescriptor{Uri: "git+" + server + "/" + repo + "@" + ref}
	if sha := getenv("GITHUB_SHA"); sha != "" { // no commit outside a runner: an empty digest is not a digest
		source.Digest = map[string]string{string(intoto.AlgorithmGitCommit): sha}
	}
	prov := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            "https://actions.github.io/buildtypes/workflow/v1",
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: []*intoto.ResourceDescriptor{source},
		},
		RunDetails: &slsa.RunDetails{
			Builder: &slsa.Builder{Id: server + "/" + workflowRef},
			Metadata: &slsa.BuildMetadata{InvocationId: fmt.Sprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo,
				getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT"))},
		},
	}
	if err := prov.Validate(); err != nil {
		return Predicate{}, fmt.Errorf(`input "attest-provenance": the GitHub context makes no valid SLSA provenance: %w`, err)
	}
	body, err := asStruct(prov)
	return Predicate{Type: slsaProvenanceV1, Body: body}, err
}
