"""Selection: the best records per language under a budget over the whole run, near repeats of selected
ones dropped; staged like dedup (candidates from every task -> one deciding task -> the filter)."""

from __future__ import annotations

import math
import random
import string
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

import filters.select as select_module
from curation.errors import RecipeError, RunStateError
from curation.novelty import char_shingles, similarity
from filters.dedup import stable_key
from filters.diversity import SLOTS, SelectedPrints, char_shingle_hashes, fingerprint
from filters.select import SelectCandidates, SelectDecide, SelectFilter, window_rows
from tests.conftest import load_stats, run_cli, step_stats, write_jsonl


def doc(i: int, lang: str, score: float | None, text: str) -> Document:
    scores = {} if score is None else {"confidence": score, "quality.complexity": 2.0 if i == 3 else 1.0}
    return Document(text=text, id=str(i), metadata={"lang": lang, "scores": scores})


def run_select(tmp_path: Path, shards: list[list[Document]], budget: int | dict[str, int], score_key: str = "confidence",
               complexity_key: str | None = None, diversity_threshold: float | None = 0.7):
    """The three steps as the pipeline runs them: candidates in every task, one deciding task, the filter in
    every task. Returns (kept ids in stream order, the filters' counters summed, the decider)."""
    work = str(tmp_path / "select")
    candidates = SelectCandidates(work, score_key=score_key, complexity_key=complexity_key)
    for rank, docs in enumerate(shards):
        assert list(candidates.run(iter(docs), rank, len(shards))) == docs, "records flow on unchanged"
    decide = SelectDecide(work, budget, diversity_threshold=diversity_threshold)
    decide.run(None, 0, 1)
    kept: list[str] = []
    counters: dict[str, int] = {}
    for rank, docs in enumerate(shards):
        step = SelectFilter(work)
        kept += [d.id for d in step.run(iter(docs), rank, len(shards))]
        for key, value in step.stats.stats.items():
            counters[key] = counters.get(key, 0) + value.total
    return kept, counters, decide


SW = ["Eleza jinsi ya kupika wali kwa nazi.", "Taja faida tatu za kutembea kila siku.",
      "Andika shairi fupi kuhusu bahari.", "Eleza jinsi ya kupika wali kwa nazi tafadhali.",
      "Toa ushauri kwa mwanafunzi mpya shuleni."]
ZH = ["如何在家里种西红柿？", "请写一首关于月亮的短诗。", "如何在家里种西红柿呢？"]


def random_text(rng: random.Random, words: int = 8) -> str:
    """Made-up words: two such texts share almost no character shingles."""
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 8))) for _ in range(words))


# ----------------------------------------------------------------------------- the steps


def test_budget_per_language_keeps_the_best_and_skips_near_repeats(tmp_path):
    docs = [doc(i, "swh_Latn", s, t) for i, (s, t) in enumerate(zip([0.9, 0.2, 0.5, 0.8, 0.7], SW, strict=True))]
    docs += [doc(10 + i, "zho_Hani", s, t) for i, (s, t) in enumerate(zip([0.4, 0.3, 0.9], ZH, strict=True))]
    docs.append(doc(20, "swh_Latn", None, "Rekodi isiyo na alama yoyote ya ubora."))
    kept, counters, _ = run_select(tmp_path, [docs], budget={"sw": 3, "zho": 2})
    # Swahili: 0 (0.9), then 3 (0.8) is a near repeat of 0, then 4 (0.7), 2 (0.5); budget 3. Kept in stream order.
    assert [k for k in kept if int(k) < 10 or int(k) == 20] == ["0", "2", "4"]
    # Chinese: 12 (0.9), 10 is a near repeat of it, then 11
    assert [k for k in kept if 10 <= int(k) < 20] == ["11", "12"]
    assert counters["dropped/swh_Latn/near_selected"] == 1
    assert counters["dropped/swh_Latn/over_budget"] == 2  # 1 (0.2) and the unscored one
    assert counters["dropped/zho_Hani/near_selected"] == 1
    assert counters["in/swh_Latn"] == 6 and counters["kept/swh_Latn"] == 3


def test_complexity_multiplies_and_the_budget_is_over_the_whole_run(tmp_path):
    docs = [doc(i, "swh_Latn", s, t) for i, (s, t) in enumerate(zip([0.9, 0.2, 0.5, 0.6, 0.7], SW, strict=True))]
    kept, _, _ = run_select(tmp_path, [docs[:2], docs[2:]], budget=2, complexity_key="quality.complexity",
                            diversity_threshold=None)
    assert kept == ["0", "3"]  # doc 3 scores 0.6 x 2; two in all, not two per task


