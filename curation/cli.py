"""The `curate` command line. Only this module configures output, progress and exit codes.

Exit codes: 0 done; 1 a stage failed; 2 the recipe, an override or an input path is wrong, or the
output folder is in use by another run (nothing ran); 3 the run finished but its accounting does not add up.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curation.errors import AccountingError, CurateError, RecipeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="Build per-language instruction, QA and dialogue datasets from a YAML recipe.\n\n"
    "Examples:\n\n"
    "    curate validate recipes/quickstart.yaml\n\n"
    "    curate plan recipes/quickstart.yaml\n\n"
    "    curate run recipes/quickstart.yaml --set executor.local.tasks=4\n\n"
    "    curate train out/quickstart --max-steps 20\n\n"
    "    curate push out/quickstart --repo-id me/quickstart --private\n\n"
    "    curate report out/quickstart\n\n"
    "    curate schema > recipe.schema.json\n\n"
    "Exit codes: 0 done; 1 a stage failed (rerun to resume); 2 the recipe, an input or a setting is "
    "wrong, or another run holds the output folder (nothing ran); 3 the run finished but its accounting does "
    "not add up.",
)
console = Console()
err_console = Console(stderr=True)

RecipeArg = Annotated[Path, typer.Argument(help="The recipe YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a recipe value, e.g. `--set steps[0].lid.keep=[sw,yo]` (repeatable)."),
]


def _fail(error: CurateError) -> None:
    # escaped: a message quotes what the user wrote, and `steps[x]` must not be read as rich markup
    err_console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def _fail_after_run(error: CurateError, output: Path, command: str) -> None:
    """A `train:` or `push:` block failed after the data was published: exit 1 (a stage failed), not
    2 (which says nothing ran), and say how to do only the rest."""
    err_console.print(f"[red]error:[/red] {escape(str(error))}\nThe run's data is complete in {output}; once fixed, "
                      f"`curate {command} {output}` does only this part.", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _load(recipe_path: Path, overrides: list[str] | None):
    from curation.recipe import load_recipe

    return load_recipe(recipe_path, overrides or [])


@app.command()
def validate(recipe: RecipeArg, set_: SetOpt = None) -> None:
    """Check a recipe and its input paths without running anything.

    Example: `curate validate recipes/quickstart.yaml`
    """
    from curation.compile import plan

    try:
        parsed = _load(recipe, set_)
        files, _ = plan(parsed)
    except CurateError as e:
        _fail(e)
    console.print(f"[green]ok[/green]: {recipe} ({len(parsed.steps)} steps, {len(files)} input files)")


@app.command("plan")
def plan_command(recipe: RecipeArg, set_: SetOpt = None) -> None:
    """Print the stages a recipe compiles to, with their tasks and steps.

    Example: `curate plan recipes/quickstart.yaml`
    """
    from curation.compile import estimate_requests, plan

    try:
        parsed = _load(recipe, set_)
        files, stages = plan(parsed)
    except CurateError as e:
        _fail(e)
    console.print(f"[bold]{parsed.name}[/bold] -> {parsed.output}  (executor: {parsed.executor.kind})")
    console.print(f"inputs: {len(files)} file(s) from {len(parsed.inputs)} input spec(s)")
    table = Table("stage", "tasks", "steps")
    for stage in stages:
        table.add_row(stage.name, str(stage.tasks), " -> ".join(step.name for step in stage.pipeline))
    console.print(table)
    if parsed.generate is not None:
        estimate = Table("task", "prompts per language", "generated tokens per language (at most)",
                         title=f"generation with {parsed.llm.model} ({parsed.llm.engine}), "
                               f"languages: {', '.join(parsed.generate.languages)}")
        for task, numbers in estimate_requests(parsed.generate).items():
            estimate.add_row(task, str(numbers["prompts"]), f"{numbers['max_generated_tokens']:,}")
        console.print(estimate)


@app.command()
def schema() -> None:
    """Print the recipe's JSON schema (for editor completion: point yaml-language-server at it)."""
    from curation.recipe import recipe_json_schema

    print(json.dumps(recipe_json_schema(), indent=2))


