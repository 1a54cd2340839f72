"""Views, headless: build each on the tiny BERT, drive its controls, read the HTML it renders.

No browser or kernel is needed: ipywidgets run without a front end, so setting a control's
``value`` (or calling ``button.click()``) runs the same observers a user's click would.
Model calls are counted by wrapping the model's ``forward``.
"""

import base64
import html
import struct
import zlib
from xml.etree import ElementTree

import numpy as np
import pytest

import interpkit
from interpkit.testing import tiny_classifier
from interpkit.widgets import AttentionView, LimeView, SaliencyView
from interpkit.widgets._common import png_data_uri, prediction_html
from interpkit.widgets.attention import MAX_TOKENS, head_view_svg, heatmap_svg, thumbnail_html

TEXT = "a good film, but the plot was dull"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
JS_LINK = "javascript:alert(1)"
HOSTILE = [IMG, SCRIPT, JS_LINK]
#: Few samples keep LIME fast on 2 CPU cores; the behaviour under test is the same.
LIME_SAMPLES = 120


class ForwardCounter:
    """Counts calls of ``model.forward`` (every model call of every explainer goes through it)."""

    def __init__(self, model):
        self.calls = 0
        original = model.forward

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        model.forward = counted


@pytest.fixture
def clf():
    return tiny_classifier()


@pytest.fixture
def counter(clf):
    return ForwardCounter(clf.model)


def hostile_classifier():
    """The tiny BERT with each hostile string as one token, and hostile class names."""
    clf = tiny_classifier(labels=(SCRIPT, JS_LINK))
    clf.tokenizer.add_tokens(HOSTILE)
    clf.model.resize_token_embeddings(len(clf.tokenizer), mean_resizing=False)
    return clf


# --------------------------------------------------------------------------- AttentionView


def test_attention_view_builds_with_prediction_and_heatmap(clf):
    view = AttentionView(clf, TEXT)
    assert view.layer_slider.max == 1 and view.layer_slider.value == 1  # -1 = last layer
    assert [v for _, v in view.head_dropdown.options] == ["mean", "max", 0, 1]
    assert "<svg" in view.output.value and "<rect" in view.output.value
    assert "predicted <b>" in view.prediction.value
    assert all(html.escape(label) in view.prediction.value for label in clf.labels)
    assert view.explanation.method == "attention"
    assert view.explanation.extras["attention"].shape[:2] == (2, 2)


def test_attention_rerenders_from_cache_without_model_calls(clf, counter):
    view = AttentionView(clf, TEXT)
    built = counter.calls
    assert built >= 1
    seen = {view.output.value}
    view.layer_slider.value = 0
    seen.add(view.output.value)
    assert "layer 0 of 2" in view.output.value
    view.head_dropdown.value = 1
    seen.add(view.output.value)
    assert "head 1" in view.output.value
    view.head_dropdown.value = "max"
    seen.add(view.output.value)
    view.mode_buttons.value = "head"
    seen.add(view.output.value)
    assert "<line" in view.output.value
    view.mode_buttons.value = "rollout"
    seen.add(view.output.value)
    assert "attention rollout through layers 0-0" in view.output.value
    assert view.head_dropdown.disabled
    view.special_checkbox.value = False
    seen.add(view.output.value)
    view.mode_buttons.value = "model"
    seen.add(view.output.value)
    assert len(seen) == 8, "every change must change the rendering"
    assert counter.calls == built, "re-rendering must not call the model"


def test_attention_special_token_toggle_hides_cls_and_sep(clf):
    view = AttentionView(clf, TEXT)
    labels = ["<title>[CLS]</title>[CLS]</text>", "<title>[SEP]</title>[SEP]</text>"]
    assert all(label in view.output.value for label in labels)
    view.special_checkbox.value = False
    assert not any(label in view.output.value for label in labels)
    assert "[CLS]/[SEP] hidden" in view.output.value


