package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Report is the JSON report: every package, finding and secret, and the gate's verdict.
type Report struct {
	Image          string         `json:"image"`
	Digest         string         `json:"digest,omitempty"`
	Packages       []Package      `json:"packages"`
	Findings       []Finding      `json:"findings"`
	Secrets        []Secret       `json:"secrets"`
	Counts         map[string]int `json:"counts"`
	Gate           Gate           `json:"gate"`
	Distro         Distro         `json:"distro"`   // the operating system, as its release files name it
	Coverage       []Coverage     `json:"coverage"` // per ecosystem: what its packages were matched against, or why not
	SARIFDropped   int            `json:"sarifDropped"`
	IgnoreWarnings []string       `json:"ignoreWarnings,omitempty"`
}

// ReportOptions say how the reports are written; each field mirrors an input.
type ReportOptions struct {
	SBOMFormat    string      // cyclonedx, spdx or both
	SARIFCategory string      // "" for the image's name
	Dockerfile    *Dockerfile // nil: results point at files in the image
	Now           time.Time   // the SBOMs' timestamp
}

// Reports are the files WriteReports wrote.
type Reports struct {
	SBOMs  []string
	SARIF  string
	Report string
}

// WriteReports writes into dir (made if missing) the SBOMs of img, the SARIF log of rep's findings and secrets,
// and rep itself as JSON, after setting rep.SARIFDropped to what code scanning's limits dropped from the SARIF.
func WriteReports(dir string, img *Image, rep *Report, o ReportOptions) (*Reports, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf(`input "output-dir": %w`, err)
	}
	t := img.target
	sboms, err := writeSBOMs(dir, o.SBOMFormat, t, img.Packages, o.Now)
	if err != nil {
		return nil, err
	}
	in := sarifInput{target: t, findings: rep.Findings, secrets: rep.Secrets, coverage: rep.Coverage, category: o.SARIFCategory}
	var stage []instruction
	if o.Dockerfile != nil {
		in.dockerfile, stage = o.Dockerfile.Path, o.Dockerfile.stage
	}
	in.lines = layerLines(t.img, stage)
	sarifLog, dropped, err := buildSARIF(in)
	if err != nil {
		return nil, err
	}
	out := &Reports{SBOMs: sboms, SARIF: filepath.Join(dir, t.name+".sarif"), Report: filepath.Join(dir, t.name+"-scan.json")}
	if err := os.WriteFile(out.SARIF, sarifLog, 0o644); err != nil {
		return nil, err
	}
	rep.SARIFDropped = dropped
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	if rep.Secrets == nil {
		rep.Secrets = []Secret{}
	}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(out.Report, raw, 0o644); err != nil {
		return nil, err
	}
	return out, nil
}

func countBySeverity(findings []Finding) map[string]int {
	c := map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
	for _, f := range findings {
		c[f.Severity]++
	}
	return c
}
