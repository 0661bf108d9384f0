# iocgrid: the two set-up commands of README.md, plus helpers.
#   make test   install what is missing, configure, build, run every test (ctest)
#   make demo   install what is missing, build the iocgrid binary only, run the demo on the
#               bundled data (no test targets: those are for make test)
#   make bench  build the Release preset and run the benchmarks (figures for README)
#   make format rewrite every C++ source with clang-format 14 (ctest Style.Format checks it)
#   make lint   clang-format check plus clang-tidy 14 with .clang-tidy over src/ (ctest Style.Tidy)
#   make screenshots  rerun the browser page tests, rewriting docs/screenshots/ (README's pictures)
#   make fuzz   build the fuzz preset (clang, libFuzzer + ASan + UBSan) and run every fuzz
#               target for FUZZ_SECONDS each (docs/fuzzing.md)
PRESET ?= ci
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build test demo bench fuzz clean format lint screenshots

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

demo: configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target iocgrid
	@bash scripts/demo.sh $(BUILD_DIR)/iocgrid $(ARGS)

bench: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)
	@bash scripts/bench.sh build/release

screenshots: build
	cd web && IOCGRID_DOC_SCREENSHOTS=1 IOCGRID_BINARY=$(CURDIR)/$(BUILD_DIR)/iocgrid node --test tests/pages.test.mjs

FUZZ_SECONDS ?= 30
fuzz: deps
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS) --target iocgrid_fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run_fuzzers.sh build/fuzz $(FUZZ_TARGETS)

format:
	bash scripts/check-format.sh --fix

lint: configure
	bash scripts/check-format.sh
	python3 scripts/check-tidy.py $(BUILD_DIR)

clean:
	rm -rf build
