"""Deita-style data selection: the best records per language under a budget, without near repeats.

Records are ranked by a score already in `metadata["scores"]` (`confidence` by default, from the
confidence step; any named score works), optionally multiplied by a complexity score, and taken
greedily from the top: a record is selected unless it is a near repeat (character-shingle Jaccard
at or above `diversity_threshold`, so it works in every script) of one already selected, until the
language's budget is reached. Everything else is dropped with a reason: `near_selected` (a near
repeat of a better selected record) or `over_budget`.

The budget is over the whole run: the same records are selected whatever the task count, and
memory is bounded by the budget, not the input. Like dedup (filters/dedup.py), selection is
staged and the stages talk through files under `work_dir`:

    stage "curate"  (N tasks)  SelectCandidates  pass-through ("filter" when dedup comes first);
                                                 rank r writes
        candidates/r/L.keys.bin      per record of its language #L: (value f8, key u8, index u4),
                                     appended in stream order (20 bytes)
        candidates/r/L.prints.bin    its fingerprint: 128 uint16 MinHash slots (256 bytes)
        candidates/meta/r.json       world_size, doc count, language -> (file number, rows);
                                     written last, so a killed task leaves no meta
    stage "select"  (any tasks) SelectDecide     per language, greedy in rank order; task t takes
                                                 every tasks-th language (sorted), and writes
        decisions/r-t.npz            per source rank: indices of the selected and of the near repeats
    stage "publish" (N tasks)  SelectFilter      keeps the selected, drops the rest (counted)

A record is identified between stages exactly as dedup does it: (rank, index), its position in
the stream of task `rank` of the stage that wrote the candidates; the next stage re-reads the same
records in the same order with the same task count, and SelectFilter checks both.

Rank order: value descending, then the record's stable key (a hash of `doc.id`, the key dedup
uses; of the normalized text when there is no id) ascending, then (rank, index). Ids do not depend
on sharding, so neither does the order, and neither does the selection (only records with equal
values and equal ids can swap places with the task count). Records without the score rank last.

Memory in the deciding stage, per language: a window of at most `window_rows(budget)` =
`2 * budget + 256` candidates (24 bytes each: value, key, where to find it), the fingerprints of the
records selected so far (256 bytes each, plus their band index: 42 entries each at the default 0.7,
12 bytes an entry once merged), and one chunk of `CHUNK_ROWS` sort keys being read; never the
input. It fills the window with the best candidates not yet decided (one pass over the language's
key files, 20 bytes a record), walks it greedily, and makes another pass for the next window only
when near repeats used up a whole window before the budget filled: usually one pass. (Measured:
100,000 candidates of ~250 characters, budget 20,000: 2.7 s to decide; writing candidates costs
~160 us a record, mostly the fingerprint.)

The diversity check never reads texts: it compares 128-slot MinHash fingerprints of each record's
character shingles (filters/diversity.py: what the estimate's error is, and why the lookup of
selected records to compare with is lossless).

Resume is datatrove's: each stage's tasks have completion files; a rerun redoes only unfinished
tasks, and every file here is written under a temporary name and renamed when complete (the
work-file kit, curation/workfiles.py, which also holds the layout; SelectFilter is a
curation.positional.PositionalFilter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from curation.errors import RecipeError
from curation.faults import fault_point
from curation.languages import normalize_lang
from curation.positional import PositionalFilter
from curation.steps import SideOutputs, record_lang
from curation.workfiles import AtomicFile, RankFiles, decision_files, memmap, save_npz
from filters.dedup import stable_key
from filters.diversity import SLOTS, SelectedPrints, fingerprint
from filters.shingles import exact_hash

__all__ = ["SelectCandidates", "SelectDecide", "SelectFilter", "window_rows"]

CHUNK_ROWS = 65536  # candidate sort keys read at a time in the deciding stage
KEY_DTYPE = np.dtype([("value", "<f8"), ("key", "<u8"), ("index", "<u4")])
WINDOW_DTYPE = np.dtype([("value", "<f8"), ("key", "<u8"), ("source", "<u4"), ("row", "<u4")])


def window_rows(budget: int) -> int:
    """Candidates the deciding stage holds at once for a language with this budget."""
    return 2 * budget + 256


# ----------------------------------------------------------------------------- file layout


class _SelectFiles(RankFiles):
    """Select's work files (see the module docstring); candidates/meta is the first stage's meta."""

    def __init__(self, work_dir: str):
        super().__init__(work_dir, first="candidates", writer="SelectCandidates", noun="select candidate")

    def keys(self, rank: int, number: int) -> Path:
        return self.root / "candidates" / f"{rank:05d}" / f"{number:04d}.keys.bin"

    def prints(self, rank: int, number: int) -> Path:
        return self.root / "candidates" / f"{rank:05d}" / f"{number:04d}.prints.bin"

    def decisions(self, rank: int, task: int) -> Path:
        return self.root / "decisions" / f"{rank:05d}-{task:05d}.npz"


class _CandidateFile:
    """One task's candidates of one language, appended in stream order through a small buffer."""

    buffer_rows = 1024

    def __init__(self, files: _SelectFiles, rank: int, number: int):
        self.number = number
        self.outputs = (AtomicFile(files.keys(rank, number)), AtomicFile(files.prints(rank, number)))
        self.keys = np.zeros(self.buffer_rows, dtype=KEY_DTYPE)
        self.prints = np.zeros((self.buffer_rows, SLOTS), dtype=np.uint16)
        self.filled = 0
        self.rows = 0

    def add(self, value: float, key: int, index: int, print_: np.ndarray) -> None:
        self.keys[self.filled] = (value, key, index)
        self.prints[self.filled] = print_
        self.filled += 1
        self.rows += 1
        if self.filled == self.buffer_rows:
            self._flush()

    def _flush(self) -> None:
        self.outputs[0].write(self.keys[: self.filled].tobytes())
        self.outputs[1].write(self.prints[: self.filled].tobytes())
        self.filled = 0

    def abort(self) -> None:
        for output in self.outputs:
            output.abort()

    def close(self) -> None:
        self._flush()
        for output in self.outputs:
            output.commit()


