"""Passages -> question/answer pairs in the passage's language (GeMQuAD-style one-shot prompt).

    passage (curated record of the target language)
      [-> summarize in 1-2 sentences (SWIM-IR's summarize-then-ask)]
      -> ask for `per_passage` "Q: ... / A: ..." pairs -> parse -> extractive check -> records

In extractive mode an answer must occur in the passage (casefolded, ignoring whitespace and
punctuation): a pair whose answer does not is dropped, and a passage with no surviving pair is
a failure. The one-shot example is `prompts/qa_example.txt`; a language may ship its own as
`prompts/qa_example.<code>.txt` (a native example steers a model away from English).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import normalize_lang
from curation.llm.types import Sampling
from curation.novelty import normalize_text
from generators.base import (
    Asker,
    Generator,
    Item,
    chat_record,
    clean_line,
    phase_sampling,
    prompt,
    read_records,
    render,
)

logger = logging.getLogger(__name__)

# `Q:` / `A:` lines, tolerating bold, numbering (`1. Q:`, `Q1:`) and the long labels.
_QA_LINE = re.compile(
    r"^\s*[*_]{0,2}(?:\d{1,2}[.)]\s*)?(?P<label>q|a|question|answer)\s*\d{0,2}\s*[*_]{0,2}\s*[:：]\s*[*_]{0,2}\s*(?P<text>.*)$",
    re.IGNORECASE,
)


def parse_qa_pairs(text: str) -> list[tuple[str, str]]:
    """(question, answer) pairs from `Q:`/`A:` lines, in order. An unlabeled line directly under a
    field continues it; a blank line ends it. A pair missing either side keeps "" there (the
    caller decides). Raises when there is no labeled line at all."""
    pairs: list[list[str]] = []
    field: int | None = None  # 0: question, 1: answer of pairs[-1]
    for line in text.splitlines():
        match = _QA_LINE.match(line)
        if match and match.group("label").lower().startswith("q"):
            pairs.append([match.group("text").strip(), ""])
            field = 0
        elif match:
            if not pairs or pairs[-1][1]:  # an answer without a question of its own
                pairs.append(["", ""])
            pairs[-1][1] = match.group("text").strip()
            field = 1
        elif field is not None and line.strip():
            pairs[-1][field] = f"{pairs[-1][field]} {line.strip()}".strip()
        else:
            field = None
    if not pairs:
        raise ParseError("bad_format", "no 'Q:' / 'A:' lines")
    return [(clean_line(q), clean_line(a)) for q, a in pairs]


def answer_in_passage(answer: str, passage: str) -> bool:
    """Whether the answer occurs in the passage, ignoring case, whitespace and punctuation."""
    needle = normalize_text(answer, keep_spaces=False)
    return bool(needle) and needle in normalize_text(passage, keep_spaces=False)


def trim_passage(text: str, max_chars: int) -> str:
    """The passage cut at the last paragraph or sentence end before `max_chars`, so a long web page
    still fits a small model's context and the cut never falls mid-sentence when avoidable."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    for stop in ("\n\n", "\n", "。", ". ", "۔", "।", "! ", "? "):
        cut = head.rfind(stop)
        if cut > max_chars // 2:
            return head[:cut + len(stop)].strip()
    return head.strip()


