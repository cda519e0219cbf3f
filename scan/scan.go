package scan

import (
	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/platform"
)

// Inputs are the scan action's inputs.
type Inputs struct {
	Image         string
	Platforms     []string // nil: every platform image of an index
	Path          string   // a directory to scan as source, instead of an image
	History       bool     // with Path: the commits too
	Since         string   // with History: the base the commits are counted from
	Dockerfile    string
	FailOn        string
	IgnoreUnfixed bool
	IgnoreFiles   []string
	FailOnSecrets bool
	// FailOnUnassessed fails the gate when packages could not be assessed: os (the operating system's), all, none.
	FailOnUnassessed string
	DBURL            string
	DBDir            string
	Offline          bool
	SBOMFormat       string
	OutputDir        string
	SARIFCategory    string
}

// Spec declares the scan action's inputs and outputs, bound to in.
func Spec(in *Inputs) *actionio.Spec {
	s := &actionio.Spec{
		Name:        "scan",
		Description: "Scan an image for vulnerabilities (OSV) and baked-in secrets; write SBOMs and SARIF; gate on severity.",
	}
	s.String(&in.Image, "image", "", "Image to scan: a reference by digest, an OCI layout directory or a docker-save tarball (or give path).")
	s.List(&in.Platforms, "platforms", "", "Platforms of a multi-platform image to scan, e.g. linux/arm64 (default: all of them; the gate holds for each).").Check(platform.Check)
	s.String(&in.Path, "path", "", "Directory to scan as source instead of an image (the checkout: .): secrets in its files (gitleaks's allow-lists honoured) and its lockfiles' vulnerabilities.")
	s.Bool(&in.History, "history", false, "With path: scan the lines each commit added too (a pull request: its commits; a push: the pushed ones).")
	s.String(&in.Since, "since", "", "With history: scan the commits after this ref (default: the pull request's base, the push's previous head, else all).")
	s.String(&in.Dockerfile, "dockerfile", "", "Dockerfile the image was built from, to point findings at the line that added the layer.")
	s.Enum(&in.FailOn, "fail-on", "critical", []string{"critical", "high", "medium", "low", "none"},
		"Fail when a finding of this severity or higher is not ignored.")
	s.Bool(&in.IgnoreUnfixed, "ignore-unfixed", false, "Do not fail on vulnerabilities that have no fixed version.")
	s.List(&in.IgnoreFiles, "ignore-file", "", "Files of ignored findings: our YAML (id, package, reason, expires) or trivy's .trivyignore (IDs, exp: dates); comma or newline separated.")
	s.Bool(&in.FailOnSecrets, "fail-on-secrets", true, "Fail when a secret is found in a layer.")
	s.Enum(&in.FailOnUnassessed, "fail-on-unassessed", "os", []string{"os", "all", "none"},
		"Fail when packages could not be assessed (unknown distribution, no database for their ecosystem): os for the operating system's packages, all, or none; each is a warning anyway.")
	s.String(&in.DBURL, "db-url", "https://osv-vulnerabilities.storage.googleapis.com", "Base URL of the OSV database (<Ecosystem>/all.zip under it).")
	s.String(&in.DBDir, "db-dir", "", "Directory holding the OSV database offline, laid out as <Ecosystem>/all.zip.")
	s.Bool(&in.Offline, "offline", false, "Use only db-dir and the local cache; never download.")
	s.Enum(&in.SBOMFormat, "sbom-format", "cyclonedx", []string{"cyclonedx", "spdx", "both"}, "SBOM format to write.")
	s.String(&in.OutputDir, "output-dir", "scan-results", "Directory for the SBOM, SARIF and JSON reports.")
	s.String(&in.SARIFCategory, "sarif-category", "", "Code scanning category for the SARIF (default: the image name).")

	s.Output("sbom", "Paths of the SBOM files, one per line.")
	s.Output("sarif", "Path of the SARIF file (one run for every platform scanned, each alert once).")
	s.Output("report", "Paths of the JSON reports with every finding, one per platform image, one per line.")
	s.Output("counts", "Findings per severity (JSON), each counted once whatever the platforms it is in.")
	s.Output("gate", "passed or failed.")
	return s
}

// Action is the scan action as the binary runs it.
func Action() actionio.Action { return actionio.Define(Spec, Run) }
