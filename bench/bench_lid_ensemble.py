"""The LID ensemble against its parts, by text length, on held-out FLORES-200 dev lines.

    python bench/bench_lid_ensemble.py [--half report|tune] [--per-lang 20] [--lingua-only]

Each FLORES language's lines are split in two: even lines are the TUNE half (the ensemble's
thresholds were chosen there), odd lines the REPORT half (what the README quotes). Buckets: one
random word of >= 3 letters, two consecutive words, the sentence cut at a word boundary to <= 40
characters, the whole sentence. Systems: curate before the ensemble (lid.176 + langdetect),
curate's ensemble (lid.176 + lingua + CLD3), and lingua alone in high-accuracy mode (on its own
languages only: `--lingua-only`). Counts only FLORES sets lid.176 can output (as bench_lid.py).
Needs `../shared/data/flores200-dev`; prints a message and exits 0 without it.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_lid import FLORES_DIR, FLORES_SCRIPT_ALIASES, _lid176_writes, cut_at_word  # noqa: E402
from lingua import LanguageDetectorBuilder  # noqa: E402

from curation.languages import normalize_lang  # noqa: E402
from filters.detectors import _lingua_codes, lingua_languages  # noqa: E402
from filters.lid import LanguageIdentifier  # noqa: E402

Predictor = Callable[[str], str]


def one_word(text: str) -> str:
    words = [w for w in text.split() if len(w) >= 3]
    return random.Random(text).choice(words) if words else text[:4]


def two_words(text: str) -> str:
    words = text.split()
    start = random.Random(text).randrange(max(1, len(words) - 1))
    return " ".join(words[start:start + 2])


BUCKETS: dict[str, Callable[[str], str]] = {
    "words": one_word, "pairs": two_words, "<=40": lambda t: cut_at_word(t, 40), "sentences": lambda t: t,
}


def load(half: str, per_lang: int, lingua_only: bool) -> dict[str, list[str]]:
    samples = {}
    for path in sorted(FLORES_DIR.glob("*.dev")):
        code, script = path.stem.split("_")
        if not _lid176_writes(code, FLORES_SCRIPT_ALIASES.get(script, script)):
            continue
        if lingua_only and normalize_lang(code) not in lingua_languages():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()[0 if half == "tune" else 1::2]
        random.Random(0).shuffle(lines)
        samples[path.stem] = lines[:per_lang]
    return samples


def lingua_alone() -> Predictor:
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    back = {lang: code for code, lang in _lingua_codes().items()}
    return lambda text: back.get(detector.detect_language_of(text), "und")


def measure(name: str, predict: Predictor, samples: dict[str, list[str]], half: str) -> None:
    accuracy: dict[str, list[float]] = collections.defaultdict(list)
    started, count = time.perf_counter(), 0
    for stem, lines in samples.items():
        code = normalize_lang(stem.split("_")[0])
        for bucket, cut in BUCKETS.items():
            texts = [cut(line) for line in lines]
            count += len(texts)
            accuracy[bucket].append(sum(predict(text) == code for text in texts) / len(texts))
    seconds = time.perf_counter() - started
    cells = "  ".join(f"{b} {sum(v) / len(v):.3f}" for b, v in accuracy.items())
    print(f"{half:6s} {name:32s} {cells}  ({count / seconds:.0f} texts/s incl. model loading)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=("tune", "report"), default="report")
    parser.add_argument("--per-lang", type=int, default=20)
    parser.add_argument("--lingua-only", action="store_true", help="only lingua's languages (and lingua alone)")
    args = parser.parse_args()
    if not FLORES_DIR.is_dir():
        print(f"no FLORES data at {FLORES_DIR}; skipping")
        return 0
    samples = load(args.half, args.per_lang, args.lingua_only)
    print(f"{len(samples)} FLORES sets, {args.per_lang} lines each, {args.half.upper()} half")
    before = LanguageIdentifier(use_lingua=False, use_langdetect=True, vouch=False)
    measure("curate before (lid.176+langdetect)", lambda t: before.identify(t).code, samples, args.half)
    ensemble = LanguageIdentifier()
    measure("curate ensemble", lambda t: ensemble.identify(t).code, samples, args.half)
    if args.lingua_only:
        measure("lingua alone (high accuracy)", lingua_alone(), samples, args.half)
    return 0


if __name__ == "__main__":
    sys.exit(main())
