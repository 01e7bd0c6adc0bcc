# meshbridge — make targets are the interface; `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := bin
# Every Go module of the workspace that exists in this checkout.
MODULES := . $(patsubst %/go.mod,%,$(wildcard internal/quietconn/go.mod plugins/sdk/go.mod plugins/examples/go.mod e2e/go.mod))
CMDS := $(notdir $(wildcard cmd/*))
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
TEST_TIMEOUT ?= 15m
FUZZTIME ?= 5s

.PHONY: help build run demo-migration test test-unit test-nethttp test-fuzz test-e2e images bench lint fmt generate clean plugins zookeeper zookeeper-image chromium

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build every binary into bin/
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

plugins: ## build every example plugin into bin/plugins/
	@mkdir -p $(BIN)/plugins
	cd plugins/examples && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$(BIN)/plugins/ ./...

run: build ## run the demo on embedded defaults
	./scripts/demo.sh

demo-migration: build ## run the Eureka migration scenario live, the split printed as each service moves
	$(BIN)/scenario run --bin $(BIN) scenarios/migration-eureka.yaml

test: test-unit test-nethttp test-fuzz ## every test that can run on this machine

# The registrysync ZooKeeper tests run a real server (internal/zookeepertest)
# and read and register through the real Curator, as Spring apps do: Debian's
# zookeeper, libcurator-discovery-java and a JDK (java runs the Curator app
# from its source file, which needs the compiler), installed only if missing.
ZOOKEEPER_JARS := /usr/share/java/zookeeper.jar /usr/share/java/curator-x-discovery.jar
zookeeper: ## install ZooKeeper and Curator for the tests (Debian's packages), if missing
	@if ls $(ZOOKEEPER_JARS) >/dev/null 2>&1 && command -v javac >/dev/null; then echo "zookeeper: installed"; else \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zookeeper libcurator-discovery-java default-jdk-headless; fi

# The scenario runner's HTML reports are opened in a real headless browser
# (e2e/htmlreport, chromedp): Debian's chromium, installed only if missing.
chromium: ## install chromium for the HTML report's browser test (Debian's package), if missing
	@if command -v chromium >/dev/null; then echo "chromium: installed"; else \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; fi

test-unit:
	@set -e; for m in $(MODULES); do echo "== go test $$m"; (cd $$m && $(GO) test -race -timeout $(TEST_TIMEOUT) -count=1 ./...); done

# The sidecar's suites once more over net/http's server and Transport
# (runtime.http: nethttp): a differential check of its own HTTP/1.1 code.
# Tests of where the two differ by design say so and skip.
SIDECAR_HTTP_SUITES := ./sidecar/ ./sidecar/proxy/ ./sidecar/httpx/ ./sidecar/handlers/transport/
test-nethttp:
	@echo "== go test (sidecar over net/http) $(SIDECAR_HTTP_SUITES)"
	MESHBRIDGE_TEST_HTTP=nethttp $(GO) test -race -timeout $(TEST_TIMEOUT) -count=1 $(SIDECAR_HTTP_SUITES)

# Each fuzz target runs briefly here; FUZZTIME=5m make test-fuzz for a longer run.
test-fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

# The e2e suites also run under test-unit (MODULES has e2e); this target runs
# them alone, verbosely, so skip reasons (no Docker, a binary missing) show.
test-e2e: ## run the scenario suites (processes; containers where Docker answers)
	cd e2e && $(GO) test -count=1 -timeout 20m -v ./...

# ZooKeeper in a container, for the container-provider scenarios: built from
# Debian's packages by debootstrap (nothing is pulled), cached once built.
zookeeper-image: ## build the meshbridge/zookeeper:3.8 image from Debian's packages, if missing
	./scripts/zookeeper-image.sh

images: build ## build the FROM scratch images meshbridge/<binary>:$(VERSION) from bin/
	@set -e; for b in registry-adapter sidecar demoapp mockserver registrysync; do \
		if [ -x $(BIN)/$$b ]; then docker build -q -f build/docker/$$b.Dockerfile -t meshbridge/$$b:$(VERSION) $(BIN); fi; done

bench: ## run the benchmarks (figures go to docs/benchmarks.md)
	./scripts/bench.sh

# consul/api's own test suite against registry-adapter (tools/consulshim);
# about 6 minutes here, so a manual run: figures in docs/conformance.md.
.PHONY: conformance-consul
conformance-consul: ## run consul/api's own tests against registry-adapter
	./scripts/conformance-consul.sh

.PHONY: conformance-fargo
conformance-fargo: ## run hudl/fargo's own tests against registry-adapter's Eureka
	./scripts/conformance-fargo.sh

# go vet runs for macOS too (tests included): developers run make run there.
lint: ## gofmt check and go vet on every module, for Linux and macOS
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./... && GOOS=darwin $(GO) vet ./...); done

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

generate: ## regenerate generated code
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) generate ./...); done

clean: ## remove build output
	rm -rf $(BIN) tmp
