"""Dedup: shingling per script, signature quality, and the staged pipeline end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from curation.errors import RecipeError, RunStateError
from filters.dedup import (
    ContainmentConfig,
    DedupFilter,
    DedupSignatures,
    effective_threshold,
)
from filters.dedup_buckets import DedupBuckets
from filters.dedup_clusters import deciding_pipelines
from filters.minhash import (
    MinHashConfig,
    _seed_words,
    estimate_jaccard,
    one_permutation_signature,
)
from filters.shingles import exact_hash, mix64, normalize_for_dedup, shingle_hashes

ENGLISH = (
    "The old lighthouse on the northern cliff was restored last spring by a group of volunteers. "
    "They replaced the broken windows, painted the tower white and red, and repaired the spiral "
    "staircase that leads to the lamp room. Visitors can now climb to the top on weekends and "
    "watch the fishing boats return to the harbour in the late afternoon."
)
SPANISH = (
    "La biblioteca municipal abrirá una nueva sala de lectura para niños el próximo mes. "
    "Habrá cuentos en voz alta todos los sábados por la mañana, talleres de dibujo y una pequeña "
    "colección de libros en lenguas indígenas que donaron las familias del barrio."
)
RUSSIAN = (
    "Весной в нашем городе открылся новый парк у реки. Там посадили сотни деревьев, построили "
    "детские площадки и проложили длинную велосипедную дорожку вдоль набережной. По вечерам "
    "жители приходят туда гулять с собаками, кататься на самокатах и смотреть на закат над водой."
)
HINDI_SOURCE = (
    "हमारे गाँव में हर साल सर्दियों के मौसम में एक बड़ा मेला लगता है। दूर दूर से लोग अपने परिवार के "
    "साथ यहाँ आते हैं और हस्तशिल्प की चीज़ें खरीदते हैं। मेले में कठपुतली का खेल सबसे ज़्यादा पसंद किया "
    "जाता है और बच्चे उसे देखने के लिए घंटों इंतज़ार करते हैं। शाम को लोक गीत गाए जाते हैं और सब "
    "मिलकर नाचते हैं। किसान इस मौके पर अपनी फसल और पशुओं को भी दिखाते हैं और अच्छे बीजों के बारे में "
    "एक दूसरे से बात करते हैं। मेले के आखिरी दिन आतिशबाज़ी होती है और पूरा आसमान रंगों से भर जाता है।"
)
# Two sentences lifted from HINDI_SOURCE with a short lead-in: Jaccard ~0.3, containment ~0.9.
HINDI_PARTIAL = (
    "मेरे दोस्त ने बताया कि मेले में कठपुतली का खेल सबसे ज़्यादा पसंद किया जाता है और बच्चे उसे देखने के "
    "लिए घंटों इंतज़ार करते हैं। शाम को लोक गीत गाए जाते हैं और सब मिलकर नाचते हैं।"
)
CHINESE = (
    "上个周末我们全家去山里露营。我们在湖边搭好帐篷以后，爸爸教我怎样用木柴生火，妈妈准备了简单的晚饭。"
    "夜里天空非常晴朗，我第一次看到了那么多星星，还看见一颗流星从山顶划过。第二天早上我们沿着小路走到瀑布，"
    "在那里拍了很多照片。"
)
THAI = (
    "เมื่อวันเสาร์ที่ผ่านมา ครอบครัวของเราไปเที่ยวตลาดน้ำแต่เช้า แม่ซื้อผลไม้สดและขนมไทยหลายอย่าง "
    "ส่วนพ่อพาเรานั่งเรือชมคลองและบ้านเรือนริมน้ำ ตอนกลางวันเรากินก๋วยเตี๋ยวเรือที่ร้านเล็ก ๆ ใกล้สะพาน "
    "ก่อนกลับบ้านเราแวะไหว้พระที่วัดเก่าแก่ริมคลอง"
)
UNRELATED = [
    "Photosynthesis converts light energy into chemical energy stored in glucose, releasing oxygen "
    "as a by-product; chlorophyll in the chloroplasts absorbs mostly red and blue light.",
    "Вчера на собрании жильцов обсуждали ремонт крыши, замену лифта и новые правила парковки во "
    "дворе, но так и не договорились о сроках.",
    "我的电脑昨天突然无法开机，技术人员说可能是电源坏了，需要换一个新的零件，大概要等三天。",
    "ร้านกาแฟแห่งใหม่ในซอยนี้เปิดตั้งแต่เจ็ดโมงเช้า มีเค้กช็อกโกแลตและชาเขียวเย็นที่อร่อยมาก",
    "दिल्ली में आज सुबह से तेज़ बारिश हो रही है और कई सड़कों पर पानी भर गया है, जिससे यातायात धीमा है।",
]


def _corpus() -> list[dict]:
    """Docs with planted duplicates; `expect` is the reason each should be dropped (or None)."""
    docs = [
        ("en", ENGLISH, None),
        ("en-exact", "  " + ENGLISH.upper().replace(" ", "   ").replace(",", " ,") + "!!", "exact_duplicate"),
        ("es", SPANISH, None),
        ("ru", RUSSIAN, None),
        ("ru-near", RUSSIAN.replace("сотни", "тысячи"), "near_duplicate"),
        ("hi", HINDI_SOURCE, None),
        ("hi-partial", HINDI_PARTIAL, "contained_duplicate"),
        ("zh", CHINESE, None),
        ("zh-near", CHINESE.replace("很多照片", "好多照片"), "near_duplicate"),
        ("th", THAI, None),
        ("th-exact", THAI.replace(" ", "  "), "exact_duplicate"),
    ]
    docs += [(f"other-{i}", text, None) for i, text in enumerate(UNRELATED)]
    return [{"id": doc_id, "text": text, "expect": expect} for doc_id, text, expect in docs]


def _write_inputs(folder: Path, docs: list[dict], files: int) -> None:
    # Several files, so a different task count shards the corpus differently.
    folder.mkdir(parents=True)
    for i in range(files):
        with open(folder / f"part-{i}.jsonl", "w") as handle:
            for doc in docs[i::files]:
                handle.write(json.dumps({"id": doc["id"], "text": doc["text"]}, ensure_ascii=False) + "\n")


def _run_dedup(tmp_path: Path, tasks: int, containment: ContainmentConfig | None, name: str) -> tuple[dict, dict]:
    """Runs the four stages; returns ({id: metadata of kept doc}, merged stats of the last stage)."""
    root = tmp_path / name
    inputs = root / "input"
    _write_inputs(inputs, _corpus(), files=3)
    work_dir = str(root / "dedup")
    config = MinHashConfig()
    stages = [
        ([JsonlReader(str(inputs)), DedupSignatures(work_dir, config, containment)], tasks),
        *[(steps, n) for _, steps, n in deciding_pipelines(DedupBuckets(work_dir, config, containment=containment), 2)],
        ([JsonlReader(str(inputs)), DedupFilter(work_dir), JsonlWriter(str(root / "out"))], tasks),
    ]
    for i, (pipeline, stage_tasks) in enumerate(stages):
        LocalPipelineExecutor(pipeline, tasks=stage_tasks, workers=1, logging_dir=str(root / f"logs{i}")).run()
    kept = {}
    for path in sorted((root / "out").glob("*.jsonl*")):
        for doc in JsonlReader(str(root / "out")).read_file(path.name):
            kept[doc.id] = doc.metadata
    stats = json.loads((root / f"logs{len(stages) - 1}" / "stats.json").read_text())
    return kept, stats


def _dedup_counters(stats: list[dict]) -> dict[str, int]:
    counters = {}
    for step in stats:
        if step["name"].endswith(": dedup"):
            counters = {key: value["total"] if isinstance(value, dict) else value for key, value in step["stats"].items()}
    return counters


# ----------------------------------------------------------------------------- shingling


def test_normalization_ignores_case_whitespace_punctuation_and_accents():
    assert exact_hash("Hello,   World! Café") == exact_hash("hello world cafe")
    assert exact_hash("Прошло 12 лет.") == exact_hash("ПРОШЛО 7 ЛЕТ")  # numbers fold to one "0"
    assert exact_hash("ab c") != exact_hash("a bc")


def test_unspaced_scripts_are_shingled_by_character():
    assert normalize_for_dedup("我们去公园。") == "我 们 去 公 园"
    assert normalize_for_dedup("ตลาดเช้า") == "ต ล า ด เ ช ้ า"
    assert len(shingle_hashes("我们去公园吧", n=5)) == 2  # 6 characters -> two 5-grams
    assert len(shingle_hashes("เราไปตลาด", n=5)) == 5  # 9 code points -> five 5-grams
    # A mixed text keeps words as words: "ipad pro" is two tokens next to single characters.
    assert normalize_for_dedup("我买了iPad Pro。") == "我 买 了 ipad pro"


def test_spaced_scripts_are_shingled_by_word():
    assert normalize_for_dedup("नमस्ते, दुनिया!") == "नमस्ते दुनिया"
    assert len(shingle_hashes("one two three four five six", n=5)) == 2
    assert len(shingle_hashes("too short", n=5)) == 1  # fewer tokens than n: one shingle
    assert len(shingle_hashes(" ... ", n=5)) == 0


def test_shingles_are_deterministic_and_position_independent():
    alone = shingle_hashes("alpha beta gamma delta epsilon")
    inside = shingle_hashes("zeta eta. Alpha beta, gamma delta epsilon!")
    assert np.isin(alone, inside).all(), "an n-gram hashes the same wherever it occurs"
    assert alone.tolist() == [9309764015003881281], "fixed constants: same value in every process"


def k_permutation_signature(shingles: np.ndarray, num_hashes: int, seed: int) -> np.ndarray:
    """Classic MinHash, the reference the one-permutation signature is measured against: slot j is
    the min over shingles of mix64(shingle ^ seed_j)."""
    if len(shingles) == 0:
        return np.full(num_hashes, np.iinfo(np.uint64).max, dtype=np.uint64)
    seeds = _seed_words(seed, num_hashes, salt=2)
    return mix64(shingles[:, None] ^ seeds[None, :]).min(axis=0)


@pytest.mark.parametrize("signature", [one_permutation_signature, k_permutation_signature])
def test_signature_estimates_jaccard(signature):
    rng = np.random.default_rng(0)
    errors = []
    for trial in range(200):
        size = int(rng.integers(30, 600))
        pool = rng.integers(0, 2**63, size=2 * size, dtype=np.uint64)
        shared = int(size * rng.uniform(0.3, 1.0))
        first, second = np.unique(pool[:size]), np.unique(np.concatenate([pool[:shared], pool[size : 2 * size - shared]]))
        true = len(np.intersect1d(first, second)) / len(np.union1d(first, second))
        estimate = estimate_jaccard(signature(first, 112, trial), signature(second, 112, trial))
        errors.append(estimate - true)
    errors = np.array(errors)
    assert abs(errors.mean()) < 0.01, "unbiased"
    assert np.sqrt((errors**2).mean()) < 0.05, "binomial-like spread: sqrt(J(1-J)/112) <= 0.047"


def test_config_documents_its_threshold():
    assert MinHashConfig().lsh_threshold == pytest.approx(0.719, abs=1e-3)


@pytest.mark.parametrize("setting", ["num_bands", "rows_per_band", "ngram"])
def test_config_refuses_a_non_positive_setting_by_name(setting):
    # An exception, not an assert: `python -O` must not let a zero-band config through.
    with pytest.raises(RecipeError, match=f"{setting} must be positive, got 0"):
        MinHashConfig(**{setting: 0})


def test_effective_containment_threshold_is_stricter_for_short_texts():
    config = ContainmentConfig(threshold=0.7, min_shingles=8)
    assert effective_threshold(7, config) > 1
    assert effective_threshold(8, config) == pytest.approx(1.0)
    assert effective_threshold(16, config) == pytest.approx(0.85)
    assert effective_threshold(800, config) == pytest.approx(0.703)


# ----------------------------------------------------------------------------- pipeline


def _group(doc_id: str) -> str:
    return doc_id.split("-")[0] if not doc_id.startswith("other") else doc_id


def test_pipeline_removes_planted_duplicates_with_reasons(tmp_path):
    kept, stats = _run_dedup(tmp_path, tasks=2, containment=ContainmentConfig(), name="with_containment")
    corpus = _corpus()
    groups = {_group(doc["id"]) for doc in corpus}
    assert sorted(_group(doc_id) for doc_id in kept) == sorted(groups), "one survivor per group, nothing else lost"
    assert all(f"other-{i}" in kept and "dup_cluster" not in kept[f"other-{i}"] for i in range(len(UNRELATED)))
    assert "hi" in kept and kept["hi"]["dup_cluster_size"] == 2, "the longer source survives its partial copy"
    assert all(kept[doc_id]["dup_cluster_size"] == 2 for doc_id in kept if _group(doc_id) in {"en", "ru", "zh", "th"})
    assert "dup_cluster" not in kept["es"]
    counters = _dedup_counters(stats)
    for reason in ("exact_duplicate", "near_duplicate", "contained_duplicate"):
        planted = sum(doc["expect"] == reason for doc in corpus)
        assert counters[f"dropped/und/{reason}"] == planted, reason
    assert counters["kept/und"] == len(groups)
    assert counters["in/und"] == len(corpus)


def test_partial_copy_needs_containment(tmp_path):
    kept, _ = _run_dedup(tmp_path, tasks=2, containment=None, name="no_containment")
    assert "hi-partial" in kept and "hi" in kept
    assert len([doc_id for doc_id in kept if _group(doc_id) == "zh"]) == 1


@pytest.mark.slow  # two staged dedup runs, 1 and 3 tasks (~3-5 s)
def test_cluster_ids_do_not_depend_on_task_count(tmp_path):
    one, _ = _run_dedup(tmp_path, tasks=1, containment=ContainmentConfig(), name="one")
    three, _ = _run_dedup(tmp_path, tasks=3, containment=ContainmentConfig(), name="three")
    assert one.keys() == three.keys()
    assert {k: v.get("dup_cluster") for k, v in one.items()} == {k: v.get("dup_cluster") for k, v in three.items()}


def test_filter_refuses_a_different_task_count(tmp_path):
    work_dir = str(tmp_path / "dedup")
    docs = [Document(text=ENGLISH, id="a"), Document(text=SPANISH, id="b")]
    list(DedupSignatures(work_dir).run(iter(docs), rank=0, world_size=1))
    for _, steps, _ in deciding_pipelines(DedupBuckets(work_dir), 1):
        steps[0].run(None, rank=0, world_size=1)
    with pytest.raises(RunStateError, match="same task count"):
        list(DedupFilter(work_dir).run(iter(docs), rank=0, world_size=2))
    with pytest.raises(RunStateError, match="docs"):
        list(DedupFilter(work_dir).run(iter(docs[:1]), rank=0, world_size=1))


def test_row_store_grows_past_its_first_chunk_for_band_rows():
    """Regression: a run with more than one chunk of documents (8,192) crashed on the band hashes."""
    from filters.dedup import _Rows

    rows = _Rows(np.dtype((np.uint64, (14,))), chunk=4)
    for i in range(10):
        rows.append(np.full(14, i, dtype=np.uint64))
    array = rows.array()
    assert array.shape == (10, 14) and array[9, 0] == 9 and array[4, 13] == 4
