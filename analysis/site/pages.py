"""The reader pages, each built from the tables: home, one page and one transcript per
episode, talk time, topics, speakers, methods, data and explore. A page is Markdown whose
data-bearing parts are escaped HTML blocks, so Quarto renders it without a kernel."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import pandas as pd

from ..figures import findings
from ..figures import talktime as tt_figures
from ..figures import topics as topic_figures
from ..figures.export import to_html
from ..figures.format import (
    DASH,
    FLAG_WORDS,
    LOW_CONFIDENCE,
    SPEAKER_SOURCE_WORDS,
    TIME_SOURCE_WORDS,
    Html,
    clock,
    date,
    esc,
    estimated,
    interactive_table,
    link,
    method_mix,
    missing,
    number,
    pct,
    provenance_words,
    published,
    quote_html,
    table,
)
from ..quotes import deep_link
from .data import SiteData, episode_page, transcript_page

__all__ = ["Page", "estimated", "md", "quote_html", "raw", "rel", "utterance_anchor"]  # also used by themes.py


@dataclass
class Page:
    path: str  # relative to site/, e.g. "episodes/<id>.qmd"
    title: str
    body: str  # Markdown with raw HTML blocks
    subtitle: str = ""
    meta: dict = field(default_factory=dict)  # extra front matter


def raw(fragment: str) -> str:
    """A raw HTML block (rendered as is by Quarto and pandoc)."""
    return f"\n```{{=html}}\n{fragment}\n```\n\n"


def md(text) -> str:
    """Data as Markdown text: the characters that start markup (HTML, emphasis, links, math,
    entities) backslash-escaped; the rest left as is, so places that show the text raw stay clean."""
    return re.sub(r"([\\`*_{}\[\]<>#|~$^!&@])", r"\\\1", str(text))


def rel(page: str, target: str, anchor: str = "") -> str:
    """Link from ``page`` to ``target`` (both relative to site/)."""
    href = posixpath.relpath(target, posixpath.dirname(page) or ".")
    return href + (f"#{anchor}" if anchor else "")


def utterance_anchor(order) -> str:
    return f"u{int(order)}"


def _note(text: str) -> str:
    return f'<p class="method-note">{esc(text)}</p>' if text else ""


def _accuracy_note(data: SiteData, episode_ids) -> str:
    """What a reader should know about how the episodes were measured (inferred speakers and
    how often right, estimated times), in sentences (:func:`analysis.figures.talktime.reader_note`)."""
    if not data.has("talktime_episodes"):
        return ""
    rows = data["talktime_episodes"]
    return tt_figures.reader_note(data.with_names(rows[rows["episode_id"].isin(list(episode_ids))]))


# ---------------------------------------------------------------- home

def home(data: SiteData) -> Page:
    eps, utt = data.episodes, data["utterances"]
    conv = utt[utt["is_conversation"]]
    shows = eps["show"].nunique()
    people = data["speakers"].query("resolved")["speaker_id"].nunique() if data.has("speakers") else 0
    talk_s = data["talktime_episodes"]["talk_s"].sum() if data.has("talktime_episodes") else None
    dates = eps["published"].dropna()
    span = f", published {date(dates.min())} to {date(dates.max())}" if len(dates) else ""
    intro = (f"<p class=\"lead\">podlens analyses {len(eps)} podcast episode{'s' if len(eps) != 1 else ''} from "
             f"{shows} show{'s' if shows != 1 else ''}{esc(span)}: {number(conv['word_count'].sum())} words of "
             f"conversation" + (f" ({clock(talk_s)} of talk)" if talk_s else "") +
             f" by {people} people. Every number and chart on this site is computed from the transcripts; "
             "speakers inferred by a model, estimated times and model-made labels are marked as such, "
             f"with their measured accuracy ({link('methods.qmd', 'how')}).</p>")
    body = raw(intro) + "## Findings\n\n"
    shown = set()
    for title, text, fig, target, note in headline_findings(data):
        if note in shown:  # the same method note once, under the first finding it applies to
            note = ""
        shown.add(note)
        body += f"### {md(title)}\n\n" + raw(f"<p>{text}</p>{to_html(fig, height=fig.layout.height)}"
                                              f"{_note(note)}<p class=\"more\">{link(target, 'More on this →')}</p>")
    body += "## Episodes\n\n" + raw(episode_list(data, "index.qmd"))
    return Page("index.qmd", "podlens", body, subtitle="Who talks, how much and about what, in podcast conversations")


def headline_findings(data: SiteData) -> list[tuple[str, Html, object, str, str]]:
    """(title, text, figure, link target, method note) for each finding the tables support."""
    out = []
    names = data.names
    if data.has("talktime_episodes") and len(data["talktime_episodes"]):
        te = data["talktime_episodes"].set_index("episode_id")
        share = te["guest_talk_share"]
        lo, hi = share.idxmin(), share.idxmax()
        text = (f"Guests hold between {pct(share[lo])} ({esc(names[lo])}) and {pct(share[hi])} ({esc(names[hi])}) "
                "of the talk time." if lo != hi else f"The guests hold {pct(share[hi])} of the talk time.")
        out.append(("How much of the talk is the guest's", Html(text),
                    findings.role_shares(data["talktime_roles"], names), "talk-time.qmd",
                    _accuracy_note(data, te.index)))
        sw = te["switches_per_5min"]
        text = (f"{esc(names[sw.idxmax()])} changes speaker most often, {number(sw.max(), 1)} times per five "
                f"minutes" + (f"; {esc(names[sw.idxmin()])} least, {number(sw.min(), 1)} times." if len(sw) > 1 else "."))
        out.append(("Back-and-forth or long answers", Html(text),
                    findings.per_episode(sw, names, "Speaker switches per five minutes", "%{x:.1f}", "switches"),
                    "talk-time.qmd#turns", _accuracy_note(data, te.index)))
    if data.has("talktime_turns") and len(data["talktime_turns"]):
        turns = data["talktime_turns"]
        top = turns.loc[turns["duration_s"].idxmax()]
        ep = top["episode_id"]
        when = data.rows("utterances", ep)
        start = when[(when["speaker_id"] == top["speaker_id"]) & (when["start_s"] >= top["start_s"] - 0.01)]
        anchor = utterance_anchor(start["order"].min()) if len(start) else ""
        est = estimated(start["time_source"].iloc[0]) if len(start) else False
        text = (f"The longest uninterrupted stretch is {esc(top['speaker'])}'s {clock(top['duration_s'], est)} "
                f"({number(top['words'])} words) in {esc(names[ep])}, "
                f"{link(rel('index.qmd', transcript_page(ep), anchor), 'read it in the transcript')}.")
        longest = turns.groupby("episode_id")["duration_s"].max()
        out.append(("The longest monologue", Html(text),
                    findings.per_episode(longest / 60, names, "Longest turn per episode, minutes", "%{x:.1f}",
                                         "minutes"), rel("index.qmd", episode_page(ep)),
                    _accuracy_note(data, [ep])))
    if data.has("topics") and (data["topics"]["topic_id"] >= 0).any():
        topics = data["topics"][data["topics"]["topic_id"] >= 0].sort_values("passages", ascending=False)
        t = topics.iloc[0]
        text = (f"The topic the model finds most often, labelled “{esc(t['label'])}” by the model, covers "
                f"{pct(t['share'])} of all passages and comes up in {int(t['episodes'])} of {len(data.episodes)} "
                f"episodes; the model finds {len(topics)} topics in all.")
        out.append(("What comes up most", Html(text), topic_figures.topic_overview(
            data["topics"][data["topics"]["topic_id"].isin(topics["topic_id"].head(6))]),
            "topics.qmd", "Topic labels are made by the topic model, not by a person."))
    if data.has("talktime_people"):
        ppl = data["talktime_people"]
        multi = ppl[ppl["episodes"] > 1].sort_values(["episodes", "talk_s"], ascending=False)
        if len(multi):
            p = multi.iloc[0]
            sp = data["talktime_speakers"]
            rows = sp[sp["speaker_id"] == p["speaker_id"]]
            shares = "; ".join(f"{pct(r.talk_share)} of the talk in {esc(names[r.episode_id])}" for r in rows.itertuples())
            text = (f"{len(multi)} {'person is' if len(multi) == 1 else 'people are'} heard in more than one episode. "
                    f"{esc(p['name'])} speaks in {int(p['episodes'])}: {shares}.")
            out.append(("The same voice on several shows", Html(text),
                        findings.person_shares(sp, multi["speaker_id"].head(4).tolist(), names), "speakers.qmd",
                        _accuracy_note(data, rows["episode_id"])))
    utt = data["utterances"]
    flagged = utt[~utt["is_conversation"]]
    if len(flagged):
        words = utt.groupby("episode_id")["word_count"].sum()
        noise = flagged.groupby("episode_id")["word_count"].sum().reindex(words.index, fill_value=0)
        kinds = flagged["flags"].str.split(";").explode().map(lambda f: FLAG_WORDS.get(f, f)).value_counts()
        text = (f"{pct(noise.sum() / words.sum(), 1)} of all words are not conversation and are left out of the "
                f"figures, never deleted: {esc(', '.join(kinds.index[:4]))}. Transcripts show them greyed.")
        out.append(("What was set aside as noise", Html(text),
                    findings.per_episode(noise / words, names, "Share of words flagged as noise", "%{x:.1%}",
                                         "share of the episode's words", color="#9a9a9a", tickformat=".0%"), "methods.qmd#noise", ""))
    return out


def duration(data: SiteData, episode_id: str) -> tuple[float | None, bool]:
    """(seconds, estimated): the catalog's runtime, else the episode's talk time (estimated
    where its times are estimated), else None."""
    e = data.episode(episode_id)
    if not missing(e["duration_s"]):
        return float(e["duration_s"]), False
    t = data.rows("talktime_episodes", episode_id)
    if len(t):
        return float(t["talk_s"].iloc[0]), tt_figures.estimated_times(t.iloc[0])
    return None, False


def episode_list(data: SiteData, page: str) -> Html:
    """Interactive table of the catalog's episodes with links to their pages; a duration
    estimated from the talk (no runtime in the catalog) is marked "~"."""
    te = data["talktime_episodes"].set_index("episode_id") if data.has("talktime_episodes") else pd.DataFrame()
    guests = data["speakers"].query("role == 'guest'").groupby("episode_id")["name"].agg(", ".join) \
        if data.has("speakers") else pd.Series(dtype=str)
    rows = []
    for e in data.episodes.itertuples():
        seconds, approx = duration(data, e.episode_id)
        rows.append({
            "episode": link(rel(page, episode_page(e.episode_id)), e.title),
            "show": e.show, "guests": guests.get(e.episode_id, DASH),
            "published": published(e.published, e.published_basis),
            "duration": seconds, "approx": approx,
            "how": tt_figures.measured_words(te.loc[e.episode_id]) if e.episode_id in te.index else DASH,
            "transcript": link(rel(page, transcript_page(e.episode_id)), "read"),
        })
    return interactive_table(pd.DataFrame(rows), {
        "episode": "Episode", "show": "Show", "guests": "Guests", "published": "Published",
        "duration": "Duration", "how": "How it was measured", "transcript": "Transcript"},
        {"duration": "clock"}, estimated={"duration": "approx"})


# ---------------------------------------------------------------- episode pages

def episode(data: SiteData, episode_id: str, sections=()) -> Page:
    page = episode_page(episode_id)
    e = data.episode(episode_id)
    seconds, approx = duration(data, episode_id)
    facts = [("Show", esc(e["show"])), ("Published", esc(published(e["published"], e["published_basis"]))),
             ("Duration", esc(clock(seconds, approx) + (" (estimated from the talk; no runtime stated)" if approx else ""))
              if seconds is not None else None),
             ("Recorded at", esc(e["venue"]) if not missing(e["venue"]) else None),
             ("Episode page", link(e["url"], e["url"], external=True) if not missing(e["url"]) else None),
             ("Video", link(f"https://www.youtube.com/watch?v={e['video_id']}", "watch on YouTube", external=True)
              if not missing(e["video_id"]) else None),
             ("Transcript format", esc(str(e["transcript_format"]).replace("_", " "))),
             ("Source files", esc(str(e["source_files"]).replace(";", ", "))),
             ("Not stated in a source", esc(provenance_words(e["inferred_facts"])) if provenance_words(e["inferred_facts"]) else None),
             ("Transcript", link(rel(page, transcript_page(episode_id)), "read every line"))]
    body = raw('<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts if v) + "</dl>")
    note = _accuracy_note(data, [episode_id])
    if note:
        body += raw(f'<div class="callout-note method-box"><p><strong>How this episode was measured.</strong> '
                    f"{esc(note)} {link(rel(page, 'methods.qmd'), 'How, and the exact figures')}.</p></div>")
    if not missing(e["description"]):
        body += "## Summary\n\n" + raw(f"<p>{esc(e['description'])}</p>")
    chapters = data.rows("chapters", episode_id)
    if len(chapters):
        body += "## Chapters\n\n" + raw(_chapters_html(data, episode_id, chapters, page))
    for section in sections:
        body += section(data, episode_id, page) or ""
    speakers = data.rows("talktime_speakers", episode_id)
    if len(speakers):
        body += "## Speakers\n\n" + raw(_speaker_table(speakers))
        timeline = data.rows("balance_timeline", episode_id)
        if len(timeline):
            fig = tt_figures.balance(data.with_names(timeline), data.with_names(data.rows("talktime_episodes", episode_id)))
            body += raw(to_html(_chapter_marks(fig, chapters), height=380))
    if data.has("topics_over_time"):
        over = data.rows("topics_over_time", episode_id)
        per = data.rows("topics_per_episode", episode_id)
        if len(per):
            body += "## Topics\n\n" + raw(
                "<p>Share of this episode's words per topic. Topic labels are made by the topic model.</p>"
                + _topic_share_table(data, per))
        if len(over):
            fig = topic_figures.topic_timeline(over, episode_id, data["topics"])
            fig.update_layout(title="Topics along the episode, five-minute bins (labels made by the topic model)")
            body += raw(to_html(_chapter_marks(fig, chapters), height=420))
        body += _episode_quotes(data, episode_id, page)
    body += _noise_section(data, episode_id, page)
    return Page(page, str(e["title"]), body, subtitle=f"{e['show']} · {date(e['published'])}")


def _chapters_html(data: SiteData, episode_id: str, chapters: pd.DataFrame, page: str) -> str:
    items = []
    utt = data.rows("utterances", episode_id)
    for c in chapters.sort_values(["source", "chapter_index"]).itertuples():
        when = ""
        if not missing(c.start_s):
            at = utt[utt["start_s"] >= c.start_s - 0.5].sort_values("start_s").head(1)  # the chapter list states c.start_s
            target = rel(page, transcript_page(episode_id), utterance_anchor(at["order"].iloc[0])) if len(at) else None
            when = str(link(target, clock(c.start_s))) + " "
        title = f"<strong>{esc(c.title)}</strong> " if not missing(c.title) else ""
        summary = esc(c.summary) if not missing(c.summary) else ""
        items.append(f"<li>{when}{title}{summary}</li>")
    return '<ol class="chapters">' + "".join(items) + "</ol>"


def _chapter_marks(fig, chapters: pd.DataFrame):
    """Dotted vertical lines at chapter starts (x in minutes)."""
    for start in chapters["start_s"].dropna() if len(chapters) else []:
        fig.add_vline(x=start / 60, line_dash="dot", line_color="#b0b0b0", line_width=1)
    return fig


def _speaker_table(speakers: pd.DataFrame) -> Html:
    rows = speakers.sort_values(["role", "talk_s"], ascending=[False, False])
    out = pd.DataFrame({
        "speaker": rows["speaker"], "role": rows["role"],
        "share": [tt_figures.share_interval(r, "talk_share") for _, r in rows.iterrows()],
        "words": [number(v) for v in rows["words"]], "turns": [number(v) for v in rows["turns"]],
        "longest": [clock(v) for v in rows["longest_turn_s"]],
        "questions": [number(v) for v in rows["questions"]],
        "how": [method_mix(v) for v in rows["attribution_method"]],
    })
    return table(out, {"speaker": "Speaker", "role": "Role", "share": "Share of talk time",
                       "words": "Words", "turns": "Turns", "longest": "Longest turn",
                       "questions": "Questions", "how": "How the speaker was found"},
                 numeric=("share", "words", "turns", "longest", "questions"))


def _topic_share_table(data: SiteData, per: pd.DataFrame) -> Html:
    from ..figures.palette import label_colors

    colors = label_colors(data["topics"])
    rows = per.sort_values("share", ascending=False)
    out = pd.DataFrame({
        "topic": [Html(f'<span class="swatch" style="background:{colors.get(lab, "#ccc")}"></span>{esc(lab)}')
                  for lab in rows["label"]],
        "share": [pct(v) for v in rows["share"]], "passages": [number(v) for v in rows["passages"]]})
    return table(out, {"topic": "Topic (model-made label)", "share": "Share of words", "passages": "Passages"},
                 numeric=("share", "passages"))


def _episode_quotes(data: SiteData, episode_id: str, page: str, per_topic: int = 1, limit: int = 6) -> str:
    """The passage closest to each topic's centre among this episode's passages, for its
    ``limit`` topics with the most of its passages (nothing here depends on other episodes)."""
    if not (data.has("topic_assignments") and data.has("topic_passages")):
        return ""
    a = data.rows("topic_assignments", episode_id)
    a = a[a["topic_id"] >= 0].merge(data["topic_passages"].drop(columns="episode_id"), on="passage_id")
    if a.empty:
        return ""
    best = a.sort_values("similarity", ascending=False).groupby("topic_id").head(per_topic)
    best = best.merge(data["topics"][["topic_id", "label"]], on="topic_id")
    best = best.join(a.groupby("topic_id").size().rename("own"), on="topic_id")
    best = best.sort_values(["own", "topic_id"], ascending=[False, True]).head(limit)
    e = data.episode(episode_id)
    return "## Representative quotes\n\n" + raw(
        "<p>For each of the episode's main topics, the passage closest to the topic's centre.</p>"
        + "".join(quote_html(r.text, r.speaker, r.start_s, r.time_source, e["video_id"],
                             rel(page, transcript_page(episode_id), utterance_anchor(r.first_order)),
                             f"topic: {r.label}") for r in best.itertuples()))


def _noise_section(data: SiteData, episode_id: str, page: str) -> str:
    utt = data.rows("utterances", episode_id)
    flagged = utt[~utt["is_conversation"]].copy()
    if flagged.empty:
        return "## Noise\n\n" + raw("<p>Nothing in this transcript was flagged as noise.</p>")
    flagged["flag"] = flagged["flags"].str.split(";").str[0]
    rows = []
    for flag, g in flagged.groupby("flag", sort=True):
        first = g.sort_values("order").iloc[0]
        rows.append({"what": FLAG_WORDS.get(flag, flag), "lines": number(len(g)), "words": number(g["word_count"].sum()),
                     "why": first["flag_reason"].split("; ")[0],
                     "first": link(rel(page, transcript_page(episode_id), utterance_anchor(first["order"])),
                                   clock(first["start_s"], estimated(first["time_source"])))})
    return "## Noise\n\n" + raw(
        "<p>Left out of every figure, never deleted: the transcript shows these lines greyed, with the reason.</p>"
        + table(pd.DataFrame(rows), {"what": "What", "lines": "Lines", "words": "Words", "why": "Why (first case)",
                                     "first": "First at"}, numeric=("lines", "words")))


# ---------------------------------------------------------------- transcripts

SECTION_WORDS = 150  # a transcript section holds at most about a minute of speech: Quarto's site
# search indexes each level-2 section, so a hit lands within that of its line


def transcript(data: SiteData, episode_id: str) -> Page:
    """Every line of an episode as the conversation reads: a speaker's consecutive sentences
    as one turn (each sentence keeps its anchor ``u<order>``), each turn (or each SECTION_WORDS
    of a long one) its own search section headed by speaker and time, parts at chapter starts
    (else every ten minutes) with a list of them on top, and each run of noise in one greyed
    band that names its reason once."""
    page = transcript_page(episode_id)
    e = data.episode(episode_id)
    utt = data.rows("utterances", episode_id).sort_values("order")
    chapters = data.rows("chapters", episode_id)
    timed_chapters = chapters.dropna(subset=["start_s"]).sort_values("start_s") if len(chapters) else chapters
    breaks = _section_breaks(utt, timed_chapters)
    legend = ('<p class="transcript-legend">Times marked “~” are estimated; a <span class="who faint">faint name</span> '
              f"is a speaker inferred with confidence under {LOW_CONFIDENCE:.0%}; "
              '<span class="flag">greyed passages</span> are noise, left out of the figures, with the reason on '
              "their band. Each time links to its passage and ▶ plays the video there; "
              f"{link(rel(page, episode_page(episode_id)), 'back to the episode')}.</p>")
    parts = [f'<a href="#{_part_id(o)}">{esc(h)}</a>' for o, h in sorted(breaks.items())]
    nav = f'<nav class="parts"><strong>Parts:</strong> {" · ".join(parts)}</nav>' if len(parts) > 1 else ""
    html = [legend + nav]
    for band, sections in _bands(utt, breaks):  # a part starts a new band: its heading goes before it
        first = sections[0][0][0].order
        if first in breaks:
            html.append(f'<h2 class="part" id="{_part_id(first)}">{esc(breaks[first])}</h2>')
        inner = "".join(_turn_html(sec, cont, e["video_id"]) for sec, cont in sections)
        html.append(f'<div class="band">{_band_label(sections[0][0][0])}{inner}</div>' if band else inner)
    return Page(page, f"Transcript: {e['title']}", raw("\n".join(html)),
                subtitle=f"{e['show']} · {date(e['published'])}", meta={"toc": False})


def _part_id(order) -> str:
    return f"part-{int(order)}"


def _section_breaks(utt: pd.DataFrame, chapters: pd.DataFrame) -> dict[int, str]:
    """Utterance order -> part heading: chapter starts, else every ten minutes when timed."""
    out = {}
    if len(chapters):
        for c in chapters.itertuples():
            at = utt[utt["start_s"] >= c.start_s - 0.5]
            if len(at):
                out.setdefault(int(at["order"].iloc[0]), f"{clock(c.start_s)} {c.title if not missing(c.title) else ''}".strip())
    elif utt["start_s"].notna().any():
        block = (utt["start_s"] // 600).ffill()
        for order, b in zip(utt["order"], block.ne(block.shift())):
            if b:
                start = float(block[utt["order"] == order].iloc[0]) * 600
                out[int(order)] = f"From {clock(start)}"
    if len(out) and min(out) != int(utt["order"].min()):
        out[int(utt["order"].min())] = "Opening"
    return out


def _bands(utt: pd.DataFrame, breaks: dict[int, str]) -> list[tuple[str, list[tuple[list, bool]]]]:
    """The transcript as (band, sections): band is the flags of a run of noise ('' for
    conversation); each section is (utterances, continues the turn before) and holds one
    speaker's consecutive sentences up to SECTION_WORDS words, never across a part or band."""
    out: list[tuple[str, list[tuple[list, bool]]]] = []
    section: list = []
    words = 0
    for u in utt.itertuples():
        band = "" if u.is_conversation else str(u.flags)
        same_band = bool(out) and out[-1][0] == band and u.order not in breaks
        same_turn = same_band and bool(section) and _who(section[-1]) == _who(u)
        if same_turn and words + u.word_count <= SECTION_WORDS:
            section.append(u)
            words += u.word_count
            continue
        section, words = [u], u.word_count
        if not same_band:
            out.append((band, []))
        out[-1][1].append((section, bool(same_turn)))
    return out


