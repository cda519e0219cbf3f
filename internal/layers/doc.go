// Package layers is an image's layer stack: a layer's tar entries decoded (files, whiteouts, opaque
// directories) and applied in order, so that each surviving path knows which layer brought it. The build
// action's waste analysis and the scan action's catalogue both read images this way, and must agree on what
// the final filesystem holds.
//
// Deletions apply to lower layers only, as the OCI image spec says: a layer's whiteout never removes a file
// the same layer writes, so a layer's entries may be applied in tar order (the waste analysis, streaming) or
// grouped (the scan, which reads layers in parallel and applies them afterwards) with the same result.
//
// The stack keeps a value of the caller's per copy (a size and a hash, a parsed package database) and returns
// what a write replaces or a deletion removes: what counts as waste is the caller's to say. It reads no layer
// itself beyond the tar stream it is given, so callers choose how blobs are fetched and decompressed.
package layers
