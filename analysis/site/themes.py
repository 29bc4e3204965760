"""The Themes page and each episode's Themes section, generated from the theme and entity
tables (analysis.themes, analysis.entities): charts, prose whose every count and name comes
from the tables, the tagger's measured precision and recall, the same person across episodes
with the passage pairs where they make the same point twice, and search examples: all read from
the tables of the theme, entity and index stages (nothing is computed here). Both parts return
nothing when the theme tables are absent."""
from __future__ import annotations

import pandas as pd

from ..figures import themes as figures
from ..figures.export import to_html
from ..figures.format import DASH, clock, date, esc, link, missing, number, pct, table
from ..figures.palette import name_colors
from .data import SiteData, episode_page, transcript_page
from .pages import Page, estimated, md, quote_html, raw, rel, utterance_anchor

PAGE = "themes.qmd"
TOP_THEMES = 5  # themes drawn along an episode
TOP_ENTITIES = 15  # entities in the corpus chart and table
EPISODE_ENTITIES = 10  # entities listed on an episode page
PAIRS_SHOWN = 3  # most similar passage pairs per person
EXAMPLE_QUERIES = 3  # hand-written queries shown with their results
EXAMPLE_HITS = 3  # results shown per query
MADE_BY = ("Theme tags are made by a model (similarity of each passage's embedding to the theme's description "
           "and seed phrases, plus the theme's keywords), not by a person; a passage may carry several themes.")


def theme_names(data: SiteData) -> list[str]:
    """Every theme in lexicon order (the order the tagger wrote them), so colours are stable."""
    if data.has("theme_tags"):
        return list(dict.fromkeys(data["theme_tags"]["theme"]))
    return sorted(data["themes_per_episode"]["theme"].unique())


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _shares(rows: pd.DataFrame, n: int = 3) -> str:
    """'A (12%), B (9%) and C (4%)' for the ``n`` themes of ``rows`` (theme, share) with the highest share."""
    top = rows.sort_values(["share", "theme"], ascending=[False, True]).head(n)
    return _listing([f"{esc(r.theme)} ({pct(r.share)})" for r in top.itertuples() if r.share > 0])


def _passage_quote(data: SiteData, page: str, episode_id: str, passage_key: str, text: str, speaker, label: str) -> str:
    """A passage as a quote linked to its first transcript line and video moment (key
    '<episode_id>@<first utterance order>.<part>')."""
    order = int(str(passage_key).rsplit("@", 1)[1].split(".")[0])
    utt = data.rows("utterances", episode_id)
    line = utt[utt["order"] == order]
    start, source = (line["start_s"].iloc[0], line["time_source"].iloc[0]) if len(line) else (None, "none")
    return quote_html(text, speaker, start, source, data.episode(episode_id)["video_id"],
                      rel(page, transcript_page(episode_id), utterance_anchor(order)), label)


# ---------------------------------------------------------------- the Themes page

def themes_page(data: SiteData) -> Page | None:
    if not data.has("themes_per_episode"):
        return None
    names = theme_names(data)
    per_ep = data["themes_per_episode"]
    body = raw(f"<p>{len(names)} themes an analyst asks about, from the editable lexicon, traced through "
               f"{per_ep['episode_id'].nunique()} episodes. Each theme has a description, seed phrases and keywords; "
               "a conversation passage carries a theme when its score clears a threshold, and comes near the score of "
               "the passage's best theme, both calibrated on a "
               f"hand-labelled sample. <strong>{esc(MADE_BY)}</strong></p>" + _accuracy(data, names))
    body += "## Themes across episodes\n\n" + raw(_across(data, names))
    people = _people(data)
    if people:
        body += "## The same person across episodes\n\n" + people
    if data.has("entities_per_episode") and len(data["entities_per_episode"]):
        body += "## Who and what is mentioned\n\n" + raw(_entities(data))
    examples = _search_examples(data)
    if examples:
        body += "## Search by meaning\n\n" + raw(examples)
    return Page(PAGE, "Themes", body, subtitle="What an analyst asks about, through every episode and across them")


def tagging_accuracy(data: SiteData) -> dict | None:
    """The tagger measured on the hand-labelled sample by the theme stage (theme_evaluation.json,
    ``analysis.themes.pipeline.measure``: leave one episode out, held-out predictions pooled), or
    None when it is absent or no passage of this corpus is labelled."""
    result = data.evaluations.get("theme_evaluation")
    return result if result and result.get("passages") else None


