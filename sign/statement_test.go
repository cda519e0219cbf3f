package sign

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"google.golang.org/protobuf/types/known/structpb"
)

const testDigest = "sha256:4a668fd22601acf91adb14ae57c2fe45a61010c709b3c48ff12b0b9187147640"

// The bytes signed are the ones cosign makes: its simple signing payload, and cosign v3's signing statement as
// cosign v3.x writes it into a bundle.
func TestSignedBytesAreCosigns(t *testing.T) {
	d, _ := name.NewDigest("127.0.0.1:5000/acme/app@" + testDigest)
	sp, err := simpleSigningPayload(d)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := signStatement(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"simple signing payload", string(sp), `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/acme/app"},"image":{"docker-manifest-digest":"` +
			testDigest + `"},"type":"cosign container image signature"},"optional":null}`},
		{"sign statement", string(stmt), `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` +
			strings.TrimPrefix(testDigest, "sha256:") + `"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`},
	} {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, c.got, c.want)
		}
	}
	if named, err := signedDigest(sp); err != nil || named != testDigest {
		t.Errorf("signedDigest: %q %v", named, err)
	}
}

// An attestation is `cosign attest`'s in-toto v0.1 statement, read back whatever its predicate, and found again
// when the same statement was written with other key order or spacing.
func TestAttestationStatement(t *testing.T) {
	d, _ := name.NewDigest("127.0.0.1:5000/acme/app@" + testDigest)
	body, _ := structpb.NewStruct(map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []any{}})
	stmt, err := attestationStatement(d, Predicate{Type: cycloneDXPredicate, Body: structpb.NewStructValue(body)})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate map[string]any `json:"predicate"`
	}
	if err := json.Unmarshal(stmt, &got); err != nil || got.Type != "https://in-toto.io/Statement/v0.1" || got.PredicateType != cycloneDXPredicate ||
		len(got.Subject) != 1 || got.Subject[0].Name != "127.0.0.1:5000/acme/app" || "sha256:"+got.Subject[0].Digest["sha256"] != testDigest ||
		got.Predicate["bomFormat"] != "CycloneDX" || got.Predicate["version"] != 1.0 {
		t.Errorf("statement %s: %+v %v", stmt, got, err)
	}
	// As encoding/json wrote it before: another key order, HTML escaping.
	earlier := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","subject":[{"name":"127.0.0.1:5000/acme/app","digest":{"sha256":"` +
		strings.TrimPrefix(testDigest, "sha256:") + `"}}],"predicate":{"bomFormat":"CycloneDX","components":[],"specVersion":"1.6","version":1}}`
	if !sameStatement([]byte(earlier), stmt) {
		t.Error("the same statement in another key order is not found again")
	}
	if sameStatement([]byte(strings.Replace(earlier, `"1.6"`, `"1.5"`, 1)), stmt) {
		t.Error("another predicate counts as the same")
	}
	spdx := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{"name":"r","digest":{"sha256":"ab"}}],"predicate":"SPDXVersion: SPDX-2.3"}`
	if st, err := readStatement([]byte(spdx)); err != nil || st.GetPredicateType() != spdxPredicate || st.GetSubject()[0].GetDigest()["sha256"] != "ab" {
		t.Errorf("a statement with a text predicate: %v %v", st, err)
	}
}

// attest-predicate and attest-type make what cosign attest --predicate --type makes: cosign's predicate type URI
// for each of its --type names (or the URI given), the predicate's shape for that type, and cosign's refusals.
func TestCosignAttestTypes(t *testing.T) {
	d, _ := name.NewDigest("127.0.0.1:5000/acme/app@" + testDigest)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	dir := t.TempDir()
	write := func(content string) string {
		f, _ := os.CreateTemp(dir, "predicate")
		f.WriteString(content)
		f.Close()
		return f.Name()
	}
	for _, c := range []struct {
		typ, content string
		wantType     string
		wantPred     string // the statement's predicate, compact JSON
		wantErr      string
	}{
		{"custom", "hello\n", "https://cosign.sigstore.dev/attestation/v1", `{"Data":"hello\n","Timestamp":"2026-01-02T02:04:05Z"}`, ""},
		{"spdx", "SPDXVersion: SPDX-2.3", spdxPredicate, `"SPDXVersion: SPDX-2.3"`, ""},
		{"spdxjson", `{"spdxVersion":"SPDX-2.3"}`, spdxPredicate, `{"spdxVersion":"SPDX-2.3"}`, ""},
		{"cyclonedx", `{"bomFormat":"CycloneDX"}`, cycloneDXPredicate, `{"bomFormat":"CycloneDX"}`, ""},
		{"openvex", `{"@context":"https://openvex.dev/ns/v0.2.0"}`, "https://openvex.dev/ns", `{"@context":"https://openvex.dev/ns/v0.2.0"}`, ""},
		{"vuln", `{"scanner":{"uri":"x"}}`, "https://cosign.sigstore.dev/attestation/vuln/v1", `{"scanner":{"uri":"x"}}`, ""},
		{"slsaprovenance", `{"builder":{"id":"b"},"buildType":"t"}`, "https://slsa.dev/provenance/v0.2", `{"buildType":"t","builder":{"id":"b"}}`, ""},
		{"slsaprovenance02", `{"builder":{"id":"b"},"buildType":"t"}`, "https://slsa.dev/provenance/v0.2", `{"buildType":"t","builder":{"id":"b"}}`, ""},
		{"slsaprovenance1", `{"buildDefinition":{},"runDetails":{}}`, slsaProvenanceV1, `{"buildDefinition":{},"runDetails":{}}`, ""},
		{"link", `{"_type":"link","name":"n","materials":{},"products":{},"byproducts":{},"command":[],"environment":{}}`, "https://in-toto.io/Link/v1",
			`{"_type":"link","byproducts":{},"command":[],"environment":{},"materials":{},"name":"n","products":{}}`, ""},
		{"https://example.com/predicate/v1", `{"a":1}`, "https://example.com/predicate/v1", `{"a":1}`, ""},
		{"slsaprovenance", `{"builder":{"id":"b"}}`, "", "", `has no "buildType" field, which cosign requires of attest-type slsaprovenance`},
		{"link", `{"_type":"link"}`, "", "", `has no "name" field`},
		{"https://example.com/predicate/v1", `[1]`, "", "", "is not a JSON object, which attest-type https://example.com/predicate/v1 needs"},
		{"cyclonedx", `<bom/>`, "", "", "is not JSON, which attest-type cyclonedx needs"},
	} {
		p, err := filePredicate(write(c.content), c.typ, now)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.HasPrefix(err.Error(), `input "attest-predicate": `) {
				t.Errorf("%s %s: %v, want an error saying %q", c.typ, c.content, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.typ, err)
			continue
		}
		stmt, err := attestationStatement(d, p)
		if err != nil {
			t.Errorf("%s: %v", c.typ, err)
			continue
		}
		var got struct {
			Type          string          `json:"_type"`
			PredicateType string          `json:"predicateType"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(stmt, &got); err != nil || got.Type != inTotoStatementV01 || got.PredicateType != c.wantType || string(got.Predicate) != c.wantPred {
			t.Errorf("%s: statement %s (%v); want predicate type %s, predicate %s", c.typ, stmt, err, c.wantType, c.wantPred)
		}
		if st, err := readStatement(stmt); err != nil || st.GetPredicateType() != c.wantType || !sameStatement(stmt, stmt) {
			t.Errorf("%s: read back: %v %v", c.typ, st, err)
		}
	}
	if _, err := filePredicate(filepath.Join(dir, "missing.json"), "custom", now); err == nil || !strings.HasPrefix(err.Error(), `input "attest-predicate": `) {
		t.Errorf("a missing file: %v", err)
	}
	for typ, ok := range map[string]bool{"custom": true, "slsaprovenance1": true, "https://example.com/p": true, "/p": true, "sbom": false, "not a type": false} {
		if err := checkAttestType(typ); (err == nil) != ok {
			t.Errorf("attest-type %q: %v", typ, err)
		}
	}
}

