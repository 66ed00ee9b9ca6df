"""Fuzzed recipes: any YAML (or any bytes) loads into a recipe or a RecipeError, never another exception.

Three sources of recipes: raw text from YAML's syntax (anchors, aliases, tags, recursion, flow and
block styles, BOMs, NULs); a valid recipe with its keys, values and `--set` overrides changed at
random (wrong types, huge numbers, NaN, odd unicode, unknown keys, missing blocks); and the same
through `curate validate`. A recipe that loads must also get through what `curate run` does before
it touches the output folder (inputs, compiling, executors, fingerprint, the resolved recipe), and
the resolved recipe a run saves must load again to the same fingerprint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from curation.compile import compile_recipe
from curation.errors import CurateError, RecipeError
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import make_executors
from curation.recipe import Recipe, dump_resolved, load_recipe
from tests.conftest import run_cli, write_jsonl
from tests.fuzzing import example_dir, fuzz_settings, odd_text


def load_or_error(path: Path, overrides: list[str] | None = None) -> Recipe | RecipeError:
    """The loaded recipe, or the RecipeError it raised (any other exception fails the test)."""
    try:
        return load_recipe(path, overrides)
    except RecipeError as e:
        message = str(e)
        assert message.strip() and "Traceback" not in message
        assert len(message.splitlines()) <= 10  # one line per problem, at most 8 problems and a count
        return e


def prepare_like_run(recipe: Recipe) -> None:
    """What `curate run` does with a loaded recipe before the output folder is touched; a CurateError is an
    answer (a one-line refusal), anything else fails the test."""
    try:
        files = expand_inputs(recipe.inputs)
        layout = RunLayout(Path(recipe.output))
        make_executors(recipe, compile_recipe(recipe, files, layout), layout)
    except CurateError:
        return
    recipe.fingerprint()


def assert_resolved_recipe_loads_again(recipe: Recipe, folder: Path) -> None:
    """The resolved recipe a run saves beside its output is a recipe that loads to the same fingerprint."""
    saved = folder / "resolved.yaml"
    saved.write_text(dump_resolved(recipe), encoding="utf-8")
    again = load_recipe(saved)
    assert again.fingerprint() == recipe.fingerprint()


# -- raw YAML --------------------------------------------------------------------------------------------

YAML_TOKENS = [
    "name: fuzz\n", "output: out\n", "inputs:\n", "  - path: in.jsonl\n", "steps:\n", "  - lid: {keep: [sw]}\n",
    "  - quality:\n", "  - custom: {use: 'tests.steps_for_tests:CrashOnce', args: ", "llm: {extra: ",
    "executor: {local: {tasks: 2}}\n", "limits: {max_doc_bytes: ", "}\n", "&a ", "*a", "*b", "<<: *a\n",
    "&b [*b]\n", "[", "]", "{", "}", ": ", ", ", "- ", "? ", "|\n", ">-\n", "'", '"', "\\", "\t", "\n", "  ",
    "    ", "#", "%YAML 1.1\n", "---\n", "...\n", "!!binary aGk=", "!!set {a, b}", "!!python/name:os.system",
    "!!float", "!!str", "!custom", "\ufeff", "\x00", "\x85", "\u2028", "9" * 30, "-1e999", ".nan", "~", "null",
    "yes", "0x1F", "2020-01-01", '"\\ud800"', '"\\0"', "Ọjà ", "हिजो",
]


@fuzz_settings(200)
@given(tokens=st.lists(st.sampled_from(YAML_TOKENS) | odd_text, max_size=30), raw=st.none() | st.binary(max_size=60))
def test_any_yaml_text_loads_or_says_why(tmp_path, tokens, raw):
    path = example_dir(tmp_path) / "recipe.yaml"
    path.write_bytes(raw if raw is not None else "".join(tokens).encode("utf-8", "surrogatepass"))
    loaded = load_or_error(path)
    if isinstance(loaded, Recipe):
        prepare_like_run(loaded)


# -- a valid recipe, changed at random ---------------------------------------------------------------------

def base_recipe(folder: Path) -> dict[str, Any]:
    """A recipe that loads and compiles, with most blocks present so that changes land everywhere."""
    write_jsonl(folder / "in.jsonl", [{"id": 1, "text": "Habari ya asubuhi, rafiki yangu."}])
    (folder / "in.csv").write_text("id,text\n1,Ọjà ńlá ni ìlú wa.\n", encoding="utf-8")
    return {
        "name": "fuzz",
        "output": str(folder / "out"),
        "inputs": [{"path": str(folder / "in.jsonl"), "id_key": "id", "text_key": "text"},
                   {"path": str(folder / "*.csv"), "csv_delimiter": ",", "format": "csv", "text_unit": "line"}],
        "steps": [{"lid": {"keep": ["sw", "yo"], "min_score": {"default": 0.3, "sw": 0.5}}},
                  {"quality": {"thresholds": {"min_words": 3}, "per_language": {"sw": {"min_words": 2}}}},
                  {"dedup": {"near": {"bands": 14, "rows": 8, "threshold": 0.75}, "containment": {"threshold": 0.5}}}],
        "executor": {"local": {"tasks": 2, "workers": 1}},
        "limits": {"max_doc_bytes": 100_000, "min_text_chars": 1},
        "dataset": {"rows_per_shard": 100, "license": "cc-by-4.0", "rejects": True},
        "llm": {"engine": "vllm", "model": "bundled", "max_model_len": 2048, "extra": {"seed": 1}},
        "generate": {"languages": ["sw"], "instruction": {"count": 2, "rounds": 1}, "max_tokens": 32,
                     "verify": {"min_chars": 2}},
    }


def paths(node: Any, at: tuple = ()) -> list[tuple]:
    """Every place in a recipe: each key of each mapping and each position of each list."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    found = [at] if at else []
    for key, child in children:
        found += paths(child, (*at, key))
    return found


