package sign

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// Predicate types of the attestations made here, as cosign names them.
const (
	cycloneDXPredicate = "https://cyclonedx.org/bom"
	spdxPredicate      = "https://spdx.dev/Document"
	slsaProvenanceV1   = "https://slsa.dev/provenance/v1"
)

// Predicate is what an attestation states about the image: its in-toto predicate type and body (a JSON object,
// but for cosign's "spdx" type, a string).
type Predicate struct {
	Type string
	Body *structpb.Value
}

// Predicates are the attestations the inputs ask for: each SBOM of the attest-sbom file or folder; with
// provenance, a SLSA provenance v1 predicate from the GitHub context getenv reads; then the attest-predicate
// file, as cosign attest --type attest-type makes it at time now.
func Predicates(in *Inputs, getenv func(string) string, now time.Time) ([]Predicate, error) {
	var out []Predicate
	if in.AttestSBOM != "" {
		sboms, err := sbomPredicates(in.AttestSBOM)
		if err != nil {
			return nil, err
		}
		out = append(out, sboms...)
	}
	if in.AttestProvenance {
		p, err := provenancePredicate(getenv)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if in.AttestPredicate != "" {
		p, err := filePredicate(in.AttestPredicate, in.AttestType, now)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// cosignPredicateType is the predicate type URI cosign attest --type t writes, and whether t is one of cosign's
// names: cosign v2.6.5 and v3.1.3 cmd/cosign/cli/options/predicate.go PredicateTypeMap, its URIs from
// pkg/cosign/attestation/attestation.go and in-toto-golang (in_toto/attestations.go, slsa_provenance/v0.2 and v1).
func cosignPredicateType(t string) (string, bool) {
	switch t {
	case "custom":
		return "https://cosign.sigstore.dev/attestation/v1", true
	case "slsaprovenance", "slsaprovenance02":
		return "https://slsa.dev/provenance/v0.2", true
	case "slsaprovenance1":
		return slsaProvenanceV1, true
	case "spdx", "spdxjson":
		return spdxPredicate, true
	case "cyclonedx":
		return cycloneDXPredicate, true
	case "link":
		return "https://in-toto.io/Link/v1", true
	case "vuln":
		return "https://cosign.sigstore.dev/attestation/vuln/v1", true
	case "openvex":
		return "https://openvex.dev/ns", true
	}
	return t, false
}

// checkAttestType accepts what cosign's --type does (options.ParsePredicateType): one of its names, or a URI.
func checkAttestType(t string) error {
	if _, ok := cosignPredicateType(t); ok {
		return nil
	}
	if _, err := url.ParseRequestURI(t); err != nil {
		return errors.New("is neither one of cosign attest's --type values (slsaprovenance, slsaprovenance02, slsaprovenance1, " +
			"spdx, spdxjson, cyclonedx, link, vuln, openvex, custom) nor a predicate type URI")
	}
	return nil
}

// requiredFields are the fields cosign attest --type t requires of the predicate (attestation.go
// checkRequiredJSONFields: the fields of in-toto-golang's type without omitempty).
func requiredFields(t string) []string {
	switch t {
	case "slsaprovenance", "slsaprovenance02":
		return []string{"builder", "buildType"}
	case "slsaprovenance1":
		return []string{"buildDefinition", "runDetails"}
	case "link":
		return []string{"_type", "name", "materials", "products", "byproducts", "command", "environment"}
	}
	return nil
}

// filePredicate reads a predicate file into the predicate cosign attest --predicate path --type t makes
// (cosign's pkg/cosign/attestation/attestation.go GenerateStatement): "custom" wraps the file's text with the
// time in cosign's {"Data","Timestamp"}; "spdx" takes the text as it is; every other type a JSON document, an
// object for provenance, link, vuln and a URI. Unlike cosign, the typed ones (provenance, link, vuln) are kept as
// written rather than re-encoded through in-toto-golang's structs, which would drop fields those structs lack.
func filePredicate(path, t string, now time.Time) (Predicate, error) {
	uri, _ := cosignPredicateType(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		return Predicate{}, fmt.Errorf(`input "attest-predicate": %w`, err)
	}
	p := Predicate{Type: uri}
	switch t {
	case "custom":
		p.Body, err = structpb.NewValue(map[string]any{"Data": string(raw), "Timestamp": now.UTC().Format(time.RFC3339)})
		return p, err
	case "spdx":
		p.Body = structpb.NewStringValue(string(raw))
		return p, nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Predicate{}, fmt.Errorf(`input "attest-predicate": %s is not JSON, which attest-type %s needs: %w`, path, t, err)
	}
	obj, isObject := doc.(map[string]any)
	switch t {
	case "spdxjson", "cyclonedx", "openvex":
	default:
		if !isObject {
			return Predicate{}, fmt.Errorf(`input "attest-predicate": %s is not a JSON object, which attest-type %s needs`, path, t)
		}
		for _, f := range requiredFields(t) {
			if _, ok := obj[f]; !ok {
				return Predicate{}, fmt.Errorf(`input "attest-predicate": %s has no %q field, which cosign requires of attest-type %s`, path, f, t)
			}
		}
	}
	if p.Body, err = structpb.NewValue(doc); err != nil {
		return Predicate{}, fmt.Errorf(`input "attest-predicate": %s: %w`, path, err)
	}
	return p, nil
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
		if p.Body, err = structpb.NewValue(doc); err != nil {
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
	return Predicate{Type: slsaProvenanceV1, Body: structpb.NewStructValue(body)}, err
}
