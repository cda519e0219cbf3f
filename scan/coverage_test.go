package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infinite-scribe/scribe-actions/internal/testenv"
)

// What the scan cannot assess fails the default gate (fail-on-unassessed: os), naming it, and the summary's
// table says it row by row: a distribution it cannot place (Kali's packages are not Debian's), an rpm
// distribution without its rpm database, a release whose ecosystem the database lacks, and a release no record
// of its distribution's database names (the records of Debian 12 say nothing of Debian 13's packages).
func TestUnassessedOSFailsTheDefaultGate(t *testing.T) {
	host := testenv.Registry(t, false)
	db, noDebian := t.TempDir(), t.TempDir()
	if err := PackRecords(filepath.Join("testdata", "osv-distro"), db); err != nil {
		t.Fatal(err)
	}
	if err := PackRecords(filepath.Join("testdata", "osv-distro"), noDebian); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(noDebian, "Debian")); err != nil {
		t.Fatal(err)
	}
	kali := releaseFilesOf(t, "kali-rolling")
	kali["var/lib/dpkg/status"] = ubuntuJammyStatus
	debian := releaseFilesOf(t, "debian-12")
	debian["var/lib/dpkg/status"] = ubuntuJammyStatus
	trixie := releaseFilesOf(t, "debian-trixie-sid")
	trixie["var/lib/dpkg/status"] = ubuntuJammyStatus
	for _, tt := range []struct {
		name  string
		layer testenv.Layer
		db    string
		want  string
	}{
		{"kali", kali, db, "2 deb packages not assessed (unknown distribution"},
		{"rocky", releaseFilesOf(t, "rocky-9"), db, "Rocky Linux:9 packages not assessed (Rocky Linux 9.3 (Blue Onyx) installs rpm packages, but the image has no rpm database the scan can read (rpmdb.sqlite, "},
		{"debian-slimmed", releaseFilesOf(t, "debian-12"), db, "Debian:12 packages not assessed (Debian GNU/Linux 12 (bookworm) installs deb packages, but the image has no deb database the scan can read"},
		{"debian", debian, noDebian, "2 Debian:12 packages not assessed (no OSV database for this ecosystem: no "},
		{"debian-13", trixie, db, "2 Debian:13 packages not assessed (no record of the Debian database (1 read) names Debian:13; its records name Debian:12)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := testenv.Push(t, host+"/acme/"+tt.name+":1", testenv.Image(t, "linux/amd64", tt.layer))
			in := map[string]string{"image": host + "/acme/" + tt.name + "@" + d.String(), "db-dir": tt.db, "offline": "true"}
			r := runScan(t, in)
			if r.code != 1 || !strings.Contains(r.log, "fail-on-unassessed: os): "+tt.want) || !strings.Contains(r.summary, "⚠️ **not assessed**") {
				t.Errorf("exit %d, want the gate to fail on %q\n%s\n%s", r.code, tt.want, r.log, r.summary)
			}
			in["fail-on-unassessed"] = "none"
			if r := runScan(t, in); r.code != 0 || !strings.Contains(r.log, "::warning::") {
				t.Errorf("fail-on-unassessed: none: exit %d, and still a warning wanted\n%s", r.code, r.log)
			}
		})
	}
}
