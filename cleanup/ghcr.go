package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	gh "github.com/google/go-github/v62/github"
)

// ghcrBackend lists and deletes versions through the GitHub Packages REST API (GHCR refuses manifest
// DELETE); manifests are still read through the registry.
type ghcrBackend struct {
	client     *gh.Client
	owner, pkg string
	user       bool // the owner is a user, not an organisation
	repo       name.Repository
}

// NewGHCR is the backend of a container package owned by an organisation or a user.
func NewGHCR(client *gh.Client, repo name.Repository, owner, pkg string) Backend {
	return &ghcrBackend{client: client, owner: owner, pkg: pkg, repo: repo}
}

func (b *ghcrBackend) Repository() name.Repository { return b.repo }

func (b *ghcrBackend) list(ctx context.Context, opts *gh.PackageListOptions) ([]*gh.PackageVersion, *gh.Response, error) {
	if b.user {
		return b.client.Users.PackageGetAllVersions(ctx, b.owner, "container", b.pkg, opts)
	}
	return b.client.Organizations.PackageGetAllVersions(ctx, b.owner, "container", b.pkg, opts)
}

func (b *ghcrBackend) Versions(ctx context.Context) ([]Version, error) {
	opts := &gh.PackageListOptions{State: gh.String("active"), ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Version
	for {
		page, resp, err := b.list(ctx, opts)
		if !b.user && opts.Page == 0 && status(err) == http.StatusNotFound {
			b.user = true // not an organisation: try the user
			continue
		}
		if err != nil {
			return nil, b.explain("listing the versions of", err)
		}
		for _, v := range page {
			out = append(out, Version{Digest: v.GetName(), ID: v.GetID(), Tags: v.GetMetadata().GetContainer().Tags,
				Created: v.GetCreatedAt().Time})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out, nil
}

func (b *ghcrBackend) Delete(ctx context.Context, d Decision) error {
	if d.ID == 0 {
		return fmt.Errorf("%s is not a version GitHub Packages lists", d.Digest)
	}
	var err error
	if b.user {
		_, err = b.client.Users.PackageDeleteVersion(ctx, b.owner, "container", b.pkg, d.ID)
	} else {
		_, err = b.client.Organizations.PackageDeleteVersion(ctx, b.owner, "container", b.pkg, d.ID)
	}
	if err != nil && strings.Contains(err.Error(), "5000 downloads") {
		return ErrTooPopular
	}
	if err != nil {
		return b.explain(fmt.Sprintf("deleting version %d (%s) of", d.ID, d.Digest), err)
	}
	return nil
}

// explain says which permission is missing when the API refuses.
func (b *ghcrBackend) explain(what string, err error) error {
	switch status(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		var rl *gh.RateLimitError
		if !errors.As(err, &rl) {
			return fmt.Errorf("%s %s/%s: the token may not: give the job `permissions: packages: write`, and the repository admin access to the package (%w)",
				what, b.owner, b.pkg, err)
		}
	case http.StatusNotFound:
		return fmt.Errorf("%s %s/%s: no such container package, or the token cannot see it (%w)", what, b.owner, b.pkg, err)
	}
	return fmt.Errorf("%s %s/%s: %w", what, b.owner, b.pkg, err)
}

func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// DeleteDigest finds the version of a manifest pushed after the plan (GHCR makes one per push) and deletes it.
func (b *ghcrBackend) DeleteDigest(ctx context.Context, digest string) error {
	versions, err := b.Versions(ctx)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.Digest == digest {
			return b.Delete(ctx, Decision{Digest: digest, ID: v.ID})
		}
	}
	return fmt.Errorf("GitHub Packages lists no version %s", digest)
}
