"""FAQ mining and main-text extraction from web pages: speed and pairs found, beside peers.

    PYTHONPATH=. python bench/bench_web.py [--pages 300]

Data: synthetic, made here (no web crawl is stored with the project): the test pages of
tests/web_pages.py (JSON-LD in @graph, nested and list forms, microdata, both markups on one page,
broken JSON-LD, a Question without an answer, an article without FAQ; 7 languages, 5 scripts),
cycled to `--pages` pages, each question numbered so every pair is distinct, each body padded with
~12 KB of article text and navigation so parsing costs what a real page does. Nothing was tuned on it.

Measured, one process:
- curate `web: {extract: faq}` over the HTML pages (curation.web.read_html_file) and over the same
  pages in one .warc.gz (read_warc, warcio), in pages/s, and pairs found vs planted;
- extruct (JSON-LD + microdata, errors ignored) on the same pages, its FAQPage output walked for
  (question, answer) pairs: the peer for FAQ extraction;
- curate `extract: text` vs trafilatura.extract alone (the same call inside): the cost of curate's
  own parse (title, language, canonical URL).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import extruct
import trafilatura

from curation.recipe import WebSpec
from curation.web import read_html_file, read_warc, string_to_text
from tests.web_pages import PAGES, write_warc

FILLER = ("<p>" + "The committee met again on Thursday to review the budget for the coming year, and several "
          "members asked for more time to read the report before the vote. " * 6 + "</p>") * 12
NAV = "<nav>" + " | ".join(f"<a href='/s{i}'>Section {i}</a>" for i in range(40)) + "</nav>"


def make_pages(count: int) -> list[tuple[str, str, list[tuple[str, str]]]]:
    pages = []
    for index in range(count):
        url, html, pairs = PAGES[index % len(PAGES)]()
        mark = f" ({index})"
        for question, _ in pairs:  # number the questions so the pages do not repeat each other
            html = html.replace(question, question + mark)
        html = html.replace("</body>", NAV + FILLER + "</body>", 1)
        pages.append((f"{url}/{index}", html, [(q + mark, a) for q, a in pairs]))
    return pages


def extruct_pairs(html: str, url: str) -> list[tuple[str, str]]:
    data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata"], errors="ignore", uniform=True)
    found: list[tuple[str, str]] = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            types = node.get("@type", [])
            types = types if isinstance(types, list) else [types]
            if any(str(t).endswith("Question") for t in types):
                answer = node.get("acceptedAnswer")
                answer = answer[0] if isinstance(answer, list) and answer else answer
                text = answer.get("text") if isinstance(answer, dict) else None
                if isinstance(node.get("name"), str) and isinstance(text, str):
                    found.append((" ".join(node["name"].split()), string_to_text(text)))
                return
            for value in node.values():
                walk(value)

    walk(data.get("json-ld", []))
    walk(data.get("microdata", []))
    return list(dict.fromkeys(found))  # a pair marked both ways, once


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    pages = make_pages(args.pages)
    planted = {pair for _, _, pairs in pages for pair in pairs}
    faq = WebSpec(extract="faq")
    print(f"{len(pages)} pages, {sum(len(h) for _, h, _ in pages) / len(pages) / 1024:.1f} KB each, "
          f"{len(planted)} pairs planted")

    def curate_html():
        return [(i.fields["question"], i.fields["answer"]) for url, html, _ in pages
                for i in read_html_file(io.BytesIO(html.encode()), url, faq, 10**7) if i.fields]

    with tempfile.TemporaryDirectory() as folder:
        warc = Path(folder) / "pages.warc.gz"
        write_warc(warc, [(url, html) for url, html, _ in pages], extra_records=False)

        def curate_warc():
            with open(warc, "rb") as fh:
                return [(i.fields["question"], i.fields["answer"]) for i in read_warc(fh, "w", faq, 10**7)
                        if i.fields]

        rows = []
        for name, fn in (("curate faq, HTML files", curate_html), ("curate faq, .warc.gz", curate_warc),
                         ("extruct json-ld + microdata", lambda: [p for u, h, _ in pages
                                                                  for p in extruct_pairs(h, u)])):
            found, seconds = timed(fn)
            rows.append((name, len(pages) / seconds, len(set(found) & planted), len(set(found) - planted)))
    text = WebSpec(extract="text")
    _, curate_text = timed(lambda: [list(read_html_file(io.BytesIO(h.encode()), u, text, 10**7))
                                    for u, h, _ in pages])
    _, alone = timed(lambda: [trafilatura.extract(h, url=u, include_comments=False) for u, h, _ in pages])
    print("| method | pages/s | planted pairs found | other pairs |")
    print("|---|---:|---:|---:|")
    for name, rate, hits, extra in rows:
        print(f"| {name} | {rate:,.0f} | {hits}/{len(planted)} | {extra} |")
    print(f"ratio curate faq (HTML) / extruct: {rows[0][1] / rows[2][1]:.1f}x")
    print(f"main text: curate `extract: text` {len(pages) / curate_text:,.0f} pages/s, trafilatura alone "
          f"{len(pages) / alone:,.0f} pages/s (ratio {alone / curate_text:.2f})")


if __name__ == "__main__":
    main()
