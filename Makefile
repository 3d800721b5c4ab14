# The two commands of the README: `make run` and `make test`. Each sets itself up from a clean clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck knowledge-docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job: the web app and API on http://127.0.0.1:8000 (embedded SQLite, demo cases,
## the reference profile, the demo registry users of the README, CDS Hooks without a JWT — said at
## start: a demo, never a real site).
run: $(STAMP)
	$(BIN)/cmvcds serve --demo --demo-registry --insecure-no-jwt

## Everything CI checks: lint, types, the whole test suite (SQLite and PostgreSQL, real browser).
test: $(STAMP)
	bash tools/ensure_chromium.sh
	@command -v caddy >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null 2>&1 \
		|| echo "Debian's caddy could not be installed: tests/deploy/test_caddy_proxy.py will skip"
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Regenerate docs/knowledge/*.md from the knowledge pack.
knowledge-docs: $(STAMP)
	$(BIN)/python tools/render_knowledge.py

bench: $(STAMP)
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| echo "Debian's wrk could not be installed: bench_cds.py uses its Python client"
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
