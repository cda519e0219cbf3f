package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is the JSON report of one platform image: every package, finding and secret, and the gate's verdict.
type Report struct {
	Image          string         `json:"image"`
	Digest         string         `json:"digest,omitempty"`   // the image manifest's
	Platform       string         `json:"platform,omitempty"` // os/arch[/variant]
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
	SBOMs   []string
	SARIF   string
	Reports []string // one JSON report per platform image
}

// WriteReports writes into dir (made if missing), for each image of one input (reps[i] is imgs[i]'s), its SBOMs
// and its JSON report, and one SARIF log of them all. Files are named after the image, and after its platform
// too when the input held several. Each report's SARIFDropped is set to what code scanning's limits dropped.
func WriteReports(dir string, imgs []*Image, reps []*Report, o ReportOptions) (*Reports, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf(`input "output-dir": %w`, err)
	}
	multi := len(imgs) > 1
	stems := reportStems(imgs)
	in := sarifInput{name: imgs[0].Name, ref: imgs[0].target.ref, category: o.SARIFCategory}
	var stage []instruction
	if o.Dockerfile != nil {
		in.dockerfile, stage = o.Dockerfile.Path, o.Dockerfile.stage
	}
	out := &Reports{SARIF: filepath.Join(dir, imgs[0].Name+".sarif")}
	for i, img := range imgs {
		stem := stems[i]
		part := sarifImage{findings: reps[i].Findings, secrets: reps[i].Secrets, coverage: reps[i].Coverage, lines: layerLines(img.target.img, stage)}
		if multi {
			part.platform = orUnknown(img.Platform)
			part.coverage = nil
			for _, c := range reps[i].Coverage {
				c.Platform = part.platform
				part.coverage = append(part.coverage, c)
			}
		}
		in.images = append(in.images, part)
		sboms, err := writeSBOMs(dir, stem, o.SBOMFormat, img.target, img.Packages, o.Now)
		if err != nil {
			return nil, err
		}
		out.SBOMs = append(out.SBOMs, sboms...)
		out.Reports = append(out.Reports, filepath.Join(dir, stem+"-scan.json"))
	}
	sarifLog, dropped, err := buildSARIF(in)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(out.SARIF, sarifLog, 0o644); err != nil {
		return nil, err
	}
	for i, rep := range reps {
		rep.SARIFDropped = dropped
		if rep.Findings == nil {
			rep.Findings = []Finding{}
		}
		if rep.Secrets == nil {
			rep.Secrets = []Secret{}
		}
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(out.Reports[i], raw, 0o644); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reportStems name each image's files: the image's name, and its platform when the input held several; two
// images of one platform (Windows versions, a layout of two tags) or of none add their digest.
func reportStems(imgs []*Image) []string {
	stems := make([]string, len(imgs))
	count := map[string]int{}
	for i, img := range imgs {
		stems[i] = img.Name
		if len(imgs) > 1 {
			p := img.Platform
			if p == "" {
				p = "unknown"
			}
			stems[i] += "-" + strings.ReplaceAll(p, "/", "-")
		}
		count[stems[i]]++
	}
	for i, img := range imgs {
		if count[stems[i]] > 1 {
			stems[i] += "-" + strings.TrimPrefix(img.Digest, "sha256:")[:min(12, len(strings.TrimPrefix(img.Digest, "sha256:")))]
		}
	}
	return stems
}

func countBySeverity(findings []Finding) map[string]int {
	c := map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
	for _, f := range findings {
		c[f.Severity]++
	}
	return c
}
