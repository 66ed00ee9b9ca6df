"""Self-Instruct/Alpaca-style instruction bootstrapping, natively in the target language.

    seed tasks (any language, examples of the KIND of task)
      -> round 1..R: prompts of `examples_per_prompt` examples -> numbered lists of new tasks in the
         target language -> parse -> novelty filter (char-shingle MinHash, every script)
         -> accepted tasks join the example pool of later rounds
      -> stop at `count` tasks
      -> one prompt per task: answer it in the target language -> records

Each round asks for about an equal share of what is still missing, so later rounds see examples
the model wrote in the target language, which is the point of bootstrapping.

The module also holds the response parser that translate.py reuses.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import normalize_lang
from curation.llm.types import Sampling, schema_text
from curation.novelty import NoveltyFilter, normalize_text
from generators.base import (
    Asker,
    Generator,
    Item,
    bundled_records,
    chat_record,
    clean_line,
    phase_sampling,
    prompt,
    read_records,
)

# --------------------------------------------------------------------------------------------
# Parsing

ANSWER_AS_LIST = "Answer with a numbered list (1., 2., 3., ...) with one task per item, and nothing else."
ANSWER_AS_JSON = 'Answer with JSON only: {"tasks": ["first task", "second task", ...]}.'

MIN_INSTRUCTION_CHARS = 6  # counted in characters so a short Chinese task (8 chars) still passes
MAX_INSTRUCTION_CHARS = 600

# A list item: optional bold, then `1.` `1)` `1、` `１．` `١-` `(1)` `一、` or a bullet, then the text.
# `\d` matches every script's digits (Devanagari १, Arabic-Indic ١, full-width １).
_ITEM = re.compile(
    r"""^\s*[*_]{0,2}\s*
    (?: (?:\d{1,3}|[一二三四五六七八九十]{1,3}) \s* (?:[.)、．:：]|-(?!\d)|–) (?!\d)
      | \(\d{1,3}\)
      | [-*•·–](?=\s) )
    [*_]{0,2}\s*(?P<body>\S.*)$""",
    re.VERBOSE,
)
_LABEL = re.compile(r"^(?:instruction|task|request|new task)\s*\d*\s*[:：]\s*", re.IGNORECASE)
_COLON_END = (":", "：")


def parse_numbered_list(text: str, examples: Iterable[str] = ()) -> list[str]:
    """The items of a numbered (or bulleted) list in any script.

    Lines before the first item (a preamble) and unmarked lines after an item are ignored, except
    that an item ending with a colon takes the following unmarked lines as its input ("Translate
    this sentence:" / "Good morning"). Items that are too short or long, still end with a colon,
    hold a placeholder like `<task>`, repeat an earlier item or copy one of `examples` are dropped.
    """
    raw: list[list[str]] = []  # each item's lines
    open_input = False  # the current item ended with a colon: following lines are its input
    for line in text.splitlines():
        match = _ITEM.match(line)
        if match:
            raw.append([_LABEL.sub("", clean_line(match.group("body")))])
            open_input = raw[-1][0].endswith(_COLON_END)
        elif raw and open_input and line.strip():
            raw[-1].append(line.strip())
        elif raw and len(raw[-1]) > 1 and not line.strip():
            open_input = False  # a blank line ends an item's input
    if not raw:
        raise ParseError("bad_format", "no numbered list items")
    return checked_items(["\n".join(lines).strip() for lines in raw], examples)


def parse_task_list(text: str, examples: Iterable[str] = ()) -> list[str]:
    """The tasks of a structured answer (`{"tasks": [...]}`, what the schema asks for); an answer
    that is not that JSON (an engine that could not constrain decoding) is read as a numbered list."""
    try:
        data = json.loads(text)
    except ValueError:
        return parse_numbered_list(text, examples)
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, list) or not all(isinstance(task, str) for task in tasks):
        raise ParseError("bad_format", "JSON without a `tasks` list of strings")
    if not tasks:
        raise ParseError("no_instructions", "an empty task list")
    return checked_items([clean_line(task) for task in tasks], examples)


def checked_items(raw: list[str], examples: Iterable[str] = ()) -> list[str]:
    """The items worth keeping: not too short or long, no trailing colon or placeholder, not a
    repeat of an earlier item or a copy of one of `examples`; none left raises."""
    seen = {normalize_text(e) for e in examples}
    items, dropped = [], []
    for item in raw:
        problem = _item_problem(item, seen)
        if problem:
            dropped.append(problem)
            continue
        seen.add(normalize_text(item))
        items.append(item)
    if not items:
        raise ParseError("no_instructions", f"{len(raw)} items, all dropped: {', '.join(sorted(set(dropped)))}")
    return items


def task_list_schema(count: int) -> str:
    """The JSON schema of a list of `count` tasks, as `Sampling.json_schema` takes it."""
    return schema_text({"type": "object", "required": ["tasks"], "additionalProperties": False,
                        "properties": {"tasks": {"type": "array", "minItems": 1, "maxItems": count,
                                                 "items": {"type": "string", "minLength": MIN_INSTRUCTION_CHARS,
                                                           "maxLength": MAX_INSTRUCTION_CHARS}}}})


def _item_problem(item: str, seen: set[str]) -> str | None:
    if len(item) < MIN_INSTRUCTION_CHARS:
        return "too_short"
    if len(item) > MAX_INSTRUCTION_CHARS:
        return "too_long"
    if item.endswith(_COLON_END):
        return "ends_with_colon"
    if re.search(r"<[^<>\n]{1,30}>|\[(?:task|instruction)[^\]]*\]", item, re.IGNORECASE):
        return "placeholder"
    if normalize_text(item) in seen:
        return "copy"
    return None


_RESPONSE_LABEL = re.compile(r"^\s*(?:\*\*)?(?:response|answer|output)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*", re.IGNORECASE)
# Refusals and assistant boilerplate a model writes instead of answering. English only: answers
# that drift into English are caught downstream by target-language verification anyway.
_REFUSAL = re.compile(
    r"^\s*(?:as an ai\b|as a (?:large )?language model|i(?:'m| am) (?:sorry|unable|not able)|"
    r"i (?:cannot|can't|can not|won't) (?:help|answer|provide|assist|do|write|fulfil))",
    re.IGNORECASE,
)


def parse_response(text: str, request: str, reject_refusals: bool = True) -> str:
    """An answer to `request`: stripped, without a leading restatement of the request or an English
    "Response:" label; empty answers, echoes and (unless `reject_refusals` is off: the safety
    generator, whose refusals are the point and are judged by the model in every language) English
    refusals raise. Labels in other languages stay: "**Jibu:**" cannot be told from a heading such as
    "**Viungo:**" (ingredients) that is content."""
    answer = text.strip()
    if normalize_text(answer) and normalize_text(answer) == normalize_text(request):
        raise ParseError("echoed_prompt", "the response repeats the request")
    first, _, rest = answer.partition("\n")
    if rest.strip() and normalize_text(first) == normalize_text(request):
        answer = rest.strip()
    answer = _RESPONSE_LABEL.sub("", answer).strip()
    if not normalize_text(answer):
        raise ParseError("empty_field", "no response")
    if reject_refusals and _REFUSAL.match(answer):
        raise ParseError("refusal", answer[:80])
    return answer


# --------------------------------------------------------------------------------------------
# The generator


@dataclasses.dataclass
class _Pool:
    """Instructions accepted so far for one pool of one language, and the filter that decides novelty."""

    number: int
    novelty: NoveltyFilter
    capacity: int
    accepted: list[Item] = dataclasses.field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.capacity - len(self.accepted)


class InstructionGenerator(Generator):
    """Bootstraps `count` instruction/response pairs in the target language from a few seed tasks.

    `seeds`: a list of {"instruction", "response"?} dicts (or of strings), a JSONL path, or None for the bundled
    English seed tasks (they show the kind of task; the model writes new ones in the target
    language). `novelty_threshold` is the character-shingle Jaccard (see curation/novelty.py) at
    which a new instruction counts as a near-duplicate of the seeds or of an accepted one.

    `pools`: independent bootstraps per language that share the `count` between them. A pool's rounds
    build on what it accepted, so a pool is asked about by one generate task; with `pools` at least
    `llm.tasks`, one language's instructions spread over the tasks. Novelty is checked within a pool
    (verification's near-duplicate check then sees one task's records).
    """

    name = "instruction"

    def __init__(self, count: int = 20, seeds: list[dict[str, Any]] | list[str] | str | None = None, rounds: int = 3,
                 per_prompt: int = 5, examples_per_prompt: int = 3, novelty_threshold: float = 0.7,
                 response_max_tokens: int = 256, instruction_temperature: float = 1.0, structured: bool = True,
                 pools: int = 1, sampling: Sampling | None = None):
        super().__init__(sampling)
        if count < 1 or rounds < 1 or per_prompt < 1 or examples_per_prompt < 1 or pools < 1:
            raise RecipeError("count, rounds, per_prompt, examples_per_prompt and pools must be at least 1")
        if pools > count:
            raise RecipeError(f"pools ({pools}) must not exceed count ({count}): each pool makes at least one")
        self.count = count
        self.pools = pools
        self.rounds = rounds
        self.per_prompt = per_prompt
        self.examples_per_prompt = examples_per_prompt
        self.novelty_threshold = novelty_threshold
        self.response_max_tokens = response_max_tokens
        self.instruction_temperature = instruction_temperature
        self.structured = structured  # ask for JSON the engine constrains decoding to (task lists)
        self.seeds = _seed_instructions(seeds)

    # -- plan

    def _prompts_in_round(self, round_no: int, missing: int) -> int:
        """Enough prompts for an equal share of what is missing over the rounds left."""
        share = math.ceil(missing / (self.rounds - round_no))
        return math.ceil(share / self.per_prompt)

    def _capacities(self) -> list[int]:
        """How many instructions each pool makes: `count` shared as evenly as it goes."""
        share, rest = divmod(self.count, self.pools)
        return [share + (number < rest) for number in range(self.pools)]

    def estimate_prompts(self, lang: str) -> int:
        """Prompts when every list item is accepted: each pool's instruction rounds plus one answer each."""
        prompts = 0
        for missing in self._capacities():
            for round_no in range(self.rounds):
                asked = self._prompts_in_round(round_no, missing)
                prompts += asked
                missing = max(0, missing - asked * self.per_prompt)
        return prompts + self.count

    # -- run

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        # A pool's rounds build on what it accepted, and its novelty check covers the whole pool: a pool
        # is one unit, asked about by one task. The pools a task owns go through their rounds together.
        pools = [_Pool(number, NoveltyFilter(self.novelty_threshold), capacity)
                 for number, capacity in enumerate(self._capacities())
                 if asker.owns(self.name, lang, self._pool_unit(number))]
        by_number = {pool.number: pool for pool in pools}
        for pool in pools:
            for seed in self.seeds:  # a "new" task that copies a seed is not new
                pool.novelty.add_if_novel(seed)
        for round_no in range(self.rounds):
            items = [item for pool in pools if pool.missing > 0 for item in self._round_items(lang, round_no, pool)]
            if not items:
                break
            sampling = phase_sampling(self.sampling, round_no, temperature=self.instruction_temperature,
                                      max_tokens=max(self.sampling.max_tokens, 120 * self.per_prompt),
                                      json_schema=task_list_schema(self.per_prompt) if self.structured else None)
            asker.ask(self.name, items, self.build_prompt,
                      lambda text, item: self._accept(text, item, by_number[item.data["pool"]]), sampling)
        respond = phase_sampling(self.sampling, max_tokens=self.response_max_tokens)
        accepted = [item for pool in pools for item in pool.accepted]
        for item, response in asker.ask(self.name, accepted, respond_prompt, parse_item_response, respond):
            messages = [{"role": "user", "content": item.data["instruction"]},
                        {"role": "assistant", "content": response}]
            yield chat_record(messages, task="instruction", lang=lang, item=item, model=asker.model,
                              extra={"generation_round": item.data["round"]})

    def _pool_unit(self, number: int) -> str:
        """A pool's name: what decides its task, and the start of its items' ids (none with one pool,
        so a recipe without `pools` keeps the ids, prompts and cache entries it always had)."""
        return "pool" if self.pools == 1 else f"pool{number}"

    def _round_items(self, lang: str, round_no: int, pool: _Pool) -> list[Item]:
        """This round's prompts of one pool, each with its own deterministic choice of examples. Generated
        tasks (in the target language) are preferred, but every prompt keeps at least one seed."""
        generated = [item.data["instruction"] for item in pool.accepted]
        prefix = "" if self.pools == 1 else f"{self._pool_unit(pool.number)}-"
        items = []
        for prompt_no in range(self._prompts_in_round(round_no, pool.missing)):
            rng = random.Random(f"{self.sampling.seed}/{lang}/{prefix}{round_no}/{prompt_no}")
            take_generated = min(len(generated), self.examples_per_prompt - 1)
            examples = rng.sample(generated, take_generated)
            examples += rng.sample(self.seeds, min(len(self.seeds), self.examples_per_prompt - take_generated))
            rng.shuffle(examples)
            items.append(Item(f"{prefix}r{round_no}-p{prompt_no}", lang,
                              {"examples": examples, "round": round_no, "pool": pool.number}))
        return items

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        examples = "\n".join(f"{i}. {text}" for i, text in enumerate(item.data["examples"], 1))
        answer_as = ANSWER_AS_JSON if self.structured else ANSWER_AS_LIST
        return prompt("instruction_generate.txt", item.lang, examples=examples, count=self.per_prompt,
                      answer_as=answer_as)

    def parse(self, text: str, item: Item) -> list[str]:
        """The new tasks of one answer's list, in order; copies of the prompt's examples dropped."""
        # Lines of the prompt itself count as examples: a model that echoes the prompt's rules as a
        # bulleted list has not written a task.
        known = [*item.data["examples"], *self.build_prompt(item)[0]["content"].splitlines()]
        return parse_task_list(text, known) if self.structured else parse_numbered_list(text, known)

    def _accept(self, text: str, item: Item, pool: _Pool) -> list[Item]:
        """Parse one list and add its novel items to the pool (in list order, up to the count).
        Raises when nothing in the list is novel, so the prompt is counted as a failure and
        `--retry-failures` asks it again with another seed."""
        if pool.missing <= 0:
            return []  # the count was reached by earlier prompts of this round
        accepted = []
        for text_no, instruction in enumerate(self.parse(text, item)):
            if pool.missing <= 0:
                break
            if pool.novelty.add_if_novel(instruction):
                new = Item(f"{item.id}-{text_no}", item.lang, {"instruction": instruction, "round": item.data["round"]})
                pool.accepted.append(new)
                accepted.append(new)
        if not accepted:
            raise ParseError("no_novel_instructions", "every instruction is a near-duplicate of a known one")
        return accepted


def _seed_instructions(seeds: list[dict[str, Any]] | list[str] | str | None) -> list[str]:
    """Seed instructions from records ({"instruction": ...}), plain strings, a JSONL path or the bundle."""
    if seeds is None:
        records: list[Any] = bundled_records("seed_tasks.jsonl")
    else:
        records = read_records(seeds) if isinstance(seeds, str | Path) else list(seeds)
    instructions = [_instruction_of(record) for record in records]
    if not instructions or not all(instructions):
        raise RecipeError("seed tasks must be a non-empty list of {'instruction': ..., 'response': ...} records")
    return instructions


def _instruction_of(record: Any) -> str:
    if isinstance(record, str):
        return record.strip()
    return str(record.get("instruction") or "").strip() if isinstance(record, Mapping) else ""


def respond_prompt(item: Item) -> list[dict[str, str]]:
    """Ask for an answer to `item.data["instruction"]` in the item's language."""
    return prompt("instruction_respond.txt", item.lang, instruction=item.data["instruction"])


def parse_item_response(text: str, item: Item) -> str:
    return parse_response(text, item.data["instruction"])
