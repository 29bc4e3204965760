"""Themes an analyst asks about, traced through every episode.

``lexicon`` loads the curated themes (data/themes.yaml); ``tagging`` scores every topic passage
against every theme (embedding similarity + keywords) and tags those over the calibrated
threshold; ``timelines`` turns tags into shares per episode, per speaker and along each
episode's minutes; ``pipeline`` runs the stage incrementally and writes the tables;
``evaluate`` measures the tags against the hand-labelled sample in data/annotations.
Submodules load on first use."""
from importlib import import_module

_ENTRY = {"main_themes": "pipeline", "main_evaluate_themes": "pipeline", "run": "pipeline",
          "load_lexicon": "lexicon", "passage_keys": "tagging"}
__all__ = ["load_lexicon", "main_evaluate_themes", "main_themes", "passage_keys", "run"]


def __getattr__(name: str):
    if name in _ENTRY:
        return getattr(import_module(f".{_ENTRY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
