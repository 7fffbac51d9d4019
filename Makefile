# Everything a new machine needs: `make run` serves the embedded default, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
S3_PORT ?= 8333

.PHONY: run test lint install install-dev migrate worker s3 bench gallery clean superuser audit fuzz load drills review image image-smoke scan

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core for the accessibility test (pinned in package-lock.json; node_modules/ is not committed).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The embedded default: SQLite, local media, in-memory channels, in-process worker.
run: install
	DEBUG=$${DEBUG:-true} BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py migrate --noinput
	@echo "Serving on http://$(HOST):$(PORT)/"
	DEBUG=$${DEBUG:-true} BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} exec $(BIN)/python -m sketchsite.serve -v 0 -b $(HOST) -p $(PORT) sketchsite.asgi:application

# A worker of the production stack (needs REDIS_URL): RQ with its scheduler plus the reconciler.
worker: install
	$(BIN)/python manage.py sketchworker

superuser: install
	$(BIN)/python manage.py createsuperuser

# A local S3-compatible server (SeaweedFS) with the keys from .env.example; see README.
s3: install-dev
	$(BIN)/python -m scripts.seaweed --port $(S3_PORT) --dir var/seaweed

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-dev
	$(BIN)/python bench/engine_bench.py --output docs/BENCHMARKS.md

gallery: install-dev
	$(BIN)/python bench/gallery.py --out var/gallery

# Blind review of the looks (bench/review.py): shuffled, numbered sheets under var/review/sheets/
# for a reviewer, the key in var/review/key.json; score with `bench/review.py score ANSWERS`.
REVIEW_ARGS ?=
review: install-dev
	$(BIN)/python bench/review.py make $(REVIEW_ARGS)

# Known vulnerabilities in the pinned packages: fails on ones with a fix, warns on the rest.
audit: install-dev
	tests/security/audit.sh

# Fuzzing (fuzz/README.md): the API against its OpenAPI schema, then the image decoder. About 8 min.
FUZZ_API_ARGS ?=
FUZZ_DECODE_ARGS ?=
fuzz: install-dev
	@status=0; \
	$(BIN)/python -m fuzz.api_fuzz $(FUZZ_API_ARGS) || status=1; \
	$(BIN)/python -m fuzz.decode_fuzz $(FUZZ_DECODE_ARGS) || status=1; \
	exit $$status

# Locust against the production stack on this machine; figures go to docs/BENCHMARKS.md ("## Load").
load: install-dev
	$(BIN)/python load/run_load.py --output docs/BENCHMARKS.md

# Every fault drill, short and long (the short ones also run in `make test`); their outcomes
# replace the "## Drills" section of docs/BENCHMARKS.md (tests/drills/conftest.py).
drills: install-dev
	DRILLS_REPORT=docs/BENCHMARKS.md $(BIN)/python -m pytest -m "slow or not slow" tests/drills -s

# wapiti (its own venv: its pins clash with the app's) against the embedded server, anonymous and
# logged in, a few minutes; fails on any 5xx or traceback in the server's log (scripts/scan.py).
SCAN_VENV := .venv-scan
SCAN_ARGS ?=
$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet -r requirements-scan.txt
	touch $@

scan: install-dev $(SCAN_VENV)/.installed
	$(BIN)/python -m scripts.scan --wapiti $(SCAN_VENV)/bin/wapiti $(SCAN_ARGS)

clean:
	rm -rf var/test var/gallery

# The container image, built with podman (or docker where its daemon answers) on the official base,
# or on a local Debian one where no registry answers; image-smoke runs one sketch through it (docs/DEPLOY.md).
image: install
	$(BIN)/python -m scripts.image build

image-smoke: install-dev
	$(BIN)/python -m scripts.image smoke