def test_one_task_holding_all_the_best_records_gives_the_global_top(tmp_path):
    rng = random.Random(1)
    best = [doc(100 + i, "yor_Latn", 0.99 - i / 100, random_text(rng)) for i in range(10)]
    rest = [doc(200 + i, "yor_Latn", 0.5 - i / 1000, random_text(rng)) for i in range(40)]
    uneven, _, _ = run_select(tmp_path / "uneven", [best, rest[:20], rest[20:]], budget=10)
    assert uneven == [d.id for d in best]
    together, _, _ = run_select(tmp_path / "one", [rest[:25] + best + rest[25:]], budget=10)
    assert sorted(together) == sorted(uneven)


def test_filter_refuses_a_different_task_count(tmp_path):
    docs = [doc(i, "swh_Latn", 0.5, t) for i, t in enumerate(SW)]
    run_select(tmp_path, [docs], budget=2)
    with pytest.raises(RunStateError, match="same task count"):
        list(SelectFilter(str(tmp_path / "select")).run(iter(docs), rank=0, world_size=2))
    with pytest.raises(RunStateError, match="records"):
        list(SelectFilter(str(tmp_path / "select")).run(iter(docs[:3]), rank=0, world_size=1))


def test_bad_settings_are_recipe_errors_that_name_the_setting(tmp_path):
    with pytest.raises(RecipeError, match="budget: .*qqq"):
        SelectDecide(str(tmp_path), {"qqq": 3})
    with pytest.raises(RecipeError, match="diversity_threshold"):
        SelectDecide(str(tmp_path), 3, diversity_threshold=1.5)


# ----------------------------------------------------------------------------- fingerprints


PAIRS = [
    (SW[0], SW[3]),
    (ZH[0], ZH[2]),
    ("请写一首关于秋天的诗。", "写一首关于秋天的诗"),
    ("कृपया स्वस्थ रहने के लिए तीन सुझाव दीजिए।", "स्वस्थ रहने के लिए तीन सुझाव दीजिए।"),
    ("اكتب قصيدة قصيرة عن البحر في الصباح.", "اكتب قصيدة قصيرة عن البحر."),
    ("เขียนกลอนสั้นๆ เกี่ยวกับทะเล", "เขียนกลอนสั้นๆ เกี่ยวกับทะเลตอนเช้า"),
    (SW[1], SW[2]),
    ("ab", "ab!"),
]


def test_fingerprints_estimate_the_novelty_filters_jaccard():
    for first, second in PAIRS:
        a, b = char_shingle_hashes(first), char_shingle_hashes(second)
        assert len(a) == len(char_shingles(first)) and len(b) == len(char_shingles(second)), "the same shingle sets"
        exact = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
        assert exact == pytest.approx(similarity(first, second))
        estimate = float((fingerprint(first) == fingerprint(second)).mean())
        assert abs(estimate - exact) < 0.15, (first, second, exact, estimate)  # ~3.5 standard errors at 128 slots
    assert not fingerprint(" !? ").any(), "no shingles: the empty fingerprint"


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.9, 1.0])
def test_near_lookup_finds_every_fingerprint_the_estimate_calls_near(threshold):
    """The band index is lossless: a fingerprint with exactly the needed number of equal slots, in any
    positions, is found; one slot fewer is not near."""
    rng = np.random.default_rng(0)
    selected = SelectedPrints(threshold)
    stored = rng.integers(1, 1 << 16, size=(300, SLOTS), dtype=np.uint16)  # unrelated to each other
    assert all(selected.add_if_novel(row) for row in stored) and len(selected) == 300
    need = selected.min_matches
    assert need == math.ceil(threshold * SLOTS - 1e-9)
    for _ in range(100):
        source = stored[rng.integers(len(stored))]
        for matches, near in ((need, True), (need - 1, False)):
            query = source.copy()
            differ = rng.choice(SLOTS, SLOTS - matches, replace=False)
            query[differ] ^= rng.integers(1, 1 << 16, size=len(differ), dtype=np.uint16)
            assert selected.is_near(query) is near
    assert not selected.add_if_novel(stored[0]), "a selected fingerprint is near itself"


# ----------------------------------------------------------------------------- memory bound


def reference_selection(docs: list[Document], budget: int, threshold: float) -> list[str]:
    """The same greedy with everything in memory: all records ranked at once, every pair compared."""
    order = sorted(docs, key=lambda d: (-d.metadata["scores"]["confidence"], stable_key(d, 0)))
    chosen, prints = [], []
    need = math.ceil(threshold * SLOTS - 1e-9)
    for d in order:
        if len(chosen) == budget:
            break
        print_ = fingerprint(d.text)
        if any(int((print_ == p).sum()) >= need for p in prints):
            continue
        chosen.append(d.id)
        prints.append(print_)
    return chosen


