# make test: bring the real environment up (scripts/dev-env.sh), then every check CI runs.
# make build: the binaries, bin/scribe-actions and bin/gen-workflows.
# make demo: what the suite does today, end to end on this machine (grows with each action).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: test build env demo

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

# The demo renders the embedded default scribe.yaml (a backend and a web service) into an empty repository,
# checks it, and lints it with the actionlint CLI.
demo: build
	@eval "$$(scripts/dev-env.sh up)"; \
	rm -rf .scribe/demo && mkdir -p .scribe/demo && cd .scribe/demo && git init -q; \
	echo "== gen-workflows render (embedded default, in an empty repository: .scribe/demo)"; ../../bin/gen-workflows render; \
	echo "== gen-workflows check"; ../../bin/gen-workflows check; \
	echo "== actionlint"; actionlint -color=false && echo "actionlint: no findings"; \
	echo "== the backend workflow"; cat .github/workflows/backend-docker-build.yml
