"""Talk-time figures (talk share per episode, turn lengths, balance timeline) and reader tables
(episodes side by side, how each was measured, every speaker, everyone across episodes) from the
``talktime_*`` and ``balance_timeline`` tables. Captions say in reader words when speakers are
inferred from the text, with the accuracy measured (:func:`accuracy_words`), or times estimated;
the exact figures are on the site's Methods page."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from .findings import ROW_PX, two_lines
from .format import Html, clock, interactive_table, link, method_mix, missing, number, pct, table
from .palette import LEGEND_MAX_EPISODES, QUALITATIVE, ROLE_COLORS

INFERRED = ("model", "rule")  # speaker sources that are inferred from the text
# Accuracy columns of the talk-time tables, most specific first, with where the figure was
# measured; the first a row has is quoted: the episode's own (it has a reference), else the
# figure measured leaving one show out on other shows of the episode's input shape and cast.
ACCURACY_COLUMNS = (("attribution_accuracy", "on this episode"),
                    ("attribution_quoted_accuracy", "on other shows in this shape"))
Href = Callable[[str], "str | None"]  # episode id -> link to its page (None: no link)


def share_label(row: pd.Series, kind: str = "talk", name: str | None = None) -> str:
    """'Lenny Rachitsky 17% (14-20%)': a speaker's (or role's) expected share of talk time
    (``kind`` 'talk') or words ('word') with its interval; the interval is left out where it is
    a single value (no speaker relies on the model). ``name`` overrides the row's speaker or role."""
    who = name if name is not None else row.get("speaker", row.get("role", ""))
    mid, lo, hi = (row[f"{kind}_share_{p}"] for p in ("expected", "low", "high"))
    lo_pc, hi_pc = round(lo * 100), round(hi * 100)
    interval = f" ({lo_pc}-{hi_pc}%)" if (lo_pc, hi_pc) != (round(mid * 100),) * 2 else ""
    return f"{who} {mid:.0%}{interval}".strip()


def mix_share(mix, names) -> float:
    """Share (0-1) of the methods ``names`` in a method mix ('model 90%, rule 10%')."""
    if missing(mix):
        return 0.0
    total = 0.0
    for part in str(mix).split(", "):
        name, _, share = part.rpartition(" ")
        if name in names and share.endswith("%"):
            total += float(share[:-1]) / 100
    return total


def inferred(row) -> bool:
    """Whether a talk-time row relies on speakers inferred from the text."""
    return mix_share(row["attribution_method"], INFERRED) > 0


def estimated_times(row) -> bool:
    """Whether some of a talk-time row's times are estimated (not from the file)."""
    return mix_share(row["time_method"], ("file",)) < 1


def _in_ten(accuracy: float) -> str:
    n = int(float(accuracy) * 10 + 0.5)
    return "nearly every word" if n >= 10 else f"about {n} words in 10"


def _field(row, column: str):
    value = row.get(column) if hasattr(row, "get") else getattr(row, column, None)
    return None if value is None or missing(value) else value


