# podlens: `make all` builds everything; `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup corpus speakers topics notebooks site all test lab bench clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install podlens (fast when nothing changed)

corpus: setup ## build the canonical corpus tables in data/processed/
	$(PY) -m analysis corpus

speakers: corpus ## talk-time metrics and the speaker/timing evaluation they quote
	$(PY) -m analysis speakers

topics: speakers ## fit (or reload) the topic model, write topic tables and its evaluation
	$(PY) -m analysis topics
	$(PY) -m analysis evaluate-topics || echo "warning: a topic-model acceptance check failed (see above)"

notebooks: topics ## execute notebooks/ into site/notebooks/ (re-runs only what changed)
	$(PY) -m analysis notebooks

site: notebooks ## render the Quarto site into site/_site/ (needs Quarto on PATH)
	@if command -v quarto >/dev/null 2>&1; then quarto render site; \
	else echo "Quarto is not installed: the executed notebooks are ready in site/notebooks/."; \
	     echo "Install it (quarto.org, conda-forge 'quarto', or 'pip install quarto-cli') and run 'make site'."; fi

all: site ## everything: corpus, speakers, topics, notebooks, site

test: setup ## run the test suite
	$(PY) -m pytest -q

lab: setup ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

bench: setup ## print throughput, stage timings, embedding speed and peak memory (topics stage included)
	$(PY) benchmarks/bench.py --with-topics --with-embedding

clean: ## remove every generated file (keeps .venv and data/raw)
	rm -rf data/processed data/interim data/cache site/_site site/.quarto .bench .pytest_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
