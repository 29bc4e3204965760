"""The pages about how and where: Methods (with the measured accuracy as tables), Data (every
canonical table as CSV and Parquet, with its dictionary) and Explore (the notebooks)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import yaml

from .. import config
from ..figures.format import FLAG_WORDS, Html, clock, esc, link, number, pct, table
from ..figures.topics import evaluation_tables
from .data import SiteData
from .pages import Page, raw

_COMMAND = re.compile(r"`python -m analysis ([a-z-]+)[^`]*`")

FLAG_METHODS = {
    "nonspeech": "a cue such as “(upbeat music)” instead of speech",
    "hallucination_loop": "six or more short segments in a row dominated by one text (a speech recogniser looping)",
    "timestamp_regression": "a time that runs backwards",
    "past_runtime": "a time past the episode's known runtime",
    "sponsor": "from an announcement (“brought to you by”, “support for this show comes from”, “thanks to our sponsor”) to the last call to action (a URL read aloud, a promo code)",
    "promo": "the show's own promotion (“subscribe to the show”, “leave a review”)",
    "cold_open": "an opening montage whose passages are said again later in the episode",
}


def methods(data: SiteData, notes: list[Page] = ()) -> Page:
    """The measured accuracy of each method as tables, after a list of the method notes
    (``notes``: the pages made from docs/, each stage's method and the command per figure)."""
    names = data.names
    utt = data["utterances"]
    flags = utt["flags"].str.split(";").explode()
    body = raw("<p>How each stage works, the figures measured on it and the command that reproduces each: "
               + ", ".join(str(link(n.path, n.title)) for n in notes) + ". Below, the accuracy measured on this "
               "corpus.</p>") if notes else ""
    body += "## Corpus and noise {#noise}\n\n" + raw(
        "<p>Each transcript is read by a reader for its format, chosen from its content "
        "(<code>python -m analysis inspect FILE</code> shows the choice). Every file's coverage is measured: the "
        "share of its text that reached the utterances, and each skipped stretch (markup, timing, header fields, "
        "a transcription tool's or editor's footer) with its lines and reason; text skipped for any other reason "
        "is a build warning. Nothing is deleted: lines that are not "
        "conversation are flagged with a reason, shown greyed in the transcripts and left out of metrics and "
        "models. Wrong speaker labels are corrected in the catalog (<code>data/episodes.yaml</code>), never in "
        "the raw files.</p>" + table(pd.DataFrame([
            {"flag": FLAG_WORDS[f], "rule": FLAG_METHODS[f], "n": number((flags == f).sum())} for f in FLAG_METHODS]),
            {"flag": "Flag", "rule": "What sets it", "n": "Lines flagged in the corpus"}, numeric=("n",)))
    ev = data.evaluations.get("speaker_evaluation")
    body += "## Speakers {#speakers}\n\n" + raw(
        "<p>Where a file names its speakers, the names are used, and the catalog corrects wrong or generic labels. "
        "For episodes with a <em>speaker reference</em> (written by reading the transcript in context, "
        "<code>data/annotations/</code>) the reference is the ground truth. Where a file does not name its "
        "speakers, a text-only model assigns each sentence to the host or a guest: a logistic regression on "
        "features that carry across shows (questions, second-person address, self-reference, names addressed, "
        "hosting phrases, interviewer moves) feeds a decoder that labels the whole sequence at once. Each "
        "episode is scored with a model trained on the <em>other</em> episodes only (leave-one-episode-out). "
        "Each line records how its speaker was found and a confidence; the transcripts show low-confidence "
        "names faint.</p>")
    body += raw(speaker_accuracy(ev, names)) if ev else ""
    body += "## Timings {#timings}\n\n" + raw(
        "<p>File timestamps are used where they exist. Elsewhere start and end times are estimated from speaking "
        "rates, pinned to anchors (chapter starts found in the text, the catalog runtime). Each line records its "
        "time source and an uncertainty; estimated times are shown with “~”. The error is measured by hiding the "
        "timestamps of an episode that has them.</p>")
    body += raw(timing_accuracy(ev, names)) if ev else ""
    body += "## Topics {#topics}\n\n" + raw(
        "<p>Passages of about 80 words that never cross a speaker change are embedded offline with a sentence "
        "model and clustered with BERTopic (seeded UMAP and HDBSCAN), with fillers removed from the vocabulary "
        "and outliers reassigned by similarity. Labels and keywords are made by the model. The evaluation "
        "compares it with a default BERTopic run on the same passages: NPMI coherence (do the keywords occur "
        "together), diversity (share of unique keywords), outliers and stability across runs.</p>")
    tev = data.evaluations.get("topic_evaluation")
    body += raw(evaluation_tables(tev)) if tev else ""
    body += "## Reproduce\n\n" + raw(
        f"<p><code>{'make all' if config.ROOT == config.PACKAGE_ROOT else 'podlens build'}</code> rebuilds every "
        "table, figure and page from the raw transcripts; "
        "<code>python -m analysis evaluate-speakers</code> and <code>python -m analysis evaluate-topics</code> "
        "print the evaluations above; <code>python -m analysis evaluate-themes</code>, "
        "<code>python -m analysis entities --check</code> and <code>python -m analysis evaluate-search</code> "
        "those of the Themes page.</p>")
    return Page("methods.qmd", "Methods", body, subtitle="How speakers, times, topics and noise were obtained, and how accurate each is")


def host_share_cell(a: dict) -> str:
    """One held-out episode's host word share: reference → best path, and, as processed, the expected
    share shown on the site with its interval (the posterior's, widened by the other episodes' error)."""
    cell = f"{pct(a['host_word_share_true'], 1)} → {pct(a['host_word_share_pred'], 1)}"
    if "shown_low" in a:
        cell += (f" / {pct(a['host_word_share_expected'], 1)} "
                 f"({pct(a['shown_low'], 1)}–{pct(a['shown_high'], 1)})")
    return cell


def _attribution_table(ev: dict, names: dict[str, str]) -> Html:
    rows = pd.DataFrame([{
        "episode": names.get(a["episode_id"], a["episode_id"]), "truth": a.get("truth", "reference"),
        "marks": ("kept" if a["turn_marks"] else "hidden") + (" (as processed)" if a["as_processed"] else ""),
        "word": pct(a["word_accuracy"], 1), "sentence": pct(a["sentence_accuracy"], 1),
        "clf": pct(a["classifier_only_word_accuracy"], 1),
        "host": host_share_cell(a),
        "conf": pct(a["confident_fraction"]),
        "accconf": pct(a["confident_accuracy"], 1) if a["confident_accuracy"] is not None else "–"}
        for a in ev["attribution"]])
    return table(rows, {"episode": "Held-out episode", "truth": "Scored against", "marks": "Turn marks",
                        "word": "Words right", "sentence": "Sentences right", "clf": "Classifier alone",
                        "host": "Host word share: reference → best path / shown (interval)",
                        "conf": "Confident sentences",
                        "accconf": "Right when confident"},
                 numeric=("word", "sentence", "clf", "conf", "accconf"),
                 caption="Speaker attribution, leave-one-episode-out")


def speaker_accuracy(ev: dict, names: dict[str, str]) -> Html:
    """The speaker evaluation (speaker_evaluation.json) as tables: attribution, file labels; a
    line saying it is not measured when no episode has a speaker reference (a new project)."""
    out = []
    if ev["attribution"]:
        out.append(_attribution_table(ev, names))
    else:
        out.append("<p>Speaker attribution is <strong>not measured</strong> on this corpus: no episode has a speaker "
                   "reference (<code>data/annotations/&lt;episode id&gt;.speakers.tsv</code>) to score it against.</p>")
    s = ev["summary"]
    if s.get("word_accuracy_mean") is not None:
        out.append(f"<p>Mean share of words attributed to the right person, as the episodes are processed: "
                    f"{pct(s['word_accuracy_mean'], 1)}.</p>")
    cross = ev.get("cross_show") or {}
    if cross.get("by_shape"):
        out.append(table(pd.DataFrame([{
            "shape": shape, "episodes": number(f["episodes"]), "shows": number(f["shows"]),
            "word": pct(f["word_accuracy"], 1), "guest": pct(f["guest_baseline_accuracy"], 1),
            "better": "yes" if f["clearly_better"] else "no", "within": pct(f["share_within_5"]),
            "covered": pct(f["interval_coverage"])} for shape, f in cross["by_shape"].items()]),
            {"shape": "Input shape", "episodes": "Episodes", "shows": "Shows", "word": "Words right",
             "guest": "Everyone is the guest", "better": "Clearly better", "within": "Host share within 5 points",
             "covered": "Interval holds the truth"},
            numeric=("episodes", "shows", "word", "guest", "within", "covered"),
            caption=f"Speaker attribution across shows, leave-one-show-out on {cross['corpus_files']} labelled "
                    "transcripts of other shows (Changelog Media, CC BY-SA 4.0)"))
    if ev.get("label_errors"):
        out.append(table(pd.DataFrame([{
            "episode": names.get(e["episode_id"], e["episode_id"]), "n": number(e["labelled_utterances"]),
            "wrong": pct(e["wrong_share"], 1), "words": pct(e["wrong_word_share"], 1)} for e in ev["label_errors"]]),
            {"episode": "Episode", "n": "Labelled lines", "wrong": "Lines naming the wrong person",
             "words": "Their share of words"}, numeric=("n", "wrong", "words"),
            caption="Speaker labels in the files, checked against the reference (the corpus corrects them)"))
    return Html("".join(out))


def timing_accuracy(ev: dict, names: dict[str, str]) -> Html:
    """Timing estimates and chapter anchors against file times, as tables."""
    out = []
    if ev.get("timing"):
        rows = [{"episode": names.get(t["episode_id"], t["episode_id"]),
                 "how": {"runtime_anchor": "speaking rate + runtime", "rate_only": "speaking rate only"}[k],
                 "median": clock(m["median_abs_error_s"]), "p90": clock(m["p90_abs_error_s"]),
                 "max": clock(m["max_abs_error_s"]),
                 "share": f"{pct(m['host_time_share_true'], 1)} → {pct(m['host_time_share_est'], 1)}",
                 "within": pct(m["within_stated_uncertainty"])}
                for t in ev["timing"] for k, m in t.items() if k in ("runtime_anchor", "rate_only")]
        out.append(table(pd.DataFrame(rows), {"episode": "Episode (timestamps hidden)", "how": "Estimated from",
                                               "median": "Median start error", "p90": "90th percentile", "max": "Largest",
                                               "share": "Host time share, true → estimated",
                                               "within": "Within the stated uncertainty"},
                          numeric=("median", "p90", "max", "within"), caption="Timing estimates against file timestamps"))
    if ev.get("anchors"):
        out.append(table(pd.DataFrame([{
            "episode": names.get(a["episode_id"], a["episode_id"]), "found": f"{a['anchors_located']} of {a['chapters']}",
            "median": clock(a["median_abs_error_s"]), "p90": clock(a["p90_abs_error_s"])} for a in ev["anchors"]]),
            {"episode": "Episode", "found": "Chapter starts found in the text", "median": "Median error, one left out",
             "p90": "90th percentile"}, numeric=("median", "p90"), caption="Chapter anchors"))
    return Html("".join(out))


def data_page(data: SiteData, downloads: list[tuple[str, str, int, str, int]]) -> Page:
    """``downloads``: (table, csv path, csv bytes, parquet path, parquet bytes) relative to site/."""
    from ..schema import REGISTRY

    rows = pd.DataFrame([{
        "table": Html(f'<a href="#table-{esc(n)}"><code>{esc(n)}</code></a>'),
        "what": reader_text(REGISTRY[n].description) if n in REGISTRY else "", "rows": number(len(data[n])),
        "csv": link(csv, f"CSV ({_size(cb)})", cls="download"), "parquet": link(pq, f"Parquet ({_size(pb)})", cls="download")}
        for n, csv, cb, pq, pb in downloads])
    body = raw("<p>Every table behind this site, as CSV (opens in a spreadsheet) and Parquet (keeps the types). "
               "Times are in seconds from the episode start, shares between 0 and 1; ';' joins lists in one cell.</p>"
               + table(rows, {"table": "Table", "what": "What it holds", "rows": "Rows", "csv": "CSV",
                              "parquet": "Parquet"}, numeric=("rows",)))
    body += "## Data dictionary\n\n"
    for n, *_ in downloads:
        if n not in REGISTRY:
            continue
        t = REGISTRY[n]
        cols = pd.DataFrame([{"c": Html(f"<code>{esc(c.name)}</code>"), "type": c.type,
                              "null": "yes" if c.nullable else "no",
                              "meaning": reader_text(c.description) + (f" One of: {', '.join(c.allowed)}." if c.allowed else "")}
                             for c in t.columns])
        key = f"Key: {', '.join(t.key)}. " if t.key else ""
        body += f"### {n} {{#table-{n}}}\n\n" + raw(f"<p>{esc(reader_text(t.description))} {esc(key)}</p>" + table(
            cols, {"c": "Column", "type": "Type", "null": "Can be empty", "meaning": "Meaning"}))
    return Page("data.qmd", "Data", body, subtitle="Download every table, with its dictionary")


def reader_text(description: str) -> str:
    """A schema description for readers: an inline command (`python -m analysis NAME ...`)
    becomes "the NAME command (see Methods)"; Methods lists the commands."""
    return _COMMAND.sub(lambda m: f"the {m.group(1)} command (see Methods)", description)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{max(1, round(n / 1e3))} kB"


def notebook_titles(notebooks: list[Path]) -> list[tuple[str, str, str]]:
    """(file name, title, subtitle) of each notebook, from its front-matter cell."""
    out = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        meta = {}
        if nb.cells and nb.cells[0].cell_type == "raw":
            meta = yaml.safe_load(nb.cells[0].source.strip().strip("-")) or {}
        out.append((path.name, meta.get("title", path.stem), meta.get("subtitle", "")))
    return out


def explore(notebooks: list[Path]) -> Page:
    items = "".join(f"<li>{link('notebooks/' + n, t)}{' — ' + str(esc(s)) if s else ''}</li>"
                    for n, t, s in notebook_titles(notebooks))
    body = raw("<p>The analysis notebooks, for readers who want the code. They are thin: each calls the "
               "<code>analysis</code> package, which holds the logic. Open them in JupyterLab with "
               "<code>make lab</code>; <code>python -m analysis notebooks</code> executes them for this site.</p>"
               f"<ul>{items}</ul>")
    return Page("explore.qmd", "Explore", body, subtitle="The notebooks behind the figures")
