"""Preference data (Okapi, xLLMs-100 style): several answers per prompt in the target language.

    source prompt -> [translate into the target language] -> `responses` answers, each its own
      sample (its own seed, temperature `temperature`) -> one candidate record per prompt

The candidate's `messages` are the prompt alone and `metadata["responses"]` its answers; the
generate stage's `preference` step (filters/preference.py) verifies each answer, has the judge
rate them, and turns the candidate into a chosen/rejected pair, or drops it with a reason (fewer
than two usable answers, no margin). An answer that does not parse (empty, an echo, a refusal) is
a counted generation failure like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datatrove.data import Document

from curation.errors import RecipeError
from curation.languages import normalize_lang
from curation.llm.types import Sampling
from generators.base import Asker, Generator, Item, chat_record, phase_sampling, prompt, read_records
from generators.instruction import parse_item_response, respond_prompt
from generators.translate import parse_translation


class PreferenceGenerator(Generator):
    """`responses` answers per source prompt, in each target language.

    `prompts`: records or a JSONL/JSON path; `prompt_key` holds the prompt. A record whose `lang`
    field names the target language is used as it is; any other is translated first (unless
    `translate` is off, when the prompt is asked as written).
    """

    name = "preference"

    def __init__(self, prompts: Iterable[Mapping[str, Any]] | str | Path, prompt_key: str = "instruction",
                 count: int | None = None, responses: int = 4, temperature: float = 1.0, translate: bool = True,
                 min_margin: float = 0.5, pairwise_check: bool = False, criteria: dict[str, str] | None = None,
                 sampling: Sampling | None = None):
        super().__init__(sampling)
        if responses < 2:
            raise RecipeError("responses: a pair needs at least 2 answers per prompt")
        self.prompts = prompts
        self.prompt_key = prompt_key
        self.count = count
        self.responses = responses
        self.temperature = temperature
        self.translate = translate
        # Read by the pairing step (filters/preference.py), which compile builds from the same recipe model.
        self.min_margin = min_margin
        self.pairwise_check = pairwise_check
        self.criteria = criteria
        self._items: list[Item] | None = None

    def _source_items(self) -> list[Item]:
        if self._items is None:
            items = []
            for index, record in enumerate(read_records(self.prompts)[:self.count]):
                text = str(record.get(self.prompt_key) or "").strip()
                if text:
                    items.append(Item(f"{index:05d}", "", {"source_prompt": text, "source_lang": record.get("lang")}))
            if not items:
                raise RecipeError(f"no prompt record has a non-empty {self.prompt_key!r}")
            self._items = items
        return self._items

    def _needs_translation(self, item: Item, lang: str) -> bool:
        source = item.data.get("source_lang")
        if not self.translate:
            return False
        try:
            return not source or normalize_lang(str(source)) != lang
        except ValueError:
            return True

    def estimate_prompts(self, lang: str) -> int:
        items = self._source_items()
        return sum(self._needs_translation(item, normalize_lang(lang)) for item in items) + self.responses * len(items)

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        items = asker.mine(self.name, [Item(item.id, lang, dict(item.data)) for item in self._source_items()])
        foreign = [item for item in items if self._needs_translation(item, lang)]
        ready = [Item(item.id, lang, {**item.data, "instruction": item.data["source_prompt"]})
                 for item in items if not self._needs_translation(item, lang)]
        if foreign:
            translate = phase_sampling(self.sampling, 1, temperature=0.3, max_tokens=max(self.sampling.max_tokens, 512))
            ready += [Item(item.id, lang, {**item.data, "instruction": translation})
                      for item, translation in asker.ask(self.name, foreign, self.build_prompt, self.parse, translate)]
        answers: dict[str, list[str]] = {item.id: [] for item in ready}
        # one seed per answer: each is its own sample, asked in one batch
        samplings = [phase_sampling(self.sampling, 100 + sample, temperature=self.temperature, n=1)
                     for sample in range(self.responses)]
        for _, item, response in asker.ask_samples(self.name, ready, respond_prompt, parse_item_response, samplings):
            if response not in answers[item.id]:
                answers[item.id].append(response)
        for item in sorted(ready, key=lambda item: item.id):
            if answers[item.id]:
                yield chat_record([{"role": "user", "content": item.data["instruction"]}], task="preference",
                                  lang=lang, item=item, model=asker.model,
                                  extra={"responses": answers[item.id], "source_prompt": item.data["source_prompt"]})

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        """Ask for the source prompt in the item's language (its answers are written after)."""
        return prompt("translate.txt", item.lang, text=item.data["source_prompt"])

    def parse(self, text: str, item: Item) -> str:
        return parse_translation(text, item.data["source_prompt"])
