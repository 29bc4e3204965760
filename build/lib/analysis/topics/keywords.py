"""A BERTopic representation that picks topic keywords which co-occur in the passages."""
from __future__ import annotations

from bertopic.representation import BaseRepresentation

from .coherence import npmi_matrix
from .model import TOP_N_WORDS


class CoherentKeywords(BaseRepresentation):
    """Keywords that co-occur: from a topic's 30 best c-TF-IDF terms keep the best, then
    repeatedly add the candidate with the highest mean NPMI (document co-occurrence over all
    passages) with those kept, among candidates sharing no word with a kept one ("fine" after
    "fine tuning" would co-occur trivially) while there are such; ties go to the better
    c-TF-IDF rank. Scores stay c-TF-IDF."""

    def __init__(self, n_words: int = TOP_N_WORDS):
        self.n_words = n_words

    def extract_topics(self, topic_model, documents, c_tf_idf, topics):
        vec = topic_model.vectorizer_model
        occurs = vec.transform(documents["Document"]) > 0
        out = {}
        for topic, candidates in topics.items():
            cands = [(w, s) for w, s in candidates if w]
            if not cands:
                out[topic] = candidates[: self.n_words]
                continue
            m = npmi_matrix(occurs[:, [vec.vocabulary_[w] for w, _ in cands]].toarray())
            words = [set(w.split()) for w, _ in cands]
            kept = [0]
            while len(kept) < min(self.n_words, len(cands)):
                rest = [i for i in range(len(cands)) if i not in kept]
                fresh = [i for i in rest if not any(words[i] & words[k] for k in kept)]
                kept.append(max(fresh or rest, key=lambda i: (m[i, kept].mean(), -i)))
            out[topic] = [cands[i] for i in kept] + [("", 0.0)] * (self.n_words - len(kept))
        return out
