"""Topic model of the corpus: passages, BERTopic fit, tables and evaluation.

Submodules load on first use, so importing the table schemas stays light (no BERTopic)."""
from importlib import import_module

_ENTRY = {"main_topics": "pipeline", "profile": "pipeline", "run": "pipeline",
          "main_evaluate_topics": "evaluate"}
__all__ = ["main_evaluate_topics", "main_topics", "profile", "run"]


def __getattr__(name: str):
    if name in _ENTRY:
        return getattr(import_module(f".{_ENTRY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