def test_deciding_holds_a_window_bounded_by_the_budget_not_the_input(tmp_path, monkeypatch):
    monkeypatch.setattr(select_module, "CHUNK_ROWS", 500)  # read the key files in many chunks
    # The most candidates held at once: a window only grows while it is filled, so its final size is its peak.
    peak_window = 0
    next_window = SelectDecide._next_window

    def measured(self, *args):
        nonlocal peak_window
        window = next_window(self, *args)
        peak_window = max(peak_window, len(window))
        return window

    monkeypatch.setattr(SelectDecide, "_next_window", measured)
    rng = random.Random(0)
    repeated = "Eleza jinsi ya kupika wali kwa nazi na maharagwe."
    docs = []
    for i in range(6000):
        # The 600 best are one text over and over: one is selected, 599 are near repeats, so whole
        # windows are used up before the budget fills and the decider must make another pass.
        text, score = (repeated, 1 + rng.random()) if i % 10 == 0 else (random_text(rng), rng.random())
        docs.append(Document(text=text, id=f"r{i}", metadata={"scores": {"confidence": score}}))
    budget = 50
    kept, counters, decide = run_select(tmp_path, [docs[0::3], docs[1::3], docs[2::3]], budget=budget)
    assert 0 < peak_window <= window_rows(budget) < len(docs) / 10
    assert decide.stats["passes/und"].total > 1
    assert sorted(kept) == sorted(reference_selection(docs, budget, 0.7))
    assert counters["dropped/und/near_selected"] == 599
    assert counters["kept/und"] == budget and counters["dropped/und/over_budget"] == 6000 - 599 - budget


# ----------------------------------------------------------------------------- whole runs


def syllable_text(rng: random.Random, lang: str) -> str:
    if lang == "zho_Hani":
        return "".join(rng.choice("天地人日月山水火木金土风雨雪花草鱼鸟马牛羊米饭茶书画歌舞家国城路桥船车门窗") for _ in range(12))
    syllables = ("ka ki ku ma mi mu na ni nu wa ta to la li lu sa si ba bi ya" if lang == "swh_Latn"
                 else "ọ ẹ ba bi bo da di fe fi gba gbo ja jo ka ko la lo mo ni ra ri ṣe ṣi to wa yo").split()
    return " ".join("".join(rng.choice(syllables) for _ in range(3)) for _ in range(8))


def make_scored_inputs(folder: Path) -> dict[str, list[str]]:
    """Three languages, already scored. The best Swahili and Yoruba records are all in part-0, the best
    Chinese ones in part-1; a near copy of the best Swahili record scores second; two Yoruba records tie
    across files; one record has no score. Returns the ids a {sw: 4, "*": 2} budget should select."""
    rng = random.Random(7)
    parts: list[list[dict]] = [[], [], []]

    def add(part: int, rid: str, lang: str, score: float | None, text: str | None = None) -> str:
        record = {"id": rid, "lang": lang, "text": text or syllable_text(rng, lang)}
        if score is not None:
            record["score"] = score
        parts[part].append(record)
        return record["text"]

    best_sw = add(0, "sw-00", "swh_Latn", 0.99)
    for i in range(1, 6):
        add(0, f"sw-{i:02d}", "swh_Latn", 0.99 - i / 100)
    for i in range(6, 12):
        add(1 + i % 2, f"sw-{i:02d}", "swh_Latn", 0.5 - i / 100)
    add(2, "sw-near", "swh_Latn", 0.985, best_sw + " sana")
    add(1, "sw-unscored", "swh_Latn", None)
    add(0, "yo-top", "yor_Latn", 0.9)
    add(0, "yo-tie-a", "yor_Latn", 0.8)
    add(2, "yo-tie-b", "yor_Latn", 0.8)
    for i in range(4):
        add(1 + i % 2, f"yo-{i:02d}", "yor_Latn", 0.3 - i / 100)
    for i in range(6):
        add(1 if i < 2 else 2 - i % 2 * 2, f"zh-{i:02d}", "zho_Hani", 0.9 - i / 10)
    folder.mkdir(parents=True, exist_ok=True)
    for i, records in enumerate(parts):
        write_jsonl(folder / f"part-{i}.jsonl", records)
    tie_winner = min(["yo-tie-a", "yo-tie-b"], key=lambda rid: stable_key(Document(text="", id=rid), 0))
    return {"swh_Latn": ["sw-00", "sw-01", "sw-02", "sw-03"], "yor_Latn": ["yo-top", tie_winner],
            "zho_Hani": ["zh-00", "zh-01"]}


SCORES = {"custom": {"use": "tests.steps_for_select:ScoresFromInput"}}
BUDGET = {"select": {"budget": {"sw": 4, "*": 2}}}


def select_recipe(tmp_path: Path, name: str, tasks: int, steps: list[dict]) -> dict:
    return {"name": name, "output": str(tmp_path / name),
            "inputs": [{"path": str(tmp_path / "in" / "*.jsonl"), "id_key": "id"}],
            "executor": {"local": {"tasks": tasks, "workers": 1}}, "steps": steps}