def accuracy_words(row) -> str:
    """How right the inferred speakers of a talk-time row are, in words ('about 9 words in 10
    right on this episode'), from the first of ACCURACY_COLUMNS it has, and that the split is not
    clearly better than a simple guess (everyone is the guest; the other shows' average host
    share) where attribution_reliable is false; '' where none is measured."""
    for column, where in ACCURACY_COLUMNS:
        value = _field(row, column)
        if value is not None:
            reliable = _field(row, "attribution_reliable")
            weak = reliable is not None and not bool(reliable)
            return f"{_in_ten(value)} right {where}" + (", not clearly better than a simple guess" if weak else "")
    return ""


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def reader_note(rows: pd.DataFrame, many: int = 4) -> str:
    """What a reader should know about how talk-time ``rows`` (one or more per episode; the
    episode_id column holding display names) were measured, in sentences: whose speakers are
    inferred from the text and how often right, where times are estimated, and that inferred
    shares carry a range. '' when every speaker is named and every time is from the files.
    Beyond ``many`` episodes they are counted, not named."""
    per = rows.drop_duplicates("episode_id")
    if per.empty:
        return ""
    guessed = [r for _, r in per.iterrows() if inferred(r)]
    timed = [r["episode_id"] for _, r in per.iterrows() if estimated_times(r)]
    out = []
    if len(per) == 1:
        if guessed:
            acc = accuracy_words(guessed[0])
            out.append("Who speaks is inferred from the text" + (f": {acc}." if acc else
                                                                 "; its accuracy is not measured on this episode."))
        if timed:
            out.append("Times are estimated.")
    else:
        def where(names: list[str]) -> str:
            return ("every episode" if len(names) == len(per) else
                    f"{len(names)} of {len(per)} episodes" if len(names) > many else _listing(names))
        if guessed:  # named with their accuracy while few, else counted
            named = [f"{r['episode_id']} ({accuracy_words(r) or 'accuracy not measured there'})" for r in guessed]
            out.append("Who speaks is inferred from the text in "
                       + (_listing(named) if len(guessed) <= many else where([r["episode_id"] for r in guessed])) + ".")
        if timed:
            out.append(f"Times are estimated in {where(timed)}.")
    if guessed and "talk_share_low" in rows and (rows["talk_share_low"] < rows["talk_share_high"]).any():
        out.append("Shares that rest on inferred speakers are given with the range they may be off by.")
    return " ".join(out)


def measured_words(row) -> str:
    """How one episode's speakers and times were found, in a short phrase for tables."""
    if inferred(row):
        acc = accuracy_words(row)
        who = "speakers inferred from the text" + (f" ({acc})" if acc else "")
    elif mix_share(row["attribution_method"], ("catalog_correction", "reference")) > 0:
        who = "speakers named in the transcript, corrected by hand"
    else:
        who = "speakers named in the transcript"
    when = ("times estimated" if mix_share(row["time_method"], ("file",)) == 0 else
            "some times estimated" if estimated_times(row) else "times from the transcript")
    return f"{who}; {when}"


def _caption(fig: go.Figure, text: str) -> go.Figure:
    if text:
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=-0.2, showarrow=False,
                           align="left", xanchor="left", yanchor="top", font={"size": 10})
    return fig


def _flag(rows: pd.DataFrame) -> str:
    guessed = any(inferred(r) for _, r in rows.iterrows())
    timed = any(estimated_times(r) for _, r in rows.iterrows())
    parts = (["some speakers inferred"] if guessed else []) + (["some times estimated"] if timed else [])
    return f" ({', '.join(parts)})" if parts else ""


def talk_share(speakers: pd.DataFrame) -> go.Figure:
    """Stacked bars: each speaker's expected share of talk time, one bar per episode (``speakers``
    with episode names in episode_id), labelled with its interval (:func:`share_label`) where
    the label fits the bar."""
    fig = go.Figure()
    for _, r in speakers.sort_values(["role", "speaker"], ascending=[False, True]).iterrows():
        fig.add_bar(x=[r["talk_share_expected"]], y=[two_lines(r["episode_id"])], orientation="h",
                    name=f"{r['speaker']} ({r['role']})", marker_color=ROLE_COLORS.get(r["role"]), text=share_label(r),
                    textposition="inside", insidetextanchor="middle", showlegend=False,
                    hovertemplate=f"{share_label(r)} of the talk time ({r['role']})<extra></extra>")
    fig.update_layout(barmode="stack", title="Share of talk time per episode" + _flag(speakers),
                      uniformtext={"minsize": 9, "mode": "hide"}, height=140 + ROW_PX * speakers["episode_id"].nunique(),
                      xaxis={"title": "share of talk time", "tickformat": ".0%", "range": [0, 1]})
    return _caption(fig, reader_note(speakers))


