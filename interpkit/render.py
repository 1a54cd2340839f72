"""Escaped HTML/SVG building blocks and colour scales, shared by Explanation, views and reports.

Every function here takes raw strings (text, tokens, labels) and escapes them itself with
:func:`html.escape`, so callers never build HTML around unescaped text. Nothing uses ids,
scripts, CDNs or external styles: the snippets render the same in JupyterLab, on GitHub and
nbviewer, inside ipywidgets ``HTML`` and in a saved report, and stored notebook outputs stay
stable between runs.

Colour convention (SHAP's): red supports the explained class, blue speaks against it,
white is neutral.

Example
-------
>>> from interpkit import render
>>> render.highlight_words(["a", "<b>great</b>", "film"], [0.0, 0.8, -0.1])  # doctest: +ELLIPSIS
'<span ...>a</span> <span ...>&lt;b&gt;great&lt;/b&gt;</span> ...'
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

#: Saturated ends of the diverging scale (RGB 0-255): supports / opposes the class.
POSITIVE_RGB = (214, 39, 40)
NEGATIVE_RGB = (31, 119, 180)
NEUTRAL_RGB = (255, 255, 255)
#: Fonts and sizes used by every snippet (inline, so nothing depends on the page's CSS).
FONT = "font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 14px"
MUTED = "color: #555; font-size: 12px"
#: A notice the reader must not miss (truncation, unknown tokens).
NOTICE = "color: #b35900; font-size: 12px"


def escape(value: object) -> str:
    """``html.escape(str(value), quote=True)``: safe in element text and in attribute values."""
    return html.escape(str(value), quote=True)


def notice(message: str) -> str:
    """A one-line warning for the reader (escaped), e.g. that the text was truncated."""
    return f'<div class="interpkit-notice" style="{NOTICE}">{escape(message)}</div>'


def format_score(value: float, digits: int = 3) -> str:
    """A short, stable number for display: ``0.123``, ``-4.5e-05``, ``nan``."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.{max(digits - 2, 1)}e}"
    return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def symmetric_vmax(scores: Sequence[float]) -> float:
    """Largest absolute finite score (1.0 when there is none), to centre the scale on zero."""
    finite = [abs(float(s)) for s in scores if math.isfinite(float(s))]
    vmax = max(finite, default=0.0)
    return vmax if vmax > 0 else 1.0


def diverging_rgb(value: float, vmax: float) -> tuple[int, int, int]:
    """RGB (0-255) for ``value`` on a white-centred red/blue scale clipped at ``±vmax``."""
    if not math.isfinite(float(value)) or vmax <= 0:
        return NEUTRAL_RGB
    t = max(-1.0, min(1.0, float(value) / vmax))
    end = POSITIVE_RGB if t >= 0 else NEGATIVE_RGB
    a = abs(t)
    return tuple(round(n + (e - n) * a) for n, e in zip(NEUTRAL_RGB, end, strict=True))


def diverging_color(value: float, vmax: float) -> str:
    """CSS colour ``rgb(r, g, b)`` for ``value`` on the red (for) / blue (against) scale."""
    r, g, b = diverging_rgb(value, vmax)
    return f"rgb({r}, {g}, {b})"


