// Package httpcache keeps GET responses on disk and revalidates them with conditional requests (ETag with
// If-None-Match, Last-Modified with If-Modified-Since), so that a response the server confirms costs a 304:
// no body, and on GitHub's API no rate limit. The GitHub client and the scan action's OSV database download
// share it.
//
// It decides nothing about freshness: whether a cached copy is served without asking (an immutable URL, the
// same day, offline mode) and what happens when the server cannot be reached (a stale copy with a warning, or
// an error) are each caller's policy, because they differ and each is part of that caller's contract. This
// package only says what a revalidation came back with and keeps what the caller chooses to keep.
//
// The layout is a body file per key and a small JSON file beside it (<key>.json: validators, kept headers,
// fetch time), so a cache directory stays readable by hand and cacheable as it is with actions/cache. Writes
// go through a temporary file and a rename, and the JSON is written after the body: an entry whose JSON is
// missing is no entry, never half of one. A cache that cannot be written only costs a download next time.
package httpcache
