# The two Quickstart commands: `make serve` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements-dev.txt $(wildcard shared/requirements/*.txt)

.PHONY: serve test lint bench clean-data zips provider-schema clean-infra

$(STAMP): $(REQS) infra/install-venv.sh
	PYTHON=$(PYTHON) bash infra/install-venv.sh $(VENV)
	touch $(STAMP)

serve: $(STAMP)
	bash infra/install-media-tools.sh
	bash infra/install-axe.sh
	$(PY) -m infra.localrun

lint: $(STAMP)  # ruff, the import contracts, and mypy --strict on the library ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/ruff check shared functions infra tests bench
	PYTHONPATH=shared $(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

test: lint
	bash infra/install-browser.sh
	bash infra/install-broker.sh
	bash infra/install-media-tools.sh
	bash infra/install-axe.sh
	$(PY) -m pytest

bench: $(STAMP)
	bash infra/install-media-tools.sh
	bash infra/install-broker.sh
	$(PY) -m bench

clean-data:
	rm -rf .data

zips: $(STAMP)  # one deployable zip per function in dist/functions/ (Cloud Build runs this)
	$(PY) -m infra.packaging.build_zips

provider-schema: $(STAMP)  # regenerate infra/provider_schema/google.json from cdktn-provider-google
	$(PY) -m infra.provider_schema.generate

clean-infra:
	rm -rf .venv-checkov .venv-packaging .venv-tools dist
