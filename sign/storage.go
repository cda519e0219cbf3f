package sign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"
)

// Storage writes signatures and attestations, signed by its credentials, in one of cosign's layouts: classic
// .sig/.att tags (NewStorage("tag", c)) or sigstore bundles as OCI referrers (NewStorage("referrers", c)).
type Storage interface {
	// Sign signs manifest d and returns where the signature went.
	Sign(ctx context.Context, d name.Digest) (string, error)
	// Attest attaches a signed in-toto statement of p about d and returns where it went.
	Attest(ctx context.Context, d name.Digest, p Predicate) (string, error)
}

// NewStorage is the layout the storage input names, signing with c.
func NewStorage(layout string, c *Credentials) Storage {
	if layout == "referrers" {
		return &referrerStorage{c: c}
	}
	return &tagStorage{c: c}
}

// signLimit is how many manifests are signed at once: each is a few registry round trips (and, keyless, a
// Rekor entry), and every one is stored apart, so they need not wait for each other.
const signLimit = 4

// Plan lists the manifests to sign or verify for d: d itself first, then, when recursive and d is an index,
// every platform manifest it reaches.
func Plan(ctx context.Context, d name.Digest, recursive bool) ([]name.Digest, error) {
	targets := []name.Digest{d}
	if !recursive {
		return targets, nil
	}
	children, err := childDigests(ctx, d)
	if err != nil {
		return nil, err
	}
	return append(targets, children...), nil
}

// SignManifests signs every target, a few at a time, and returns where each signature went, in the order of
// targets. One failure does not stop the others: every failure is reported.
func SignManifests(ctx context.Context, st Storage, targets []name.Digest) ([]string, error) {
	refs := make([]string, len(targets))
	errs := make([]error, len(targets))
	var g errgroup.Group
	g.SetLimit(signLimit)
	for i, t := range targets {
		g.Go(func() error {
			var err error
			if refs[i], err = st.Sign(ctx, t); err != nil {
				errs[i] = fmt.Errorf("signing %s: %w", t, err)
			}
			return errs[i]
		})
	}
	if g.Wait() != nil {
		return nil, errors.Join(errs...)
	}
	return refs, nil
}

// AttestImage attaches each predicate to d, one after the other (in classic storage they share one tag), and
// returns where each went, followed by its predicate type in parentheses.
func AttestImage(ctx context.Context, st Storage, d name.Digest, preds []Predicate) ([]string, error) {
	var out []string
	for _, p := range preds {
		ref, err := st.Attest(ctx, d, p)
		if err != nil {
			return nil, fmt.Errorf("attesting %s: %w", d, err)
		}
		out = append(out, ref+" ("+p.Type+")")
	}
	return out, nil
}
