"""Bar charts as inline SVG: the stats page needs no JavaScript and no chart library.

Charts scale down to the screen (``max-width: 100%``): a phone 390 px wide shows the whole chart,
never a page wider than itself. ``empty`` is the text of a chart without data, in the reader's
language ("tidak ada data").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

LEFT = 44
BOTTOM = 34
TOP = 12
NO_DATA = "tidak ada data"
FITS_THE_SCREEN = 'style="max-width:100%;height:auto"'


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
    color: str = "#0b5e55",
    percent: bool = False,
    max_labels: int = 10,
    empty: str = NO_DATA,
    value_text: Callable[[float], str] | None = None,
    tips: Sequence[str] | None = None,
) -> Markup:
    """One bar per (label, value); every n-th label on the x axis, every value in a tooltip.

    Only zeros count as no data: an axis of empty bars would look like a measured zero.
    ``value_text`` writes a value the reader's way ("30,8 %"); ``tips`` name each bar in its tooltip
    when the axis label is short (a week's first day on the axis, the whole week in the tooltip).
    """
    default: Callable[[float], str] = (lambda v: f"{v * 100:.1f}%") if percent else (lambda v: f"{v:,.0f}")
    shown = value_text or default
    names = list(tips) if tips is not None and len(tips) == len(points) else [label for label, _ in points]
    plot_width = width - LEFT - 8
    plot_height = height - TOP - BOTTOM
    top = max((value for _, value in points), default=0.0)
    scale = plot_height / top if top > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" {FITS_THE_SCREEN}>',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{width - 8}" y2="{TOP + plot_height}" '
        'stroke="#8a96a3"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{escape(shown(top))}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_height}" text-anchor="end">{escape(shown(0))}</text>',
    ]
    if top <= 0:
        parts.append(f'<text x="{LEFT + 8}" y="{TOP + plot_height // 2}">{escape(empty)}</text>')
    step = plot_width / max(len(points), 1)
    every = max(1, -(-len(points) // max_labels))
    for index, (label, value) in enumerate(points):
        bar_height = value * scale
        x = LEFT + index * step
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{TOP + plot_height - bar_height:.1f}" '
            f'width="{max(step * 0.8, 1):.1f}" height="{bar_height:.1f}" fill="{color}">'
            f"<title>{escape(names[index])}: {escape(shown(value))}</title></rect>"
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{TOP + plot_height + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(
    points: Sequence[tuple[str, float]], *, title: str, width: int = 420, empty: str = NO_DATA
) -> Markup:
    """Ranked bars with their labels, for the top topics (titles of at most ~24 characters)."""
    row = 18
    label_width = 150
    height = max(row * len(points), row) + 8
    top = max((value for _, value in points), default=0.0)
    scale = (width - label_width - 60) / top if top > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" {FITS_THE_SCREEN}>',
        f"<title>{escape(title)}</title>",
    ]
    if not points:
        parts.append(f'<text x="4" y="14">{escape(empty)}</text>')
    for index, (label, value) in enumerate(points):
        y = 4 + index * row
        parts.append(f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_width}" y="{y + 2}" width="{value * scale:.1f}" height="{row - 5}" '
            'fill="#3c7dbf">'
            f"<title>{escape(label)}: {value:,.0f}</title></rect>"
        )
        parts.append(f'<text x="{label_width + value * scale + 4:.1f}" y="{y + 12}">{value:,.0f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
