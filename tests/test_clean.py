"""Noise detectors on small hand-written episodes: each one fires on its pattern and stays quiet
on ordinary conversation."""
from __future__ import annotations

import pytest

from analysis import clean


def utts(texts, starts=None) -> list[dict]:
    """Utterance dicts as the corpus build makes them (cues removed from ``text``)."""
    out = []
    for k, raw in enumerate(texts):
        text = clean.strip_cues(raw)
        out.append({"raw_text": raw, "text": text, "word_count": len(text.split()),
                    "start_s": None if starts is None else starts[k], "flags": [], "reasons": []})
    return out


def flags(items: list[dict], flag: str) -> list[int]:
    return [k for k, u in enumerate(items) if flag in u["flags"]]


def run(texts, starts=None, duration=None) -> list[dict]:
    items = utts(texts, starts)
    clean.flag_episode(items, duration)
    return items


CONVERSATION = [
    "So tell me how you got started working on developer platforms.",
    "I joined the company about four years ago, right before the first launch.",
    "What surprised you most in the first year?",
    "Honestly how fast customers found uses we had never imagined.",
    "Yeah.",
    "Can you give an example of one of those uses?",
    "A logistics company used it to read shipping manifests in twelve languages.",
    "That is wild. How did that change your roadmap?",
    "We started investing much more in structured outputs and evaluation tooling.",
    "Yeah, yeah.",
    "And how do you decide what to build next?",
    "We talk to a lot of developers and look at where they get stuck.",
]


def filler(n: int, offset: int = 0) -> list[str]:
    """Distinct sentences sharing no 4-word sequence with each other or with anything else."""
    return [f"Filler remark number {k + offset} concerns subject zq{k + offset} only." for k in range(n)]


# ---------------------------------------------------------------- cues and nonspeech

def test_split_edge_cues():
    assert clean.split_edge_cues("(upbeat music) Hey, everyone.") == [("(upbeat music)", True), ("Hey, everyone.", False)]
    assert clean.split_edge_cues("Thanks for having me. [laughter]") == [("Thanks for having me.", False), ("[laughter]", True)]
    assert clean.split_edge_cues("(music) (applause)") == [("(music) (applause)", True)]
    # a cue inside the text stays; a parenthetical that is no cue stays too
    assert clean.split_edge_cues("It was (laughs) great.") == [("It was (laughs) great.", False)]
    assert clean.split_edge_cues("(Stripe, for example) uses it.") == [("(Stripe, for example) uses it.", False)]


def test_strip_cues():
    assert clean.strip_cues("It was (laughs) great ♪ la la ♪ really.") == "It was great really."
    assert clean.strip_cues("We use the API (the new one) daily.") == "We use the API (the new one) daily."
    assert clean.strip_cues("[INAUDIBLE] so anyway") == "so anyway"


def test_nonspeech():
    items = run(["(upbeat music)", "Hello and welcome.", "[laughter]", "♪ ♪", "(inaudible) okay"])
    assert flags(items, "nonspeech") == [0, 2, 3]
    assert "upbeat music" in items[0]["reasons"][0]
    assert run(CONVERSATION)[0]["flags"] == []


# ---------------------------------------------------------------- hallucination loops

def test_loop_with_timestamps():
    texts = CONVERSATION[:4] + ["Yeah."] * 7 + ["Thank you."] + ["Yeah."] * 4 + CONVERSATION[5:9]
    starts = list(range(len(texts)))
    items = run(texts, starts)
    loop = flags(items, "hallucination_loop")
    assert loop == list(range(4, 16))
    assert "12 short segments in a row" in items[4]["reasons"][0] and "'yeah'" in items[4]["reasons"][0]
    assert flags(items, "timestamp_regression") == []


def test_short_answers_are_not_a_loop():
    # short back-channel replies between real sentences, and a short run of them
    texts = CONVERSATION + ["Yeah.", "Right.", "Yeah.", "Okay.", "Sure.", "Mm-hmm.", "Got it."]
    assert flags(run(texts), "hallucination_loop") == []
    assert flags(run(CONVERSATION[:3] + ["Yeah."] * 5 + CONVERSATION[3:]), "hallucination_loop") == []


def test_loop_across_a_cue():
    # the cue is nonspeech; the loop around it is still one run
    texts = CONVERSATION[:3] + ["Yeah."] * 4 + ["(music)"] + ["Yeah."] * 4
    items = run(texts)
    assert flags(items, "hallucination_loop") == [3, 4, 5, 6, 8, 9, 10, 11]
    assert flags(items, "nonspeech") == [7]


