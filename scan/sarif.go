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

// sarifInput is what the SARIF log reports: the images of one input, one per platform, in one run.
type sarifInput struct {
	name       string // the image's name, for the default category
	ref        string // the input
	category   string
	dockerfile string // repository path of the Dockerfile, when given
	images     []sarifImage
	// source: a source scan, results at their file and line in the repository: secrets each commit's apart,
	// vulnerabilities at the lockfile line that declares the package
	source       bool
	unassessable []Unassessable // a source scan's dependencies that could not be matched, in the run's properties
}

// sarifImage is one platform image's part of the log.
type sarifImage struct {
	platform string // "" when the input holds one image
	findings []Finding
	secrets  []Secret
	coverage []Coverage  // per ecosystem, in the run's properties: what was not assessed is visible there too
	lines    map[int]int // layer -> Dockerfile line
}

// sarifResult is one result: a finding or a secret, and every platform image it was found in. The same
// vulnerability in the same package at the same path is one alert whichever platforms have it, so an alert
// keeps its fingerprint when a platform is added or dropped.
type sarifResult struct {
	finding   *Finding
	secret    *Secret
	loc       *sarif.Location
	platforms []string // with the installed version, for a finding when the images differ
}

// results merges the images' findings and secrets by fingerprint, most severe first.
func (in sarifInput) results() (vulns, secrets []*sarifResult) {
	byPrint := map[string]*sarifResult{}
	add := func(list *[]*sarifResult, key string, r *sarifResult, platform string) {
		if seen := byPrint[key]; seen != nil {
			r = seen
		} else {
			byPrint[key] = r
			*list = append(*list, r)
		}
		if platform != "" {
			r.platforms = append(r.platforms, platform)
		}
	}
	for _, im := range in.images {
		for i := range im.findings {
			f := &im.findings[i]
			platform := im.platform
			if platform != "" {
				platform += " (" + f.Package.Version + ")"
			}
			loc := in.location(im.lines, f.Package.Layer, f.Package.Path)
			if in.source {
				loc = fileLocation(f.Package.Path, max(f.Package.Line, 1))
			}
			add(&vulns, in.vulnPrint(*f), &sarifResult{finding: f, loc: loc}, platform)
		}
		for i := range im.secrets {
			sc := &im.secrets[i]
			loc := in.location(im.lines, sc.Layer, sc.Path)
			if in.source {
				loc = fileLocation(sc.Path, sc.Line)
			}
			add(&secrets, secretPrint(*sc), &sarifResult{secret: sc, loc: loc}, im.platform)
		}
	}
	sort.SliceStable(vulns, func(i, j int) bool {
		a, b := vulns[i].finding, vulns[j].finding
		if ra, rb := severityRank[a.Severity], severityRank[b.Severity]; ra != rb {
			return ra > rb
		}
		return a.Score > b.Score
	})
	return vulns, secrets
}

func vulnPrint(f Finding) string {
	return fingerprint(f.ID, f.Package.Ecosystem, f.Package.Name, f.Package.Path)
}

// vulnPrint is a finding's alert. A lockfile may declare two versions of a package (npm installs one per folder
// that needs it), each at its own line: in a source scan each is its own alert.
func (in sarifInput) vulnPrint(f Finding) string {
	if in.source {
		return fingerprint(f.ID, f.Package.Ecosystem, f.Package.Name, f.Package.Path, f.Package.Version)
	}
	return vulnPrint(f)
}

// secretPrint is a secret's alert: the same secret in the same file is one alert across layers and platforms;
// in a repository's history, one per commit that added it (as gitleaks fingerprints them).
func secretPrint(s Secret) string {
	if s.Commit != "" {
		return fingerprint("secret/"+s.Rule, s.Path, s.Fingerprint, s.Commit)
	}
	return fingerprint("secret/"+s.Rule, s.Path, s.Fingerprint)
}

