"""Inline SVG charts for the 8D report: drawn here, so the report needs no script, font or network."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

RED, GREY, BLUE, SHADE = "#c0392b", "#95a5a6", "#2c6fbb", "#f6d7d3"
FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" font-size="12"'


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def rate_bars(rows: Sequence[tuple[str, float, float]], *, title: str, width: int = 760) -> str:
    """Horizontal bars: the defect rate with each factor (red) and without it (grey)."""
    label_w, bar_h, gap = 260, 12, 10
    top = 36
    height = top + len(rows) * (2 * bar_h + gap) + 30
    peak = max([max(a, b) for _, a, b in rows] + [1e-9])
    span = width - label_w - 70
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" {FONT}>',
             f'<text x="8" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    y = top
    for label, with_, without in rows:
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="8" y="{y + bar_h + 4}">{escape(short)}</text>')
        for value, colour, dy in ((with_, RED, 0), (without, GREY, bar_h)):
            w = max(span * value / peak, 1)
            parts.append(f'<rect x="{label_w}" y="{y + dy}" width="{w:.1f}" height="{bar_h - 1}" fill="{colour}"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + dy + bar_h - 2}">{_pct(value)}</text>')
        y += 2 * bar_h + gap
    parts.append(f'<rect x="{label_w}" y="{height - 20}" width="10" height="10" fill="{RED}"/>'
                 f'<text x="{label_w + 14}" y="{height - 11}">有该因素 with</text>'
                 f'<rect x="{label_w + 120}" y="{height - 20}" width="10" height="10" fill="{GREY}"/>'
                 f'<text x="{label_w + 134}" y="{height - 11}">无该因素 without</text>')
    parts.append("</svg>")
    return "".join(parts)


def rate_over_time(points: Sequence[tuple[str, float, int]], *, title: str,
                   shade: tuple[int, int] | None = None, width: int = 760, height: int = 260) -> str:
    """Defect rate per period as a line with a dot per period; ``shade``: period indices to highlight."""
    left, right, top, bottom = 50, 16, 34, 46
    inner_w, inner_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    peak = max([r for _, r, _ in points] + [1e-9]) * 1.15
    step = inner_w / max(n - 1, 1)
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" {FONT}>',
             f'<text x="8" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    if shade is not None and points:
        x0 = left + max(shade[0] - 0.5, 0) * step
        x1 = left + min(shade[1] + 0.5, n - 1) * step
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 2):.1f}" height="{inner_h}" '
                     f'fill="{SHADE}"/>')
    for frac in (0.0, 0.5, 1.0):
        y = top + inner_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="4" y="{y + 4:.1f}">{_pct(peak * frac)}</text>')
    coords = [(left + i * step, top + inner_h * (1 - r / peak)) for i, (_, r, _) in enumerate(points)]
    if coords:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
        parts.append(f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    every = max(1, n // 10)
    for i, ((label, rate, count), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{BLUE}">'
                     f'<title>{escape(label)}: {_pct(rate)} (n={count})</title></circle>')
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
