package scan

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// GitHub code scanning's limits for one upload.
const (
	maxResults     = 25000
	maxGzipBytes   = 10 << 20
	informationURI = "https://github.com/infinite-scribe/scribe-actions"
)

// securitySeverity is the rule property code scanning ranks alerts by: the CVSS score when known, else the
// middle of the rating's band.
func securitySeverity(f Finding) string {
	if f.Score > 0 {
		return fmt.Sprintf("%.1f", f.Score)
	}
	return map[string]string{"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0", "UNKNOWN": "0.0"}[f.Severity]
}

func level(severity string) string {
	switch severity {
	case "CRITICAL", "HIGH":
		return "error"
	case "MEDIUM":
		return "warning"
	}
	return "note"
}

// sarifInput is what the SARIF log reports.
type sarifInput struct {
	target     *target
	findings   []Finding
	secrets    []Secret
	coverage   []Coverage // per ecosystem, in the run's properties: what was not assessed is visible there too
	category   string
	dockerfile string      // repository path of the Dockerfile, when given
	lines      map[int]int // layer -> Dockerfile line
}

// buildSARIF writes every finding and secret as a SARIF 2.1.0 log for code scanning: one rule per
// vulnerability with its security-severity, results at the Dockerfile line that added the layer (or at the
// file inside the image), stable partial fingerprints, the category as the run's automation ID. Beyond GitHub's
// limits the least severe results are dropped; the count is returned and recorded in the run's properties.
func buildSARIF(in sarifInput) ([]byte, int, error) {
	findings := append([]Finding(nil), in.findings...)
	sort.SliceStable(findings, func(i, j int) bool {
		if a, b := severityRank[findings[i].Severity], severityRank[findings[j].Severity]; a != b {
			return a > b
		}
		return findings[i].Score > findings[j].Score
	})
	keep := min(len(findings), maxResults-min(len(in.secrets), maxResults))
	for {
		raw, err := in.encode(findings[:keep], len(findings)-keep)
		if err != nil {
			return nil, 0, err
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		if gz.Len() <= maxGzipBytes || keep == 0 {
			return raw, len(findings) - keep, nil
		}
		keep = keep * 8 / 10
	}
}

func (in sarifInput) encode(findings []Finding, dropped int) ([]byte, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	run := sarif.NewRunWithInformationURI(toolName, informationURI)
	category := in.category
	if category == "" {
		category = "scribe-scan/" + in.target.name
	}
	run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID(category + "/"))
	props := sarif.NewPropertyBag()
	props.Add("image", in.target.ref)
	props.Add("droppedResults", dropped)
	props.Add("coverage", in.coverage)
	run.Properties = props.Properties
	rules := map[string]bool{}
	for _, f := range findings {
		if !rules[f.ID] {
			rules[f.ID] = true
			summary := f.Summary
			if summary == "" {
				summary = f.ID
			}
			rp := sarif.NewPropertyBag()
			rp.Add("security-severity", securitySeverity(f))
			rp.Add("tags", []string{"security", "vulnerability", strings.ToLower(f.Package.Type)})
			run.AddRule(f.ID).WithName(strings.ReplaceAll(f.ID, "-", "")).
				WithShortDescription(sarif.NewMultiformatMessageString(summary)).
				WithFullDescription(sarif.NewMultiformatMessageString(summary)).
				WithHelpURI("https://osv.dev/vulnerability/" + f.ID).
				WithHelp(sarif.NewMultiformatMessageString(fmt.Sprintf("%s: %s (severity %s from %s)", f.ID, summary, f.Severity, f.SeveritySource))).
				WithProperties(rp.Properties)
		}
		fixed := "no fixed version yet"
		if f.FixedVersion != "" {
			fixed = "fixed in " + f.FixedVersion
		}
		msg := fmt.Sprintf("%s %s %s (layer %d, %s) is affected by %s (%s); %s.", f.Package.Type, f.Package.Name, f.Package.Version,
			f.Package.Layer+1, f.Package.Path, f.ID, f.Severity, fixed)
		res := run.CreateResultForRule(f.ID).WithLevel(level(f.Severity)).WithMessage(sarif.NewTextMessage(msg))
		res.WithPartialFingerPrints(map[string]interface{}{"scribe/v1": fingerprint(f.ID, f.Package.Ecosystem, f.Package.Name, f.Package.Path)})
		res.AddLocation(in.location(f.Package.Layer, f.Package.Path))
	}
	for _, s := range in.secrets {
		id := "secret/" + s.Rule
		if !rules[id] {
			rules[id] = true
			rp := sarif.NewPropertyBag()
			rp.Add("security-severity", "9.0")
			rp.Add("tags", []string{"security", "secret"})
			run.AddRule(id).WithName(s.Rule).
				WithShortDescription(sarif.NewMultiformatMessageString("A " + s.Rule + " is baked into an image layer")).
				WithHelp(sarif.NewMultiformatMessageString("Anything in any layer ships with the image, even when a later layer deletes it. Rotate the credential and pass it to the build as a secret mount.")).
				WithProperties(rp.Properties)
		}
		msg := fmt.Sprintf("%s in %s line %d, layer %d (fingerprint %s; the secret is not shown).", s.Rule, s.Path, s.Line, s.Layer+1, s.Fingerprint)
		res := run.CreateResultForRule(id).WithLevel("error").WithMessage(sarif.NewTextMessage(msg))
		res.WithPartialFingerPrints(map[string]interface{}{"scribe/v1": fingerprint(id, s.Path, s.Fingerprint)})
		res.AddLocation(in.location(s.Layer, s.Path))
	}
	report.AddRun(run)
	var b bytes.Buffer
	if err := report.PrettyWrite(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// location is the Dockerfile line that added the layer, or else the file inside the image.
func (in sarifInput) location(layer int, path string) *sarif.Location {
	if line, ok := in.lines[layer]; ok && in.dockerfile != "" {
		return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
			WithArtifactLocation(sarif.NewSimpleArtifactLocation(in.dockerfile)).WithRegion(sarif.NewSimpleRegion(line, line)))
	}
	return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(strings.TrimPrefix(path, "/"))).WithRegion(sarif.NewSimpleRegion(1, 1)))
}

func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}
