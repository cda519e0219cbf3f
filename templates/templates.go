// Package templates holds what gen-workflows renders from, embedded in the binary: the workflow templates,
// the default scribe.yaml, the default lock file of action pins and the JSON Schema of scribe.yaml.
package templates

import "embed"

// FS is the embedded templates directory.
//
//go:embed *.tmpl scribe.yaml actions.lock.yaml scribe.schema.json
var FS embed.FS
