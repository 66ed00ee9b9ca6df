"""The report: histogram sketches (fast) and the page as a real headless Chromium renders it (slow).

The browser test renders a realistic stats.json (every section, hostile strings included), then
checks the DOM Chromium built: each chart's data-* numbers and its bars equal stats.json, no
script ran or was present, nothing outside the file was referenced or requested (Chromium's
NetLog), and the screenshot is not blank.
"""

from __future__ import annotations

import html
import json
import math
import random
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from curation.distributions import (
    LengthRecorder,
    ScoreRecorder,
    ValueSketch,
    bin_counts,
    build_distributions,
    histogram,
    quantize,
    score_histogram,
)
from curation.report import MAX_SCORE_PANELS, drops_beyond_thresholds, render_report

HOSTILE = '<script>alert("x")</script> & <img src="http://example.invalid/x.png">'


# --- sketches and histograms ---------------------------------------------------------------------

def test_values_are_quantized_to_two_significant_figures():
    assert [quantize(v) for v in (0.01234, 347, -2.34, 0, 9.96, 1e-7 * 4.56)] == [0.012, 350, -2.3, 0, 10, 4.6e-7]
    sketch = ValueSketch()
    for v in (0.01234, 0.0121, 347, 352):
        sketch.add(v)
    assert sketch.counts == {0.012: 2, 350.0: 2} and sketch.count == 4


def test_merging_per_task_sketches_equals_one_pass():
    rng = random.Random(1)
    values = [rng.lognormvariate(0, 2) * rng.choice((1, -1)) for _ in range(5000)]
    whole, parts = ValueSketch(), [ValueSketch() for _ in range(4)]
    for i, v in enumerate(values):
        whole.add(v)
        parts[i % 4].add(v)
    merged = ValueSketch()
    for part in parts:
        merged.merge(ValueSketch.from_json(json.loads(json.dumps(part.to_json()))))
    assert merged == whole and merged.count == 5000
    assert histogram(merged) == histogram(whole)


def test_distinct_keys_stay_bounded_whatever_the_input_size():
    rng = random.Random(2)
    sketch = ValueSketch()
    for _ in range(100_000):
        sketch.add(10 ** rng.uniform(-3, 3))  # six decades
    assert sketch.count == 100_000
    assert len(sketch.counts) <= 6 * 90 + 1  # two significant figures: 90 mantissas per decade
    assert len(json.dumps(sketch.to_json())) < 10_000


def test_nan_and_infinities_are_counted_apart():
    sketch = ValueSketch()
    for v in (1.0, float("nan"), float("inf"), -math.inf, 2.0):
        sketch.add(v)
    assert (sketch.count, sketch.nan, sketch.posinf, sketch.neginf) == (2, 1, 1, 1)
    assert ValueSketch.from_json(sketch.to_json()) == sketch
    h = score_histogram(sketch, None, {"min": 1.5})
    assert sum(h["kept"]) == 2 and h["nonfinite"] == {"kept": 3, "dropped": 0}


def test_thresholds_widen_the_edges_and_outliers_go_to_the_edge_bins():
    kept, dropped = ValueSketch(), ValueSketch()
    for v in range(50, 60):
        kept.add(v / 10)  # 5.0 .. 5.9
    dropped.add(1000.0)  # one outlier, beyond the 99.5th percentile
    h = score_histogram(kept, dropped, {"min": 3.0, "max": 10.0}, bins=20)
    assert h["edges"][0] == 3.0 and h["edges"][-1] >= 10.0 and len(h["edges"]) == 21
    assert sum(h["kept"]) == 10 and h["dropped"][-1] == 1
    assert h["thresholds"] == {"min": 3.0, "max": 10.0}
    assert bin_counts(kept, [0, 1, 2]) == [0, 10]  # everything above the top edge lands in the last bin
    far = score_histogram(kept, None, {"min": 3.0, "max": 100_000.0})  # would squash the data into one bin
    assert far["edges"][0] == 3.0 and far["edges"][-1] < 10 and far["thresholds"]["max"] == 100_000.0
    one = ValueSketch()
    one.add(7)  # a single value gets a window of its own size around it
    assert histogram(one, bins=4) == {"edges": [3.5, 5.25, 7.0, 8.75, 10.5], "counts": [0, 0, 1, 0]}


