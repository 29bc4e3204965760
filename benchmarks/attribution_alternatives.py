"""Compare sentence classifiers for speaker attribution under the shipped leave-one-episode-out
evaluation: each alternative replaces only P(host | sentence); the decoder (turn-length
hazards, boundary model, Viterbi) and the references are the same, so the word accuracies are
directly comparable with ``python -m analysis evaluate-speakers`` (the ``shipped`` row).

    .venv/bin/python benchmarks/attribution_alternatives.py              # about 2 minutes
    .venv/bin/python benchmarks/attribution_alternatives.py --finetune   # + about 17 minutes (2 cores)

Needs the built corpus (``make corpus``). Nothing is written under data/ except the shared
embedding cache. The alternatives are the ideas a next attempt at the 95% target would try
first; to test a new one, write ``scorer(model, train, sents, episode) -> P(host)`` and add it
to ``SCORERS``.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from analysis import config, embeddings
from analysis.catalog import load_catalog
from analysis.corpus import load_corpus
from analysis.speakers import attribution, evaluation, reference

# Style words kept by the function-word model; every other word becomes "X" (no topics).
STYLE_WORDS = set(ENGLISH_STOP_WORDS) | {
    "yeah", "yes", "yep", "okay", "oh", "um", "uh", "like", "just", "really", "actually", "basically", "kind",
    "sort", "think", "know", "mean", "guess", "feel", "right", "totally", "exactly", "absolutely", "cool",
    "awesome", "great", "interesting", "curious", "talk", "tell", "question", "hearing", "saying", "love",
    "thanks", "thank", "wow", "sure", "hostname", "guestname", "i'm", "i've", "you're", "we're", "it's", "that's"}
_TOKEN = re.compile(r"[a-z']+|\?")


def _style_only(texts) -> list[str]:
    """Each text as its style words and "?", every other word replaced by "X"."""
    return [" ".join(w if w in STYLE_WORDS or w == "?" else "X" for w in _TOKEN.findall(t.lower())) for t in texts]


def _roles(train):
    labelled = train[train["role"].isin(attribution.ROLES)]
    return labelled, (labelled["role"] == "host").to_numpy()


def _fit_predict(pipeline, train, sents) -> np.ndarray:
    labelled, y = _roles(train)
    return pipeline.fit(labelled["text"].tolist(), y).predict_proba(sents["text"].tolist())[:, 1]


def shipped(model, train, sents, episode) -> np.ndarray:
    """The model as shipped: logistic regression on hand-built role features and interviewer moves."""
    return model.p_host(sents["text"].tolist())


def function_words(model, train, sents, episode) -> np.ndarray:
    """Hand features plus 1-2-grams of style words (content words masked as X)."""
    words = make_pipeline(FunctionTransformer(_style_only), CountVectorizer(token_pattern=r"[^ ]+", ngram_range=(1, 2), min_df=3, binary=True))
    hand = make_pipeline(FunctionTransformer(attribution._hand_features), StandardScaler())
    clf = LogisticRegression(C=0.03, class_weight="balanced", max_iter=5000, random_state=config.SEED)
    return _fit_predict(make_pipeline(make_union(hand, words), clf), train, sents)


def _with_neighbours(sents) -> np.ndarray:
    """MiniLM vectors of each sentence, the one before and the one after (same episode)."""
    rows = []
    for _, ep in sents.groupby("episode_id", sort=False):
        e = embeddings.embed(ep["text"].tolist())
        pad = np.zeros((1, e.shape[1]), e.dtype)
        rows.append(np.hstack([e, np.vstack([pad, e[:-1]]), np.vstack([e[1:], pad])]))
    return np.vstack(rows)


def minilm_context(model, train, sents, episode) -> np.ndarray:
    """Shipped score plus a logistic regression on MiniLM embeddings of the sentence and its neighbours."""
    labelled, y = _roles(train)
    clf = LogisticRegression(C=0.01, class_weight="balanced", max_iter=3000, random_state=config.SEED)
    logit = clf.fit(_with_neighbours(labelled), y).decision_function(_with_neighbours(sents))
    return 1 / (1 + np.exp(-(logit + attribution._logit(model.p_host(sents["text"].tolist())))))


def self_training(model, train, sents, episode, folds: int = 5, sure: float = 0.8) -> np.ndarray:
    """Shipped score plus an in-episode style model: decode, fit function-word features on the
    held-out episode's own confident sentences (cross-fitted in contiguous folds), add its score."""
    p0 = model.p_host(sents["text"].tolist())
    switch = attribution.switch_probabilities(model, sents, len(episode.hosts))
    post = attribution.posteriors(attribution.emissions(p0, sents, 1.0), switch)[:, 0]
    x = CountVectorizer(token_pattern=r"[^ ]+", ngram_range=(1, 2), min_df=2,
                        binary=True).fit_transform(_style_only(sents["text"]))
    fold = np.arange(len(sents)) * folds // max(len(sents), 1)
    extra = np.zeros(len(sents))
    for k in range(folds):
        fit_on = (fold != k) & ((post > sure) | (post < 1 - sure))
        if len(set(post[fit_on] > 0.5)) == 2:
            clf = LogisticRegression(C=0.1, class_weight="balanced", max_iter=3000, random_state=config.SEED)
            extra[fold == k] = clf.fit(x[fit_on], post[fit_on] > 0.5).decision_function(x[fold == k])
    return 1 / (1 + np.exp(-(attribution._logit(p0) + extra)))


