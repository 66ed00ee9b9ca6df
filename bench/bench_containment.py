"""Partial copies on real text: Jaccard dedup vs containment dedup, per language.

    PYTHONPATH=. python bench/bench_containment.py [--per-language 20] [--seed 0]

Data: XQuAD (../shared/data/xquad/xquad.*.json relative to the repo root: 240 Wikipedia
paragraphs in 48 articles, the same paragraphs translated into 12 languages). One run over
all languages at once (so cross-language pairs are tested too):

- sources: every paragraph of every article except one held out per article;
- copy-paste: for `--per-language` sources, a passage of 2-4 consecutive sentences
  (40-80 words; 80-200 characters in Chinese and Thai) copied verbatim;
- revised: for as many *other* sources, such a passage lightly revised (seeded RNG): case
  and punctuation changed, 5-10% of the words replaced by words of the same article, plus one
  of: 1-3 words dropped, 1-2 adjacent pairs swapped, one clause deleted;
- independent: the sources themselves (other paragraphs of the same article share its names
  and terms but are not copies) and passages cut from the held-out paragraphs (same article,
  same shape as a copy-paste answer, but their source is not in the corpus).

Methods: curate's staged dedup (DedupSignatures -> DedupBuckets -> DedupClusters ->
DedupFilter, run by datatrove's LocalPipelineExecutor) without and with containment, and plain
datasketch MinHashLSH at 0.7 and 0.8 (no verification, as datatrove/datasketch/rensa ship it)
over the same 5-gram shingle hashes. A copy counts as caught when it is removed into its
source's cluster; every removed independent text is a false positive (cross-language ones,
e.g. a list of team names kept in Latin script by several translations, are counted apart).
Before the runs, exact containment over all pairs maps the threshold trade-off (the staged
runs match it: winnowing loses no candidate here).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from curation.steps import SideOutputs
from filters.dedup import (
    ContainmentConfig,
    DedupFilter,
    DedupSignatures,
    effective_threshold,
)
from filters.dedup_buckets import DedupBuckets
from filters.dedup_clusters import deciding_pipelines
from filters.minhash import MinHashConfig
from filters.shingles import shingle_hashes

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "xquad"
UNSPACED = {"zh", "th"}  # passages measured in characters, edits made on characters
WORDS_RANGE = (40, 80)  # passage size in words (spaced scripts) ...
CHARS_RANGE = (80, 200)  # ... or in characters (unspaced)
SENTENCES_RANGE = (2, 4)
MAX_COPY_SHARE = 0.75  # a copy is at most this share of its source
KINDS = ("copy", "revised", "source", "independent")
# Sentence ends: ".!?", Greek question marks (";" and U+037E), Hindi danda, Arabic "؟".
SENTENCE_END = {"zh": re.compile(r"(?<=[。！？])"), "th": re.compile(r"\s+"),
                "el": re.compile(r"(?<=[.!?;\u037e])\s+")}
DEFAULT_SENTENCE_END = re.compile(r"(?<=[.!?।؟])\s+")
CLAUSE_SEPARATOR = re.compile(r"[,，、،]")
PUNCTUATION_SWAPS = {",": ";", ".": "!", "，": "、", "。": "！", "،": ",", "؟": "?", "।": "."}


@dataclass
class Doc:
    id: str
    text: str
    lang: str
    kind: str  # one of KINDS
    source: str | None = None  # copies: the id of the source they were taken from
    edit: str = ""  # revised copies: the edit made besides replacing words ...
    replaced: float = 0.0  # ... and the share of words replaced


# ----------------------------------------------------------------------------- data


def load_articles(path: Path) -> list[list[str]]:
    """The paragraphs (contexts) of each article, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [[paragraph["context"].strip() for paragraph in article["paragraphs"]] for article in data]


def sentences(text: str, lang: str) -> list[str]:
    # Thai has no sentence punctuation: spaces separate sentences and phrases, so a "sentence"
    # there is a space-separated chunk (the passage size is what matters, in characters).
    pattern = SENTENCE_END.get(lang, DEFAULT_SENTENCE_END)
    return [part.strip() for part in pattern.split(text) if part.strip()]


def size(text: str, lang: str) -> int:
    return len(text) if lang in UNSPACED else len(text.split())


