"""Plots for the dashboard, drawn as inline SVG (no library, no script, nothing fetched)."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Colour-blind-safe palette (Okabe-Ito), one colour per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
WIDTH, HEIGHT = 420, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 40, 36


def _frame(title: str, body: str, legend: str = "") -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<title>{escape(title)}</title>'
        f'<text x="{WIDTH / 2}" y="15" text-anchor="middle" font-size="13" '
        f'font-family="sans-serif">{escape(title)}</text>{body}{legend}</svg>')


def _bar_label(values: Sequence[int | str]) -> str:
    """The label over a bar: its total. With suppressed segments ("<5", each at least 1): the
    suppressed value itself when it is the only one and nothing else is known, else the lower
    bound "≥N"."""
    known = sum(value for value in values if isinstance(value, int))
    hidden = [value for value in values if isinstance(value, str)]
    if not hidden:
        return str(known)
    if len(hidden) == 1 and not known:
        return hidden[0]
    return f"≥{known + len(hidden)}"


def bar_chart(title: str, labels: Sequence[str],
              series: dict[str, Sequence[int | str]]) -> Markup:
    """Return a stacked bar chart: one bar per label, one stacked segment per series.

    A value may be a suppressed count (a string such as "<5", for a counts-only key): its
    segment is not drawn, and the bar's label says what is known.
    """
    plot_width = WIDTH - MARGIN_LEFT - 10
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bars = [[values[i] for values in series.values()] for i in range(len(labels))]
    totals = [sum(value for value in bar if isinstance(value, int)) for bar in bars]
    top = max(totals, default=0) or 1
    slot = plot_width / max(len(labels), 1)
    bar_width = slot * 0.7
    parts = [f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - 10}" '
             f'y2="{HEIGHT - MARGIN_BOTTOM}" stroke="#444"/>',
             f'<text x="{MARGIN_LEFT - 4}" y="{MARGIN_TOP + 4}" text-anchor="end" '
             f'font-size="10" font-family="sans-serif">{top}</text>',
             f'<text x="{MARGIN_LEFT - 4}" y="{HEIGHT - MARGIN_BOTTOM}" text-anchor="end" '
             f'font-size="10" font-family="sans-serif">0</text>']
    for index, label in enumerate(labels):
        x = MARGIN_LEFT + index * slot + (slot - bar_width) / 2
        base = HEIGHT - MARGIN_BOTTOM
        for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
            height = plot_height * values[index] / top if isinstance(values[index], int) else 0
            if height > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{bar_width:.1f}" '
                    f'height="{height:.1f}" fill="{colour}"><title>{escape(label)}, '
                    f'{escape(name)}: {values[index]}</title></rect>')
            base -= height
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" '
            f'text-anchor="middle" font-size="10" font-family="sans-serif">'
            f'{escape(label)}</text>')
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{base - 3:.1f}" text-anchor="middle" '
            f'font-size="10" font-family="sans-serif">{escape(_bar_label(bars[index]))}</text>')
    legend = "" if len(series) < 2 else "".join(
        f'<rect x="{MARGIN_LEFT + i * 80}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{colour}"/><text x="{MARGIN_LEFT + i * 80 + 14}" y="{HEIGHT - 5}" '
        f'font-size="10" font-family="sans-serif">{escape(name)}</text>'
        for i, (colour, name) in enumerate(zip(PALETTE, series, strict=False)))
    return _frame(title, "".join(parts), legend)
