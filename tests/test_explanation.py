import html
import json

import matplotlib
import numpy as np
import pytest

from interpkit import Explanation

matplotlib.use("Agg")

HOSTILE = "<img src=x onerror=alert(1)>"
#: Word spans of "a <b>great</b> film!" (each word is one token here).
SPANS = [(0, 1), (2, 3), (3, 4), (4, 5), (5, 10), (10, 11), (11, 12), (12, 13), (13, 14)]
SPANS += [(15, 19), (19, 20)]


def make(**changes) -> Explanation:
    """A hand-made Explanation of "a <b>great</b> film" (no model needed)."""
    text = "a <b>great</b> film!"
    fields = dict(
        text=text,
        tokens=["[CLS]", "a", "<", "b", ">", "great", "<", "/", "b", ">", "film", "!", "[SEP]"],
        offsets=[(0, 0), *SPANS, (0, 0)],
        scores=np.array([0.0, 0.1, 0.0, 0.05, 0.0, 0.6, 0.0, 0.0, 0.0, -0.01, -0.2, 0.02, 0.0]),
        words=["a", "<", "b", ">", "great", "<", "/", "b", ">", "film", "!"],
        word_spans=SPANS,
        word_scores=np.array([0.1, 0.0, 0.05, 0.0, 0.6, 0.0, 0.0, 0.0, -0.01, -0.2, 0.02]),
        token_to_word=[None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None],
        target=1,
        labels=("negative", "positive"),
        probabilities=np.array([0.25, 0.75]),
        method="integrated_gradients",
        params={"n_steps": 50, "baseline": "pad", "shape": (2, 3)},
        seconds=0.123456789,
        diagnostics={"convergence_delta": 1.5e-4, "r2": np.float32(0.5)},
    )
    fields.update(changes)
    return Explanation(**fields)


def test_fields_are_normalised():
    e = make()
    assert e.scores.dtype == np.float64 and e.word_scores.dtype == np.float64
    assert e.offsets[0] == (0, 0) and isinstance(e.offsets[1], tuple)
    assert e.labels == ("negative", "positive")
    assert e.params["shape"] == [2, 3]  # JSON types from the start: round trips are exact
    assert type(e.diagnostics["r2"]) is float
    assert e.target_label == "positive" and e.contrast_label is None
    assert e.explained == "positive"
    assert e.extras == {}


def test_word_spans_point_into_the_text():
    e = make()
    for word, (start, end) in zip(e.words, e.word_spans, strict=True):
        assert e.text[start:end] == word


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(scores=np.zeros(3)), "scores has 3 entries for 13 tokens"),
        (dict(word_scores=np.zeros(2)), "one per word"),
        (dict(target=2), "target=2"),
        (dict(contrast=5), "contrast=5"),
        (dict(probabilities=np.array([1.0])), "1 probabilities for 2 labels"),
        (dict(token_to_word=[None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99, None]), "does not exist"),
    ],
)
def test_inconsistent_fields_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        make(**changes)


def test_contrast_labels():
    e = make(contrast=0)
    assert e.contrast_label == "negative"
    assert e.explained == "positive rather than negative"
    legend = e.to_html().split("linear-gradient")[0].rsplit("<div", 1)[1]
    assert "for negative" in legend  # blue end: evidence for the contrast class


def test_top_words_and_tokens():
    e = make()
    assert e.top(2) == [("great", 0.6), ("a", 0.1)]
    assert e.top(1, by="abs") == [("great", 0.6)]
    assert e.top(2, by="abs")[1] == ("film", -0.2)
    tokens = e.top(20, level="token")
    assert len(tokens) == 11 and all(t not in ("[CLS]", "[SEP]") for t, _ in tokens)
    assert e.top(0) == []
    with pytest.raises(ValueError, match="level must be one of"):
        e.top(3, level="sentence")
    with pytest.raises(ValueError, match="by must be"):
        e.top(3, by="size")
    with pytest.raises(ValueError, match="non-negative integer"):
        e.top(-1)


def test_to_frame():
    e = make()
    words = e.to_frame()
    assert list(words.columns) == ["word", "start", "end", "score"]
    assert list(words["word"]) == e.words
    assert words["score"].tolist() == e.word_scores.tolist()
    tokens = e.to_frame(level="token")
    assert list(tokens.columns) == ["token", "start", "end", "score", "word"]
    assert tokens["word"].isna().sum() == 2
    assert words.attrs["explained"] == "positive"