def _accuracy(data: SiteData, names: list[str]) -> str:
    from ..themes.evaluate import agreement_sentence

    result = tagging_accuracy(data)
    if result is None or result.get("cv") is None:
        reference = (f" Measured on the reference sample (the seed episodes), not here: {esc(result['reference'])}."
                     if result and result.get("reference") else "")
        return ("<p>The tagging has not been measured against a hand-labelled sample of this corpus, "
                f"so treat the tags as unchecked.{reference}</p>")
    cv = result["cv"]
    p, r = cv["macro_precision"], cv["macro_recall"]
    verdict = ("meeting both targets" if p >= 0.8 and r >= 0.7 else
               "below the targets of 0.80 and 0.70" if p < 0.8 and r < 0.7 else
               "precision below its 0.80 target" if p < 0.8 else "recall below its 0.70 target")
    rows = pd.DataFrame(cv["per_theme"]).sort_values("theme", key=lambda s: s.map({n: i for i, n in enumerate(names)}))
    shown = pd.DataFrame({"theme": rows["theme"], "support": [number(v) for v in rows["support"]],
                          "predicted": [number(v) for v in rows["predicted"]],
                          "precision": [DASH if missing(v) else f"{v:.2f}" for v in rows["precision"]],
                          "recall": [DASH if missing(v) else f"{v:.2f}" for v in rows["recall"]]})
    return (f"<p><strong>How well the tags agree with a careful reader.</strong> On {result['passages']} "
            f"hand-labelled passages from {result['episodes']} episodes, each episode tagged by the tagger "
            f"fitted on the other episodes only (leave one episode out), macro precision is {p:.2f} "
            f"and macro recall {r:.2f}, {verdict}. Few passages carry each theme, so one passage moves a "
            "theme's figures a lot; a low recall means theme shares are undercounted, a low precision that "
            f"they are overcounted.{(' ' + esc(agreement_sentence(result))) if result.get('agreement') else ''}</p>"
            + '<details><summary>Precision and recall per theme</summary>'
            + table(shown, {"theme": "Theme", "support": "Labelled passages with the theme", "predicted": "Tagged",
                            "precision": "Precision", "recall": "Recall"},
                    numeric=("support", "predicted", "precision", "recall")) + "</details>")


def _across(data: SiteData, names: list[str]) -> str:
    per_ep = data["themes_per_episode"]
    full = (per_ep.pivot_table(index="theme", columns="episode_id", values="share", aggfunc="sum", fill_value=0.0)
            .reindex(index=names, fill_value=0.0))
    if not full.to_numpy().any():
        return (f"<p>No passage of the {per_ep['episode_id'].nunique()} episodes carries a theme of the lexicon "
                "(<code>data/themes.yaml</code>): its themes are not talked about here. Write themes in the speakers' "
                "own words, or draft them from the topics found (<code>podlens themes draft</code>), then rebuild.</p>")
    mean = full.mean(axis=1).rename("share").reset_index()
    text = (f"<p>Share of each episode's passage words that carry a theme, episodes in publication order. "
            f"On average over the episodes the most present themes are {_shares(mean)}.")
    eps = per_ep.drop_duplicates("episode_id").dropna(subset=["published"]).sort_values(["published", "episode_id"])
    if len(eps) > 1:
        first, last = eps["episode_id"].iloc[0], eps["episode_id"].iloc[-1]
        change = (full[last] - full[first]).sort_values()
        up, down = change.index[-1], change.index[0]
        name = lambda e: esc(data.names.get(e, e))
        text += (f" From the earliest episode ({name(first)}, {date(eps['published'].iloc[0])}) to the latest "
                 f"({name(last)}, {date(eps['published'].iloc[-1])}), {esc(up)} gains most "
                 f"({pct(full.at[up, first])} to {pct(full.at[up, last])}) and {esc(down)} loses most "
                 f"({pct(full.at[down, first])} to {pct(full.at[down, last])}).")
    fig = figures.themes_across_episodes(per_ep, data.names)
    return text + "</p>" + to_html(fig, height=fig.layout.height)


def _people(data: SiteData) -> str:
    """Every person the catalog lists in more than one episode (table person_episodes): talk
    share and leading themes per episode (generated prose), a chart, and the passage pairs in
    which they make the same point twice (table passage_pairs)."""
    from ..compare import wide_shares

    if not data.has("themes_per_speaker") or not data.has("person_episodes"):
        return ""
    people, pairs = data["person_episodes"], data["passage_pairs"] if data.has("passage_pairs") else None
    out = ""
    for sid, eps in people.groupby("speaker_id", sort=True):
        eps = eps.sort_values(["published", "episode_id"], kind="stable")
        person = eps["name"].iloc[0]
        mine = data["themes_per_speaker"].query("speaker_id == @sid")
        parts = []
        for e in eps.itertuples():
            lead = _shares(mine[mine["episode_id"] == e.episode_id])
            parts.append(f"in {link(rel(PAGE, episode_page(e.episode_id)), data.names.get(e.episode_id, e.episode_id))} "
                         f"({date(e.published)}) {esc(person)} holds {pct(e.talk_share)} of the talk"
                         + (f" and talks most about {lead}" if lead else ""))
        sentence = _listing(parts)
        text = f"<p>{sentence[:1].upper()}{sentence[1:]}."
        shares = wide_shares(mine, "theme", eps["episode_id"].tolist())
        if len(shares.columns) > 1 and len(shares):
            spread = (shares.max(axis=1) - shares.min(axis=1)).sort_values(ascending=False)
            t = spread.index[0]
            text += (f" The theme that differs most between episodes is {esc(t)}: "
                     + _listing([f"{pct(shares.at[t, e])} in {esc(data.names.get(e, e))}" for e in shares.columns]) + ".")
        fig = figures.themes_of_person(data["themes_per_speaker"], sid, data.names)
        own = pairs[pairs["speaker_id"] == sid] if pairs is not None else None
        out += f"### {md(person)}\n\n" + raw(text + "</p>" + to_html(fig, height=fig.layout.height)
                                              + _pairs(data, person, own))
    return out


