package drift

import (
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

// deprecationsYAML is the dated catalogue of deprecated action versions and runtimes. It is embedded, not
// read from disk, so that every copy of the binary judges the same way, offline too.
//
//go:embed deprecations.yaml
var deprecationsYAML []byte

// catalogue is deprecations.yaml: action versions (from, below) and runs.using runtimes, each with the date
// it stopped, or stops, working.
type catalogue struct {
	Actions []struct {
		Action string `yaml:"action"`
		From   string `yaml:"from"`
		Below  string `yaml:"below"`
		Date   string `yaml:"date"`
		Reason string `yaml:"reason"`
	} `yaml:"actions"`
	Runtimes map[string]struct {
		Date   string `yaml:"date"`
		Reason string `yaml:"reason"`
	} `yaml:"runtimes"`
}

// loadCatalogue parses the embedded catalogue.
func loadCatalogue() (*catalogue, error) {
	var c catalogue
	if err := yaml.Unmarshal(deprecationsYAML, &c); err != nil {
		return nil, fmt.Errorf("deprecations.yaml: %w", err)
	}
	return &c, nil
}