def test_attention_model_view_grid_and_click_selects(clf, counter):
    view = AttentionView(clf, TEXT, head="mean")
    assert view.model_grid.layout.display == "none" and not view.thumbnail_buttons
    view.mode_buttons.value = "model"
    calls = counter.calls
    assert view.model_grid.layout.display == "grid"
    assert sorted(view.thumbnail_buttons) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(view.model_grid.children) == 4
    thumbs = [cell.children[0].value for cell in view.model_grid.children]
    assert all(t.startswith('<img src="data:image/png;base64,') for t in thumbs)
    view.thumbnail_buttons[(0, 1)].click()
    assert (view.layer_slider.value, view.head_dropdown.value) == (0, 1)
    assert view.thumbnail_buttons[(0, 1)].button_style == "info"
    with pytest.raises(ValueError, match="layer 7 does not exist"):
        view.select(layer=7, head=0)
    assert view.thumbnail_buttons[(1, 1)].button_style == ""
    assert "layer 0 of 2 · head 1" in view.output.value
    static = view._repr_html_()
    assert static.count("<img ") == 4 and "L1 H1" in static
    assert counter.calls == calls


def test_attention_text_box_explains_a_new_sentence(clf, counter):
    view = AttentionView(clf, TEXT)
    calls = counter.calls
    view.text_box.value = "the worst movie"
    assert counter.calls > calls
    assert view.text == "the worst movie"
    assert "worst" in view.output.value and "dull" not in view.output.value
    calls = counter.calls
    view.text_box.value = TEXT  # seen before: cached
    assert counter.calls == calls
    view.explain_button.click()
    assert counter.calls == calls


def test_attention_keeps_only_the_latest_tensors(clf, counter):
    view = AttentionView(clf, TEXT)
    for i in range(5):
        view.text_box.value = f"the film {i}"
    assert len(view._cache) == 4 and TEXT not in view._cache
    calls = counter.calls
    view.text_box.value = "the film 4"  # still cached
    assert counter.calls == calls
    view.text_box.value = TEXT  # dropped: computed again
    assert counter.calls > calls


def test_attention_empty_text_shows_an_error_instead_of_raising(clf):
    view = AttentionView(clf, TEXT)
    view.text_box.value = "   "
    assert "text is empty" in view.output.value
    assert view.prediction.value == ""
    assert "text is empty" in view._repr_html_()
    view.text_box.value = "a fine film"
    assert "<svg" in view.output.value


def test_attention_long_text_is_cut_for_display(clf):
    view = AttentionView(clf, "good " * 55)
    assert f"first {MAX_TOKENS} of 57 tokens shown" in view.output.value


LONG = "the film was good and the plot was fine but " * 12  # > 64 tokens: truncated
NOTICES = {
    LONG: "truncated: the model saw only the first 64 tokens",
    "这部电影非常好看": "100% of the tokens are unknown to the tokenizer ([UNK])",
}


