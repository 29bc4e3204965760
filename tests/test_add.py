"""`podlens new` and `podlens add`: a project of one's own, entries drafted from a Podcasting 2.0
feed served by a local HTTP server (one transcript URL answering 404, one too slow), a yt-dlp
info JSON with its subtitles, and bare transcript files of four formats (tests/data/)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SAMPLES

from analysis import config
from analysis.add import add
from analysis.add.draft import Draft, episode_id, parse_date
from analysis.catalog import load_catalog
from analysis.corpus import SPEAKERS, build_episode
from analysis.io import read_table
from analysis.project import STAGES, new_project
from analysis.themes.lexicon import load_lexicon
from analysis.topics.passages import PASSAGES
from analysis.topics.tables import TOPICS

ADD = SAMPLES / "add"
FORMATS = SAMPLES / "formats"
BARE = [FORMATS / n for n in ("markdown_bold.md", "rev.txt", "otter.txt", "voices.vtt")]
INFO = ADD / "ytdlp" / "Beekeeping basics [bK3eW9hive0].info.json"
SLOW_S = 3.0


class _Handler(SimpleHTTPRequestHandler):
    """Serves tests/data/add (and tests/data/formats as /formats/): feed.xml with the server's
    address filled in; /slow/NAME answers only after SLOW_S seconds; a missing file answers 404."""

    def do_GET(self):
        if self.path == "/feed.xml":
            body = (ADD / "feed.xml").read_text().replace("{{BASE}}", self.server.base).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/formats/"):  # the format samples
            self.directory, self.path = str(FORMATS), self.path.removeprefix("/formats")
        if self.path.startswith("/slow/"):
            time.sleep(SLOW_S)
            self.path = "/feed/" + self.path.rsplit("/", 1)[-1]
        super().do_GET()

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on a slow answer
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(ADD)))
    httpd.daemon_threads = True
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.base
    httpd.shutdown()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A new project, with podlens's paths pointed at it, and short HTTP timeouts."""
    root = tmp_path / "show"
    new_project(root)
    monkeypatch.setattr(config, "DATA", root / "data")
    monkeypatch.setattr(config, "CATALOG", root / "data" / "episodes.yaml")
    monkeypatch.setattr(config, "RAW", root / "data" / "raw")
    monkeypatch.setattr(config, "HTTP_TIMEOUT_S", 0.5)
    monkeypatch.setattr(config, "HTTP_RETRIES", 1)
    monkeypatch.setattr(config, "HTTP_BACKOFF_S", 0.0)
    return root


def _run(sources, **kw):
    out, err = [], []
    result = add([str(s) for s in sources], out=out.append, err=err.append, **kw)
    return result, "\n".join(out), err


def _entries(root: Path) -> dict[str, dict]:
    data = yaml.safe_load((root / "data" / "episodes.yaml").read_text())
    return {e["id"]: e for e in data["episodes"] or []}


def test_new_makes_a_project_that_builds_an_empty_catalog(tmp_path):
    root = tmp_path / "show"
    new_project(root)
    assert load_catalog(root / "data" / "episodes.yaml") == ([], [])
    assert (root / "data" / "raw").is_dir() and (root / "data" / "annotations" / "drafts").is_dir()
    assert (root / config.PROJECT_FILE).is_file()
    from analysis.entities.aliases import load_aliases

    themes = load_lexicon(root / "data" / "themes.yaml")
    assert len(themes) == 1 and len(themes[0].seeds) >= 3  # the one worked example
    assert load_aliases(root / "data" / "entities.yaml").entities == []
    with pytest.raises(ValueError, match="not an empty folder"):
        new_project(root)


