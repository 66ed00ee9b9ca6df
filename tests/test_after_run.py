"""Training and the Hub push as stages after finalize on Slurm and Ray (curation/after_run.py): how
they are built (tasks, GPUs, no token inside), and a real Ray run that lands the dataset on a
loopback Hub (tests/hub_server.py) with no follow-up command, after training an adapter per language
in its own task, resumes without training or pushing twice, and fails in one line, not a hang, when
the push is refused. The Slurm run is in tests/test_slurm.py."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import yaml

from curation.compile import compile_recipe
from curation.inputs import expand_inputs
from curation.layout import RunLayout
from curation.pipeline import failure_line, forget_changed_after_run_stages, make_executors
from curation.recipe import load_recipe
from curation.train import adapter_tasks
from tests.cluster_runs import TEXTS
from tests.conftest import load_stats, run_cli, write_jsonl

TOKEN = "hf_afterRunT0k3nQ9xVb3kLm0pRt7uWy2a"
USER = "curator"


def cluster_recipe(tmp_path: Path, executor: dict, **blocks) -> dict:
    """Text records; with a `train` block, instruction pairs (training needs chat records)."""
    chat = {"prompt_key": "instruction", "response_key": "output"} if "train" in blocks else {}
    return {"name": "after", "output": str(tmp_path / "after"),
            "inputs": [{"path": str(tmp_path / "in" / "*.jsonl"), **chat}],
            "steps": [{"lid": {"keep": ["sw", "ru", "zh"], "min_score": 0.3}}], "executor": executor, **blocks}


def built(recipe_path: Path) -> tuple[list, list]:
    recipe = load_recipe(recipe_path)
    layout = RunLayout(Path(recipe.output))
    stages = compile_recipe(recipe, expand_inputs(recipe.inputs), layout)
    return stages, make_executors(recipe, stages, layout)


def test_slurm_gets_a_gpu_task_per_language_to_train_and_one_task_to_push(tmp_path, recipe_file, monkeypatch):
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"text": TEXTS[0]}])
    blocks = {"train": {"mode": "per_language"}, "push": {"repo_id": f"{USER}/after", "token_env": "MY_HUB_TOKEN"}}
    monkeypatch.setenv("MY_HUB_TOKEN", TOKEN)
    path = recipe_file(cluster_recipe(tmp_path, {"slurm": {"partition": "gpu", "tasks": 2}}, **blocks))
    stages, executors = built(path)
    assert [s.name for s in stages] == ["curate", "publish", "finalize", "train", "push"]
    by_name = dict(zip([s.name for s in stages], executors, strict=True))
    assert by_name["train"].tasks == 3  # sw, ru, zh: the LID keep-list fixes the languages
    assert by_name["push"].tasks == 1
    gpus = {name: e.get_sbatch_args().get("gpus") for name, e in by_name.items()}
    assert gpus == {"curate": None, "publish": None, "finalize": None, "train": 1, "push": None}
    assert by_name["push"].depends is by_name["train"] and by_name["train"].depends is by_name["finalize"]
    # the job carries the name of the token's variable, never the token (sbatch passes the environment)
    assert TOKEN.encode() not in pickle.dumps(executors)

    cpu_nodes = yaml.safe_load(path.read_text())
    cpu_nodes["executor"]["slurm"]["gpus_per_model_task"] = 0
    _, executors = built(recipe_file(cpu_nodes))
    assert all("gpus" not in e.get_sbatch_args() for e in executors)


def test_ray_asks_a_gpu_per_train_task_and_local_runs_keep_training_in_the_cli(tmp_path, recipe_file):
    pytest.importorskip("ray")
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"text": TEXTS[0]}])
    blocks = {"train": {}, "push": {"repo_id": f"{USER}/after"}}
    stages, executors = built(recipe_file(cluster_recipe(tmp_path, {"ray": {"tasks": 2}}, **blocks)))
    assert [(s.name, e.tasks, e.gpus_per_task) for s, e in zip(stages, executors, strict=True)][-3:] == [
        ("finalize", 1, 0), ("train", 1, 1), ("push", 1, 0)]  # mixed mode: one adapter, one task
    # a train task's process exits with it (the model's memory and GPU freed); the others' are reused
    assert [s.name for s, e in zip(stages, executors, strict=True) if e.fresh_process] == ["train"]

    stages, _ = built(recipe_file(cluster_recipe(tmp_path, {"local": {"tasks": 2}}, **blocks)))
    assert stages[-1].name == "finalize"  # the CLI trains and pushes after the pipeline, as before


def test_per_language_training_takes_a_task_per_known_language():
    from curation.recipe import TrainSpec

    assert adapter_tasks(TrainSpec(), ["sw", "yo"]) == 1  # mixed: one adapter
    assert adapter_tasks(TrainSpec(mode="per_language"), ["sw", "yo"]) == 2
    assert adapter_tasks(TrainSpec(mode="per_language", languages=["sw"]), ["sw", "yo"]) == 1
    assert adapter_tasks(TrainSpec(mode="per_language"), None) == 1  # unknown before the run: one task trains all


def test_a_changed_train_or_push_block_runs_its_finished_stage_again(tmp_path, recipe_file):
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"text": TEXTS[0]}])
    recipe = cluster_recipe(tmp_path, {"ray": {"tasks": 1}}, train={"max_steps": 5}, push={"repo_id": f"{USER}/a"})
    layout = RunLayout(tmp_path / "after")

    def finish_stages_and_resume_with(changed: dict) -> dict[str, bool]:
        for stage in ("train", "push"):
            (layout.logs(stage) / "completions").mkdir(parents=True, exist_ok=True)
            (layout.logs(stage) / "completions" / "00000").touch()
        forget_changed_after_run_stages(load_recipe(recipe_file({**recipe, **changed})), layout)
        return {stage: (layout.logs(stage) / "completions" / "00000").exists() for stage in ("train", "push")}

    assert finish_stages_and_resume_with({}) == {"train": True, "push": True}
    assert finish_stages_and_resume_with({}) == {"train": True, "push": True}  # unchanged: skipped
    assert finish_stages_and_resume_with({"push": {"repo_id": f"{USER}/b"}}) == {"train": True, "push": False}
    assert finish_stages_and_resume_with({"train": {"max_steps": 8}}) == {"train": False, "push": False}


def test_a_failed_tasks_exception_is_read_from_its_log(tmp_path):
    log = tmp_path / "task_00000.log"
    log.write_text("2026-11-30 07:00:00.000 | INFO | starting\nTraceback (most recent call last):\n"
                   '  File "x.py", line 1, in run\n    raise RecipeError("nope")\n'
                   "curation.errors.RecipeError: the Hub refused the token for curator/after (401)\n")
    assert failure_line(log) == "curation.errors.RecipeError: the Hub refused the token for curator/after (401)"
    assert failure_line(tmp_path / "missing.log") == "no task log"


def test_ray_stages_stop_at_the_first_failed_one_and_an_accounting_refusal_exits_3(tmp_path):
    """Stand-ins for datatrove's Ray executors, which return normally when a task raised: only the
    control flow is under test here (the real executor is in the Ray tests below)."""
    from types import SimpleNamespace

    from curation.errors import AccountingError
    from curation.pipeline import run_ray_stages

    class Stage:
        world_size = 1

        def __init__(self, name: str, raises: str | None = None):
            self.name, self.raises, self.ran = name, raises, False
            self.logging_dir = SimpleNamespace(path=str(tmp_path / name))

        def run(self) -> None:
            self.ran = True
            (tmp_path / self.name / "logs").mkdir(parents=True)
            if self.raises:
                (tmp_path / self.name / "logs" / "task_00000.log").write_text(f"Traceback ...\n{self.raises}\n")
            else:
                (tmp_path / self.name / "completions").mkdir()

        def get_incomplete_ranks(self, ranks) -> list[int]:
            return [] if (tmp_path / self.name / "completions").exists() else list(ranks)

    stages = [Stage("finalize"), Stage("push", "curation.errors.AccountingError: not pushing: ..."), Stage("next")]
    with pytest.raises(AccountingError, match="stage push: 1 of 1 task"):
        run_ray_stages(stages, stages)
    assert [s.ran for s in stages] == [True, True, False]


# --- a real Ray run


@pytest.fixture(scope="module")
def ray_with_hub_env():
    """A local Ray whose workers inherit the Hub settings a user's environment would hold: the token
    reaches the push task through the environment, not the recipe or the pickled task."""
    pytest.importorskip("ray")
    import os

    import ray

    env = {"HF_TOKEN": TOKEN, "WRONG_HUB_TOKEN": "hf_notTheRightOne", "HF_HUB_DISABLE_XET": "1",
           "HF_XET_TELEMETRY_ENABLED": "false"}
    saved = {k: os.environ.get(k) for k in [*env, "HF_HUB_OFFLINE"]}
    os.environ.update(env)
    os.environ.pop("HF_HUB_OFFLINE", None)  # the push task goes online (an in-process model test may have set it)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write_instruction_pairs(folder: Path) -> None:
    """Six instruction pairs each in Swahili and Russian: chat records, so the run can train on them."""
    folder.mkdir()
    pairs = {"sw": ("Taja tunda namba {i} unalolipenda na ueleze kwa nini.",
                    "Ninapenda embe, tunda namba {i}, kwa sababu ni tamu sana na lina rangi ya njano."),
             "ru": ("Назовите фрукт номер {i}, который вам нравится, и объясните почему.",
                    "Я люблю манго, фрукт номер {i}, потому что он очень сладкий и жёлтый.")}
    for lang, (question, answer) in pairs.items():
        write_jsonl(folder / f"{lang}.jsonl",
                    [{"instruction": question.format(i=i), "output": answer.format(i=i)} for i in range(6)])


# One Ray run trains and pushes: the stages before train and push run once for both. Model-backed: the
# train tasks load the bundled model, each in a fresh worker process (~50 s of the test's ~66 s at load 3).
@pytest.mark.slow  # a local Ray, three runs; two train tasks side by side on the bundled model
@pytest.mark.model
def test_a_ray_run_trains_an_adapter_per_language_and_pushes_without_a_follow_up_command(
        tmp_path, recipe_file, ray_with_hub_env):
    pytest.importorskip("trl", reason="training is installed by `make install`")
    pytest.importorskip("gguf", reason="the bundled model needs the llm extra")
    from tests.hub_server import FakeHub

    write_instruction_pairs(tmp_path / "in")
    executor = {"ray": {"tasks": 1, "cpus_per_task": 1, "mem_per_cpu_gb": 1, "gpus_per_model_task": 0}}
    train = {"mode": "per_language", "languages": ["sw", "ru"], "max_steps": 1, "lora_r": 4, "samples": 0}
    output = tmp_path / "after"
    logs = output / ".curate" / "logs"
    with FakeHub(token=TOKEN, user=USER) as hub:
        recipe = cluster_recipe(tmp_path, executor, train=train,
                                push={"repo_id": f"{USER}/after", "endpoint": hub.url})
        result = run_cli("run", recipe_file(recipe))
        assert result.exit_code == 0, result.output

        # trained: one task per language, each adapter's metrics in stats.json (neither wrote over the other)
        assert len(list((logs / "train" / "completions").iterdir())) == 2
        trained_by = [json.loads((logs / "train" / "stats" / f"{rank:05d}.json").read_text())[0]["stats"]
                      for rank in (0, 1)]
        assert trained_by == [{"adapters": 1, "adapter ru": 1}, {"adapters": 1, "adapter sw": 1}]  # name order
        training = load_stats(output)["training"]
        assert set(training) == {"sw", "ru"}
        for lang in ("sw", "ru"):
            assert (output / "train" / lang / "adapter" / "adapter_model.safetensors").exists()
            assert [e["step"] for e in training[lang]["loss_curve"]] == [1]
        assert "training" in result.output  # the CLI shows the stage's table

        # pushed, after training: what landed is the run's output, stats.json with the training in it
        assert "pushed:" in result.output and f"{hub.url}/datasets/{USER}/after" in result.output
        landed = hub.materialize(f"{USER}/after", tmp_path / "landed")
        for path in [*(output / "data").glob("*/*.parquet"), output / "README.md", output / "stats.json"]:
            assert (landed / path.relative_to(output)).read_bytes() == path.read_bytes(), path
        assert len(hub.commits(f"{USER}/after")) == 2  # the repo's first commit, then the run's
        assert len(list((logs / "push" / "completions").iterdir())) == 1

        # resumed: the finished train and push stages are skipped; the Hub sees no new request at all
        adapters = {p: p.stat().st_mtime_ns for p in (output / "train").rglob("adapter_model.safetensors")}
        before = len(hub.requests)
        again = run_cli("run", recipe_file(recipe))
        assert again.exit_code == 0, again.output
        assert len(hub.requests) == before and len(hub.commits(f"{USER}/after")) == 2
        assert {p: p.stat().st_mtime_ns for p in adapters} == adapters

        # another repo: the push stage runs again, training does not; a refused token is one line and
        # exit 1, not a hang
        recipe["push"] = {"repo_id": f"{USER}/elsewhere", "endpoint": hub.url, "token_env": "WRONG_HUB_TOKEN"}
        refused = run_cli("run", recipe_file(recipe))
    assert refused.exit_code == 1
    assert "stage push: 1 of 1 task(s) failed" in refused.output and "Traceback" not in refused.output
    assert "RecipeError" in refused.output and "task_00000.log" in refused.output
    assert {p: p.stat().st_mtime_ns for p in adapters} == adapters
    assert load_stats(output)["accounting"]["ok"]
    assert set(load_stats(output)["training"]) == {"sw", "ru"}  # finalize ran again and kept the metrics
    assert TOKEN not in json.dumps(load_stats(output)) + (output / ".curate" / "push.json").read_text()