def test_recorders_merge_per_task_files_into_the_stats_section():
    tasks = [ScoreRecorder("quality"), ScoreRecorder("quality")]
    for task in tasks:
        task.declare("quality.words", min=3, lang="*")
        task.declare("quality.words", min=1, lang="zho_Hani")
    for i, (lang, words) in enumerate([("swh_Latn", 2), ("swh_Latn", 30), ("zho_Hani", 2), ("swh_Latn", 40)]):
        tasks[i % 2].record(lang, {"quality.words": words, "quality.note": "n/a"}, kept=words >= 3 or lang == "zho_Hani")
    lengths = LengthRecorder()
    for n in (120, 340, 90):
        lengths.record("sw", n)
    section = build_distributions([t.to_json() for t in tasks], [lengths.to_json()], bins=10)
    words = section["scores"]["quality"]["quality.words"]
    assert set(section["scores"]["quality"]) == {"quality.words"}  # a non-number is not a score
    assert (sum(words["swh_Latn"]["kept"]), sum(words["swh_Latn"]["dropped"])) == (2, 1)
    assert words["swh_Latn"]["thresholds"] == {"min": 3.0} and words["zho_Hani"]["thresholds"] == {"min": 1.0}
    sw = section["lengths"]["sw"]
    assert (sw["unit"], sw["total"], sw["median"], sum(sw["counts"]), len(sw["edges"])) == ("characters", 3, 120.0, 3, 11)


# --- a realistic stats.json ----------------------------------------------------------------------

LANGS = {"swh_Latn": "sw", "yor_Latn": "yo", "hin_Deva": "hi", "zho_Hani": "zh"}
QUALITY = {  # score -> (thresholds, random value)
    "quality.gopher_mean_word_length": ({"min": 3.0, "max": 10.0}, lambda r: r.gauss(5.5, 1.6)),
    "quality.gopher_alpha_ratio": ({"min": 0.7}, lambda r: min(1.0, r.gauss(0.88, 0.08))),
    "quality.gopher_word_count": ({"min": 50.0, "max": 100000.0}, lambda r: r.lognormvariate(5, 1)),
    "quality.fineweb_line_punct_ratio": ({"min": 0.12}, lambda r: r.random()),
    "quality.gopher_dup_line_ratio": ({"max": 0.3}, lambda r: r.random() ** 3),
    "quality.c4_sentences": ({"min": 3.0}, lambda r: float(r.randint(0, 30))),
}


def _entry(n_in: int, kept: int, dropped: dict[str, int] | None = None, quarantined: dict[str, int] | None = None):
    dropped, quarantined = dropped or {}, quarantined or {}
    assert n_in == kept + sum(dropped.values()) + sum(quarantined.values())
    return {"in": n_in, "kept": kept, "dropped": dropped, "quarantined": quarantined}


def _step(stage: str, name: str, by_language: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"in": 0, "kept": 0, "dropped": {}, "quarantined": {}}
    for t in by_language.values():
        total["in"] += t["in"]
        total["kept"] += t["kept"]
        for kind in ("dropped", "quarantined"):
            for reason, n in t[kind].items():
                total[kind][reason] = total[kind].get(reason, 0) + n
    return {"stage": stage, "step": name, **total, "by_language": by_language}