def test_feed_adds_each_item_with_its_sources_and_skips_what_fails(project, server):
    result, out, err = _run([f"{server}/feed.xml"])
    entries = _entries(project)
    assert len(result.added) == 4 and len(entries) == 4
    by_guid = {e["guid"]: e for e in entries.values()}
    wax = by_guid["hive-minds-101"]
    assert wax["id"] == "hive-minds-2025-06-14-tomas-lindqvist"
    assert wax["title"] == "Wax, candles and the business of bees" and wax["show"] == "Hive Minds"
    assert str(wax["published"]) == "2025-06-14" and wax["duration_s"] == 4350 and wax["url"].endswith("/episodes/101")
    assert wax["hosts"] == [{"name": "Dana Whitfield", "role": "host"}]  # the producer is no host or guest
    assert wax["guests"] == [{"name": "Tomas Lindqvist", "role": "guest"}]
    # JSON is preferred over the SRT listed first; the chapters file is a summary
    assert [(f["path"], f["kind"]) for f in wax["files"]] == [
        ("raw/hive-minds-2025-06-14-tomas-lindqvist.transcript.json", "transcript"),
        ("raw/hive-minds-2025-06-14-tomas-lindqvist.chapters.json", "summary")]
    rooftop = by_guid["hive-minds-102"]
    assert rooftop["files"][0]["path"].endswith(".transcript.vtt")  # VTT over SRT
    assert rooftop["hosts"] == [{"name": "Dana Whitfield", "role": "host"}]  # the channel's host
    parks = by_guid["hive-minds-103"]
    assert parks["files"][0]["path"].endswith(".transcript.srt") and parks["duration_s"] == 2885
    assert [g["name"] for g in parks["guests"]] == ["Priya Raman"]  # role="Guest", any case
    frame = by_guid["hive-minds-104"]
    assert frame["files"][0]["path"].endswith(".transcript.srt")  # the JSON URL answered 404
    assert "provenance" in frame and frame["provenance"] == {}  # every fact was read in the feed
    # every field printed with where it came from
    assert "title         Wax, candles and the business of bees  (feed <item><title>)" in out
    assert "hosts         Dana Whitfield  (feed <item> <podcast:person role=host>)" in out
    assert "<podcast:transcript type=application/json>" in out
    assert "application/json: " in out and "HTTP 404" in out  # the fallback is said
    # generic labels of episode 104 are listed with the line to add
    assert "speaker label 'Speaker 1' (49 words) names no host or guest: add `speaker_labels: {Speaker 1: NAME}`" in out
    # one line per item that could not be added, naming it
    assert len(err) == 2, err
    assert any("item 5 'Winter stores'" in e and "timed out" in e for e in err)
    assert any("item 6 'Trailer'" in e and "no <podcast:transcript>" in e for e in err)
    # the raw files are the bytes served
    assert (project / "data" / wax["files"][0]["path"]).read_bytes() == (ADD / "feed" / "ep101.json").read_bytes()


def test_add_twice_adds_nothing_the_second_time(project, server):
    _run([f"{server}/feed.xml", INFO])
    before = (project / "data" / "episodes.yaml").read_bytes()
    raw = sorted(p.name for p in (project / "data" / "raw").iterdir())
    result, out, err = _run([f"{server}/feed.xml", INFO])
    assert result.added == [] and result.known == 5 and "added 0 episode(s)" in out
    assert (project / "data" / "episodes.yaml").read_bytes() == before
    assert sorted(p.name for p in (project / "data" / "raw").iterdir()) == raw
    assert len(err) == 2  # the two items that fail still fail, and say so


def test_feed_entries_build_as_the_corpus_reads_them(project, server):
    _run([f"{server}/feed.xml"])
    episodes, errors = load_catalog(config.CATALOG)
    assert errors == [] and len(episodes) == 4
    wax = next(e for e in episodes if e.id.endswith("tomas-lindqvist"))
    build = build_episode(wax, [])
    assert {u["speaker"] for u in build.utterances} == {"Dana Whitfield", "Tomas Lindqvist"}
    assert [c["title"] for c in build.chapters] == ["Welcome", "From cappings to candles", "Pricing beeswax",
                                                     "Where the candles sell"]
    assert {c["source"] for c in build.chapters} == {"chapters_file"}
    parks = next(e for e in episodes if e.id.endswith("priya-raman"))
    assert {u["speaker"] for u in build_episode(parks, []).utterances} == {"Dana Whitfield", "Priya Raman"}


