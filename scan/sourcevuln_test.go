package scan

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// sourceResult is a source scan run as the action: exit code, log, outputs, summary and its JSON report.
type sourceResult struct {
	code                int
	log, summary, sarif string
	out                 map[string]string
	report              SourceReport
}

func runSourceScan(t *testing.T, inputs map[string]string) sourceResult {
	t.Helper()
	inputs["output-dir"] = t.TempDir()
	st := testenv.RunAction(t, Action(), inputs, map[string]string{"SCRIBE_OSV_CACHE": filepath.Join(t.TempDir(), "cache")})
	r := sourceResult{code: st.Code, log: st.Log, out: st.Outputs, summary: st.Summary}
	if raw, err := os.ReadFile(filepath.Join(inputs["output-dir"], "source-scan.json")); err == nil {
		if err := json.Unmarshal(raw, &r.report); err != nil {
			t.Fatalf("source-scan.json: %v", err)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(inputs["output-dir"], "source.sarif")); err == nil {
		r.sarif = string(raw)
	}
	return r
}

// The action's source mode on a repository's lockfiles: fail-on high fails the gate on a HIGH finding, the
// SARIF result sits at the lockfile's line, the report and the summary list packages, findings and coverage;
// an ecosystem with no database is not assessed (a warning; a failure with fail-on-unassessed: all), as an
// unpinned requirement is.
func TestSourceVulnerabilities(t *testing.T) {
	files := maps.Clone(vulnerableTree)
	files["crate/Cargo.lock"] = "version = 3\n\n[[package]]\nname = \"regex\"\nversion = \"1.5.4\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
	// two versions of minimist in one lockfile, both affected by GHSA-xvch-5gv4-984h: two alerts, at two lines
	files["two/package-lock.json"] = "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/minimist\": {\"version\": \"1.2.5\"},\n" +
		"    \"node_modules/optimist/node_modules/minimist\": {\"version\": \"0.0.10\"}\n  }\n}\n"
	dir := writeTree(t, files)
	db := osvDir(t)
	base := map[string]string{"path": dir, "db-dir": db, "offline": "true"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	r := runSourceScan(t, with("fail-on", "high"))
	high := 0
	for _, f := range r.report.Findings {
		if f.Severity == "HIGH" || f.Severity == "CRITICAL" {
			high++
		}
	}
	if r.code != 1 || high == 0 || !strings.Contains(r.log, "gate failed (fail-on: high, fail-on-secrets: true, fail-on-unassessed: os): "+strconv.Itoa(high)+" vulnerabilities at or above HIGH") {
		t.Fatalf("fail-on high with %d HIGH or CRITICAL findings: exit %d\n%s", high, r.code, r.log)
	}
	if r.out["gate"] != "failed" || r.out["sarif"] == "" {
		t.Errorf("outputs: %q", r.out)
	}
	var counts map[string]int
	if err := json.Unmarshal([]byte(r.out["counts"]), &counts); err != nil || counts["HIGH"]+counts["CRITICAL"] != high {
		t.Errorf("counts %q: %v", r.out["counts"], err)
	}

	t.Run("schema", func(t *testing.T) { validate(t, "sarif-schema-2.1.0.json", r.out["sarif"]) })

	// lodash 4.17.20 of web/package-lock.json: GHSA-35jh-r3h4-6jhm (HIGH), at the line of its entry.
	lodashLine := lineOf(t, files, at{"web/package-lock.json", `"node_modules/lodash": {`})
	var log struct {
		Runs []struct {
			AutomationDetails struct{ ID string }
			Results           []struct {
				RuleID    string
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
			Properties struct {
				Coverage     []Coverage
				Unassessable []Unassessable
			}
		}
	}
	if err := json.Unmarshal([]byte(r.sarif), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("SARIF: %v\n%s", err, r.sarif)
	}
	run := log.Runs[0]
	i := slices.IndexFunc(run.Results, func(res struct {
		RuleID    string
		Level     string
		Message   struct{ Text string }
		Locations []struct {
			PhysicalLocation struct {
				ArtifactLocation struct{ URI string }
				Region           struct{ StartLine int }
			}
		}
	}) bool {
		return res.RuleID == "GHSA-35jh-r3h4-6jhm" && res.Locations[0].PhysicalLocation.ArtifactLocation.URI == "web/package-lock.json"
	})
	if i < 0 {
		t.Fatalf("no SARIF result for lodash's GHSA-35jh-r3h4-6jhm in web/package-lock.json:\n%s", r.sarif)
	}
	if got := run.Results[i]; got.Locations[0].PhysicalLocation.Region.StartLine != lodashLine || got.Level != "error" ||
		!strings.Contains(got.Message.Text, "npm lodash 4.17.20 (web/package-lock.json line "+strconv.Itoa(lodashLine)+")") {
		t.Errorf("SARIF result: %+v, want web/package-lock.json line %d", got, lodashLine)
	}
	if run.AutomationDetails.ID != "scribe-source/" || len(run.Properties.Coverage) == 0 || len(run.Properties.Unassessable) != 1 {
		t.Errorf("SARIF run: category %q, coverage %+v, unassessable %+v", run.AutomationDetails.ID, run.Properties.Coverage, run.Properties.Unassessable)
	}
	if len(run.Results) != len(r.report.Findings) {
		t.Errorf("%d SARIF results for %d findings", len(run.Results), len(r.report.Findings))
	}
	// Every result is at a lockfile line, never at line 0.
	for _, res := range run.Results {
		if loc := res.Locations[0].PhysicalLocation; loc.Region.StartLine < 1 || loc.ArtifactLocation.URI == "" {
			t.Errorf("%s at %+v", res.RuleID, loc)
		}
	}

	// The report: every lockfile, its packages at their lines, the coverage per ecosystem (crates.io has no
	// database here: not assessed), the unpinned requirement.
	if len(r.report.Lockfiles) != 13 || len(r.report.Packages) == 0 {
		t.Errorf("lockfiles %q, %d packages", r.report.Lockfiles, len(r.report.Packages))
	}
	for _, p := range r.report.Packages {
		if p.Line < 1 || p.Path == "" {
			t.Errorf("package %s %s at %s:%d", p.Name, p.Version, p.Path, p.Line)
		}
	}
	cov := map[string]Coverage{}
	for _, c := range r.report.Coverage {
		cov[c.Ecosystem] = c
	}
	if !cov["npm"].Assessed || !cov["PyPI"].Assessed || !cov["Go"].Assessed || cov["crates.io"].Assessed ||
		cov["crates.io"].Packages != 1 || !strings.Contains(cov["crates.io"].Reason, "no OSV database") {
		t.Errorf("coverage: %+v", r.report.Coverage)
	}
	if !strings.Contains(r.log, "::warning::1 crates.io package not assessed: no OSV database for this ecosystem") {
		t.Errorf("no warning for crates.io:\n%s", r.log)
	}
	urllib3 := lineOf(t, files, at{"requirements.txt", "urllib3"})
	if len(r.report.Unassessable) != 1 || r.report.Unassessable[0].Line != urllib3 ||
		!strings.Contains(r.log, "requirements.txt: 1 dependency not assessed: urllib3 (line "+strconv.Itoa(urllib3)+": not pinned (>=1.26.0)") {
		t.Errorf("unassessable: %+v\n%s", r.report.Unassessable, r.log)
	}
	for _, want := range []string{"### Vulnerabilities", "| GHSA-35jh-r3h4-6jhm | HIGH | lodash | 4.17.20 | 4.17.21 | `web/package-lock.json:" + strconv.Itoa(lodashLine) + "` |",
		"| crates.io | 1 | ⚠️ **not assessed**", "| urllib3 | PyPI | `requirements.txt:" + strconv.Itoa(urllib3) + "` | not pinned (>=1.26.0)"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}

	// The gate: below the threshold it passes; an ignore entry takes a finding out of it and keeps it in the
	// reports; fail-on-unassessed: all fails on crates.io and the unpinned requirement.
	if r := runSourceScan(t, with("fail-on", "none")); r.code != 0 || r.out["gate"] != "passed" || len(r.report.Findings) == 0 {
		t.Errorf("fail-on none: exit %d, %d findings\n%s", r.code, len(r.report.Findings), r.log)
	}
	var ignore strings.Builder
	ignore.WriteString("ignore:\n")
	for _, f := range r.report.Findings {
		if f.Severity == "HIGH" || f.Severity == "CRITICAL" {
			ignore.WriteString("  - id: " + f.ID + "\n    package: " + f.Package.Name + "\n    reason: not reachable from our code\n")
		}
	}
	ignoreFile := filepath.Join(t.TempDir(), "ignore.yaml")
	os.WriteFile(ignoreFile, []byte(ignore.String()), 0o644)
	if r := runSourceScan(t, with("fail-on", "high", "ignore-file", ignoreFile)); r.code != 0 ||
		!slices.ContainsFunc(r.report.Findings, func(f Finding) bool { return f.Ignored == "not reachable from our code" }) {
		t.Errorf("ignored: exit %d\n%s", r.code, r.log)
	}
	if r := runSourceScan(t, with("fail-on", "none", "fail-on-unassessed", "all")); r.code != 1 ||
		!strings.Contains(r.log, "1 crates.io package not assessed (no OSV database for this ecosystem") ||
		!strings.Contains(r.log, "1 dependency declared without a version OSV can be matched with [fail-on-unassessed: all]") {
		t.Errorf("fail-on-unassessed all: exit %d\n%s", r.code, r.log)
	}
	// A directory without lockfiles: no database read, nothing to assess.
	if r := runSourceScan(t, map[string]string{"path": t.TempDir(), "offline": "true", "fail-on-unassessed": "all"}); r.code != 0 ||
		len(r.report.Packages) != 0 || r.report.Coverage == nil {
		t.Errorf("no lockfiles: exit %d %+v\n%s", r.code, r.report, r.log)
	}
	if r := runSourceScan(t, with("db-dir", filepath.Join(dir, "missing"))); r.code != 1 || !strings.Contains(r.log, `input \"db-dir\"`) && !strings.Contains(r.log, `input "db-dir"`) {
		t.Errorf("db-dir missing: exit %d\n%s", r.code, r.log)
	}
}
