package cleanup

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	gh "github.com/google/go-github/v62/github"

	"github.com/infinite-scribe/scribe-actions/internal/github"
)

// usesPackagesAPI reports whether versions are listed and deleted through the GitHub Packages API: GHCR
// refuses the registry's manifest DELETE, so auto picks the API for ghcr.io.
func (in *Inputs) usesPackagesAPI() bool {
	return in.PackagesAPI == "github" || in.PackagesAPI == "auto" && in.Registry == "ghcr.io"
}

// Connect resolves the packages' owner (the input, else the runner's repository owner) and, when versions go
// through the GitHub Packages API, a client for it (the token input, which action.yml defaults to the job's
// token, else GITHUB_TOKEN or GH_TOKEN; with none it fails, naming the input, rather than ask anonymously). The
// API needs an owner; on other registries the owner, if any, is only the first part of each repository's path.
func Connect(in *Inputs, getenv func(string) string) (owner string, client *gh.Client, err error) {
	owner = in.Owner
	if owner == "" {
		owner = getenv("GITHUB_REPOSITORY_OWNER")
	}
	if !in.usesPackagesAPI() {
		return owner, nil, nil
	}
	if owner == "" {
		return "", nil, errors.New(`input "owner" is required with the GitHub Packages API (the runner's GITHUB_REPOSITORY_OWNER is not set)`)
	}
	token := in.Token
	if token == "" {
		token = github.TokenFromEnv(getenv)
	}
	if token == "" {
		return "", nil, errors.New(`input "token" is not given, and neither GITHUB_TOKEN nor GH_TOKEN is set: the GitHub Packages API needs a token ` +
			`that may delete packages (on a runner the input defaults to the job's token, ${{ github.token }}; give the job permissions: packages: write)`)
	}
	if client, _, err = github.New(github.Options{BaseURL: getenv("GITHUB_API_URL"), Token: token, MaxWait: time.Minute}); err != nil {
		return "", nil, err
	}
	return owner, client, nil
}

// Backends makes the backend of each package: its repository is registry/owner/package, lowercased as
// registries want it, and its versions go through the GitHub Packages API client, or the registry's manifest
// DELETE when the inputs do not use the API.
func Backends(in *Inputs, owner string, client *gh.Client) ([]Backend, error) {
	var backends []Backend
	for _, pkg := range in.Packages {
		path := pkg
		if owner != "" {
			path = owner + "/" + pkg
		}
		repo, err := name.NewRepository(in.Registry + "/" + strings.ToLower(path))
		if err != nil {
			return nil, fmt.Errorf(`input "packages": %q: %w`, pkg, err)
		}
		if in.usesPackagesAPI() {
			backends = append(backends, NewGHCR(client, repo, owner, pkg))
		} else {
			backends = append(backends, NewOCI(repo))
		}
	}
	return backends, nil
}

// RepositoryPackage is the package to clean when the packages input is empty: the repository's name, the part
// of GITHUB_REPOSITORY after the slash, as dataaxiom/ghcr-cleanup-action assumes (src/config.ts: "if
// (!config.package) config.package = parts[1]"): a repository's workflow pushes its image under its own name.
// It is lower-cased, as container package names are.
func RepositoryPackage(getenv func(string) string) (string, error) {
	_, repo, ok := strings.Cut(getenv("GITHUB_REPOSITORY"), "/")
	if !ok || repo == "" {
		return "", errors.New(`input "packages" is not given, and GITHUB_REPOSITORY (owner/name) is not set to take the repository's name from: name the packages to clean`)
	}
	return strings.ToLower(repo), nil
}
