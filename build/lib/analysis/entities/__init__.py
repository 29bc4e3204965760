"""Entities (organisations, products, people) mentioned in the conversation.

``aliases`` reads data/entities.yaml and the catalog into EntityRuler patterns and normalises
spans; ``extract`` runs spaCy (NER + the ruler) once per episode, cached in data/interim;
``tables`` aggregates the mentions (per episode, per speaker, timeline, co-mentions);
``pipeline`` runs the stage and the hand check of the top entities. Submodules load on first use."""
from importlib import import_module

_ENTRY = {"main_entities": "pipeline", "run": "pipeline", "load_aliases": "aliases", "normalise": "aliases"}
__all__ = ["load_aliases", "main_entities", "normalise", "run"]


def __getattr__(name: str):
    if name in _ENTRY:
        return getattr(import_module(f".{_ENTRY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