def turn_lengths(turns: pd.DataFrame, episodes: pd.DataFrame) -> go.Figure:
    """Box plots of turn length (seconds, log scale) per episode and role, episodes down the side."""
    fig = go.Figure()
    for role in ("host", "guest"):
        t = turns[turns["role"] == role]
        fig.add_box(y=[two_lines(e) for e in t["episode_id"]], x=t["duration_s"], name=role, orientation="h",
                    marker_color=ROLE_COLORS[role], boxpoints="outliers", hoveron="points",
                    customdata=t[["speaker"]].fillna("unknown speaker").to_numpy(),
                    hovertemplate="%{customdata[0]} (" + role + "): a turn of %{x:.0f} s<extra></extra>")
    fig.update_layout(boxmode="group", title="Turn length by episode and role" + _flag(episodes),
                      xaxis={"title": "turn length (seconds, log scale)", "type": "log"},
                      yaxis={"autorange": "reversed"}, legend_title="role",
                      height=120 + 2 * ROW_PX * turns["episode_id"].nunique())
    return _caption(fig, reader_note(episodes))


def balance(timeline: pd.DataFrame, episodes: pd.DataFrame) -> go.Figure:
    """Guest share of talk in sliding windows, one line per episode, labelled with its balance summary."""
    fig = go.Figure()
    labels = episodes.set_index("episode_id")["balance_label"]
    many = timeline["episode_id"].nunique() > LEGEND_MAX_EPISODES  # then thin grey lines and their median
    for k, (ep, g) in enumerate(timeline.groupby("episode_id", sort=True)):
        line = {"color": "rgba(120,120,120,0.25)", "width": 1} if many else {"color": QUALITATIVE[k % len(QUALITATIVE)]}
        fig.add_scatter(x=g["window_start_s"] / 60, y=g["guest_share"], mode="lines", line=line,
                        name=f"{ep} ({labels.get(ep, '')})", showlegend=not many,
                        hovertemplate=f"{ep}: the guest holds %{{y:.0%}} of the talk in the 2.5 minutes from "
                                      "minute %{x:.1f}<extra></extra>")
    if many:
        median = timeline.groupby("window_start_s")["guest_share"].median()
        fig.add_scatter(x=median.index / 60, y=median.to_numpy(), mode="lines", line={"color": ROLE_COLORS["guest"], "width": 3},
                        name=f"median of {timeline['episode_id'].nunique()} episodes (grey: each episode)",
                        hovertemplate="median over the episodes: %{y:.0%} from minute %{x:.1f}<extra></extra>")
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999999")
    fig.update_layout(title="Guest share of talk, 2.5-minute windows" + _flag(episodes), showlegend=True, height=420,
                      xaxis={"title": "minutes from start"}, yaxis={"title": "guest share", "tickformat": ".0%",
                                                                    "range": [0, 1]})
    return _caption(fig, reader_note(episodes))


# ---------------------------------------------------------------- reader tables

def share_interval(row, col: str, digits: int = 0) -> str:
    """``row[col]`` as a percentage; where ``col``_low/_high bound it, the expected value they
    belong to (``col``_expected when present) with the interval, which is left out when it
    rounds to a single value."""
    lo, hi = row.get(f"{col}_low"), row.get(f"{col}_high")
    if lo is None or hi is None or missing(lo) or missing(hi):
        return pct(row[col], digits)
    mid = row.get(f"{col}_expected")
    low, high = pct(lo, digits), pct(hi, digits)
    return pct(row[col] if mid is None or missing(mid) else mid, digits) + ("" if low == high else f" ({low}–{high})")


def guest_from_host(te: pd.DataFrame) -> pd.DataFrame:
    """``te`` with the guests' expected talk share and interval, the complement of the hosts',
    on episodes whose counted talk is all host or guest (elsewhere the guests' share as is)."""
    if "host_talk_share_expected" not in te:
        return te
    two = (te["host_talk_share"] + te["guest_talk_share"] - 1).abs() < 1e-9
    return te.assign(guest_talk_share_expected=(1 - te["host_talk_share_expected"]).where(two, te["guest_talk_share"]),
                     guest_talk_share_low=(1 - te["host_talk_share_high"]).where(two),
                     guest_talk_share_high=(1 - te["host_talk_share_low"]).where(two))


