// Package github is the GitHub REST client the tools share: go-github over a transport that keeps responses
// in an on-disk cache revalidated with ETags (a 304 costs no rate limit), serves immutable ones (addressed by
// a commit SHA) without asking again, retries 5xx, and honours the primary and secondary rate limits.
//
// The cache itself (layout, conditional requests, 304s) is internal/httpcache's; this package holds GitHub's
// policy over it: a response addressed by a commit SHA never changes, so it is served without a request;
// offline mode answers from the cache or fails with ErrOffline, never sends; only responses with an ETag are
// kept, since only those can be revalidated for free.
//
// Rate limits are waited out only up to MaxWait, and a longer wait is a RateLimitError that says when the
// budget returns and how to get a larger one: a job should fail fast and clearly rather than sit for an hour.
// The clock and the sleep are fields, so tests run the waits without waiting.
package github
