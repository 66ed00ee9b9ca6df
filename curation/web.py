"""Web pages as records: HTML files and WARC archives, read as main text or as FAQ pairs.

Two ways to read a page (`web.extract` in the recipe):

- `text`: the page's main text, without navigation, boilerplate and comments, extracted by
  trafilatura; one record per page.
- `faq`: one chat record per question/answer pair marked up as a schema.org `FAQPage`, in JSON-LD
  (`<script type="application/ld+json">`: `@graph`, lists, nested `mainEntity`, answers holding
  HTML) or in microdata (`itemscope`/`itemtype`/`itemprop`). This is the WebFAQ recipe (Dinzinger
  et al. 2025); language ID and near-dedup per pair are the recipe's own `lid` and `dedup` steps.

The reader turns each page into `WebItem`s: a record's fields, a quarantine entry (broken markup,
a question without an answer: the file and the line of the markup, or the WARC record's offset),
or a tally of something that is not a record (a page with no FAQ, a WARC record that is not an
HTML page). `curation.readers` counts and writes them like every other input.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import lxml.etree
import lxml.html

from curation.errors import RecordError
from curation.recipe import WebSpec

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Elements after which a line ends when markup becomes plain text.
BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
              "article", "blockquote", "pre", "dd", "dt", "dl"}
LOOKS_LIKE_MARKUP = re.compile(r"<[a-zA-Z/!]|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
SCHEMA_PREFIXES = ("", "schema:", "http://schema.org/", "https://schema.org/")
MAX_JSONLD_DEPTH = 64  # deeper JSON-LD is not FAQ markup anyone writes; it is not walked


@dataclass
class WebItem:
    """One thing found in a page: a record's `fields`, an `error` to quarantine, or a `tally` to count."""

    url: str
    position: int  # the markup's line in an HTML file; the record's byte offset in a WARC file
    fields: dict[str, Any] | None = None
    error: RecordError | None = None
    excerpt: str = ""
    tally: str | None = None


@dataclass
class FaqPair:
    question: str
    answer: str
    markup: str  # jsonld | microdata
    line: int


@dataclass
class PageFaq:
    """What one page's FAQ markup held: pairs, and the problems found on the way."""

    pairs: list[FaqPair] = field(default_factory=list)
    problems: list[tuple[int, RecordError, str]] = field(default_factory=list)  # (line, error, excerpt)
    unparsed_other_jsonld: int = 0


# -- bytes -> text -> tree ----------------------------------------------------------------------------
def charset_of(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def decode_html(raw: bytes, declared: str | None = None) -> str:
    """Bytes to text: the charset the server declared, else the page's <meta charset>, else UTF-8, else
    windows-1252 (what browsers assume for an undeclared page, as the HTML standard says)."""
    meta = META_CHARSET.search(raw[:4096])
    for charset in (declared, meta.group(1).decode("ascii") if meta else None, "utf-8"):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("cp1252", errors="replace")


def parse_page(html: str) -> lxml.html.HtmlElement:
    """A forgiving parse (libxml2's HTML parser, as browsers forgive); raises RecordError on no markup."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError) as e:
        raise RecordError("bad_html", str(e)) from None


def page_url(tree: lxml.html.HtmlElement, fallback: str) -> str:
    """The page's own address: <link rel=canonical>, else og:url, else where it was read from."""
    for xpath in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        found = [v.strip() for v in tree.xpath(xpath) if v.strip()]
        if found:
            return found[0]
    return fallback


def markup_to_text(element: lxml.html.HtmlElement) -> str:
    """Plain text of an element: one line per block and <br>, runs of spaces collapsed. Works on a copy."""
    element = copy.deepcopy(element)
    for bad in element.xpath(".//script|.//style"):
        bad.drop_tree()
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag in BLOCK_TAGS:
            node.text = "\n" + (node.text or "")
        if node.tag == "br" or node.tag in BLOCK_TAGS:
            node.tail = "\n" + (node.tail or "")
    lines = (" ".join(line.split()) for line in element.text_content().split("\n"))
    return "\n".join(line for line in lines if line).strip()


def string_to_text(value: str) -> str:
    """A JSON-LD string that may hold HTML (`<p>...</p>`, `&amp;`) as plain text."""
    if not LOOKS_LIKE_MARKUP.search(value):
        return "\n".join(" ".join(line.split()) for line in value.splitlines() if line.strip()).strip()
    try:
        return markup_to_text(lxml.html.fragment_fromstring(value, create_parent="div"))
    except (lxml.etree.ParserError, ValueError):
        return value.strip()


# -- JSON-LD ---------------------------------------------------------------------------------------------
def _prop(node: dict[str, Any], name: str) -> Any:
    """A property however the page spells its vocabulary (`name`, `schema:name`, `https://schema.org/name`)."""
    for prefix in SCHEMA_PREFIXES:
        if prefix + name in node:
            return node[prefix + name]
    return None


def _is_type(node: Any, name: str) -> bool:
    if not isinstance(node, dict):
        return False
    types = node.get("@type", [])
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and re.split(r"[/:#]", t)[-1] == name for t in types)


