"""Project configuration in one place: paths, model names and tunable thresholds.

Every setting can be overridden with an environment variable ``PODLENS_<NAME>`` so a user
with other models (or a GPU) changes nothing in code.
"""
from __future__ import annotations

import os
from pathlib import Path

# The checkout podlens runs from: its own example project (the seed corpus) and the notebooks.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILE = "podlens.yaml"  # marks a project made by `podlens new` (analysis/project.py)


def _project_root() -> Path | None:
    """The nearest folder at or above the working directory holding a PROJECT_FILE, else None."""
    try:
        start = Path.cwd().resolve()
    except OSError:  # the working directory was removed
        return None
    return next((d for d in (start, *start.parents) if (d / PROJECT_FILE).is_file()), None)


# A project: PODLENS_ROOT, else the `podlens new` project around the working directory, else this
# checkout. A project found from the working directory is put into PODLENS_ROOT so that the
# processes podlens starts (notebook kernels run in the notebooks' folder, workers) use it too.
ROOT = Path(os.environ.get("PODLENS_ROOT") or _project_root() or PACKAGE_ROOT)
if ROOT != PACKAGE_ROOT and "PODLENS_ROOT" not in os.environ:
    os.environ["PODLENS_ROOT"] = str(ROOT)
DATA = ROOT / "data"


def measured_artifact(name: str) -> Path:
    """A file of data/ that the methods measured and committed (a threshold, a fitted model): the
    project's own copy when it has one (made by retraining on it), else the podlens checkout's."""
    own = DATA / name
    return own if own.exists() or ROOT == PACKAGE_ROOT else PACKAGE_ROOT / "data" / name


def writable_artifact(path: Path) -> Path:
    """Where a command that measures ``path`` again writes it: this project's data/, never the
    checkout's copy that :func:`measured_artifact` falls back to."""
    return DATA / path.name if ROOT != PACKAGE_ROOT and path.parent == PACKAGE_ROOT / "data" else path


CATALOG = Path(os.environ.get("PODLENS_CATALOG", DATA / "episodes.yaml"))
RAW = DATA / "raw"
INTERIM = Path(os.environ.get("PODLENS_INTERIM", DATA / "interim"))  # per-episode caches
PROCESSED = Path(os.environ.get("PODLENS_PROCESSED", DATA / "processed"))  # canonical tables (Parquet)
CACHE = Path(os.environ.get("PODLENS_CACHE", DATA / "cache"))  # embeddings and fitted models, keyed by content
GLOSSARY = Path(os.environ.get("PODLENS_GLOSSARY", DATA / "glossary.yaml"))  # ASR fixes
# Reference speaker turns made by reading transcripts (<episode id>.speakers.tsv): ground truth
ANNOTATIONS = Path(os.environ.get("PODLENS_ANNOTATIONS", DATA / "annotations"))
# The site's Quarto project (generated), and the notebooks executed into it: the project's own
# notebooks/ when it has one, else those of the podlens checkout (a `podlens new` project has none).
SITE = Path(os.environ.get("PODLENS_SITE", ROOT / "site"))
NOTEBOOKS = Path(os.environ.get("PODLENS_NOTEBOOKS",
                                ROOT / "notebooks" if (ROOT / "notebooks").is_dir() else PACKAGE_ROOT / "notebooks"))
# Labelled transcripts of other shows (``<show>/<episode>.md``, ``**Full Name:**`` turns; Changelog
# Media's, CC BY-SA 4.0), read in place and never committed: `python -m analysis train-speakers`
# trains and measures the speaker model on them, `evaluate-pairs` reads the labelled pairs' passages.
LABELLED_CORPUS = Path(os.environ.get("PODLENS_LABELLED_CORPUS", PACKAGE_ROOT.parent / "shared" / "corpora" / "changelog"))
# The speaker-attribution model that command writes (committed: builds read it, never the corpus).
SPEAKER_MODEL = Path(os.environ.get("PODLENS_SPEAKER_MODEL", measured_artifact("speakers.model.json")))