def test_ytdlp_info_json_and_its_subtitles(project):
    result, out, err = _run([INFO], show=None)
    assert err == [] and len(result.added) == 1
    (e,) = _entries(project).values()
    assert e["title"] == "Beekeeping basics: your first inspection" and e["show"] == "Hive Minds"  # channel
    assert str(e["published"]) == "2025-03-01" and e["duration_s"] == 95 and e["video_id"] == "bK3eW9hive0"
    assert e["url"] == "https://www.youtube.com/watch?v=bK3eW9hive0"
    assert [(f["kind"], f["original_name"]) for f in e["files"]] == [
        ("transcript", "Beekeeping basics [bK3eW9hive0].en.vtt"), ("summary", INFO.name)]
    # nobody is named in the JSON: hosts and guests come from the caption labels, inferred
    assert e["provenance"]["hosts"]["basis"] == "inferred" and e["hosts"] and e["guests"]
    assert "published     2025-03-01  (info JSON (upload_date))" in out
    episodes, _ = load_catalog(config.CATALOG)
    build = build_episode(episodes[0], [])
    assert [c["title"] for c in build.chapters] == ["Suiting up", "The first frame"]
    assert build.episode["description"].startswith("Dana Whitfield and Lena Park")


def test_bare_files_of_four_formats(project):
    result, out, err = _run(BARE, show="Field Notes")
    assert err == [] and len(result.added) == 4
    entries = list(_entries(project).values())
    md = next(e for e in entries if e["files"][0]["original_name"] == "markdown_bold.md")
    # title and date from the file's own header, stated
    assert md["title"] == "Field Notes 42: Wax, candles and the business of bees"
    assert str(md["published"]) == "2025-06-14" and "published" not in md["provenance"]
    otter = next(e for e in entries if e["files"][0]["original_name"] == "otter.txt")
    assert otter["title"] == "Otter" and otter["provenance"]["title"]["basis"] == "inferred"
    assert otter["published"] is None and "-undated-" in otter["id"]
    assert otter["provenance"]["duration_s"]["basis"] == "approximate"  # the last timestamp
    assert otter["hosts"] == [{"name": "Dana Whitfield", "role": "host"}]  # in 3 of the 4 files
    assert otter["provenance"]["hosts"]["basis"] == "inferred"
    assert {e["files"][0]["original_name"]: e["files"][0]["path"].rsplit(".", 1)[-1] for e in entries} == {
        "markdown_bold.md": "md", "rev.txt": "txt", "otter.txt": "txt", "voices.vtt": "vtt"}
    assert len({e["id"] for e in entries}) == 4
    assert "title         Otter  (inferred: from the file name 'otter.txt')" in out


def test_errors_name_the_item_and_the_others_are_added(project, server):
    result, out, err = _run([ADD / "unknown-format.csv", f"{server}/not-a-feed.html", f"{server}/nothing.xml",
                             FORMATS / "rev.txt"], show="Field Notes")
    assert len(result.added) == 1 and "+ field-notes-undated-priya-raman" in out
    assert len(err) == 3, err
    assert any("unknown-format.csv" in e and "unknown transcript format" in e for e in err)
    assert any("not-a-feed.html: not an RSS or Atom feed" in e for e in err)
    assert any("nothing.xml: HTTP 404" in e for e in err)
    assert load_catalog(project / "data" / "episodes.yaml")[1] == []
    # bare files without --show: one line each, nothing added
    result, _, err = _run([FORMATS / "otter.txt"])
    needs_show = f"error: {FORMATS / 'otter.txt'}: a bare transcript file needs --show NAME (the show it belongs to)"
    assert result.added == [] and err == [needs_show]


