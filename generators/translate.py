"""An existing instruction set -> the target language, Bactrian-X style.

    source instruction (+ input) -> translate into the target language -> parse the translation
      -> answer the TRANSLATED instruction natively in the target language -> records

The response is regenerated rather than translated: translated answers read like translations
(translationese) and carry the source culture's facts; an answer written in the language reads
like the language. The source instruction is kept in metadata for auditing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

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
)
from generators.instruction import parse_item_response, respond_prompt

# "Translation:", "Here is the translation in Swahili:", "Sure! Here's the translated text:"
_PREAMBLE_LINE = re.compile(r"^.{0,80}\btranslat\w*\b.{0,60}[:：]\s*$", re.IGNORECASE)
_INLINE_LABEL = re.compile(r"^\s*(?:\*\*)?(?:translation|translated text)(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)
_NOTE = re.compile(r"^\s*[(*_]*(?:note|notes|explanation)\b", re.IGNORECASE)
_FENCE = re.compile(r"^```\w*\s*$")
# A translation this much longer than its source is an answer or an essay, not a translation.
MAX_LENGTH_RATIO, LENGTH_SLACK = 5, 200


def parse_translation(text: str, source: str) -> str:
    """Only the translation: code fences, a preamble line, a "Translation:" label, wrapping quotes
    and trailing notes are removed. Empty, untranslated (the source echoed) or overlong output
    raises."""
    lines = [line for line in text.strip().splitlines() if not _FENCE.match(line.strip())]
    while lines and (not lines[0].strip() or _PREAMBLE_LINE.match(lines[0])):
        lines.pop(0)
    for index, line in enumerate(lines):
        if index and _NOTE.match(line):
            lines = lines[:index]
            break
    translation = clean_line(_INLINE_LABEL.sub("", "\n".join(lines).strip()))
    if not normalize_text(translation):
        raise ParseError("empty_field", "no translation")
    if normalize_text(translation) == normalize_text(source):
        raise ParseError("echoed_prompt", "the translation is the source text")
    if len(translation) > MAX_LENGTH_RATIO * len(source) + LENGTH_SLACK:
        raise ParseError("too_long", f"{len(translation)} chars for a {len(source)}-char source")
    return translation


class TranslateGenerator(Generator):
    """Translates instructions of an existing set (Alpaca, Dolly...) and answers them natively.

    `source`: records or a JSONL/JSON path; `instruction_key` (plus `input_key` when a record has
    a non-empty input, Alpaca-style) is what gets translated; the `response_key` answer is never
    translated, only kept in metadata (`source_response`) next to `source_instruction` for
    comparison. `count` takes the first records of the source; items are numbered by position.
    """

    name = "translate"

    def __init__(self, source: Iterable[Mapping[str, Any]] | str | Path, count: int | None = None,
                 instruction_key: str = "instruction", response_key: str = "output",
                 input_key: str | None = "input", translate_temperature: float = 0.3,
                 sampling: Sampling | None = None):
        super().__init__(sampling)
        self.source = source
        self.count = count
        self.instruction_key = instruction_key
        self.response_key = response_key
        self.input_key = input_key
        self.translate_temperature = translate_temperature
        self._items: list[Item] | None = None

    def _source_items(self) -> list[Item]:
        """One language-less item per usable record among the first `count`; read once."""
        if self._items is None:
            items = []
            for index, record in enumerate(read_records(self.source)[:self.count]):
                text = str(record.get(self.instruction_key) or "").strip()
                extra = str(record.get(self.input_key) or "").strip() if self.input_key else ""
                if text:
                    items.append(Item(f"{index:05d}", "", {
                        "source_instruction": f"{text}\n\n{extra}" if extra else text,
                        "source_response": str(record.get(self.response_key) or "").strip(),
                    }))
            if not items:
                raise RecipeError(f"no source record has a non-empty {self.instruction_key!r}")
            self._items = items
        return self._items

    def estimate_prompts(self, lang: str) -> int:
        return 2 * len(self._source_items())

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        items = asker.mine(self.name, [Item(item.id, lang, dict(item.data)) for item in self._source_items()])
        translate = phase_sampling(self.sampling, 1, temperature=self.translate_temperature,
                                   max_tokens=max(self.sampling.max_tokens, 512))
        translated = [Item(item.id, lang, {**item.data, "instruction": translation})
                      for item, translation in asker.ask(self.name, items, self.build_prompt, self.parse, translate)]
        for item, response in asker.ask(self.name, translated, respond_prompt, parse_item_response, self.sampling):
            messages = [{"role": "user", "content": item.data["instruction"]},
                        {"role": "assistant", "content": response}]
            yield chat_record(messages, task="translate", lang=lang, item=item, model=asker.model,
                              extra={key: item.data[key] for key in ("source_instruction", "source_response")})

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        """Ask for the source instruction in the item's language (the answer is regenerated after)."""
        return prompt("translate.txt", item.lang, text=item.data["source_instruction"])

    def parse(self, text: str, item: Item) -> str:
        return parse_translation(text, item.data["source_instruction"])
