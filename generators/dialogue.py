"""Multi-turn dialogues written directly in the target language ("LLMs as multilingual crowdworkers").

    two personas + a speech event + common ground -> a dialogue in the target language
      -> `A:` / `B:` turns -> user/assistant messages

Scenarios depend on the index and the seed, not on the language, so every language gets the same
scenarios (comparable across languages, like a crowdsourcing brief given to each language's
workers); the model writes the dialogue itself rather than translating one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from datatrove.data import Document

from curation.errors import ParseError, RecipeError
from curation.languages import normalize_lang
from curation.llm.types import Sampling
from curation.novelty import normalize_text
from generators.base import (
    Asker,
    Generator,
    Item,
    bundled_lines,
    bundled_records,
    chat_record,
    clean_line,
    prompt,
)

# `A: text`, `**A:** text`, `Speaker A - text`, `Amina: text`: a short label, then `:` (or ` - `).
_TURN = re.compile(r"^\s*[*_]{0,2}(?P<label>[^\s:：*_][^:：*_]{0,29}?)[*_]{0,2}\s*(?:[:：]|\s[-–—]\s)[*_]{0,2}\s*(?P<text>.*)$")
_AB_LABEL = re.compile(r"^(?:(?:speaker|person)\s*)?(?P<who>[ab12])$", re.IGNORECASE)
MAX_NAME_WORDS = 2  # "Amina", "Mama Amina"


def _speaker(label: str) -> str | None:
    """"A" or "B" for an explicit A/B label (`A`, `Speaker B`, `Person 1`), else None."""
    match = _AB_LABEL.match(label.strip())
    return None if match is None else {"1": "A", "2": "B"}.get(match["who"], match["who"].upper())


def parse_turns(text: str) -> list[tuple[str, str]]:
    """(speaker, text) turns in order. With explicit A/B labels only those lines start turns; without
    any, the first two distinct short labels (names the model gave the speakers) are A and B, and a
    third is a format error. An unlabeled line directly under a turn continues it; preamble and
    narration after a blank line are ignored. Consecutive turns of one speaker are merged."""
    matches = [(_TURN.match(line), line) for line in text.splitlines()]
    has_ab = any(m and _speaker(m["label"]) for m, _ in matches)
    names: dict[str, str] = {}
    turns: list[list[str]] = []
    in_turn = False
    for match, line in matches:
        who = _line_speaker(match, has_ab, names) if match else None
        if who:
            if turns and turns[-1][0] == who:
                turns[-1][1] = f"{turns[-1][1]}\n{match['text'].strip()}".strip()
            else:
                turns.append([who, match["text"].strip()])
            in_turn = True
        elif in_turn and line.strip():
            turns[-1][1] = f"{turns[-1][1]}\n{line.strip()}".strip()
        else:
            in_turn = False
    return [(who, clean_line(content)) for who, content in turns]


def _line_speaker(match: re.Match[str], has_ab: bool, names: dict[str, str]) -> str | None:
    label = clean_line(match["label"])
    if has_ab:
        return _speaker(label)
    # A name label is short and says something on its line; "Haya ni mazungumzo:" is a preamble.
    if len(label.split()) > MAX_NAME_WORDS or any(ch.isdigit() for ch in label) or not match["text"].strip():
        return None
    key = label.casefold()
    if key not in names:
        if len(names) == 2:
            raise ParseError("bad_format", f"a third speaker {label!r}")
        names[key] = "AB"[len(names)]
    return names[key]


class DialogueGenerator(Generator):
    """`count` dialogues of at least `turns` turns (rounded down to even) in the target language.

    `personas` (short English descriptions), `speech_events` and `common_ground` default to the
    bundled lists in generators/data/.
    """

    name = "dialogue"

    def __init__(self, count: int = 10, turns: int = 6, speech_events: list[str] | None = None,
                 personas: list[str] | None = None, common_ground: list[str] | None = None,
                 sampling: Sampling | None = None):
        super().__init__(sampling or Sampling(temperature=0.9, max_tokens=max(512, 96 * turns)))
        if count < 1 or turns < 2:
            raise RecipeError("a dialogue generator needs count >= 1 and turns >= 2")
        self.count = count
        self.turns = turns
        self.personas = personas or [r["persona"] for r in bundled_records("personas.jsonl")]
        self.speech_events = speech_events or bundled_lines("speech_events.txt")
        self.common_ground = common_ground or bundled_lines("common_ground.txt")
        if len(self.personas) < 2:
            raise RecipeError("a dialogue needs at least two personas")

    @property
    def min_turns(self) -> int:
        return self.turns // 2 * 2

    def estimate_prompts(self, lang: str) -> int:
        return self.count

    def scenarios(self, lang: str) -> list[Item]:
        """One item per dialogue: speech events in rotation, personas and common ground drawn with a
        seeded generator."""
        items = []
        for index in range(self.count):
            rng = random.Random(f"{self.sampling.seed}/dialogue/{index}")
            persona_a, persona_b = rng.sample(self.personas, 2)
            items.append(Item(f"{index:05d}", lang, {
                "personas": [persona_a, persona_b],
                "speech_event": self.speech_events[index % len(self.speech_events)],
                "common_ground": rng.choice(self.common_ground),
            }))
        return items

    def generate(self, lang: str, asker: Asker) -> Iterator[Document]:
        lang = normalize_lang(lang)
        scenarios = asker.mine(self.name, self.scenarios(lang))  # this task's share of the dialogues
        for item, turns in asker.ask(self.name, scenarios, self.build_prompt, self.parse, self.sampling):
            messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": content}
                        for i, (_, content) in enumerate(turns)]
            extra = {key: item.data[key] for key in ("personas", "speech_event", "common_ground")}
            yield chat_record(messages, task="dialogue", lang=lang, item=item, model=asker.model, extra=extra)

    def build_prompt(self, item: Item) -> list[dict[str, str]]:
        persona_a, persona_b = item.data["personas"]
        return prompt("dialogue.txt", item.lang, persona_a=persona_a, persona_b=persona_b, turns=self.turns,
                      speech_event=item.data["speech_event"], common_ground=item.data["common_ground"])

    def parse(self, text: str, item: Item) -> list[tuple[str, str]]:
        """Alternating turns, an even number of them, at least `min_turns`."""
        turns = parse_turns(text)
        if not turns:
            raise ParseError("bad_format", "no 'A:' / 'B:' lines")
        if any(not normalize_text(content) for _, content in turns):
            raise ParseError("empty_field", "a turn without text")
        setup = {normalize_text(s) for s in (*item.data["personas"], item.data["common_ground"])}
        if any(normalize_text(content) in setup for _, content in turns):
            raise ParseError("echoed_prompt", "a turn repeats the scenario")
        turns = turns[:len(turns) // 2 * 2]  # the dialogue ends on the second speaker's turn
        if len(turns) < self.min_turns:
            raise ParseError("too_few_turns", f"{len(turns)} turns, need {self.min_turns}")
        return turns