def sample_stats() -> dict[str, Any]:
    """A run over four languages in four scripts that generated and trained, with hostile strings."""
    rng = random.Random(7)
    tasks = [ScoreRecorder("quality"), ScoreRecorder("quality")]
    lid = ScoreRecorder("lid", {"lid.lang_score": {"*": {"min": 0.5}, "yor_Latn": {"min": 0.65}}})
    lengths = LengthRecorder()
    quality: dict[str, dict[str, Any]] = {}
    for lang, folder in LANGS.items():
        kept, dropped = 0, {}
        for i in range(300):
            scores = {name: draw(rng) for name, (_, draw) in QUALITY.items()}
            failed = next((name for name, (t, _) in QUALITY.items()
                           if scores[name] < t.get("min", -math.inf) or scores[name] > t.get("max", math.inf)), None)
            tasks[i % 2].record(lang, scores, kept=failed is None)
            lid.record(lang, {"lid.lang_score": rng.uniform(0.66, 1.0)}, kept=True)
            if failed is None:
                kept += 1
                lengths.record(folder, int(rng.lognormvariate(6.5, 0.7)))
            else:
                reason = failed.removeprefix("quality.")
                dropped[reason] = dropped.get(reason, 0) + 1
        quality[lang] = _entry(300, kept, dropped)
    for task in tasks:
        for name, (thresholds, _) in QUALITY.items():
            task.declare(name, **thresholds)
    lid.record("swh_Latn", {"lid.lang_score": 0.31}, kept=False)
    lengths.record(HOSTILE, 42)
    written = {lang: t["kept"] for lang, t in quality.items()}
    steps = [
        _step("curate", "read", {"und": _entry(1206, 1201, quarantined={"bad_json": 3, HOSTILE: 2})}),
        _step("curate", "lid", {**{lang: _entry(300, 300) for lang in LANGS},
                                "swh_Latn": _entry(301, 300, {"lang_low_score": 1}),
                                "eng_Latn": _entry(1, 0, {"lang_not_kept": 1}),
                                HOSTILE: _entry(0, 0)}),
        _step("curate", "quality", quality),
        _step("curate", "write", {lang: _entry(n, n) for lang, n in written.items()}),
        _step("generate", "generate", {"swh_Latn": _entry(8, 7, {"parse": 1}),
                                       "yor_Latn": _entry(8, 8)}),
        _step("generate", "write_generated", {"swh_Latn": _entry(7, 7), "yor_Latn": _entry(8, 8)}),
    ]
    published = {folder: {"rows": written[lang], "shards": 1, "lang": lang.split("_")[0]} for lang, folder in LANGS.items()}
    published["sw-instruction"] = {"rows": 7, "shards": 1, "lang": "swh"}
    published[HOSTILE] = {"rows": 1, "shards": 1, "lang": "und"}
    loss_curve = [{"step": s, "loss": round(3.1 * math.exp(-s / 9) + 1.6 + 0.05 * math.sin(s), 4)} for s in range(1, 21)]
    return {
        "recipe": f"sample {HOSTILE}",
        "steps": steps,
        "languages": published,
        "funnel": {},
        "confusable_pairs": {"hin~npi": 3},
        "generation": {
            "swh_Latn": {"prompts": 8, "tokens_prompt": 900, "tokens_generated": 1500, "failed": {"parse": 1}},
            "yor_Latn": {"prompts": 8, "tokens_prompt": 870, "tokens_generated": 1400, "failed": {}},
            "_total": {"seconds": 12.3, "tokens_generated": 2900, "generated_tokens_per_second": 235.8},
        },
        "training": {"all": {
            "base": "bundled", "languages": ["sw", "yo"], "train_records": 40, "held_out_records": 5, "max_steps": 20,
            "held_out_loss_before": 2.9132, "held_out_loss_after": 2.1047, "loss_curve": loss_curve,
            "samples_before": {"generated": 8, "judged": 8, "in_target_language": 3, "share": 0.375},
            "samples": {"generated": 8, "judged": 8, "in_target_language": 6, "share": 0.75, "examples": [
                {"prompt": "Eleza jinsi mvua inavyonyesha.", "response": "Mvua hunyesha wakati mvuke wa maji ...",
                 "lang": "swh_Latn", "target": "swh_Latn"},
                {"prompt": HOSTILE, "response": f"{HOSTILE} </blockquote></body>", "lang": "eng_Latn",
                 "target": "yor_Latn"}]},
            "seconds": 42.0}},
        "distributions": build_distributions([t.to_json() for t in tasks] + [lid.to_json()], [lengths.to_json()]),
        "other_counters": {},
        "accounting": {"ok": False, "problems": [f"write [{HOSTILE}]: 1 in but 0 out"]},
        "quarantine": {"total": 5, "by_reason": {"bad_json": 3, HOSTILE: 2}},
    }