def finetuned_minilm(model, train, sents, episode, epochs: int = 1, lr: float = 3e-5) -> np.ndarray:
    """MiniLM fine-tuned end to end (CPU, seeded) on "sentence || previous || next" to predict the role."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = embeddings.resolve_model()
    torch.manual_seed(config.SEED)
    tok = AutoTokenizer.from_pretrained(path)
    encoder, head = AutoModel.from_pretrained(path), torch.nn.Linear(384, 1)
    params = list(encoder.parameters()) + list(head.parameters())

    def pairs(table):
        a, b = [], []
        for _, ep in table.groupby("episode_id", sort=False):
            t = ep["text"].tolist()
            a += t
            b += [(t[i - 1] if i else "") + " || " + (t[i + 1] if i + 1 < len(t) else "") for i in range(len(t))]
        return a, b

    def logits(a, b):
        enc = tok(a, b, truncation=True, max_length=128, padding=True, return_tensors="pt")
        return head(encoder(**enc).last_hidden_state[:, 0]).squeeze(-1)

    labelled, y = _roles(train)
    a, b = pairs(labelled)
    target = torch.tensor(y, dtype=torch.float32)
    weight = torch.where(target > 0, 0.5 / target.mean(), 0.5 / (1 - target.mean()))
    opt = torch.optim.AdamW(params, lr=lr)
    order = torch.Generator().manual_seed(config.SEED)
    encoder.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(a), generator=order).split(32):
            i = batch.tolist()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits([a[j] for j in i], [b[j] for j in i]), target[i], weight=weight[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
    encoder.eval()
    a, b = pairs(sents)
    with torch.no_grad():
        out = np.concatenate([logits(a[k:k + 64], b[k:k + 64]).numpy() for k in range(0, len(a), 64)])
    return 1 / (1 + np.exp(-out))


SCORERS = {"shipped": shipped, "function_words": function_words,
           "minilm_context": minilm_context, "self_training": self_training}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--finetune", action="store_true", help="also fine-tune MiniLM per held-out episode (slow)")
    args = parser.parse_args(argv)
    utterances = load_corpus()["utterances"]
    episodes = [ep for ep in load_catalog()[0] if ep.id in set(utterances["episode_id"])]
    refs, _ = reference.load_references(episodes)
    scorers = dict(SCORERS, **({"finetuned_minilm": finetuned_minilm} if args.finetune else {}))
    table = {name: evaluation.evaluate_attribution(utterances, episodes, refs, fn) for name, fn in scorers.items()}
    cases = [(r["episode_id"], r["turn_marks"]) for r in table["shipped"]]
    head = [f"{ep[:12]}/{'kept' if marks else 'none'}" for ep, marks in cases]
    print("Word accuracy, leave-one-episode-out (the decoder is the same; only P(host | sentence) differs):")
    print(f"  {'sentence model':<18}" + "".join(f"{h:>19}" for h in head) + f"{'mean':>8}")
    for name, rows in table.items():
        acc = [r["word_accuracy"] for r in rows]
        print(f"  {name:<18}" + "".join(f"{a:>19.1%}" for a in acc) + f"{np.mean(acc):>8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