def test_json_round_trip_is_exact():
    e = make(contrast=0, truncated=True, extras={"attention": np.ones((1, 1, 2, 2))})
    text = e.to_json()
    data = json.loads(text)
    assert "extras" not in data and data["format"] == "interpkit.Explanation"
    back = Explanation.from_json(text)
    assert back == e
    assert back.extras == {}
    np.testing.assert_array_equal(back.scores, e.scores)
    assert back.scores.tobytes() == e.scores.tobytes()
    assert back.seconds == e.seconds and back.offsets == e.offsets and back.labels == e.labels
    assert back.params == e.params and back.diagnostics == e.diagnostics
    assert back.contrast == 0 and back.truncated
    assert back.to_json() == text


def test_json_round_trip_keeps_nan_diagnostics():
    e = make(diagnostics={"r2": float("nan")})
    back = Explanation.from_json(e.to_json())
    assert np.isnan(back.diagnostics["r2"])
    assert back == e


def test_json_is_strict_and_non_finite_numbers_come_back_as_nan():
    scores = make().scores.copy()
    scores[1] = np.nan  # a method that overflowed
    e = make(scores=scores, diagnostics={"r2": float("nan"), "delta": float("inf")})
    assert e.diagnostics["r2"] != e.diagnostics["r2"]  # still NaN in memory

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    data = json.loads(e.to_json(), parse_constant=refuse)  # no NaN/Infinity literals
    assert data["scores"][1] is None and data["diagnostics"]["r2"] is None
    back = Explanation.from_json(e.to_json())
    assert np.isnan(back.scores[1]) and np.isnan(back.diagnostics["r2"])
    assert np.isnan(back.diagnostics["delta"])  # written as null: read back as "not a number"
    assert back.params == e.params and back == Explanation.from_json(back.to_json())


def test_from_json_errors_speak():
    with pytest.raises(ValueError, match="not valid Explanation JSON"):
        Explanation.from_json("{nope")
    with pytest.raises(ValueError, match="not an interpkit Explanation"):
        Explanation.from_json("[1, 2]")
    data = make().to_dict()
    data["version"] = 99
    with pytest.raises(ValueError, match="upgrade interpkit"):
        Explanation.from_dict(data)
    data = make().to_dict()
    del data["scores"]
    with pytest.raises(ValueError, match="missing scores"):
        Explanation.from_dict(data)


def test_equality():
    assert make() == make()
    assert make() != make(seconds=1.0)
    assert make().__eq__("text") is NotImplemented


@pytest.mark.parametrize("level", ["word", "token"])
def test_html_escapes_tokens_words_text_labels_and_params(level):
    e = make(
        text=f"a {HOSTILE}",
        tokens=["[CLS]", "a", HOSTILE, "[SEP]"],
        offsets=[(0, 0), (0, 1), (2, 2 + len(HOSTILE)), (0, 0)],
        scores=np.array([0.0, 0.5, -0.5, 0.0]),
        words=["a", HOSTILE],
        word_spans=[(0, 1), (2, 2 + len(HOSTILE))],
        word_scores=np.array([0.5, -0.5]),
        token_to_word=[None, 0, 1, None],
        labels=("<script>alert(1)</script>", HOSTILE),
        method="<b>m</b>",
        params={"x": "<script>alert(2)</script>"},
        diagnostics={"note": HOSTILE},
        contrast=0,
    )
    for snippet in (e.to_html(level=level), e._repr_html_()):
        for raw in (HOSTILE, "<script>alert(1)</script>", "<script>alert(2)</script>", "<b>m</b>"):
            assert raw not in snippet
        assert html.escape(HOSTILE) in snippet
        assert "<script" not in snippet and "<img" not in snippet


def test_html_is_deterministic_and_free_of_ids_and_timing():
    e = make()
    first, second = e.to_html(), make(seconds=99.0).to_html()
    assert first == second  # no ids, no timings by default: stable stored outputs
    assert " id=" not in first and "<script" not in first
    assert "great" in first and "positive" in first and "0.750" in first
    assert "0.12 s" in e.to_html(show_timing=True)


def test_html_shows_truncation():
    e = make(text="a <b>great</b> film! and more that was cut", truncated=True)
    snippet = e.to_html()
    assert "truncated: the model saw only the first 13 tokens" in snippet
    assert "line-through" in snippet
    assert "and more that was cut</span>" in snippet.split("line-through")[1]


def test_repr_is_short_and_stable():
    assert repr(make()) == (
        "Explanation(method='integrated_gradients', explained='positive', words=11, tokens=13)"
    )
    assert "truncated" in repr(make(truncated=True))


def test_plot_draws_stored_scores_and_returns_axes():
    import matplotlib.pyplot as plt

    e = make()
    ax = e.plot()
    bars = ax.patches
    assert len(bars) == len(e.words)
    assert [b.get_width() for b in bars] == pytest.approx(e.word_scores.tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == e.words
    plt.close(ax.figure)
    _, ax2 = plt.subplots()
    assert e.plot(ax=ax2, level="token", k=3) is ax2
    assert len(ax2.patches) == 3
    plt.close(ax2.figure)
