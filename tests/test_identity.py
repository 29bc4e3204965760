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