def _pairs(data: SiteData, person: str, pairs: pd.DataFrame | None) -> str:
    """The person's most similar passage pairs that are the same point said twice (column
    same_point: similarity at or above the measured threshold), or a line saying none was found."""
    if pairs is None or pairs.empty:
        return ""
    same = pairs[pairs["same_point"]].sort_values("similarity", ascending=False, kind="stable")
    measured = data.evaluations.get("pair_evaluation") or {}
    cv, reworded = measured.get("cv") or {}, measured.get("cv_reworded") or {}
    threshold = measured.get("threshold")
    how = "" if threshold is None else (
        f" (similarity of their embeddings at least {threshold:.2f}"
        + (f"; on {measured['pairs']} pairs of passages read by hand, each show's pairs judged with the level set "
           f"on the other shows, {pct(cv['precision'])} of the pairs at or above it make the same point and it finds "
           f"{pct(cv['recall'])} of those that do" if cv else "")
        + (f", most of them said word for word or a show's opening or closing; of points made again in other words "
           f"it finds {pct(reworded['recall'])}" if reworded.get("recall") is not None else "") + ")")
    if same.empty:
        return (f"<p><strong>No repeated claim was found</strong>: no two of {esc(person)}'s passages in different "
                f"episodes are close enough in meaning to be the same point said twice{how}.</p>")
    html = (f"<p><strong>Where {esc(person)} says much the same thing twice</strong>: passage pairs across episodes "
            f"close enough in meaning to be the same point{how}; each passage used once.</p>")
    for r in same.head(PAIRS_SHOWN).itertuples():
        sides = [_passage_quote(data, PAGE, getattr(r, f"episode_id_{s}"), getattr(r, f"passage_key_{s}"),
                                getattr(r, f"quote_{s}"), person, data.names.get(getattr(r, f"episode_id_{s}")))
                 for s in ("a", "b")]
        html += (f'<div class="quote-pair"><p class="muted">similarity {r.similarity:.2f}</p>'
                 f'<div class="pair">{sides[0]}{sides[1]}</div></div>')
    return html


def _entities(data: SiteData) -> str:
    from ..entities.pipeline import check_report
    from ..entities.tables import top_entities

    per_ep = data["entities_per_episode"]
    fig = figures.top_entities(data.with_names(per_ep), n=TOP_ENTITIES)
    totals = per_ep.groupby("entity").agg(mentions=("mentions", "sum"), episodes=("episode_id", "nunique"))
    top = totals.sort_values(["mentions", "episodes"], ascending=False, kind="stable").head(TOP_ENTITIES)
    leads = [f"{esc(e)} ({number(r.mentions)} mentions in {number(r.episodes)} episode{'s' if r.episodes != 1 else ''})"
             for e, r in top.head(3).iterrows()]
    text = (f"<p>Organisations, products, people and events named in the conversation, found by spaCy's "
            f"named-entity model (model-made) and an alias table that folds transcription errors and spellings "
            f"into one name. The most mentioned are {_listing(leads)}.")
    if data.has("entity_mentions"):
        mentions = data["entity_mentions"]
        counts = check_report(mentions)[1]
        if counts["unchecked"] < counts["top"]:
            text += (f" Of the {counts['top']} most mentioned, {counts['ok']} were checked by hand as real entities "
                     f"with the right name ({counts['wrong-name']} wrong name, {counts['not-an-entity']} not an "
                     f"entity, {counts['unchecked']} not checked).")
        rows = top_entities(mentions, TOP_ENTITIES)
    else:
        rows = top.reset_index().assign(label=DASH, spellings=DASH)
    most = per_ep.sort_values(["mentions", "episode_id"], ascending=[False, True]).drop_duplicates("entity")
    most = most.set_index("entity")["episode_id"]
    shown = pd.DataFrame({
        "entity": rows["entity"], "label": rows["label"].map(lambda v: str(v).title() if not missing(v) else DASH),
        "mentions": [number(v) for v in rows["mentions"]], "episodes": [number(v) for v in rows["episodes"]],
        "most": [link(rel(PAGE, episode_page(most[e])), data.names.get(most[e], most[e])) for e in rows["entity"]],
        "spellings": [str(s).replace(";", ", ") if not missing(s) else DASH for s in rows["spellings"]]})
    return (text + "</p>" + to_html(fig, height=fig.layout.height)
            + table(shown, {"entity": "Entity", "label": "Type", "mentions": "Mentions", "episodes": "Episodes",
                            "most": "Most mentioned in", "spellings": "Spellings in the transcripts"},
                    numeric=("mentions", "episodes")))


