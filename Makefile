# Thin wrapper over CMake. `make test` and `make demo` install what is missing first.
BUILD   ?= build
ASAN    ?= build-asan
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-unit test-asan fuzz demo bench chaos install deb tsan clean

all: build

deps:
	@scripts/install-deps.sh

configure:
	@cmake -S . -B $(BUILD) -DMQTLS_WERROR=$${MQTLS_WERROR:-ON} $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Every test: unit + integration (normal build), the unit and integration tests again under
# ASan+UBSan, the threaded ones under ThreadSanitizer, then a bounded fuzz run. Ends with a
# "N passed, N failed" line.
test: deps
	@scripts/run-tests.sh

# The ThreadSanitizer stage of `make test` alone (clang, the tests that run threads).
tsan: deps
	@scripts/tsan.sh

demo: deps build
	@scripts/demo.sh

# The long chaos run (tests/chaos/test_chaos.py --profile long): mqtls clients through a
# fault-injecting proxy to a mosquitto that is killed and restarted, the clients killed and
# restarted with persistence; >= 10^5 messages, >= 200 faults. Figures: docs/reliability.md.
chaos: deps build
	@CHAOS_CLIENT=$(BUILD)/tests/chaos/chaos_client FAULTPROXY=$(BUILD)/tests/chaos/faultproxy \
	  python3 tests/chaos/test_chaos.py --profile long --json $(BUILD)/chaos-long.json

bench: deps
	@scripts/bench.sh

install: build
	@cmake --install $(BUILD)

# The Debian packages in build-deb/ (mqtls, libmqtls1, libmqtls-dev, libmqtls-esp-mqtt-dev),
# built offline from the mbedTLS 3.6 source the normal build fetched; lintian errors fail it.
deb: deps
	@scripts/build-deb.sh build-deb

clean:
	rm -rf $(BUILD) $(ASAN) build-fuzz build-tsan build-bench build-deb
