"""Safety data: harmful requests with refusals, and harmless look-alikes with answers, in the target language.

    taxonomy (generators/data/safety_categories.jsonl: the 14 harm categories of BeaverTails)
      -> per category, two prompts written for the target language: `count` harmful requests, and
         `benign` look-alikes (the category's topic words, harmless intent: "how do I kill a stuck
         program?"); requests only, never harmful details
      -> each harmful request: a brief, non-preachy refusal that offers a safe alternative;
         each look-alike: a helpful answer (the instruction generator's answer prompt)
      -> chat records (user request, assistant reply) with `safety_category` and `safety_kind`
         (`harmful` | `benign`) in their metadata

This is Self-Defence (Deng et al., "Multilingual Jailbreak Challenges in Large Language Models",
ICLR 2024) written natively instead of translated from English, plus the over-refusal control
their method lacks: a model tuned only on refusals learns to refuse anything that sounds risky.

Whether a reply refuses is not decided here, and not by keywords: the generate stage's refusal
check (filters/refusal.py) asks the recipe's model and reads its answer's log-probabilities, in
any language. So the instruction generator's English refusal regex is off for these replies (and
stays on for every other task).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import normalize_lang
from curation.llm.types import Sampling
from generators.base import Asker, Generator, Item, bundled_records, chat_record, phase_sampling, prompt
from generators.instruction import (
    ANSWER_AS_JSON,
    ANSWER_AS_LIST,
    parse_response,
    parse_task_list,
    task_list_schema,
)

HARMFUL, BENIGN = "harmful", "benign"
TAXONOMY_FILE = "safety_categories.jsonl"
# A request needs a few words: the bundled 135M model writes items such as "how to" or "1.write-up1",
# too short for verify's LID to judge (it needs 20 letters), so their language would go unchecked.
# 8 letters still lets a short Chinese question through ("怎样识别电话诈骗？" has 8).
MIN_REQUEST_LETTERS = 8


def taxonomy() -> dict[str, dict[str, Any]]:
    """The bundled harm categories by name: {name: {beavertails, description, lookalike}}."""
    return {record["name"]: record for record in bundled_records(TAXONOMY_FILE)}


class SafetyGenerator(Generator):
    """Per harm category and target language: `count` harmful requests with refusals and `benign`
    harmless look-alikes with answers (default: as many as harmful; 0: none).

    `categories`: names from the bundled taxonomy (None: all 14). `refusal_threshold` is read by the
    refusal check (filters/refusal.py), which compile builds from the same recipe model.
    """

    name = "safety"

    def __init__(self, count: int = 5, benign: int | None = None, categories: list[str] | None = None,
                 refusal_threshold: float = 0.5, response_max_tokens: int = 256, structured: bool = True,
                 sampling: Sampling | None = None):
        super().__init__(sampling)
        if count < 1 or (benign is not None and benign < 0):
            raise RecipeError("count must be at least 1 and benign at least 0")
        known = taxonomy()
        unknown = sorted(set(categories or ()) - set(known))
        if unknown:
            raise RecipeError(f"unknown categories {', '.join(unknown)} (choose from: {', '.join(known)})")
        self.categories = [known[name] for name in (categories or known)]
        self.counts = {HARMFUL: count, BENIGN: count if benign is None else benign}
        self.refusal_threshold = refusal_threshold
        self.response_max_tokens = response_max_tokens
        self.structured = structured

    def _request_items(self, lang: str) -> list[Item]:
        """One item per (category, kind) with a count: the prompts that ask for requests."""
        return [Item(f"{category['name']}-{kind}", lang, {**category, "kind": kind, "count": self.counts[kind]})
                for category in self.categories for kind in (HARMFUL, BENIGN) if self.counts[kind]]

    def estimate_prompts(self, lang: str) -> int:
        """The request prompts, then one reply per request when every list is full."""
        items = self._request_items(lang)
        return len(items) + sum(item.data["count"] for item in items)

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        most = max(self.counts.values())
        write = phase_sampling(self.sampling, max_tokens=max(self.sampling.max_tokens, 80 * most),
                               json_schema=task_list_schema(most) if self.structured else None)
        requests = [Item(f"{item.id}-{number}", lang, {**item.data, "request": text})
                    for item, texts in asker.ask(self.name, asker.mine(self.name, self._request_items(lang)), self.build_prompt,
                                                 self.parse, write)
                    for number, text in enumerate(texts)]
        reply = phase_sampling(self.sampling, 1, max_tokens=self.response_max_tokens)
        for item, response in asker.ask(self.name, requests, reply_prompt, parse_reply, reply):
            messages = [{"role": "user", "content": item.data["request"]},
                        {"role": "assistant", "content": response}]
            yield chat_record(messages, task="safety", lang=lang, item=item, model=asker.model,
                              extra={"safety_category": item.data["name"], "safety_kind": item.data["kind"]})

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        """Ask for a category's harmful requests or its harmless look-alikes, in the item's language."""
        data = item.data
        template = "safety_harmful.txt" if data["kind"] == HARMFUL else "safety_benign.txt"
        return prompt(template, item.lang, category=data["name"].replace("_", " "), description=data["description"],
                      lookalike=data["lookalike"], count=data["count"],
                      answer_as=ANSWER_AS_JSON if self.structured else ANSWER_AS_LIST)

    def parse(self, text: str, item: Item) -> list[str]:
        """The requests of one answer, at most the item's count; lines of the prompt are not requests."""
        known = self.build_prompt(item)[0]["content"].splitlines()
        requests = [r for r in parse_task_list(text, known) if sum(c.isalpha() for c in r) >= MIN_REQUEST_LETTERS]
        if not requests:
            raise ParseError("no_requests", f"no request of {MIN_REQUEST_LETTERS}+ letters")
        return requests[:item.data["count"]]


def reply_prompt(item: Item) -> list[dict[str, str]]:
    """A refusal for a harmful request, a plain helpful answer for a look-alike."""
    if item.data["kind"] == HARMFUL:
        return prompt("safety_refuse.txt", item.lang, category=item.data["name"].replace("_", " "),
                      request=item.data["request"])
    return prompt("instruction_respond.txt", item.lang, instruction=item.data["request"])


def parse_reply(text: str, item: Item) -> str:
    """The reply, refusals allowed (the refusal check judges them); empty answers and echoes raise."""
    return parse_response(text, item.data["request"], reject_refusals=False)
