"""Selection: top records per language under a budget, near repeats of selected ones dropped."""

from __future__ import annotations

from datatrove.data import Document

from filters.select import SelectFilter


def doc(i: int, lang: str, score: float | None, text: str) -> Document:
    scores = {} if score is None else {"confidence": score, "quality.complexity": 2.0 if i == 3 else 1.0}
    return Document(text=text, id=str(i), metadata={"lang": lang, "scores": scores})


def run(step: SelectFilter, docs: list[Document], rank: int = 0, world_size: int = 1) -> list[str]:
    return [d.id for d in step.run(iter(docs), rank, world_size)]


SW = ["Eleza jinsi ya kupika wali kwa nazi.", "Taja faida tatu za kutembea kila siku.",
      "Andika shairi fupi kuhusu bahari.", "Eleza jinsi ya kupika wali kwa nazi tafadhali.",
      "Toa ushauri kwa mwanafunzi mpya shuleni."]
ZH = ["如何在家里种西红柿？", "请写一首关于月亮的短诗。", "如何在家里种西红柿呢？"]


def test_budget_per_language_keeps_the_best_and_skips_near_repeats():
    docs = [doc(i, "swh_Latn", s, t) for i, (s, t) in enumerate(zip([0.9, 0.2, 0.5, 0.8, 0.7], SW, strict=True))]
    docs += [doc(10 + i, "zho_Hani", s, t) for i, (s, t) in enumerate(zip([0.4, 0.3, 0.9], ZH, strict=True))]
    docs.append(doc(20, "swh_Latn", None, "Rekodi isiyo na alama yoyote ya ubora."))
    step = SelectFilter(budget={"sw": 3, "zho": 2})
    kept = run(step, docs)
    # Swahili: 0 (0.9), then 3 (0.8) is a near repeat of 0, then 4 (0.7), 2 (0.5); budget 3
    assert [k for k in kept if int(k) < 10 or int(k) == 20] == ["0", "4", "2"]
    # Chinese: 12 (0.9), 10 is a near repeat of it, then 11
    assert [k for k in kept if 10 <= int(k) < 20] == ["12", "11"]
    stats = step.stats
    assert stats["dropped/swh_Latn/near_selected"].total == 1
    assert stats["dropped/swh_Latn/over_budget"].total == 2  # 1 (0.2) and the unscored one
    assert stats["dropped/zho_Hani/near_selected"].total == 1


def test_complexity_multiplies_and_budget_splits_across_tasks():
    docs = [doc(i, "swh_Latn", s, t) for i, (s, t) in enumerate(zip([0.9, 0.2, 0.5, 0.6, 0.7], SW, strict=True))]
    step = SelectFilter(budget=4, complexity_key="quality.complexity", diversity_threshold=None)
    assert run(step, docs, rank=0, world_size=2) == ["3", "0"]  # ceil(4 / 2) = 2; doc 3 scores 0.6 x 2
