package scan

import (
	"context"
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

// NewDatabase is the database the inputs name: db-dir, else db-url downloaded into the cache (defaultCache);
// offline never downloads.
func NewDatabase(dir, url string, offline bool) Database {
	return &dbSource{dir: dir, url: url, cache: defaultCache(), offline: offline,
		client: &http.Client{Timeout: 10 * time.Minute}, now: time.Now}
}

// Match finds the vulnerabilities of pkgs in db, reading only the ecosystems pkgs are in, and says which
// databases it read.
func Match(ctx context.Context, db Database, pkgs []Package, warn func(string, ...any)) ([]Finding, []string, error) {
	d, sources, err := loadDatabase(ctx, db, pkgs, warn)
	if err != nil {
		return nil, nil, err
	}
	return d.match(pkgs), sources, nil
}

// loadDatabase reads the all.zip of each ecosystem the image has, keeping the records of its packages.
func loadDatabase(ctx context.Context, src Database, pkgs []Package, warn func(string, ...any)) (*database, []string, error) {
	db := &database{records: map[string][]*record{}, loaded: map[string]int{}}
	want := map[string]bool{}
	ecos := map[string]bool{}
	for _, p := range pkgs {
		name := p.Name
		if p.Source != "" {
			name = p.Source
		}
		want[matchKey(p.Ecosystem, name)] = true
		base, _, _ := strings.Cut(p.Ecosystem, ":")
		ecos[base] = true
	}
	var sources []string
	for _, eco := range slices.Sorted(maps.Keys(ecos)) {
		data, from, err := src.Load(ctx, eco, warn)
		if err != nil {
			return nil, nil, err
		}
		if err := db.readZip(eco, data, want); err != nil {
			return nil, nil, fmt.Errorf("the OSV database (%s): %w", from, err)
		}
		sources = append(sources, fmt.Sprintf("%s: %s (%d records)", eco, from, db.loaded[eco]))
	}
	return db, sources, nil
}