def _who(u) -> str:
    """Who speaks a line: the speaker id, else the label, else '' (unknown)."""
    return str(u.speaker_id) if not missing(u.speaker_id) else "" if missing(u.speaker) else str(u.speaker)


def _band_label(u) -> str:
    """The noise band's label: what the lines are and why they were flagged (the first line's reason)."""
    flags = [f for f in str(u.flags).split(";") if f]
    reason = str(u.flag_reason).split("; ")[0]
    for f in flags:  # reasons may start with their flag's name, as a slug or in words
        for name in (f.replace("_", " "), FLAG_WORDS.get(f, f)):
            reason = re.sub(rf"^{re.escape(name)}:\s*", "", reason)
    return (f'<p class="band-label"><span class="flag">{esc(", ".join(FLAG_WORDS.get(f, f) for f in flags))}</span> '
            f'<span class="muted">{esc(reason)}</span></p>')


def _turn_html(section: list, continued: bool, video_id) -> str:
    """One search section of a turn: a heading with the speaker (faint when inferred with low
    confidence) and the time of its first sentence (linked to itself; "~" when estimated), the
    video there, and the sentences, each a span with its line's anchor."""
    first = section[0]
    anchor = f"t{int(first.order)}"
    when = clock(first.start_s, estimated(first.time_source)) if not missing(first.start_s) else ""
    conf = [u.speaker_confidence for u in section if not missing(u.speaker_confidence)]
    inferred_ = first.speaker_source in ("model", "rule")
    faint = inferred_ and conf and sum(conf) / len(conf) < LOW_CONFIDENCE
    how = SPEAKER_SOURCE_WORDS.get(first.speaker_source, first.speaker_source) + (
        f", confidence {sum(conf) / len(conf):.0%}" if conf and inferred_ else "")
    name = first.speaker if not missing(first.speaker) else "unknown speaker"
    video = deep_link(video_id, first.start_s)
    head = (f'<h2 class="turn-head"><span class="who{" faint" if faint else ""}" title="{esc(how)}">{esc(name)}</span>'
            + (' <span class="muted">continued</span>' if continued else "")
            + (f' <a class="t" href="#{anchor}" title="{esc(TIME_SOURCE_WORDS.get(first.time_source, first.time_source))}">'
               f"{esc(when)}</a>" if when else "") + "</h2>"
            + (f'<a class="v" href="{esc(video)}" rel="noopener" title="play the video here">▶</a>' if video else ""))
    text = " ".join(f'<span class="s" id="{utterance_anchor(u.order)}">'
                    f"{esc(u.text if u.is_conversation or str(u.text).strip() else u.raw_text)}</span>" for u in section)
    classes = ["level2", "turn", f"role-{first.speaker_role}"] + ([] if first.is_conversation else ["flagged"])
    return f'<section class="{" ".join(classes)}" id="{anchor}">{head}<p>{text}</p></section>'