def join(parts: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(parts)


def passage(text: str, lang: str, rng: random.Random) -> str | None:
    """2-4 consecutive sentences of `text` within the size range, from a random start; None
    if the paragraph has no such run (too short, or sentences too long)."""
    parts = sentences(text, lang)
    low, high = CHARS_RANGE if lang in UNSPACED else WORDS_RANGE
    # Thai chunks are short phrases: allow more of them, the character range is the real bound.
    most = 12 if lang == "th" else SENTENCES_RANGE[1]
    starts = list(range(len(parts)))
    rng.shuffle(starts)
    for start in starts:
        for count in range(SENTENCES_RANGE[0], most + 1):
            if start + count > len(parts):
                break
            candidate = join(parts[start : start + count], lang)
            if size(candidate, lang) > high:
                break
            if size(candidate, lang) >= low:
                return candidate
    return None


def tokens(text: str, lang: str) -> list[str]:
    """Edit units: characters in unspaced scripts, whitespace-separated words elsewhere."""
    return list(text) if lang in UNSPACED else text.split()


def article_vocabulary(paragraphs: list[str], lang: str) -> list[str]:
    return sorted({token for paragraph in paragraphs for token in tokens(paragraph, lang) if _is_wordlike(token)})


def _is_wordlike(token: str) -> bool:
    return any(char.isalpha() for char in token)


def revise(text: str, lang: str, vocabulary: list[str], rng: random.Random) -> tuple[str, str, float]:
    """A lightly revised copy (what a student does to a copy-paste answer), the name of its
    extra edit and the share of words replaced."""
    edit = rng.choice((_drop_words, _swap_words, _delete_clause))
    rate = rng.uniform(0.05, 0.10)
    text = _replace_words(edit(text, lang, rng), lang, vocabulary, rng, rate)
    return _restyle(text, rng), edit.__name__.strip("_"), rate


def _edited(units: list[str], lang: str) -> str:
    return "".join(units) if lang in UNSPACED else " ".join(units)


def _word_positions(units: list[str]) -> list[int]:
    return [i for i, unit in enumerate(units) if _is_wordlike(unit)]


def _drop_words(text: str, lang: str, rng: random.Random) -> str:
    units = tokens(text, lang)
    for position in sorted(rng.sample(_word_positions(units), rng.randint(1, 3)), reverse=True):
        del units[position]
    return _edited(units, lang)


def _swap_words(text: str, lang: str, rng: random.Random) -> str:
    units = tokens(text, lang)
    for _ in range(rng.randint(1, 2)):
        position = rng.randrange(len(units) - 1)
        units[position], units[position + 1] = units[position + 1], units[position]
    return _edited(units, lang)


def _delete_clause(text: str, lang: str, rng: random.Random) -> str:
    # A clause between two commas, at most a third of the passage; none (Thai has no commas)
    # -> drop words instead.
    pieces = CLAUSE_SEPARATOR.split(text)
    separators = CLAUSE_SEPARATOR.findall(text)
    inner = [i for i in range(1, len(pieces) - 1) if len(pieces[i]) <= len(text) / 3]
    if not inner:
        return _drop_words(text, lang, rng)
    gone = rng.choice(inner)
    kept = [piece + (separators[i] if i < len(separators) else "") for i, piece in enumerate(pieces) if i != gone]
    return "".join(kept)


def _replace_words(text: str, lang: str, vocabulary: list[str], rng: random.Random, rate: float) -> str:
    units = tokens(text, lang)
    positions = _word_positions(units)
    for position in rng.sample(positions, max(1, round(rate * len(positions)))):
        replacement = rng.choice(vocabulary)
        while replacement == units[position] and len(vocabulary) > 1:
            replacement = rng.choice(vocabulary)
        units[position] = replacement
    return _edited(units, lang)


def _restyle(text: str, rng: random.Random) -> str:
    # Case and punctuation: invisible to dedup's normalization, but real copies have them.
    text = "".join(PUNCTUATION_SWAPS.get(char, char) if rng.random() < 0.5 else char for char in text)
    return text[0].swapcase() + text[1:] if text else text


def build_language(lang: str, articles: list[list[str]], per_language: int, rng: random.Random) -> list[Doc]:
    """Sources, copies, revised copies and held-out independent passages of one language."""
    docs, pool, held_out = [], [], []
    for a, paragraphs in enumerate(articles):
        hold = rng.randrange(len(paragraphs)) if len(paragraphs) > 1 else -1
        vocabulary = article_vocabulary(paragraphs, lang)
        for p, text in enumerate(paragraphs):
            if p == hold:
                held_out.append(text)
                continue
            doc = Doc(f"{lang}-a{a}-p{p}", text, lang, "source")
            docs.append(doc)
            pool.append((doc, vocabulary))
    rng.shuffle(pool)
    copies = _copies(pool, lang, "copy", per_language, rng)
    revised = _copies(pool, lang, "revised", per_language, rng, exclude={doc.source for doc in copies})
    independent = []
    for i, text in enumerate(held_out):
        cut = passage(text, lang, rng)
        if cut is not None:
            independent.append(Doc(f"{lang}-held{i}", cut, lang, "independent"))
    return docs + copies + revised + independent


def _copies(pool: list[tuple[Doc, list[str]]], lang: str, kind: str, count: int, rng: random.Random,
            exclude: frozenset | set = frozenset()) -> list[Doc]:
    made = []
    for source, vocabulary in pool:
        if len(made) == count:
            break
        if source.id in exclude:
            continue
        cut = passage(source.text, lang, rng)
        if cut is None or size(cut, lang) > MAX_COPY_SHARE * size(source.text, lang):
            continue  # a copy of (nearly) the whole paragraph is a plain duplicate, not a partial copy
        if kind == "copy":
            made.append(Doc(f"{source.id}-{kind}", cut, lang, kind, source.id))
        else:
            text, edit, rate = revise(cut, lang, vocabulary, rng)
            made.append(Doc(f"{source.id}-{kind}", text, lang, kind, source.id, edit, rate))
    return made


def build_corpus(per_language: int, seed: int) -> list[Doc]:
    docs = []
    for path in sorted(DATA.glob("xquad.*.json")):
        lang = path.name.split(".")[1]
        docs += build_language(lang, load_articles(path), per_language, random.Random(f"{seed}-{lang}"))
    # Copies must not sit next to their sources in the stream (nor in the same input file).
    random.Random(seed).shuffle(docs)
    return docs


# ----------------------------------------------------------------------------- methods

# What a method did: {removed doc id: ids of the other docs in its cluster}.
Removed = dict[str, set[str]]


def run_staged(docs: list[Doc], containment: ContainmentConfig | None, folder: Path) -> Removed:
    """curate's four dedup stages, 2 tasks over 4 input files (docs spread over ranks)."""
    inputs = folder / "input"
    inputs.mkdir(parents=True)
    for part in range(4):
        with open(inputs / f"part-{part}.jsonl", "w", encoding="utf-8") as handle:
            for doc in docs[part::4]:
                # `lang` stands for what the LID step writes before dedup in a recipe
                handle.write(json.dumps({"id": doc.id, "text": doc.text, "lang": doc.lang}, ensure_ascii=False) + "\n")
    work_dir, config = str(folder / "dedup"), MinHashConfig()
    stages = [
        ([JsonlReader(str(inputs)), DedupSignatures(work_dir, config, containment)], 2),
        *[(steps, n) for _, steps, n in deciding_pipelines(DedupBuckets(work_dir, config, containment=containment), 2)],
        ([JsonlReader(str(inputs)), DedupFilter(work_dir, SideOutputs(rejects=JsonlWriter(str(folder / "rejects")))),
          JsonlWriter(str(folder / "kept"))], 2),
    ]
    # datatrove logs every task's stats to stderr; keep them in a file (an exception still shows).
    with open(folder / "executor.log", "w") as log, contextlib.redirect_stderr(log):
        for i, (pipeline, tasks) in enumerate(stages):
            LocalPipelineExecutor(pipeline, tasks=tasks, workers=1, logging_dir=str(folder / f"logs{i}")).run()
    removed_ids = {doc.id for doc in _read(folder / "rejects")}
    members: dict[str, set[str]] = {}
    for doc in [*_read(folder / "kept"), *_read(folder / "rejects")]:
        if "dup_cluster" in doc.metadata:
            members.setdefault(doc.metadata["dup_cluster"], set()).add(doc.id)
    mates = {doc_id: group for group in members.values() for doc_id in group}
    return {doc_id: mates[doc_id] - {doc_id} for doc_id in removed_ids}


def _read(folder: Path):
    reader = JsonlReader(str(folder))
    for path in sorted(folder.glob("*.jsonl*")):
        yield from reader.read_file(path.name)


def run_datasketch(docs: list[Doc], shingles: list[np.ndarray], threshold: float) -> Removed:
    """MinHashLSH candidates, unverified (as peers ship it), clustered; the doc with the most
    shingles of each cluster survives, as in curate."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    minhashes = []
    for i, hashes in enumerate(shingles):
        minhash = MinHash(num_perm=128)
        minhash.update_batch([value.tobytes() for value in hashes])
        minhashes.append(minhash)
        lsh.insert(str(i), minhash)
    parent = list(range(len(docs)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, minhash in enumerate(minhashes):
        for j in map(int, lsh.query(minhash)):
            root_i, root_j = find(i), find(j)
            parent[max(root_i, root_j)] = min(root_i, root_j)
    groups: dict[int, list[int]] = {}
    for i in range(len(docs)):
        groups.setdefault(find(i), []).append(i)
    removed = {}
    for group in groups.values():
        survivor = max(group, key=lambda i: (len(shingles[i]), -i))
        ids = {docs[i].id for i in group}
        removed.update({docs[i].id: ids - {docs[i].id} for i in group if i != survivor})
    return removed


# ----------------------------------------------------------------------------- exact containment


@dataclass
class Containment:
    """Exact containment of every doc, independent of any candidate generation."""

    sizes: np.ndarray  # shingles per doc
    in_source: np.ndarray  # copies: |C ∩ S| / |C| with S their source; NaN for other docs
    best: np.ndarray  # max |D ∩ E| / |D| over docs E at least as large (that would keep E, drop D)
    container: np.ndarray  # that E (-1: none shares a shingle)


def measure_containment(docs: list[Doc], shingles: list[np.ndarray]) -> Containment:
    postings: dict[int, list[int]] = {}  # inverted index: shingle -> docs
    for i, hashes in enumerate(shingles):
        for value in hashes.tolist():
            postings.setdefault(value, []).append(i)
    sizes = np.array([len(hashes) for hashes in shingles])
    best, container = np.zeros(len(docs)), np.full(len(docs), -1)
    for i, hashes in enumerate(shingles):
        shared = Counter(j for value in hashes.tolist() for j in postings[value] if j != i)
        larger = {j: count for j, count in shared.items() if sizes[j] >= sizes[i]}
        if larger:
            container[i] = max(larger, key=larger.get)
            best[i] = larger[container[i]] / sizes[i]
    index = {doc.id: i for i, doc in enumerate(docs)}
    in_source = np.full(len(docs), np.nan)
    for i, doc in enumerate(docs):
        if doc.source is not None:
            source = shingles[index[doc.source]]
            in_source[i] = len(np.intersect1d(shingles[i], source, assume_unique=True)) / sizes[i]
    return Containment(sizes, in_source, best, container)


# ----------------------------------------------------------------------------- report


def _is_independent(doc: Doc) -> bool:
    return doc.kind in ("source", "independent")


def score(docs: list[Doc], removed: Removed, lang: str | None) -> list[str]:
    """Table cells: copies and revised copies caught (removed into their source's cluster),
    independent texts removed (of which cross-language: no doc of their language in the cluster)."""
    chosen = [doc for doc in docs if lang is None or doc.lang == lang]
    language = {doc.id: doc.lang for doc in docs}
    cells = []
    for kind in ("copy", "revised"):
        group = [doc for doc in chosen if doc.kind == kind]
        caught = sum(doc.source in removed.get(doc.id, ()) for doc in group)
        cells.append(f"{caught}/{len(group)}")
    independent = [doc for doc in chosen if _is_independent(doc)]
    flagged = [doc for doc in independent if doc.id in removed]
    cross = sum(all(language[mate] != doc.lang for mate in removed[doc.id]) for doc in flagged)
    cells.append(f"{len(flagged)}/{len(independent)} ({len(flagged) / len(independent):.1%})")
    cells.append(str(cross) if cross else "")
    return cells


def print_table(docs: list[Doc], results: dict[str, Removed]) -> None:
    languages = sorted({doc.lang for doc in docs})
    for name, removed in results.items():
        print(f"\n{name}")
        print(f"  {'lang':5s} {'copy-paste':>11s} {'revised':>9s} {'false positives':>16s} {'of which cross-lang':>20s}")
        for lang in [*languages, None]:
            copy, revised, false_positives, cross = score(docs, removed, lang)
            print(f"  {lang or 'all':5s} {copy:>11s} {revised:>9s} {false_positives:>16s} {cross:>20s}")
    print("\n  (caught = removed, clustered with its source; false positive = an independent text removed)")


def print_distribution(docs: list[Doc], measured: Containment) -> None:
    print("\nexact containment (copies: in their source; others: best over docs at least as large)")
    print(f"  {'kind':12s} {'n':>5s} {'min':>5s} {'p10':>5s} {'p50':>5s} {'p90':>5s} {'max':>5s}  median shingles")
    for kind in KINDS:
        mask = np.array([doc.kind == kind for doc in docs])
        values = measured.in_source[mask] if kind in ("copy", "revised") else measured.best[mask]
        low, p10, p50, p90, high = np.percentile(values, [0, 10, 50, 90, 100])
        print(f"  {kind:12s} {mask.sum():5d} {low:5.2f} {p10:5.2f} {p50:5.2f} {p90:5.2f} {high:5.2f}  "
              f"{np.median(measured.sizes[mask]):.0f}")
    revised = [i for i, doc in enumerate(docs) if doc.kind == "revised"]
    edits = ("drop_words", "swap_words", "delete_clause")
    groups = {name: [i for i in revised if docs[i].edit == name] for name in edits}
    groups["5-7.5% replaced"] = [i for i in revised if docs[i].replaced < 0.075]
    groups["7.5-10% replaced"] = [i for i in revised if docs[i].replaced >= 0.075]
    print("  revised, median containment by edit: " + ", ".join(
        f"{name} {np.median(measured.in_source[group]):.2f} (n={len(group)})" for name, group in groups.items()))
    independent = [i for i, doc in enumerate(docs) if _is_independent(doc)]
    print("  independent texts most contained in another doc:")
    for i in sorted(independent, key=lambda i: -measured.best[i])[:4]:
        print(f"    {docs[i].id:14s} ({measured.sizes[i]:3d} shingles) in {docs[measured.container[i]].id:14s} "
              f"{measured.best[i]:.2f}")


def print_sweep(docs: list[Doc], measured: Containment, grid: list[ContainmentConfig]) -> None:
    """What verification would accept with perfect candidates, for other (threshold,
    min_shingles): a cheap map of the trade-off; the pipeline runs confirm chosen points."""
    kinds = np.array([doc.kind for doc in docs])
    independent = np.isin(kinds, ("source", "independent"))
    cross = np.array([c >= 0 and docs[c].lang != doc.lang for doc, c in zip(docs, measured.container, strict=True)])
    print("\ncontainment verification alone, exact sets (copy/revised in their source; FP: independent texts)")
    print(f"  {'threshold':>9s} {'min_shingles':>12s} {'copy-paste':>10s} {'revised':>8s} {'FP':>4s} {'cross-lang':>10s}")
    for config in grid:
        needed = np.array([effective_threshold(int(size), config) for size in measured.sizes])
        copies = (measured.in_source >= needed)[kinds == "copy"].mean()
        revised = (measured.in_source >= needed)[kinds == "revised"].mean()
        flagged = independent & (measured.best >= needed)
        print(f"  {config.threshold:9.2f} {config.min_shingles:12d} {copies:10.1%} {revised:8.1%} "
              f"{flagged.sum():4d} {(flagged & cross).sum():10d}")


SWEEP = [ContainmentConfig(threshold=t, min_shingles=m) for t in (0.7, 0.6, 0.5, 0.45, 0.4) for m in (8, 16, 24)]
ALTERNATIVES = {
    "threshold 0.5": ContainmentConfig(threshold=0.5),
    "threshold 0.5, min_shingles 16": ContainmentConfig(threshold=0.5, min_shingles=16),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=20, help="copy-paste and revised copies per language")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not any(DATA.glob("xquad.*.json")):
        print(f"no XQuAD data under {DATA.resolve()}: nothing to measure")
        sys.exit(0)
    start = time.perf_counter()
    docs = build_corpus(args.per_language, args.seed)
    counts = Counter(doc.kind for doc in docs)
    print(f"{len(docs)} docs in {len({doc.lang for doc in docs})} languages: "
          + ", ".join(f"{counts[kind]} {kind}" for kind in KINDS))
    shingles = [shingle_hashes(doc.text, MinHashConfig().ngram) for doc in docs]
    measured = measure_containment(docs, shingles)
    print_distribution(docs, measured)
    print_sweep(docs, measured, SWEEP)

    methods = {"curate, Jaccard only (near 0.75)": None, "curate + ContainmentConfig() defaults": ContainmentConfig()}
    methods.update({f"curate + containment {name}": config for name, config in ALTERNATIVES.items()})
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for i, (name, containment) in enumerate(methods.items()):
            results[name] = run_staged(docs, containment, Path(folder) / f"run{i}")
    for threshold in (0.7, 0.8):
        results[f"datasketch MinHashLSH {threshold} (128 perms, unverified)"] = run_datasketch(docs, shingles, threshold)
    print_table(docs, results)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
