# Two commands for a fresh machine: `make run` (install, build the knowledge base, show a search, write
# the report, say how to browse it) and `make test` (install, run the tests). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint install browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU-only torch first (a local wheel on these machines); a bare `torch` would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The browser test drives Debian's Chromium through its chromedriver (a test tool cannot download a browser
# here): installed with apt-get when missing, as root or through sudo; without either, stop and say so.
BROWSER_PACKAGES := chromium chromium-driver
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	echo "installing the Debian packages $(BROWSER_PACKAGES) for the browser test"; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo="sudo -n"; \
	else echo "make: cannot install $(BROWSER_PACKAGES): not root and no sudo; install them, then run again" >&2; exit 1; fi; \
	apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -y"; \
	{ $$apt update && $$apt install --no-install-recommends $(BROWSER_PACKAGES); } \
	  || { echo "make: apt-get could not install $(BROWSER_PACKAGES); install them, then run again" >&2; exit 1; }; \
	[ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ] \
	  || { echo "make: installed $(BROWSER_PACKAGES), yet $(CHROMIUM) or $(CHROMEDRIVER) is missing" >&2; exit 1; }

run: install
	@# fetch what is not on this machine (needs internet; offline, the local corpus is used as is)
	-$(BIN)/regkb fetch
	$(BIN)/regkb build
	$(BIN)/regkb docs
	$(BIN)/regkb search "low processing performance license exception" --limit 3
	$(BIN)/regkb report
	@echo
	@echo "Browse the knowledge base: $(BIN)/regkb serve, then open http://127.0.0.1:8001/regkb (Ctrl-C stops it)"
	@echo "Read the report:           $(CURDIR)/outputs/report/report.html (Markdown: outputs/report/report.md)"

test: install browser lint
	$(BIN)/pytest

# The inner loop: every test but those marked slow (real-rule builds, crash tests, Dask, builds in fresh
# processes, the browser, timing ratios), about 2.5 minutes here; `make test` (and CI) runs them all.
test-fast: install lint
	$(BIN)/pytest -m "not slow"

# ruff, configured in pyproject.toml (lint and format): part of `make test`, so CI keeps the code clean
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/bench_build.py

clean:
	rm -rf outputs/regkb.db outputs/cache