values = st.recursive(
    st.none() | st.booleans() | odd_text | st.sampled_from(["\ud800", "a\x00b", "", "*", "../..", "s3://x/y"])
    | st.integers() | st.sampled_from([10**30, -(10**30), 2**63, 2**64]) | st.floats(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=6,
)


def change(data: dict[str, Any], where: tuple, how: str, value: Any, key: str) -> None:
    """Set, delete, or add a key beside the thing at `where` (a list position is set or deleted alike)."""
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    last = where[-1]
    if how == "set":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[key] = value


@st.composite
def changed_recipes(draw, base: dict[str, Any]) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(base))  # a fresh copy per example
    for _ in range(draw(st.integers(1, 4))):
        places = paths(data)
        if not places:
            break
        change(data, draw(st.sampled_from(places)), draw(st.sampled_from(["set", "delete", "add"])), draw(values),
               draw(odd_text))
    return data


OVERRIDE_KEYS = ["steps[0].lid.keep", "steps[9].lid", "steps[-1].dedup.near.bands", "executor.local.tasks",
                 "inputs[0].path", "inputs[99999999999999999999].path", "limits.max_doc_bytes", "name", "a..b",
                 "steps[x]", "[0]", "", "llm.extra.deep.er", "generate.languages[0]"]
overrides = st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(OVERRIDE_KEYS),
                               st.sampled_from(["[sw, yo]", "0", "-1", "9" * 25, "{a: [", "~", "'\\ud800'", "nan"])
                               | odd_text) | odd_text, max_size=2)


@fuzz_settings(150)
@given(data=st.data(), extra=overrides)
def test_changed_recipes_load_or_say_why(tmp_path, data, extra):
    folder = example_dir(tmp_path)
    recipe = data.draw(changed_recipes(base_recipe(folder)))
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    loaded = load_or_error(path, extra)
    if isinstance(loaded, Recipe):
        prepare_like_run(loaded)
        assert_resolved_recipe_loads_again(loaded, folder)


@fuzz_settings(40)
@given(data=st.data())
def test_curate_validate_answers_in_one_line_or_ok(tmp_path, data):
    """`curate validate` on a changed recipe: exit 0 with `ok`, or exit 2 with an error, never a traceback."""
    folder = example_dir(tmp_path)
    recipe = data.draw(changed_recipes(base_recipe(folder)))
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    result = run_cli("validate", path)
    assert (result.exit_code, result.output.split(":")[0]) in ((0, "ok"), (2, "error")), result.output


def test_the_base_recipe_is_valid(tmp_path):
    """The fuzzed recipes start from a valid one, so their changes, not the base, are what is judged."""
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(base_recipe(tmp_path)), encoding="utf-8")
    result = run_cli("validate", path)
    assert result.exit_code == 0 and result.output.startswith("ok"), result.output
