"""Reading numbers as people write them in any script and convention, and a solution's final answer."""

from __future__ import annotations

import pytest

from generators.numbers import (
    final_answer,
    find_numbers,
    format_number,
    gold_value,
    has_reasoning,
    matches,
    normalize_digits,
    parse_number,
)


@pytest.mark.parametrize(("text", "value"), [
    ("42", 42), ("٤٢", 42),            # Arabic-Indic
    ("۴۲", 42),                        # Extended Arabic-Indic (Persian, Urdu)
    ("४२", 42),                        # Devanagari
    ("৪২", 42),                        # Bengali
    ("๔๒", 42),                        # Thai
    ("４２", 42),                       # full-width
    ("௪௨", 42),                        # Tamil
    ("፬", None),                       # Ethiopic digits are not decimal digits (no positional value)
])
def test_digits_of_every_script(text: str, value: float | None):
    assert parse_number(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("1,234.5", 1234.5),               # English
    ("1.234,5", 1234.5),               # German, Spanish, Indonesian
    ("1 234,5", 1234.5),               # French (space)
    ("1\u202f234,5", 1234.5),          # French, typeset (narrow no-break space)
    ("1\u00a0234", 1234),              # no-break space
    ("1'234.5", 1234.5),               # Swiss
    ("1’234.5", 1234.5),               # Swiss, typeset
    ("١٬٢٣٤٫٥", 1234.5),               # Arabic separators U+066C, U+066B
    ("۱٬۲۳۴٫۵", 1234.5),               # Persian digits with them
    ("1,23,456", 123456),              # Indian grouping
    ("१,२३,४५६", 123456),              # the same in Devanagari
    ("1,234,567.25", 1234567.25),
    ("1.234.567,25", 1234567.25),
    ("3.14159", 3.14159),
    ("0,5", 0.5), ("12,34", 12.34),    # a comma before other than three digits is decimal
    ("-5", -5), ("−5", -5), ("x = -2.5", -2.5),
    ("3/4", 0.75), ("٣/٤", 0.75), ("3⁄4", 0.75),
    ("25%", 25), ("25 %", 25), ("٢٥٪", 25),  # a percentage is the number GSM8K answers with
    ("$1,234.50", 1234.5), ("€5", 5), ("₹500", 500), ("Rs.500", 500), ("1.234,50 €", 1234.5),
    ("KSh 1,500/=", 1500), ("¥1,000", 1000),
    ("共有72个苹果", 72), ("ราคา๕๐บาท", 50),  # no space between words and numbers
])
def test_separators_signs_fractions_and_currency(text: str, value: float):
    assert parse_number(text) == pytest.approx(value)


def test_ambiguous_separator_keeps_both_readings_thousands_first():
    (token,) = find_numbers("1.500")
    assert token.readings == (1500, 1.5)
    (token,) = find_numbers("2,125")
    assert token.readings == (2125, 2.125)
    answer = final_answer("#### 1.500")
    assert matches(answer, 1500) and matches(answer, 1.5) and not matches(answer, 15)


def test_separate_numbers_are_not_glued_together():
    assert [t.value for t in find_numbers("3, 4 and 5")] == [3, 4, 5]
    assert [t.value for t in find_numbers("10 - 3 = 7")] == [10, 3, 7]
    assert [t.value for t in find_numbers("H2O boils at 100")] == [100]
    assert [t.value for t in find_numbers("5 45")] == [5, 45]  # a space groups three digits only
    assert parse_number("3 and 4") is None  # two numbers are not one
    assert parse_number("no number") is None


def test_offsets_point_into_the_original_text():
    text = "كان لديه ٣ تفاحات و١٢ برتقالة"
    tokens = find_numbers(text)
    assert [text[t.start:t.end] for t in tokens] == ["٣", "١٢"]
    assert len(normalize_digits(text)) == len(text)


@pytest.mark.parametrize(("solution", "text", "how"), [
    ("3 + 4 = 7 maembe.\n#### 7", "7", "marker"),
    ("Jibu ni 8.\n####  ८", "8", "marker"),                          # Devanagari after the marker
    ("... ٣ × ٤ = ١٢\n#### ١٢ تفاحة", "12", "marker"),              # a unit after the number
    ("#### 5 in step one, then 6\n#### 1,234.5", "1,234.5", "marker"),   # the last marker counts
    ("So the answer is $\\boxed{42}$.", "42", "boxed"),
    ("12 * 7 = 84. Ravi reads 84 pages.", "84", "last_number"),   # the model ignored "####"
    ("Jumla ni ๒๕", "25", "last_number"),
])
def test_final_answer_is_found_however_it_is_written(solution: str, text: str, how: str):
    answer = final_answer(solution)
    assert answer is not None and (answer.text, answer.how) == (text, how)


def test_a_marker_without_a_number_falls_back_to_the_last_number():
    answer = final_answer("5 + 3 = 8\n#### eight")
    assert (answer.text, answer.how) == ("8", "last_number")
    assert final_answer("hakuna namba hapa") is None


@pytest.mark.parametrize(("gold", "value"), [
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", 72),   # GSM8K's answer field
    ("#### 1,234", 1234), ("#### -3", -3),
    (72, 72), (2.5, 2.5), ("72", 72), ("١٢", 12),            # MGSM's answer_number, numbers as text
    ("seventy-two", None), (None, None), (True, None), (float("nan"), None), ("3 or 4", None),
])
def test_gold_answers(gold: object, value: float | None):
    assert gold_value(gold) == value


def test_float_answers_match_within_a_tolerance_only():
    assert matches(final_answer("#### 0.30000000000000004"), 0.1 + 0.2)
    assert matches(final_answer("#### 0,3"), 0.3)
    assert not matches(final_answer("#### 0.33"), 1 / 3)
    assert not matches(final_answer("#### 73"), 72)


def test_canonical_text_and_reasoning():
    assert (format_number(72.0), format_number(2.5), format_number(-3.0)) == ("72", "2.5", "-3")
    assert not has_reasoning("#### 72")
    assert has_reasoning("Amina ana maembe saba sasa.\n#### 7")