def _literal(value: Any) -> str | None:
    """A text value: a string, `{"@value": ...}`, or the first of a list of those."""
    if isinstance(value, list):
        return next((text for v in value if (text := _literal(v))), None)
    if isinstance(value, dict):
        value = value.get("@value", _prop(value, "text"))
    return value if isinstance(value, str) and value.strip() else None


def _nodes_of_type(data: Any, name: str, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object of a type anywhere in a JSON-LD document (lists, @graph, nesting), outermost first."""
    if depth > MAX_JSONLD_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _nodes_of_type(item, name, depth + 1)
    elif isinstance(data, dict):
        if _is_type(data, name):
            yield data
            return  # an FAQPage inside an FAQPage is the same FAQ
        for value in data.values():
            yield from _nodes_of_type(value, name, depth + 1)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def jsonld_questions(page: dict[str, Any]) -> Iterator[tuple[str | None, str | None]]:
    """(question, answer) of each Question an FAQPage holds; None where the markup lacks one."""
    for question in _as_list(_prop(page, "mainEntity")):
        if not _is_type(question, "Question"):
            continue
        answers = _as_list(_prop(question, "acceptedAnswer")) or _as_list(_prop(question, "suggestedAnswer"))
        answer = next((text for a in answers if (text := _literal(a))), None)
        name = _literal(_prop(question, "name")) or _literal(_prop(question, "text"))
        yield (string_to_text(name) if name else None), (string_to_text(answer) if answer else None)


def _load_jsonld(text: str) -> Any:
    # Pages wrap JSON-LD in HTML comments or CDATA for old browsers; json (strict=False) takes the raw
    # line breaks inside strings that hand-written JSON-LD often has.
    text = text.strip()
    for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("//<![CDATA[", "//]]>")):
        if text.startswith(opener) and text.endswith(closer):
            text = text[len(opener):-len(closer)].strip()
    return json.loads(text, strict=False)


def _add_pair(faq: PageFaq, question: str | None, answer: str | None, markup: str, line: int, excerpt: str) -> None:
    if not question:
        faq.problems.append((line, RecordError("faq_no_question", f"{markup}: a Question without a name"), excerpt))
    elif not answer:
        faq.problems.append((line, RecordError("faq_no_answer", f"{markup}: no accepted answer text for "
                                                f"{question[:80]!r}"), excerpt))
    else:
        faq.pairs.append(FaqPair(question, answer, markup, line))


def read_jsonld(tree: lxml.html.HtmlElement, faq: PageFaq) -> None:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        text = script.text or ""
        try:
            data = _load_jsonld(text)
        except (json.JSONDecodeError, RecursionError) as e:
            # Broken markup that may have held the FAQ is quarantined; broken markup of something else
            # (an Organization, a BreadcrumbList) is not this reader's business and is only tallied.
            if "FAQPage" in text or "Question" in text:
                faq.problems.append((script.sourceline or 0, RecordError("bad_jsonld", str(e)), text))
            else:
                faq.unparsed_other_jsonld += 1
            continue
        for page in _nodes_of_type(data, "FAQPage"):
            for question, answer in jsonld_questions(page):
                _add_pair(faq, question, answer, "jsonld", script.sourceline or 0, text)


# -- microdata ------------------------------------------------------------------------------------------
def _itemtype_is(element: lxml.html.HtmlElement, name: str) -> bool:
    return any(re.split(r"[/:#]", t)[-1] == name for t in (element.get("itemtype") or "").split())


def _item_props(scope: lxml.html.HtmlElement, name: str) -> list[lxml.html.HtmlElement]:
    """Elements carrying `itemprop=name` that belong to this item, not to an item nested inside it."""
    found = []
    for element in scope.iterdescendants():
        if not isinstance(element.tag, str) or name not in (element.get("itemprop") or "").split():
            continue
        owner = element.getparent()
        while owner is not None and owner.get("itemscope") is None:
            owner = owner.getparent()
        if owner is scope:
            found.append(element)
    return found


def _prop_text(element: lxml.html.HtmlElement) -> str | None:
    value = element.get("content") if element.tag == "meta" else markup_to_text(element)
    return value.strip() if value and value.strip() else None


def read_microdata(tree: lxml.html.HtmlElement, faq: PageFaq) -> None:
    for page in tree.xpath("//*[@itemscope][@itemtype]"):
        if not _itemtype_is(page, "FAQPage"):
            continue
        for question in page.iterdescendants():
            if not isinstance(question.tag, str) or question.get("itemscope") is None \
                    or not _itemtype_is(question, "Question"):
                continue
            names = [text for e in _item_props(question, "name") if (text := _prop_text(e))]
            answers = _item_props(question, "acceptedAnswer") or _item_props(question, "suggestedAnswer")
            texts = [text for a in answers for e in _item_props(a, "text") if (text := _prop_text(e))]
            excerpt = lxml.html.tostring(question, encoding="unicode")[:400]
            _add_pair(faq, names[0] if names else None, texts[0] if texts else None, "microdata",
                      question.sourceline or 0, excerpt)


def page_faq(tree: lxml.html.HtmlElement) -> PageFaq:
    """Every FAQ pair a page marks up, JSON-LD first; a pair marked both ways is found once."""
    faq = PageFaq()
    read_jsonld(tree, faq)
    read_microdata(tree, faq)
    return faq


# -- pages -> items ---------------------------------------------------------------------------------------
def _normalized(text: str) -> str:
    return " ".join(text.casefold().split())


def faq_items(tree: lxml.html.HtmlElement, url: str, where: int, in_warc: bool) -> Iterator[WebItem]:
    """One item per distinct pair and per problem. `where`: the WARC offset (in_warc) or unused."""
    faq = page_faq(tree)
    lang = (tree.get("lang") or "").strip() or None
    if faq.unparsed_other_jsonld:
        yield WebItem(url, where, tally="jsonld_unparsed_not_faq")
    for line, error, excerpt in faq.problems:
        if in_warc:
            error = RecordError(error.reason, f"{url} line {line}: {error.detail}")
        yield WebItem(url, where if in_warc else line, error=error, excerpt=excerpt)
    seen: set[tuple[str, str]] = set()
    for pair in faq.pairs:
        key = (_normalized(pair.question), _normalized(pair.answer))
        if key in seen:
            yield WebItem(url, where, tally="faq_pair_repeated_in_page")  # the same FAQ in JSON-LD and microdata
            continue
        seen.add(key)
        fields = {"question": pair.question, "answer": pair.answer, "url": url, "markup": pair.markup}
        if lang:
            fields["page_lang"] = lang
        yield WebItem(url, len(seen), fields=fields)
    if not faq.pairs and not faq.problems:
        yield WebItem(url, where, tally="pages_without_faq")


def main_text_item(html: str, tree: lxml.html.HtmlElement, url: str, where: int, options: WebSpec) -> WebItem:
    import trafilatura  # ~0.4 s to import: only `extract: text` inputs pay for it

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=options.include_tables,
                               favor_precision=options.favor == "precision", favor_recall=options.favor == "recall")
    if not text or not text.strip():
        return WebItem(url, where, error=RecordError("empty_text", f"{url}: no main text found"), excerpt=html[:200])
    fields: dict[str, Any] = {"text": text, "url": url}
    title = tree.findtext(".//title")
    if title and title.strip():
        fields["title"] = " ".join(title.split())
    if (lang := (tree.get("lang") or "").strip()):
        fields["page_lang"] = lang
    return WebItem(url, 1, fields=fields)


def page_items(raw: bytes, charset: str | None, fallback_url: str, where: int, options: WebSpec,
               in_warc: bool) -> Iterator[WebItem]:
    """The items of one page's bytes."""
    html = decode_html(raw, charset)
    try:
        tree = parse_page(html)
    except RecordError as e:
        yield WebItem(fallback_url, where, error=e, excerpt=html[:200])
        return
    url = fallback_url if in_warc else page_url(tree, fallback_url)
    if options.extract == "faq":
        yield from faq_items(tree, url, where, in_warc)
    else:
        yield main_text_item(html, tree, url, where, options)


def read_html_file(fh: Any, label: str, options: WebSpec, max_bytes: int) -> Iterator[WebItem]:
    """One HTML file is one page; its address is its canonical link, else the file's name."""
    raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        yield WebItem(label, 1, error=RecordError("too_large", f"page over {max_bytes} bytes"))
        return
    yield from page_items(raw, None, label, 1, options, in_warc=False)


def read_warc(fh: Any, label: str, options: WebSpec, max_bytes: int) -> Iterator[WebItem]:
    """The HTML responses of a WARC file (plain or .warc.gz), each read as a page at its target URI.
    Other records (requests, metadata, images, redirects, errors) are tallied, not read."""
    from warcio.archiveiterator import ArchiveIterator  # ~0.2 s to import: only WARC inputs pay for it
    from warcio.exceptions import ArchiveLoadFailed

    archive = ArchiveIterator(fh)
    try:
        for record in archive:
            skipped = _skip_reason(record)
            if skipped:
                yield WebItem(label, archive.get_record_offset(), tally=skipped)
                continue
            raw = record.content_stream().read(max_bytes + 1)
            # only now: asking warcio for the offset first reads the record through, leaving no payload
            offset = archive.get_record_offset()
            url = record.rec_headers.get_header("WARC-Target-URI") or f"{label}@{offset}"
            if len(raw) > max_bytes:
                yield WebItem(url, offset, error=RecordError("too_large", f"{url}: page over {max_bytes} bytes"))
                continue
            headers = record.http_headers or record.rec_headers
            if _truncated(headers, len(raw)):
                yield WebItem(url, offset, error=RecordError("truncated_record", f"{url}: the payload ends before "
                                                             "its Content-Length (a cut archive)"))
                continue
            yield from page_items(raw, charset_of(headers.get_header("Content-Type")), url, offset, options,
                                  in_warc=True)
    except (ArchiveLoadFailed, OSError, ValueError, EOFError) as e:
        yield WebItem(label, -1, error=RecordError("unreadable_file", f"{e.__class__.__name__}: {e}"))


def _truncated(headers: Any, size: int) -> bool:
    """Whether a payload is shorter than its HTTP Content-Length: warcio reads a cut archive's last record
    without complaint, and half a page would pass for a page without FAQ. (Chunked or compressed payloads
    are decoded by warcio, so their Content-Length says nothing about the decoded size.)"""
    if headers.get_header("Transfer-Encoding") or headers.get_header("Content-Encoding"):
        return False
    declared = headers.get_header("Content-Length")
    return bool(declared and declared.strip().isdigit() and size < int(declared))


def _skip_reason(record: Any) -> str | None:
    """Why a WARC record is not a page to read, or None when it is one."""
    if record.rec_type not in ("response", "resource"):
        return f"warc_{record.rec_type}_records"
    headers = record.http_headers
    if headers is not None:
        status = headers.get_statuscode() or ""
        if not status.startswith("2"):
            return "warc_not_2xx_responses"
    content_type = (headers or record.rec_headers).get_header("Content-Type") or ""
    if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
        return "warc_not_html_responses"
    return None