# ---------------------------------------------------------------- time anomalies

def test_timestamp_regression_and_past_runtime():
    starts = [0.0, 5.0, 10.0, 3.0, 12.0, 11.5, 20.0, 130.0, 100.5]  # 11.5: jitter within 1 s
    items = run(CONVERSATION[:9], starts, duration=100.0)
    assert flags(items, "timestamp_regression") == [3, 8]
    assert "starts at 3s, after a segment at 10s" in items[3]["reasons"][0]
    assert flags(items, "past_runtime") == [7]  # 100.5 is within the 1 s tolerance


def test_monotone_times_and_missing_times_not_flagged():
    items = run(CONVERSATION, [float(k) for k in range(len(CONVERSATION))], duration=60.0)
    assert all(u["flags"] == [] for u in items)
    items = run(CONVERSATION, [None, 1.0, None, 2.0] + [None] * 8, duration=None)
    assert all(u["flags"] == [] for u in items)


# ---------------------------------------------------------------- sponsor reads and promos

def test_sponsor_read_with_spoken_url():
    texts = (CONVERSATION[:5]
             + ["This episode is brought to you by Acme, the database for busy teams.",
                "Acme scales from zero to a billion rows without a migration.",
                "Engineers at a lot of great companies rely on it every day.",
                "Try it free at acme dot com slash pod."]
             + CONVERSATION[5:])
    items = run(texts)
    assert flags(items, "sponsor") == [5, 6, 7, 8]
    assert "sponsor read" in items[5]["reasons"][0]


def test_back_to_back_sponsor_reads_chain():
    texts = (CONVERSATION[:3]
             + ["A word from our sponsors.", "Globex makes payroll simple.", "Visit globex.io slash lenny.",
                "Initech runs your tests in seconds.", "Use code PODCAST for a month free."]
             + CONVERSATION[3:])
    assert flags(run(texts), "sponsor") == [3, 4, 5, 6, 7]


READS = {
    "support for this show comes from": [
        "Support for this show comes from Linear, the issue tracker our producers swear by.",
        "Linear keeps every bug, project and roadmap in one fast place.",
        "Try it free at linear.app slash fieldnotes."],
    "this episode is sponsored by": [
        "This episode is sponsored by Notion.",
        "Notion is where our team writes the show notes and plans each season.",
        "Get started for free at notion.so/fieldnotes."],
    "thanks to our sponsor": [
        "Thanks to our sponsor, Mercury, banking for startups.",
        "Mercury gives you checking, savings and cards without the branch visits.",
        "Apply in about ten minutes at mercury dot com."],
    "support for the podcast comes from": [
        "Support for the podcast and the following message come from Brightline.",
        "Brightline offers coaching for kids and their parents.",
        "Text FIELD to 55222 for twenty percent off your first month."],
    "a quick message from our partners": [
        "And now a quick message from our partners at Hatch.",
        "Hatch makes the sunrise alarm I use every morning.",
        "Download the app today and get your first month free."],
    "today's sponsor is": [
        "Today's sponsor is Fathom, the note taker for video calls.",
        "It writes the summary so you can actually listen.",
        "Sign up for free at fathom.video slash podcast."],
}


@pytest.mark.parametrize("phrase", sorted(READS))
def test_sponsor_reads_in_their_many_phrasings(phrase):
    texts = CONVERSATION[:6] + READS[phrase] + CONVERSATION[6:]
    items = run(texts)
    assert flags(items, "sponsor") == [6, 7, 8]
    assert not any("sponsor" in u["flags"] for u in items[:6] + items[9:])


def test_sponsor_like_phrases_in_conversation_are_not_reads():
    """The announcement alone never flags: without a call to action nearby it is conversation."""
    texts = (CONVERSATION[:4] + ["Support for the program comes from the city, mostly, and a few donors.",
                                 "The keynote was presented by their CTO, and it was made possible by a tiny team.",
                                 "Our sponsor is the university, which pays for the lab."]
             + CONVERSATION[4:])
    assert flags(run(texts), "sponsor") == []


