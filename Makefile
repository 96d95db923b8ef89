# Two commands for a fresh machine: `make run` (install, build the knowledge base, show a search)
# and `make test` (install, run the tests). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU-only torch first (a local wheel on these machines); a bare `torch` would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	@# fetch what is not on this machine (needs internet; offline, the local corpus is used as is)
	-$(BIN)/regkb fetch
	$(BIN)/regkb build
	$(BIN)/regkb docs
	$(BIN)/regkb search "low processing performance license exception" --limit 3

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/bench_build.py

clean:
	rm -rf outputs/regkb.db outputs/cache
