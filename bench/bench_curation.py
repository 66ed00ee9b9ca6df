"""The whole curation stage per process: curate's chain vs datatrove's default chain, same run.

    PYTHONPATH=. python bench/bench_curation.py [--docs 1500] [--datatrove-docs 300]

Both chains see the same ~2.3 KB English documents built from FLORES-200 dev sentences
(../shared/data relative to the repo root; a synthetic generator when absent) and run in this
one process:

    curate     LanguageID -> QualityFilter -> DedupSignatures
    datatrove  LanguageFilter (lid.176, the same local model) -> GopherRepetitionFilter ->
               GopherQualityFilter -> C4QualityFilter -> FineWebQualityFilter ->
               MinhashDedupSignature   (every one with its defaults: spaCy word tokenizers)

It prints docs/s for each and the ratio, and curate's docs/s on a multilingual mix.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import deque
from collections.abc import Callable

from datatrove.data import Document

from bench.bench_minhash import build_docs, load_sentences

MIX = ["eng_Latn", "swh_Latn", "yor_Latn", "npi_Deva", "hin_Deva", "amh_Ethi", "arb_Arab", "rus_Cyrl",
       "zho_Hans", "tha_Thai", "ell_Grek", "spa_Latn"]


def as_documents(texts: list[str]) -> list[Document]:
    return [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]


def run_chain(steps: list[Callable], texts: list[str]) -> tuple[float, int]:
    """Docs/s through the chain (each step's run() fed by the previous), and how many reached the last step."""
    reached = 0

    def counted(docs):
        nonlocal reached
        for doc in docs:
            reached += 1
            yield doc

    data = iter(as_documents(texts))
    start = time.perf_counter()
    for step in steps[:-1]:
        data = step.run(data, 0, 1)
    # the signature step is a sink in datatrove (it returns None) and a pass-through in curate
    deque(steps[-1].run(counted(data), 0, 1) or (), maxlen=0)
    elapsed = time.perf_counter() - start
    return len(texts) / elapsed, reached


def curate_chain(work: str) -> list:
    from filters.dedup import DedupSignatures
    from filters.heuristics import QualityFilter
    from filters.lid import LanguageID

    return [LanguageID(), QualityFilter(), DedupSignatures(work)]


def datatrove_chain(work: str) -> list:
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )

    from filters.fasttext_lid import load_lid176

    language = LanguageFilter(label_only=True)
    # datatrove's default LID downloads lid.176.bin; hand it the same bundled model instead.
    language.model._model = load_lid176()
    return [language, GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter(), MinhashDedupSignature(output_folder=work)]


def warm_up(steps: list, texts: list[str]) -> None:
    run_chain(steps, texts[:20])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--datatrove-docs", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(0)
    english = build_docs(load_sentences("eng_Latn"), args.docs, rng)
    mix = [doc for lang in MIX for doc in build_docs(load_sentences(lang), args.docs // len(MIX), rng)]
    rng.shuffle(mix)

    with tempfile.TemporaryDirectory() as work_ours, tempfile.TemporaryDirectory() as work_theirs:
        ours = curate_chain(work_ours)
        warm_up(ours, english)
        ours = curate_chain(work_ours)
        ours_rate, ours_kept = run_chain(ours, english)
        mix_rate, mix_kept = run_chain(curate_chain(work_ours + "/mix"), mix)
        theirs = datatrove_chain(work_theirs)
        warm_up(theirs, english)
        theirs = datatrove_chain(work_theirs)
        theirs_rate, theirs_kept = run_chain(theirs, english[: args.datatrove_docs])

    print(f"documents: ~{sum(map(len, english)) // len(english)} chars, English; mix of {len(MIX)} languages")
    print(f"{'chain':<44}{'docs/s':>10}{'kept':>12}")
    print(f"{'curate (LID + quality + signatures), English':<44}{ours_rate:>10.0f}{ours_kept:>7}/{len(english)}")
    print(f"{'datatrove defaults, English':<44}{theirs_rate:>10.0f}{theirs_kept:>7}/{args.datatrove_docs}")
    print(f"{'curate, 12-language mix':<44}{mix_rate:>10.0f}{mix_kept:>7}/{len(mix)}")
    print(f"ratio curate / datatrove (English): {ours_rate / theirs_rate:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
