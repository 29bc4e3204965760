"""Topic model of the corpus: passages, BERTopic fit, tables, figures' inputs and evaluation."""
from .evaluate import main_evaluate_topics
from .pipeline import main_topics, profile, run

__all__ = ["main_topics", "main_evaluate_topics", "profile", "run"]