# ---------------------------------------------------------------- talk time, topics, speakers

def _episode_href(page: str):
    return lambda e: rel(page, episode_page(e))


def talk_time(data: SiteData) -> Page:
    page = "talk-time.qmd"
    if not data.has("talktime_episodes"):
        return Page(page, "Talk time", raw("<p>No talk-time tables yet: run <code>make speakers</code>.</p>"))
    te, sp = data["talktime_episodes"], data["talktime_speakers"]
    href = _episode_href(page)
    body = raw("<p>Who talks how much, in turns and questions, and how the balance between host and guest moves "
               "through each episode. Counts cover conversation only: noise is left out. Interview talk ratios "
               "are not sales calls: a guest-dominated interview is the format working, so no ideal ratio is drawn.</p>")
    body += raw(to_html(tt_figures.talk_share(data.with_names(sp))))
    body += "## Episodes side by side\n\n" + raw(tt_figures.episodes_table(te, data.names, href)
                                                 + tt_figures.measured_table(te, data.names, href))
    body += "## Turns {#turns}\n\n" + raw(
        "<p>A turn is a run of consecutive speech by one person; the longest is the episode's longest monologue.</p>"
        + to_html(tt_figures.turn_lengths(data.with_names(data["talktime_turns"]), data.with_names(te))))
    body += "## Balance through each episode\n\n" + raw(
        "<p>The guest's share of talk in 2.5-minute windows every 30 seconds.</p>"
        + to_html(tt_figures.balance(data.with_names(data["balance_timeline"]), data.with_names(te))))
    body += "## Every speaker\n\n" + raw(tt_figures.speakers_table(sp, data.names, href))
    return Page(page, "Talk time", body, subtitle="Talk time, turns, questions and the host-guest balance")


