"""Numbers as people write them in any script, and the final answer of a worked solution.

Math solutions in Hindi write `४२`, in Arabic `٤٢`, in Persian `۴۲`, in Thai `๔๒`; Germans write
`1.234,5`, the English `1,234.5`, the French `1 234,5`, the Swiss `1'234.5`, Arabic `١٬٢٣٤٫٥`,
Indian English `1,23,456`. A solution is kept only when its final answer equals the gold one, so
reading these right is the difference between keeping a correct solution and dropping it.

    normalize_digits("٤٢")           -> "42"          every Unicode decimal digit (Nd) to ASCII
    find_numbers("€1.234,50 and 3/4") -> two NumberTokens: 1234.5 and 0.75
    final_answer("...\\n#### ४२")      -> Answer("42", (42.0,), "marker")
    gold_value("... #### 1,234")      -> 1234.0                    (GSM8K's answer field)

A separator followed by exactly three digits (`1,234`, `1.500`) is ambiguous: thousands in one
convention, a decimal point in another. Such a token keeps both readings, thousands first (word
problems mostly have whole answers), and `matches` accepts either; a token whose separators settle
it (`1.234,5`, `0,5`, `12,34`) has one reading.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# Separators that are not ASCII, mapped to the ASCII ones the pattern below knows.
_SEPARATORS = {
    "\u066b": ".",  # ARABIC DECIMAL SEPARATOR ٫
    "\u066c": ",",  # ARABIC THOUSANDS SEPARATOR ٬
    "\uff0c": ",",  # FULLWIDTH COMMA ，
    "\uff0e": ".",  # FULLWIDTH FULL STOP ．
    "\uff05": "%",  # FULLWIDTH PERCENT SIGN ％
    "\u066a": "%",  # ARABIC PERCENT SIGN ٪
    "\uff0f": "/",  # FULLWIDTH SOLIDUS ／
    "\u2044": "/",  # FRACTION SLASH ⁄
    "\u2212": "-",  # MINUS SIGN −
    "\uff0d": "-",  # FULLWIDTH HYPHEN-MINUS －
    "\u2019": "'",  # RIGHT SINGLE QUOTATION MARK, a Swiss thousands separator when typeset
    "\u00a0": " ",  # NO-BREAK SPACE (French thousands)
    "\u202f": " ",  # NARROW NO-BREAK SPACE (French thousands, typeset)
    "\u2009": " ",  # THIN SPACE (SI thousands)
}

# One number, after normalize_digits. The grouped form needs the same separator between groups
# of exactly three digits (`(?P=sep)`), so "3, 4" or "3 45" are two numbers, not one.
_NUMBER = re.compile(
    r"""
    (?<![0-9A-Za-z_])(?<!\d[.,'])                     # not inside a Latin word (H2O) or another number;
                                                      # Thai/Chinese/Hindi letters may touch a number
    (?P<sign>-(?=\d))?
    (?P<body>
        \d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?           # Indian grouping: 1,23,456
      | \d{1,3}(?P<sep>[,.' ])\d{3}(?:(?P=sep)\d{3})*(?:(?!(?P=sep))[.,]\d+)?   # grouped: 1,234.5 1.234,5
      | \d+(?:[.,]\d+)?                              # plain: 42 3.5 3,5
    )
    (?![\d])
    (?:/(?P<den>\d+)(?![\d.,]\d))?                    # a fraction: 3/4
    (?P<percent>\s?%)?
    """,
    re.VERBOSE,
)

_MARKER = "####"
_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")
# A solution needs some words besides its numbers to be a worked solution.
MIN_REASONING_LETTERS = 20


@dataclass(frozen=True)
class NumberToken:
    """A number found in text: what was written (digits made ASCII) and what it may mean."""

    text: str
    readings: tuple[float, ...]  # the preferred reading first; two when the separator is ambiguous
    start: int
    end: int

    @property
    def value(self) -> float:
        return self.readings[0]


@dataclass(frozen=True)
class Answer:
    """A solution's final answer: the number as written, its readings, and where it was found
    (`marker`: after "####"; `boxed`: in \\boxed{}; `last_number`: the text's last number)."""

    text: str
    readings: tuple[float, ...]
    how: str


def normalize_digits(text: str) -> str:
    """Every decimal digit of any script (Arabic-Indic, Persian, Devanagari, Bengali, Thai,
    full-width...) as ASCII, and the non-ASCII decimal/thousands separators, minus and percent signs
    as their ASCII forms. Length is kept (one character for one), so offsets still point into `text`."""
    out = []
    for char in text:
        if char in _SEPARATORS:
            out.append(_SEPARATORS[char])
        elif not char.isascii() and unicodedata.category(char) == "Nd":
            out.append(str(unicodedata.decimal(char)))
        else:
            out.append(char)
    return "".join(out)


def find_numbers(text: str) -> list[NumberToken]:
    """Every number in `text`, in order."""
    tokens = []
    for match in _NUMBER.finditer(normalize_digits(text)):
        readings = _readings(match)
        if readings:
            tokens.append(NumberToken(match.group(0).strip(), readings, match.start(), match.end()))
    return tokens


def parse_number(text: str) -> float | None:
    """The value of `text` when it is one number and nothing else but currency signs, units or words
    around it (`"$1,234.50"`, `"٤٢"`, `"3/4"`, `"25 %"`); None when it holds none or several."""
    tokens = find_numbers(text)
    return tokens[0].value if len(tokens) == 1 else None


def _readings(match: re.Match[str]) -> tuple[float, ...]:
    body = match.group("body")
    sign = -1.0 if match.group("sign") else 1.0
    values = [sign * v for v in _body_readings(body, match.group("sep"))]
    if match.group("den"):
        denominator = int(match.group("den"))
        if denominator == 0 or len(values) != 1 or not float(values[0]).is_integer():
            return ()  # "3/0" or "1.5/2" is no fraction anyone writes as an answer
        values = [values[0] / denominator]
    return tuple(values)


def _body_readings(body: str, sep: str | None) -> list[float]:
    """The readings of the digits and separators of one number (see the module docstring)."""
    if sep is None and body.count(",") > 1:  # Indian grouping
        return [float(body.replace(",", ""))]
    if sep is not None:
        head, _, tail = body.rpartition(sep)
        grouped = body.replace(sep, "")
        if sep in " '":  # spaces and apostrophes only ever group thousands
            return [_decimal(grouped)]
        other = "." if sep == "," else ","
        if other in grouped or body.count(sep) > 1:  # 1,234.5 / 1.234,5 / 1,234,567: settled
            return [_decimal(grouped)]
        # one separator and three digits after it: 1,234 or 1.500, thousands or decimals
        return [float(grouped), float(f"{head}.{tail}")]
    return [_decimal(body)]


def _decimal(text: str) -> float:
    """A number whose only separator left is its decimal one, `.` or `,`."""
    return float(text.replace(",", "."))


def final_answer(text: str) -> Answer | None:
    """The final answer of a worked solution, or None when it has no number.

    In order: the first number after the last "####" (the form the prompt asks for, GSM8K's), the
    number in the last \\boxed{} (what math-tuned models write), else the last number of the text
    (a model that ignored the instruction usually ends with its answer)."""
    marker = text.rfind(_MARKER)
    if marker >= 0:
        after = find_numbers(text[marker + len(_MARKER):])
        if after:
            return Answer(after[0].text, after[0].readings, "marker")
    boxed = _BOXED.findall(text)
    if boxed:
        inside = find_numbers(boxed[-1])
        if inside:
            return Answer(inside[-1].text, inside[-1].readings, "boxed")
    numbers = find_numbers(text)
    if numbers:
        return Answer(numbers[-1].text, numbers[-1].readings, "last_number")
    return None


def gold_value(answer: object) -> float | None:
    """A source record's gold answer as a number: a number as it is; a string in GSM8K's shape
    (worked solution, then "#### 72") by its marker; any other string when it is one number
    (MGSM's "72", "1,234"). None when there is no single number to compare with."""
    if isinstance(answer, bool) or answer is None:
        return None
    if isinstance(answer, int | float):
        return float(answer) if math.isfinite(answer) else None
    text = str(answer)
    if _MARKER in text:
        after = find_numbers(text[text.rfind(_MARKER) + len(_MARKER):])
        return after[0].value if after else None
    return parse_number(text)


def matches(answer: Answer, gold: float, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Whether any reading of `answer` equals `gold`, within a float tolerance (0.1 + 0.2 is 0.3)."""
    return any(math.isclose(value, gold, rel_tol=rel_tol, abs_tol=abs_tol) for value in answer.readings)


def format_number(value: float) -> str:
    """`72.0` -> "72", `2.5` -> "2.5": the canonical text of a gold answer."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def has_reasoning(text: str) -> bool:
    """Whether a solution has words besides its numbers (a bare "#### 72" is not a worked solution)."""
    return sum(char.isalpha() for char in text) >= MIN_REASONING_LETTERS
