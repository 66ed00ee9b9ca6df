"""report.html: the numbers of stats.json as a page that opens offline.

One self-contained file (inline CSS and SVG, no scripts, nothing fetched): published records per
config, the funnel per stage and language (in, kept, dropped and quarantined per reason), drops
per reason, quarantine, length histograms per config, score distributions with the thresholds
drawn, generation token counts and throughput, and training curves when the run trained. Every
figure is drawn from stats.json, so the page and the file can never disagree; sections whose
keys an older stats.json lacks are left out.

Each chart is an `<svg role="img">` with a `<title>` and `data-*` attributes holding the numbers
it plots (JSON), and every bar carries `data-count`/`data-value`, so a test (or a reader's tool)
can check the picture against stats.json.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from curation.workfiles import atomic_write_text

BAR_WIDTH = 420
MAX_LABEL_CHARS = 40  # longer bar labels are cut (the full text is the label's tooltip)
MAX_SCORE_PANELS = 24
EXAMPLES_SHOWN = 2
KEPT, DROPPED, QUARANTINED, MUTED, ACCENT = "#4a78b5", "#c0504d", "#8d6e63", "#9e9e9e", "#e08a00"
CORRECTED = "#6a9f4a"
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:62rem;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #ddd} h3{margin:1rem 0 .3rem;font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums} .ok{color:#1a7f37} .bad{color:#c62828}
.note{color:#666;font-size:.9rem} .why{font-size:11px;color:#c0504d} .why.q{color:#8d6e63}
.grid{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem} figure{margin:0} figcaption{font-size:13px;max-width:300px}
.key span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:middle}
blockquote{margin:.3rem 0 .6rem;padding:.3rem .6rem;border-left:3px solid #ddd;white-space:pre-wrap;font-size:.9rem}
svg text{font-size:12px;font-family:system-ui,sans-serif} svg text.s{font-size:10px}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _data(value: Any) -> str:
    """A value for a data-* attribute: JSON, escaped (floats keep every digit, so tests compare exactly)."""
    return _esc(json.dumps(value, ensure_ascii=False))


def _fmt(x: float | int | None) -> str:
    """A number for a label: thousands separators for whole numbers, three figures otherwise."""
    if x is None:
        return "-"
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _svg(width: int, height: int, label: str, **data: Any) -> str:
    """An opening <svg> with its accessible name and its numbers as data-* attributes."""
    attrs = "".join(f' data-{k.replace("_", "-")}="{_data(v)}"' for k, v in data.items())
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_esc(label)}"{attrs}><title>{_esc(label)}</title>')


def _key(*entries: tuple[str, str]) -> str:
    return '<p class="key note">' + "".join(f'<span style="background:{c}"></span>{_esc(n)}' for n, c in entries) + "</p>"


def _bars(rows: list[tuple[str, list[int]]], colors: list[str], label: str, series: list[str] | None = None) -> str:
    """Horizontal bars: one group per label, one bar per series, each labelled with its value."""
    if not rows:
        return "<p>none</p>"
    series = series or ["value"]
    peak = max(max(values) for _, values in rows) or 1
    group = 16 * len(series) + 6
    longest = max(len(name) for name, _ in rows)
    room = min(MAX_LABEL_CHARS, longest)
    left = round(room * 7) + 12  # about 7 px a character at 12 px
    parts = [_svg(left + BAR_WIDTH + 70, group * len(rows) + 4, label,
                  values={name: dict(zip(series, values, strict=True)) if len(series) > 1 else values[0]
                          for name, values in rows})]
    for i, (name, values) in enumerate(rows):
        top = 4 + group * i
        shown = _esc(name) if len(name) <= room else f"{_esc(name[:room - 1])}&hellip;<title>{_esc(name)}</title>"
        parts.append(f'<text x="0" y="{top + 13 + 8 * (len(series) - 1)}">{shown}</text>')
        for j, (value, color) in enumerate(zip(values, colors, strict=False)):
            y, width = top + 16 * j, max(1, round(BAR_WIDTH * value / peak))
            parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="14" fill="{color}" '
                         f'data-label="{_esc(name)}" data-series="{_esc(series[j])}" data-value="{value}"></rect>'
                         f'<text x="{left + 6 + width}" y="{y + 12}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bar_chart(rows: list[tuple[str, int]], color: str, label: str) -> str:
    return _bars([(name, [value]) for name, value in rows], [color], label)


def _steps_table(steps: list[dict[str, Any]]) -> str:
    rows = ["<table><tr><th>step</th><th>in</th><th>kept</th><th>dropped</th><th>quarantined</th></tr>"]
    for s in steps:
        dropped = ", ".join(f"{_esc(r)} {n:,}" for r, n in sorted(s["dropped"].items(), key=lambda x: -x[1]))
        quarantined = ", ".join(f"{_esc(r)} {n:,}" for r, n in s["quarantined"].items())
        rows.append(f"<tr><td>{_esc(s['stage'])}/{_esc(s['step'])}</td><td class=n>{s['in']:,}</td>"
                    f"<td class=n>{s['kept']:,}</td><td>{dropped or '-'}</td><td>{quarantined or '-'}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _funnel_cell(stage: str, step: str, lang: str, t: dict[str, Any], widest: int) -> str:
    """One language at one step: a bar as wide as its `in` (relative to the language's widest),
    split into kept, dropped and quarantined, then the reasons."""
    dropped, quarantined = sum(t["dropped"].values()), sum(t["quarantined"].values())
    scale = 110 / max(widest, 1)
    label = f"{lang} at {stage}/{step}: {t['in']:,} in, {t['kept']:,} kept, {dropped:,} dropped, {quarantined:,} quarantined"
    parts = [_svg(112, 12, label, stage=stage, step=step, lang=lang, **{"in": t["in"]}, kept=t["kept"],
                  dropped=t["dropped"], quarantined=t["quarantined"])]
    x = 0.0
    for name, n, color in (("kept", t["kept"], KEPT), ("dropped", dropped, DROPPED),
                           ("quarantined", quarantined, QUARANTINED)):
        if n:
            parts.append(f'<rect x="{x:.2f}" y="1" width="{n * scale:.2f}" height="10" fill="{color}" '
                         f'data-series="{name}" data-value="{n}"></rect>')
            x += n * scale
    parts.append("</svg>")
    why = "".join(f'<div class=why>&minus;{n:,}&nbsp;{_esc(r)}</div>' for r, n in sorted(t["dropped"].items(), key=lambda x: -x[1]))
    why += "".join(f'<div class="why q">&minus;{n:,}&nbsp;{_esc(r)} (quarantined)</div>' for r, n in t["quarantined"].items())
    return f"<td>{''.join(parts)}<div class=n>{t['kept']:,} of {t['in']:,}</div>{why}</td>"


def _funnel_section(steps: list[dict[str, Any]]) -> str:
    """Per stage, a table of languages by steps: in, kept, dropped and quarantined per reason."""
    parts = ["<h2>Funnel per stage and language</h2>", _key(("kept", KEPT), ("dropped", DROPPED),
                                                            ("quarantined", QUARANTINED)),
             '<p class="note">Each bar is as wide as the records that entered the step, relative to the '
             "language's largest step; the numbers read kept of in, then the drops per reason.</p>"]
    for stage in dict.fromkeys(s["stage"] for s in steps):
        stage_steps = [s for s in steps if s["stage"] == stage]
        widest: dict[str, int] = {}
        for s in stage_steps:
            for lang, t in s.get("by_language", {}).items():
                widest[lang] = max(widest.get(lang, 0), t["in"])
        head = "".join(f"<th>{_esc(s['step'])}</th>" for s in stage_steps)
        rows = [f"<h3>stage {_esc(stage)}</h3><table><tr><th>language</th>{head}</tr>"]
        for lang in sorted(widest, key=lambda lang: (-widest[lang], lang)):
            cells = "".join(_funnel_cell(stage, s["step"], lang, s["by_language"][lang], widest[lang])
                            if lang in s.get("by_language", {}) else "<td></td>" for s in stage_steps)
            rows.append(f"<tr><td>{_esc(lang)}</td>{cells}</tr>")
        parts.append("".join(rows) + "</table>")
    return "".join(parts)


def _histogram(edges: list[float], series: list[tuple[str, list[int], str]], label: str,
               thresholds: dict[str, float] | None = None, median: float | None = None, unit: str = "",
               **data: Any) -> str:
    """Vertical bars over `edges`, series stacked, with dashed threshold lines and a median marker."""
    width, height, left, right, top, bottom = 300, 172, 44, 290, 30, 134
    bins = len(edges) - 1
    totals = [sum(counts[i] for _, counts, _ in series) for i in range(bins)]
    peak = max(totals, default=0) or 1
    span = (edges[-1] - edges[0]) or 1
    bar = (right - left) / bins

    def x_of(value: float) -> float:
        return left + (right - left) * min(1.0, max(0.0, (value - edges[0]) / span))

    extra = {k: v for k, v in (("thresholds", thresholds), ("median", median)) if v is not None}
    parts = [_svg(width, height, label, edges=edges, **data, **extra),
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"></line>',
             f'<text class=s x="{left - 4}" y="{top + 8}" text-anchor="end">{peak:,}</text>',
             f'<text class=s x="{left - 4}" y="{bottom}" text-anchor="end">0</text>']
    for i in range(bins):
        y = float(bottom)
        for name, counts, color in series:
            if counts[i]:
                h = round(counts[i] / peak * (bottom - top), 2)
                y -= h
                parts.append(f'<rect x="{left + i * bar + 0.5:.2f}" y="{y:.2f}" width="{bar - 1:.2f}" height="{h}" '
                             f'fill="{color}" data-series="{name}" data-bin="{i}" data-count="{counts[i]}">'
                             f'<title>{_fmt(edges[i])} to {_fmt(edges[i + 1])}: {counts[i]:,} {name}</title></rect>')
    for row, (kind, value) in enumerate((k, v) for k, v in (thresholds or {}).items() if v is not None):
        x, text_y = x_of(value), 10 + 11 * row
        anchor, shift = ("start", 3) if x < (left + right) / 2 else ("end", -3)
        # a threshold far outside the data is drawn at the edge, pointing the way to it
        text = f"{_esc(kind)} {_fmt(value)}"
        text = f"&larr; {text}" if value < edges[0] else f"{text} &rarr;" if value > edges[-1] else text
        parts.append(f'<line x1="{x:.2f}" y1="{text_y - 8}" x2="{x:.2f}" y2="{bottom}" stroke="#222" '
                     f'stroke-dasharray="4 3" data-threshold="{_esc(kind)}" data-value="{value}"></line>'
                     f'<text class=s x="{x + shift:.2f}" y="{text_y}" text-anchor="{anchor}">{text}</text>')
    if median is not None:
        x = x_of(median)
        anchor, shift = ("start", 3) if x < (left + right) / 2 else ("end", -3)
        parts.append(f'<line x1="{x:.2f}" y1="{top - 10}" x2="{x:.2f}" y2="{bottom}" stroke="{ACCENT}" '
                     f'stroke-dasharray="2 2" data-median="{median}"></line>'
                     f'<text class=s x="{x + shift:.2f}" y="{top - 4}" text-anchor="{anchor}">median {_fmt(median)}</text>')
    parts.append(f'<text class=s x="{left}" y="{bottom + 14}">{_fmt(edges[0])}</text>'
                 f'<text class=s x="{right}" y="{bottom + 14}" text-anchor="end">{_fmt(edges[-1])}</text>'
                 f'<text class=s x="{(left + right) / 2}" y="{bottom + 30}" text-anchor="middle">{_esc(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _lengths_section(lengths: dict[str, dict[str, Any]]) -> str:
    if not lengths:
        return ""
    figures = []
    for config, h in sorted(lengths.items()):
        label = f"{config}: length of {h['total']:,} records in {h['unit']}, median {_fmt(h['median'])}"
        svg = _histogram(h["edges"], [("records", h["counts"], KEPT)], label, median=h["median"], unit=h["unit"],
                         config=config, counts=h["counts"], total=h["total"])
        figures.append(f"<figure>{svg}<figcaption><b>{_esc(config)}</b>: {h['total']:,} records, "
                       f"median {_fmt(h['median'])} {_esc(h['unit'])}</figcaption></figure>")
    return ("<h2>Lengths of published records</h2><p class=note>The outer bins also hold the values beyond "
            "the 0.5th and 99.5th percentiles.</p><div class=grid>" + "".join(figures) + "</div>")


def drops_beyond_thresholds(h: dict[str, Any]) -> int:
    """Dropped records in bins wholly below the minimum or wholly above the maximum (a bin that
    starts at the maximum holds values equal to it, which pass)."""
    thresholds = h.get("thresholds") or {}
    low, high = thresholds.get("min"), thresholds.get("max")
    edges = h["edges"]
    return sum(n for i, n in enumerate(h["dropped"])
               if (low is not None and edges[i + 1] <= low) or (high is not None and edges[i] > high))


def _scores_section(scores: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> str:
    """Kept and dropped per score bin, thresholds dashed; the panels whose threshold explains most drops first
    (at most MAX_SCORE_PANELS)."""
    panels = [(step, score, lang, h) for step, by_score in scores.items() for score, by_lang in by_score.items()
              for lang, h in by_lang.items()]
    if not panels:
        return ""
    # A record one rule dropped is "dropped" in every score of that step; the panels worth a look are
    # those whose own threshold explains drops: dropped records beyond the dashed line come first.
    panels.sort(key=lambda p: (-drops_beyond_thresholds(p[3]), -sum(p[3]["dropped"]), p[0], p[1], p[2]))
    figures = []
    for step, score, lang, h in panels[:MAX_SCORE_PANELS]:
        kept, dropped = sum(h["kept"]), sum(h["dropped"])
        thresholds = {k: v for k, v in (h.get("thresholds") or {}).items() if v is not None}
        bounds = ", ".join(f"{k} {_fmt(v)}" for k, v in thresholds.items()) or "no threshold"
        label = f"{step} {score} [{lang}]: {kept:,} kept, {dropped:,} dropped; {bounds}"
        svg = _histogram(h["edges"], [("kept", h["kept"], KEPT), ("dropped", h["dropped"], DROPPED)], label,
                         thresholds=thresholds, step=step, score=score, lang=lang, kept=h["kept"],
                         dropped=h["dropped"])
        name = score if score.startswith(f"{step}.") else f"{step}: {score}"  # scores are usually named step.measure
        nonfinite = h.get("nonfinite")
        extra = f"; not finite: {nonfinite.get('kept', 0):,} kept, {nonfinite.get('dropped', 0):,} dropped" if nonfinite else ""
        figures.append(f"<figure>{svg}<figcaption><b>{_esc(name)}</b> &middot; {_esc(lang)}: "
                       f"{kept:,} kept, {dropped:,} dropped{extra}</figcaption></figure>")
    omitted = len(panels) - len(figures)
    note = (f"<p class=note>{omitted:,} more panels (fewer drops their threshold explains) are not shown; "
            "stats.json holds them all.</p>"
            if omitted else "")
    return ("<h2>Score distributions</h2>" + _key(("kept", KEPT), ("dropped", DROPPED))
            + "<p class=note>Dashed lines are the thresholds the step applied; panels whose threshold "
            "dropped the most records come first.</p>"
            + "<div class=grid>" + "".join(figures) + "</div>" + note)


CONFIDENCE_COLUMNS = (("in", "in"), ("kept", "kept as given"), ("corrected", "corrected"),
                      ("low_confidence", "dropped: low confidence"), ("confidence_failed", "dropped: engine failed"),
                      ("skipped", "skipped (no prompt/response)"), ("uncalibrated", "ranked (too few to calibrate)"))


def _confidence_section(confidence: dict[str, dict[str, int]]) -> str:
    """What the confidence step decided, per language: a table and kept/corrected/dropped bars."""
    if not confidence:
        return ""
    head = "".join(f"<th>{_esc(title)}</th>" for _, title in CONFIDENCE_COLUMNS)
    rows = [f"<table><tr><th>language</th>{head}</tr>"]
    for lang, row in sorted(confidence.items()):
        cells = "".join(f"<td class=n>{row.get(key, 0):,}</td>" for key, _ in CONFIDENCE_COLUMNS)
        rows.append(f"<tr><td>{_esc(lang)}</td>{cells}</tr>")
    rows.append("</table>")
    bars = _bars([(lang, [row["kept"], row["corrected"], row["low_confidence"]])
                  for lang, row in sorted(confidence.items())], [KEPT, CORRECTED, DROPPED],
                 "confidence decisions per language", ["kept", "corrected", "low_confidence"])
    return ("<h2>Confidence decisions per language</h2>" + "".join(rows)
            + _key(("kept", KEPT), ("corrected", CORRECTED), ("dropped: low confidence", DROPPED)) + bars)


PII_KINDS = ("email", "phone", "ip", "credit_card", "iban", "url")


def _pii_section(pii: dict[str, Any]) -> str:
    """What the pii step found, per language and kind (counts only: the values are never kept)."""
    by_language = pii.get("by_language") or {}
    if not by_language:
        return ""
    head = "".join(f"<th>{kind}</th>" for kind in PII_KINDS)
    rows = [f"<table><tr><th>language</th>{head}<th>records</th></tr>"]
    for lang, row in by_language.items():
        cells = "".join(f"<td class=n>{row.get(kind, 0):,}</td>" for kind in (*PII_KINDS, "records"))
        rows.append(f"<tr><td>{_esc(lang)}</td>{cells}</tr>")
    rows.append("</table>")
    chart = _bar_chart(sorted(pii.get("by_kind", {}).items(), key=lambda x: -x[1]), ACCENT,
                       "personal data found per kind")
    return (f"<h2>Personal data</h2><p>{pii.get('records', 0):,} records held personal data; every value "
            "was redacted (or its record dropped) before anything was written.</p>" + "".join(rows) + chart)


def _decontamination_section(decontamination: dict[str, Any]) -> str:
    """Per benchmark: its index, and the records it contaminated per language (a table and bars)."""
    if not decontamination:
        return ""
    rows = ["<table><tr><th>benchmark</th><th>items</th><th>fields indexed</th><th>too short to index</th>"
            "<th>n-grams</th><th>index bytes</th><th>records dropped</th><th>items found in the data</th></tr>"]
    bars = []
    for name, b in decontamination["benchmarks"].items():
        dropped = sum(b["contaminated"].values())
        rows.append(f"<tr><td>{_esc(name)}</td><td class=n>{b['items']:,}</td><td class=n>{b['fields_indexed']:,}</td>"
                    f"<td class=n>{b['fields_too_short']:,}</td><td class=n>{b['keys']:,}</td>"
                    f"<td class=n>{b['bytes']:,}</td><td class=n>{dropped:,}</td>"
                    f"<td class=n>{b['items_found']:,}</td></tr>")
        bars += [(f"{name} / {lang}", n) for lang, n in sorted(b["contaminated"].items())]
    rows.append("</table>")
    chart = _bar_chart(bars, DROPPED, "records dropped as contaminated per benchmark and language") if bars else ""
    return ("<h2>Decontamination</h2>" + "".join(rows) + chart
            + f"<p class=note>{decontamination['ngram']}-word n-grams (characters of comparable length in unspaced "
              "scripts), after exact-dedup normalization; translated test items are not caught.</p>")


def _generation_section(generation: dict[str, Any]) -> str:
    if not generation:
        return ""
    total = generation.get("_total", {})
    per_lang = sorted((k, v) for k, v in generation.items() if k != "_total")
    rows = ["<table><tr><th>language</th><th>prompts</th><th>prompt tokens</th><th>generated tokens</th>"
            "<th>failures</th><th>counts</th></tr>"]
    for lang, g in per_lang:
        failures = ", ".join(f"{_esc(r)} {n}" for r, n in g["failed"].items()) or "-"
        counts = ", ".join(f"{_esc(r)} {n}" for r, n in sorted((g.get("counts") or {}).items())) or "-"
        rows.append(f"<tr><td>{_esc(lang)}</td><td class=n>{g['prompts']:,}</td>"
                    f"<td class=n>{g['tokens_prompt']:,}</td><td class=n>{g['tokens_generated']:,}</td>"
                    f"<td>{failures}</td><td>{counts}</td></tr>")
    rows.append("</table>")
    speed = total.get("generated_tokens_per_second")
    chart = _bars([(lang, [g["tokens_prompt"], g["tokens_generated"]]) for lang, g in per_lang], [MUTED, KEPT],
                  "tokens per language: prompt and generated", ["prompt", "generated"])
    return ("<h2>Generation</h2>" + "".join(rows) + _key(("prompt tokens", MUTED), ("generated tokens", KEPT))
            + chart + f"<p>{total.get('tokens_generated', 0):,} tokens generated in {total.get('seconds', 0)} s"
            + (f" ({speed} tok/s)" if speed else "")
            + "<span class=note> &middot; wall time of the generate stage: model loading, parsing and "
              "verification included, many small rounds on a small run</span></p>")


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _loss_chart(name: str, t: dict[str, Any]) -> str:
    """The training loss per logged step, with the held-out loss before (step 0) and after as dots."""
    width, height, left, right, top, bottom = 340, 190, 44, 330, 14, 160
    curve = [(p["step"], p["loss"]) for p in t.get("loss_curve", []) if _finite(p.get("loss"))]
    before, after = t.get("held_out_loss_before"), t.get("held_out_loss_after")
    last = max([t.get("max_steps") or 0, *(s for s, _ in curve)]) or 1
    marks = [(0, before, "held-out before"), (last, after, "held-out after")]
    marks = [m for m in marks if _finite(m[1])]
    ys = [loss for _, loss in curve] + [m[1] for m in marks]
    label = (f"{name}: training loss over {len(curve)} logged steps; held-out loss "
             f"{_fmt(before)} before, {_fmt(after)} after")
    parts = [_svg(width, height, label, adapter=name, loss_curve=t.get("loss_curve", []),
                  held_out_loss_before=before, held_out_loss_after=after)]
    if not ys:
        return "".join(parts) + f'<text x="{left}" y="{top + 20}">no losses logged</text></svg>'
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 1

    def xy(step: float, loss: float) -> str:
        y = bottom - (bottom - top) * (loss - low + pad) / (high - low + 2 * pad)
        return f"{left + (right - left) * step / last:.2f},{y:.2f}"

    parts.append(f'<polyline points="{" ".join(xy(s, loss) for s, loss in curve)}" fill="none" stroke="{KEPT}" '
                 f'stroke-width="2" data-points="{len(curve)}"></polyline>')
    for step, loss, what in marks:
        x, y = xy(step, loss).split(",")
        anchor, dx, dy = ("start", 7, 14) if step == 0 else ("end", -7, -8)  # clear of the curve's ends
        parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{ACCENT}" data-value="{loss}"><title>{what}: '
                     f'{loss:.3f}</title></circle><text class=s x="{float(x) + dx:.2f}" y="{float(y) + dy:.2f}" '
                     f'text-anchor="{anchor}">{what} {loss:.3f}</text>')
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"></line>'
                 f'<text class=s x="{left - 4}" y="{top + 8}" text-anchor="end">{_fmt(high)}</text>'
                 f'<text class=s x="{left - 4}" y="{bottom}" text-anchor="end">{_fmt(low)}</text>'
                 f'<text class=s x="{left}" y="{bottom + 14}">step 0</text>'
                 f'<text class=s x="{right}" y="{bottom + 14}" text-anchor="end">step {last:,}</text></svg>')
    return "".join(parts)


def _loss(x: Any) -> str:
    return f"{x:.3f}" if _finite(x) else "-"


def _share(samples: dict[str, Any] | None) -> str:
    if not samples or samples.get("share") is None:
        return "-"
    judged = samples.get("judged", samples.get("generated", 0))
    return f"{samples['share']:.0%} ({samples.get('in_target_language', 0)} of {judged})"


def _training_section(training: dict[str, dict[str, Any]]) -> str:
    if not training:
        return ""
    parts = ["<h2>Training</h2>", _key(("training loss", KEPT), ("held-out loss", ACCENT))]
    for name, t in sorted(training.items()):
        samples = t.get("samples") or {}
        rows = [("base model", _esc(t.get("base", "-"))),
                ("records (train / held out)", f"{t.get('train_records', 0):,} / {t.get('held_out_records', 0):,}"),
                ("steps", _fmt(t.get("max_steps"))),
                ("held-out loss", f"{_loss(t.get('held_out_loss_before'))} &rarr; {_loss(t.get('held_out_loss_after'))}"),
                *([("held-out reward accuracy (DPO)", f"{_loss(t.get('reward_accuracy_before'))} &rarr; "
                    f"{_loss(t.get('reward_accuracy_after'))}"),
                   ("held-out reward margin (DPO)", f"{_loss(t.get('reward_margin_before'))} &rarr; "
                    f"{_loss(t.get('reward_margin_after'))}")] if t.get("method") == "dpo" else []),
                ("answers in the target language", (f"{_share(t['samples_before'])} &rarr; " if "samples_before" in t
                                                    else "") + _share(samples)),
                ("seconds", _fmt(t.get("seconds")))]
        table = "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"
        examples = "".join(
            f"<p class=note>prompt ({_esc(x.get('target') or name)}):</p><blockquote>{_esc(x.get('prompt', ''))}</blockquote>"
            f"<p class=note>answer (identified as {_esc(x.get('lang') or 'unknown')}):</p>"
            f"<blockquote>{_esc(x.get('response', ''))}</blockquote>"
            for x in (samples.get("examples") or [])[:EXAMPLES_SHOWN])
        parts.append(f"<h3>adapter {_esc(name)}</h3><div class=grid><figure>{_loss_chart(name, t)}</figure>"
                     f"<div>{table}</div></div>{examples}")
    return "".join(parts)


def render_report(stats: dict[str, Any]) -> str:
    ok = stats["accounting"]["ok"]
    languages = sorted(((f, v["rows"]) for f, v in stats["languages"].items()), key=lambda x: -x[1])
    drops: dict[str, int] = {}
    for s in stats["steps"]:
        for reason, n in s["dropped"].items():
            drops[f"{s['step']}: {reason}"] = drops.get(f"{s['step']}: {reason}", 0) + n
    quarantine = stats.get("quarantine", {})
    distributions = stats.get("distributions") or {}
    problems = "".join(f"<li>{_esc(p)}</li>" for p in stats["accounting"]["problems"])
    return "".join([
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>curate report: {_esc(stats['recipe'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_esc(stats['recipe'])}</h1>",
        f"<p>{sum(r for _, r in languages):,} records published in {len(languages)} configs. Accounting: "
        + ("<span class=ok>every record kept, dropped with a reason or quarantined</span>" if ok else
           f"<span class=bad>does not add up</span><ul>{problems}</ul>") + "</p>",
        "<h2>Published records per config</h2>", _bar_chart(languages, KEPT, "published records per config"),
        _funnel_section(stats["steps"]),
        "<h2>Records per step</h2>", _steps_table(stats["steps"]),
        "<h2>Drops per reason</h2>",
        _bar_chart(sorted(drops.items(), key=lambda x: -x[1]), DROPPED, "dropped records per step and reason"),
        "<h2>Quarantine</h2>", _bar_chart(sorted(quarantine.get("by_reason", {}).items(), key=lambda x: -x[1]),
                                          QUARANTINED, "quarantined records per reason"),
        _lengths_section(distributions.get("lengths") or {}),
        _pii_section(stats.get("pii") or {}),
        _decontamination_section(stats.get("decontamination") or {}),
        _confidence_section(stats.get("confidence") or {}),
        _scores_section(distributions.get("scores") or {}),
        _generation_section(stats.get("generation") or {}),
        _training_section(stats.get("training") or {}),
        "</body></html>",
    ])


def write_report(output: Path, stats: dict[str, Any] | None = None) -> Path:
    """(Re)build output/report.html from `stats`, by default output/stats.json."""
    if stats is None:
        stats = json.loads((output / "stats.json").read_text(encoding="utf-8"))
    path = output / "report.html"
    atomic_write_text(path, render_report(stats))  # a rebuild killed mid-write keeps the old page
    return path
