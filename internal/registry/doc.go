// Package registry is how the actions reach OCI registries: references parsed the same way everywhere, the
// docker credential helpers, retries with backoff on 429 and 5xx (go-containerregistry's own), and the one walk
// of an image graph that build, scan, sign and cleanup share.
//
// The walk goes from a manifest down an index to what it lists, nested indexes too, and tells buildx's
// attestation manifests (platform unknown/unknown, annotated vnd.docker.reference.type: attestation-manifest)
// from platform images in one place, so that no action counts an attestation as a platform or signs it as one.
// It reads lazily: a manifest an index lists is read only when its visitor asks for the image or the index, and
// then once, because signing needs only digests while cleanup needs every manifest, and a registry's read
// budget is the user's.
//
// The walk formats no error of its own visitors: what went wrong is reported by the action, in its own terms
// (the input, the reference), so the texts users see do not depend on who walked. It follows what indexes
// list, not referrers: what refers to a manifest (signatures, attestations) is found by tag schema or the
// referrers API, by the action that knows which ones matter.
//
// Nothing here holds state between calls: options carry the context and the keychain, so tests point the same
// code at an in-process registry.
package registry