def test_dry_run_writes_nothing(project, server):
    before = (project / "data" / "episodes.yaml").read_bytes()
    result, out, _ = _run([f"{server}/feed.xml"], dry_run=True)
    assert len(result.added) == 4 and "would add 4 episode(s)" in out
    assert (project / "data" / "episodes.yaml").read_bytes() == before
    assert list((project / "data" / "raw").iterdir()) == []


def test_appended_entries_keep_the_catalog_text(project):
    catalog = project / "data" / "episodes.yaml"
    before = catalog.read_text()
    _run([FORMATS / "rev.txt"], show="Field Notes")
    after = catalog.read_text()
    assert after.startswith(before)  # comments and order kept: the entry is appended as text
    _run([FORMATS / "otter.txt"], show="Field Notes")
    again = catalog.read_text()
    assert again.startswith(after) and len(load_catalog(catalog)[0]) == 2


def test_ids_follow_the_rules_and_never_collide():
    import datetime as dt

    d = Draft("x", fields={"show": "The Changelog: Software", "published": dt.date(2025, 9, 2),
                           "guests": [{"name": "Ama Asante", "role": "guest"}, {"name": "Wei Li", "role": "guest"}]})
    assert episode_id(d, set()) == "changelog-software-2025-09-02-asante-and-li"
    d = Draft("x", fields={"show": "Lenny's Podcast", "title": "The rooftop hives of Lisbon"})
    assert episode_id(d, set()) == "lennys-podcast-undated-rooftop-hives-lisbon"
    d.number = 42
    assert episode_id(d, {"lennys-podcast-undated-ep-42"}) == "lennys-podcast-undated-ep-42-2"
    assert episode_id(d, {"lennys-podcast-undated-ep-42", "lennys-podcast-undated-ep-42-2"}).endswith("-3")


@pytest.mark.parametrize("text,iso", [("2025-06-14", "2025-06-14"), ("20250614", "2025-06-14"),
                                      ("Sat, 14 Jun 2025 08:00:00 GMT", "2025-06-14"), ("June 14, 2025", "2025-06-14"),
                                      ("14 June 2025", "2025-06-14"), ("2025-13-45", None), ("soon", None)])
def test_dates(text, iso):
    assert (parse_date(text).isoformat() if parse_date(text) else None) == iso


