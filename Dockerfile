# The scribe-actions CLI as an image (docker run ghcr.io/infinite-scribe/scribe-actions scan --image ...):
# compiled on the build platform for the target one, the binary alone on scratch.
ARG GO_IMAGE=golang:1.26
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS TARGETARCH VERSION=dev
ENV GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
    -o /out/scribe-actions ./cmd/scribe-actions

FROM scratch
COPY --from=build --chown=65532:65532 /out/scribe-actions /scribe-actions
USER 65532:65532
ENTRYPOINT ["/scribe-actions"]
