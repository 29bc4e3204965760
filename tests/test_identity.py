"""Speaker identity: labels resolved to catalog people; names said in the text."""
from analysis.catalog import Episode, Person
from analysis.speakers.identity import named_people, resolve_labels


def _episode(hosts, guests, labels=None):
    return Episode(id="show-2024-01-01-x", title="t", show="s", published=None, files=[],
                   hosts=[Person(n, "host") for n in hosts], guests=[Person(n, "guest") for n in guests],
                   speaker_labels=labels or {})


def test_catalog_correction_and_file_label():
    ep = _episode(["Harry Stebbings"], ["Sam Altman"], {"Unknown": "Harry Stebbings"})
    out, warnings = resolve_labels({"Unknown": ["Hello."], "Sam Altman": ["Hi."]}, ep)
    assert (out["Unknown"].speaker_id, out["Unknown"].source, out["Unknown"].role) == ("harry-stebbings", "catalog_correction", "host")
    assert (out["Sam Altman"].speaker_id, out["Sam Altman"].source) == ("sam-altman", "file_label")
    assert warnings == []


def test_generic_labels_resolved_from_introduction_and_greeting():
    ep = _episode(["Lenny Rachitsky"], ["Sherwin Wu"])
    texts = {"SPEAKER_00": ["Hi, I'm Lenny Rachitsky.", "Welcome Sherwin, great to have you."],
             "SPEAKER_01": ["Thanks for having me."]}
    out, _ = resolve_labels(texts, ep)
    assert out["SPEAKER_00"].speaker_id == "lenny-rachitsky" and out["SPEAKER_00"].source == "introduction"
    assert out["SPEAKER_01"].speaker_id == "sherwin-wu" and out["SPEAKER_01"].source == "introduction"


def test_generic_label_without_evidence_stays_unresolved():
    ep = _episode(["Lenny Rachitsky"], ["Sherwin Wu"])
    out, warnings = resolve_labels({"SPEAKER_00": ["Good morning."]}, ep)
    assert out["SPEAKER_00"].speaker_id is None and out["SPEAKER_00"].source == "none"
    assert any("SPEAKER_00" in w for w in warnings)


def test_named_people_self_introduction_and_address():
    ep = _episode(["Alessio Fanelli", "swyx"], ["Michelle Pokrass"])
    speaking, other = named_people("Welcome to the podcast. This is Alessio, and I'm joined by my co-host swyx.", ep)
    assert speaking.name == "Alessio Fanelli" and other.name == "swyx"
    assert named_people("We're in the studio with Michelle, welcome.", ep) == (None, ep.guests[0])
    assert named_people("Yeah, thanks.", ep) == (None, None)
    lenny = _episode(["Lenny Rachitsky"], ["Sherwin Wu"])
    assert named_people("Thank you Lenny.", lenny) == (None, lenny.hosts[0])
    assert named_people("Sherwin, thank you so much for being here.", lenny) == (None, lenny.guests[0])


def test_catch_all_labels_are_never_one_person():
    from analysis.speakers.identity import is_catch_all, is_generic

    for label in ("Unknown Speaker", "Unknown", "Speaker ?", "unidentified speaker", "Multiple Speakers", "?"):
        assert is_catch_all(label) and is_generic(label), label
    for label in ("SPEAKER_00", "Speaker A", "Speaker 2", "Kelly Brandt"):
        assert not is_catch_all(label), label
    ep = _episode(["Kelly Brandt", "Allie Moreau"], ["Nina Feld"])
    texts = {"Unknown Speaker": ["Hi everyone, I'm Kelly Brandt.", "I'm Kelly, again.", "Thanks for having me."],
             "Speaker 2": ["Welcome, Nina."]}
    out, warnings = resolve_labels(texts, ep)
    assert out["Unknown Speaker"].speaker_id is None and out["Unknown Speaker"].source == "none"
    assert any("catch-all label 'Unknown Speaker'" in w for w in warnings)
    # with the catch-all set aside, one voice is left: "welcome, Nina" does not name it
    assert out["Speaker 2"].speaker_id is None
    # a catalog correction still wins over a catch-all label (20VC labels its host "Unknown")
    fixed = _episode(["Harry Stebbings"], ["Sam Altman"], {"Unknown": "Harry Stebbings"})
    assert resolve_labels({"Unknown": ["Hello."]}, fixed)[0]["Unknown"].speaker_id == "harry-stebbings"


def test_two_introductions_in_one_line_name_no_one():
    ep = _episode(["Kelly Brandt", "Allie Moreau"], ["Nina Feld"])
    assert named_people("Welcome to Kitchen Table. I'm Kelly. I'm Allie.", ep)[0] is None
    assert named_people("I'm Kelly, and this is Allie.", ep)[0] is None
    assert named_people("I'm Kelly. I'm Jo, the producer.", ep)[0] is None  # a name not in the catalog is someone too
    assert named_people("Hi, I'm Kelly.", ep)[0] == ep.hosts[0]
    texts = {"SPEAKER_0": ["Welcome to Kitchen Table. I'm Kelly. I'm Allie."], "SPEAKER_1": ["Thank you."]}
    assert resolve_labels(texts, ep)[0]["SPEAKER_0"].speaker_id is None


def test_introductions_are_counted_over_a_voices_own_cues():
    ep = _episode(["Lena Park", "Tom Avery"], ["Ravi Menon"])
    late = ["Hello.", "Right.", "Sure.", "Okay.", "Yes.", "For anyone new, I'm Tom Avery, the editor of Signal Weekly."]
    texts = {"SPEAKER_0": ["I'm Lena Park.", "Tom, over to you."], "SPEAKER_1": late,
             "SPEAKER_2": ["Thanks for having me, Lena."]}
    out, _ = resolve_labels(texts, ep)
    assert out["SPEAKER_0"].speaker_id == "lena-park" and out["SPEAKER_1"].speaker_id == "tom-avery"
    assert out["SPEAKER_2"].speaker_id is None  # three voices: being addressed by name settles nothing
    # a person claimed by two voices goes to the one that claims them more often, else to neither
    texts = {"SPEAKER_0": ["I'm Lena Park.", "This is Lena Park."], "SPEAKER_1": ["I'm Lena Park, quoting her."]}
    out, _ = resolve_labels(texts, ep)
    assert out["SPEAKER_0"].speaker_id == "lena-park" and out["SPEAKER_1"].speaker_id is None
    texts = {"SPEAKER_0": ["I'm Lena Park."], "SPEAKER_1": ["I'm Lena Park."]}
    out, _ = resolve_labels(texts, ep)
    assert out["SPEAKER_0"].speaker_id is None and out["SPEAKER_1"].speaker_id is None
