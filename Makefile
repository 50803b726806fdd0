# kmsctl: build, set up the lab's dependencies, and test.
# `make setup` once (as root), then `make test`: the same command CI runs.

GO        ?= go
LAB_DIR   ?= /tmp/kmsctl-ci-lab
LAB_NODES ?= 3

.PHONY: build setup test unit lab-test vet demo docs

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
