# podlens: `make all` builds everything; `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup corpus speakers topics themes entities enrich notebooks pages site all test lab bench clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install podlens (fast when nothing changed)

# Each stage is a stamp file (analysis/stamps.py) made from the files it may read: with nothing
# newer, `make all` starts no Python process. When make sees a newer file the stage runs, and
# its content fingerprint decides whether anything is recomputed (a touched file costs a stat).
DATA := $(or $(PODLENS_ROOT),.)/data
PROCESSED := $(or $(PODLENS_PROCESSED),$(DATA)/processed)
STAMPS := $(PROCESSED)/.stamps
CODE := $(shell find analysis -name '*.py' -not -path '*/__pycache__/*')
INPUTS := $(shell find $(DATA) \( -path $(DATA)/processed -o -path $(DATA)/interim -o -path $(DATA)/cache \) -prune \
                   -o -type f -not -name '.*' -print 2>/dev/null) $(PODLENS_CATALOG) \
          $(if $(PODLENS_ANNOTATIONS),$(shell find $(PODLENS_ANNOTATIONS) -type f 2>/dev/null))
NOTEBOOK_FILES := $(wildcard notebooks/*.ipynb)

corpus: $(STAMPS)/corpus.json ## build the canonical corpus tables in data/processed/
$(STAMPS)/corpus.json: $(STAMP) $(CODE) $(INPUTS)
	$(PY) -m analysis corpus

speakers: $(STAMPS)/speakers.json ## talk-time metrics and the speaker/timing evaluation they quote
$(STAMPS)/speakers.json: $(STAMPS)/corpus.json
	$(PY) -m analysis speakers

topics: $(STAMPS)/evaluate-topics.json ## assign passages to topics (fit only when none fits, or REFIT=1); evaluate a new model
$(STAMPS)/topics.json: $(STAMPS)/speakers.json
	$(PY) -m analysis topics $(if $(REFIT),--refit)
ifdef REFIT
.PHONY: $(STAMPS)/topics.json
endif

$(STAMPS)/evaluate-topics.json: $(STAMPS)/topics.json
	$(PY) -m analysis evaluate-topics || echo "warning: a topic-model acceptance check failed (see above)"

themes: $(STAMPS)/themes.json ## tag passages with data/themes.yaml; theme timelines (skipped when unchanged)
$(STAMPS)/themes.json: $(STAMPS)/evaluate-topics.json
	$(PY) -m analysis themes

entities: $(STAMPS)/entities.json ## entity mentions and tables (spaCy NER + data/entities.yaml; cached per episode)
$(STAMPS)/entities.json: $(STAMPS)/evaluate-topics.json
	$(PY) -m analysis entities

enrich: $(STAMPS)/enrich.json ## optional LLM labels/summaries/chapters (PODLENS_LLM=1 + a key or base URL; else one line)
$(STAMPS)/enrich.json: $(STAMPS)/evaluate-topics.json
	$(PY) -m analysis enrich || echo "warning: some LLM enrichments are missing (see above)"

notebooks: $(STAMPS)/notebooks.json ## execute notebooks/ into site/notebooks/ (re-runs only what changed)
$(STAMPS)/notebooks.json: $(STAMPS)/themes.json $(STAMPS)/entities.json $(STAMPS)/enrich.json $(NOTEBOOK_FILES)
	$(PY) -m analysis notebooks

pages: $(STAMPS)/site.json ## write the site's pages from the tables and docs/ into site/, and previews into site/_preview/
$(STAMPS)/site.json: $(STAMPS)/notebooks.json $(wildcard docs/*.md docs/img/*)
	$(PY) -m analysis site

site: pages ## render the Quarto site into site/_site/ (needs Quarto on PATH)
	@if command -v quarto >/dev/null 2>&1; then quarto render site; \
	else echo "Quarto is not installed: skipped 'quarto render site' (site/_site/ not built)."; \
	     echo "Every input it needs is in site/; previews of every page are in site/_preview/"; \
	     echo "(view: python3 -m http.server -d site/_preview 8000, then open http://localhost:8000)."; \
	     echo "Install Quarto (quarto.org, conda-forge 'quarto', or 'pip install quarto-cli') and run 'make site'."; fi

all: site ## everything: corpus, speakers, topics, themes, entities, enrich, notebooks, pages and previews, site

test: setup ## run the test suite
	$(PY) -m pytest -q

lab: setup ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

bench: setup ## print throughput, stage timings, embedding speed and peak memory (topics stage included)
	$(PY) benchmarks/bench.py --with-topics --with-embedding

clean: ## remove every generated file (keeps .venv and data/raw)
	rm -rf data/processed data/interim data/cache site/_site site/.quarto site/_preview .bench .pytest_cache
	rm -rf site/*.qmd site/_quarto.yml site/episodes site/transcripts site/methods site/assets site/data site/notebooks
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
