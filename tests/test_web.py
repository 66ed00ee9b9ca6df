"""HTML and WARC inputs: FAQ pairs from schema.org markup (JSON-LD and microdata) and pages' main text.

The pages (tests/web_pages.py) are in Swahili, Hindi, French, Yoruba, Arabic, English and Chinese;
each plants the pairs a correct reader finds, and some plant broken markup to quarantine.
"""

from __future__ import annotations

import json
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from curation.inputs import expand_inputs
from curation.readers import SourceReader
from curation.recipe import InputSpec, Limits, WebSpec
from curation.web import page_faq, parse_page, string_to_text
from tests.conftest import load_stats, run_cli, step_stats, write_recipe
from tests.web_pages import (
    BROKEN_JSONLD_LINE,
    PAGES,
    ZH_ARTICLE,
    both_markups_page_yo,
    broken_jsonld_page_ar,
    write_warc,
)

FAQ = WebSpec(extract="faq")


def read_all(spec: InputSpec, tmp_path: Path):
    reader = SourceReader([spec], expand_inputs([spec]), str(tmp_path / "q"), Limits())
    docs = list(reader.run(None, 0, 1))
    quarantine = [json.loads(line) for line in (tmp_path / "q" / "00000.jsonl").read_text().splitlines()]
    counts = {key: value.total for key, value in reader.stats.stats.items()}
    return docs, quarantine, counts


def pairs_of(docs) -> list[tuple[str, str]]:
    return [(d.metadata["messages"][0]["content"], d.metadata["messages"][1]["content"]) for d in docs]


def planted() -> list[tuple[str, str]]:
    return [pair for page in PAGES for pair in page()[2]]


def write_pages(folder: Path) -> list[Path]:
    paths = []
    for index, page in enumerate(PAGES):
        _, html, _ = page()
        paths.append(folder / f"page{index}.html")
        paths[-1].write_text(html, encoding="utf-8")
    return paths


def test_faq_pairs_from_html_files_in_every_markup(tmp_path):
    write_pages(tmp_path)
    docs, quarantine, counts = read_all(InputSpec(path=str(tmp_path / "*.html"), web=FAQ), tmp_path)
    assert pairs_of(docs) == planted()  # HTML inside answers is plain text; the page marked twice gives one pair
    assert all(d.metadata["messages"][0]["role"] == "user" for d in docs)
    by_question = {d.metadata["messages"][0]["content"]: d for d in docs}
    swahili = by_question["Je, ninawezaje kufungua akaunti ya benki?"]
    assert swahili.metadata["source"] == "https://benki.example/sw/maswali:1"  # the canonical URL
    assert swahili.metadata["extra"] == {"url": "https://benki.example/sw/maswali", "markup": "jsonld",
                                         "page_lang": "sw"}
    assert by_question["क्या यह सेवा मुफ़्त है?"].metadata["extra"]["markup"] == "microdata"
    assert by_question["Combien de temps dure la livraison en France métropolitaine ?"].metadata["source"] \
        == "https://boutique.example/fr/aide:1"  # og:url
    broken_file = str(tmp_path / "page4.html")
    assert [(q["file"], q["line"], q["reason"]) for q in quarantine] == [
        (broken_file, BROKEN_JSONLD_LINE, "bad_jsonld"), (str(tmp_path / "page5.html"), 1, "faq_no_answer")]
    assert "كيف أتتبع طلبي" in quarantine[0]["excerpt"]
    assert counts["in/und"] == len(planted()) + 2 and counts["kept/und"] == len(planted())
    assert counts["web/pages_without_faq"] == 1 and counts["web/faq_pair_repeated_in_page"] == 1
    assert counts["web/jsonld_unparsed_not_faq"] == 1  # the article's broken Organization markup: not an FAQ


