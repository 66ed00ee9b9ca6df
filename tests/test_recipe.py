"""Recipe validation: every mistake is one readable line naming the YAML path, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from curation.errors import RecipeError
from curation.recipe import apply_overrides, dump_resolved, load_recipe
from tests.conftest import run_cli, write_jsonl


def _minimal(tmp_path: Path) -> dict:
    write_jsonl(tmp_path / "in.jsonl", [{"text": "Habari ya asubuhi, rafiki yangu mpendwa."}])
    return {"name": "t", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in.jsonl")}]}


def test_bad_values_are_reported_by_yaml_path(tmp_path, recipe_file):
    recipe = _minimal(tmp_path) | {
        "steps": [{"lid": {}}, {"quality": {}}, {"dedup": {"near": {"threshold": 1.5}}}],
        "executor": {"local": {"tasks": 0}},
    }
    recipe["steps"][0]["lid"]["min_score"] = -0.1
    with pytest.raises(RecipeError) as err:
        load_recipe(recipe_file(recipe))
    message = str(err.value)
    assert "steps[0].lid.min_score: must be between 0 and 1" in message
    assert "steps[2].dedup.near.threshold: must be between 0 and 1" in message
    assert "executor.local.tasks: must be at least 1" in message


def test_unknown_keys_and_step_types_are_named(tmp_path, recipe_file):
    recipe = _minimal(tmp_path) | {"steps": [{"lid": {"keeep": ["sw"]}}, {"translate_all": {}}]}
    with pytest.raises(RecipeError) as err:
        load_recipe(recipe_file(recipe))
    assert "steps[0].lid.keeep: unknown key" in str(err.value)
    assert "steps[1].translate_all: unknown step type `translate_all`" in str(err.value)


def test_step_order_and_repeats_are_checked(tmp_path, recipe_file):
    with pytest.raises(RecipeError, match="put `lid` before `quality`"):
        load_recipe(recipe_file(_minimal(tmp_path) | {"steps": [{"quality": None}, {"lid": None}]}))
    with pytest.raises(RecipeError, match="repeated: lid"):
        load_recipe(recipe_file(_minimal(tmp_path) | {"steps": [{"lid": None}, {"lid": None}]}))


def test_train_and_push_blocks_are_checked_and_do_not_change_the_fingerprint(tmp_path, recipe_file):
    with pytest.raises(RecipeError, match="`train` learns from chat records"):
        load_recipe(recipe_file(_minimal(tmp_path) | {"train": {}}))
    with pytest.raises(RecipeError, match="push.repo_id"):
        load_recipe(recipe_file(_minimal(tmp_path) | {"push": {"repo_id": "no-namespace"}}))
    chat = _minimal(tmp_path)
    chat["inputs"][0] |= {"prompt_key": "q", "response_key": "a"}
    plain = load_recipe(recipe_file(chat))
    trained = load_recipe(recipe_file(chat | {"train": {"weights": {"sw": 2}}, "push": {"repo_id": "me/data"}}))
    assert trained.train.weights == {"sw": 2} and trained.push.token_env == "HF_TOKEN"
    assert trained.fingerprint() == plain.fingerprint()  # resuming a run to train or push it is safe


def test_empty_step_value_means_defaults(tmp_path, recipe_file):
    recipe = load_recipe(recipe_file(_minimal(tmp_path) | {"steps": [{"lid": None}, {"dedup": None}]}))
    assert recipe.step("dedup").near.bands == 14
    assert recipe.step("lid").keep is None


def test_overrides_reach_lists_and_nested_keys(tmp_path, recipe_file):
    path = recipe_file(_minimal(tmp_path) | {"steps": [{"lid": {"keep": ["sw"]}}]})
    recipe = load_recipe(path, ["steps[0].lid.keep=[yo, ha]", "executor.local.tasks=3", "name=other"])
    assert recipe.step("lid").keep == ["yo", "ha"]
    assert recipe.executor.tasks == 3
    assert recipe.name == "other"
    with pytest.raises(RecipeError, match="no such place"):
        apply_overrides({"steps": []}, ["steps[4].lid.keep=[sw]"])
    with pytest.raises(RecipeError, match="expected key=value"):
        apply_overrides({}, ["nothing"])


def test_yaml_syntax_and_missing_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError, match="invalid YAML"):
        load_recipe(bad)
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.yaml")


def test_cli_prints_one_line_errors_and_exits_2(tmp_path, recipe_file):
    path = recipe_file(_minimal(tmp_path) | {"inputs": [{"path": str(tmp_path / "nothing-*.jsonl")}]})
    result = run_cli("validate", path)
    assert result.exit_code == 2
    assert "no file matches" in result.output
    assert "Traceback" not in result.output
    result = run_cli("run", tmp_path / "absent.yaml")
    assert result.exit_code == 2 and "recipe file not found" in result.output


def test_schema_and_plan(tmp_path, recipe_file):
    schema = json.loads(run_cli("schema").output)
    assert {"steps", "inputs", "generate", "llm"} <= set(schema["properties"]) and "output" in schema["required"]
    path = recipe_file(_minimal(tmp_path) | {"steps": [{"lid": None}, {"dedup": None}]})
    result = run_cli("plan", path)
    assert result.exit_code == 0
    for stage in ("curate", "buckets", "clusters", "publish", "finalize"):
        assert stage in result.output


def _one_line_exit_2(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    for text in expected:
        assert text in result.output, result.output


@pytest.mark.parametrize("where", ["/proc/x", "file/out", "file"])
def test_an_unwritable_output_folder_is_one_line_before_anything_runs(tmp_path, recipe_file, where):
    (tmp_path / "file").write_text("a regular file")
    output = where if where.startswith("/") else str(tmp_path / where)
    result = run_cli("run", recipe_file(_minimal(tmp_path) | {"output": output}))
    _one_line_exit_2(result, f"cannot write the output folder {output}: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_one_line(tmp_path, recipe_file):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = run_cli("run", recipe_file(_minimal(tmp_path) | {"output": str(locked / "out")}))
    _one_line_exit_2(result, f"cannot write the output folder {locked / 'out'}: Permission denied")


def test_a_negative_quality_threshold_is_refused_naming_it(tmp_path, recipe_file):
    path = recipe_file(_minimal(tmp_path) | {"steps": [{"quality": {"thresholds": {"min_words": -3}}}]})
    _one_line_exit_2(run_cli("validate", path), "steps[0].quality: thresholds.min_words: must be at least 0")
    assert not (tmp_path / "out").exists()
    _one_line_exit_2(run_cli("run", path), "thresholds.min_words: must be at least 0")


def test_a_set_key_that_cannot_be_read_is_quoted_as_written(tmp_path, recipe_file):
    path = recipe_file(_minimal(tmp_path) | {"steps": [{"lid": None}]})
    _one_line_exit_2(run_cli("validate", path, "--set", "steps[x].lid=1"), "--set steps[x].lid: cannot read `steps[x]`")
    _one_line_exit_2(run_cli("validate", path, "--set", "steps[9].lid=1"), "--set steps[9].lid: no such place")
    with pytest.raises(RecipeError, match="cannot read an empty part"):
        apply_overrides({}, ["executor..tasks=2"])
    assert apply_overrides({"steps": [{"lid": {}}]}, ["steps[-1].lid.keep=[sw]"]) == {"steps": [{"lid": {"keep": ["sw"]}}]}


# -- found by fuzzing (tests/test_fuzz_recipe.py), each as its smallest example ----------------------------

@pytest.mark.parametrize(("yaml_text", "expected"), [
    ('output: "out\\0"', "output: holds a NUL character"),
    ('output: "out\\ud800"', "output: holds a lone surrogate"),
    ('llm: {extra: {"\\udc80": 1}}', "llm.extra.\\udc80: the key holds a lone surrogate"),
    ("llm: {extra: &a {k: [*a]}}", "llm.extra.k[0]: an alias inside its own anchor"),
])
def test_yaml_no_recipe_can_use_is_one_line_naming_where(tmp_path, yaml_text, expected):
    """A NUL or lone surrogate escape reached the OS (ValueError, UnicodeEncodeError from Path.resolve); a
    recursive alias loaded, then broke the fingerprint (json: circular reference) when the run began."""
    recipe = {k: v for k, v in _minimal(tmp_path).items() if not yaml_text.startswith(k)}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe) + yaml_text + "\n", encoding="utf-8")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert expected in str(err.value)
    result = run_cli("validate", path)  # printed, a lone surrogate in a key stays escaped
    assert result.exit_code == 2 and "Traceback" not in result.output and expected in result.output


@pytest.mark.parametrize(("where", "value", "expected"), [
    ("limits.max_doc_bytes", str(2**63), "limits.max_doc_bytes: must be at most 2147483647"),
    ("inputs[0].csv_delimiter", "''", "inputs[0].csv_delimiter: one character"),
    ("inputs[0].csv_delimiter", "ab", "inputs[0].csv_delimiter: one character"),
    ("inputs[0].csv_delimiter", "'\"'", "inputs[0].csv_delimiter: one character"),
])
def test_values_the_readers_cannot_take_are_refused(tmp_path, recipe_file, where, value, expected):
    """max_doc_bytes past a C integer raised OverflowError in readline and csv.field_size_limit; a delimiter
    of 0 or 2 characters raised TypeError in csv, mid-run."""
    with pytest.raises(RecipeError) as err:
        load_recipe(recipe_file(_minimal(tmp_path)), [f"{where}={value}"])
    assert expected in str(err.value)


@pytest.mark.parametrize("yaml_text", ["!!float", "name: !!int x", "[" * 2000 + "]" * 2000])
def test_yaml_the_loader_itself_chokes_on_is_invalid_yaml(tmp_path, yaml_text):
    """PyYAML raised IndexError (`!!float` with no value), ValueError and RecursionError past its own YAMLError."""
    path = tmp_path / "r.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(RecipeError, match="invalid YAML"):
        load_recipe(path)


def test_the_resolved_recipe_loads_again_to_the_same_fingerprint(tmp_path, recipe_file):
    """recipe.resolved.yaml dumped every step type of each step, the unset ones as null, which load as
    "this type with its defaults": it could not be loaded again (`select.budget: required`)."""
    recipe = load_recipe(recipe_file(_minimal(tmp_path) | {"steps": [{"lid": {"keep": ["sw"]}}, {"quality": None}]}))
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_resolved(recipe), encoding="utf-8")
    assert load_recipe(path).fingerprint() == recipe.fingerprint()


def test_line_breaks_in_a_key_stay_on_the_problem_s_line(tmp_path, recipe_file):
    """A key holding \\r or \\n was printed raw: one problem took several lines, and lines could be overwritten."""
    with pytest.raises(RecipeError) as err:
        load_recipe(recipe_file(_minimal(tmp_path) | {"steps": [{"quality": {}, "\r\nx": None}]}))
    assert "steps[0].\\r\\nx: unknown step type" in str(err.value)
    assert len(str(err.value).splitlines()) == 2