def test_cli_in_a_project_folder_uses_it(tmp_path):
    """`podlens new`, then `podlens add` run inside the project (no PODLENS_ROOT) writes there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODLENS_")}
    run = partial(subprocess.run, capture_output=True, text=True, timeout=120, env=env, check=False)
    res = run([sys.executable, "-m", "analysis", "new", str(tmp_path / "show")], cwd=ROOT)
    assert res.returncode == 0, res.stderr
    sub = tmp_path / "show" / "data"  # any folder inside the project
    res = run([sys.executable, "-m", "analysis", "add", "--show", "Field Notes", str(FORMATS / "rev.txt")], cwd=sub)
    assert res.returncode == 0, res.stderr
    assert "field-notes-undated-priya-raman" in (tmp_path / "show" / "data" / "episodes.yaml").read_text()
    assert (tmp_path / "show" / "data" / "raw" / "field-notes-undated-priya-raman.transcript.txt").is_file()
    assert "priya-raman" not in (ROOT / "data" / "episodes.yaml").read_text()


@pytest.mark.slow
def test_new_add_build_make_a_site_of_its_own(tmp_path, server):
    """The README's commands on a fresh folder: new, add (a feed, bare files), build. The site is
    the project's own, holds none of the seed corpus, and a second build recomputes nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODLENS_")}
    env.update(PODLENS_HTTP_TIMEOUT_S="0.5", PODLENS_HTTP_RETRIES="0", PODLENS_WORKERS="2")
    root = tmp_path / "hive-minds"

    def podlens(*args, cwd=root):
        return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=900, check=False)

    seed_catalog = (ROOT / "data" / "episodes.yaml").read_bytes()
    assert podlens("new", root, cwd=tmp_path).returncode == 0
    assert podlens("add", f"{server}/feed.xml").returncode == 1  # two items fail, four are added
    # a folder: every sample of every format (enough passages for the topic model to find topics)
    res = podlens("add", "--show", "Hive Minds", FORMATS)
    chapters = (f"error: {FORMATS / 'podcasting20_chapters.json'}: podcasting20_chapters.json is a "
                "podcasting20_chapters file (metadata, not speech), not a transcript")
    info = (f"error: {FORMATS / 'ytdlp.info.json'}: no subtitle file beside it "
            "(<name>.<lang>.vtt|.srt|.json3|.ttml|.srv3); download with --write-subs --write-auto-subs --skip-download")
    assert res.returncode == 1 and sorted(res.stderr.splitlines()) == [chapters, info], res.stderr  # metadata samples
    ids = sorted(_entries(root))
    assert len(ids) == 4 + len(list(FORMATS.iterdir())) - 2
    res = podlens("build")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    site = root / "site"
    for page in ("index.qmd", "talk-time.qmd", "topics.qmd", "themes.qmd", "speakers.qmd", "methods.qmd", "_quarto.yml"):
        assert (site / page).is_file(), page
    assert sorted(p.stem for p in (site / "episodes").glob("*.qmd")) == ids
    assert sorted(p.stem for p in (site / "transcripts").glob("*.qmd")) == ids
    assert sorted(p.name for p in (site / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    text = "\n".join(p.read_text() for p in site.rglob("*") if p.suffix in (".qmd", ".ipynb"))
    assert "Hive Minds" in text and "Tomas Lindqvist" in text
    # no hand-labelled theme sample: the theme figures say their tags are unmeasured
    assert "not measured on this corpus (no hand-labelled sample)" in text
    assert "(embeddings + keywords), measured against a hand-labelled sample" not in text
    assert "The tagging has not been measured against a hand-labelled sample of this corpus" in text
    for seed in ("Sherwin", "OpenAI", "Lenny", "fine[- ]tun", "which function to call"):
        assert seed not in text, seed
    assert (ROOT / "data" / "episodes.yaml").read_bytes() == seed_catalog
    again = podlens("build")
    assert again.returncode == 0 and again.stdout.count("nothing recomputed") == len(STAGES), again.stdout[-2000:]
    # a starting lexicon from the fitted topics replaces the template, and loads
    res = podlens("themes", "draft")
    assert res.returncode == 0, res.stderr
    topics = read_table(TOPICS, root / "data" / "processed" / "topics.parquet")
    topics = topics[topics["topic_id"] >= 0]
    passages = " ".join(read_table(PASSAGES, root / "data" / "processed" / "topic_passages.parquet")["text"])
    drafted = load_lexicon(root / "data" / "themes.yaml")
    names = {w for n in read_table(SPEAKERS, root / "data" / "processed" / "speakers.parquet")["name"] for w in n.lower().split()}
    assert "tomas" in names and not {w for t in drafted for k in t.keywords for w in k.split()} & names
    assert [t.name for t in drafted] == topics.sort_values("share", ascending=False, kind="stable")["label"].tolist()
    for theme, keywords in zip(drafted, topics.sort_values("share", ascending=False, kind="stable")["keywords"]):
        assert theme.description.startswith("DRAFT from topic") and theme.seeds
        assert set(theme.keywords) <= set(keywords.split(";"))
        assert all(" ".join(seed.split()[:6]) in passages for seed in theme.seeds)  # sentences of the passages
    assert "# DRAFT theme lexicon" in (root / "data" / "themes.yaml").read_text()
    refused = podlens("themes", "draft")  # the lexicon is no longer the template
    assert refused.returncode == 1 and "--force" in refused.stderr


def test_an_id_held_by_a_raw_file_or_an_entry_is_not_reused(project):
    (project / "data" / "raw" / "field-notes-undated-priya-raman.transcript.txt").write_text("someone else's file\n")
    result, out, err = _run([FORMATS / "rev.txt"], show="Field Notes")
    assert err == [] and [d.id for d in result.added] == ["field-notes-undated-priya-raman-2"]
    assert "+ field-notes-undated-priya-raman-2" in out
    assert (project / "data" / "raw" / "field-notes-undated-priya-raman.transcript.txt").read_text() == "someone else's file\n"
    assert "field-notes-undated-priya-raman-2" in _entries(project)


def test_chapters_json_leaves_out_chapters_not_in_the_table_of_contents():
    from analysis.ingest import parse_text

    text = (FORMATS / "podcasting20_chapters.json").read_text().replace(
        '"title": "Pricing beeswax"', '"title": "Pricing beeswax", "toc": false')
    t = parse_text(text)
    assert t.kind == "summary" and [c.title for c in t.chapters] == ["Welcome", "From cappings to candles",
                                                                    "Where the candles sell"]
    assert [s.text for s in t.skipped if s.kind == "markup"] == ["Pricing beeswax"] and t.warnings == []


def test_a_folder_given_through_dot_dot_is_read_and_markers_are_told_apart(project, tmp_path, monkeypatch):
    """A folder named as `../files` (its path holds '..') stands for its files, hidden ones left
    out; without --show a metadata file is named as such; a short named label is a marker."""
    files = tmp_path / "files"
    (files / ".cache").mkdir(parents=True)
    turn = "we talked about the hives on the roof and how the colonies came through the winter this year " * 20
    (files / "2025-06-14 rooftop.md").write_text(f"**Dana Whitfield:** {turn}\n\n**Break:** \\[music\\] back soon\n\n"
                                                 f"**Marcus Obi:** {turn}\n\n**Sam:** {turn[:80]}\n")
    (files / ".cache" / "old.md").write_text(f"**Dana Whitfield:** {turn}\n")
    (files / "chapters.json").write_bytes((FORMATS / "podcasting20_chapters.json").read_bytes())
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(project)
    _, _, err = _run(["../files", "../empty"])
    assert err == ["error: ../empty: a folder without files",
                   "error: ../files/2025-06-14 rooftop.md: a bare transcript file needs --show NAME (the show it belongs to)",
                   ("error: ../files/chapters.json: chapters.json is a podcasting20_chapters file (metadata, not speech), "
                    "not a transcript")]
    result, out, err = _run(["../files"], show="Hive Minds")
    assert [d.id for d in result.added] == ["hive-minds-2025-06-14-marcus-obi"] and len(err) == 1
    assert ("speaker labels 'Break' (3 words), 'Sam' (16 words) name no host or guest; so few words look like a "
            "marker") in out
    assert "`speaker_labels: {Break: NAME}`" in out and "NAME one of" not in out


def test_a_project_reads_the_checkouts_measured_artifacts_and_writes_its_own(tmp_path):
    """A `podlens new` project has no speaker model or pair threshold of its own: it reads the
    checkout's (measured on the labelled corpus), and a command that measures them again writes
    into the project, never over the checkout's committed files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODLENS_")}
    assert subprocess.run([sys.executable, "-m", "analysis", "new", tmp_path / "p"], env=env,
                          capture_output=True, check=False).returncode == 0
    code = ("from analysis import config; print(config.SPEAKER_MODEL); print(config.PAIR_THRESHOLD); "
            "print(config.writable_artifact(config.SPEAKER_MODEL)); print(config.writable_artifact(config.PAIR_THRESHOLD))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "p", env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    project = (tmp_path / "p").resolve() / "data"
    assert out == [str(ROOT / "data" / "speakers.model.json"), str(ROOT / "data" / "pairs.threshold.json"),
                   str(project / "speakers.model.json"), str(project / "pairs.threshold.json")]
