import html
import re

import pytest

from interpkit import render

HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", '" onmouseover="x']


def assert_escaped(snippet: str, raw: str) -> None:
    assert raw not in snippet
    assert html.escape(raw, quote=True) in snippet


def test_escape_quotes_and_brackets():
    assert render.escape('<a href="x">\'') == "&lt;a href=&quot;x&quot;&gt;&#x27;"
    assert render.escape(3) == "3"


@pytest.mark.parametrize("raw", HOSTILE)
def test_every_builder_escapes_hostile_text(raw):
    assert_escaped(render.mark(raw, 0.5, 1.0), raw)
    assert_escaped(render.mark(raw, None, 1.0), raw)
    assert_escaped(render.highlight_words([raw, "ok"], [0.3, -0.2]), raw)
    text = f"before {raw} after"
    start = text.index(raw)
    assert_escaped(render.highlight_text(text, [(start, start + len(raw))], [1.0]), raw)
    assert_escaped(render.highlight_text(text, [(0, 6)], [1.0], seen_until=7), raw)
    assert_escaped(render.legend(1.0, low_label=raw, high_label=raw), raw)
    assert_escaped(render.probability_table([raw, "b"], [0.25, 0.75]), raw)
    svg = render.bar_chart_svg([raw[:18], "b"], [0.5, -0.5])
    assert_escaped(svg, raw[:18])


def test_tooltips_are_escaped_attribute_values():
    snippet = render.mark('x" onclick="alert(1)', 0.2, 1.0)
    assert 'onclick="' not in snippet
    assert re.search(r'title="[^"]*&quot;[^"]*"', snippet)


def test_highlight_text_keeps_the_text_and_spacing():
    text = "A  wonderful,\tmoving <film>!"
    spans = [(0, 1), (3, 12), (12, 13), (14, 20), (21, 27), (27, 28)]
    snippet = render.highlight_text(text, spans, [0.1, 0.9, 0.0, 0.5, -0.3, 0.0])
    visible = html.unescape(re.sub(r"<[^>]+>", "", snippet))
    assert visible == text
    assert snippet.count("<span") == len(spans)


def test_highlight_text_strikes_the_unseen_tail():
    snippet = render.highlight_text("good film and more", [(0, 4), (5, 9)], [1, 1], seen_until=9)
    assert "line-through" in snippet
    assert "not seen by the model" in snippet
    tail = snippet.split("line-through")[1]
    assert "and more" in tail and "good" not in tail


def test_highlight_rejects_mismatched_lengths_and_overlaps():
    with pytest.raises(ValueError, match="one score per span"):
        render.highlight_text("ab", [(0, 1)], [1.0, 2.0])
    with pytest.raises(ValueError, match="overlap"):
        render.highlight_text("abc", [(0, 2), (1, 3)], [1.0, 2.0])
    with pytest.raises(ValueError, match="one score per word"):
        render.highlight_words(["a"], [])


def test_diverging_scale_ends_and_clipping():
    assert render.diverging_rgb(0.0, 1.0) == render.NEUTRAL_RGB
    assert render.diverging_rgb(1.0, 1.0) == render.POSITIVE_RGB
    assert render.diverging_rgb(-1.0, 1.0) == render.NEGATIVE_RGB
    assert render.diverging_rgb(5.0, 1.0) == render.POSITIVE_RGB  # clipped
    assert render.diverging_rgb(float("nan"), 1.0) == render.NEUTRAL_RGB
    r, g, b = render.diverging_rgb(0.5, 1.0)
    assert r > b and 39 < g < 255  # half-way towards red
    assert render.diverging_color(-1.0, 1.0) == "rgb(31, 119, 180)"


def test_text_colour_stays_readable():
    assert render.text_color(render.NEUTRAL_RGB) == "#000"
    assert render.text_color((0, 0, 0)) == "#fff"


def test_symmetric_vmax():
    assert render.symmetric_vmax([0.1, -0.4, float("nan")]) == pytest.approx(0.4)
    assert render.symmetric_vmax([0.0, 0.0]) == 1.0
    assert render.symmetric_vmax([]) == 1.0


def test_format_score_is_short_and_stable():
    assert render.format_score(0.12345) == "0.123"
    assert render.format_score(-0.000045) == "-4.5e-05"
    assert render.format_score(float("inf")) == "inf"
    assert render.format_score(12345.6) == "1.23e+04"


def test_snippets_use_no_ids_scripts_or_external_resources():
    snippets = [
        render.highlight_words(["a", "b"], [1, -1]),
        render.legend(2.0),
        render.probability_table(["a", "b"], [0.2, 0.8], highlight=[1]),
        render.bar_chart_svg(["a", "b"], [1, -1]),
    ]
    for snippet in snippets:
        assert " id=" not in snippet
        assert "<script" not in snippet
        assert "http" not in snippet.replace("http://www.w3.org/2000/svg", "")


def test_bar_chart_geometry():
    svg = render.bar_chart_svg(["up", "down", "flat"], [1.0, -0.5, 0.0], width=300)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3
    widths = [float(w) for w in re.findall(r'<rect [^>]*? width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0


def test_probability_table_bolds_highlighted_rows():
    table = render.probability_table(["neg", "pos"], [0.1, 0.9], highlight=[1])
    rows = table.split("<tr")[1:]
    assert "bold" in rows[1] and "bold" not in rows[0]
    assert "0.900" in rows[1]
    with pytest.raises(ValueError):
        render.probability_table(["a"], [0.5, 0.5])
