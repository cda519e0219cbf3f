package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

type result struct {
	code                  int
	log, outputs, summary string
	report                Report
}

func runScan(t testing.TB, inputs map[string]string) result {
	t.Helper()
	if inputs["output-dir"] == "" {
		inputs["output-dir"] = t.TempDir()
	}
	st := testenv.RunAction(t, Action(), inputs, map[string]string{"SCRIBE_OSV_CACHE": filepath.Join(t.TempDir(), "cache")})
	r := result{code: st.Code, log: st.Log, outputs: st.Output, summary: st.Summary}
	matches, _ := filepath.Glob(filepath.Join(inputs["output-dir"], "*-scan.json"))
	if len(matches) == 1 {
		raw, _ := os.ReadFile(matches[0])
		json.Unmarshal(raw, &r.report)
	}
	return r
}

func TestScanRealImageSmoke(t *testing.T) {
	img := realImage(t)
	r := runScan(t, map[string]string{"image": img, "db-dir": osvDir(t), "offline": "true", "fail-on": "none", "fail-on-secrets": "false", "sbom-format": "both"})
	t.Logf("exit %d\n%s\n%s", r.code, r.log, r.summary)
}
