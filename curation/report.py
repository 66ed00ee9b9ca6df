"""report.html: the numbers of stats.json as a page that opens offline.

One self-contained file (inline CSS and SVG, no scripts, nothing fetched): the record funnel per
step, drops per reason, the language distribution of what was published, quarantine, and
generation usage when the run generated. Every figure is drawn from stats.json, so the page and
the file can never disagree.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

BAR_WIDTH = 420
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums} .ok{color:#1a7f37} .bad{color:#c62828}
svg text{font-size:12px;font-family:system-ui,sans-serif}
"""


def _bar_chart(rows: list[tuple[str, int]], color: str = "#4a78b5") -> str:
    """Horizontal bars, one per (label, value), labelled with the value."""
    if not rows:
        return "<p>none</p>"
    peak = max(value for _, value in rows) or 1
    height = 22 * len(rows) + 6
    parts = [f'<svg width="{BAR_WIDTH + 260}" height="{height}" role="img">']
    for i, (label, value) in enumerate(rows):
        y = 4 + 22 * i
        width = max(1, round(BAR_WIDTH * value / peak))
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(label)}</text>'
                     f'<rect x="170" y="{y}" width="{width}" height="16" fill="{color}"></rect>'
                     f'<text x="{176 + width}" y="{y + 13}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _steps_table(steps: list[dict[str, Any]]) -> str:
    rows = ["<table><tr><th>step</th><th>in</th><th>kept</th><th>dropped</th><th>quarantined</th></tr>"]
    for s in steps:
        dropped = ", ".join(f"{html.escape(r)} {n:,}" for r, n in sorted(s["dropped"].items(), key=lambda x: -x[1]))
        quarantined = ", ".join(f"{html.escape(r)} {n:,}" for r, n in s["quarantined"].items())
        rows.append(f"<tr><td>{html.escape(s['stage'])}/{html.escape(s['step'])}</td><td class=n>{s['in']:,}</td>"
                    f"<td class=n>{s['kept']:,}</td><td>{dropped or '-'}</td><td>{quarantined or '-'}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _funnel_table(funnel: dict[str, dict[str, Any]], steps: list[dict[str, Any]]) -> str:
    names = list(dict.fromkeys(s["step"] for s in steps))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = [f"<table><tr><th>language</th>{head}</tr>"]
    for lang, entry in sorted(funnel.items()):
        cells = "".join(f"<td class=n>{entry['kept_after'].get(n, '')}</td>" for n in names)
        rows.append(f"<tr><td>{html.escape(lang)}</td>{cells}</tr>")
    rows.append("</table>")
    return "".join(rows)


def _generation_section(generation: dict[str, Any]) -> str:
    if not generation:
        return ""
    total = generation.get("_total", {})
    rows = ["<table><tr><th>language</th><th>prompts</th><th>prompt tokens</th><th>generated tokens</th>"
            "<th>failures</th></tr>"]
    for lang, g in sorted((k, v) for k, v in generation.items() if k != "_total"):
        failures = ", ".join(f"{html.escape(r)} {n}" for r, n in g["failed"].items()) or "-"
        rows.append(f"<tr><td>{html.escape(lang)}</td><td class=n>{g['prompts']:,}</td>"
                    f"<td class=n>{g['tokens_prompt']:,}</td><td class=n>{g['tokens_generated']:,}</td>"
                    f"<td>{failures}</td></tr>")
    rows.append("</table>")
    speed = total.get("generated_tokens_per_second")
    return ("<h2>Generation</h2>" + "".join(rows)
            + f"<p>{total.get('tokens_generated', 0):,} tokens generated in {total.get('seconds', 0)} s"
            + (f" ({speed} tok/s)" if speed else "") + "</p>")


def render_report(stats: dict[str, Any]) -> str:
    ok = stats["accounting"]["ok"]
    languages = sorted(((f, v["rows"]) for f, v in stats["languages"].items()), key=lambda x: -x[1])
    drops: dict[str, int] = {}
    for s in stats["steps"]:
        for reason, n in s["dropped"].items():
            drops[f"{s['step']}: {reason}"] = drops.get(f"{s['step']}: {reason}", 0) + n
    quarantine = stats.get("quarantine", {})
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in stats["accounting"]["problems"])
    return "".join([
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>curate report: {html.escape(stats['recipe'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(stats['recipe'])}</h1>",
        f"<p>{sum(r for _, r in languages):,} records published in {len(languages)} configs. Accounting: "
        + ("<span class=ok>every record kept, dropped with a reason or quarantined</span>" if ok else
           f"<span class=bad>does not add up</span><ul>{problems}</ul>") + "</p>",
        "<h2>Published records per config</h2>", _bar_chart(languages),
        "<h2>Records per step</h2>", _steps_table(stats["steps"]),
        "<h2>Drops per reason</h2>", _bar_chart(sorted(drops.items(), key=lambda x: -x[1]), "#c0504d"),
        "<h2>Funnel per language (records kept after each step)</h2>",
        _funnel_table(stats.get("funnel", {}), stats["steps"]),
        "<h2>Quarantine</h2>", _bar_chart(sorted(quarantine.get("by_reason", {}).items(), key=lambda x: -x[1]),
                                          "#8d6e63"),
        _generation_section(stats.get("generation") or {}),
        "</body></html>",
    ])


def write_report(output: Path) -> Path:
    """(Re)build output/report.html from output/stats.json."""
    stats = json.loads((output / "stats.json").read_text(encoding="utf-8"))
    path = output / "report.html"
    path.write_text(render_report(stats), encoding="utf-8")
    return path
