"""Running a compiled recipe: the output folder, the executors, resume and retry.

`curation.compile` turns a recipe into stages; here each stage becomes a datatrove executor
(local by default, Slurm or Ray from the recipe), chained with `depends=`. Resume is datatrove's:
a task that finished has a completion file and is skipped when the same recipe runs again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import multiprocess
from datatrove.executor import SlurmPipelineExecutor

from curation.compile import Stage
from curation.errors import AccountingError, CurateError, InputError, RecipeError
from curation.inputs import SourceFile, input_identities, path_label
from curation.layout import RunLayout
from curation.llm.cache import merge_caches
from curation.local_executor import LocalExecutor
from curation.ray_executor import RayStageExecutor
from curation.recipe import Recipe, dump_resolved
from curation.remote import RUN_ID, RemoteOutput, claim_mirror, empty_mirror, mirrored_pipeline
from curation.workfiles import atomic_write_json


def prepare_output(recipe: Recipe, files: list[SourceFile], layout: RunLayout, fresh: bool) -> None:
    """Refuse to resume over a different recipe's run, or over inputs that changed since; start over when asked."""
    if fresh:
        delete_earlier_run(layout)
    fingerprint = recipe.fingerprint()
    earlier = read_run_state(layout, layout.fingerprint)
    if earlier is not None and earlier.strip() != fingerprint:
        raise RecipeError(
            f"{layout.where} holds a run of a different recipe (or task count); resuming would mix the two. "
            "Pass --fresh to start over, or choose another output folder."
        )
    identities = input_identities(recipe.inputs, files)
    check_inputs_unchanged(layout, identities)
    if layout.remote is not None:
        start_remote_run(layout.remote)
    layout.work.mkdir(parents=True, exist_ok=True)
    layout.fingerprint.write_text(fingerprint)
    atomic_write_json(layout.inputs, identities)  # whole or not at all: the next run parses it
    (layout.output / "recipe.resolved.yaml").write_text(dump_resolved(recipe), encoding="utf-8")
    # The finalize stage always runs again: it is cheap and rebuilds data/ and stats from the task files.
    remove_completions(layout, ["finalize"], "completions")
    forget_changed_after_run_stages(recipe, layout)
    if layout.remote is not None:
        layout.remote.push([layout.remote.relative(path) for path in
                            (layout.fingerprint, layout.inputs, layout.output / "recipe.resolved.yaml")])


def read_run_state(layout: RunLayout, path: Path) -> str | None:
    """A run-state file's text (fingerprint, inputs.json, retry_attempt), from the store when the output is
    a URL (the mirror may be another machine's, or gone); None when there is none."""
    if layout.remote is None:
        return path.read_text() if path.exists() else None
    try:
        return layout.remote.fs.cat_file(layout.remote.remote_path(path)).decode()
    except FileNotFoundError:
        return None


def start_remote_run(remote: RemoteOutput) -> None:
    """Give a new run on the store its id (a resume keeps the earlier one) and make this machine's mirror its."""
    id_path = f"{remote.root}/{RUN_ID}"
    try:
        remote.run_id = remote.fs.cat_file(id_path).decode()
    except FileNotFoundError:
        remote.run_id = uuid.uuid4().hex
        remote.fs.pipe_file(id_path, remote.run_id.encode())
    claim_mirror(remote)


def remove_completions(layout: RunLayout, stages: list[str], kind: str) -> None:
    """Delete stages' datatrove `completions` (or `stats`) folders, wherever the logs live."""
    for stage in stages:
        folder = layout.logs(stage) / kind
        shutil.rmtree(folder, ignore_errors=True)
        if layout.remote is not None:
            layout.remote.delete([layout.remote.relative(folder)])


def forget_changed_after_run_stages(recipe: Recipe, layout: RunLayout) -> None:
    """A cluster run's finished train or push stage is skipped on resume, but the fingerprint leaves the
    `train:` and `push:` blocks out (they do not change the data): when a block changed since its stage
    ran (more steps, another repo), that stage runs again. Training then resumes from its checkpoint."""
    for stage, block in (("train", recipe.train), ("push", recipe.push)):
        settings = block.model_dump_json() if block is not None else ""
        marker = layout.logs(stage) / "settings.json"
        if read_run_state(layout, marker) not in (None, settings):
            remove_completions(layout, [stage], "completions")
        if block is not None and recipe.executor.kind != "local":
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(settings)
            if layout.remote is not None:  # the logs (completions) live on the store: so does the marker
                layout.remote.push([layout.remote.relative(marker)])