@pytest.mark.filterwarnings("ignore::interpkit.TruncationWarning")
@pytest.mark.filterwarnings("ignore::interpkit.UnknownTokensWarning")
@pytest.mark.parametrize("text", list(NOTICES), ids=["truncated", "unknown"])
def test_every_view_shows_truncation_and_unknown_token_notices(clf, text):
    from interpkit.widgets import CompareView

    views = [
        AttentionView(clf, text),
        AttentionView(clf, text, mode="rollout"),
        SaliencyView(clf, text),
        LimeView(clf, text, n_samples=LIME_SAMPLES),
        CompareView(clf, text, methods=["saliency", "random"]),
    ]
    views[3].run()
    for view in views:
        for rendering in (view.output.value, view._repr_html_()):
            assert html.escape(NOTICES[text]) in rendering, repr(view)
    quiet = AttentionView(clf, TEXT)
    assert "truncated" not in quiet._repr_html_() and "unknown to" not in quiet._repr_html_()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer": 2}, "layer 2 does not exist"),
        ({"head": 5}, "head 5 does not exist"),
        ({"head": "median"}, "head must be 'mean', 'max' or a head index"),
        ({"head": 1.5}, "head must be an integer"),
        ({"mode": "graph"}, "mode must be one of"),
    ],
)
def test_attention_view_rejects_bad_settings(clf, kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttentionView(clf, TEXT, **kwargs)


def test_views_carry_stable_css_classes_for_browser_tests(clf):
    views = {
        "attentionview": (AttentionView(clf, TEXT), "layer_slider"),
        "saliencyview": (SaliencyView(clf, TEXT), "method_dropdown"),
        "limeview": (LimeView(clf, TEXT, n_samples=LIME_SAMPLES), "run_button"),
    }
    for name, (view, control) in views.items():
        assert {"interpkit-view", f"interpkit-{name}"} <= set(view._dom_classes)
        assert "interpkit-output" in view.output._dom_classes
        assert "interpkit-text-box" in view.text_box._dom_classes
        hook = "interpkit-" + control.replace("_", "-")
        assert hook in getattr(view, control)._dom_classes


def test_view_constructors_reject_empty_text(clf):
    for cls in (AttentionView, SaliencyView, LimeView):
        with pytest.raises(ValueError, match="text is empty"):
            cls(clf, "")


# --------------------------------------------------------------------------- SaliencyView


def test_saliency_view_methods_targets_and_cache(clf, counter):
    view = SaliencyView(clf, TEXT, n_steps=8)
    first = view.explanation
    assert first.method == "integrated_gradients" and first.params["n_steps"] == 8
    assert "convergence delta" in view.output.value and "<svg" in view.output.value
    view.method_dropdown.value = "saliency"
    assert view.explanation.method == "saliency"
    assert view.steps_slider.disabled and view.baseline_dropdown.disabled
    assert "unsigned scores" in view.output.value
    predicted = view.explanation.target
    other = 1 - predicted
    view.target_dropdown.value = other
    assert view.explanation.target == other
    assert f"explains <b>{html.escape(clf.labels[other])}</b>" in view.output.value
    calls = counter.calls
    view.target_dropdown.value = -1  # back to "predicted class": cached
    view.method_dropdown.value = "integrated_gradients"  # cached as well
    assert view.explanation is first
    assert counter.calls == calls, "toggling back to seen settings must not call the model"


def test_saliency_settings_only_split_the_cache_for_methods_that_take_them(clf, counter):
    view = SaliencyView(clf, TEXT, method="saliency")
    calls = counter.calls
    view.steps_slider.value = 20  # saliency has no steps: nothing to compute
    assert counter.calls == calls
    view.method_dropdown.value = "integrated_gradients"
    assert view.explanation.params["n_steps"] == 20
    view.baseline_dropdown.value = "mask"
    assert view.explanation.params["baseline"] == "mask"
    assert not view.steps_slider.disabled


def test_saliency_word_and_subword_toggle_rerenders_only(clf, counter):
    text = "the boringly dull plot"  # "boringly" is two word pieces in the tiny vocabulary
    view = SaliencyView(clf, text, method="input_x_gradient")
    calls = counter.calls
    words = view.output.value
    assert "##ly" not in words
    view.level_buttons.value = "token"
    assert "##ly" in view.output.value
    view.level_buttons.value = "word"
    assert view.output.value == words
    assert counter.calls == calls


def test_saliency_errors_are_shown_and_cleared_by_the_next_valid_change(clf, counter, monkeypatch):
    import interpkit.widgets.saliency as saliency_module

    view = SaliencyView(clf, TEXT, method="saliency")
    view.text_box.value = ""
    calls = counter.calls
    view.method_dropdown.value = "input_x_gradient"  # no valid text: nothing is computed
    assert counter.calls == calls and "text is empty" in view.output.value
    view.text_box.value = TEXT
    assert view.explanation.method == "input_x_gradient"

    def broken(*args, **kwargs):
        raise RuntimeError("the model returned nan")

    monkeypatch.setattr(saliency_module, "explain", broken)
    view.method_dropdown.value = "deeplift"
    assert "could not explain this text: the model returned nan" in view.output.value
    assert "could not explain" in view._repr_html_()
    monkeypatch.undo()
    view.method_dropdown.value = "saliency"  # cached: shown again, error gone
    assert "could not explain" not in view.output.value
    assert view.explanation.method == "saliency"


def test_saliency_view_rejects_bad_settings(clf):
    with pytest.raises(ValueError, match="is not offered"):
        SaliencyView(clf, TEXT, method="lime", methods=["saliency"])
    with pytest.raises(ValueError, match="unknown explainer"):
        SaliencyView(clf, TEXT, methods=["integrated_gradient"])
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        SaliencyView(clf, TEXT, n_steps=0)
    with pytest.raises(ValueError, match="baseline must be one of"):
        SaliencyView(clf, TEXT, baseline="blank")
    with pytest.raises(ValueError, match="unknown label"):
        SaliencyView(clf, TEXT, target="neutral")


# --------------------------------------------------------------------------- LimeView


def test_lime_view_waits_for_run(clf, counter):
    view = LimeView(clf, TEXT, n_samples=LIME_SAMPLES)
    assert view.explanation is None
    assert "press Run LIME" in view.output.value
    assert "predicted <b>" in view.prediction.value  # the prediction is cheap and shown
    calls = counter.calls
    view.samples_slider.value = 200
    view.features_slider.value = 3
    view.seed_box.value = 4
    view.text_box.value = "the worst movie"
    assert counter.calls - calls == 1, "only the new text's prediction, never LIME"
    assert "press Run LIME" in view.output.value


def test_lime_run_moves_the_progress_bar_in_batches_and_caches(clf, counter):
    view = LimeView(clf, TEXT, n_samples=LIME_SAMPLES, num_features=4, batch_size=8)
    values = []
    view.progress.observe(lambda change: values.append(change["new"]), names=["value"])
    view.run_button.click()
    e = view.explanation
    assert e is not None and e.method == "lime" and e.params["n_samples"] == LIME_SAMPLES
    assert np.count_nonzero(e.word_scores) <= 4
    distinct = [v for v in values if v > 0]
    assert len(distinct) >= 3, "the bar must move once per batch of perturbed texts"
    assert distinct == sorted(distinct)
    assert view.progress.value == view.progress.max and view.progress.bar_style == "success"
    assert "surrogate R²" in view.output.value and "<svg" in view.output.value
    calls = counter.calls
    view.features_slider.value = 2
    assert view.explanation is None and "press Run LIME" in view.output.value
    view.features_slider.value = 4  # back: the cached result at once
    assert view.explanation is e
    view.run_button.click()  # already computed for these settings
    assert counter.calls == calls
    assert view.run() is e


def test_lime_view_has_lime_defaults_and_its_explanation_is_explains(clf):
    import inspect

    lime = interpkit.Lime(clf).get_params()
    view_defaults = {
        name: p.default
        for name, p in inspect.signature(LimeView).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    shared = set(view_defaults) & set(lime)
    assert shared == {"n_samples", "num_features", "seed", "batch_size"}
    assert {k: view_defaults[k] for k in shared} == {k: lime[k] for k in shared}
    view = LimeView(clf, TEXT, n_samples=LIME_SAMPLES)
    e = view.run()
    direct = interpkit.explain(clf, TEXT, method="lime", n_samples=LIME_SAMPLES)
    assert e.params == direct.params
    np.testing.assert_array_equal(e.word_scores, direct.word_scores)
    # every word weighted, as surrogate_fidelity needs (before: num_features=10 was refused)
    fid = interpkit.surrogate_fidelity(clf, TEXT, view.explanation, holdout=20)
    assert fid["r2_train"] == e.diagnostics["r2"]


def test_lime_view_predicts_through_one_predictor_and_old_name_still_works(clf, counter):
    with pytest.warns(DeprecationWarning, match="num_samples= is now called n_samples="):
        view = LimeView(clf, TEXT, num_samples=LIME_SAMPLES)
    assert view.samples_slider.value == LIME_SAMPLES
    calls = counter.calls
    first = view.run()
    first_calls, calls = counter.calls - calls, counter.calls
    assert view.progress.max == first.diagnostics["predicted"] > 0  # on_batch drove the bar
    view.seed_box.value = 1
    again = view.run()  # another seed: only perturbations not seen before are predicted
    assert again.diagnostics["predicted"] < first.diagnostics["predicted"]
    assert counter.calls - calls < first_calls
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_sample'"):
        LimeView(clf, TEXT, n_sample=10)


def test_lime_seed_gives_repeatable_weights(clf):
    one = LimeView(clf, TEXT, n_samples=LIME_SAMPLES, seed=3).run()
    two = LimeView(clf, TEXT, n_samples=LIME_SAMPLES, seed=3).run()
    np.testing.assert_array_equal(one.word_scores, two.word_scores)


def test_lime_view_rejects_bad_settings(clf):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        LimeView(clf, TEXT, n_samples=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        LimeView(clf, TEXT, batch_size=0)


# --------------------------------------------------------------------------- escaping


def all_html(view) -> list[str]:
    """Every HTML string the view can show now: widget leaves, thumbnails, static HTML."""
    parts = [view.prediction.value, view.output.value, view._repr_html_()]
    if isinstance(view, AttentionView):
        parts += [cell.children[0].value for cell in view.model_grid.children]
    return parts


def renderings(view):
    """Drive the view through every HTML path it has, yielding after each change."""
    if isinstance(view, AttentionView):
        for special in (True, False):
            view.special_checkbox.value = special
            for mode in ("heatmap", "head", "model", "rollout"):
                view.mode_buttons.value = mode
                yield f"{mode}, special={special}"
    elif isinstance(view, SaliencyView):
        for method in ("integrated_gradients", "saliency"):
            view.method_dropdown.value = method
            for level in ("word", "token"):
                view.level_buttons.value = level
                yield f"{method}, {level}"
    else:
        yield "before run"
        view.run()
        yield "after run"


@pytest.mark.parametrize("make", [AttentionView, SaliencyView, LimeView], ids=lambda c: c.__name__)
def test_hostile_tokens_labels_and_text_are_escaped_everywhere(make):
    clf = hostile_classifier()
    text = f"a good film {IMG} {SCRIPT} {JS_LINK}"
    kwargs = {"n_samples": LIME_SAMPLES} if make is LimeView else {}
    view = make(clf, text, **kwargs)
    if make is not LimeView:
        assert IMG in view.explanation.tokens  # one hostile token through the whole pipeline
    for state in renderings(view):
        for part in all_html(view):
            for raw in (IMG, SCRIPT):
                assert raw not in part, f"raw {raw!r} in {make.__name__} ({state})"
            assert "<a " not in part and "href" not in part, "views make no links"
            assert "<script" not in part.lower() and "<img src=x" not in part
        static = view._repr_html_()
        for raw in HOSTILE:
            assert html.escape(raw) in static, f"escaped {raw!r} missing ({state})"


@pytest.mark.parametrize("make", [AttentionView, SaliencyView, LimeView], ids=lambda c: c.__name__)
def test_every_rendering_is_well_formed_markup(make):
    """Parsing as XML proves every <, > and & from text, tokens and labels was escaped."""
    clf = hostile_classifier()
    kwargs = {"n_samples": LIME_SAMPLES} if make is LimeView else {}
    view = make(clf, f"a good & bad film {IMG} {SCRIPT} <b>", **kwargs)
    for state in renderings(view):
        for part in all_html(view):
            try:
                ElementTree.fromstring(f"<root>{part}</root>")
            except ElementTree.ParseError as err:
                pytest.fail(f"{make.__name__} ({state}) made malformed HTML: {err}")


def test_hostile_text_typed_into_the_text_box_is_escaped(clf):
    view = SaliencyView(clf, TEXT, method="saliency")
    view.text_box.value = f"{SCRIPT} {IMG}"
    for part in all_html(view):
        assert SCRIPT not in part and IMG not in part
    assert html.escape(f"{SCRIPT} {IMG}") in view.prediction.value


def test_svg_helpers_escape_tokens():
    tokens = ["[CLS]", IMG, SCRIPT, JS_LINK]
    matrix = np.full((4, 4), 0.25)
    for svg in (heatmap_svg(tokens, matrix), head_view_svg(tokens, matrix)):
        assert IMG not in svg and SCRIPT not in svg
        assert html.escape(SCRIPT) in svg  # short enough to be shown whole in tooltips
    thumb = thumbnail_html(matrix, f"head {IMG}")
    assert IMG not in thumb and html.escape(f"head {IMG}") in thumb
    panel = prediction_html(IMG, (SCRIPT, JS_LINK), [0.4, 0.6])
    assert IMG not in panel and SCRIPT not in panel and html.escape(SCRIPT) in panel
    with pytest.raises(ValueError, match="pass \\(4, 4\\)"):
        heatmap_svg(tokens, np.ones((3, 3)))


# --------------------------------------------------------------------------- repr, static, show


@pytest.mark.parametrize("make", [AttentionView, SaliencyView, LimeView], ids=lambda c: c.__name__)
def test_repr_and_static_html_are_deterministic(make):
    kwargs = {"n_samples": LIME_SAMPLES} if make is LimeView else {}
    views = [make(tiny_classifier(), TEXT, **kwargs) for _ in range(2)]
    if make is LimeView:
        for view in views:
            view.run()
    assert repr(views[0]) == repr(views[1])
    assert views[0]._repr_html_() == views[1]._repr_html_()
    assert repr(views[0]).startswith(f"{make.__name__}(text='a good film, but the plot was…'")
    assert "0x" not in repr(views[0]) and len(repr(views[0])) <= 160
    static = views[0]._repr_html_()
    assert "id=" not in static and "<script" not in static
    bundle = views[0]._repr_mimebundle_()
    assert bundle["text/plain"] == repr(views[0])[:110] + ("…" if len(repr(views[0])) > 110 else "")


def test_attention_repr_follows_the_controls(clf):
    view = AttentionView(clf, TEXT)
    view.select(layer=0, head=1)
    view.mode_buttons.value = "head"
    view.special_checkbox.value = False
    assert repr(view) == (
        "AttentionView(text='a good film, but the plot was…', layer=0, head=1, mode='head', "
        "special_tokens=False)"
    )


def test_show_displays_the_view(clf, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    view = AttentionView(clf, TEXT)
    assert view.show() is None
    assert shown == [view]


def test_views_are_exported():
    assert interpkit.AttentionView is AttentionView
    assert interpkit.SaliencyView is SaliencyView
    assert interpkit.LimeView is LimeView
    assert {"AttentionView", "SaliencyView", "LimeView"} <= set(interpkit.__all__)


def test_png_data_uri_is_a_valid_deterministic_png():
    matrix = np.array([[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]])
    uri = png_data_uri(matrix)
    assert uri == png_data_uri(matrix)
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (3, 2)
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41 : 41 + idat_len])
    rows = [raw[i * 10 : (i + 1) * 10] for i in range(2)]  # filter byte + 3 RGB pixels
    assert rows[0][1:4] == bytes([255, 255, 255])  # 0 = white
    assert rows[0][7:10] == bytes([84, 39, 143])  # 1 = the attention colour
    with pytest.raises(ValueError, match="2-D matrix"):
        png_data_uri(np.ones(3))
