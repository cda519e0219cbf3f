package scan

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

type result struct {
	code                  int
	log, outputs, summary string
	out                   map[string]string
	report                Report
	dir                   string
}

func runScan(t testing.TB, inputs map[string]string) result {
	t.Helper()
	if inputs["output-dir"] == "" {
		inputs["output-dir"] = t.TempDir()
	}
	env := map[string]string{"SCRIBE_OSV_CACHE": filepath.Join(t.TempDir(), "cache")}
	st := testenv.RunAction(t, Action(), inputs, env)
	r := result{code: st.Code, log: st.Log, outputs: st.Output, out: st.Outputs, summary: st.Summary, dir: inputs["output-dir"]}
	matches, _ := filepath.Glob(filepath.Join(inputs["output-dir"], "*-scan.json"))
	if len(matches) == 1 {
		raw, _ := os.ReadFile(matches[0])
		json.Unmarshal(raw, &r.report)
	}
	return r
}

// peer finds a peer tool that scripts/dev-env.sh builds.
func peer(t testing.TB, env string) string {
	t.Helper()
	p := os.Getenv(env)
	_, err := os.Stat(p)
	if p == "" {
		err = os.ErrNotExist
	}
	testenv.Need(t, env, err)
	return p
}

type pkgKey struct{ kind, name, version string }

func keyOf(kind, name, version string) pkgKey {
	if kind == "pypi" {
		name = normalizePyPI(name)
	}
	if kind == "golang" && name == "stdlib" {
		version = strings.TrimPrefix(version, "go")
	}
	if kind == "golang" && version == "(devel)" { // what the binary says of a main module built without VCS; syft prints UNKNOWN
		version = "UNKNOWN"
	}
	return pkgKey{kind, name, version}
}

var purlKinds = map[string]string{"deb": "deb", "python": "pypi", "npm": "npm", "go-module": "golang"}

