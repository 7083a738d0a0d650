"""Charts drawn by hand: block-character bars and sparklines for the terminal, inline SVG for HTML.

Nothing here loads a font, a script or a file: the SVG is plain markup that a
browser renders offline and prints as vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"

# Print-friendly colours that stay apart in greyscale (dark, mid, light).
MET = "#2e7d32"
LATE = "#f9a825"
BREACHED = "#c62828"
OPEN = "#90a4ae"
UNKNOWN = "#d7dde0"
BAR = "#37648c"
LINE = "#1a1a1a"


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of block characters, to 1/8 of a cell; empty for zero."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = round(min(value / maximum, 1.0) * width * 8)
    if eighths == 0:
        eighths = 1  # a non-zero value always shows
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def sparkline(
    values: Sequence[float | None], *, low: float | None = None, high: float | None = None
) -> str:
    """One character per value, a gap for None.

    Scaled from ``low`` to ``high`` (default: the lowest and highest value), so
    shares can be drawn on a fixed 0..1 scale and counts from zero.
    """
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    bottom = min(present) if low is None else low
    top = max(present) if high is None else high
    span = top - bottom
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span <= 0:
            out.append(_SPARKS[-1] if v > 0 else _SPARKS[0])
        else:
            share = min(max((v - bottom) / span, 0.0), 1.0)
            out.append(_SPARKS[round(share * (len(_SPARKS) - 1))])
    return "".join(out)


# -- SVG ---------------------------------------------------------------------------------


def _svg(width: int, height: int, body: Sequence[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{escape(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
        f'fill="{fill}">{tip}</rect>'
    )


def svg_hbars(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = 640,
    value_text: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one per (label, value), largest scale first as given."""
    row_h, gap, right = 18, 4, 70
    # room for the longest label (about 6 px a character at 11 px), within reason
    left = min(max(max((len(_clip(n, 36)) for n, _ in rows), default=0) * 6 + 12, 60), 240)
    height = max(len(rows), 1) * (row_h + gap) + gap
    maximum = max((v for _, v in rows), default=0)
    span = width - left - right
    body = []
    for i, (name, value) in enumerate(rows):
        y = gap + i * (row_h + gap)
        w = span * value / maximum if maximum > 0 else 0
        shown = value_text[i] if value_text else f"{value:g}"
        body.append(_text(left - 6, y + row_h - 5, _clip(name, 36), anchor="end"))
        body.append(_rect(left, y, w, row_h, BAR, f"{name}: {shown}"))
        body.append(_text(left + w + 4, y + row_h - 5, shown))
    return _svg(width, height, body, label)


def svg_stacked_columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    label: str,
    line: Sequence[float | None] | None = None,
    line_name: str = "",
    width: int = 640,
) -> str:
    """Stacked columns per period (series: name, values, colour), with an optional 0..1 line."""
    height, top, bottom, left, right = 240, 28, 42, 40, 44
    plot_h = height - top - bottom
    n = max(len(labels), 1)
    slot = (width - left - right) / n
    col_w = min(slot * 0.7, 48)
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    maximum = max(totals, default=0) or 1
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{LINE}" stroke-width="1"/>',
        _text(left - 4, top + 4, str(maximum), anchor="end", size=10),
        _text(left - 4, top + plot_h, "0", anchor="end", size=10),
    ]
    for i, name in enumerate(labels):
        x = left + i * slot + (slot - col_w) / 2
        y: float = top + plot_h
        for sname, values, colour in series:
            h = plot_h * values[i] / maximum
            y -= h
            body.append(_rect(x, y, col_w, h, colour, f"{name} {sname}: {values[i]}"))
        if n <= 16 or i % max(n // 12, 1) == 0:
            body.append(_text(x + col_w / 2, top + plot_h + 14, name, anchor="middle", size=10))
    if line is not None:
        body.extend(_line(line, left, top, plot_h, slot, width - right))
    body.extend(_legend([(s[0], s[2]) for s in series], line_name, left, height - 10))
    return _svg(width, height, body, label)


def _line(
    values: Sequence[float | None],
    left: float,
    top: float,
    plot_h: float,
    slot: float,
    x_axis: float,
) -> list[str]:
    points = [
        (left + i * slot + slot / 2, top + plot_h * (1 - v))
        for i, v in enumerate(values)
        if v is not None
    ]
    out = [
        _text(x_axis + 4, top + 4, "100%", size=10),
        _text(x_axis + 4, top + plot_h, "0%", size=10),
    ]
    if len(points) >= 2:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for x, y in points:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"/>')
    return out


def _legend(items: Sequence[tuple[str, str]], line_name: str, x: float, y: float) -> list[str]:
    out = []
    for name, colour in items:
        out.append(_rect(x, y - 9, 10, 10, colour))
        out.append(_text(x + 14, y, name, size=10))
        x += 24 + 7 * len(name)
    if line_name:
        out.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 14:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{LINE}" stroke-width="2"/>'
        )
        out.append(_text(x + 18, y, line_name, size=10))
    return out


def svg_columns(
    labels: Sequence[str], values: Sequence[int], *, label: str, width: int = 320
) -> str:
    """Small single-series columns (e.g. defects per month of one version)."""
    return svg_stacked_columns(labels, [(label, values, BAR)], label=label, width=width)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