def delete_earlier_run(layout: RunLayout) -> None:
    """What `--fresh` deletes: the earlier run's published data, stats and side outputs, and its work files
    but the lock this run holds (deleted, a new lock file would be a second lock, free for another run).
    The request cache stays: answers a stopped run's tasks paid for are merged into it first."""
    keep_task_answers(layout)
    names = ("data", "quarantine", "rejects", "stats.json", "README.md", "recipe.resolved.yaml")
    if layout.remote is not None:  # the store's run, and the whole mirror (it may hold any run's files)
        remote = layout.remote
        remote.delete([*names, ".curate"], keep=[remote.relative(layout.lock)])
        empty_mirror(remote)
        return
    targets = [layout.output / name for name in names]
    targets += [path for path in layout.work.glob("*") if path != layout.lock]
    for target in targets:
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def keep_task_answers(layout: RunLayout) -> None:
    """Merge the task request caches a stopped run left into the run's cache (on a store: pulled first,
    the merged cache pushed back), so `--fresh` never pays twice for an answer."""
    remote = layout.remote
    if remote is not None:
        remote.pull([str(layout.cache), str(layout.task_caches / "*")])
    sources = sorted(layout.task_caches.glob("*.sqlite")) if layout.task_caches.is_dir() else []
    if not sources:
        return
    merge_caches(sources, layout.cache)
    if remote is not None:
        remote.push([remote.relative(layout.cache)])


def check_inputs_unchanged(layout: RunLayout, identities: dict[str, dict[str, Any]]) -> None:
    """Resuming reads only what the finished tasks have not read: over inputs that changed since, a rerun
    would publish the old records (or a mix) and look complete. Say what changed instead."""
    earlier = read_run_state(layout, layout.inputs)
    if earlier is None:  # a new run, or one from before curate recorded its inputs: nothing to compare
        return
    changes = input_changes(json.loads(earlier), identities)
    if changes:
        shown = "; ".join(changes[:3]) + (f"; and {len(changes) - 3} more" if len(changes) > 3 else "")
        raise InputError(f"inputs changed since the last run into {layout.where} ({shown}): "
                         "rerun with --fresh to start over")