def topics_page(data: SiteData, llm_labels: pd.DataFrame | None = None) -> Page:
    page = "topics.qmd"
    if not data.has("topics"):
        return Page(page, "Topics", raw("<p>No topic model yet: run <code>make topics</code>.</p>"))
    topics = data["topics"]
    found = topics[topics["topic_id"] >= 0]
    body = raw(f"<p>The conversation is cut into passages of about 80 words and clustered into {len(found)} topics. "
               "<strong>Topic labels and keywords are made by the model, not by a person.</strong> "
               f"How the model was fitted and how it scores: {link('methods.qmd#topics', 'Methods')}.</p>")
    fig = topic_figures.topic_overview(topics, data.names)
    body += raw(to_html(fig, height=fig.layout.height))
    body += "## The topics\n\n" + raw(topic_table(data, page, llm_labels))
    if data.has("topics_per_episode"):
        fig = topic_figures.topics_per_episode(data.with_names(data["topics_per_episode"]), topics)
        body += "## Topics per episode and speaker\n\n" + raw(to_html(fig, height=fig.layout.height))
    if data.has("topics_per_speaker"):
        fig = topic_figures.topics_per_speaker(data["topics_per_speaker"])
        body += raw(to_html(fig, height=fig.layout.height))
    return Page(page, "Topics", body, subtitle="What the conversations are about, found by a topic model")