// The provenance predicate has SLSA v1's JSON field names; a run without a commit still makes one.
func TestProvenancePredicate(t *testing.T) {
	env := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "860c1904a1ce19322e91ac35af1ab07466440c37", "GITHUB_REF": "refs/heads/main",
		"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/build.yml@refs/heads/main", "GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "1"}
	for _, sha := range []string{env["GITHUB_SHA"], ""} {
		env["GITHUB_SHA"] = sha
		p, err := provenancePredicate(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(p.Body.GetStructValue().AsMap())
		var got struct {
			BuildDefinition struct {
				BuildType          string `json:"buildType"`
				ExternalParameters struct {
					Workflow map[string]string `json:"workflow"`
				} `json:"externalParameters"`
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder  struct{ ID string } `json:"builder"`
				Metadata struct {
					InvocationID string `json:"invocationId"`
				} `json:"metadata"`
			} `json:"runDetails"`
		}
		json.Unmarshal(raw, &got)
		bd, rd := got.BuildDefinition, got.RunDetails
		if p.Type != slsaProvenanceV1 || bd.BuildType != "https://actions.github.io/buildtypes/workflow/v1" ||
			bd.ExternalParameters.Workflow["path"] != ".github/workflows/build.yml" || len(bd.ResolvedDependencies) != 1 ||
			bd.ResolvedDependencies[0].URI != "git+https://github.com/acme/app@refs/heads/main" || bd.ResolvedDependencies[0].Digest["gitCommit"] != sha ||
			rd.Builder.ID != "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main" ||
			rd.Metadata.InvocationID != "https://github.com/acme/app/actions/runs/99/attempts/1" {
			t.Errorf("sha %q: %s", sha, raw)
		}
	}
}

// failingStorage signs every manifest but the ones it is told to fail.
type failingStorage map[string]bool

func (f failingStorage) Sign(_ context.Context, d name.Digest) (string, error) {
	if f[d.DigestStr()] {
		return "", errors.New("registry said no")
	}
	return "signed " + d.DigestStr(), nil
}

func (f failingStorage) Attest(context.Context, name.Digest, Predicate) (string, error) {
	return "", nil
}

// SignManifests keeps the targets' order and reports every failure, not only the first.
func TestSignManifests(t *testing.T) {
	var targets []name.Digest
	for _, h := range []string{"1", "2", "3", "4", "5", "6"} {
		d, _ := name.NewDigest("127.0.0.1:5000/acme/app@sha256:" + strings.Repeat(h, 64))
		targets = append(targets, d)
	}
	refs, err := SignManifests(t.Context(), failingStorage{}, targets)
	if err != nil || len(refs) != 6 || refs[4] != "signed "+targets[4].DigestStr() {
		t.Errorf("%v %v", refs, err)
	}
	_, err = SignManifests(t.Context(), failingStorage{targets[1].DigestStr(): true, targets[5].DigestStr(): true}, targets)
	if err == nil || strings.Count(err.Error(), "registry said no") != 2 || !strings.Contains(err.Error(), "signing "+targets[5].String()) {
		t.Errorf("%v", err)
	}
}
