# Strata. The two commands: `make run` and `make test`.

GO       ?= go
BIN      := bin/strata
STRATA_ADDR ?= :8080
STRATA_DATA ?= ./strata-data
export AWS_EC2_METADATA_DISABLED = true

.PHONY: cluster cluster-down run build web web-check test test-short deps deps-test bench-transcode bench-edge bench-cluster bench-search clean

# Install what is missing, build the UI and the binary, start the all-in-one node.
run: deps web build
	@echo "Strata: starting on http://localhost$(STRATA_ADDR) with data in $(STRATA_DATA)"
	STRATA_ADDR=$(STRATA_ADDR) STRATA_DATA=$(STRATA_DATA) ./$(BIN) run

deps:
	@deploy/install-deps.sh run web

deps-test:
	@deploy/install-deps.sh test

build:
	$(GO) build -o $(BIN) ./node

# A local cluster: three origins and two edges as processes on loopback,
# data and logs in .cache/cluster; cluster-down stops them and removes it.
cluster: build
	$(GO) run ./deploy/cluster up -bin $(BIN)

cluster-down:
	$(GO) run ./deploy/cluster down

# The web UI: built from web/src and web/package-lock.json into web/dist,
# which is committed so `go build ./node` needs no npm.
web:
	cd web && npm ci --no-audit --no-fund && npm run build

# CI: a rebuild of the UI must change nothing that is committed.
web-check: web
	@git diff --exit-code --stat -- web/dist || { echo "web/dist is stale: run 'make web' and commit it"; exit 1; }
	@test -z "$$(git status --porcelain -- web/dist)" || { git status --porcelain -- web/dist; echo "web/dist has files that are not committed"; exit 1; }

# versitygw: a real S3-compatible server for the object-storage tests.
VERSITYGW := .cache/bin/versitygw
$(VERSITYGW):
	@echo "Installing versitygw (S3-compatible server for the tests) into .cache/bin"
	GOBIN=$(CURDIR)/.cache/bin $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

# Every test: unit, end-to-end with real ffmpeg, and the browser tests.
# The unit packages run once more under the race detector (about four
# minutes on two cores); the end-to-end suite, whose processes are real
# binaries, runs once.
test: deps-test $(VERSITYGW)
	cd web && node --test test/
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v -e /node/e2e -e /deploy/)
	$(GO) test -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

# Benchmark: our one-pass ladder against one ffmpeg per rung (PeerTube's layout).
bench-transcode:
	$(GO) run ./deploy/bench/transcode $(BENCH_ARGS)

# Benchmark: the edge against nginx proxy_cache, Varnish and ATS (installs them with apt-get).
bench-edge:
	$(GO) run ./deploy/bench/edge $(BENCH_ARGS)

# Benchmark: metadata writes on a 3-node cluster against a 3-member etcd (installs etcd-server).
bench-cluster:
	$(GO) run ./deploy/bench/cluster $(BENCH_ARGS)

# Benchmark: search over HTTP on 100k generated videos against PostgreSQL pg_trgm, PeerTube's way (installs postgresql).
bench-search:
	$(GO) run ./deploy/bench/search $(BENCH_ARGS)

clean:
	rm -rf bin
