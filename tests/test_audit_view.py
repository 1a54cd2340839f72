"""AuditView, headless: pick a check, pick an example, get its SaliencyView; all escaped."""

import pytest

from interpkit.audit import MFT, audit
from interpkit.testing import KeywordClassifier, tiny_dataset
from interpkit.widgets import AuditView, SaliencyView

IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def report():
    from interpkit.testing import tiny_classifier

    # the same text with both labels: exactly one case fails, whatever the random model says
    hostile = MFT(
        name="MFT: hostile", texts=[f"a good film {IMG}"] * 2, labels=["negative", "positive"]
    )
    return audit(
        tiny_classifier(),
        tiny_dataset(),
        steps=("behavioural",),
        tests=[hostile],
        n_perturb=10,
        progress=False,
    )


def test_lists_failing_checks_first_and_all_on_request(report):
    view = AuditView(report)
    failing = set(report.failing())
    assert {v for _, v in view.check_select.options} == failing
    assert view.selected_check in failing
    view.filter_buttons.value = "all"
    assert len(view.check_select.options) == len(report.summary())
    statuses = [label.split()[0] for label, _ in view.check_select.options]
    assert statuses == sorted(statuses, key=lambda s: {"FAIL": 0, "INFO": 1, "PASS": 2}[s])


def test_selecting_a_check_shows_its_examples_and_an_example_its_explanation(report):
    view = AuditView(report, method="saliency")
    name = report.failing()[0]
    view.select(name)
    examples = report.examples(name)
    assert len(view.example_select.options) == min(len(examples), 50)
    assert "<table" in view.detail.value and name.split(":")[0] in view.detail.value
    assert view.saliency_view is None  # nothing explained before an example is picked
    view.example_select.value = 0
    first = view.saliency_view
    assert isinstance(first, SaliencyView)
    assert first.text == examples["text"].iloc[0] == view.selected_text
    assert first.explanation is not None and first.explanation.method == "saliency"
    assert view.explanation_box.children == (first,)
    if len(examples) > 1:
        view.example_select.value = 1
        assert view.saliency_view is first  # one view, re-used
        assert first.text == examples["text"].iloc[1]
    assert "interpkit-explanation" in view._repr_html_()


def test_hostile_text_is_escaped_everywhere(report):
    view = AuditView(report, method="saliency")
    view.select("MFT: hostile", example=0)
    for html in (view.detail.value, view._repr_html_(), view.header.value):
        assert IMG not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in view.detail.value
    assert IMG in view.selected_text


def test_stable_handles_for_browser_tests_and_a_deterministic_repr(report):
    view = AuditView(report)
    assert {"interpkit-view", "interpkit-auditview"} <= set(view._dom_classes)
    classes = {
        "interpkit-check-select": view.check_select,
        "interpkit-example-select": view.example_select,
        "interpkit-detail": view.detail,
        "interpkit-explanation-box": view.explanation_box,
        "interpkit-filter-buttons": view.filter_buttons,
        "interpkit-header": view.header,
    }
    for css, widget in classes.items():
        assert css in widget._dom_classes
    assert repr(view) == repr(AuditView(report))
    assert repr(view).startswith("AuditView(checks=")


def test_errors_and_models_that_cannot_be_explained():
    with pytest.raises(TypeError, match="needs an AuditReport"):
        AuditView("report")
    kw_report = audit(KeywordClassifier(), tiny_dataset(), steps=("behavioural",), progress=False)
    view = AuditView(kw_report)
    with pytest.raises(ValueError, match="no check named"):
        view.select("nope")
    view.select("MFT: negated positive is negative", example=0)
    assert view.saliency_view is None
    assert "explanations need an interpkit Classifier" in view._repr_html_()
    with pytest.raises(ValueError, match="listed examples"):
        view.select("MFT: negated positive is negative", example=999)
    view.select("MFT: positive sentences")  # a passing check: the filter switches to all
    assert view.filter_buttons.value == "all" and view.example_select.options == ()