@app.command("train")
def train_command(
    output: Annotated[str, typer.Argument(help="A run's output folder or URL (its data/ is the training data).")],
    base: Annotated[str, typer.Option(help="Base model: bundled, a local folder or a Hub id.")] = "bundled",
    lang: Annotated[list[str] | None, typer.Option(
        help="Train on this language's configs only (the folder code; repeatable).")] = None,
    per_language: Annotated[bool, typer.Option(
        "--per-language", help="One adapter per language (train/<lang>) instead of one mixed adapter (train/all).")
    ] = False,
    max_steps: Annotated[int, typer.Option(help="Optimizer steps.")] = 50,
    lora_r: Annotated[int, typer.Option(help="LoRA rank (all linear layers).")] = 16,
    learning_rate: Annotated[float, typer.Option(help="The optimizer's learning rate.")] = 2e-4,
    samples: Annotated[int, typer.Option(help="Held-out prompts per language answered before/after, LID-checked.")] = 4,
    sample_max_tokens: Annotated[int, typer.Option(help="Tokens per held-out answer (greedy).")] = 64,
    method: Annotated[str, typer.Option(help="sft (chat records) or dpo (the preference configs' pairs).")] = "sft",
    beta: Annotated[float, typer.Option(help="dpo: how far the policy may move from the base model.")] = 0.1,
) -> None:
    """Train a LoRA adapter on a run's chat records (TRL SFT + PEFT), or DPO on its preference pairs;
    re-running resumes.

    Examples: `curate train out/quickstart --max-steps 20`, `curate train out/x --lang sw --per-language`,
    `curate train out/x --method dpo`
    """
    from pydantic import ValidationError

    from curation.recipe import TrainSpec

    try:
        spec = TrainSpec(base=base, languages=lang or None, mode="per_language" if per_language else "mixed",
                         max_steps=max_steps, lora_r=lora_r, learning_rate=learning_rate, samples=samples,
                         sample_max_tokens=sample_max_tokens, method=method, beta=beta)
    except ValidationError as e:
        _fail(RecipeError("; ".join(f"--{'-'.join(map(str, err['loc'])).replace('_', '-')}: {err['msg']}"
                                 for err in e.errors())))
    layout = _command_layout(output)
    _train(layout.output, spec)
    if layout.remote is not None:
        from curation.remote import push_training

        push_training(layout)


def _command_layout(output: str) -> Any:
    """The run a command works on: a folder, or a URL's published files pulled into a local mirror."""
    from curation.remote import command_layout

    try:
        return command_layout(output)
    except CurateError as e:
        _fail(e)


