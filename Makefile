# The two commands the README starts with. Everything else is Meson + Ninja.
BUILD ?= build
DATA ?= ./berth-data
HTTP ?= 127.0.0.1:5050

.PHONY: all deps build run check unit clean screenshots

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD) --buildtype=debugoptimized
	@ninja -C $(BUILD)

run: build
	@echo "berth: starting a one-machine cluster; API at http://$(HTTP)  (Ctrl-C stops it)"
	@$(BUILD)/berth dev --data-dir $(DATA) --http $(HTTP)

check:
	@scripts/install-deps.sh --test
	@scripts/check.sh

# The console's screenshots in docs/screenshots (shown in README.md), from the browser tests.
screenshots: build
	@scripts/install-deps.sh --test
	@BERTH_BIN=$(CURDIR)/$(BUILD)/berth BERTH_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		/usr/bin/python3 -m pytest tests/integration/test_ui.py -q -p no:cacheprovider -k "browser or 1000_apps or login"

clean:
	rm -rf $(BUILD) build-check build-asan
