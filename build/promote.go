package build

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// runPromote publishes an image that passed the gate: it writes the computed tags onto the digest the build
// pushed without tags, after the scan and the signature, so no consumer ever pulls a tag that names an
// unscanned or unsigned image. Nothing is built: the manifest (index or image) is tagged where it is and
// copied, whole, into any other repository of images. go-containerregistry, no docker.
func runPromote(ctx context.Context, s *actionio.Step, in *Inputs, gctx Context) error {
	ref, err := registry.Digest(in.Promote)
	if err != nil {
		return fmt.Errorf("input \"promote\": %w", err)
	}
	meta, err := ComputeMeta(gctx, in.Images, in.Tags, in.Flavor, in.TagSuffix, in.Labels)
	if err != nil {
		return err
	}
	for _, w := range meta.Warnings {
		s.Warningf("%s", w)
	}
	if len(meta.Tags) == 0 {
		return fmt.Errorf("the tag rules give no tag for this event: nothing to promote %s to", in.Promote)
	}
	desc, err := remote.Get(ref, registry.Options(ctx)...)
	if err != nil {
		return fmt.Errorf("promote: reading %s: %w", ref, err)
	}
	started := time.Now()
	for _, t := range meta.Tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return err
		}
		if err := writeTag(ctx, tag, ref, desc); err != nil {
			return fmt.Errorf("promote: tagging %s: %w", t, err)
		}
	}
	rep := &report{meta: meta, took: time.Since(started), digest: desc.Digest.String(), image: ref.Context().String() + "@" + desc.Digest.String(),
		builder: builderInfo{Name: "none (promote)", Driver: "go-containerregistry"}}
	if _, err := rep.readPlatforms(ctx); err != nil {
		return err
	}
	md, _ := json.Marshal(map[string]string{"containerimage.digest": desc.Digest.String(), "image.name": strings.Join(meta.Tags, ",")})
	if err := rep.outputs(s, in, string(md)); err != nil {
		return err
	}
	return s.Summary(rep.markdown())
}

// writeTag points tag at the promoted manifest: a tag in the same repository is one PUT of the manifest; in
// another repository the index or image is written whole (its blobs and children mounted or copied).
func writeTag(ctx context.Context, tag name.Tag, from name.Digest, desc *remote.Descriptor) error {
	if tag.Context().String() == from.Context().String() {
		return remote.Tag(tag, desc, registry.Options(ctx)...)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		return remote.WriteIndex(tag, idx, registry.Options(ctx)...)
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	return remote.Write(tag, img, registry.Options(ctx)...)
}
