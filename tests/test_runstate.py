"""Running into an output folder again: what resumes, and what is refused before anything is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_stats, run_cli, write_jsonl

TEXTS = [
    "Mvua kubwa ilinyesha jana usiku na wakulima katika kijiji chetu wamefurahi sana.",
    "Ọjà ńlá ni ìlú wa, àwọn ènìyàn máa ń wá láti ibi gbogbo láti ra nǹkan.",
    "Вчера вечером шёл сильный дождь, и фермеры нашей деревни очень обрадовались.",
]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "part-0.jsonl", [{"text": t} for t in TEXTS])
    return folder


def small_recipe(tmp_path: Path, steps: list | None = None) -> dict:
    return {"name": "small", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in" / "*.jsonl")}],
            "steps": steps or [], "executor": {"local": {"tasks": 1}}}


@pytest.mark.parametrize(("bad_step", "good_step", "complaint"), [
    ({"lid": {"keep": ["sw", "xx"]}}, {"lid": {"keep": ["sw", "yo"]}}, "unknown language code 'xx'"),
    ({"quality": {"thresholds": {"min_wrds": 3}}}, {"quality": {"thresholds": {"min_words": 3}}}, "min_wrds"),
])
def test_a_refused_recipe_leaves_the_output_folder_untouched(tmp_path, recipe_file, inputs, bad_step, good_step,
                                                             complaint):
    refused = run_cli("run", recipe_file(small_recipe(tmp_path, [bad_step])))
    assert refused.exit_code == 2 and complaint in refused.output, refused.output
    assert not (tmp_path / "out").exists(), "nothing ran, so nothing may claim the folder"
    fixed = run_cli("run", recipe_file(small_recipe(tmp_path, [good_step])))  # no --fresh needed
    assert fixed.exit_code == 0, fixed.output
    assert load_stats(tmp_path / "out")["accounting"]["ok"]
