"""The reader pages, each built from the tables: home, one page and one transcript per
episode, talk time, topics, speakers, methods, data and explore. A page is Markdown whose
data-bearing parts are escaped HTML blocks, so Quarto renders it without a kernel."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import pandas as pd

from ..figures import findings, talktime as tt_figures, topics as topic_figures
from ..figures.export import to_html
from ..figures.talktime import method_note
from ..quotes import deep_link
from .data import SiteData, episode_page, transcript_page
from .format import (DASH, FLAG_WORDS, LOW_CONFIDENCE, SPEAKER_SOURCE_WORDS, TIME_SOURCE_WORDS, Html, clock, date,
                     esc, interactive_table, link, method_mix, missing, number, pct, table)


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


def estimated(time_source) -> bool:
    return not missing(time_source) and time_source not in ("file", "none")


def utterance_anchor(order) -> str:
    return f"u{int(order)}"


def _note(text: str) -> str:
    return f'<p class="method-note">{esc(text)}</p>' if text else ""


def _accuracy_note(data: SiteData, episode_ids) -> str:
    """Method notes (inferred speakers with measured accuracy, estimated times) for episodes."""
    if not data.has("talktime_episodes"):
        return ""
    rows = data["talktime_episodes"]
    rows = data.with_names(rows[rows["episode_id"].isin(list(episode_ids))])
    return method_note(rows).replace("<br>", "; ")


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


def episode_list(data: SiteData, page: str) -> Html:
    """Interactive table of the catalog's episodes with links to their pages."""
    te = data["talktime_episodes"].set_index("episode_id") if data.has("talktime_episodes") else pd.DataFrame()
    guests = data["speakers"].query("role == 'guest'").groupby("episode_id")["name"].agg(", ".join) \
        if data.has("speakers") else pd.Series(dtype=str)
    rows = []
    for e in data.episodes.itertuples():
        t = te.loc[e.episode_id] if e.episode_id in te.index else None
        rows.append({
            "episode": link(rel(page, episode_page(e.episode_id)), e.title),
            "show": e.show, "guests": guests.get(e.episode_id, DASH),
            "published": date(e.published) + ("" if e.published_basis == "stated" else f" ({e.published_basis})"),
            "duration": e.duration_s if not missing(e.duration_s) else (t["talk_s"] if t is not None else None),
            "format": str(e.transcript_format).replace("_", " "),
            "speakers": method_mix(t["attribution_method"]) if t is not None else DASH,
            "times": method_mix(t["time_method"]) if t is not None else DASH,
            "transcript": link(rel(page, transcript_page(e.episode_id)), "read"),
        })
    return interactive_table(pd.DataFrame(rows), {
        "episode": "Episode", "show": "Show", "guests": "Guests", "published": "Published",
        "duration": "Duration", "format": "Transcript format", "speakers": "How speakers were found",
        "times": "Where times come from", "transcript": "Transcript"}, {"duration": "clock"})


# ---------------------------------------------------------------- episode pages