class QAGenerator(Generator):
    """Question/answer pairs from passages of the target language.

    `passages`: dicts with `id`, `text` and `lang` (any code `normalize_lang` reads, e.g. LID's
    `swh_Latn`), or a JSONL path of them; datatrove Documents work too (`metadata["lang"]`).
    Passages of other languages are skipped, so one list can feed every target language.
    """

    name = "qa"
    reads_passages = True
    # What `curate plan` assumes per language when the passages are this run's own curated records
    # (not there yet) and `max_passages` sets no bound.
    PLANNED_PASSAGES = 100

    def __init__(self, passages: Iterable[Mapping[str, Any] | Document] | str | Path | None, per_passage: int = 2,
                 mode: Literal["extractive", "abstractive"] = "extractive", summarize_first: bool = False,
                 max_passages: int | None = None, max_passage_chars: int = 3000,
                 sampling: Sampling | None = None):
        super().__init__(sampling or Sampling(temperature=0.7, max_tokens=max(256, 96 * per_passage)))
        if mode not in ("extractive", "abstractive"):
            raise RecipeError(f"qa mode must be 'extractive' or 'abstractive', got {mode!r}")
        if per_passage < 1 or (max_passages is not None and max_passages < 1):
            raise RecipeError("per_passage and max_passages must be at least 1")
        self.passages_source = passages
        self.per_passage = per_passage
        self.mode = mode
        self.summarize_first = summarize_first
        self.max_passages = max_passages
        self.max_passage_chars = max_passage_chars
        self._passages: list[dict[str, str]] | None = None

    # -- input

    def _all_passages(self) -> list[dict[str, str]]:
        """Read once (the input may be a one-shot iterator) and keep id, text and canonical lang."""
        if self._passages is None:
            if self.passages_source is None:
                raise RecipeError("qa: passages are read when the generate stage runs, not at plan time")
            self._passages = load_passages(self.passages_source)
        return self._passages

    def passages_for(self, lang: str) -> list[Item]:
        """The target language's passages as items: input order, first id wins, capped."""
        lang = normalize_lang(lang)
        items: dict[str, Item] = {}
        for passage in self._all_passages():
            if passage["lang"] == lang and passage["id"] not in items:
                items[passage["id"]] = Item(passage["id"], lang,
                                            {"passage": trim_passage(passage["text"], self.max_passage_chars)})
            if self.max_passages is not None and len(items) >= self.max_passages:
                break
        return list(items.values())

    def estimate_prompts(self, lang: str) -> int:
        """One prompt per passage (two when summarizing first); passages not known yet (None: the
        run's curated records, before the run) count as `max_passages`."""
        if self.passages_source is None:
            passages = self.max_passages or self.PLANNED_PASSAGES
        else:
            passages = len(self.passages_for(lang))
        return passages * (2 if self.summarize_first else 1)

    # -- run

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        items = asker.mine(self.name, self.passages_for(lang))  # this task's share of the passages
        if self.summarize_first:
            summarize = phase_sampling(self.sampling, 1, max_tokens=160)
            items = [Item(item.id, item.lang, {**item.data, "summary": summary})
                     for item, summary in asker.ask(self.name, items, _summary_prompt, _parse_summary, summarize)]
        for item, pairs in asker.ask(self.name, items, self.build_prompt, self.parse, self.sampling):
            for part, (question, answer) in enumerate(pairs):
                messages = [{"role": "user", "content": f"{item.data['passage']}\n\n{question}"},
                            {"role": "assistant", "content": answer}]
                extra = {"passage_id": item.id, "qa_mode": self.mode}
                if "summary" in item.data:
                    extra["summary"] = item.data["summary"]
                yield chat_record(messages, task="qa", lang=lang, item=item, model=asker.model, extra=extra,
                                  part=part)

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        if "summary" in item.data:
            context = render("qa_context_summary.txt", item.lang, passage=item.data["passage"],
                             summary=item.data["summary"])
        else:
            context = render("qa_context.txt", item.lang, passage=item.data["passage"])
        return prompt(f"qa_ask_{self.mode}.txt", item.lang, count=self.per_passage,
                      example=render("qa_example.txt", item.lang).strip(), context=context.strip())

    def parse(self, text: str, item: Item) -> list[tuple[str, str]]:
        """Up to `per_passage` usable pairs; unusable pairs are dropped, and when none is left the
        most common reason a pair was dropped is the failure reason."""
        passage = item.data["passage"]
        kept: list[tuple[str, str]] = []
        questions: set[str] = set()
        dropped: Counter[str] = Counter()
        for question, answer in parse_qa_pairs(text):
            if not normalize_text(question) or not normalize_text(answer):
                dropped["empty_field"] += 1
            elif normalize_text(question) in _example_questions(item.lang):
                dropped["echoed_prompt"] += 1
            elif normalize_text(question) in questions:
                dropped["duplicate_question"] += 1
            elif self.mode == "extractive" and not answer_in_passage(answer, passage):
                dropped["answer_not_in_passage"] += 1
            else:
                questions.add(normalize_text(question))
                kept.append((question, answer))
        if not kept:
            reason, _ = dropped.most_common(1)[0]
            raise ParseError(reason, f"no usable pair ({dict(dropped)})")
        if dropped:
            logger.debug("passage %s: dropped %s", item.id, dict(dropped))
        return kept[:self.per_passage]


@functools.cache
def _example_questions(lang: str) -> frozenset[str]:
    """The one-shot example's questions: a model that copies them has not read the passage."""
    return frozenset(normalize_text(q) for q, _ in parse_qa_pairs(render("qa_example.txt", lang)))


def _summary_prompt(item: Item) -> list[dict[str, str]]:
    return prompt("qa_summarize.txt", item.lang, passage=item.data["passage"])


_SUMMARY_LABEL = re.compile(r"^\s*(?:\*\*)?summary(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)


def _parse_summary(text: str, item: Item) -> str:
    summary = _SUMMARY_LABEL.sub("", clean_line(text.strip()))
    if not normalize_text(summary):
        raise ParseError("empty_field", "no summary")
    if normalize_text(summary) == normalize_text(item.data["passage"]):
        raise ParseError("echoed_prompt", "the summary is the passage")
    return summary


def load_passages(source: Iterable[Mapping[str, Any] | Document] | str | Path) -> list[dict[str, str]]:
    """Passages as dicts of `id`, `text` and canonical `lang`, from a JSONL path or an iterable of
    dicts or Documents; a record that cannot be a passage is skipped with a warning."""
    records = read_records(source) if isinstance(source, str | Path) else [_as_dict(p) for p in source]
    return [p for p in map(_passage, records) if p is not None]


def _as_dict(passage: Mapping[str, Any] | Document) -> Mapping[str, Any]:
    if isinstance(passage, Document):
        return {"id": passage.id, "text": passage.text, "lang": passage.metadata.get("lang")}
    return passage


def _passage(record: Mapping[str, Any]) -> dict[str, str] | None:
    """id/text/canonical lang, or None (logged) for a record that cannot be a passage."""
    text, lang = str(record.get("text") or "").strip(), record.get("lang")
    if not text or not lang or record.get("id") is None:
        logger.warning("skipping passage without id, text or lang: %r", str(record)[:80])
        return None
    try:
        return {"id": str(record["id"]), "text": text, "lang": normalize_lang(str(lang))}
    except ValueError:
        logger.warning("skipping passage %s with unknown language %r", record["id"], lang)
        return None
