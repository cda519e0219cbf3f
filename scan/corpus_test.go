package scan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// TestOwnRecordsAgreeWithCorpus (a corpus test): each OSV record of testdata/osv, written here from the facts of
// a real advisory, matches exactly the versions the real record matches, with the same severity, for every
// package either names. Probes: every version the two records' events and version lists name.
func TestOwnRecordsAgreeWithCorpus(t *testing.T) {
	corpus := testenv.Corpus(t, "fixtures", "osv")
	own, _ := filepath.Glob(filepath.Join("testdata", "osv", "*", "*.json"))
	if len(own) < 10 {
		t.Fatalf("only %d records in testdata/osv", len(own))
	}
	for _, path := range own {
		mine := readRecordFile(t, path)
		real := readRecordFile(t, filepath.Join(corpus, filepath.Base(filepath.Dir(path)), filepath.Base(path)))
		probes := map[string]bool{}
		for _, r := range []*record{mine, real} {
			for _, a := range r.Affected {
				for _, v := range a.Versions {
					probes[v] = true
				}
				for _, rg := range a.Ranges {
					for _, e := range rg.Events {
						for _, v := range e {
							probes[v] = true
						}
					}
				}
			}
		}
		for _, a := range append(append([]affected{}, mine.Affected...), real.Affected...) {
			eco := a.Package.Ecosystem
			for v := range probes {
				if got, want := hits(mine, eco, a.Package.Name, v), hits(real, eco, a.Package.Name, v); got != want {
					t.Errorf("%s: %s %s %s: ours says %q, the real record %q", mine.ID, eco, a.Package.Name, v, got, want)
				}
			}
		}
	}
}

// hits is how a record rates one package version: "" when it does not affect it, else severity and fix.
func hits(r *record, ecosystem, name, version string) string {
	for _, a := range r.Affected {
		if matchKey(a.Package.Ecosystem, a.Package.Name) != matchKey(ecosystem, name) || !sameRelease(a.Package.Ecosystem, ecosystem) {
			continue
		}
		if hit, fixed := a.affects(version, ecosystem); hit {
			sev, _, _ := rate(r, a)
			return sev + " fixed " + fixed
		}
	}
	return ""
}

func readRecordFile(t *testing.T, path string) *record {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRecord(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}