def topic_table(data: SiteData, page: str, llm_labels: pd.DataFrame | None = None) -> Html:
    """Every topic with its keywords, share and representative quote linked to its line."""
    first = (data["topic_passages"].set_index("passage_id")["first_order"] if data.has("topic_passages")
             else pd.Series(dtype=int))
    video_ids = data.episodes.set_index("episode_id")["video_id"].dropna().to_dict()
    return topic_figures.topic_table(
        data["topics"], data.names, video_ids,
        lambda e, passage: rel(page, transcript_page(e), utterance_anchor(first[passage]) if passage in first else ""),
        llm_labels)


def speakers_page(data: SiteData) -> Page:
    page = "speakers.qmd"
    if not data.has("talktime_people"):
        return Page(page, "Speakers", raw("<p>No talk-time tables yet: run <code>make speakers</code>.</p>"))
    ppl = data["talktime_people"].sort_values(["episodes", "talk_s"], ascending=False)
    multi = ppl[ppl["episodes"] > 1]
    body = raw(f"<p>{len(ppl)} people speak in the corpus; {len(multi)} of them in more than one episode. "
               "A person keeps one identity across episodes, so their figures add up.</p>")
    if len(multi):
        fig = findings.person_shares(data["talktime_speakers"], multi["speaker_id"].tolist(), data.names)
        body += raw(to_html(fig, height=fig.layout.height))
    body += "## Everyone\n\n" + raw(tt_figures.people_table(ppl, data.names, _episode_href(page)))
    return Page(page, "Speakers across episodes", body, subtitle="Everyone heard in the corpus")