// At least 99% of syft's deb, python, npm and Go packages are in our inventory with the same name and version.
func TestInventoryMatchesSyft(t *testing.T) {
	syft := peer(t, "SCRIBE_SYFT")
	img := realImage(t)
	out := filepath.Join(t.TempDir(), "syft.cdx.json")
	if o, err := exec.Command(syft, "docker-archive:"+img, "-q", "-o", "cyclonedx-json="+out).CombinedOutput(); err != nil {
		t.Fatalf("syft: %v\n%s", err, o)
	}
	var bom struct {
		Components []struct{ Name, Version, Purl string } `json:"components"`
	}
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	theirs := map[pkgKey]bool{}
	for _, c := range bom.Components {
		kind, _, _ := strings.Cut(strings.TrimPrefix(c.Purl, "pkg:"), "/")
		if slices.Contains([]string{"deb", "pypi", "npm", "golang"}, kind) {
			theirs[keyOf(kind, c.Name, c.Version)] = true
		}
	}
	ours := map[pkgKey]bool{}
	for _, p := range imageInventory(t, img) {
		ours[keyOf(purlKinds[p.Type], p.Name, p.Version)] = true
	}
	perKind := map[string][2]int{}
	var missing, extra []string
	for k := range theirs {
		c := perKind[k.kind]
		c[0]++
		if ours[k] {
			c[1]++
		} else {
			missing = append(missing, fmt.Sprint(k))
		}
		perKind[k.kind] = c
	}
	for k := range ours {
		if !theirs[k] {
			extra = append(extra, fmt.Sprint(k))
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, kind := range []string{"deb", "pypi", "npm", "golang"} {
		c := perKind[kind]
		t.Logf("%-6s syft %3d, found by us %3d", kind, c[0], c[1])
		if c[0] == 0 || float64(c[1]) < 0.99*float64(c[0]) {
			t.Errorf("%s: we found %d of syft's %d packages (want >= 99%%)", kind, c[1], c[0])
		}
	}
	t.Logf("syft's, not ours: %v", missing)
	t.Logf("ours, not syft's: %v", extra)

	// the deb purls are syft's: namespace, arch, distro, and the source as "upstream" (name@version when
	// the Source field names a version)
	theirDebs, ourDebs := map[string]bool{}, map[string]bool{}
	for _, c := range bom.Components {
		if strings.HasPrefix(c.Purl, "pkg:deb/") {
			theirDebs[canonicalPURL(t, c.Purl)] = true
		}
	}
	for _, p := range imageInventory(t, img) {
		if p.Type == "deb" {
			ourDebs[canonicalPURL(t, p.PURL)] = true
		}
	}
	for p := range theirDebs {
		if !ourDebs[p] {
			t.Errorf("syft's deb purl %s is not ours", p)
		}
	}
	if !strings.Contains(strings.Join(slices.Collect(maps.Keys(ourDebs)), " "), "&upstream=glibc") {
		t.Errorf("no deb purl names its source (libc6's glibc)")
	}
}

func imageInventory(t testing.TB, tarPath string) []Package {
	t.Helper()
	tg, err := openImages(t.Context(), tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := readImage(tg[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return catalog(fs)
}

// explainedDifferences are findings of ours that osv-scanner v2.6.0 offline does not report, each explained in
// the README.
var explainedDifferences = map[string]string{
	"GHSA-h75v-3vvj-5mfj jinja2 3.1.2": "the record names \"Jinja2\"; PyPI names compare case-insensitively (PEP 503), osv-scanner's offline matcher does not",
}

// Our vulnerabilities agree with osv-scanner's offline scan of the same image with the same all.zip files.
func TestFindingsAgreeWithOSVScanner(t *testing.T) {
	osvScanner := peer(t, "SCRIBE_OSV_SCANNER")
	img := realImage(t)
	db := osvDir(t)
	cache := t.TempDir() // osv-scanner reads <cache>/osv-scalibr/<Ecosystem>/all.zip
	os.Symlink(db, filepath.Join(cache, "osv-scalibr"))
	cmd := exec.Command(osvScanner, "scan", "image", "--archive", img, "--offline", "--format", "json")
	cmd.Env = append(os.Environ(), "OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY="+cache)
	out, _ := cmd.Output() // exit 1 means "vulnerabilities found"
	var res struct {
		Results []struct {
			Packages []struct {
				Package         struct{ Name, Version, Ecosystem string } `json:"package"`
				Vulnerabilities []struct{ ID string }                     `json:"vulnerabilities"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("osv-scanner output: %v\n%s", err, out)
	}
	key := func(id, name, version string) string {
		return id + " " + strings.ToLower(name) + " " + strings.TrimPrefix(version, "v")
	}
	theirs := map[string]bool{}
	for _, r := range res.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				theirs[key(v.ID, p.Package.Name, p.Package.Version)] = true
			}
		}
	}
	r := runScan(t, map[string]string{"image": img, "db-dir": db, "offline": "true", "fail-on": "none", "fail-on-secrets": "false"})
	if r.code != 0 {
		t.Fatalf("scan: exit %d\n%s", r.code, r.log)
	}
	ours := map[string]bool{}
	for _, f := range r.report.Findings {
		ours[key(f.ID, f.Package.Name, f.Package.Version)] = true
	}
	if len(theirs) < 8 {
		t.Fatalf("osv-scanner found only %v", theirs)
	}
	for k := range theirs {
		if !ours[k] {
			t.Errorf("osv-scanner finds %s, we do not", k)
		}
	}
	for k := range ours {
		if !theirs[k] {
			if why, ok := explainedDifferences[k]; ok {
				t.Logf("we find %s, osv-scanner does not: %s", k, why)
			} else {
				t.Errorf("we find %s, osv-scanner does not (unexplained)", k)
			}
		}
	}
}

// The whole action on the realistic image: outputs, schema-valid SBOMs and SARIF, SARIF locations at the
// Dockerfile line that added the layer, secrets reported without their values, and the gate.
func TestScanRealImage(t *testing.T) {
	img := realImage(t)
	db := osvDir(t)
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(dockerfile, []byte(realDockerfile), 0o644)
	r := runScan(t, map[string]string{"image": img, "db-dir": db, "offline": "true", "sbom-format": "both", "dockerfile": dockerfile})
	if r.code != 1 || !strings.Contains(r.log, "gate failed (fail-on: critical, fail-on-secrets: true, fail-on-unassessed: os): 1 vulnerability at or above CRITICAL and 2 secrets in the layers") {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	if r.out["sbom"] != filepath.Join(r.dir, "realistic-sbom.cdx.json")+"\n"+filepath.Join(r.dir, "realistic-sbom.spdx.json") ||
		r.out["sarif"] != filepath.Join(r.dir, "realistic.sarif") || r.out["gate"] != "failed" ||
		r.out["counts"] != `{"CRITICAL":1,"HIGH":2,"LOW":0,"MEDIUM":7,"UNKNOWN":0}` {
		t.Errorf("outputs: %q", r.out)
	}
	for _, c := range r.report.Coverage { // every ecosystem of the image has records here
		if !c.Assessed || c.Records == 0 {
			t.Errorf("coverage: %+v", c)
		}
	}
	if npm := regexp.MustCompile(`\| npm \| 29 \| \S+/npm/all\.zip \(\d+ records\) \| 1 \| 1 \| 1 \| 0 \| 0 \|`); !npm.MatchString(r.summary) {
		t.Errorf("summary lacks npm's coverage row:\n%s", r.summary)
	}
	for _, want := range []string{"| GHSA-xvch-5gv4-984h | CRITICAL | minimist | 1.2.5 | 1.2.6 | 2 |", "| PrivateKey | `/root/.ssh/id_ecdsa` | 1 | 4 |"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}
	// Severity sources: a CVSS vector, else GitHub's label (axios' record has no vector).
	for _, f := range r.report.Findings {
		if f.ID == "GHSA-wf5p-g6vw-rhxx" && f.SeveritySource != "ghsa database_specific.severity" ||
			f.ID == "GHSA-xvch-5gv4-984h" && !strings.HasPrefix(f.SeveritySource, "cvss-v3 base score 9.8") {
			t.Errorf("%s: severity %s from %q", f.ID, f.Severity, f.SeveritySource)
		}
	}
	t.Run("schemas", func(t *testing.T) { // a corpus test: the schemas are public material, read in place
		validate(t, "sarif-schema-2.1.0.json", filepath.Join(r.dir, "realistic.sarif"))
		validate(t, "cyclonedx-bom-1.6.schema.json", filepath.Join(r.dir, "realistic-sbom.cdx.json"))
		validate(t, "spdx-2.3-schema.json", filepath.Join(r.dir, "realistic-sbom.spdx.json"))
	})

	sarifRaw, _ := os.ReadFile(filepath.Join(r.dir, "realistic.sarif"))
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Properties        struct {
				Coverage []Coverage `json:"coverage"`
			} `json:"properties"`
		} `json:"runs"`
	}
	json.Unmarshal(sarifRaw, &log)
	if got := log.Runs[0].Properties.Coverage; len(got) != len(r.report.Coverage) || len(got) == 0 {
		t.Errorf("the SARIF run's coverage %+v, the report's %+v", got, r.report.Coverage)
	}
	lines := map[string]int{}
	for _, res := range log.Runs[0].Results {
		lines[res.RuleID] = res.Locations[0].PhysicalLocation.Region.StartLine
		if res.PartialFingerprints["scribe/v1"] == "" {
			t.Errorf("%s has no fingerprint", res.RuleID)
		}
	}
	// minimist came with `COPY app /app` (line 2), x/net with the Go binary (line 3), urllib3 with the base (line 1),
	// the key with `COPY secrets/ /` (line 4).
	for id, line := range map[string]int{"GHSA-xvch-5gv4-984h": 2, "GHSA-4374-p667-p6c8": 3, "GHSA-v845-jxx5-vc9f": 1, "secret/PrivateKey": 4} {
		if lines[id] != line {
			t.Errorf("%s at Dockerfile line %d, want %d", id, lines[id], line)
		}
	}
	if log.Runs[0].AutomationDetails.ID != "scribe-scan/realistic/" {
		t.Errorf("category %q", log.Runs[0].AutomationDetails.ID)
	}
	// The secrets' values are nowhere.
	all := r.log + r.outputs + r.summary + string(sarifRaw)
	reportRaw, _ := os.ReadFile(filepath.Join(r.dir, "realistic-scan.json"))
	all += string(reportRaw)
	for _, secret := range []string{"s3cr3t-Pa55word-42", "BEGIN EC PRIVATE KEY"} {
		if strings.Contains(all, secret) {
			t.Errorf("the secret %q is in the output", secret)
		}
	}
}

func validate(t *testing.T, schema, file string) {
	t.Helper()
	dir := testenv.Corpus(t, "fixtures", "schemas")
	c := jsonschema.NewCompiler()
	// The CycloneDX schema refers to these two by names relative to its $id.
	for name, f := range map[string]string{"http://cyclonedx.org/schema/jsf-0.82.schema.json": "cyclonedx-jsf-0.82.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json": "cyclonedx-spdx.schema.json"} {
		raw, _ := os.ReadFile(filepath.Join(dir, f))
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		c.AddResource(name, doc)
	}
	sch, err := c.Compile(filepath.Join(dir, schema))
	if err != nil {
		t.Fatalf("%s: %v", schema, err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("%s does not validate against %s: %v", filepath.Base(file), schema, err)
	}
}

// The gate on the realistic image: a CRITICAL finding fails fail-on: critical; an ignore entry suppresses it;
// the same entry expired does not (and warns); an entry that matches nothing warns; the reports keep every
// finding either way.
func TestGateAndIgnoreFile(t *testing.T) {
	img := realImage(t)
	db := osvDir(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	base := map[string]string{"image": img, "db-dir": db, "offline": "true", "fail-on-secrets": "false"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if r := runScan(t, with()); r.code != 1 || !strings.Contains(r.log, "1 vulnerability at or above CRITICAL") {
		t.Errorf("critical: exit %d\n%s", r.code, r.log)
	}
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	ignore := write("ignore.yaml", "ignore:\n  - id: CVE-2021-44906\n    package: minimist\n    reason: only parses our own argv\n    expires: "+tomorrow+"\n  - id: GHSA-0000-0000-0000\n    reason: stale entry\n")
	r := runScan(t, with("ignore-file", ignore))
	if r.code != 0 || !strings.Contains(r.log, "ignore entry GHSA-0000-0000-0000 (ignore.yaml line 6) matched nothing") {
		t.Errorf("ignored by alias: exit %d\n%s", r.code, r.log)
	}
	if len(r.report.Findings) != 10 || !strings.Contains(string(mustRead(t, filepath.Join(r.dir, "realistic.sarif"))), "GHSA-xvch-5gv4-984h") {
		t.Errorf("an ignored finding must stay in the reports: %d findings", len(r.report.Findings))
	}
	expired := write("expired.yaml", "ignore:\n  - id: GHSA-xvch-5gv4-984h\n    reason: was fine last year\n    expires: 2025-01-31\n")
	if r := runScan(t, with("ignore-file", expired)); r.code != 1 || !strings.Contains(r.log, "expired on 2025-01-31") {
		t.Errorf("expired: exit %d\n%s", r.code, r.log)
	}

	// trivy's .trivyignore, as trivy-action users bring it: IDs (aliases match), comments, exp: dates (from that
	// day on it no longer ignores, as trivy prunes it), alone or beside our YAML file.
	today := time.Now().UTC().Format("2006-01-02")
	trivy := write(".trivyignore", "# accepted risks\nGHSA-xvch-5gv4-984h exp:"+tomorrow+" # only parses our own argv\nCVE-2019-0004 exp:2020-01-01\n\nGHSA-0000-0000-0000\n")
	r = runScan(t, with("ignore-file", trivy))
	if r.code != 0 || !strings.Contains(r.log, "ignore entry CVE-2019-0004 (.trivyignore line 3) expired on 2020-01-01") ||
		!strings.Contains(r.log, "ignore entry GHSA-0000-0000-0000 (.trivyignore line 5) matched nothing") {
		t.Errorf(".trivyignore: exit %d\n%s", r.code, r.log)
	}
	if i := slices.IndexFunc(r.report.Findings, func(f Finding) bool { return f.ID == "GHSA-xvch-5gv4-984h" }); i < 0 || r.report.Findings[i].Ignored != "only parses our own argv" {
		t.Errorf(".trivyignore: the finding is not ignored with the line's comment as its reason: %+v", r.report.Findings)
	}
	st := testenv.RunAction(t, Action(), with("output-dir", t.TempDir()), map[string]string{"GITHUB_WORKSPACE": dir, "SCRIBE_OSV_CACHE": t.TempDir()})
	if !strings.Contains(st.Log, "::warning::.trivyignore is not read") {
		t.Errorf("a .trivyignore in the workspace that ignore-file does not name: no warning\n%s", st.Log)
	}
	endsToday := write(".trivyignore-today", "GHSA-xvch-5gv4-984h exp:"+today+"\n")
	if r := runScan(t, with("ignore-file", endsToday)); r.code != 1 || !strings.Contains(r.log, "expired on "+today) {
		t.Errorf(".trivyignore whose date is today: exit %d\n%s", r.code, r.log)
	}
	if r := runScan(t, with("ignore-file", expired+"\n"+trivy)); r.code != 0 {
		t.Errorf("both files: exit %d\n%s", r.code, r.log)
	}
	badDate := write(".trivyignore-bad", "CVE-2021-44906 exp:2026-13-01\n")
	if r := runScan(t, with("ignore-file", badDate)); r.code != 1 || !strings.Contains(r.log, ".trivyignore-bad:1: exp:2026-13-01 is not a date") {
		t.Errorf(".trivyignore with a bad date: exit %d\n%s", r.code, r.log)
	}
	// Secrets by their rule, as trivy's IDs name secret rules (ours: PrivateKey; fingerprints work too).
	secrets := runScan(t, with("fail-on", "none", "fail-on-secrets", "true"))
	var rules []string
	for _, sc := range secrets.report.Secrets {
		rules = append(rules, sc.Rule)
	}
	byRule := write(".trivyignore-secrets", strings.Join(rules, "\n")+"\n")
	if r := runScan(t, with("fail-on", "none", "fail-on-secrets", "true", "ignore-file", byRule)); len(rules) == 0 || r.code != 0 {
		t.Errorf("secrets ignored by rule %v: exit %d\n%s", rules, r.code, r.log)
	}

	if r := runScan(t, with("fail-on", "high", "ignore-unfixed", "true")); r.code != 1 || !strings.Contains(r.log, "3 vulnerabilities at or above HIGH") {
		t.Errorf("high: exit %d\n%s", r.code, r.log)
	}
	if r := runScan(t, with("fail-on", "none", "fail-on-secrets", "true")); r.code != 1 || !strings.Contains(r.log, "2 secrets in the layers") {
		t.Errorf("secrets: exit %d\n%s", r.code, r.log)
	}
	bad := write("bad.yaml", "ignore:\n  - id: CVE-1\n    reasn: typo\n")
	if r := runScan(t, with("ignore-file", bad)); r.code != 1 || !strings.Contains(r.log, `input \"ignore-file\"`) && !strings.Contains(r.log, `input "ignore-file"`) {
		t.Errorf("bad ignore file: exit %d\n%s", r.code, r.log)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkReadRealImage(b *testing.B) {
	img := realImage(b)
	for i := 0; i < b.N; i++ {
		tg, err := openImages(b.Context(), img, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := readImage(tg[0], newSecretScanner(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
