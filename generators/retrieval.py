"""Passages -> cross-lingual retrieval training pairs (SWIM-IR's summarize-then-ask, SAP).

    passage (curated record of the generate language)
      -> its query language, chosen from `query_languages` by a hash of the passage id
      -> hard negatives: BM25 over the language's passages (generators/negatives.py)
      [-> summarize in English (SWIM-IR: the summary is the model's anchor on what matters)]
      -> ask for `per_passage` queries in the query language -> parse -> one record per query

The passage stays in its own language; only the query is written in the chosen language. With
`cross_lingual` (the default) the passage's own language is never chosen, so every pair is
cross-lingual; otherwise it is one of the choices.

A record's `text` is the query: the verify step checks it is in the query language (the record's
`target_lang`) and not a near-duplicate of another query. Its metadata carries the row the shard
writer publishes (curation/shards.py RETRIEVAL_SCHEMA): `positive` (the passage as the model saw
it), `negatives` with their `negative_ids`, `query_lang`, `passage_lang`, `passage_id`. The record
is counted under its passage language (the generate language); its config is
`<passage>-retrieval-<query>` (`query_code`, as the recipe spells it).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import language, normalize_lang
from curation.llm.types import Sampling
from curation.novelty import normalize_text, similarity
from generators.base import Asker, Generator, Item, clean_line, phase_sampling, prompt
from generators.negatives import HardNegativeMiner
from generators.qa import load_passages, trim_passage

logger = logging.getLogger(__name__)

SUMMARY_LANGUAGE = "eng"  # SWIM-IR summarizes in English whatever the passage's language
MAX_QUERY_CHARS = 300  # longer than any search query: a paragraph, not a query
# Shorter than this (normalized) is a fragment, and too short for verify's LID to judge its language
# (it skips turns under 20 letters): the bundled model's "Mchele," would pass as a Hindi query.
MIN_QUERY_CHARS = 12
COPY_MIN_CHARS = 30  # a query this long that occurs verbatim in the passage was copied, not written

# `Query:` labels, tolerating bold, numbering and bullets (`1. Query:`, `- **Query 2:**`).
_LABEL = re.compile(r"^\s*(?:[-*•]\s+)?(?:\d{1,2}[.)]\s*)?[*_]{0,2}(?:query|q)\s*\d{0,2}\s*[*_]{0,2}\s*[:：]\s*[*_]{0,2}",
                    re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_SUMMARY_LABEL = re.compile(r"^\s*(?:\*\*)?summary(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)


def query_language(passage_id: str, passage_lang: str, choices: list[str], cross_lingual: bool) -> str:
    """The query language of one passage, from `choices` (canonical codes): the same for a passage
    id in every run and process (a hash, not a random draw), spread evenly over many passages."""
    pool = [code for code in choices if code != passage_lang] if cross_lingual else choices
    if not pool:
        raise RecipeError(f"retrieval: cross_lingual needs a query language other than {passage_lang}")
    digest = hashlib.sha256(passage_id.encode("utf-8")).digest()
    return pool[int.from_bytes(digest[:8], "big") % len(pool)]


def parse_queries(text: str) -> list[str]:
    """The answer's queries: its `Query:` lines when it has any (a chatty preamble is ignored),
    otherwise every line that is not a lead-in ending in a colon. Raises when there is none."""
    lines = [line for line in text.splitlines() if line.strip()]
    labeled = [_LABEL.sub("", line, count=1) for line in lines if _LABEL.match(line)]
    if labeled:
        found = labeled
    else:
        found = [_NUMBERING.sub("", line, count=1) for line in lines if not line.rstrip().endswith((":", "："))]
    queries = [clean_line(q) for q in found]
    if not queries:
        raise ParseError("bad_format", "no query line")
    return queries


def copies_passage(query: str, passage: str) -> bool:
    """A long stretch of the passage repeated, or a query nearly as a whole the passage."""
    needle = normalize_text(query)
    return (len(needle) >= COPY_MIN_CHARS and needle in normalize_text(passage)) or similarity(query, passage) >= 0.7


class RetrievalGenerator(Generator):
    """Query/positive/negatives records from passages of the generate language.

    `passages`: dicts with `id`, `text` and `lang` (as for generators.qa), or a JSONL path. The
    first `max_passages` of a language are asked about; negatives are mined among all of them
    (the stage reads up to `corpus_passages`).
    """

    name = "retrieval"
    reads_passages = True
    PLANNED_PASSAGES = 100  # per language at plan time, when `max_passages` sets no bound

    def __init__(self, passages: Iterable[Mapping[str, Any] | Document] | str | Path | None,
                 query_languages: list[str], cross_lingual: bool = True, per_passage: int = 1,
                 max_passages: int | None = None, corpus_passages: int | None = None, negatives: int = 3,
                 near_duplicate: float = 0.5, summarize_first: bool = True, max_passage_chars: int = 2000,
                 sampling: Sampling | None = None):
        super().__init__(sampling or Sampling(temperature=0.7, max_tokens=48 * per_passage + 32))
        if per_passage < 1 or (max_passages is not None and max_passages < 1) or negatives < 0:
            raise RecipeError("per_passage and max_passages must be at least 1, negatives at least 0")
        try:
            self.query_codes = {normalize_lang(code): str(code) for code in query_languages}
        except ValueError as e:
            raise RecipeError(f"query_languages: {e}") from None
        if not self.query_codes:
            raise RecipeError("query_languages: name at least one language")
        self.passages_source = passages
        self.cross_lingual = cross_lingual
        self.per_passage = per_passage
        self.max_passages = max_passages
        self.corpus_passages = corpus_passages
        self.negatives = negatives
        self.near_duplicate = near_duplicate
        self.summarize_first = summarize_first
        self.max_passage_chars = max_passage_chars
        self._passages: list[dict[str, str]] | None = None

    @staticmethod
    def passage_limit(task: Any) -> int | None:
        """How many passages the stage reads: the whole mining corpus, not only those asked about."""
        return task.corpus_passages

    # -- input

    def corpus(self, lang: str) -> list[dict[str, str]]:
        """The language's passages (input order, first id wins), each trimmed as the model sees it."""
        if self._passages is None:
            if self.passages_source is None:
                raise RecipeError("retrieval: passages are read when the generate stage runs, not at plan time")
            self._passages = load_passages(self.passages_source)
        lang = normalize_lang(lang)
        unique: dict[str, dict[str, str]] = {}
        for passage in self._passages:
            if passage["lang"] == lang and passage["id"] not in unique:
                unique[passage["id"]] = {**passage, "text": trim_passage(passage["text"], self.max_passage_chars)}
        return list(unique.values())

    def items(self, lang: str, asker: Asker | None = None) -> list[Item]:
        """The passages asked about, each with its query language and mined negatives. A passage for
        which no negative can be mined is a `no_negative` failure (when an asker is given) and is
        never sent to the model: its row could not train with hard negatives."""
        lang = normalize_lang(lang)
        corpus = self.corpus(lang)
        positions = range(min(len(corpus), self.max_passages) if self.max_passages is not None else len(corpus))
        if asker is not None:  # this generate task's share of the passages (negatives come from all of them)
            positions = [i for i in positions if asker.owns(self.name, lang, corpus[i]["id"])]
        mined = HardNegativeMiner([p["text"] for p in corpus], self.near_duplicate).mine(
            positions, self.negatives) if self.negatives else [[] for _ in positions]
        items = []
        for passage, negatives in zip((corpus[i] for i in positions), mined, strict=True):
            query_lang = query_language(passage["id"], lang, list(self.query_codes), self.cross_lingual)
            item = Item(passage["id"], lang, {"passage": passage["text"], "query_lang": query_lang,
                                              "negatives": [corpus[i] for i in negatives]})
            if self.negatives and not negatives:
                if asker is not None:
                    asker.record_failure(self.name, item, "no_negative",
                                         f"no passage among {len(corpus)} is a usable negative")
                continue
            items.append(item)
        return items

    def estimate_prompts(self, lang: str) -> int:
        """One prompt per passage (two when summarizing first); passages not known yet count as
        `max_passages`. An upper bound: passages without negatives are not asked about."""
        if self.passages_source is None:
            passages = self.max_passages or self.PLANNED_PASSAGES
        else:
            corpus = len(self.corpus(lang))
            passages = min(corpus, self.max_passages) if self.max_passages is not None else corpus
        return passages * (2 if self.summarize_first else 1)

    # -- run

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        items = self.items(lang, asker)
        if self.summarize_first:
            summarize = phase_sampling(self.sampling, 1, max_tokens=160)
            items = [Item(item.id, item.lang, {**item.data, "summary": summary})
                     for item, summary in asker.ask(self.name, items, summary_prompt, parse_summary, summarize)]
        for item, queries in asker.ask(self.name, items, self.build_prompt, self.parse, self.sampling):
            for part, query in enumerate(queries):
                yield self.record(item, query, part, asker.model)

    def record(self, item: Item, query: str, part: int, model: str) -> Document:
        """One query's record: the query is the text; the row's other fields ride in metadata."""
        query_lang = item.data["query_lang"]
        negatives = item.data["negatives"]
        metadata = {
            "target_lang": query_lang, "task": self.name, "source": f"{self.name}:{item.id}:{model}",
            "query_lang": query_lang, "query_code": self.query_codes[query_lang], "passage_lang": item.lang,
            "passage_id": item.id, "positive": item.data["passage"],
            "negatives": [n["text"] for n in negatives], "negative_ids": [n["id"] for n in negatives],
        }
        if "summary" in item.data:
            metadata["summary"] = item.data["summary"]
        return Document(text=query, id=f"{self.name}/{item.lang}/{item.id}/{part}", metadata=metadata)

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        values = {"count": self.per_passage, "passage": item.data["passage"],
                  "passage_language": language(item.lang).name}
        if "summary" in item.data:
            return prompt("retrieval_ask_summary.txt", item.data["query_lang"], summary=item.data["summary"], **values)
        return prompt("retrieval_ask.txt", item.data["query_lang"], **values)

    def parse(self, text: str, item: Item) -> list[str]:
        """Up to `per_passage` usable queries; when none is left the most common reason a query
        was dropped is the failure reason."""
        passage, summary = item.data["passage"], item.data.get("summary")
        kept: list[str] = []
        dropped: Counter[str] = Counter()
        for query in parse_queries(text):
            norm = normalize_text(query)
            if not norm:
                dropped["empty_field"] += 1
            elif len(norm) < MIN_QUERY_CHARS:
                dropped["query_too_short"] += 1
            elif len(query) > MAX_QUERY_CHARS:
                dropped["query_too_long"] += 1
            elif copies_passage(query, passage):
                dropped["copied_passage"] += 1
            elif summary and norm == normalize_text(summary):
                dropped["copied_summary"] += 1
            elif norm in {normalize_text(q) for q in kept}:
                dropped["duplicate_query"] += 1
            else:
                kept.append(query)
        if not kept:
            reason, _ = dropped.most_common(1)[0]
            raise ParseError(reason, f"no usable query ({dict(dropped)})")
        return kept[:self.per_passage]


def summary_prompt(item: Item) -> list[dict[str, str]]:
    """SWIM-IR's first step: the passage summarized in English (the prompt names the passage's language)."""
    return prompt("retrieval_summarize.txt", SUMMARY_LANGUAGE, passage=item.data["passage"],
                  passage_language=language(item.lang).name)


def parse_summary(text: str, item: Item) -> str:
    summary = _SUMMARY_LABEL.sub("", clean_line(text.strip()))
    if not normalize_text(summary):
        raise ParseError("empty_field", "no summary")
    if normalize_text(summary) == normalize_text(item.data["passage"]):
        raise ParseError("echoed_prompt", "the summary is the passage")
    return summary