# ----------------------------------------------------------------------------- stage 1


class SelectCandidates(PipelineStep):
    """Pass-through step: writes every record's ranking value, identity and fingerprint, per language.

    Record i of task `rank` is (rank, i) for the later stages, so the next stage must re-read the
    same records in the same order with the same task count (see SelectFilter).
    """

    type = "curate"
    name = "select_candidates"

    def __init__(self, work_dir: str, score_key: str = "confidence", complexity_key: str | None = None):
        super().__init__()
        self.work_dir = work_dir
        self.score_key = score_key
        self.complexity_key = complexity_key

    def value(self, doc: Document) -> float:
        """The ranking value: the score (x complexity); records without a usable score rank last."""
        scores = doc.metadata.get("scores") or {}
        try:
            value = float(scores[self.score_key])
            if self.complexity_key:
                value *= float(scores.get(self.complexity_key, 1.0))
        except (KeyError, TypeError, ValueError):
            return -math.inf
        return -math.inf if math.isnan(value) else value

    def run(self, data: Iterable[Document], rank: int = 0, world_size: int = 1) -> Iterator[Document]:
        work = _SelectFiles(self.work_dir)
        files: dict[str, _CandidateFile] = {}
        index = -1
        try:
            for index, doc in enumerate(data):
                lang = record_lang(doc)
                if lang not in files:
                    files[lang] = _CandidateFile(work, rank, len(files))
                key = stable_key(doc, 0 if doc.id else exact_hash(doc.text))
                files[lang].add(self.value(doc), key, index, fingerprint(doc.text))
                self.stat_update("select_candidates")
                yield doc
        except BaseException:  # a failed task leaves no candidate file and never a meta
            for file in files.values():
                file.abort()
            raise
        for file in files.values():
            file.close()
        work.write_meta(rank, world_size, index + 1, slots=SLOTS,
                        languages={lang: {"file": f.number, "rows": f.rows} for lang, f in sorted(files.items())})


