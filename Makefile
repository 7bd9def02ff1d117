SOURCE_FILES := $(shell find src -type f -name '*.rs') Cargo.toml Cargo.lock \
  .cargo/config.toml rust-toolchain.toml
# Where cargo builds: CARGO_TARGET_DIR when set, as cargo itself reads it.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# The policy's version; kept equal to Cargo.toml, metadata.yml and
# artifacthub-pkg.yml by `make check-version`.
VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
OCI_REPOSITORY ?= ghcr.io/host-gateway-policy/policies/host-gateway

# The pinned Rust of rust-toolchain.toml, with its target and linters,
# installed only when something is missing: the checks are local, so a
# run with everything in place never asks the network. Spelt out rather
# than a bare `rustup toolchain install`, which older rustups cannot read
# from the file; rustup installs on its own only where RUSTUP_AUTO_INSTALL
# is not 0.
TOOLCHAIN := $(shell sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
.PHONY: toolchain
toolchain:
	@if command -v rustup >/dev/null 2>&1 && ! { \
	  rustup toolchain list | grep -q '^$(TOOLCHAIN)-' && \
	  rustup +$(TOOLCHAIN) target list --installed | grep -qx wasm32-wasip1 && \
	  rustup +$(TOOLCHAIN) component list --installed | grep -q '^clippy-' && \
	  rustup +$(TOOLCHAIN) component list --installed | grep -q '^rustfmt-'; }; then \
	  rustup toolchain install $(TOOLCHAIN) --profile minimal \
	    --target wasm32-wasip1 --component rustfmt,clippy; \
	fi

policy.wasm: $(SOURCE_FILES) | toolchain
	cargo build --locked --target=wasm32-wasip1 --release
	cp $(TARGET_DIR)/wasm32-wasip1/release/host_gateway_policy.wasm policy.wasm

# Runs the policy on a sample request without kwctl, in the wasmtime waPC
# host the tests use; the options are kwctl run's. SESSION= (empty) looks
# names up with this machine's resolver instead of replaying Docker Desktop.
REQUEST ?= test_data/pod_host_gateway.json
SETTINGS ?= {}
SESSION ?= test_data/sessions/docker_desktop.yml
.PHONY: run
run: policy.wasm
	@cargo run --locked --quiet --example run -- --request-path $(REQUEST) \
	  --settings-json '$(SETTINGS)' \
	  $(if $(SESSION),--replay-host-capabilities-interactions $(SESSION)) policy.wasm

annotated-policy.wasm: policy.wasm metadata.yml README.md
	kwctl annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

artifacthub-pkg.yml: metadata.yml questions-ui.yml Cargo.toml
	kwctl scaffold artifacthub -m metadata.yml -q questions-ui.yml -o artifacthub-pkg.yml

.PHONY: publish
publish: annotated-policy.wasm
	kwctl push annotated-policy.wasm registry://$(OCI_REPOSITORY):v$(VERSION)

# The version in Cargo.toml, metadata.yml, artifacthub-pkg.yml and the
# manifests' module references must agree (also checked by `make test`).
.PHONY: check-version
check-version:
	cargo test --locked --test manifests policies_match_metadata_and_version

.PHONY: fmt
fmt: | toolchain
	cargo fmt --all -- --check

# clippy, then cargo-deny's licence, ban and source checks (deny.toml),
# which need no network once the crates are fetched; `advisories` fetches
# the RustSec database, so it runs in the GitHub workflow only.
.PHONY: lint
lint: | toolchain
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --target wasm32-wasip1 --lib -- -D warnings
	# The fuzz targets are no workspace member: checked here, so that a
	# change of the library's API cannot break them unnoticed.
	cargo clippy --locked --manifest-path fuzz/Cargo.toml --bins -- -D warnings
	@if command -v cargo-deny >/dev/null 2>&1; then \
	  cargo deny --locked check licenses bans sources; \
	else \
	  echo "cargo-deny checks skipped: cargo-deny is not installed (cargo install --locked cargo-deny)"; \
	fi

# Everything the README promises: formatting, linters, then the unit,
# property, artifact and policy-server tests, the kwctl e2e tests and the
# cluster tests. Where kwctl, bats, policy-server or a control plane is
# missing, those tests say so in one line and the rest still runs.
.PHONY: test
test: fmt lint unit-tests
	@if ! command -v kwctl >/dev/null 2>&1; then \
	  echo "e2e tests skipped: kwctl is not installed (https://docs.kubewarden.io/howtos/install-kwctl)"; \
	elif ! command -v bats >/dev/null 2>&1; then \
	  echo "e2e tests skipped: bats is not installed (e.g. apt-get install bats)"; \
	else \
	  $(MAKE) --no-print-directory e2e-tests; \
	fi
	@$(MAKE) --no-print-directory cluster-tests

# cargo test on the built module (unit, property, artifact and manifest
# tests), then the policy-server tests.
.PHONY: unit-tests
unit-tests: policy.wasm
	POLICY_WASM=$(CURDIR)/policy.wasm cargo test --locked
	@$(MAKE) --no-print-directory policy-server-tests

# The tests that serve the policy from Kubewarden's own policy-server:
# #[ignore]d in a plain `cargo test`, run here where the binaries are.
.PHONY: policy-server-tests
policy-server-tests: policy.wasm
	@if command -v policy-server >/dev/null 2>&1 && command -v kwctl >/dev/null 2>&1; then \
	  POLICY_WASM=$(CURDIR)/policy.wasm cargo test --locked --test policy_server -- --include-ignored; \
	else \
	  echo "policy-server tests ignored: policy-server and kwctl are not on PATH (https://docs.kubewarden.io/howtos/install-kwctl)"; \
	  test -z "$$HOST_GATEWAY_REQUIRE_KUBEWARDEN"; \
	fi

.PHONY: e2e-tests
e2e-tests: annotated-policy.wasm
	bats e2e.bats

# The scenarios of tests/cluster/cluster.bats with the real kubectl, on
# etcd, kube-apiserver, kube-controller-manager and policy-server started on
# loopback (tests/cluster/run). Where a binary is missing they say so in one
# line. EXISTING_CLUSTER=1 runs them on the cluster of KUBECONFIG instead.
.PHONY: cluster-tests
cluster-tests: policy.wasm
	bash tests/cluster/run

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm

# Each fuzz target for FUZZ_SECONDS (default 60), then executions and
# coverage per target (fuzz/run installs cargo-fuzz and nightly if missing).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run
