# make test: bring the real environment up (scripts/dev-env.sh), then every check CI runs.
# make build: the binary, as bin/scribe-actions and bin/gen-workflows.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: test build env

test:
	@eval "$$(scripts/dev-env.sh up)"; \
	echo "== gofmt"; unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi; \
	echo "== go vet"; go vet ./...; \
	echo "== go test (SCRIBE_E2E=1)"; SCRIBE_E2E=1 go test -count=1 ./...; \
	echo "== shellcheck"; shellcheck launcher/launch.sh scripts/dev-env.sh .ci/run; \
	echo "== actionlint"; actionlint -color=false && echo "actionlint: .github/workflows clean"

build:
	CGO_ENABLED=0 go build -trimpath -buildvcs=true -o bin/ ./cmd/scribe-actions ./cmd/gen-workflows

env:
	@scripts/dev-env.sh up