// buildSARIF writes every finding and secret as a SARIF 2.1.0 log for code scanning: one run for all the
// input's platform images (code scanning takes one run per tool and category), one rule per vulnerability with
// its security-severity, results at the Dockerfile line that added the layer (or at the file inside the image),
// stable partial fingerprints, the category as the run's automation ID. Beyond GitHub's limits the least severe
// results are dropped; the count is returned and recorded in the run's properties.
func buildSARIF(in sarifInput) ([]byte, int, error) {
	vulns, secrets := in.results()
	keep := min(len(vulns), maxResults-min(len(secrets), maxResults))
	for {
		raw, err := in.encode(vulns[:keep], secrets, len(vulns)-keep)
		if err != nil {
			return nil, 0, err
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		if gz.Len() <= maxGzipBytes || keep == 0 {
			return raw, len(vulns) - keep, nil
		}
		keep = keep * 8 / 10
	}
}

func (in sarifInput) encode(vulns, secrets []*sarifResult, dropped int) ([]byte, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	run := sarif.NewRunWithInformationURI(toolName, informationURI)
	category := in.category
	if category == "" {
		category = "scribe-scan/" + in.name
	}
	run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID(category + "/"))
	run.Properties = in.properties(dropped)
	rules := map[string]bool{}
	for _, r := range vulns {
		f := r.finding
		if !rules[f.ID] {
			rules[f.ID] = true
			summary := f.Summary
			if summary == "" {
				summary = f.ID
			}
			rp := sarif.NewPropertyBag()
			rp.Add("security-severity", securitySeverity(*f))
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
		where := fmt.Sprintf("layer %d, %s", f.Package.Layer+1, f.Package.Path)
		if in.source {
			where = fmt.Sprintf("%s line %d", f.Package.Path, f.Package.Line)
		}
		msg := fmt.Sprintf("%s %s %s (%s) is affected by %s (%s); %s.%s", f.Package.Type, f.Package.Name, f.Package.Version,
			where, f.ID, f.Severity, fixed, onPlatforms(r.platforms))
		res := run.CreateResultForRule(f.ID).WithLevel(level(f.Severity)).WithMessage(sarif.NewTextMessage(msg))
		res.WithPartialFingerPrints(map[string]interface{}{"scribe/v1": in.vulnPrint(*f)})
		res.AddLocation(r.loc)
	}
	for _, r := range secrets {
		s := r.secret
		id := "secret/" + s.Rule
		if !rules[id] {
			rules[id] = true
			rp := sarif.NewPropertyBag()
			rp.Add("security-severity", "9.0")
			rp.Add("tags", []string{"security", "secret"})
			short, help := "A "+s.Rule+" is baked into an image layer",
				"Anything in any layer ships with the image, even when a later layer deletes it. Rotate the credential and pass it to the build as a secret mount."
			if in.source {
				short, help = "A "+s.Rule+" is committed to the repository",
					"A credential in a commit stays in the history, and in every clone, after a later commit deletes it. Rotate the credential; then remove it from the files (a secret store, or the CI's secrets)."
			}
			run.AddRule(id).WithName(s.Rule).WithShortDescription(sarif.NewMultiformatMessageString(short)).
				WithHelp(sarif.NewMultiformatMessageString(help)).WithProperties(rp.Properties)
		}
		where := fmt.Sprintf("layer %d", s.Layer+1)
		prints := map[string]interface{}{"scribe/v1": secretPrint(*s)}
		switch {
		case s.Commit != "":
			where = fmt.Sprintf("added by commit %.12s (%s)", s.Commit, s.Date)
			prints["commitSha"] = s.Commit
		case in.source:
			where = "in the working tree"
		}
		msg := fmt.Sprintf("%s in %s line %d, %s (fingerprint %s; the secret is not shown).%s", s.Rule, s.Path, s.Line, where,
			s.Fingerprint, onPlatforms(r.platforms))
		res := run.CreateResultForRule(id).WithLevel("error").WithMessage(sarif.NewTextMessage(msg))
		res.WithPartialFingerPrints(prints)
		res.AddLocation(r.loc)
	}
	report.AddRun(run)
	var b bytes.Buffer
	if err := report.PrettyWrite(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// properties are the run's: the input, the results dropped, each ecosystem's coverage (what was not assessed
// too), the platforms of an index, and a source scan's dependencies that could not be matched.
func (in sarifInput) properties(dropped int) map[string]interface{} {
	props := sarif.NewPropertyBag()
	props.Add("image", in.ref)
	props.Add("droppedResults", dropped)
	var coverage []Coverage
	var platforms []string
	for _, im := range in.images {
		coverage = append(coverage, im.coverage...)
		if im.platform != "" {
			platforms = append(platforms, im.platform)
		}
	}
	props.Add("coverage", coverage)
	if platforms != nil {
		props.Add("platforms", platforms)
	}
	if in.source {
		props.Add("unassessable", in.unassessable)
	}
	return props.Properties
}

// onPlatforms ends a message with the platform images a result was found in, when the input held several.
func onPlatforms(platforms []string) string {
	if len(platforms) == 0 {
		return ""
	}
	return " Found in " + strings.Join(platforms, ", ") + "."
}

// fileLocation is a line of a file of the repository.
func fileLocation(path string, line int) *sarif.Location {
	return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(path)).WithRegion(sarif.NewSimpleRegion(line, line)))
}

// location is the Dockerfile line that added the layer, or else the file inside the image.
func (in sarifInput) location(lines map[int]int, layer int, path string) *sarif.Location {
	if line, ok := lines[layer]; ok && in.dockerfile != "" {
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