def test_an_old_stats_file_without_the_new_sections_still_renders():
    stats = sample_stats()
    for key in ("distributions", "training", "generation", "funnel", "quarantine"):
        del stats[key]
    for step in stats["steps"]:
        del step["by_language"]
    page = render_report(stats)
    assert "Score distributions" not in page and "Training" not in page and "<svg" in page


def test_confidence_decisions_per_language_are_tabled_and_plotted():
    import re

    stats = sample_stats()
    stats["confidence"] = {"swh_Latn": {"in": 40, "kept": 30, "corrected": 4, "low_confidence": 5,
                                        "confidence_failed": 1, "skipped": 2, "uncalibrated": 0},
                           HOSTILE: {"in": 3, "kept": 3, "corrected": 0, "low_confidence": 0,
                                     "confidence_failed": 0, "skipped": 0, "uncalibrated": 3}}
    page = render_report(stats)
    assert "Confidence decisions per language" in page and "<script" not in page
    chart = re.search(r'<svg[^>]*aria-label="confidence decisions per language"[^>]*data-values="([^"]*)"', page)
    assert chart is not None
    plotted = json.loads(html.unescape(chart.group(1)))
    assert plotted["swh_Latn"] == {"kept": 30, "corrected": 4, "low_confidence": 5}
    assert plotted[HOSTILE]["kept"] == 3
    assert "<td class=n>40</td><td class=n>30</td><td class=n>4</td><td class=n>5</td>" in page
    del stats["confidence"]
    assert "Confidence decisions" not in render_report(stats)


def test_everything_from_stats_is_escaped():
    page = render_report(sample_stats())
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;/blockquote&gt;&lt;/body&gt;" in page and "http" not in page.replace("http://example.invalid", "")


# --- the page in a real browser ------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """The elements of a serialized page, each with its attributes, own text and enclosing <svg>."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self.open: list[dict[str, Any]] = []
        self.svg: dict[str, Any] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "svg": self.svg, "children": []}
        self.elements.append(element)
        if self.svg is not None:
            self.svg["children"].append(element)
        if tag == "svg":
            self.svg = element
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open and self.open.pop()["tag"] != tag:
            pass
        if tag == "svg":
            self.svg = None

    def handle_data(self, data):
        if self.open:
            self.open[-1]["text"] += data
        if self.svg is not None:
            self.svg["text"] += data

    def svgs(self, **data: Any) -> list[dict[str, Any]]:
        """The charts whose data-* attributes hold these values (compared as JSON)."""
        return [e for e in self.elements if e["tag"] == "svg" and all(
            f"data-{k.replace('_', '-')}" in e["attrs"] and json.loads(e["attrs"][f"data-{k.replace('_', '-')}"]) == v
            for k, v in data.items())]

    def one_svg(self, **data: Any) -> dict[str, Any]:
        found = self.svgs(**data)
        assert len(found) == 1, f"{len(found)} charts with {data}"
        return found[0]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.fail("the report test needs a headless Chromium: run `apt-get install chromium` (or `make test`)")


def run_chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}", *args,
               page.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def page_requests(net_log: Path) -> list[str]:
    """URLs Chromium requested on behalf of the file:// page (not its own background traffic)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"]
            if e["type"] == start_job and "file://" in e.get("params", {}).get("network_isolation_key", "")]


def png_size_and_ink(png: Path) -> tuple[int, int, float]:
    """(width, height, share of filtered pixel bytes that are neither 0 nor 255): a blank page has none."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, 1 - (raw.count(0) + raw.count(255)) / len(raw)


