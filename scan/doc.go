// Package scan is the scan action: an SBOM, vulnerabilities from OSV and secrets baked into an image's layers,
// reported as SARIF, with a severity gate that means exactly what it says.
//
// It is split as cleanup is: exported steps that each do one thing and can be called on their own (ReadImage,
// Match, Judge, WriteReports), a small interface for the outside world they depend on (Database, where the
// OSV records come from), and Run, which only checks the inputs, wires them to the steps and writes the
// outputs and the summary. Every input is checked before the image is read, so a typo fails in milliseconds.
//
// The image's layers are each read once, in parallel, then applied in order with internal/layers (whiteouts
// and opaque directories honoured, as the build action's waste analysis applies them): every package says which
// layer brought it, so a finding points at the Dockerfile line that added the layer. Secrets are reported from
// every layer, also from files a later layer deletes, because a deleted file still ships with the image.
//
// Vulnerabilities come from OSV's per-ecosystem all.zip files, only for the ecosystems the image has: from
// db-dir, or downloaded once a day into a cache and revalidated with the server's validators after that
// (internal/httpcache), the cached copy used with a warning when the download fails. Offline never downloads.
//
// The gate decides only the exit code: fail-on and ignore-unfixed apply to vulnerabilities, fail-on-secrets
// to secrets, and UNKNOWN severity never reaches a threshold. The reports always hold every finding, ignored
// or not, so what the gate let through stays visible.
package scan
