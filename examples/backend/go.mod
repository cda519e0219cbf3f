module example.com/backend

go 1.22

// x/net stays at v0.15.0 on purpose: the demo's scan finds GHSA-4374-p667-p6c8 (HIGH) in the binary, which
// the gate (fail-on: critical) reports without failing.
require golang.org/x/net v0.15.0

require golang.org/x/text v0.13.0 // indirect
