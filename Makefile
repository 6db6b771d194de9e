# Herald — developer and CI entry points. `make` lists the targets.
#
# Every folder under functions/ is one Lambda function: functions/<name> is
# built to build/<name>/bootstrap by `make build`, and SAM builds its
# <Name>Function (template.yaml, BuildMethod makefile) through the generated
# build-<Name>Function target. A new function needs no change here.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO ?= go
TOOLS_DIR := $(CURDIR)/.tools
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)/staticcheck
SAM := $(TOOLS_DIR)/venv/bin/sam

# Lambda builds: static arm64 binaries for provided.al2023. lambda.norpc drops
# the legacy net/rpc entry point the provided runtimes never use.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
# Each bootstrap's size limit (20 MiB; the api function's in
# infra/bootstrap-sizes.sh, which says why) is checked by `make build` and
# by `make test` on what sam build made.

FUNCTIONS := $(patsubst functions/%/,%,$(wildcard functions/*/))

# ucfirst: api → Api (folder name → SAM logical id prefix).
ucfirst = $(shell printf '%s' '$(1)' | awk '{ print toupper(substr($$0, 1, 1)) substr($$0, 2) }')

# Every function is built by one `go build` into build/lambda/<fn>: each
# package is compiled once and linked into the functions that use it.
# sam build runs its build-<Name>Function targets in parallel; they share
# that one build through a lock (the first builds, the others wait and find
# it up to date), so nothing is compiled twice, and `make build` is the same
# build.
LAMBDA_BIN := build/lambda
define lambdas
mkdir -p $(LAMBDA_BIN) && flock $(LAMBDA_BIN)/.lock env $(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(LAMBDA_BIN)/ ./functions/...
endef

.PHONY: help
help: ## List the targets
	@echo "usage: make <target>"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-10s %s\n", $$1, $$2 }'
	@echo
	@echo "functions: $(or $(FUNCTIONS),none yet)"

.PHONY: run
run: ## Run Herald locally (HERALD_ADDR, HERALD_DATA_DIR are read from the environment); Ctrl-C stops it
	@$(GO) build -o build/herald ./infra/local
	@exec build/herald

.PHONY: build
build: ## Build every function to build/<fn>/bootstrap (linux/arm64); fail over its size limit (infra/bootstrap-sizes.sh)
	@if [ -z "$(FUNCTIONS)" ]; then echo "no functions under functions/" >&2; exit 1; fi
	$(lambdas)
	@for fn in $(FUNCTIONS); do mkdir -p build/$$fn && cp -f $(LAMBDA_BIN)/$$fn build/$$fn/bootstrap; done
	@infra/bootstrap-sizes.sh $(foreach fn,$(FUNCTIONS),$(fn)=build/$(fn)/bootstrap)

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set; one target per folder under functions/.
define sam_build_target
.PHONY: build-$(call ucfirst,$(1))Function
build-$(call ucfirst,$(1))Function:
	@test -n "$$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	$$(lambdas)
	cp -f $(LAMBDA_BIN)/$(1) $$(ARTIFACTS_DIR)/bootstrap
endef
$(foreach fn,$(FUNCTIONS),$(eval $(call sam_build_target,$(fn))))

.PHONY: lint
lint: $(STATICCHECK) ## gofmt, go vet and staticcheck
	@unformatted="$$(find . -type d \( -name '.?*' -o -name testdata -o -name build -o -name node_modules \) -prune \
		-o -type f -name '*.go' -print | xargs -r gofmt -l)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Built without the caller's GOFLAGS (make test lints with -race, which
# would make staticcheck itself slow).
$(STATICCHECK):
	GOFLAGS= GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: tools
tools: ## Install aws-sam-cli and cfn-lint into .tools/venv
	infra/tools.sh

.PHONY: test
test: ## Everything CI runs: lint, unit + emulator + browser tests, sam validate/build, schemathesis (installs its tools on first use)
	infra/test.sh

.PHONY: bench
bench: ## Benchmarks (figures only, nothing asserted): 100k local send, crash check, SDK calls on the emulators, console pages
	infra/bench.sh

.PHONY: invoke
invoke: ## Run a handler in process on a sample event: make invoke FN=api EVENT=events/api-health.json [BACKEND=aws]
	@if [ -z "$(FN)" ] || [ -z "$(EVENT)" ]; then \
		echo "usage: make invoke FN=<function> EVENT=<file>   e.g. make invoke FN=api EVENT=events/api-health.json" >&2; \
		echo "functions: $(FUNCTIONS)" >&2; exit 2; \
	fi
	$(GO) run ./infra/invoke -fn '$(FN)' -event '$(EVENT)' -backend '$(or $(BACKEND),embedded)'

.PHONY: validate
validate: tools ## sam validate --lint (cfn-lint included)
	SAM_CLI_TELEMETRY=0 AWS_REGION=$${AWS_REGION:-us-east-1} $(SAM) validate --lint

.PHONY: clean
clean: ## Remove build outputs (keeps .tools)
	rm -rf build .aws-sam
