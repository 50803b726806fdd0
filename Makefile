# kmsctl: build, set up the lab's dependencies, and test.
# `make setup` once (as root), then `make test`: the same command CI runs.

GO        ?= go
LAB_DIR   ?= /tmp/kmsctl-ci-lab
LAB_NODES ?= 3

.PHONY: build setup test unit lab-test vet demo docs release-tools release-check

# Release tools, installed through the Go module proxy (see release-tools).
GOBIN_DIR        ?= $(shell $(GO) env GOPATH)/bin
GORELEASER       ?= $(GOBIN_DIR)/goreleaser
GORELEASER_VER   ?= v2.17.0
SYFT             ?= $(GOBIN_DIR)/syft
SYFT_VER         ?= v1.57.2

build:
	$(GO) build -o kmsctl ./cmd/kmsctl

## setup: install the apt packages the lab needs and build (or reuse) Vault.
setup:
	./lab/setup.sh

vet:
	$(GO) vet ./...
	cd lab && $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1)

unit:
	$(GO) test -count=1 ./...

## test: vet, unit tests, then every lab test against a real lab (Vault, sshd, systemd).
test: vet unit lab-test

lab-test:
	LAB_DIR=$(LAB_DIR) LAB_NODES=$(LAB_NODES) ./lab/test.sh

docs:
	$(GO) run ./cmd/kmsctl docs

## demo: a 3-node lab, kmsctl status, a full migration to Vault, status, teardown.
demo:
	./lab/demo.sh

## release-tools: goreleaser and syft (SBOMs), built from the module proxy once;
## bash-completion, under which the .deb's completion is tested.
release-tools:
	@test -f /usr/share/bash-completion/bash_completion || apt-get install -y bash-completion
	@test -x $(GORELEASER) || $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VER)
	@test -x $(SYFT) || $(GO) install github.com/anchore/syft/cmd/syft@$(SYFT_VER)

## release-check: goreleaser check, a snapshot build (archives, deb, rpm, SBOMs),
## then install the .deb into a throwaway root and run its kmsctl, man page
## and bash completion.
release-check: release-tools
	$(GORELEASER) check
	PATH="$(GOBIN_DIR):$$PATH" $(GORELEASER) release --snapshot --clean --skip=publish
	KMSCTL_DIST=$(CURDIR)/dist $(GO) test -count=1 -run 'TestRelease' ./cmd/build/release/
