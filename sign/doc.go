// Package sign is the sign action: cosign-compatible signatures and attestations of an image, key-based and
// keyless, and their verification.
//
// What is signed is a digest, never a tag: a tag can move, and a signature must name what was built. With
// recursive (the default) an index and every platform manifest it reaches are signed, each on its own: a
// verifier may be handed a platform's digest (what a runtime pulls), not the index's. buildx's attestation
// manifests are not platforms. Attestations (SBOMs, SLSA provenance from the GitHub context) are about the image's own digest.
// The bytes signed are what cosign makes (its simple signing payload; in-toto statements written by the
// in-toto types), so cosign v2 and v3, Kyverno and the rest read them as their own.
//
// Two storage modes, both cosign's. "tag" is the classic layout every verifier reads: the payload as an
// uncompressed layer of the sha256-<hex>.sig image in the image's repository, its signature in a layer
// annotation; attestations as DSSE envelopes in the .att image. "referrers" is cosign v3's default: a sigstore
// bundle per signature or attestation, pushed as an OCI 1.1 referrer whose subject is the manifest. Registries
// have no compare-and-swap, so both re-read after writing (the .sig/.att image, or the referrers fallback
// index) and put back whatever a concurrent signer dropped. In classic storage a payload this key signed
// already is left alone, so signing again adds nothing.
//
// A signature made with a key gets a Rekor entry too, unless tlog-upload is false, as cosign sign --key and
// attest --key make one: cosign's verifiers require it unless told to ignore the log. Keyless signing has no
// secret to keep: an ephemeral key lives for one run, Fulcio certifies it once for the runner's OIDC identity
// (audience sigstore), and every signature gets a Rekor entry, so the signature can be checked after the
// certificate expires. Both sign through sigstore-go, which makes the entry. In classic storage the Rekor entry
// (and the certificate) go in the layer's annotations, where cosign puts them; a payload already signed and
// logged by this key is found before anything is signed, so signing again logs nothing either.
//
// Verify reads both storages. The image and, with recursive, each platform must have a signature that
// satisfies the policy (the key, with its Rekor entry unless the log is ignored; or a certificate naming the
// identity and issuer, exactly or by regexp, under the trusted root, with its Rekor entry and, when the root
// names CT logs, its embedded SCT) over a payload naming exactly that manifest's digest: a valid signature copied
// from another digest does not count. Every attestation of the
// image must verify and be about its digest; a bad one fails verification rather than being skipped.
package sign
