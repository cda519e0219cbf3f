package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
	"github.com/infinite-scribe/scribe-actions/internal/registry"
)

// report is what a build produced, as read back from the registry, and the verdict of its budgets.
type report struct {
	meta          *Meta
	builder       builderInfo
	took          time.Duration
	digest        string
	imageID       string
	image         string // name@digest
	platforms     []platformImage
	attestations  int
	waste         *Waste
	wastePlatform string
	budgets       budgets
	smoke         *smokeResult
}

type platformImage struct {
	Platform     string `json:"platform"`
	Digest       string `json:"digest"`
	Compressed   int64  `json:"compressed"`
	Uncompressed int64  `json:"uncompressed"`
}

// readBack reads the pushed image from the registry: every requested platform must be there (attestation
// manifests are not platforms), with its sizes; one platform's layers are analysed for waste.
func (r *report) readBack(ctx context.Context, in *Inputs) error {
	images, err := r.readPlatforms(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, want := range in.Platforms {
		if !slices.ContainsFunc(r.platforms, func(p platformImage) bool { return normalize(p.Platform) == normalize(want) }) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks platform(s) %s (it has %d platform images and %d attestation manifests)",
			r.image, strings.Join(missing, ", "), len(r.platforms), r.attestations)
	}

	// Waste is analysed on the runner's platform when there, else the first.
	r.wastePlatform = r.platforms[0].Platform
	for _, p := range r.platforms {
		if normalize(p.Platform) == hostPlatform() {
			r.wastePlatform = p.Platform
		}
	}
	for i := range r.platforms {
		if err := r.measure(&r.platforms[i], images[r.platforms[i].Platform]); err != nil {
			return err
		}
	}
	return nil
}

// readPlatforms lists the platform images of the pushed image (the image itself when it is not an index) and
// counts its attestation manifests.
func (r *report) readPlatforms(ctx context.Context) (map[string]v1.Image, error) {
	ref, err := registry.Digest(r.image)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, registry.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading back %s: %w", r.image, err)
	}
	images := map[string]v1.Image{}
	err = registry.Walk(ref.Context(), desc, func(n *registry.Node) error {
		switch {
		case n.IsIndex(): // its platform images follow
			return nil
		case n.IsAttestation():
			r.attestations++
			return nil
		}
		img, err := n.Image()
		if err != nil {
			if n.Parent == nil {
				return err
			}
			return fmt.Errorf("reading back %s: %w", n.Descriptor.Digest, err)
		}
		p := n.Platform()
		if n.Parent == nil { // a single-platform image says its platform in its config
			cp, err := registry.ConfigPlatform(img)
			if err != nil {
				return err
			}
			p = registry.PlatformString(cp)
		}
		images[p] = img
		r.platforms = append(r.platforms, platformImage{Platform: p, Digest: n.Descriptor.Digest.String()})
		return nil
	})
	return images, err
}

// measure fills in a platform's sizes; the waste platform's layers are analysed on the way.
func (r *report) measure(p *platformImage, img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	p.Compressed = m.Config.Size
	for _, l := range m.Layers {
		p.Compressed += l.Size
	}
	if p.Platform == r.wastePlatform {
		if r.waste, err = AnalyzeWaste(img); err != nil {
			return fmt.Errorf("analysing %s: %w", p.Platform, err)
		}
		p.Uncompressed = r.waste.Layered
		return nil
	}
	p.Uncompressed, err = uncompressedSize(img)
	return err
}

func uncompressedSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// outputs sets the step's outputs: build-push-action's (digest, imageid, metadata), metadata-action's (tags,
// labels, annotations, version, json, bake files; see metaout.go) and this action's own.
func (r *report) outputs(s *actionio.Step, in *Inputs, metadata string) error {
	digests := map[string]string{}
	sizes := map[string]map[string]int64{}
	for _, p := range r.platforms {
		digests[p.Platform] = p.Digest
		sizes[p.Platform] = map[string]int64{"compressed": p.Compressed, "uncompressed": p.Uncompressed}
	}
	dj, _ := json.Marshal(digests)
	sj, _ := json.Marshal(sizes)
	var wasted int64
	if r.waste != nil {
		wasted = r.waste.Wasted
	}
	getenv := s.Action.Getenv
	annotations := annotationList(r.meta, annotationLevels(getenv))
	bake, err := writeBakeFiles(getenv, bakeFiles(r.meta, in.Images, in.BakeTarget, annotations))
	if err != nil {
		return err
	}
	for _, o := range [][2]string{
		{"digest", r.digest}, {"image", r.image}, {"imageid", r.imageID},
		{"tags", strings.Join(r.meta.Tags, separator(getenv, "sep-tags", in.SepTags))},
		{"labels", strings.Join(labelList(r.meta), separator(getenv, "sep-labels", in.SepLabels))},
		{"annotations", strings.Join(annotations, separator(getenv, "sep-annotations", in.SepAnnotations))},
		{"version", r.meta.Version}, {"json", metadataJSON(r.meta, annotations)},
		{"bake-file", bake["bake-file"]}, {"bake-file-tags", bake["bake-file-tags"]},
		{"bake-file-labels", bake["bake-file-labels"]}, {"bake-file-annotations", bake["bake-file-annotations"]},
		{"metadata", metadata}, {"platform-digests", string(dj)}, {"sizes", string(sj)}, {"waste-bytes", fmt.Sprint(wasted)},
	} {
		if err := s.SetOutput(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}

func (r *report) markdown() string {
	var b strings.Builder
	name := r.image
	if name == "" {
		name = r.imageID
	}
	fmt.Fprintf(&b, "## Build `%s`\n\n", name)
	if len(r.meta.Tags) > 0 {
		fmt.Fprintf(&b, "Tags: `%s`\n\n", strings.Join(r.meta.Tags, "`, `"))
	}
	fmt.Fprintf(&b, "Builder `%s` (%s) in %s", r.builder.Name, r.builder.Driver, r.took.Round(100*time.Millisecond))
	if len(r.builder.Emulated) > 0 {
		fmt.Fprintf(&b, "; emulated with QEMU: %s", strings.Join(r.builder.Emulated, ", "))
	}
	b.WriteString(".\n\n")
	if len(r.platforms) > 0 {
		b.WriteString("| platform | digest | compressed | uncompressed | budget |\n| --- | --- | ---: | ---: | --- |\n")
		for _, p := range r.platforms {
			verdict := ""
			if r.budgets.maxSize > 0 {
				verdict = "ok"
				if p.Uncompressed > r.budgets.maxSize {
					verdict = "**over " + actionio.FormatBytes(r.budgets.maxSize) + "**"
				}
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", p.Platform, short(p.Digest), actionio.FormatBytes(p.Compressed),
				actionio.FormatBytes(p.Uncompressed), verdict)
		}
		if r.attestations > 0 {
			fmt.Fprintf(&b, "\n%d attestation manifest(s), not platforms.\n", r.attestations)
		}
	}
	if w := r.waste; w != nil {
		fmt.Fprintf(&b, "\n### Layer waste (%s)\n\n%s of %s of files wasted, efficiency %.1f%%.\n", r.wastePlatform,
			actionio.FormatBytes(w.Wasted), actionio.FormatBytes(w.Files), 100*w.Efficiency)
		if len(w.Top) > 0 {
			b.WriteString("\n| path | copies | wasted |\n| --- | ---: | ---: |\n")
			for _, t := range w.Top {
				fmt.Fprintf(&b, "| `%s` | %d | %s |\n", t.Path, t.Copies, actionio.FormatBytes(t.Wasted))
			}
		}
		for _, h := range w.Hints {
			fmt.Fprintf(&b, "\nHint: %s\n", h)
		}
	}
	if sm := r.smoke; sm != nil {
		fmt.Fprintf(&b, "\n### Smoke test\n\n%s\n", sm.summary())
	}
	return b.String()
}

// verdict fails the step when a budget is exceeded or the smoke test failed; the summary already has the table.
func (r *report) verdict() error {
	var errs []string
	if r.budgets.maxSize > 0 {
		for _, p := range r.platforms {
			if p.Uncompressed > r.budgets.maxSize {
				errs = append(errs, fmt.Sprintf("%s is %s, over the max-size budget of %s", p.Platform,
					actionio.FormatBytes(p.Uncompressed), actionio.FormatBytes(r.budgets.maxSize)))
			}
		}
	}
	if w := r.waste; w != nil {
		if r.budgets.maxWaste > 0 && w.Wasted > r.budgets.maxWaste {
			errs = append(errs, fmt.Sprintf("layer waste is %s, over the max-waste budget of %s", actionio.FormatBytes(w.Wasted),
				actionio.FormatBytes(r.budgets.maxWaste)))
		}
		if r.budgets.minEfficiency > 0 && w.Efficiency < r.budgets.minEfficiency {
			errs = append(errs, fmt.Sprintf("efficiency is %.3f, under the lowestEfficiency budget of %.3f", w.Efficiency, r.budgets.minEfficiency))
		}
		if r.budgets.maxWastedPercent > 0 && w.Files > 0 && float64(w.Wasted)/float64(w.Files) > r.budgets.maxWastedPercent {
			errs = append(errs, fmt.Sprintf("%.1f%% of the files' bytes are wasted, over the highestUserWastedPercent budget of %.1f%%",
				100*float64(w.Wasted)/float64(w.Files), 100*r.budgets.maxWastedPercent))
		}
	}
	if r.smoke != nil && r.smoke.err != nil {
		errs = append(errs, "smoke test: "+r.smoke.err.Error())
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func short(digest string) string {
	if i := strings.Index(digest, ":"); i >= 0 && len(digest) > i+13 {
		return digest[:i+13]
	}
	return digest
}