def _train(output: Path, spec: Any, after_run: bool = False) -> None:
    from curation.train import train

    console.print(f"training LoRA r={spec.lora_r} on {spec.base} ({spec.method}, {spec.mode}, {spec.max_steps} steps)")
    progress = Progress(TextColumn("train {task.fields[adapter]:<8}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("steps  loss {task.fields[loss]}"), TimeElapsedColumn(), console=console)
    bars: dict[str, Any] = {}

    def on_step(adapter: str, step: int, total: int, loss: float | None) -> None:
        if adapter not in bars:
            bars[adapter] = progress.add_task("train", total=total, adapter=adapter, loss="-")
        fields = {"loss": f"{loss:.3f}"} if loss is not None else {}
        progress.update(bars[adapter], completed=step, **fields)

    try:
        with progress:
            results = train(output, spec, on_step)
    except CurateError as e:
        if after_run:
            _fail_after_run(e, output, "train")
        _fail(e)
    console.print(_training_table(results))


def _training_table(results: dict[str, dict[str, Any]]) -> Table:
    table = Table("adapter", "languages", "records (train/held out)", "held-out loss", "in target language",
                  "seconds", title="training")

    def share(samples: dict[str, Any]) -> str:
        return "-" if samples["share"] is None else f"{samples['in_target_language']}/{samples['judged']}"

    for name, m in results.items():
        loss = f"{m['held_out_loss_before']:.3f} -> {m['held_out_loss_after']:.3f}" \
            if m["held_out_loss_after"] is not None else "diverged"
        table.add_row(name, ", ".join(m["languages"]), f"{m['train_records']}/{m['held_out_records']}", loss,
                      f"{share(m['samples_before'])} -> {share(m['samples'])}", f"{m['seconds']:.0f}")
    return table


@app.command("push")
def push_command(
    output: Annotated[str, typer.Argument(help="A run's output folder or URL (holds stats.json, README.md, data/).")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="The dataset repo: `user/name` or `org/name`.")],
    private: Annotated[bool, typer.Option(
        "--private", help="Create the repo private; an existing public repo is refused.")] = False,
    endpoint: Annotated[str | None, typer.Option(help="The Hub's URL (default: $HF_ENDPOINT, else huggingface.co).")] = None,
    revision: Annotated[str, typer.Option(help="The branch to commit to; created from main when missing.")] = "main",
) -> None:
    """Publish a run's output folder to a Hub dataset repo; re-running uploads only what changed.

    Uploads `data/<config>/*.parquet`, README.md, report.html, stats.json and recipe.resolved.yaml
    (never .curate/, quarantine/, rejects/, failures/ or train/). The token is $HF_TOKEN or the one
    `hf auth login` stored.

    Example: `curate push out/quickstart --repo-id me/quickstart-sample --private`
    """
    _push(_command_layout(output).output, repo_id, private=private, endpoint=endpoint, revision=revision)


def _push(output: Path, repo_id: str, *, private: bool, endpoint: str | None, revision: str,
          token: str | None = None, after_run: bool = False) -> None:
    from curation.hub import push_output

    console.print(f"pushing {output} to {repo_id} ...", highlight=False)
    try:
        result = push_output(output, repo_id, private=private, endpoint=endpoint, revision=revision, token=token)
    except CurateError as e:
        if after_run:
            _fail_after_run(e, output, f"push --repo-id {repo_id}")
        _fail(e)
    console.print(f"uploaded {len(result.uploaded)} file(s) ({result.bytes_uploaded:,} bytes), skipped "
                  f"{len(result.skipped)} already there, commits {result.commits} -> {result.url}",
                  highlight=False, soft_wrap=True)
    if result.remote_only:
        err_console.print(f"[yellow]note:[/yellow] {len(result.remote_only)} data file(s) on the Hub are not in "
                          "this run and were left in place; the card's configs still load them", highlight=False)


@app.command("lid")
def lid_command(
    list_: Annotated[bool, typer.Option("--list", help="List the languages the lid step can keep.")] = False,
    model: Annotated[str | None, typer.Option(help="A fastText LID model file (default: the bundled lid.176).")] = None,
    labels: Annotated[str, typer.Option(help="The model's label style: auto, lid176 or flores.")] = "auto",
) -> None:
    """The languages the `lid` step can identify and keep, and the detectors that can name each.

    Example: `curate lid --list`, `curate lid --list --model glotlid.bin`
    """
    from curation.compile import language_table

    if not list_:
        _fail(RecipeError("curate lid: pass --list (the languages the lid step can keep)"))
    if labels not in ("auto", "lid176", "flores"):
        _fail(RecipeError(f"--labels {labels}: choose auto, lid176 or flores"))
    try:
        rows = language_table(model, labels)
    except CurateError as e:
        _fail(e)
    table = Table("code", "name", "scripts", "detectors", title=f"{len(rows)} languages")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@app.command()
def report(output: Annotated[str, typer.Argument(help="A run's output folder or URL (holds stats.json).")]) -> None:
    """(Re)build report.html from a run's stats.json.

    Example: `curate report out/quickstart`
    """
    from curation.errors import InputError
    from curation.report import write_report

    layout = _command_layout(output)
    if not layout.stats.exists():
        _fail(InputError(f"{output}: no stats.json (not a curate output folder, or the run has not finished)"))
    written = write_report(layout.output)
    if layout.remote is not None:
        layout.remote.push([layout.remote.relative(written)])
        written = layout.remote.url_of(written)
    console.print(f"wrote {written}", highlight=False)


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send fd 2 (datatrove's per-task console logs, worker processes included) to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _reset_datatrove_logging() -> None:
    """datatrove (loguru) keeps a handler on whatever `sys.stderr` was when a task ended; replace it with one
    that looks stderr up when it writes, so nothing writes to a stream that has since been closed."""
    from loguru import logger

    logger.remove()
    logger.add(lambda message: sys.stderr.write(message), level="WARNING", format="{level}: {message}")


def _update_progress(progress: Progress, bars: dict[str, Any], layout: Any) -> None:
    """Completed tasks per stage, read from datatrove's completion files (on the store for a URL output)."""
    from curation.remote import completed_tasks

    # Stages run one after another: the first unfinished one is the only one whose count can move (fewer
    # listings of a store); a finished stage's bar is not asked again.
    tasks = {task.id: task for task in progress.tasks}
    for stage, bar in bars.items():
        if tasks[bar].finished:
            continue
        with contextlib.suppress(OSError):  # the store did not answer this time: the bar waits
            progress.update(bar, completed=completed_tasks(layout, stage))
        if not tasks[bar].finished:
            return


def _update_prompt_bar(progress: Progress, bar: Any, folder: Path) -> None:
    """Prompts answered out of the most the generate tasks may send (their progress files)."""
    reports = []
    for path in folder.glob("*.json") if folder.exists() else []:
        with contextlib.suppress(OSError, ValueError):  # a file being replaced: read it next time
            reports.append(json.loads(path.read_text()))
    if reports:
        answered = sum(r["answered"] for r in reports)
        planned = sum(r["answered"] if r["done"] else r["planned"] for r in reports)
        progress.update(bar, completed=answered, total=max(planned, 1))


PROGRESS_EVERY_ENV = "CURATE_PROGRESS_EVERY"


def _plain_progress_every() -> float | None:
    """Seconds between plain progress lines, when stdout is not a terminal (`make run > log`): rich
    draws its bars there only once, at the end. $CURATE_PROGRESS_EVERY sets it (default 30; 0: never)."""
    if console.is_terminal:
        return None
    raw = os.environ.get(PROGRESS_EVERY_ENV, "30")
    try:
        every = float(raw)
    except ValueError:
        _fail(RecipeError(f"{PROGRESS_EVERY_ENV}={raw}: expected a number of seconds"))
    return every if every > 0 else None


def _plain_progress_line(progress: Progress, seconds: float) -> str:
    """`progress 0:01:35: curate 3/4 tasks, finalize 0/1 tasks`: the bars as one line for a log file."""
    def done_of(task: Any) -> str:
        total = "?" if task.total is None else f"{task.total:.0f}"
        return f"{task.description} {task.completed:.0f}/{total} {task.fields['unit']}"

    clock = f"{int(seconds) // 3600}:{int(seconds) % 3600 // 60:02d}:{int(seconds) % 60:02d}"
    return f"progress {clock}: " + ", ".join(done_of(task) for task in progress.tasks)


def _watch_progress(progress: Progress, bars: dict[str, Any], layout: Any, done: threading.Event,
                    prompts: tuple[Any, Path] | None = None, plain_every: float | None = None) -> None:
    started = printed = time.monotonic()
    # Every 2 s at most: a busy Python thread slows in-process vLLM on a CPU.
    while not done.wait(min(2.0, plain_every or 2.0)):
        _update_progress(progress, bars, layout)
        if prompts is not None:
            _update_prompt_bar(progress, *prompts)
        if plain_every is not None and time.monotonic() - printed >= plain_every:
            printed = time.monotonic()
            console.print(_plain_progress_line(progress, printed - started), markup=False, highlight=False,
                          soft_wrap=True)


def _summary_table(stats: dict[str, Any]) -> Table:
    table = Table("step", "in", "kept", "dropped (top reasons)", "quarantined", title="curate: records per step")
    for s in stats["steps"]:
        top = sorted(s["dropped"].items(), key=lambda x: -x[1])[:3]
        dropped = ", ".join(f"{r} {n}" for r, n in top) + (" ..." if len(s["dropped"]) > 3 else "")
        table.add_row(f"{s['stage']}/{s['step']}", str(s["in"]), str(s["kept"]), dropped or "-",
                      str(sum(s["quarantined"].values())) or "-")
    return table


def _languages_table(stats: dict[str, Any]) -> Table:
    table = Table("language", "LID label", "rows", "shards", title="published")
    for folder, info in sorted(stats["languages"].items(), key=lambda x: -x[1]["rows"]):
        table.add_row(folder, str(info.get("lang", "")), str(info["rows"]), str(info["shards"]))
    return table


def _check_output_writable(folder: Path) -> None:
    """Create the output folder and a file in it now, so a path that cannot be written (`/proc/x`, a
    path under a file, a read-only folder) is one line and exit 2, not a traceback once work has begun."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        raise RecipeError(f"cannot write the output folder {folder}: it is a file") from None
    except OSError as e:
        raise RecipeError(f"cannot write the output folder {folder}: {e.strerror or e}") from None


@app.command()
def run(
    recipe: RecipeArg,
    set_: SetOpt = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete this recipe's earlier output and start over.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and datatrove's logs.")] = False,
    retry_failures: Annotated[bool, typer.Option(
        "--retry-failures", help="Ask again for the generations that failed to parse (answered ones come from the cache)."
    )] = False,
) -> None:
    """Run a recipe end to end. Re-running the same recipe resumes: finished tasks are skipped.

    Examples: `curate run recipes/quickstart.yaml`, `curate run r.yaml --set output=out/try2 --fresh`
    """
    from curation.compile import compile_recipe
    from curation.inputs import expand_inputs
    from curation.pipeline import make_executors, next_retry_attempt, prepare_output, start_ray, start_retry
    from curation.remote import recipe_layout

    started = time.time()
    try:
        parsed = _load(recipe, set_)
        files = expand_inputs(parsed.inputs)
        layout = recipe_layout(parsed)
        if layout.remote is not None:
            layout.remote.check_writable()  # a wrong endpoint, bucket or credential: one line, nothing ran
        retry_attempt = next_retry_attempt(layout, fresh) if retry_failures else 0
        # Everything `curate validate` checks is checked before the output folder is touched: a recipe
        # refused here (exit 2, nothing ran) leaves no run behind that its corrected version would clash with.
        stages = compile_recipe(parsed, files, layout, retry_attempt)
        executors = make_executors(parsed, stages, layout)
        _check_output_writable(layout.output)  # the first write: after every check that can refuse the recipe
    except CurateError as e:
        _fail(e)
    with _holding(layout) as lock:  # before --fresh deletes anything: another run may be writing here
        try:
            prepare_output(parsed, files, layout, fresh)
            if retry_failures:
                start_retry(layout, retry_attempt)
            if parsed.executor.kind == "ray":
                start_ray(parsed)
        except CurateError as e:
            _fail(e)
        console.print(f"[bold]curate run[/bold] {parsed.name}: {len(files)} input file(s) -> {layout.where}",
                      highlight=False)
        _execute(stages, executors, layout, debug, lock, ray=parsed.executor.kind == "ray")
        if parsed.executor.kind == "slurm":
            after = [s.name for s in stages if s.name in ("train", "push")]
            then = f"; then the {' and '.join(after)} job(s)" if after else ""
            console.print(f"submitted to Slurm; stats.json appears in {layout.where} when the finalize job ends{then}")
            return
        _finish(parsed, layout, started)


@contextlib.contextmanager
def _holding(layout: Any):
    """Hold the output folder's lock for the rest of the command (training and pushing included)."""
    from curation.runlock import output_lock

    lock = output_lock(layout)
    try:
        note = lock.acquire()
    except CurateError as e:
        _fail(e)
    if note:
        err_console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    try:
        yield lock
    finally:
        lock.release()


def _execute(stages: list[Any], executors: list[Any], layout: Any, debug: bool, lock: Any, ray: bool = False) -> None:
    """Run the stages (the last executor waits for the ones it depends on; on Ray one after another,
    stopping at a failed one) with progress bars."""
    from curation.pipeline import run_ray_stages

    log_path = layout.work / "logs" / "console.log"
    progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), console=console, transient=False)
    bars = {s.name: progress.add_task(s.name, total=s.tasks, unit="tasks") for s in stages}
    prompts = None
    if any(s.name == "generate" for s in stages):  # the longest stage on a CPU: show its prompts too
        prompts = (progress.add_task("prompts", total=None, unit="prompts (plan: at most)"),
                   layout.generation_progress)
    done = threading.Event()
    watcher = threading.Thread(target=_watch_progress, daemon=True,
                               args=(progress, bars, layout, done, prompts,
                                     _plain_progress_every()))
    _reset_datatrove_logging()
    try:
        with progress, (contextlib.nullcontext() if debug else _stderr_to(log_path)):
            watcher.start()
            if ray:
                run_ray_stages(stages, executors)
            else:
                executors[-1].run()
            done.set()
            watcher.join()
            _update_progress(progress, bars, layout)
            if prompts is not None:
                _update_prompt_bar(progress, *prompts)
    except CurateError as e:
        done.set()
        _fail(e)
    except Exception as e:  # a task crashed: say where to look, not a traceback
        done.set()
        if debug:
            raise
        if not lock.in_place():  # the folder was deleted (or moved) under the run: its task logs went with it
            err_console.print(f"[red]error:[/red] the output folder {layout.where} disappeared during the run "
                              f"({e.__class__.__name__}: {escape(str(e))}); rerun to start again.", highlight=False)
            raise typer.Exit(1) from None
        err_console.print(f"[red]error:[/red] the run failed ({e.__class__.__name__}: {escape(str(e))}). "
                          f"Task logs: {layout.work / 'logs'}; rerun to resume.", highlight=False)
        raise typer.Exit(1) from None
    finally:
        _reset_datatrove_logging()


