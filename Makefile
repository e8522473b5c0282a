# Build, run and test the Infisical-compatible engine. `make help` lists the
# targets. The README's test command is `make test`; .ci/run runs exactly it.

GO        ?= go
BIN       ?= bin/infisical
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/infisical-go/engine/daemons/cli.version=$(VERSION)
FUZZTIME  ?= 10s

# The test suites run every storage test on SQLite AND PostgreSQL (see
# infisical/enginetest). PostgreSQL is taken from INFISICAL_TEST_PG (default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and is
# required: an unreachable server fails the run instead of skipping those
# tests. To run without PostgreSQL: `make test INFISICAL_REQUIRE_PG=0`
# (PostgreSQL tests are then skipped when it is unreachable), or
# `make test INFISICAL_TEST_BACKENDS=sqlite` (SQLite only).
INFISICAL_REQUIRE_PG ?= 1
export INFISICAL_REQUIRE_PG

.PHONY: help build run test bench lint fuzz clean

help:
	@echo "make build   build $(BIN) (static, CGO_ENABLED=0)"
	@echo "make run     start the server in development mode (keys generated into ./infisical-data)"
	@echo "make test    go vet, then every test with -race on SQLite and PostgreSQL"
	@echo "make bench   Go benchmarks, then the HTTP load test (daemons/loadtest) if present"
	@echo "make lint    gofmt and go vet"
	@echo "make fuzz    run each fuzz target for FUZZTIME (default $(FUZZTIME))"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./daemons/infisical

run:
	$(GO) run ./daemons/infisical server --dev

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if [ -f daemons/loadtest/main.go ]; then \
		echo "== load test (go run ./daemons/loadtest)"; \
		$(GO) run ./daemons/loadtest; \
	else \
		echo "daemons/loadtest not present: skipping the load test"; \
	fi

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Each fuzz target runs alone: `go test -fuzz` takes one package and one target.
fuzz:
	@set -e; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname "$$file"); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "== $$dir $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$dir"; \
		done; \
	done

clean:
	rm -rf bin