def test_not_sponsor():
    # an announcement with no call to action, and a URL in conversation
    texts = (CONVERSATION[:4] + ["Our research was sponsored by a grant from the university."]
             + filler(40) + ["I read about it on example.com last week."] + CONVERSATION[4:])
    assert flags(run(texts), "sponsor") == []
    # a call to action too far (> 250 words) from the announcement
    far = CONVERSATION[:2] + ["This show is brought to you by Acme."] + filler(40) + ["Go to acme.com now."]
    assert flags(run(far), "sponsor") == []


def test_promo_outro():
    texts = CONVERSATION + ["Thank you so much for listening.",
                            "If you liked it, subscribe to the show wherever you listen.",
                            "It really helps.",
                            "Also consider leaving a rating on Apple Podcasts.",
                            "See you in the next episode."]
    items = run(texts)
    assert flags(items, "promo") == list(range(len(CONVERSATION), len(texts)))
    assert items[-3]["reasons"] == ["inside a show promotion"]


def test_not_promo():
    texts = CONVERSATION + ["I subscribe to the idea that small teams move faster.",
                            "Thanks for joining us today.", "We should review the rating system."]
    assert flags(run(texts), "promo") == []


# ---------------------------------------------------------------- cold opens

COLD = [
    "The models will eat your scaffolding for breakfast every single time.",
    "Engineers are turning into managers of whole fleets of coding agents.",
    "This is the worst the models will ever be from here on out.",
]


def test_cold_open_from_sentences_repeated_later():
    intro = ["Today my guest is a head of engineering at a model lab.", "Welcome to the podcast, it is great to have you."]
    texts = COLD + intro + filler(30) + [COLD[1]] + filler(10, 100) + [COLD[0], COLD[2]] + filler(20, 200)
    items = run(texts)
    assert flags(items, "cold_open") == [0, 1, 2]
    assert "said again later" in items[0]["reasons"][0]
    # the repetitions later in the episode are conversation
    assert all(u["flags"] == [] for u in items[3:])


def test_cold_open_tolerates_a_short_bridge():
    # a short unmatched line between clips is part of the cold open
    texts = [COLD[0], "Wow.", COLD[1], COLD[2], "Welcome to the show, everyone, this is our first guest ever on here."]
    texts += filler(40) + COLD + filler(20, 300)
    assert flags(run(texts), "cold_open") == [0, 1, 2, 3]


def test_no_cold_open():
    # an episode that starts with its introduction; nothing is said twice
    texts = ["Welcome to the podcast, today we talk about developer platforms."] + CONVERSATION + filler(40)
    assert flags(run(texts), "cold_open") == []
    # a single line repeated later is a callback, not a cold open
    texts = [COLD[0]] + ["Welcome to the show, everyone, this is our first guest ever on here."] + filler(40) + [COLD[0]]
    assert flags(run(texts), "cold_open") == []
    # the first utterance must belong to the cold open: clips after a long intro are not one
    long_intro = [" ".join(f"intro{k}" for k in range(40)) + "."]
    texts = long_intro + COLD + filler(60) + COLD
    assert flags(run(texts), "cold_open") == []


def test_cold_open_must_be_at_the_start():
    # repeated passages outside the opening window are not a cold open
    texts = filler(50) + COLD + filler(30, 100) + COLD
    assert flags(run(texts), "cold_open") == []


# ---------------------------------------------------------------- the whole episode

def test_flag_episode_on_conversation_flags_nothing():
    items = run(CONVERSATION * 2, [float(k) for k in range(24)], duration=100.0)
    assert all(u["flags"] == [] and u["reasons"] == [] for u in items)


def test_flags_are_known_and_reasons_align():
    texts = (["(music)"] + COLD + filler(30) + COLD
             + ["This episode is brought to you by Acme.", "Visit acme.com slash pod."]
             + ["Yeah."] * 8 + ["Thanks for listening and see you in the next episode."])
    items = run(texts)
    seen = {f for u in items for f in u["flags"]}
    assert seen == {"nonspeech", "cold_open", "sponsor", "hallucination_loop", "promo"}
    assert seen <= set(clean.FLAGS)
    for u in items:
        assert len(u["flags"]) == len(u["reasons"])
    assert flags(items, "cold_open") == [1, 2, 3]  # the cue before the clips is only nonspeech
    assert flags(items, "nonspeech") == [0]


@pytest.mark.parametrize("text", ["www.example.com/pod", "example dot com slash pod", "use code LISTEN",
                                  "request a demo today", "that's E-X-A-M-P-L-E dot com"])
def test_call_to_action_patterns(text):
    assert clean._CALL_TO_ACTION.search(text)
