package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Ref parses an image reference (registry/repo:tag or @sha256:...). Loopback and private registries are
// reached over plain HTTP, as docker does.
func Ref(s string) (name.Reference, error) {
	r, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an image reference: %w", s, err)
	}
	return r, nil
}

// Digest parses a reference that must name a digest.
func Digest(s string) (name.Digest, error) {
	d, err := name.NewDigest(s)
	if err != nil {
		return name.Digest{}, fmt.Errorf("%q is not an image by digest (want registry/repo@sha256:...): %w", s, err)
	}
	return d, nil
}

// Options are the remote options every call uses: the context, the docker keychain and the default retries.
func Options(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithUserAgent("scribe-actions")}
}

// Repository is the repository part of an image name, lower-cased as registries require.
func Repository(image string) string {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return strings.ToLower(image)
}

// IsAttestationManifest tells buildx's attestation manifests (platform unknown/unknown, annotated
// vnd.docker.reference.type: attestation-manifest) from the platform images of an index.
func IsAttestationManifest(d v1.Descriptor) bool {
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" ||
		d.Platform != nil && d.Platform.OS == "unknown"
}
