"""Themes an analyst asks about, traced through every episode.

``lexicon`` loads the curated themes (data/themes.yaml); ``tagging`` collects the evidence of
every topic passage for every theme (embedding similarity of the passage and of its context
window, keywords) and tags it by the theme model fitted on the labelled sample
(data/themes.model.json); ``timelines`` turns tags into shares per episode, per speaker and along each
episode's minutes; ``pipeline`` runs the stage incrementally and writes the tables;
``evaluate`` measures the tagger against the hand-labelled sample in data/annotations by
leave-one-episode-out cross-validation and fits the model (``--calibrate``).
Submodules load on first use."""
from importlib import import_module

_ENTRY = {"main_themes": "pipeline", "main_evaluate_themes": "pipeline", "run": "pipeline",
          "load_lexicon": "lexicon", "passage_keys": "tagging"}
__all__ = ["load_lexicon", "main_evaluate_themes", "main_themes", "passage_keys", "run"]


def __getattr__(name: str):
    if name in _ENTRY:
        return getattr(import_module(f".{_ENTRY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