def _search_examples(data: SiteData) -> str:
    """The results of search for the first hand-written queries and its recall@5 over those whose
    passages are in this corpus (tables search_queries and search_results, the `index` stage)."""
    from ..search import measured_queries

    if not data.has("search_queries") or not data.has("search_results"):
        return ""
    queries = data["search_queries"].sort_values("query_id")
    per_query = measured_queries(queries)
    if per_query.empty:
        return ""  # the queries were written for passages of other episodes: nothing to show or measure here
    html = ("<p>Search finds passages by meaning as well as by their words: it ranks every passage by the similarity "
            "of its embedding (and of the passages around it) to the query's and by keyword match, and fuses both "
            "rankings. "
            f"On {len(per_query)} hand-written queries, each with the passages a careful reader expects, "
            f"on average {pct(per_query['recall'].mean())} of the expected passages (up to five per query) are among the top five "
            "results, and a "
            f"query finds at least one of them in {pct((per_query['found'] > 0).mean())} of cases. "
            "Some of those queries and what the search returns:</p>")
    results = data["search_results"]
    for q in queries.head(EXAMPLE_QUERIES).itertuples():
        hits = results[(results["query_id"] == q.query_id) & (results["rank"] <= EXAMPLE_HITS)].sort_values("rank")
        html += f'<p class="query">“{esc(q.query)}”</p>' + "".join(
            _passage_quote(data, PAGE, h.episode_id, h.passage_key, h.quote, None if missing(h.speaker) else h.speaker,
                           data.names.get(h.episode_id, h.episode_id)) for h in hits.itertuples())
    return html


# ---------------------------------------------------------------- each episode

def episode_themes(data: SiteData, episode_id: str, page: str) -> str:
    """The episode's leading themes, their timeline with chapters and speaker bands, and its
    most mentioned entities with the first mention linked."""
    per = data.rows("themes_per_episode", episode_id)
    if per.empty:
        return ""
    names = theme_names(data)
    timeline = data.rows("theme_timeline", episode_id)
    top = per.sort_values(["share", "theme"], ascending=[False, True])["theme"].head(TOP_THEMES).tolist()
    est = bool(timeline["estimated"].any()) if len(timeline) else False
    html = (f"<p>The leading themes of this episode are {_shares(per)} of its passage words. {esc(MADE_BY)}"
            + (" Times in this episode are estimated, so the curves are drawn on estimated minutes." if est else "")
            + f" {link(rel(page, PAGE), 'All themes across episodes')}.</p>")
    if len(timeline) and timeline["kind"].eq("theme").any():
        fig = figures.episode_timeline(timeline, episode_id, "theme", top, data.rows("talktime_turns", episode_id),
                                       data.rows("chapters", episode_id), name_colors(names),
                                       title="Themes along the episode")
        html += to_html(fig, height=460)
    return "## Themes\n\n" + raw(html) + _episode_entities(data, episode_id, page)


def _episode_entities(data: SiteData, episode_id: str, page: str) -> str:
    ents = data.rows("entities_per_episode", episode_id).sort_values("rank").head(EPISODE_ENTITIES)
    if ents.empty:
        return ""
    mentions = data.rows("entity_mentions", episode_id)
    utt = data.rows("utterances", episode_id).set_index("order")
    first = []
    for e in ents["entity"]:
        m = mentions[mentions["entity"] == e]
        if m.empty:
            first.append(DASH)
            continue
        order = int(m["order"].min())
        when = utt.loc[order] if order in utt.index else None
        label = "read" if when is None or missing(when["start_s"]) else clock(when["start_s"], estimated(when["time_source"]))
        first.append(link(rel(page, transcript_page(episode_id), utterance_anchor(order)), label))
    shown = pd.DataFrame({"entity": ents["entity"], "label": ents["label"].str.title(),
                          "mentions": [number(v) for v in ents["mentions"]], "first": first})
    return "### Most mentioned\n\n" + raw(
        "<p>Found by spaCy's named-entity model (model-made) and the alias table.</p>"
        + table(shown, {"entity": "Entity", "label": "Type", "mentions": "Mentions", "first": "First mention"},
                numeric=("mentions",)))

