"""Optional language-model enrichment (OpenAI or any OpenAI-compatible server): model-made topic
labels, grounded summaries and chapters, and speaker turns, all marked with the model's name.

How the parts fit: ``settings`` gathers the options from :mod:`analysis.config` and decides
whether a run may send (off without ``--llm`` and a key or base URL); ``prompts`` defines
versioned prompts and requests (JSON-schema responses, cache keys, validation); ``client``
sends one request over the ``openai`` client (budget, retries, usage); ``cache`` keeps answers
on disk (data/cache/llm/, and data/enrichments/llm/ for committed ones); ``runner`` answers
requests from the cache or the client and accounts for the run. The features build requests
and tables: ``labels`` (topics), ``summaries`` (episodes and chapters, with citations) and
``turns`` (speaker turns, evaluated like the offline model); ``tables`` holds their schemas and
:func:`load_enrichments`; ``pipeline`` is the ``enrich`` command."""
from .tables import load_enrichments

__all__ = ["load_enrichments"]