@pytest.mark.slow
def test_report_renders_in_headless_chromium_with_the_runs_numbers(tmp_path):
    stats = sample_stats()
    page = tmp_path / "report.html"
    page.write_text(render_report(stats), encoding="utf-8")
    dom = Dom(run_chromium(tmp_path, page, f"--log-net-log={tmp_path / 'net.json'}", "--dump-dom").stdout)

    # self-contained: no script, nothing embedded from elsewhere, nothing requested
    tags = {e["tag"] for e in dom.elements}
    assert {"svg", "rect", "polyline", "title"} <= tags
    assert not tags & {"script", "img", "iframe", "object", "embed", "link", "base", "foreignobject"}
    for e in dom.elements:
        assert not {"src", "href", "xlink:href", "srcset", "action"} & set(e["attrs"]), e
        assert not any(k.startswith("on") for k in e["attrs"]), e
        assert "url(" not in e["attrs"].get("style", "")
    assert page_requests(tmp_path / "net.json") == []
    # hostile strings arrive as text
    assert dom.elements[0]["tag"] == "html" and any(e["tag"] == "blockquote" and e["text"] == HOSTILE
                                                    for e in dom.elements)
    assert any(e["tag"] == "li" and HOSTILE in e["text"] for e in dom.elements)

    # published records per config
    published = dom.one_svg(values={f: v["rows"] for f, v in stats["languages"].items()})
    assert {r["attrs"]["data-label"]: int(r["attrs"]["data-value"]) for r in published["children"] if r["tag"] == "rect"} \
        == {f: v["rows"] for f, v in stats["languages"].items()}

    # the funnel: every step and language, in / kept / dropped per reason
    for step in stats["steps"]:
        for lang, t in step["by_language"].items():
            chart = dom.one_svg(stage=step["stage"], step=step["step"], lang=lang)
            assert [json.loads(chart["attrs"][f"data-{k}"]) for k in ("in", "kept", "dropped", "quarantined")] == \
                [t["in"], t["kept"], t["dropped"], t["quarantined"]]
            bars = {r["attrs"]["data-series"]: int(r["attrs"]["data-value"]) for r in chart["children"] if r["tag"] == "rect"}
            assert bars.get("kept", 0) == t["kept"] and bars.get("dropped", 0) == sum(t["dropped"].values())

    # length histograms: numbers, bar heights, median label
    for config, h in stats["distributions"]["lengths"].items():
        chart = dom.one_svg(config=config, edges=h["edges"], counts=h["counts"], total=h["total"], median=h["median"])
        assert_bars_match(chart, {"records": h["counts"]})
        assert f"median {h['median']:,.0f}" in chart["text"]

    # score distributions: the panels with drops first, thresholds drawn where stats.json says
    panels = [(step, score, lang, h) for step, by_score in stats["distributions"]["scores"].items()
              for score, by_lang in by_score.items() for lang, h in by_lang.items()]
    shown = [p for p in panels if dom.svgs(step=p[0], score=p[1], lang=p[2])]
    assert len(panels) > MAX_SCORE_PANELS and len(shown) == MAX_SCORE_PANELS
    assert f"{len(panels) - MAX_SCORE_PANELS} more panels" in "".join(e["text"] for e in dom.elements if e["tag"] == "p")
    omitted = [p for p in panels if p not in shown]
    # first the panels whose own threshold explains the most drops (dropped records beyond the line)
    assert min(drops_beyond_thresholds(p[3]) for p in shown) >= max(drops_beyond_thresholds(p[3]) for p in omitted)
    assert max(drops_beyond_thresholds(p[3]) for p in shown) > 0
    for step, score, lang, h in shown:
        chart = dom.one_svg(step=step, score=score, lang=lang, edges=h["edges"], kept=h["kept"], dropped=h["dropped"],
                            thresholds=h["thresholds"])
        assert_bars_match(chart, {"kept": h["kept"], "dropped": h["dropped"]})
        lines = {e["attrs"]["data-threshold"]: float(e["attrs"]["data-value"]) for e in chart["children"]
                 if "data-threshold" in e["attrs"]}
        assert lines == h["thresholds"]
        for kind, value in h["thresholds"].items():
            assert f"{kind} {value:,.0f}" in chart["text"] or f"{kind} {value:.3g}" in chart["text"]

    # generation: tokens per language and throughput
    generation = {k: v for k, v in stats["generation"].items() if k != "_total"}
    dom.one_svg(values={lang: {"prompt": g["tokens_prompt"], "generated": g["tokens_generated"]}
                        for lang, g in sorted(generation.items())})
    assert "2,900 tokens generated in 12.3 s (235.8 tok/s)" in "".join(e["text"] for e in dom.elements)

    # training: the loss curve as plotted, held-out loss before and after, the share in the target language
    training = stats["training"]["all"]
    chart = dom.one_svg(adapter="all", loss_curve=training["loss_curve"],
                        held_out_loss_before=training["held_out_loss_before"],
                        held_out_loss_after=training["held_out_loss_after"])
    line = next(e for e in chart["children"] if e["tag"] == "polyline")
    points = [tuple(map(float, p.split(","))) for p in line["attrs"]["points"].split()]
    assert len(points) == len(training["loss_curve"])
    steps, losses = [p["step"] for p in training["loss_curve"]], [p["loss"] for p in training["loss_curve"]]
    # x grows with the step and y falls as the loss grows, both linearly (up to the 2-decimal rounding)
    x_scale = (points[-1][0] - points[0][0]) / (steps[-1] - steps[0])
    y_scale = (points[-1][1] - points[0][1]) / (losses[-1] - losses[0])
    assert x_scale > 0 and y_scale < 0
    for (x, y), step, loss in zip(points, steps, losses, strict=True):
        assert x == pytest.approx(points[0][0] + x_scale * (step - steps[0]), abs=0.02)
        assert y == pytest.approx(points[0][1] + y_scale * (loss - losses[0]), abs=0.02)
    assert [float(e["attrs"]["data-value"]) for e in chart["children"] if e["tag"] == "circle"] == \
        [training["held_out_loss_before"], training["held_out_loss_after"]]
    assert "held-out before 2.913" in chart["text"] and "held-out after 2.105" in chart["text"]
    assert any(e["tag"] == "td" and e["text"].startswith("38% (3 of 8)") for e in dom.elements)
    assert any(e["tag"] == "td" and "75% (6 of 8)" in e["text"] for e in dom.elements)

    # and it paints: a tall screenshot that is not blank
    shot = tmp_path / "report.png"
    run_chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,3000", "--hide-scrollbars")
    width, height, ink = png_size_and_ink(shot)
    assert (width, height) == (1200, 3000) and ink > 0.01, (width, height, ink)


def assert_bars_match(chart: dict[str, Any], series: dict[str, list[int]]) -> None:
    """Each bin's bars carry the counts stats.json holds, and stacked heights are proportional to them."""
    bars = [e for e in chart["children"] if e["tag"] == "rect"]
    for name, counts in series.items():
        drawn = {int(b["attrs"]["data-bin"]): int(b["attrs"]["data-count"]) for b in bars if b["attrs"]["data-series"] == name}
        assert drawn == {i: c for i, c in enumerate(counts) if c}, name
    per_bin: dict[int, float] = {}
    for b in bars:
        per_bin[int(b["attrs"]["data-bin"])] = per_bin.get(int(b["attrs"]["data-bin"]), 0) + float(b["attrs"]["height"])
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(next(iter(series.values()))))]
    tallest = max(per_bin.values())
    for i, total in enumerate(totals):
        assert per_bin.get(i, 0) == pytest.approx(tallest * total / max(totals), abs=0.05), i
