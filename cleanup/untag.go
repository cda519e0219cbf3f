package cleanup

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// untag removes one tag from an image that keeps its other tags. The OCI API deletes manifests, not tags, so
// the tag is moved to a one-off placeholder manifest, and the placeholder is deleted by digest (which takes
// its tag with it). The tag must still point where the plan saw it, and the image must still be there after.
func untag(ctx context.Context, b Backend, u Untag) error {
	opts := registry.Options(ctx)
	repo := b.Repository()
	tag := repo.Tag(u.Tag)
	desc, err := remote.Head(tag, opts...)
	if err != nil {
		return fmt.Errorf("reading tag %s: %w", u.Tag, err)
	}
	if desc.Digest.String() != u.Digest {
		return fmt.Errorf("tag %s moved to %s since planning: left alone", u.Tag, desc.Digest)
	}
	cf := &v1.ConfigFile{Config: v1.Config{Labels: map[string]string{
		"dev.scribe-actions.placeholder": u.Tag + " " + time.Now().UTC().Format(time.RFC3339Nano)}}}
	placeholder, err := mutate.ConfigFile(empty.Image, cf)
	if err != nil {
		return err
	}
	pd, err := placeholder.Digest()
	if err != nil {
		return err
	}
	if err := remote.Write(tag, placeholder, opts...); err != nil {
		return fmt.Errorf("moving tag %s to a placeholder: %w", u.Tag, err)
	}
	if err := b.DeleteDigest(ctx, pd.String()); err != nil {
		return fmt.Errorf("deleting the placeholder of tag %s (%s): %w", u.Tag, pd, err)
	}
	if _, err := remote.Head(repo.Digest(u.Digest), opts...); err != nil {
		return fmt.Errorf("after removing tag %s, %s is gone: %w", u.Tag, u.Digest, err)
	}
	return nil
}
