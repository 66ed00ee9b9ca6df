"""Verified step-by-step math solutions in every language (MathOctopus rejection sampling; xCoT/TaCo
cross-lingual formats).

    questions with gold answers (GSM8K/MGSM shape: a file, a Hub dataset or the bundled dozen)
      -> translated into the target language when written in another (numbers must survive)
      -> `samples` solutions per question, each its own sample (own seed, temperature > 0)
      -> final answer read in any digit script and separator convention (generators/numbers.py)
      -> kept only when it equals the gold answer; identical solutions of a question kept once
      -> chat records: user = the question, assistant = the worked solution

Wrong answers (`wrong_answer`), solutions without a number (`no_answer`) or without words
(`no_reasoning`) and translations that lost a number (`numbers_changed`) are generation failures:
counted per reason, kept in failures/ and asked again with a new seed by `--retry-failures`.
Per language the generator counts questions `math.attempted`, `math.solved` (at least one correct
solution) and `math.kept` (records), and `math.duplicates` (correct solutions seen before).

Cross-lingual formats (`cross_lingual`), for languages other than the source's:
`source_question` asks in the source language and reasons in the target language (MathOctopus's
cross training, xCoT); `source_reasoning` asks in the target language and reasons in the source
language (TaCo's English chain of thought). Each record says which turn is in which language
(`turn_target_langs`), which verification checks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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
    bundled_records,
    chat_record,
    phase_sampling,
    prompt,
    read_records,
)
from generators.numbers import final_answer, find_numbers, format_number, gold_value, has_reasoning, matches
from generators.translate import parse_translation

NATIVE, SOURCE_QUESTION, SOURCE_REASONING = "native", "source_question", "source_reasoning"
CROSS_LINGUAL_FORMATS = (SOURCE_QUESTION, SOURCE_REASONING)
BUNDLED = "bundled"


@dataclass(frozen=True)
class Solution:
    """A solution whose final answer matched the gold one."""

    text: str
    answer: str  # as the model wrote it, digits made ASCII
    how: str  # marker | boxed | last_number


def parse_solution(text: str, question: str, gold: float) -> Solution:
    """A worked solution whose final answer equals `gold`; anything else raises with its reason."""
    solution = text.strip()
    if normalize_text(solution) == normalize_text(question):
        raise ParseError("echoed_prompt", "the solution repeats the question")
    answer = final_answer(solution)
    if answer is None:
        raise ParseError("no_answer", "no number in the solution")
    if not has_reasoning(solution):
        raise ParseError("no_reasoning", f"a bare answer: {solution[:40]!r}")
    if not matches(answer, gold):
        raise ParseError("wrong_answer", f"{answer.text} ({answer.how}) != {format_number(gold)}")
    return Solution(solution, answer.text, answer.how)


def parse_question_translation(text: str, source: str) -> str:
    """A translated question, which must still hold every number of the source: a translation that
    drops or changes one changes the problem, and its gold answer would be wrong."""
    translation = parse_translation(text, source)
    wanted = sorted(token.value for token in find_numbers(source))
    found = sorted(token.value for token in find_numbers(translation))
    missing = [value for value in wanted if value not in found]
    if missing:
        raise ParseError("numbers_changed", f"the translation lost {', '.join(map(format_number, missing))}")
    return translation


class MathGenerator(Generator):
    """Up to `samples` verified solutions per question and target language.

    `source`: records, a JSONL/JSON/TSV path (a TSV is MGSM's `question<TAB>answer` without a
    header), `hf:<dataset id>` (with `hf_config`, `split`) or `bundled` (12 English word problems).
    `answer_key` holds the gold answer: a number, a number as text, or GSM8K's worked answer ending
    in "#### <number>". Questions are in `source_lang` unless a record's `lang` field says otherwise.
    `languages`: the target languages this task runs for (None: all of the generate block's).
    """

    name = "math"

    def __init__(self, source: str | Iterable[Mapping[str, Any]] = BUNDLED, question_key: str = "question",
                 answer_key: str = "answer", id_key: str | None = "id", source_lang: str = "en",
                 hf_config: str | None = None, split: str = "test", count: int | None = None,
                 languages: list[str] | None = None, samples: int = 4, temperature: float = 0.8,
                 max_tokens: int = 512, cross_lingual: list[str] | None = None, translate_temperature: float = 0.3,
                 sampling: Sampling | None = None):
        super().__init__(sampling)
        if samples < 1:
            raise RecipeError("samples: at least 1 solution per question")
        if samples > 1 and temperature <= 0:
            raise RecipeError("samples > 1 needs temperature > 0 (greedy decoding writes the same solution k times)")
        unknown = sorted(set(cross_lingual or ()) - set(CROSS_LINGUAL_FORMATS))
        if unknown:
            raise RecipeError(f"cross_lingual: unknown format(s) {unknown}; use {list(CROSS_LINGUAL_FORMATS)}")
        self.source = source
        self.question_key = question_key
        self.answer_key = answer_key
        self.id_key = id_key
        self.source_lang = _code(source_lang, "source_lang")
        self.hf_config = hf_config
        self.split = split
        self.count = count
        self.languages = None if languages is None else {_code(code, "languages") for code in languages}
        self.samples = samples
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.cross_lingual = list(cross_lingual or ())
        self.translate_temperature = translate_temperature
        self._items: list[Item] | None = None
        self.without_gold = 0  # source records skipped: no gold answer to compare with

    # -- the questions

    def _source_items(self) -> list[Item]:
        """One language-less item per source record with a question and a numeric gold answer."""
        if self._items is None:
            items = []
            for index, record in enumerate(self._read_source()[:self.count]):
                question = str(record.get(self.question_key) or "").strip()
                gold = gold_value(record.get(self.answer_key))
                if not question or gold is None:
                    self.without_gold += 1
                    continue
                record_id = str(record.get(self.id_key) or "").strip() if self.id_key else ""
                items.append(Item(record_id or f"{index:05d}", "", {
                    "source_question": question, "gold": gold,
                    "question_lang": _code(record.get("lang") or self.source_lang, "a record's lang")}))
            if not items:
                raise RecipeError(f"no source record has a non-empty {self.question_key!r} and a numeric "
                                  f"{self.answer_key!r}")
            self._items = items
        return self._items

    def _read_source(self) -> list[dict[str, Any]]:
        source = self.source
        if isinstance(source, str) and source == BUNDLED:
            return bundled_records("math_questions.jsonl")
        if isinstance(source, str) and source.startswith("hf:"):
            return _read_hub(source.removeprefix("hf:"), self.hf_config, self.split, self.count)
        if isinstance(source, str | Path) and str(source).endswith(".tsv"):
            return _read_tsv(Path(source), self.question_key, self.answer_key)
        return read_records(source)

    def _runs_for(self, lang: str) -> bool:
        return self.languages is None or lang in self.languages

    def _formats(self, lang: str) -> list[str]:
        return [NATIVE] + ([] if lang == self.source_lang else self.cross_lingual)

    def estimate_prompts(self, lang: str) -> int:
        lang = normalize_lang(lang)
        if not self._runs_for(lang):
            return 0
        items = self._source_items()
        translations = sum(item.data["question_lang"] != lang for item in items)
        return translations + self.samples * len(items) * len(self._formats(lang))

    # -- the rounds

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        if not self._runs_for(lang):
            return
        items = asker.mine(self.name, [Item(item.id, lang, dict(item.data)) for item in self._source_items()])
        asker.count(lang, "math.attempted", len(items))
        if self.without_gold and asker.owns(self.name, lang, "without_gold"):  # counted once per language
            asker.count(lang, "math.without_gold", self.without_gold)
        questions = self._questions_in(lang, items, asker)
        to_solve = [solve for item in questions for solve in self._solve_items(item, lang)]
        solutions: dict[str, list[tuple[int, Solution]]] = {item.id: [] for item in to_solve}
        # one seed per sample: k different solutions, cached apart, asked in one batch
        samplings = [phase_sampling(self.sampling, 200 + sample, temperature=self.temperature, n=1,
                                    max_tokens=self.max_tokens) for sample in range(self.samples)]
        for sample, item, solution in asker.ask_samples(self.name, to_solve, self.build_prompt, self.parse, samplings):
            solutions[item.id].append((sample, solution))
        yield from self._records(lang, to_solve, solutions, asker)

    def _questions_in(self, lang: str, items: list[Item], asker: Asker) -> list[Item]:
        """Items whose `question` is in `lang`: as written, or translated (the rest are failures)."""
        ready = [Item(item.id, lang, {**item.data, "question": item.data["source_question"]})
                 for item in items if item.data["question_lang"] == lang]
        foreign = [item for item in items if item.data["question_lang"] != lang]
        if foreign:
            translate = phase_sampling(self.sampling, 1, temperature=self.translate_temperature, n=1,
                                       max_tokens=max(self.sampling.max_tokens, 512))
            ready += [Item(item.id, lang, {**item.data, "question": question})
                      for item, question in asker.ask(self.name, foreign, self._translate_prompt,
                                                      self._parse_translation, translate)]
        return sorted(ready, key=lambda item: item.id)

    def _solve_items(self, item: Item, lang: str) -> list[Item]:
        """One item per format: which question is shown, in which language the reasoning is asked."""
        source_lang = item.data["question_lang"]
        shapes = {NATIVE: (item.data["question"], lang, lang),
                  SOURCE_QUESTION: (item.data["source_question"], source_lang, lang),
                  SOURCE_REASONING: (item.data["question"], lang, source_lang)}
        solve = []
        for fmt in self._formats(lang):
            question, question_lang, reasoning_lang = shapes[fmt]
            solve.append(Item(item.id if fmt == NATIVE else f"{item.id}-{fmt}", lang, {
                **item.data, "question_id": item.id, "format": fmt, "shown_question": question, "shown_lang": question_lang,
                "reasoning_lang": reasoning_lang}))
        return solve

    def _records(self, lang: str, to_solve: list[Item], solutions: dict[str, list[tuple[int, Solution]]],
                 asker: Asker) -> Iterator[Document]:
        """Each question's distinct correct solutions (per format) as records; counts solved questions."""
        solved: set[str] = set()
        for item in to_solve:
            seen: set[str] = set()
            for sample, solution in solutions[item.id]:
                key = normalize_text(solution.text)
                if key in seen:
                    asker.count(lang, "math.duplicates")
                    continue
                seen.add(key)
                solved.add(item.data["question_id"])
                asker.count(lang, "math.kept")
                yield self._record(item, lang, sample, solution, asker.model)
        asker.count(lang, "math.solved", len(solved))

    def _record(self, item: Item, lang: str, sample: int, solution: Solution, model: str) -> Document:
        messages = [{"role": "user", "content": item.data["shown_question"]},
                    {"role": "assistant", "content": solution.text}]
        return chat_record(messages, task="math", lang=lang, item=item, model=model, part=sample, extra={
            "gold_answer": format_number(item.data["gold"]), "extracted_answer": solution.answer,
            "answer_found_by": solution.how, "format": item.data["format"],
            "source_question": item.data["source_question"],
            # verify checks each turn in its own language, and near-duplicates on the solution alone:
            # k correct solutions of one question share the question, not their reasoning
            "turn_target_langs": [item.data["shown_lang"], item.data["reasoning_lang"]],
            "novelty_turn": 1})

    # -- prompts and parsing

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        """Ask for a worked solution in the item's reasoning language, ending in "#### <number>"."""
        return prompt("math_solve.txt", item.data["reasoning_lang"], question=item.data["shown_question"])

    def parse(self, text: str, item: Item) -> Solution:
        return parse_solution(text, item.data["shown_question"], item.data["gold"])

    @staticmethod
    def _translate_prompt(item: Item) -> list[dict[str, str]]:
        return prompt("translate.txt", item.lang, text=item.data["source_question"])

    @staticmethod
    def _parse_translation(text: str, item: Item) -> str:
        return parse_question_translation(text, item.data["source_question"])


def _code(code: object, what: str) -> str:
    try:
        return normalize_lang(str(code))
    except ValueError as e:
        raise RecipeError(f"{what}: {e}") from None


def _read_tsv(path: Path, question_key: str, answer_key: str) -> list[dict[str, Any]]:
    """MGSM's TSV files: `question<TAB>answer`, no header."""
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t",
                               quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError) as e:
        raise RecipeError(f"{path}: cannot read it ({e.__class__.__name__}: {e})") from None
    return [{question_key: row[0], answer_key: row[1]} for row in rows if len(row) >= 2]


def _read_hub(dataset_id: str, config: str | None, split: str, count: int | None) -> list[dict[str, Any]]:
    """The first `count` rows of a Hub dataset (or a local dataset folder `datasets` can load)."""
    import datasets

    try:
        stream = datasets.load_dataset(dataset_id, config, split=split, streaming=True)
        rows = []
        for row in stream:
            rows.append(dict(row))
            if count is not None and len(rows) >= count:
                break
        return rows
    except Exception as e:  # noqa: BLE001 - any failure to load a named dataset is the recipe's problem
        raise RecipeError(f"hf:{dataset_id}: cannot load it ({e.__class__.__name__}: {e})") from None