def _named(ids, names: dict[str, str], href: Href | None) -> list:
    return [link(href(e) if href else None, names.get(e, e)) for e in ids]


def episodes_table(te: pd.DataFrame, names: dict[str, str], href: Href | None = None) -> Html:
    """Episodes side by side (table talktime_episodes): the guests' share with its range (the
    host's is the rest), talk time, switches, questions, the longest turn and the balance;
    ``href`` links the names."""
    te = guest_from_host(te)
    rows = pd.DataFrame({
        "episode": _named(te["episode_id"], names, href),
        "guest": [share_interval(r, "guest_talk_share") for _, r in te.iterrows()],
        "talk": [clock(v, estimated_times(r)) for v, (_, r) in zip(te["talk_s"], te.iterrows())],
        "switches": [number(v, 1) for v in te["switches_per_5min"]],
        "questions": [number(v) for v in te["questions_per_hour"]],
        "longest": [clock(v, estimated_times(r)) for v, (_, r) in zip(te["longest_turn_s"], te.iterrows())],
        "balance": te["balance_label"]})
    return table(rows, {
        "episode": "Episode", "guest": "Guest share of talk", "talk": "Talk time",
        "switches": "Speaker switches per 5 min", "questions": "Questions per hour", "longest": "Longest turn",
        "balance": "Balance"}, numeric=("guest", "talk", "switches", "questions", "longest"))


def measured_table(te: pd.DataFrame, names: dict[str, str], href: Href | None = None) -> Html:
    """How each episode was measured, in words (:func:`measured_words`)."""
    rows = pd.DataFrame({"episode": _named(te["episode_id"], names, href),
                         "how": [measured_words(r) for _, r in te.iterrows()]})
    return table(rows, {"episode": "Episode", "how": "How it was measured"}, caption="How each episode was measured")


def speakers_table(speakers: pd.DataFrame, names: dict[str, str], href: Href | None = None) -> Html:
    """Every speaker of every episode (table talktime_speakers), sortable."""
    people = speakers.sort_values(["episode_id", "role", "talk_s"], ascending=[True, False, False])
    return interactive_table(people.assign(
        episode=_named(people["episode_id"], names, href),
        how=[method_mix(v) for v in people["attribution_method"]]), {
        "episode": "Episode", "speaker": "Speaker", "role": "Role", "talk_share": "Share of talk", "talk_s": "Talk time",
        "words": "Words", "turns": "Turns", "longest_turn_s": "Longest turn", "questions": "Questions",
        "how": "How the speaker was found"},
        {"talk_share": "pct", "talk_s": "clock", "words": "int", "turns": "int", "longest_turn_s": "clock",
         "questions": "int"})


def people_table(people: pd.DataFrame, names: dict[str, str], href: Href | None = None) -> Html:
    """Everyone in the corpus across episodes (table talktime_people), sortable."""
    ppl = people.sort_values(["episodes", "talk_s"], ascending=False)
    rows = ppl.assign(
        in_=[Html(", ".join(_named([e for e in str(ids).split(";") if e], names, href))) for ids in ppl["episode_ids"]],
        roles_=ppl["roles"].str.replace(";", ", "),
        how=["; ".join(method_mix(x) for x in str(v).split(";")) for v in ppl["attribution_method"]])
    return interactive_table(rows, {
        "name": "Name", "episodes": "Episodes", "in_": "Heard in", "roles_": "Roles", "talk_s": "Talk time",
        "words": "Words", "questions": "Questions", "mean_talk_share": "Mean share of talk",
        "how": "How the speaker was found"},
        {"episodes": "int", "talk_s": "clock", "words": "int", "questions": "int", "mean_talk_share": "pct"})