def published(output: Path) -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    for path in sorted((output / "data").rglob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            by_lang.setdefault(row["lang"], []).append(row["id"])
    return {lang: sorted(ids) for lang, ids in sorted(by_lang.items())}


@pytest.mark.slow  # two staged `curate run`s, 1 and 3 tasks (~3-5 s)
def test_the_same_records_are_selected_with_one_and_three_tasks(tmp_path, recipe_file):
    expected = make_scored_inputs(tmp_path / "in")
    results = {}
    for tasks in (1, 3):
        path = recipe_file(select_recipe(tmp_path, f"tasks{tasks}", tasks, [SCORES, BUDGET]))
        result = run_cli("run", path)
        assert result.exit_code == 0, result.output
        results[tasks] = published(tmp_path / f"tasks{tasks}")
        stats = load_stats(tmp_path / f"tasks{tasks}")
        assert stats["accounting"]["ok"], stats["accounting"]["problems"]
        select = step_stats(stats, "select")
        assert select["stage"] == "publish"
        assert select["by_language"]["swh_Latn"] == {"in": 14, "kept": 4, "quarantined": {},
                                                     "dropped": {"near_selected": 1, "over_budget": 9}}
        assert select["by_language"]["yor_Latn"]["dropped"] == {"over_budget": 5}
        assert select["dropped"] == {"near_selected": 1, "over_budget": 18}
    assert results[1] == results[3] == {lang: sorted(ids) for lang, ids in expected.items()}


@pytest.mark.slow  # three `curate run`s of a staged dedup + select recipe (~7 s)
def test_select_after_dedup_resumes_after_a_killed_task(tmp_path, recipe_file):
    expected = make_scored_inputs(tmp_path / "in")
    # dedup keeps the near copy (it has more shingles) and drops sw-00; select then ranks what is left
    steps = [SCORES, {"dedup": None}, BUDGET]
    reference = recipe_file(select_recipe(tmp_path, "reference", 3, steps))
    assert run_cli("run", reference).exit_code == 0
    marker = tmp_path / "crashed"
    crash = {"custom": {"use": "tests.steps_for_tests:CrashOnce", "args": {"marker": str(marker), "rank": 0, "after": 1}}}
    path = recipe_file(select_recipe(tmp_path, "resumed", 3, [*steps, crash]))
    first = run_cli("run", path)
    assert first.exit_code == 1 and marker.exists()
    logs = tmp_path / "resumed" / ".curate" / "logs"
    assert (logs / "select" / "completions" / "00000").exists()
    decided_at = (logs / "select" / "stats" / "00000.json").stat().st_mtime_ns
    second = run_cli("run", path)
    assert second.exit_code == 0, second.output
    assert (logs / "select" / "stats" / "00000.json").stat().st_mtime_ns == decided_at, "the decision was not redone"
    assert published(tmp_path / "resumed") == published(tmp_path / "reference") == {
        "swh_Latn": ["sw-01", "sw-02", "sw-03", "sw-near"], "yor_Latn": sorted(expected["yor_Latn"]),
        "zho_Hani": expected["zho_Hani"]}
    stats = load_stats(tmp_path / "resumed")
    assert stats["accounting"]["ok"], stats["accounting"]["problems"]
    assert [(s["stage"], s["step"]) for s in stats["steps"]][-4:] == [
        ("filter", "dedup"), ("publish", "select"), ("publish", "crash_once"), ("publish", "write")]
    assert step_stats(stats, "dedup")["dropped"] == {"near_duplicate": 1}


def test_select_where_it_cannot_work_is_one_line_naming_the_step(tmp_path, recipe_file):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "Habari ya asubuhi, rafiki yangu mpendwa."}])
    base = {"name": "t", "output": str(tmp_path / "out"), "inputs": [{"path": str(tmp_path / "in.jsonl")}]}
    cases = [
        ([{"select": {"budget": 5}}, {"dedup": None}], "steps[0].select: put `select` after `dedup` (steps[1])"),
        ([{"select": {"budget": 5}}, {"confidence": None}],
         "steps[0].select.score_key: `confidence` is written by `confidence` (steps[1])"),
        ([{"lid": None}, {"select": {"budget": 5, "score_key": "x", "complexity_key": "quality.gopher_stop_words"}},
          {"quality": None}], "steps[1].select.complexity_key: `quality.gopher_stop_words` is written by `quality`"),
    ]
    for steps, message in cases:
        result = run_cli("validate", recipe_file(base | {"steps": steps}))
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    result = run_cli("plan", recipe_file(base | {"steps": [SCORES, {"dedup": None}, BUDGET]}))
    assert result.exit_code == 0, result.output
    for stage in ("curate", "buckets", "clusters", "filter", "select", "publish", "finalize"):
        assert stage in result.output