def episode(data: SiteData, episode_id: str, sections=()) -> Page:
    page = episode_page(episode_id)
    e = data.episode(episode_id)
    facts = [("Show", esc(e["show"])),
             ("Published", esc(date(e["published"]) + ("" if e["published_basis"] == "stated" else f" ({e['published_basis']})"))),
             ("Duration", esc(clock(e["duration_s"]))), ("Recorded at", esc(e["venue"])),
             ("Episode page", link(e["url"], e["url"], external=True) if not missing(e["url"]) else esc(None)),
             ("Video", link(f"https://www.youtube.com/watch?v={e['video_id']}", "watch on YouTube", external=True)
              if not missing(e["video_id"]) else esc(None)),
             ("Transcript format", esc(str(e["transcript_format"]).replace("_", " "))),
             ("Source files", esc(str(e["source_files"]).replace(";", ", "))),
             ("Not stated in a source", esc(str(e["inferred_facts"]).replace(";", "; ") or None)),
             ("Transcript", link(rel(page, transcript_page(episode_id)), "read every line"))]
    body = raw('<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    note = _accuracy_note(data, [episode_id])
    if note:
        body += raw(f'<div class="callout-note method-box"><p><strong>How this episode was measured.</strong> '
                    f"{esc(note)}. {link(rel(page, 'methods.qmd'), 'Methods')}</p></div>")
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


def _interval(row, col: str, digits: int = 0) -> str:
    """``row[col]`` as a percentage; where ``col``_low/_high bound it, the expected value they
    belong to (``col``_expected when present) with the interval, which is left out when it
    rounds to a single value."""
    lo, hi = row.get(f"{col}_low"), row.get(f"{col}_high")
    if lo is None or hi is None or missing(lo) or missing(hi):
        return pct(row[col], digits)
    mid = row.get(f"{col}_expected")
    low, high = pct(lo, digits), pct(hi, digits)
    return pct(row[col] if mid is None or missing(mid) else mid, digits) + ("" if low == high else f" ({low}–{high})")


def _guest_from_host(te: pd.DataFrame) -> pd.DataFrame:
    """``te`` with the guests' expected talk share and interval, the complement of the hosts',
    on episodes whose counted talk is all host or guest (elsewhere the guests' share as is)."""
    if "host_talk_share_expected" not in te:
        return te
    two = (te["host_talk_share"] + te["guest_talk_share"] - 1).abs() < 1e-9
    return te.assign(guest_talk_share_expected=(1 - te["host_talk_share_expected"]).where(two, te["guest_talk_share"]),
                     guest_talk_share_low=(1 - te["host_talk_share_high"]).where(two),
                     guest_talk_share_high=(1 - te["host_talk_share_low"]).where(two))


def _speaker_table(speakers: pd.DataFrame) -> Html:
    rows = speakers.sort_values(["role", "talk_s"], ascending=[False, False])
    out = pd.DataFrame({
        "speaker": rows["speaker"], "role": rows["role"],
        "share": [_interval(r, "talk_share") for _, r in rows.iterrows()],
        "words": [number(v) for v in rows["words"]], "turns": [number(v) for v in rows["turns"]],
        "median": [clock(v) for v in rows["median_turn_s"]], "longest": [clock(v) for v in rows["longest_turn_s"]],
        "questions": [number(v) for v in rows["questions"]],
        "how": [method_mix(v) for v in rows["attribution_method"]],
    })
    return table(out, {"speaker": "Speaker", "role": "Role", "share": "Share of talk time",
                       "words": "Words", "turns": "Turns", "median": "Median turn", "longest": "Longest turn",
                       "questions": "Questions", "how": "How the speaker was found"},
                 numeric=("share", "words", "turns", "median", "longest", "questions"))


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


def quote_html(text, speaker, start_s, time_source, video_id, transcript_href, label="") -> str:
    when = clock(start_s, estimated(time_source))
    video = deep_link(video_id, start_s)
    return (f'<blockquote class="quote"><p>{esc(text)}</p><footer>{esc(speaker if not missing(speaker) else "unknown speaker")}'
            f" · {link(transcript_href, when)}" + (f" · {link(video, 'video', external=True)}" if video else "")
            + (f' · <span class="muted">{esc(label)}</span>' if label else "") + "</footer></blockquote>")


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

def transcript(data: SiteData, episode_id: str) -> Page:
    page = transcript_page(episode_id)
    e = data.episode(episode_id)
    utt = data.rows("utterances", episode_id).sort_values("order")
    chapters = data.rows("chapters", episode_id)
    timed_chapters = chapters.dropna(subset=["start_s"]).sort_values("start_s") if len(chapters) else chapters
    legend = ('<p class="transcript-legend">Times marked “~” are estimated; a <span class="who faint">faint name</span> '
              f"is a speaker inferred with confidence under {LOW_CONFIDENCE:.0%}; "
              '<span class="flag">greyed lines</span> are noise, left out of the figures. '
              f"Each time links to its line; {link(rel(page, episode_page(episode_id)), 'back to the episode')}.</p>")
    body = raw(legend)
    breaks = _section_breaks(utt, timed_chapters)
    lines: list[str] = []
    for u in utt.itertuples():
        if u.order in breaks:
            if lines:
                body += raw("\n".join(lines))
                lines = []
            body += f"## {md(breaks[u.order])}\n\n"
        lines.append(utterance_html(u, e["video_id"]))
    body += raw("\n".join(lines))
    return Page(page, f"Transcript: {e['title']}", body, subtitle=f"{e['show']} · {date(e['published'])}",
                meta={"toc": True, "toc-depth": 2})


def _section_breaks(utt: pd.DataFrame, chapters: pd.DataFrame) -> dict[int, str]:
    """Utterance order -> section heading: chapter starts, else every ten minutes when timed."""
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


def utterance_html(u, video_id) -> str:
    """One transcript line: anchor, time (linked to itself; '~' when estimated), video link,
    speaker (faint when inferred with low confidence), noise label, and the escaped text."""
    anchor = utterance_anchor(u.order)
    est = estimated(u.time_source)
    when = clock(u.start_s, est) if not missing(u.start_s) else "·"
    faint = (u.speaker_source in ("model", "rule") and not missing(u.speaker_confidence)
             and u.speaker_confidence < LOW_CONFIDENCE)
    who_title = SPEAKER_SOURCE_WORDS.get(u.speaker_source, u.speaker_source) + (
        f", confidence {u.speaker_confidence:.0%}" if not missing(u.speaker_confidence) else "")
    classes = ["utt", f"role-{u.speaker_role}"] + (["flagged"] if not u.is_conversation else [])
    video = deep_link(video_id, u.start_s)
    meta = (f'<a class="t" href="#{anchor}" title="{esc(TIME_SOURCE_WORDS.get(u.time_source, u.time_source))}">{esc(when)}</a>'
            + (f' <a class="v" href="{esc(video)}" rel="noopener" title="play at this moment">▶</a>' if video else "")
            + f' <span class="who{" faint" if faint else ""}" title="{esc(who_title)}">'
            f'{esc(u.speaker if not missing(u.speaker) else "unknown speaker")}</span>')
    if not u.is_conversation:
        flags = [f for f in str(u.flags).split(";") if f]
        reason = str(u.flag_reason)
        for f in flags:  # reasons may start with their flag's name
            reason = re.sub(rf"^{re.escape(f.replace('_', ' '))}:\s*", "", reason)
        meta += (f' <span class="flag">{esc(", ".join(FLAG_WORDS.get(f, f) for f in flags))}</span>'
                 f' <span class="muted">{esc(reason)}</span>')
    text = u.text if u.is_conversation or str(u.text).strip() else u.raw_text
    return f'<div class="{" ".join(classes)}" id="{anchor}"><div class="meta">{meta}</div><p>{esc(text)}</p></div>'


# ---------------------------------------------------------------- talk time, topics, speakers

def talk_time(data: SiteData) -> Page:
    page = "talk-time.qmd"
    if not data.has("talktime_episodes"):
        return Page(page, "Talk time", raw("<p>No talk-time tables yet: run <code>make speakers</code>.</p>"))
    te, sp = data["talktime_episodes"], data["talktime_speakers"]
    body = raw("<p>Who talks how much, in turns and questions, and how the balance between host and guest moves "
               "through each episode. Counts cover conversation only: noise is left out. Interview talk ratios "
               "are not sales calls: a guest-dominated interview is the format working, so no ideal ratio is drawn.</p>")
    body += raw(to_html(tt_figures.talk_share(data.with_names(sp)), height=140 + 45 * len(te)))
    body += "## Episodes side by side\n\n" + raw(talk_tables(data, page))
    body += "## Turns {#turns}\n\n" + raw(
        "<p>A turn is a run of consecutive speech by one person; the longest is the episode's longest monologue.</p>"
        + to_html(tt_figures.turn_lengths(data.with_names(data["talktime_turns"]), data.with_names(te)), height=420))
    body += "## Balance through each episode\n\n" + raw(
        "<p>The guest's share of talk in 2.5-minute windows every 30 seconds.</p>"
        + to_html(tt_figures.balance(data.with_names(data["balance_timeline"]), data.with_names(te)), height=460))
    body += "## Every speaker\n\n" + raw(speaker_table(data, page))
    return Page(page, "Talk time", body, subtitle="Talk time, turns, questions and the host-guest balance")


def talk_tables(data: SiteData, page: str) -> Html:
    """Episodes side by side: talk metrics, then how each was measured."""
    te = _guest_from_host(data["talktime_episodes"])
    episodes = [link(rel(page, episode_page(e)), data.names.get(e, e)) for e in te["episode_id"]]
    rows = pd.DataFrame({
        "episode": episodes,
        "guest": [_interval(r, "guest_talk_share") for _, r in te.iterrows()],
        "host": [_interval(r, "host_talk_share") for _, r in te.iterrows()],
        "talk": [clock(v) for v in te["talk_s"]], "turns": [number(v) for v in te["turns"]],
        "switches": [number(v, 1) for v in te["switches_per_5min"]],
        "questions": [number(v) for v in te["questions_per_hour"]],
        "longest": [clock(v) for v in te["longest_turn_s"]], "balance": te["balance_label"]})
    out = table(rows, {
        "episode": "Episode", "guest": "Guest share of talk", "host": "Host share of talk",
        "talk": "Talk time", "turns": "Turns", "switches": "Switches per 5 min", "questions": "Questions per hour",
        "longest": "Longest turn", "balance": "Balance"},
        numeric=("guest", "host", "talk", "turns", "switches", "questions", "longest"))
    how = pd.DataFrame({
        "episode": episodes, "times": [method_mix(v) for v in te["time_method"]],
        "speakers": [method_mix(v) for v in te["attribution_method"]],
        "accuracy": [pct(a) + " of words right when tested" if not missing(a) else DASH for a in te["attribution_accuracy"]]})
    return Html(out + table(how, {"episode": "Episode", "times": "Where times come from",
                                  "speakers": "How speakers were found",
                                  "accuracy": "Measured accuracy of inferred speakers"},
                            caption="How each episode was measured"))


def speaker_table(data: SiteData, page: str) -> Html:
    """Every speaker of every episode, sortable."""
    sp = data["talktime_speakers"]
    people = sp.sort_values(["episode_id", "role", "talk_s"], ascending=[True, False, False])
    return interactive_table(people.assign(
        episode=[link(rel(page, episode_page(e)), data.names.get(e, e)) for e in people["episode_id"]],
        how=[method_mix(v) for v in people["attribution_method"]]), {
        "episode": "Episode", "speaker": "Speaker", "role": "Role", "talk_share": "Share of talk", "talk_s": "Talk time",
        "words": "Words", "turns": "Turns", "median_turn_s": "Median turn", "longest_turn_s": "Longest turn",
        "questions": "Questions", "how": "How the speaker was found"},
        {"talk_share": "pct", "talk_s": "clock", "words": "int", "turns": "int", "median_turn_s": "clock",
         "longest_turn_s": "clock", "questions": "int"})


def topics_page(data: SiteData, llm_labels: pd.DataFrame | None = None) -> Page:
    page = "topics.qmd"
    if not data.has("topics"):
        return Page(page, "Topics", raw("<p>No topic model yet: run <code>make topics</code>.</p>"))
    topics = data["topics"]
    found = topics[topics["topic_id"] >= 0]
    body = raw(f"<p>The conversation is cut into passages of about 80 words and clustered into {len(found)} topics. "
               "<strong>Topic labels and keywords are made by the model, not by a person.</strong> "
               f"How the model was fitted and how it scores: {link('methods.qmd#topics', 'Methods')}.</p>")
    body += raw(to_html(topic_figures.topic_overview(topics)))
    body += "## The topics\n\n" + raw(topic_table(data, page, llm_labels))
    if data.has("topics_per_episode"):
        body += "## Topics per episode and speaker\n\n" + raw(
            to_html(topic_figures.topics_per_episode(data.with_names(data["topics_per_episode"]), topics),
                    height=260 + 40 * data["topics_per_episode"]["episode_id"].nunique()))
    if data.has("topics_per_speaker"):
        body += raw(to_html(topic_figures.topics_per_speaker(data["topics_per_speaker"])))
    return Page(page, "Topics", body, subtitle="What the conversations are about, found by a topic model")


def topic_table(data: SiteData, page: str, llm_labels: pd.DataFrame | None = None) -> Html:
    """Every topic with its keywords, size and representative quote, sortable."""
    topics = data["topics"]
    rows = topics.sort_values("passages", ascending=False)
    cols = {"label": "Topic (model-made label)"}
    if llm_labels is not None and len(llm_labels):
        rows = rows.merge(llm_labels, on="topic_id", how="left", suffixes=("", "_llm"))
        rows["llm"] = [Html(f"{esc(l)}<br><span class=\"muted\">{esc(d)} (model-made by {esc(m)})</span>")
                       if not missing(l) else DASH for l, d, m in zip(rows["label_llm"], rows["description"], rows["model"])]
        cols["llm"] = "Label and description written by a language model"
    rows["kw"] = rows["keywords"].str.replace(";", ", ")
    first = (data["topic_passages"].set_index("passage_id")["first_order"] if data.has("topic_passages")
             else pd.Series(dtype=int))
    rows["quote"] = [Html(quote_html(r.quote_text, r.quote_speaker, r.quote_start_s, r.quote_time_source,
                                     data.episode(r.quote_episode_id)["video_id"],
                                     rel(page, transcript_page(r.quote_episode_id),
                                         utterance_anchor(first[r.quote_passage_id]) if r.quote_passage_id in first else ""),
                                     data.names.get(r.quote_episode_id, r.quote_episode_id)))
                     if not missing(r.quote_text) else DASH for r in rows.itertuples()]
    return interactive_table(rows, {
        **cols, "kw": "Keywords", "passages": "Passages", "share": "Share of passages", "episodes": "Episodes",
        "quote": "Representative quote"}, {"passages": "int", "share": "pct", "episodes": "int"}, page_length=10)


def speakers_page(data: SiteData) -> Page:
    page = "speakers.qmd"
    if not data.has("talktime_people"):
        return Page(page, "Speakers", raw("<p>No talk-time tables yet: run <code>make speakers</code>.</p>"))
    ppl = data["talktime_people"].sort_values(["episodes", "talk_s"], ascending=False)
    multi = ppl[ppl["episodes"] > 1]
    body = raw(f"<p>{len(ppl)} people speak in the corpus; {len(multi)} of them in more than one episode. "
               "A person keeps one identity across episodes, so their figures add up.</p>")
    if len(multi):
        body += raw(to_html(findings.person_shares(data["talktime_speakers"], multi["speaker_id"].tolist(), data.names)))
    body += "## Everyone\n\n" + raw(people_table(data, page))
    return Page(page, "Speakers across episodes", body, subtitle="Everyone heard in the corpus")


def people_table(data: SiteData, page: str) -> Html:
    """Everyone in the corpus, across episodes, sortable."""
    ppl = data["talktime_people"].sort_values(["episodes", "talk_s"], ascending=False)
    rows = ppl.assign(
        in_=[Html(", ".join(link(rel(page, episode_page(e)), data.names.get(e, e)) for e in str(ids).split(";") if e))
             for ids in ppl["episode_ids"]],
        roles_=ppl["roles"].str.replace(";", ", "),
        how=["; ".join(method_mix(x) for x in str(v).split(";")) for v in ppl["attribution_method"]])
    return interactive_table(rows, {
        "name": "Name", "episodes": "Episodes", "in_": "Heard in", "roles_": "Roles", "talk_s": "Talk time",
        "words": "Words", "turns": "Turns", "questions": "Questions", "mean_talk_share": "Mean share of talk",
        "how": "How the speaker was found"},
        {"episodes": "int", "talk_s": "clock", "words": "int", "turns": "int", "questions": "int",
         "mean_talk_share": "pct"})


def quotes_html(hits: pd.DataFrame, data: SiteData, page: str) -> Html:
    """Hits of :func:`analysis.quotes.find_quotes` as quotes: the matching line, its speaker and
    time, a link to it in the transcript (for the context) and to the video moment."""
    if hits.empty:
        return Html("<p>No quote matches.</p>")
    utt = data["utterances"].set_index(["episode_id", "order"])
    return Html("".join(quote_html(utt.loc[(h.episode_id, h.order), "text"], h.speaker, h.start_s, h.time_source,
                                   data.episode(h.episode_id)["video_id"],
                                   rel(page, transcript_page(h.episode_id), utterance_anchor(h.order)),
                                   data.names.get(h.episode_id, h.episode_id)) for h in hits.itertuples()))
