# make test: bring the real environment up (scripts/dev-env.sh), then every check CI runs. Corpus tests read the
# real-world corpus from SCRIBE_CORPUS (default ../shared); without it they are listed as not run.
# make build: the binaries, bin/scribe-actions and bin/gen-workflows.
# make demo: the whole pipeline on the example repository (examples/), end to end on this machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: test build env demo

test:
	@eval "$$(scripts/dev-env.sh up)"; \
	echo "== gofmt"; unformatted=$$(git ls-files -z --cached --others --exclude-standard '*.go' | xargs -0 gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi; \
	echo "== go vet"; go vet ./...; \
	echo "== go test (SCRIBE_E2E=1)"; notrun=$$(mktemp); \
	rc=0; SCRIBE_E2E=1 SCRIBE_CORPUS_NOT_RUN=$$notrun go test -count=1 -timeout 40m ./... || rc=$$?; \
	if [ -s "$$notrun" ]; then echo "corpus tests NOT RUN (set SCRIBE_CORPUS to the corpus folder; default ../shared): $$(sort -u "$$notrun" | tr '\n' ' ')"; fi; rm -f "$$notrun"; \
	[ "$$rc" -eq 0 ] || exit "$$rc"; \
	echo "== make demo (the whole pipeline on examples/)"; $(MAKE) --no-print-directory build >/dev/null; go run ./examples/demo >/tmp/scribe-demo.log 2>&1 || { cat /tmp/scribe-demo.log; exit 1; }; tail -20 /tmp/scribe-demo.log; \
	echo "== shellcheck"; shellcheck launcher/launch.sh release/build.sh scripts/dev-env.sh .ci/run; \
	echo "== actionlint"; actionlint -color=false && echo "actionlint: .github/workflows clean"

build:
	CGO_ENABLED=0 go build -trimpath -buildvcs=true -o bin/ ./cmd/scribe-actions ./cmd/gen-workflows

env:
	@scripts/dev-env.sh up

# The demo runs the whole suite on the example repository (examples/): render + check, build (two platforms,
# smoke test), scan, sign + attest, verify, cleanup (dry run, then for real) and a final verify. It prints each
# step's summary and a table, and writes .scribe/demo/report.md.
demo: build
	@eval "$$(scripts/dev-env.sh up demo)"; go run ./examples/demo
