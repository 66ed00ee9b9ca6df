"""The floor plan holds: which folder may import which, and a step type wired in one place.

The import graph is read with `ast` from the source files, so a rule broken inside a function
(where imports hide) fails as surely as one at the top of a module.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from curation.compile import STEP_TYPES
from curation.recipe import GenerateSpec, StepSpec
from generators.stage import GENERATORS

ROOT = Path(__file__).resolve().parents[1]
WINGS = ("filters", "generators")
# The core's only doors to the wings: the step table, and training (it asks LID about its answers).
CORE_MODULES_THAT_MAY_IMPORT_WINGS = {"curation/compile.py", "curation/train.py"}
# Imports that may sit inside a function: heavy optional dependencies (or costly to load), loaded
# only when the code that needs them runs. Anything else belongs at the top of its module.
# `datasets` takes ~3 s to import: the readers load it only for `hf:` inputs.
# trafilatura (~0.4 s) and warcio (~0.2 s): only html/warc inputs load them (curation/web.py).
# datasketch (~0.4 s, most of it scipy.integrate): only novelty checks of generated texts use it.
# polars (~0.3 s): only finalize's counting (curation/stats.py), not every `curate` command's start-up.
LAZY_OK = {"vllm", "torch", "transformers", "trl", "peft", "ray", "datatrove.executor.ray", "loguru", "datasets",
           "trafilatura", "warcio", "bm25s", "datasketch", "polars", "scipy"}


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import in a file."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, in_function))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _root(module: str) -> str:
    return module.split(".")[0]


def test_the_core_imports_no_wing_outside_the_step_table():
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in _sources("curation") if str(path.relative_to(ROOT)) not in CORE_MODULES_THAT_MAY_IMPORT_WINGS
              for module, line, _ in _imports(path) if _root(module) in WINGS]
    assert broken == []


def test_the_engines_import_no_wing_and_no_compiler():
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in _sources("curation/llm") for module, line, _ in _imports(path)
              if _root(module) in WINGS or module in ("curation.compile", "curation.pipeline")]
    assert broken == []


@pytest.mark.parametrize(("wing", "other"), [("filters", "generators"), ("generators", "filters")])
def test_a_wing_never_imports_the_other(wing, other):
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in _sources(wing) for module, line, _ in _imports(path) if _root(module) == other]
    assert broken == []


def test_imports_inside_functions_are_only_heavy_optional_ones():
    # The CLI is the exception by design: each command imports its machinery when it runs, so
    # `curate --help` does not pay the ~5 s of loading the pipeline.
    lazy = [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for folder in ("curation", *WINGS) for path in _sources(folder) if path.name != "cli.py"
            for module, line, inside in _imports(path)
            if inside and not any(module == ok or module.startswith(ok + ".") for ok in LAZY_OK)]
    assert lazy == []


def test_every_step_type_of_the_recipe_has_one_row():
    assert set(STEP_TYPES) == set(StepSpec.model_fields)
    for kind, row in STEP_TYPES.items():
        assert row.spec is StepSpec.model_fields[kind].annotation.__args__[0], kind
        assert sum(x is not None for x in (row.step, row.build, row.whole_run)) == 1, kind


@pytest.mark.parametrize("kind", [k for k, row in STEP_TYPES.items() if row.step is not None])
def test_a_step_class_takes_its_recipe_fields_by_name(kind):
    row = STEP_TYPES[kind]
    accepted = inspect.signature(row.step).parameters
    missing = [name for name in row.spec.model_fields if name not in accepted]
    assert missing == [], f"{row.step.__name__} lacks keyword arguments {missing} of {row.spec.__name__}"
    assert "outputs" in accepted
    assert ("engine_factory" in accepted) == row.needs_engine


def test_every_generation_task_has_a_generator_that_takes_its_fields():
    task_fields = {name for name, field in GenerateSpec.model_fields.items()
                   if name in GENERATORS or "Task" in str(field.annotation)}
    assert task_fields == set(GENERATORS)
    for name, cls in GENERATORS.items():
        spec = GenerateSpec.model_fields[name].annotation.__args__[0]
        accepted = inspect.signature(cls).parameters
        assert [f for f in spec.model_fields if f not in accepted] == [], name
        for method in ("build_prompt", "parse", "generate", "estimate_prompts"):
            assert getattr(cls, method) is not getattr(GENERATORS[name].__mro__[-2], method, None), (name, method)
