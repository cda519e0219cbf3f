package build

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// runMerge makes one multi-arch index from single-platform images pushed by digest (one per native runner)
// and gives it the computed tags, or (push-by-digest) pushes it by digest only: what buildx imagetools create
// does, without docker.
func runMerge(ctx context.Context, s *actionio.Step, in *Inputs, gctx Context) error {
	meta, err := ComputeMeta(gctx, in.Images, in.Tags, in.Flavor, in.TagSuffix, in.Labels)
	if err != nil {
		return err
	}
	for _, w := range meta.Warnings {
		s.Warningf("%s", w)
	}
	if len(meta.Tags) == 0 && !in.PushByDigest {
		return fmt.Errorf("the tag rules give no tag for this event: the merged index would be unreachable")
	}
	repo := registry.Repository(in.Images[0])
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var plats []platformImage
	for _, dg := range in.Merge {
		ref, err := registry.Digest(repo + "@" + strings.TrimPrefix(dg, repo+"@"))
		if err != nil {
			return fmt.Errorf("input \"merge\": %w", err)
		}
		desc, err := remote.Get(ref, registry.Options(ctx)...)
		if err != nil {
			return fmt.Errorf("merge: reading %s: %w", ref, err)
		}
		img, err := desc.Image()
		if err != nil {
			return fmt.Errorf("merge: %s is not a single-platform image: %w", ref, err)
		}
		p, err := registry.ConfigPlatform(img)
		if err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: desc.MediaType, Platform: p}})
		plats = append(plats, platformImage{Platform: registry.PlatformString(p), Digest: desc.Digest.String(), Compressed: desc.Size})
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	started := time.Now()
	tags := meta.Tags
	if in.PushByDigest { // gated: the index goes up by digest only; a promote tags it after the scan and signature
		tags = nil
		ref, err := registry.Digest(repo + "@" + digest.String())
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, idx, registry.Options(ctx)...); err != nil {
			return fmt.Errorf("merge: pushing %s: %w", ref, err)
		}
	}
	pushed := map[string]bool{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return err
		}
		if !pushed[tag.Context().String()] {
			// the platform images must be in each repository the index goes to
			if err := remote.WriteIndex(tag, idx, registry.Options(ctx)...); err != nil {
				return fmt.Errorf("merge: pushing %s: %w", t, err)
			}
			pushed[tag.Context().String()] = true
			continue
		}
		if err := remote.Tag(tag, idx, registry.Options(ctx)...); err != nil {
			return fmt.Errorf("merge: tagging %s: %w", t, err)
		}
	}
	rep := &report{meta: meta, took: time.Since(started), digest: digest.String(), image: repo + "@" + digest.String(),
		platforms: plats, builder: builderInfo{Name: "none (merge)", Driver: "go-containerregistry"}}
	md, _ := json.Marshal(map[string]string{"containerimage.digest": digest.String(), "image.name": strings.Join(meta.Tags, ",")})
	if err := rep.outputs(s, in, string(md)); err != nil {
		return err
	}
	return s.Summary(rep.markdown())
}