# ----------------------------------------------------------------------------- stage 2


@dataclass
class _Source:
    """One task's candidates of the language being decided (memory-mapped)."""

    rank: int
    keys: np.ndarray
    prints: np.ndarray


def _ahead(rows: np.ndarray, pivot: np.void) -> np.ndarray:
    """Which `rows` come strictly before `pivot` in rank order (value desc, key, source, row)."""
    ahead = rows["value"] > pivot["value"]
    tied = rows["value"] == pivot["value"]
    for field in ("key", "source", "row"):
        ahead |= tied & (rows[field] < pivot[field])
        tied &= rows[field] == pivot[field]
    return ahead


def _same(rows: np.ndarray, pivot: np.void) -> np.ndarray:
    return (rows["source"] == pivot["source"]) & (rows["row"] == pivot["row"])


def _rank_order(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows["row"], rows["source"], rows["key"], -rows["value"]))]


class SelectDecide(PipelineStep):
    """The deciding stage: per language, the greedy selection over every task's candidates.

    Languages are decided in parallel (task t of T: the t-th, (t+T)-th, ... language in sorted
    order); within a language the walk is sequential, since whether a record is selected depends on
    every better one. So a run with one language decides in one task whatever the task count.

    Args:
        work_dir: the folder SelectCandidates wrote to.
        budget: records to select per language: one number, or a map of language codes (any form:
            sw, swa, swh_Latn) with an optional `*` for the others (absent: 0).
        diversity_threshold: estimated character-shingle Jaccard with a selected record at which a
            candidate is a near repeat; None or 0: no diversity check.
    """

    type = "select"
    name = "select_decide"

    def __init__(self, work_dir: str, budget: int | dict[str, int], diversity_threshold: float | None = 0.7):
        super().__init__()
        if isinstance(budget, dict):  # keys in any code the user likes: sw, swa, swh, swh_Latn
            try:
                budget = {key if key == "*" else normalize_lang(key): value for key, value in budget.items()}
            except ValueError as e:
                raise RecipeError(f"budget: {e}") from None
        if diversity_threshold:
            SelectedPrints(diversity_threshold)  # a bad threshold fails here, when the recipe compiles
        self.work_dir = work_dir
        self.budget = budget
        self.diversity_threshold = diversity_threshold

    def language_budget(self, lang: str) -> int:
        if isinstance(self.budget, int):
            return self.budget
        return self.budget.get(lang.split("_")[0], self.budget.get("*", 0))

    def reads(self, rank: int, world_size: int) -> list[str]:
        """Every candidates task's files and meta."""
        return [str(Path(self.work_dir) / "candidates" / "*")]

    def run(self, data: Iterable[Document] | None = None, rank: int = 0, world_size: int = 1) -> None:
        files = _SelectFiles(self.work_dir)
        metas = files.metas()
        # Languages are independent (a budget each), the walk within one is sequential by definition
        # (whether a record is selected depends on every better one): task t takes every
        # `world_size`-th language in sorted order, so any task count decides the same.
        languages = sorted({lang for meta in metas for lang in meta["languages"]})[rank::world_size]
        selected: dict[int, list[int]] = {r: [] for r in range(len(metas))}
        near: dict[int, list[int]] = {r: [] for r in range(len(metas))}
        for lang in languages:
            sources = []
            for source_rank, meta in enumerate(metas):
                entry = meta["languages"].get(lang)
                if entry is not None and entry["rows"]:
                    number, rows = entry["file"], entry["rows"]
                    sources.append(_Source(source_rank, memmap(files.keys(source_rank, number), KEY_DTYPE, rows),
                                           memmap(files.prints(source_rank, number), np.uint16, rows, (SLOTS,))))
            self._decide_language(lang, sources, selected, near)
            fault_point("select/language")
        for source_rank in range(len(metas)):
            chosen = np.array(sorted(selected[source_rank]), dtype=np.uint32)
            repeats = np.array(sorted(near[source_rank]), dtype=np.uint32)
            save_npz(files.decisions(source_rank, rank), selected=chosen, near=repeats)

    def _decide_language(self, lang: str, sources: list[_Source], selected: dict[int, list[int]],
                         near: dict[int, list[int]]) -> None:
        budget = self.language_budget(lang)
        self.stat_update(f"candidates/{lang}", value=sum(len(s.keys) for s in sources))
        prints = SelectedPrints(self.diversity_threshold) if self.diversity_threshold else None
        window = window_rows(budget)
        count, repeats, passes, cursor = 0, 0, 0, None
        while count < budget:
            ranked = self._next_window(sources, cursor, window)
            passes += 1
            for candidate in ranked:
                source = sources[int(candidate["source"])]
                row = int(candidate["row"])
                index = int(source.keys[row]["index"])
                if prints is not None and not prints.add_if_novel(np.asarray(source.prints[row])):
                    near[source.rank].append(index)
                    repeats += 1
                    continue
                selected[source.rank].append(index)
                count += 1
                if count == budget:
                    break
            if len(ranked) < window:
                break  # every candidate of the language has been seen
            cursor = ranked[-1]
        self.stat_update(f"selected/{lang}", value=count)
        self.stat_update(f"near_selected/{lang}", value=repeats)
        self.stat_update(f"passes/{lang}", value=passes)

    def _next_window(self, sources: list[_Source], cursor: np.void | None, window: int) -> np.ndarray:
        """The best `window` candidates ranked after `cursor` (all of them from the top when None),
        in rank order; one pass over the language's key files, never more than `window` held."""
        best = np.zeros(0, dtype=WINDOW_DTYPE)
        for number, source in enumerate(sources):
            for start in range(0, len(source.keys), CHUNK_ROWS):
                keys = source.keys[start : start + CHUNK_ROWS]
                part = np.empty(len(keys), dtype=WINDOW_DTYPE)
                part["value"], part["key"] = keys["value"], keys["key"]
                part["source"], part["row"] = number, np.arange(start, start + len(keys))
                if cursor is not None:
                    part = part[~_ahead(part, cursor) & ~_same(part, cursor)]
                if len(best) == window:  # only what beats the current last can get in
                    part = part[_ahead(part, best[-1])]
                best = _rank_order(np.concatenate([best, part]))[:window]
        return best


# ----------------------------------------------------------------------------- stage 3


class SelectFilter(PositionalFilter):
    """Keeps the records SelectDecide selected; drops the others as `near_selected` or `over_budget`.

    Must run with the same task count as the stage that ran SelectCandidates, each task seeing its
    rank's records in the same order; a different task count or record count raises RunStateError.
    """

    name = "select"

    def __init__(self, work_dir: str, outputs: SideOutputs | None = None):
        super().__init__(_SelectFiles(work_dir), outputs)
        self.work_dir = work_dir
        self._selected: set[int] = set()
        self._near: set[int] = set()

    def decision_files(self, rank: int) -> list[Path]:
        return [self.files.root / "decisions" / f"{rank:05d}-*.npz"]  # one per deciding task

    def load_decisions(self, rank: int) -> None:
        self._selected, self._near = set(), set()
        for path in decision_files(self.files.root / "decisions", rank):  # one per deciding task
            with np.load(path) as decisions:
                self._selected.update(decisions["selected"].tolist())
                self._near.update(decisions["near"].tolist())

    def keep_at(self, position: int, doc: Document) -> bool | tuple[bool, str]:
        if position in self._selected:
            return True
        return False, "near_selected" if position in self._near else "over_budget"
