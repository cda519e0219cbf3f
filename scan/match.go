package scan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Database is where OSV records come from, an ecosystem's all.zip at a time (the bucket's layout), with where
// it came from for the summary; warn reports a fallback that is not an error (a stale copy). The inputs'
// database is NewDatabase's; a test may give its own records.
type Database interface {
	Load(ctx context.Context, ecosystem string, warn func(string, ...any)) (zip []byte, from string, err error)
}

// NewDatabase is the database the inputs name: db-dir, else db-url downloaded into the cache folder; offline
// never downloads.
func NewDatabase(dir, url string, offline bool, cache string) Database {
	return &dbSource{dir: dir, url: url, cache: cache, offline: offline,
		client: &http.Client{Timeout: 10 * time.Minute}, now: time.Now}
}

// Match finds the vulnerabilities of pkgs in db, reading only the ecosystems pkgs are in, and says for each
// ecosystem what its packages were matched against, or why they were not (unknown names why packages without
// an ecosystem have none: an unknown distribution, say).
func Match(ctx context.Context, db Database, pkgs []Package, unknown string, warn func(string, ...any)) ([]Finding, []Coverage, error) {
	cov := newCoverage(pkgs, unknown)
	d, err := loadDatabase(ctx, db, pkgs, cov, warn)
	if err != nil {
		return nil, nil, err
	}
	for eco, u := range d.unevaluated(pkgs) {
		if c := cov[eco]; c != nil {
			c.Unevaluated, c.Withdrawn = u.Entries, u.Withdrawn
		}
	}
	return d.match(pkgs), sortedCoverage(cov), nil
}

// loadDatabase reads the all.zip of each ecosystem the image has, keeping the records of its packages, and
// fills in the coverage: an ecosystem the database does not have is not assessed, with the reason; any other
// failure to read it is an error.
func loadDatabase(ctx context.Context, src Database, pkgs []Package, cov map[string]*Coverage, warn func(string, ...any)) (*database, error) {
	db := &database{records: map[string][]*record{}, loaded: map[string]int{}, now: time.Now()}
	want := map[string]bool{}
	ecos := map[string]bool{}
	for _, p := range pkgs {
		if p.Ecosystem == "" {
			continue
		}
		name := p.Name
		if p.Source != "" {
			name = p.Source
		}
		want[matchKey(p.Ecosystem, name)] = true
		ecos[baseEcosystem(p.Ecosystem)] = true
	}
	loaded := map[string]string{} // base ecosystem -> where from, or "" when the database has none
	reasons := map[string]string{}
	for _, eco := range slices.Sorted(maps.Keys(ecos)) {
		data, from, err := src.Load(ctx, eco, warn)
		if errors.Is(err, errNoDatabase) {
			reasons[eco] = err.Error()
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := db.readZip(eco, data, want); err != nil {
			return nil, fmt.Errorf("the OSV database (%s): %w", from, err)
		}
		loaded[eco] = from
	}
	for _, c := range cov {
		base := baseEcosystem(c.Ecosystem)
		if from, ok := loaded[base]; ok {
			c.Assessed, c.Database, c.Records = true, from, db.loaded[base]
			if why := db.noRecordsFor(c.Ecosystem); why != "" {
				c.Assessed, c.Reason = false, why
			}
		} else if r, ok := reasons[base]; ok {
			c.Reason = r
		}
	}
	return db, nil
}

// noRecordsFor says why a release's packages were not assessed though its distribution's database was read:
// no record names the release (Debian:14 before its first advisory reaches the database, Alpine:v3.21 in a
// database from before it). A release every record passed over would otherwise look clean. "" when some do,
// or when the ecosystem has no releases (PyPI, Wolfi).
func (db *database) noRecordsFor(eco string) string {
	key := releaseKey(eco)
	if !strings.Contains(key, ":") || db.releases[key] > 0 {
		return ""
	}
	base := baseEcosystem(eco)
	names := slices.Sorted(maps.Keys(db.releases))
	names = slices.DeleteFunc(names, func(k string) bool { return baseEcosystem(k) != base })
	if len(names) == 0 {
		return fmt.Sprintf("no record of the %s database (%d read) names a release", base, db.loaded[base])
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("%d more", len(names)-8))
	}
	return fmt.Sprintf("no record of the %s database (%d read) names %s; its records name %s", base, db.loaded[base], key, strings.Join(names, ", "))
}

// baseEcosystem is the database an ecosystem's records are in: Debian:12's are in Debian's all.zip.
func baseEcosystem(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	return base
}