def input_changes(before: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> list[str]:
    """One phrase per input file that is new, gone or different (size, or else modification time/etag)."""
    changes = []
    for path in sorted(before.keys() | now.keys()):
        label = path_label(path)
        if path not in before:
            changes.append(f"{label}: new")
        elif path not in now:
            changes.append(f"{label}: gone")
        elif before[path].get("size") != now[path].get("size"):
            changes.append(f"{label}: size {before[path].get('size')} -> {now[path].get('size')}")
        elif before[path] != now[path]:
            changes.append(f"{label}: modified (same size)")
    return changes


def next_retry_attempt(layout: RunLayout, fresh: bool) -> int:
    """The attempt number `--retry-failures` runs as. Only reads: the recipe compiles with it before
    anything in the output folder is touched."""
    earlier = None if fresh else read_run_state(layout, layout.retry_attempt)
    if earlier is None:  # --fresh deletes the earlier attempts with the rest
        return 1
    return int(earlier) + 1


def start_retry(layout: RunLayout, attempt: int) -> None:
    """Prepare `--retry-failures`: the generate stage runs again (answered requests come from the
    cache, failed ones are asked again with a new seed)."""
    layout.retry_attempt.write_text(str(attempt))
    if layout.remote is not None:
        layout.remote.push([layout.remote.relative(layout.retry_attempt)])
    # train and push (cluster stages) run again too: the data they read may change, as after a local run
    stages = ["generate", "finalize", "train", "push"]
    remove_completions(layout, stages, "completions")
    remove_completions(layout, stages, "stats")


def start_ray(recipe: Recipe) -> None:
    """Connect to the recipe's Ray cluster, or start a local one (what `ray.init()` does). A cluster
    that does not answer or refuses this driver is a one-line RecipeError, not Ray's traceback."""
    try:
        import ray  # an optional extra (curate[ray])
    except ImportError:
        raise RecipeError("executor.ray needs Ray: pip install 'curate[ray]'") from None
    if ray.is_initialized():
        return
    address = recipe.executor.ray.address
    check_ray_address_answers(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError) as e:
        # Ray 2.60 reports a refused token only inside the text of the last retry's traceback.
        if any("InvalidAuthToken" in str(cause) for cause in causes(e)):
            raise RecipeError(
                f"the Ray cluster at {address} refused this driver's token: set RAY_AUTH_MODE=token and "
                "RAY_AUTH_TOKEN_PATH (or RAY_AUTH_TOKEN) to the cluster's token (`ray get-auth-token` on its head)"
            ) from None
        raise RecipeError(f"cannot connect to the Ray cluster at {address}: {one_line(e)}") from None


def check_ray_address_answers(address: str | None, seconds: float = 10) -> None:
    """Fail fast on a `host:port` address where nothing listens: Ray itself retries its GCS
    for about 13 minutes (20 tries of ~40 s, measured with Ray 2.60) before it gives up."""
    if not address or "://" in address or address in ("auto", "local") or ":" not in address:
        return  # Ray's own forms (a local cluster, `auto`, a `ray://` client address): Ray resolves them
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise RecipeError(f"executor.ray.address {address!r}: expected host:port, e.g. 10.0.0.5:6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as e:
        raise RecipeError(f"no Ray cluster answers at {address} ({e.strerror or e}): "
                          "is `ray start --head` running there, and is the port reachable from here?") from None


def causes(error: BaseException) -> list[BaseException]:
    """The error and the ones it was raised from, outermost first."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def one_line(error: BaseException) -> str:
    """The innermost cause's first line: Ray's outer errors only repeat the address."""
    text = str(causes(error)[-1]).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_ray_stages(stages: list[Stage], executors: list[Any]) -> None:
    """Run Ray stages one after another, stopping at the first that left a task unfinished.

    A stage's executor (curation.ray_executor, like datatrove's) logs a task that raised and returns as
    if the stage were done, and datatrove's stage whose dependency did not finish polls it every two
    minutes, forever: chained by `depends=` alone, a failed stage would hang the run, and a failed last
    stage (push) would look like success."""
    for stage, executor in zip(stages, executors, strict=True):
        executor.run()
        unfinished = executor.get_incomplete_ranks(range(executor.world_size))
        if unfinished:
            log = Path(executor.logging_dir.path) / "logs" / f"task_{unfinished[0]:05d}.log"
            raised = failure_line(log)
            # a train or push task that refused a run whose numbers do not add up: exit 3, as locally
            kind = AccountingError if raised.startswith("curation.errors.AccountingError") else CurateError
            raise kind(f"stage {stage.name}: {len(unfinished)} of {executor.world_size} task(s) failed "
                       f"({raised}); task log: {log}; rerun to resume")


def failure_line(task_log: Path) -> str:
    """The exception a datatrove task log ends with (`curation.errors.RecipeError: ...`), or a pointer to it."""
    try:
        lines = task_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no task log"
    raised = [line.strip() for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b.*", line.strip())]
    return raised[-1] if raised else "see the task log"


def model_task_gpus(recipe: Recipe, stage: Stage, configured: int | None) -> int:
    """GPUs a cluster task of `stage` asks for: none unless it runs the recipe's model; then the recipe's
    `gpus_per_model_task`, or one vLLM replica's worth (a served model needs none here). A train task
    trains one adapter on one GPU (`gpus_per_model_task: 0` trains on the node's CPUs)."""
    if stage.trains:
        return 1 if configured is None else min(configured, 1)
    if not stage.loads_model:
        return 0
    if configured is not None:
        return configured
    return recipe.llm.tensor_parallel_size if recipe.llm.engine == "vllm" else 0


def slurm_sbatch_args(spec: Any) -> dict[str, str]:
    """The recipe's extra sbatch directives, with the memory in whole megabytes: datatrove writes
    `--mem-per-cpu=<gb>G`, and sbatch refuses a fraction such as `2.0G` (the recipe's field is a float)."""
    return {"mem-per-cpu": f"{round(spec.mem_per_cpu_gb * 1024)}M", **spec.sbatch_args}


def current_venv_activate() -> str | None:
    """This process's virtual environment's activate script, if it runs in one: a Slurm job sources it so
    that the job finds datatrove's `launch_pickled_pipeline` and imports the same curate."""
    activate = Path(sys.prefix) / "bin" / "activate"
    return str(activate) if sys.prefix != sys.base_prefix and activate.is_file() else None


def stage_logs_and_pipeline(stage: Stage, layout: RunLayout) -> tuple[Any, list[Any]]:
    """A stage's datatrove logging dir and pipeline: as compiled for a local output; for a URL, the logs on
    the store and the pipeline between a pull and a push of the mirror (curation.remote)."""
    if layout.remote is None:
        return str(layout.logs(stage.name)), stage.pipeline
    remote = layout.remote
    cache = [str(layout.cache)] if stage.loads_model else []  # the engine's request cache
    if stage.name == "finalize":  # the published files: data/ exactly as rebuilt, stats.json last; the task
        # caches it merged into the run's cache (and deleted) leave the store too
        task_caches = [str(layout.cache), str(layout.task_caches / "*")]
        pipeline = mirrored_pipeline(stage.pipeline, remote, task_caches, mirrored=["data", remote.relative(layout.task_caches)],
                                     last=[remote.relative(layout.stats)])
    else:
        pipeline = mirrored_pipeline(stage.pipeline, remote, cache)
    return remote.logging_dir(layout.logs(stage.name)), pipeline


def preload_step_modules(stages: list[Stage]) -> None:
    """Have the local executor's forkserver import the modules that define the stages' steps.

    Each stage's worker pool forks its workers from one forkserver process. Preloaded there, curate's
    modules are imported once per run; otherwise every worker of every stage imported them again when it
    unpickled its pipeline (~3 s of CPU each: the quickstart's ten stages on two workers, 60 s of it).
    Only the forkserver's first start reads the list (a process that runs several recipes keeps the first
    one's), hence curation.compile, which imports every built-in step, besides this recipe's own modules.
    """
    modules = {type(step).__module__ for stage in stages for step in stage.pipeline}
    multiprocess.get_context("forkserver").set_forkserver_preload(["__main__", "curation.compile", *sorted(modules)])


def make_executors(recipe: Recipe, stages: list[Stage], layout: RunLayout) -> list[Any]:
    """One datatrove executor per stage, each depending on the previous one."""
    spec = recipe.executor
    if spec.kind == "local":
        preload_step_modules(stages)
    executors: list[Any] = []
    previous = None
    for stage in stages:
        logging_dir, pipeline = stage_logs_and_pipeline(stage, layout)
        if spec.kind == "local":
            workers = spec.local.workers or min(stage.tasks, os.cpu_count() or 1)
            if stage.max_workers:
                workers = min(workers, stage.max_workers)
            executor = LocalExecutor(pipeline, tasks=stage.tasks, workers=min(workers, stage.tasks),
                                     logging_dir=logging_dir, depends=previous)
        elif spec.kind == "ray":
            executor = RayStageExecutor(pipeline, tasks=stage.tasks, workers=spec.ray.workers,
                                        cpus_per_task=spec.ray.cpus_per_task, mem_per_cpu_gb=spec.ray.mem_per_cpu_gb,
                                        gpus_per_task=model_task_gpus(recipe, stage, spec.ray.gpus_per_model_task),
                                        logging_dir=logging_dir, depends=previous,
                                        fresh_process=stage.loads_model or stage.trains)
        else:
            s = spec.slurm
            executor = SlurmPipelineExecutor(pipeline, tasks=stage.tasks, time=s.time, partition=s.partition,
                                             cpus_per_task=s.cpus_per_task, mem_per_cpu_gb=s.mem_per_cpu_gb,
                                             gpus_per_task=model_task_gpus(recipe, stage, s.gpus_per_model_task),
                                             workers=s.workers, sbatch_args=slurm_sbatch_args(s),
                                             venv_path=s.venv_path or current_venv_activate(),
                                             job_name=f"curate-{recipe.name}-{stage.name}", logging_dir=logging_dir,
                                             depends=previous)
        executors.append(executor)
        previous = executor
    return executors