def test_faq_pairs_from_a_warc_carry_the_target_uri_and_quarantine_at_the_record_offset(tmp_path):
    pages = [page() for page in PAGES]
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, [(url, html) for url, html, _ in pages])
    docs, quarantine, counts = read_all(InputSpec(path=str(warc), web=FAQ), tmp_path)
    assert pairs_of(docs) == planted()
    assert {d.metadata["source"].rsplit(":", 1)[0] for d in docs} == {url for url, _, pairs in pages if pairs}
    assert [q["reason"] for q in quarantine] == ["bad_jsonld", "faq_no_answer"]
    broken_url = broken_jsonld_page_ar()[0]
    with open(warc, "rb") as fh:  # the offset is where the page's record starts in the .warc.gz
        fh.seek(quarantine[0]["line"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_headers.get_header("WARC-Target-URI") == broken_url
    assert quarantine[0]["detail"].startswith(f"{broken_url} line {BROKEN_JSONLD_LINE}:")
    assert counts["web/warc_request_records"] == 1 and counts["web/warc_not_html_responses"] == 1
    assert counts["web/warc_not_2xx_responses"] == 1


def test_main_text_mode_drops_navigation_and_quarantines_a_page_without_text(tmp_path):
    write_pages(tmp_path)
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "page6.html")), tmp_path)
    (doc,) = docs
    assert ZH_ARTICLE in doc.text and "关于我们" not in doc.text and "版权所有" not in doc.text
    assert doc.metadata["extra"]["title"] == "小镇读书节" and doc.metadata["extra"]["page_lang"] == "zh"
    docs, quarantine, _ = read_all(InputSpec(path=str(tmp_path / "page5.html"), format="html"), tmp_path)
    assert docs == [] and [q["reason"] for q in quarantine] == ["empty_text"]


def test_a_damaged_warc_keeps_the_pages_before_the_damage(tmp_path):
    pages = [page() for page in PAGES[:3]]
    warc = tmp_path / "bad.warc"
    write_warc(warc, [(url, html) for url, html, _ in pages], extra_records=False)
    data = warc.read_bytes()
    warc.write_bytes(data + b"this is not a record header\r\n\r\n")
    docs, quarantine, _ = read_all(InputSpec(path=str(warc), web=FAQ), tmp_path)
    assert pairs_of(docs) == [pair for _, _, pairs in pages for pair in pairs]
    assert [q["reason"] for q in quarantine] == ["unreadable_file"]
    # cut inside the last page: warcio reads it without complaint; its Content-Length tells it is half a page
    (tmp_path / "q").rename(tmp_path / "q1")
    warc.write_bytes(data[: len(data) - 200])
    docs, quarantine, _ = read_all(InputSpec(path=str(warc), web=FAQ), tmp_path)
    assert pairs_of(docs) == [pair for _, _, pairs in pages[:2] for pair in pairs]
    assert [(q["reason"], q["detail"].split(":")[0]) for q in quarantine] == [("truncated_record", "https")]


def test_markup_helpers_read_answers_as_plain_text():
    assert string_to_text("<p>One&nbsp;line.</p><ul><li>first</li><li>second</li></ul>a<br>b") == \
        "One line.\nfirst\nsecond\na\nb"  # a no-break space is a space
    assert string_to_text("x < y and y > z") == "x < y and y > z"  # no markup: left alone
    _, html, pairs = both_markups_page_yo()
    faq = page_faq(parse_page(html))
    assert [p.markup for p in faq.pairs] == ["jsonld", "microdata"] and faq.problems == []
    assert {(p.question, p.answer) for p in faq.pairs} == set(pairs)


def test_curate_run_on_a_warc_through_lid_and_dedup_accounts_for_every_pair(tmp_path):
    pages = [page() for page in PAGES]
    url, html, _ = pages[0]
    recrawl = (url + "?utm_source=feed", html)  # the same FAQ captured twice: its pairs are duplicates
    write_warc(tmp_path / "crawl.warc.gz", [(u, h) for u, h, _ in pages] + [recrawl])
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "recipe.yaml", {
        "name": "faq", "output": str(out),
        "inputs": [{"path": str(tmp_path / "*.warc.gz"), "web": {"extract": "faq"}}],
        "steps": [{"lid": {"label_only": True}}, {"dedup": {}}]})  # short questions score low: label, keep
    result = run_cli("run", recipe)
    assert result.exit_code == 0, result.output
    stats = load_stats(out)
    assert stats["accounting"]["ok"], stats["accounting"]
    read = step_stats(stats, "read")
    assert read["kept"] == len(planted()) + 2 and read["quarantined"] == {"bad_jsonld": 1, "faq_no_answer": 1}
    dedup = step_stats(stats, "dedup")
    assert dedup["dropped"] == {"exact_duplicate": 2}
    published = {lang: info["rows"] for lang, info in stats["languages"].items()}
    assert published == {"swh_Latn": 2, "hin_Deva": 2, "fra_Latn": 2, "yor_Latn": 1, "eng_Latn": 1}
    assert stats["other_counters"]["curate.read.web/pages_without_faq"] == 1
