"""CompareView headless on the tiny BERT: builds, caches per method, escapes, stable names."""

import html
from xml.etree import ElementTree

import numpy as np
import pytest

import interpkit
from interpkit.testing import tiny_classifier
from interpkit.widgets import CompareView
from interpkit.widgets.compare import agreement_svg

TEXT = "a good film, but the plot was dull"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LIME = {"lime": {"n_samples": 120}}


class ForwardCounter:
    """Counts calls of ``model.forward`` (every explainer and metric goes through it)."""

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


def test_builds_headless_with_default_methods_scores_and_heatmap(clf):
    view = CompareView(clf, TEXT, options=LIME)
    assert view.selected == ["attention", "integrated_gradients", "saliency", "random"]
    assert set(view.explanations) == set(view.selected) == set(view.scores)
    out = view.output.value
    for method in view.selected:
        assert f'data-method="{method}"' in out
        f = view.scores[method]
        assert html.escape(interpkit.render.format_score(f.comprehensiveness_aopc)) in out
    assert 'class="interpkit-agreement"' in out
    assert "predicted <b>" in view.prediction.value
    matrix = view.agreement
    assert list(matrix.index) == view.selected
    np.testing.assert_allclose(np.diag(matrix.to_numpy()), 1.0)


def test_ticking_computes_once_and_everything_else_rerenders(clf):
    view = CompareView(clf, TEXT, options=LIME)
    counter = ForwardCounter(clf.model)
    view.method_boxes["lime"].value = True
    assert counter.calls > 0 and "lime" in view.explanations
    first = view.explanations["lime"]
    after_lime = counter.calls
    view.method_boxes["lime"].value = False
    view.method_boxes["lime"].value = True
    view.measure_dropdown.value = "kendall"
    view.measure_dropdown.value = "top_k"
    assert counter.calls == after_lime, "cached results must not call the model"
    assert view.explanations["lime"] is first
    assert view.agreement.attrs["measure"] == "top_k"
    assert 'data-method="lime"' in view.output.value


def test_new_text_recomputes_and_old_text_stays_cached(clf):
    view = CompareView(clf, TEXT, selected=["saliency", "random"])
    old = view.explanations["saliency"]
    view.text_box.value = "the movie was great"
    assert view.explanations["saliency"].text == "the movie was great"
    counter = ForwardCounter(clf.model)
    view.text_box.value = TEXT
    assert counter.calls == 0 and view.explanations["saliency"] is old


def test_one_method_has_no_heatmap_and_none_ticked_says_so(clf):
    view = CompareView(clf, TEXT, selected=["saliency"])
    assert view.agreement is None
    assert "tick two or more methods" in view.output.value
    view.method_boxes["saliency"].value = False
    assert "no method ticked" in view.output.value


def test_stable_names_for_browser_tests(clf):
    view = CompareView(clf, TEXT, methods=["saliency", "random"])
    assert {"interpkit-view", "interpkit-compareview", "interpkit-compare"} <= set(
        view._dom_classes
    )
    assert "interpkit-output" in view.output._dom_classes
    assert "interpkit-text-box" in view.text_box._dom_classes
    assert "interpkit-measure-dropdown" in view.measure_dropdown._dom_classes
    assert "interpkit-compare-measure" in view.measure_dropdown._dom_classes
    for name, box in view.method_boxes.items():
        assert {"interpkit-compare-method", f"interpkit-method-{name}"} <= set(box._dom_classes)


def test_repr_is_deterministic_and_static_html_renders(clf):
    view = CompareView(clf, TEXT, selected=["saliency", "random"])
    assert repr(view) == (
        "CompareView(text='a good film, but the plot was…', "
        "methods=['saliency', 'random'], measure='spearman')"
    )
    static = view._repr_html_()
    assert static.startswith('<div class="interpkit-') and "interpkit-compare-row" in static
    assert static == view._repr_html_()


def test_bad_arguments_are_refused_with_advice(clf):
    with pytest.raises(ValueError, match="unknown explainer 'salency'.*available:"):
        CompareView(clf, TEXT, methods=["salency"])
    with pytest.raises(ValueError, match="is not offered"):
        CompareView(clf, TEXT, methods=["saliency"], selected=["random"])
    with pytest.raises(ValueError, match="measure must be one of"):
        CompareView(clf, TEXT, measure="pearson")
    with pytest.raises(ValueError, match=r"k must be a fraction of the words in \(0, 1\]"):
        CompareView(clf, TEXT, ks=(0.2, 2))
    with pytest.raises(ValueError, match="text is empty"):
        CompareView(clf, "  ")


def test_hostile_text_labels_and_tokens_are_escaped_and_well_formed():
    clf = tiny_classifier(labels=(SCRIPT, "javascript:alert(1)"))
    clf.tokenizer.add_tokens([IMG, SCRIPT])
    clf.model.resize_token_embeddings(len(clf.tokenizer), mean_resizing=False)
    view = CompareView(
        clf, f"a good & bad film {IMG} {SCRIPT} <b>", selected=["saliency", "random"]
    )
    assert IMG in view.explanations["saliency"].tokens
    for part in (view.prediction.value, view.output.value, view._repr_html_()):
        assert SCRIPT not in part and IMG not in part
        ElementTree.fromstring(f"<root>{part}</root>")  # parses: every <, > and & was escaped
    assert html.escape(SCRIPT) in view._repr_html_()


def test_agreement_svg_escapes_method_names_and_marks_missing_values():
    import pandas as pd

    names = [SCRIPT, "saliency"]
    matrix = pd.DataFrame([[1.0, np.nan], [np.nan, 1.0]], index=names, columns=names)
    svg = agreement_svg(matrix)
    ElementTree.fromstring(svg)
    assert SCRIPT not in svg and html.escape(SCRIPT) in svg and "n/a" in svg


def test_compare_view_is_exported():
    assert interpkit.CompareView is CompareView
    assert "CompareView" in interpkit.__all__
