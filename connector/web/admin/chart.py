"""Assignments per rep per day as an inline SVG stacked bar chart, drawn on the server so
the page needs no charting library."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04",
           "#4b5563", "#db2777", "#65a30d")
#: a wide viewBox: the chart spans the page at a readable height
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 1280, 240, 36, 28, 12


def per_rep_per_day(assignments: list[tuple[str, datetime]], days: int,
                    today: date) -> tuple[list[date], list[str], Counter]:
    first = today - timedelta(days=days - 1)
    counts: Counter = Counter()
    for email, when in assignments:
        day = when.date()
        if first <= day <= today:
            counts[(email, day)] += 1
    reps = sorted({email for email, _ in counts})
    return [first + timedelta(days=i) for i in range(days)], reps, counts


def svg(days: list[date], reps: list[str], counts: Counter) -> Markup:
    totals = [sum(counts[(r, d)] for r in reps) for d in days]
    peak = max(totals, default=0) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = slot * 0.7
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 12 + 22 * ((len(reps) + 3) // 4)}"'
             ' role="img" aria-label="Assignments per rep per day">']
    parts.extend(_grid(peak, plot_h, lambda v: str(round(v))))
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h
        for j, rep in enumerate(reps):
            n = counts[(rep, day)]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(rep)}: {n} on '
                         f'{day.isoformat()}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                     f'font-size="11" fill="#6b7280">{day.strftime("%d %b")}</text>')
    for j, rep in enumerate(reps):
        lx, ly = LEFT + (j % 4) * 180, HEIGHT + 4 + 22 * (j // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly + 11}" font-size="12">{escape(rep)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(labels: list[str], series: list[tuple[str, list[float]]], *, title: str,
         unit: str = "") -> Markup:
    """Grouped bars: one group per label, one bar per series (e.g. p50 and p90 speed to
    lead per router, or share against fair share per rep), each with a tooltip, and a
    legend. Drawn like :func:`svg`, so the page stays free of scripts."""
    peak = max((v for _, values in series for v in values if v is not None), default=0) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    bar = slot * 0.7 / max(len(series), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 34}" role="img" '
             f'aria-label="{escape(title)}">']
    parts.extend(_grid(peak, plot_h, _short))
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot + slot * 0.15
        for j, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / peak
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{TOP + plot_h - h:.1f}" '
                         f'width="{bar * 0.92:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)}, '
                         f'{escape(name)}: {_short(value)}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x0 + slot * 0.35:.1f}" y="{HEIGHT - 10}" '
                     f'text-anchor="middle" font-size="11" fill="#6b7280">'
                     f'{escape(label[:28])}</text>')
    for j, (name, _) in enumerate(series):
        lx = LEFT + j * 220
        parts.append(f'<rect x="{lx}" y="{HEIGHT + 8}" width="12" height="12" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{HEIGHT + 19}" font-size="12">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2f}"


def _grid(peak: float, plot_h: float, label) -> list[str]:
    """Horizontal lines at 0, half and the peak, with their values on the left axis."""
    parts = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#6b7280">{label(peak * fraction)}</text>')
    return parts
