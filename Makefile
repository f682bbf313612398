# Gatekeeper: `make run` starts the service, `make test` runs every test and builds the
# documentation site (docs/ -> site/, strict: a broken link fails). Both install first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# Pango (and a font) for WeasyPrint's PDFs: reports, certificates, DPIA/RoPA, subject access.
APT_PACKAGES := libopenblas-dev liblapack-dev cmake g++ libimage-exiftool-perl libpango-1.0-0 \
  libpangoft2-1.0-0 fonts-dejavu-core
TEST_APT_PACKAGES := chromium mat2
export OPENBLAS_NUM_THREADS ?= 1
# pytest-xdist processes; each PostgreSQL test worker gets its own database (test_gw1, ...)
PYTEST_WORKERS ?= 2

.PHONY: run test install system-deps test-system-deps uv bench lint clean-instance

uv:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || { \
	  echo "Installing uv (the Python project manager) with pip..."; \
	  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv \
	  || { echo "Could not install uv: see https://docs.astral.sh/uv/ and re-run make."; exit 1; }; }

# dlib is built from source against OpenBLAS (about 9 minutes once; uv caches the wheel).
system-deps:
	@./scripts/ensure-debian-packages $(APT_PACKAGES)

test-system-deps:
	@./scripts/ensure-debian-packages $(TEST_APT_PACKAGES)

install: uv system-deps
	@$(UV) sync --frozen --python 3.11 --compile-bytecode
	@$(UV) run python -m compileall -q -j 0 gatekeeper consent_db workers web >/dev/null

run: install
	@$(UV) run gatekeeper init
	@$(UV) run gatekeeper serve

test: install test-system-deps
	@$(UV) run ruff check .
	@$(UV) run mypy
	@$(UV) run lint-imports
	@NO_MKDOCS_2_WARNING=1 $(UV) run mkdocs build --strict
	@$(UV) run pytest -q -rs -n $(PYTEST_WORKERS) --dist worksteal --durations=15

bench: install test-system-deps
	@$(UV) run python -m bench.run

lint: install
	@$(UV) run ruff check .
	@$(UV) run mypy
	@$(UV) run lint-imports