def text_color(rgb: tuple[int, int, int]) -> str:
    """Black or white, whichever reads better on background ``rgb`` (WCAG luminance)."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000" if luminance > 0.22 else "#fff"


def mark(text: str, score: float | None, vmax: float, title: str | None = None) -> str:
    """One escaped ``<span>`` with a background for ``score`` (plain text when ``None``)."""
    if score is None:
        return f'<span style="color: #999">{escape(text)}</span>'
    rgb = diverging_rgb(score, vmax)
    tip = title if title is not None else f"{text}: {format_score(score)}"
    style = (
        f"background-color: rgb({rgb[0]}, {rgb[1]}, {rgb[2]}); color: {text_color(rgb)}; "
        "padding: 1px 2px; border-radius: 3px"
    )
    return f'<span style="{style}" title="{escape(tip)}">{escape(text)}</span>'


def highlight_text(
    text: str,
    spans: Sequence[tuple[int, int]],
    scores: Sequence[float],
    vmax: float | None = None,
    seen_until: int | None = None,
) -> str:
    """The whole ``text`` with each ``text[start:end]`` span coloured by its score.

    Characters between spans are kept as they are (escaped), so the original spacing and
    punctuation survive. Text from ``seen_until`` on (the part a truncating model never saw)
    is greyed out and struck through.
    """
    if len(spans) != len(scores):
        raise ValueError(f"{len(spans)} spans but {len(scores)} scores: pass one score per span")
    vmax = symmetric_vmax(scores) if vmax is None else vmax
    parts, pos = [], 0
    for (start, end), score in zip(spans, scores, strict=True):
        if start < pos:
            raise ValueError("spans must be sorted and must not overlap")
        parts.append(escape(text[pos:start]))
        parts.append(mark(text[start:end], score, vmax))
        pos = end
    rest = text[pos:]
    if seen_until is not None and seen_until < len(text):
        cut = max(seen_until, pos) - pos
        parts.append(escape(rest[:cut]))
        unseen = escape(rest[cut:])
        parts.append(
            f'<span style="color: #999; text-decoration: line-through" '
            f'title="not seen by the model (truncated)">{unseen}</span>'
        )
    else:
        parts.append(escape(rest))
    return "".join(parts)


def highlight_words(
    words: Sequence[str], scores: Sequence[float], vmax: float | None = None, sep: str = " "
) -> str:
    """Words (or tokens) joined by ``sep``, each coloured by its score: for token lists."""
    if len(words) != len(scores):
        raise ValueError(f"{len(words)} words but {len(scores)} scores: pass one score per word")
    vmax = symmetric_vmax(scores) if vmax is None else vmax
    return escape(sep).join(mark(w, s, vmax) for w, s in zip(words, scores, strict=True))


def legend(
    vmax: float, low_label: str = "against", high_label: str = "for", width_px: int = 220
) -> str:
    """A colour bar from ``-vmax`` (blue, ``low_label``) to ``+vmax`` (red, ``high_label``).

    Pure CSS gradient: no SVG ids, so several legends on one page never clash.
    """
    lo, mid, hi = (
        diverging_color(-vmax, vmax),
        diverging_color(0, vmax),
        diverging_color(vmax, vmax),
    )
    bar = (
        f'<span style="display: inline-block; width: {int(width_px)}px; height: 10px; '
        f"vertical-align: middle; border: 1px solid #ccc; "
        f'background: linear-gradient(to right, {lo}, {mid}, {hi})"></span>'
    )
    return (
        f'<div style="{MUTED}; margin: 4px 0">'
        f"{escape(low_label)} {escape(format_score(-vmax))} {bar} "
        f"{escape(format_score(vmax))} {escape(high_label)}</div>"
    )


def probability_table(
    labels: Sequence[str], probabilities: Sequence[float], highlight: Sequence[int] = ()
) -> str:
    """A small table of class names and probabilities with bars; ``highlight`` rows in bold."""
    if len(labels) != len(probabilities):
        raise ValueError(f"{len(labels)} labels but {len(probabilities)} probabilities")
    rows = []
    for i, (label, p) in enumerate(zip(labels, probabilities, strict=True)):
        weight = "bold" if i in set(highlight) else "normal"
        width = max(0.0, min(1.0, float(p))) * 100
        bar = (
            f'<span style="display: inline-block; width: 100px; height: 8px; background: #eee">'
            f'<span style="display: block; width: {width:.1f}%; height: 8px; '
            f'background: #777"></span></span>'
        )
        rows.append(
            f'<tr style="font-weight: {weight}"><td style="padding: 0 8px 0 0">'
            f"{escape(label)}</td><td>{bar}</td>"
            f'<td style="padding: 0 0 0 8px; text-align: right">{escape(format_score(p))}</td>'
            "</tr>"
        )
    return f'<table style="border-collapse: collapse; {MUTED}">{"".join(rows)}</table>'


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    vmax: float | None = None,
    width: int = 360,
    bar_height: int = 16,
    label_width: int = 120,
) -> str:
    """Horizontal bars centred on zero (red right / blue left), one row per label, as SVG.

    Labels are escaped ``<text>`` elements, each row has a ``<title>`` tooltip. No ids.
    """
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    vmax = symmetric_vmax(values) if vmax is None else vmax
    plot_w = max(width - label_width - 50, 20)
    zero = label_width + plot_w / 2
    height = bar_height * len(labels) + 4
    rows = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        v = float(value)
        length = 0.0 if not math.isfinite(v) else min(abs(v) / vmax, 1.0) * plot_w / 2
        x = zero if v >= 0 else zero - length
        y = 2 + i * bar_height
        text_y = y + bar_height * 0.72
        name = str(label) if len(str(label)) <= 18 else str(label)[:17] + "…"
        rows.append(
            f"<g><title>{escape(f'{label}: {format_score(v)}')}</title>"
            f'<text x="{label_width - 6}" y="{text_y:.1f}" text-anchor="end">'
            f"{escape(name)}</text>"
            f'<rect x="{x:.1f}" y="{y + 2}" width="{length:.1f}" height="{bar_height - 4}" '
            f'fill="{diverging_color(v, vmax)}" stroke="#999" stroke-width="0.5"/>'
            f'<text x="{label_width + plot_w + 4}" y="{text_y:.1f}" fill="#555">'
            f"{escape(format_score(v))}</text></g>"
        )
    axis = (
        f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#999" '
        'stroke-width="1"/>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'style="font-size: 12px; font-family: sans-serif">{axis}{"".join(rows)}</svg>'
    )