def _finish(parsed: Any, layout: Any, started: float) -> None:
    """The end-of-run summary and accounting check, then the recipe's train and push blocks."""
    if layout.remote is not None:  # finalize may have run on another machine: the published files, here
        from curation.remote import pull_published

        pull_published(layout, with_data=parsed.train is not None or parsed.push is not None)
    stats = json.loads(layout.stats.read_text())
    console.print(_summary_table(stats))
    console.print(_languages_table(stats))
    quarantine = layout.remote.url_of(layout.quarantine) if layout.remote is not None else layout.quarantine
    console.print(f"quarantined: {stats['quarantine']['total']}  ({quarantine})", highlight=False)
    if stats["llm_cache"]["by_step"]:
        steps = ", ".join(f"{step} {n}" for step, n in stats["llm_cache"]["by_step"].items())
        console.print(f"LLM request cache: {stats['llm_cache']['hits']} request(s) answered from the cache ({steps})")
    if stats["confusable_pairs"]:
        pairs = ", ".join(f"{pair} {n}" for pair, n in list(stats["confusable_pairs"].items())[:6])
        console.print(f"confusable language pairs (LID top-2 close, not merged): {pairs}")
    console.print(f"done in {time.time() - started:.1f}s -> {layout.where}  (stats.json, report.html, README.md, data/)",
                  highlight=False)
    if not stats["accounting"]["ok"]:
        _fail(AccountingError("the numbers do not add up: " + "; ".join(stats["accounting"]["problems"])))
    if parsed.executor.kind != "local":  # train and push ran as stages (curation/after_run.py)
        _report_after_run_stages(parsed, layout, stats)
        return
    if parsed.train is not None:
        _train(layout.output, parsed.train, after_run=True)
        if layout.remote is not None:
            from curation.remote import push_training

            push_training(layout)
    if parsed.push is not None:
        push = parsed.push
        _push(layout.output, push.repo_id, private=push.private, endpoint=push.endpoint, revision=push.revision,
              token=os.environ.get(push.token_env) or None, after_run=True)


def _report_after_run_stages(parsed: Any, layout: Any, stats: dict[str, Any]) -> None:
    """What the train and push stages of a cluster run did (a resumed run shows the earlier outcome)."""
    if parsed.train is not None and stats.get("training"):
        console.print(_training_table(stats["training"]))
    if parsed.push is not None and layout.push_result.exists():
        pushed = json.loads(layout.push_result.read_text())
        console.print(f"pushed: {len(pushed['uploaded'])} file(s) uploaded, {len(pushed['skipped'])} already there, "
                      f"commits {pushed['commits']} -> {pushed['url']}", highlight=False, soft_wrap=True)


def main() -> None:
    # Before anything loads torch's OpenMP (it reads the variable once): threads that wait at a barrier
    # sleep instead of spinning, so training, the held-out samples and vLLM share a busy machine (measured
    # beside two other jobs on 2 cores: 12 greedy tokens from the 135M model 5.9-11 s spinning, 1.7 s
    # sleeping). The engine sets the same default for library users; OMP_WAIT_POLICY=ACTIVE takes it back.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app()


if __name__ == "__main__":
    main()