# Models: names of installed packages or local paths. Nothing is downloaded at run time.
EMBEDDING_MODEL = os.environ.get("PODLENS_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
DEVICE = os.environ.get("PODLENS_DEVICE", "cpu")
# Texts encoded per batch. Batches hold texts of equal token length (no padding), so a
# vector does not depend on which texts share its batch (see analysis/embeddings.py).
EMBEDDING_BATCH_SIZE = int(os.environ.get("PODLENS_EMBEDDING_BATCH_SIZE", "64"))

# Topic models of corpora with more passages than this are fitted on a deterministic sample of
# this many, the other passages assigned by the fitted model (0: always fit on every passage).
TOPIC_FIT_SAMPLE = int(os.environ.get("PODLENS_TOPIC_FIT_SAMPLE", "5000"))
# A stored topic model is refitted when more than this share of the corpus's passages (relative
# to those it was fitted on) are new to it; until then new episodes are assigned to its topics.
TOPIC_REFIT_GROWTH = float(os.environ.get("PODLENS_TOPIC_REFIT_GROWTH", "0.5"))

# Parallelism: local worker processes for per-episode work, or a dask.distributed scheduler
# address (tcp://host:8786) whose workers run it instead (see analysis/parallel.py).
WORKERS = int(os.environ.get("PODLENS_WORKERS", str(os.cpu_count() or 1)))
CLUSTER = os.environ.get("PODLENS_CLUSTER") or None

# Ingestion limits.
MAX_FILE_BYTES = int(os.environ.get("PODLENS_MAX_FILE_BYTES", str(200 * 1024 * 1024)))

# `podlens add` (analysis/add): feeds, transcripts and chapters fetched over HTTP(S).
HTTP_TIMEOUT_S = float(os.environ.get("PODLENS_HTTP_TIMEOUT_S", "30"))  # connect and read timeout, per try
HTTP_RETRIES = int(os.environ.get("PODLENS_HTTP_RETRIES", "2"))  # more tries after a timeout, connection error, 429 or 5xx
HTTP_BACKOFF_S = float(os.environ.get("PODLENS_HTTP_BACKOFF_S", "1"))  # wait before the second try; doubles each time

# Global random seed: every stochastic step (UMAP, HDBSCAN ties, model init) uses it.
SEED = int(os.environ.get("PODLENS_SEED", "42"))


def data_relative(path: Path) -> str:
    """``path`` as recorded in tables: relative to DATA when under it, else as given."""
    try:
        return str(Path(path).relative_to(DATA))
    except ValueError:
        return str(path)


def _optional_path(value: str) -> Path | None:
    return None if value.strip().lower() in ("", "none") else Path(value)


def _optional_float(value: str) -> float | None:
    """A float setting that "none" (or "") turns off."""
    return None if value.strip().lower() in ("", "none") else float(value)


# Themes, entities and search (analysis/themes, analysis/entities, analysis/search.py).
THEMES = Path(os.environ.get("PODLENS_THEMES", DATA / "themes.yaml"))  # the theme lexicon
ENTITY_ALIASES = Path(os.environ.get("PODLENS_ENTITY_ALIASES", DATA / "entities.yaml"))  # canonical names and variants
SPACY_MODEL = os.environ.get("PODLENS_SPACY_MODEL", "en_core_web_sm")  # installed package or local path
# Theme tagging: the logistic theme model (analysis.themes.tagging.ThemeModel) stored in THEME_MODEL,
# fitted on data/annotations/themes.sample.tsv by `python -m analysis evaluate-themes --calibrate`
# (threshold chosen by inner leave-one-episode-out cross-validation; README "Themes, entities and
# search"). PODLENS_THEME_MODEL=none falls back to the simple rule below.
THEME_MODEL = _optional_path(os.environ.get("PODLENS_THEME_MODEL", str(DATA / "themes.model.json")))
THEME_MODEL_C = float(os.environ.get("PODLENS_THEME_MODEL_C", "0.3"))  # the model's inverse L2 strength
# Simple rule (analysis.themes.tagging.TagRule), used without a model: a passage carries a theme when (highest cosine
# similarity to the theme's description/seeds) + THEME_KEYWORD_BONUS x (distinct keywords found,
# at most 2) >= THEME_THRESHOLD. Two optional conditions ("none" = off, the default; cross-
# validation did not favour them): a keyword is required unless similarity >= THEME_SOLO_SIMILARITY;
# similarity must be within THEME_MARGIN of the passage's best theme. Chosen by leave-one-episode-out cross-validation on
# data/annotations/themes.sample.tsv and reproduced by `python -m analysis evaluate-themes
# --calibrate` (README "Themes, entities and search").
THEME_THRESHOLD = float(os.environ.get("PODLENS_THEME_THRESHOLD", "0.61"))
THEME_KEYWORD_BONUS = float(os.environ.get("PODLENS_THEME_KEYWORD_BONUS", "0.25"))
THEME_SOLO_SIMILARITY = _optional_float(os.environ.get("PODLENS_THEME_SOLO_SIMILARITY", "none"))
THEME_MARGIN = _optional_float(os.environ.get("PODLENS_THEME_MARGIN", "none"))
# Search (analysis.search): semantic score = SEARCH_PASSAGE_WEIGHT x cosine(query, passage) + the
# rest x cosine(query, passage's context window); fused with the keyword rank at SEARCH_KEYWORD_WEIGHT.
# Chosen on data/annotations/search.queries.yaml; `python -m analysis evaluate-search` prints the
# grid and the leave-one-query-out recall.
SEARCH_PASSAGE_WEIGHT = float(os.environ.get("PODLENS_SEARCH_PASSAGE_WEIGHT", "0.25"))
SEARCH_KEYWORD_WEIGHT = float(os.environ.get("PODLENS_SEARCH_KEYWORD_WEIGHT", "0.5"))
# Passage pairs (analysis.compare): a recurring person's two passages from different episodes are
# "the same point said twice" when the cosine of their embeddings is at least the threshold stored
# in this file with how it was measured (pairs read and labelled by hand,
# data/annotations/passage_pairs.tsv, most from the labelled corpus (LABELLED_CORPUS); leave-one-show-out);
# otherwise the site says no repeated claim was found. `python -m analysis evaluate-pairs [--write]`
# reproduces (and rewrites) it (docs/themes.md).
PAIR_THRESHOLD = Path(os.environ.get("PODLENS_PAIR_THRESHOLD", measured_artifact("pairs.threshold.json")))
THEME_BIN_MIN = float(os.environ.get("PODLENS_THEME_BIN_MIN", "2"))  # timeline bin width, minutes
THEME_SMOOTH_BINS = int(os.environ.get("PODLENS_THEME_SMOOTH_BINS", "3"))  # centred moving average, bins

# OpenAI enrichment (analysis.llm): off unless enabled (`--llm` or PODLENS_LLM=1) *and* an API
# key (OPENAI_API_KEY) or a base URL (PODLENS_LLM_BASE_URL / OPENAI_BASE_URL: any
# OpenAI-compatible server) is set. The key is read by the client when it is built, never here.
LLM_ENABLED = os.environ.get("PODLENS_LLM", "0").strip().lower() in ("1", "true", "yes", "on")
LLM_MODEL = os.environ.get("PODLENS_LLM_MODEL", "gpt-4o-mini")
LLM_TEMPERATURE = float(os.environ.get("PODLENS_LLM_TEMPERATURE", "0"))
LLM_BASE_URL = os.environ.get("PODLENS_LLM_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or None
LLM_MAX_REQUESTS = int(os.environ.get("PODLENS_LLM_MAX_REQUESTS", "1000"))  # per run, retries included
LLM_MAX_TOKENS = int(os.environ.get("PODLENS_LLM_MAX_TOKENS", "2000000"))  # per run, prompt + completion
# Prices for estimates only (USD per million tokens; defaults: gpt-4o-mini list prices).
LLM_USD_PER_MTOK_IN = float(os.environ.get("PODLENS_LLM_USD_PER_MTOK_IN", "0.15"))
LLM_USD_PER_MTOK_OUT = float(os.environ.get("PODLENS_LLM_USD_PER_MTOK_OUT", "0.60"))
LLM_MAX_RETRIES = int(os.environ.get("PODLENS_LLM_MAX_RETRIES", "4"))  # on 429, 5xx and connection errors
LLM_BACKOFF_S = float(os.environ.get("PODLENS_LLM_BACKOFF_S", "2"))  # first retry wait; doubles each time
LLM_TIMEOUT_S = float(os.environ.get("PODLENS_LLM_TIMEOUT_S", "180"))
LLM_CONTEXT_TOKENS = int(os.environ.get("PODLENS_LLM_CONTEXT_TOKENS", "120000"))  # longer prompts are skipped
LLM_CACHE = Path(os.environ.get("PODLENS_LLM_CACHE", CACHE / "llm"))  # responses, written by every run
# Responses a maintainer commits (`enrich --publish`) so readers get the enrichments without a key.
LLM_ENRICHMENTS = Path(os.environ.get("PODLENS_LLM_ENRICHMENTS", DATA / "enrichments" / "llm"))
LLM_SPEAKER_WINDOW = int(os.environ.get("PODLENS_LLM_SPEAKER_WINDOW", "30"))  # sentences per request
LLM_SPEAKER_OVERLAP = int(os.environ.get("PODLENS_LLM_SPEAKER_OVERLAP", "10"))  # shared by neighbours
