"""Plots for the dashboard, drawn as inline SVG and HTML (no library, no script, nothing
fetched).

Charts are horizontal: one row per label, so labels never overlap however many datasets there
are, and the chart grows in height with its rows instead of squeezing them. The SVG scales to
the width of the page; its legend is HTML, which wraps instead of being cut.
"""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Colour-blind-safe palette (Okabe-Ito), one colour per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
# The drawing's own units; the page scales it to its width.
WIDTH = 640
ROW, BAR = 24, 16                 # a row's height and its bar's thickness
TITLE_HEIGHT, AXIS_HEIGHT = 28, 22
CHAR_WIDTH = 7                    # a generous width of one character at FONT_SIZE
FONT_SIZE = 11
TOTAL_SPACE = 48                  # right of the longest bar: its total


def _bar_label(values: Sequence[int | str]) -> str:
    """The label after a bar: its total. With suppressed segments ("<5", each at least 1): the
    suppressed value itself when it is the only one and nothing else is known, else the lower
    bound "≥N"."""
    known = sum(value for value in values if isinstance(value, int))
    hidden = [value for value in values if isinstance(value, str)]
    if not hidden:
        return str(known)
    if len(hidden) == 1 and not known:
        return hidden[0]
    return f"≥{known + len(hidden)}"


def _text(x: float, y: float, content: str, css_class: str, anchor: str = "start") -> str:
    return (f'<text class="{css_class}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
            f'dominant-baseline="middle" font-size="{FONT_SIZE}" font-family="sans-serif">'
            f'{escape(content)}</text>')


def legend(names: Sequence[str]) -> Markup:
    """The HTML legend of a chart's series: a colour swatch and a name each, wrapping."""
    items = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(name)}</li>'
        for colour, name in zip(PALETTE, names, strict=False))
    return Markup(f'<ul class="legend">{items}</ul>')


def bar_chart(title: str, labels: Sequence[str],
              series: dict[str, Sequence[int | str]]) -> Markup:
    """Return a horizontal stacked bar chart in a <figure>: one row per label, one stacked
    segment per series, each bar's total after it, and a legend when there are several series.

    A value may be a suppressed count (a string such as "<5", for a counts-only key): its
    segment is not drawn, and the bar's total says what is known.
    """
    label_width = 12 + CHAR_WIDTH * max((len(label) for label in labels), default=0)
    plot_left, plot_right = label_width, WIDTH - TOTAL_SPACE
    height = TITLE_HEIGHT + ROW * len(labels) + AXIS_HEIGHT
    bars = [[values[i] for values in series.values()] for i in range(len(labels))]
    totals = [sum(value for value in bar if isinstance(value, int)) for bar in bars]
    top = max(totals, default=0) or 1
    scale = (plot_right - plot_left) / top
    axis_y = TITLE_HEIGHT + ROW * len(labels)
    parts = [_text(WIDTH / 2, TITLE_HEIGHT / 2, title, "title", "middle"),
             f'<line x1="{plot_left}" y1="{TITLE_HEIGHT}" x2="{plot_left}" y2="{axis_y}" '
             f'stroke="#444"/>',
             _text(plot_left, axis_y + AXIS_HEIGHT / 2, "0", "tick", "middle"),
             _text(plot_right, axis_y + AXIS_HEIGHT / 2, str(top), "tick", "middle")]
    for index, label in enumerate(labels):
        middle = TITLE_HEIGHT + ROW * index + ROW / 2
        parts.append(_text(plot_left - 6, middle, label, "label", "end"))
        x = plot_left
        for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
            value = values[index]
            length = value * scale if isinstance(value, int) else 0
            if length > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{middle - BAR / 2:.1f}" width="{length:.1f}" '
                    f'height="{BAR}" fill="{colour}"><title>{escape(label)}, {escape(name)}: '
                    f'{value}</title></rect>')
            x += length
        parts.append(_text(x + 4, middle, _bar_label(bars[index]), "total"))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" '
           f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet">'
           f'<title>{escape(title)}</title>{"".join(parts)}</svg>')
    key = legend(list(series)) if len(series) > 1 else ""
    return Markup(f'<figure class="chart">{svg}{key}</figure>')


def heat_table(table_id: str, row_labels: Sequence[str], column_labels: Sequence[str],
               cells: Sequence[Sequence[int | str]]) -> Markup:
    """Return a table of counts shaded by size (the darkest cell is the largest count): rows
    and columns stay readable however many there are. A suppressed count ("<5") is shown as
    text, unshaded."""
    top = max((value for row in cells for value in row if isinstance(value, int)), default=0)
    head = "".join(f"<th>{escape(label)}</th>" for label in column_labels)
    body = []
    for label, row in zip(row_labels, cells, strict=True):
        tds = []
        for value in row:
            shade = (f' style="background:rgba(0,114,178,{0.1 + 0.6 * value / top:.2f})"'
                     if isinstance(value, int) and value and top else "")
            tds.append(f'<td data-count{shade}>{escape(str(value))}</td>')
        body.append(f'<tr data-row="{escape(label)}"><th>{escape(label)}</th>'
                    f'{"".join(tds)}</tr>')
    return Markup(f'<table id="{escape(table_id)}" class="heat"><thead><tr><th></th>{head}'
                  f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
