"""Charts as inline SVG, drawn on the server: the page needs no script, no CDN, no network.

Every figure drawn is also written as text in the SVG (<text data-figure=... data-key=...>), so a
reader without sight of the bars, a screen reader or a test reads the same numbers. A suppressed cell
(too few persons to show) is drawn as a hatched stub labelled "<k".
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

PALETTE = ("#1f6f8b", "#e07b39", "#6a994e", "#9d4edd", "#c1121f", "#577590")
FONT = "font-family='system-ui, sans-serif'"
HATCH = (
    "<defs><pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(45)'><rect width='6' height='6' fill='#eee'/>"
    "<line x1='0' y1='0' x2='0' y2='6' stroke='#999' stroke-width='2'/></pattern>"
    "<pattern id='partial' width='6' height='6' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(45)'><rect width='6' height='6' fill='white' fill-opacity='0'/>"
    "<line x1='0' y1='0' x2='0' y2='6' stroke='white' stroke-width='2' stroke-opacity='.7'/></pattern></defs>"
)


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")  # Vietnamese thousands separator
    return escape(str(value))


def _attrs(figure: str, key: str, value: Any, suppressed: bool) -> str:
    shown = "" if value is None else value
    return f"data-figure='{escape(figure)}' data-key='{escape(key)}' data-value='{escape(str(shown))}'" + (
        " data-suppressed='true'" if suppressed else ""
    )


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='{escape(title)}' {FONT} font-size='12'>"
        f"<title>{escape(title)}</title>{HATCH}{body}</svg>"
    )


def legend(series: Sequence[tuple[str, str]], x: float, y: float, columns: int = 1, col_w: int = 300) -> str:
    """Colour keys; a "vi / en" label is written on two lines, English in grey."""
    out = []
    for i, (label, color) in enumerate(series):
        vi, _, en = label.partition(" / ")
        lx, ly = x + (i % columns) * col_w, y + (i // columns) * 30
        out.append(
            f"<rect x='{lx}' y='{ly}' width='10' height='10' fill='{color}'/>"
            f"<text x='{lx + 14}' y='{ly + 9}'>{escape(vi)}</text>"
            + (
                f"<text x='{lx + 14}' y='{ly + 22}' fill='#666' font-size='11'>{escape(en)}</text>"
                if en
                else ""
            )
        )
    return "".join(out)


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Any], Sequence[bool]]],
    title: str,
    min_cell: int | None = None,
    partial: Sequence[bool] = (),
    width: int = 860,
    height: int = 280,
    unit: str = "",
) -> str:
    """Vertical bars: one cluster per category, one bar per series (figure name, label, values, hidden).

    partial[i] marks a category (a month) that is not complete: drawn striped and labelled.
    """
    left, right, top = 48, 12, 16
    legend_rows = (len(series) + 2) // 3
    bottom = 40 + 30 * legend_rows + (28 if any(partial) else 0)
    height += 30 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, _, vs, _ in series for v in vs if v is not None]
    vmax = max([*values, 1])
    n, k = max(len(categories), 1), max(len(series), 1)
    slot = plot_w / n
    bar = max(2.0, min(28.0, (slot - 6) / k))
    out = [f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#555'/>"]
    for t in range(5):
        v = vmax * t / 4
        y = top + plot_h - plot_h * t / 4
        out.append(f"<line x1='{left}' y1='{y:.1f}' x2='{left + plot_w}' y2='{y:.1f}' stroke='#ddd'/>")
        out.append(
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end' fill='#555'>{fmt(round(v), unit)}</text>"
        )
    for i, cat in enumerate(categories):
        x0 = left + i * slot + (slot - bar * k) / 2
        is_partial = i < len(partial) and partial[i]
        for j, (figure, _label, vals, hidden) in enumerate(series):
            v, h = vals[i], hidden[i]
            x = x0 + j * bar
            color = PALETTE[j % len(PALETTE)]
            if h:
                out.append(
                    f"<rect x='{x:.1f}' y='{top + plot_h - 10}' width='{bar - 1:.1f}' height='10' "
                    "fill='url(#hatch)'/>"
                )
                out.append(
                    f"<text x='{x + bar / 2:.1f}' y='{top + plot_h - 13}' text-anchor='middle' font-size='9' "
                    f"{_attrs(figure, cat, None, True)}>&lt;{min_cell}</text>"
                )
                continue
            bh = 0 if v is None else plot_h * float(v) / vmax
            y = top + plot_h - bh
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar - 1:.1f}' height='{bh:.1f}' fill='{color}'"
                + (" fill-opacity='.55'" if is_partial else "")
                + "/>"
            )
            if is_partial and bh > 0:
                out.append(
                    f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar - 1:.1f}' height='{bh:.1f}' "
                    "fill='url(#partial)'/>"
                )
            font = 9 if bar < 14 else 10
            out.append(
                f"<text x='{x + bar / 2:.1f}' y='{y - 3:.1f}' text-anchor='middle' font-size='{font}' "
                f"{_attrs(figure, cat, v, False)}>{fmt(v, unit)}</text>"
            )
        label = escape(cat) + (" *" if is_partial else "")
        out.append(
            f"<text x='{left + i * slot + slot / 2:.1f}' y='{top + plot_h + 16}' text-anchor='middle'"
            + (" font-style='italic'" if is_partial else "")
            + f">{label}</text>"
        )
    out.append(
        legend(
            [(label, PALETTE[j % len(PALETTE)]) for j, (_, label, _, _) in enumerate(series)],
            left,
            top + plot_h + 30,
            columns=3,
            col_w=(width - left) // 3,
        )
    )
    if any(partial):
        out.append(
            f"<text x='{left}' y='{top + plot_h + 44 + 30 * legend_rows}' font-style='italic'>"
            "* tháng chưa đủ (nhạt, gạch chéo) / partial month (light, striped)</text>"
        )
    return _svg(width, height, title, "".join(out))


def pyramid(
    bands: Sequence[str],
    male: Sequence[Any],
    female: Sequence[Any],
    hidden_m: Sequence[bool],
    hidden_f: Sequence[bool],
    title: str,
    min_cell: int | None = None,
    width: int = 520,
    height: int = 240,
) -> str:
    """Population pyramid: age bands bottom (youngest) to top, men left, women right."""
    mid, top, row_h = width / 2, 30, (height - 50) / max(len(bands), 1)
    half = mid - 70
    vmax = max([*(v for v in (*male, *female) if v is not None), 1])
    out = [
        f"<text x='{mid - 40}' y='16' text-anchor='end' font-weight='bold'>Nam / Male</text>",
        f"<text x='{mid + 40}' y='16' font-weight='bold'>Nữ / Female</text>",
    ]
    for i, band in enumerate(bands):
        y = top + (len(bands) - 1 - i) * row_h
        out.append(f"<text x='{mid}' y='{y + row_h / 2 + 4:.1f}' text-anchor='middle'>{escape(band)}</text>")
        for side, vals, hid, color, figure in (
            (-1, male, hidden_m, PALETTE[0], "pyramid_male"),
            (1, female, hidden_f, PALETTE[1], "pyramid_female"),
        ):
            v, h = vals[i], hid[i]
            start = mid + side * 28
            w = 0 if (h or v is None) else half * float(v) / vmax
            x = start - w if side < 0 else start
            if h:
                x = start - 20 if side < 0 else start
                out.append(
                    f"<rect x='{x:.1f}' y='{y + 3:.1f}' width='20' height='{row_h - 6:.1f}' "
                    "fill='url(#hatch)'/>"
                )
            else:
                out.append(
                    f"<rect x='{x:.1f}' y='{y + 3:.1f}' width='{w:.1f}' height='{row_h - 6:.1f}' "
                    f"fill='{color}'/>"
                )
            tx = (x - 4) if side < 0 else (x + (20 if h else w) + 4)
            anchor = "end" if side < 0 else "start"
            text = f"&lt;{min_cell}" if h else fmt(v)
            out.append(
                f"<text x='{tx:.1f}' y='{y + row_h / 2 + 4:.1f}' text-anchor='{anchor}' "
                f"{_attrs(figure, band, None if h else v, h)}>{text}</text>"
            )
    return _svg(width, height, title, "".join(out))


def hbars(
    rows: Sequence[tuple[str, str]],
    series: Sequence[tuple[str, str, Sequence[Any], Sequence[bool]]],
    title: str,
    min_cell: int | None = None,
    width: int = 860,
) -> str:
    """Horizontal bars, one line per (key, label) row, one bar per series."""
    label_w, row_h, top = 380, 14 * max(len(series), 1) + 8, 8
    height = top + row_h * max(len(rows), 1) + 30 * ((len(series) + 1) // 2) + 16
    plot_w = width - label_w - 60
    values = [v for _, _, vs, _ in series for v in vs if v is not None]
    vmax = max([*values, 1])
    out = []
    for i, (key, label) in enumerate(rows):
        y = top + i * row_h
        short = label if len(label) <= 52 else label[:50] + "…"
        out.append(
            f"<text x='{label_w - 8}' y='{y + row_h / 2 + 4:.1f}' text-anchor='end'>"
            f"<title>{escape(key)} {escape(label)}</title>{escape(short)}</text>"
        )
        for j, (figure, _lab, vals, hidden) in enumerate(series):
            v, h = vals[i], hidden[i]
            by = y + 4 + j * 14
            if h:
                out.append(f"<rect x='{label_w}' y='{by}' width='16' height='11' fill='url(#hatch)'/>")
                out.append(
                    f"<text x='{label_w + 20}' y='{by + 10}' font-size='10' "
                    f"{_attrs(figure, key, None, True)}>&lt;{min_cell}</text>"
                )
                continue
            w = 0 if v is None else plot_w * float(v) / vmax
            out.append(
                f"<rect x='{label_w}' y='{by}' width='{w:.1f}' height='11' "
                f"fill='{PALETTE[j % len(PALETTE)]}'/>"
            )
            out.append(
                f"<text x='{label_w + w + 4:.1f}' y='{by + 10}' font-size='10' "
                f"{_attrs(figure, key, v, False)}>{fmt(v)}</text>"
            )
    out.append(
        legend(
            [(lab, PALETTE[j % len(PALETTE)]) for j, (_, lab, _, _) in enumerate(series)],
            label_w,
            top + row_h * max(len(rows), 1) + 6,
            columns=2,
            col_w=(width - label_w) // 2,
        )
    )
    return _svg(width, height, title, "".join(out))


LIGHT_COLORS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "none": "#bdbdbd"}


def light(state: str, label: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='14' height='14' viewBox='0 0 14 14' role='img' "
        f"aria-label='{escape(label)}'><circle cx='7' cy='7' r='6' fill='{LIGHT_COLORS[state]}'/></svg>"
    )
