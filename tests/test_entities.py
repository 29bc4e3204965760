"""Entities: alias table loading, normalisation (ASR variants, numbers and times), spaCy
extraction with the EntityRuler, per-episode caching and co-mentions."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.entities.aliases import (
    AliasError,
    AliasTable,
    load_aliases,
    normalise,
    with_catalog,
)
from analysis.entities.extract import (
    cached_mentions,
    episodes_mentions,
    extract_episode,
    needed_components,
)
from analysis.entities.tables import comentions, passage_entities, per_episode, timeline


@pytest.fixture(scope="module")
def aliases():
    return load_aliases()


@pytest.mark.parametrize("text, expected", [
    ("Chatchy BTS", "ChatGPT"), ("chat GBT", "ChatGPT"), ("Chat GPT", "ChatGPT"), ("open AI", "OpenAI"),
    ("the OpenAI", "OpenAI"), ("OpenAI's", "OpenAI"), ("Claude bot", "OpenClaw"), ("molt bot", "OpenClaw"),
    ("open claw", "OpenClaw"), ("Kevin Whale", "Kevin Weil"), ("Acme Robotics", "Acme Robotics"),
])
def test_aliases_normalise_variants_and_asr_errors(aliases, text, expected):
    assert normalise(text, "ORG", aliases.lookup(), aliases.ignore)[0] == expected


@pytest.mark.parametrize("text", ["12:30", "1:02:03", "2024", "$10", "95%", "10,000", "3.5", "API", "AI", "—"])
def test_numbers_times_and_generic_words_are_never_entities(aliases, text):
    assert normalise(text, "ORG", aliases.lookup(), aliases.ignore) is None


def test_first_names_resolve_to_the_episodes_people_only_when_given():
    table = AliasTable([])
    assert normalise("Sam", "PERSON", {}, table.ignore, {"sam": "Sam Altman"}) == ("Sam Altman", "PERSON")
    assert normalise("Sam", "PERSON", {}, table.ignore) == ("Sam", "PERSON")


def test_a_malformed_alias_file_names_the_line(tmp_path):
    path = tmp_path / "entities.yaml"
    path.write_text("entities:\n  - {name: A, label: ORG}\n  - {name: B, label: THING}\n")
    with pytest.raises(AliasError, match=r"entities.yaml, line 3: label of 'B'"):
        load_aliases(path)
    path.write_text("entities:\n  - {name: A, label: ORG\n")
    with pytest.raises(AliasError, match=r"entities.yaml, line \d: not valid YAML"):
        load_aliases(path)


def _conv(episode: str, texts: list[str], speaker: str = "swyx") -> pd.DataFrame:
    return pd.DataFrame({"episode_id": episode, "order": range(len(texts)), "text": texts,
                         "speaker_id": speaker, "speaker": speaker, "start_s": [60.0 * i for i in range(len(texts))],
                         "time_source": "file"})


def _catalog(aliases):
    speakers = pd.DataFrame({"episode_id": ["e1", "e1"], "speaker_id": ["swyx", "ann-lee"], "name": ["swyx", "Ann Lee"],
                             "resolved": [True, True], "affiliation": ["Smol AI", "Acme"]})
    episodes = pd.DataFrame({"episode_id": ["e1"], "show": ["Latent Space"]})
    return with_catalog(aliases, speakers, episodes)


TEXTS = ["I asked Chatchy BTS about it and then open AI shipped Claude bot, at 12:30 on 2 May 2024.",
         "Swiggs said that Ann Lee from Latent Space tried Codex and chat GBT for 45 minutes.",
         "Microsoft and Google both called at 1:15:00."]


def test_extraction_finds_aliases_and_catalog_names_but_no_numbers(aliases):
    m = extract_episode(_conv("e1", TEXTS), _catalog(aliases), {"ann": "Ann Lee"})
    found = set(m["entity"])
    assert {"ChatGPT", "OpenAI", "OpenClaw", "swyx", "Ann Lee", "Latent Space", "Codex", "Microsoft", "Google"} <= found
    assert not any(ch.isdigit() for e in found for ch in e)
    assert m.loc[m["entity"] == "ChatGPT", "source"].eq("alias").all()
    assert m["start_s"].tolist() == sorted(m["start_s"].tolist())


def test_mentions_are_cached_per_episode(tmp_path, aliases):
    table = _catalog(aliases)
    a, b = _conv("a", TEXTS[:2]), _conv("b", TEXTS[2:])
    first_a, new_a = cached_mentions(a, table, {}, directory=tmp_path)
    _, new_b = cached_mentions(b, table, {}, directory=tmp_path)
    assert new_a and new_b
    again, new = cached_mentions(a, table, {}, directory=tmp_path)
    assert not new
    pd.testing.assert_frame_equal(again, first_a)
    changed = a.copy()
    changed.loc[1, "text"] = "Nobody mentioned anything here."
    _, new = cached_mentions(changed, table, {}, directory=tmp_path)
    assert new  # only the changed episode is re-run
    _, new_b = cached_mentions(b, table, {}, directory=tmp_path)
    assert not new_b


def test_a_guest_added_with_another_episode_does_not_rerun_this_one(tmp_path, aliases):
    """A catalog person or show that this episode's text cannot match leaves its cache valid;
    one whose name is in its text sends it through the NER again."""
    from analysis.entities.aliases import Entity

    table = _catalog(aliases)
    a = _conv("a", TEXTS)
    first, new = cached_mentions(a, table, {}, directory=tmp_path)
    assert new
    elsewhere = AliasTable(table.entities + [Entity("Marek Dvorak", "PERSON"), Entity("Deep Stack", "ORG")], table.ignore)
    again, new = cached_mentions(a, elsewhere, {}, directory=tmp_path)
    assert not new
    pd.testing.assert_frame_equal(again, first)
    assert extract_episode(a, elsewhere, {}).equals(first)  # what the cache stands for
    mentioned = AliasTable(table.entities + [Entity("Swiggs", "PERSON")], table.ignore)  # "Swiggs said ..."
    _, new = cached_mentions(a, mentioned, {}, directory=tmp_path)
    assert new


def test_mentions_are_the_same_extracted_serially_or_on_worker_processes(tmp_path, aliases):
    """Episodes are extracted once each, across processes: the same tables as in one process,
    in episode order, cached the same way (a rerun extracts nothing)."""
    from conftest import RAW

    from analysis.ingest import parse_file

    table = _catalog(aliases)
    seed = [s.text for s in parse_file(min(RAW.glob("*.transcript.txt"))).segments][:60]
    convs = [_conv("a", TEXTS), _conv("b", seed[:30], "ann-lee"), _conv("c", seed[30:]), _conv("d", TEXTS[::-1])]
    names = [{"ann": "Ann Lee"}, {}, {}, {"ann": "Ann Lee"}]
    serial = episodes_mentions(convs, table, names, directory=tmp_path / "serial", workers=1)
    parallel = episodes_mentions(convs, table, names, directory=tmp_path / "parallel", workers=2)
    assert [new for _, new in serial] == [new for _, new in parallel] == [True] * 4
    assert sum(len(m) for m, _ in serial) > 10
    for (a, _), (b, _), conv in zip(serial, parallel, convs):
        pd.testing.assert_frame_equal(a, b)
        assert set(a["episode_id"]) <= {conv["episode_id"].iloc[0]}
    again = episodes_mentions(convs, table, names, directory=tmp_path / "parallel", workers=2)
    assert [new for _, new in again] == [False] * 4


def test_only_the_components_the_ner_needs_are_loaded():
    """en_core_web_sm's NER embeds on its own (the shared tok2vec is left out); a NER that
    listens to a shared tok2vec or transformer keeps it."""
    import spacy

    from analysis.entities.extract import _model_path, load_nlp, resolve_model

    cfg = spacy.util.load_config(_model_path(resolve_model()) / "config.cfg")
    assert needed_components(cfg) == {"ner"}
    assert load_nlp(()).pipe_names == ["entity_ruler", "ner"]
    listener = {"components": {"ner": {"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1",
                                                              "upstream": "*"}}}}}
    assert needed_components(listener) == {"ner", "tok2vec", "transformer"}
    listener["components"]["ner"]["model"]["tok2vec"]["upstream"] = "tok2vec"
    assert needed_components(listener) == {"ner", "tok2vec"}


def test_tables_rank_bin_and_pair_mentions():
    m = pd.DataFrame({"episode_id": "e", "order": [0, 0, 1, 2], "char_start": [0, 10, 0, 0],
                      "entity": ["A", "B", "A", "C"], "label": "ORG", "text": ["Aa", "Bb", "Aa", "Cc"],
                      "source": "ner", "speaker_id": "s", "speaker": "S", "start_s": [0.0, 0.0, 130.0, 400.0],
                      "time_source": ["file", "file", "file", "rate_estimated"]})
    pe = per_episode(m)
    assert pe.loc[pe["rank"] == 1, "entity"].item() == "A" and pe.set_index("entity").at["A", "mentions"] == 2
    t = timeline(m, width_min=2)
    assert t[["entity", "minute", "mentions"]].values.tolist() == [["A", 0.0, 1], ["A", 2.0, 1], ["B", 0.0, 1],
                                                                   ["C", 6.0, 1]]
    assert t.loc[t["entity"] == "C", "estimated"].item()
    passages = pd.DataFrame({"passage_id": ["e/0", "e/1"], "episode_id": "e", "first_order": [0, 1],
                             "last_order": [0, 2], "text": ["Aa and Bb", "Aa then Cc"]})
    c = comentions(m, passages)
    assert c[["entity_a", "entity_b", "passages"]].values.tolist() == [["A", "B", 1], ["A", "C", 1]]


def test_an_entity_takes_its_most_frequent_label_ties_to_the_first_seen_and_the_passage_holding_its_words():
    m = pd.DataFrame({"episode_id": ["e"] * 5 + ["f"], "order": [0, 1, 1, 2, 3, 0], "char_start": 0,
                      "entity": ["Codex", "Codex", "Codex", "Codex", "Rev", "Codex"],
                      "label": ["PRODUCT", "ORG", "ORG", "PRODUCT", "ORG", "ORG"],
                      "text": ["Codex", "Codex", "codex", "Codex", "Rev", "Codex"], "source": "ner",
                      "speaker_id": "s", "speaker": "S", "start_s": 0.0, "time_source": "file"})
    labels = per_episode(m).set_index(["episode_id", "entity"])["label"]
    assert labels[("e", "Codex")] == "PRODUCT"  # 2 PRODUCT, 2 ORG: the label seen first
    assert labels[("e", "Rev")] == "ORG" and labels[("f", "Codex")] == "ORG"
    # utterance 1 is cut into two passages: each mention goes to the first that holds its words
    passages = pd.DataFrame({"passage_id": ["e/0", "e/1", "e/2", "e/3"], "episode_id": "e",
                             "first_order": [0, 1, 1, 2], "last_order": [0, 1, 3, 3],
                             "text": ["Codex here", "about codex", "Codex and Rev", "Codex, Rev"]})
    pe = passage_entities(m, passages)
    assert pe.values.tolist() == [["e/0", "e", "Codex"], ["e/2", "e", "Codex"], ["e/1", "e", "Codex"],
                                  ["e/2", "e", "Rev"]]  # e/2 also spans utterance 3 and comes first
