"""audit() end to end on models with known behaviour; the report's HTML, JSON and thresholds."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from interpkit.audit import MFT, AuditReport, audit
from interpkit.testing import KeywordClassifier, tiny_dataset

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
#: Small settings: the keyword model is instant; the sizes keep the bootstrap and I/O short.
FAST = dict(
    n_perturb=20,
    n_adversarial=5,
    adversarial_method="random",
    out_of_domain=("tweets",),
    n_out_of_domain=40,
    n_boot=10,
    progress=False,
)


@pytest.fixture(scope="module")
def report():
    return audit(KeywordClassifier(), tiny_dataset(), **FAST)


def test_every_step_reports_checks_and_tables(report):
    s = report.summary()
    assert list(s.columns) == [
        "section", "check", "metric", "value", "threshold", "rule", "status", "n", "detail"
    ]  # fmt: skip
    assert set(s["section"]) == {
        "data", "behavioural", "robustness", "fairness", "consistency", "calibration"
    }  # fmt: skip
    assert set(report.tables) == set(s["section"])
    assert {"fairness", "consistency", "calibration"} <= set(report.figures)
    assert all(png.startswith(b"\x89PNG") for png in report.figures.values())
    status = s.set_index("check")["status"]
    assert status["MFT: negated positive is negative"] == "fail"  # the keyword model's flaw
    assert status["MFT: positive sentences"] == "pass"
    assert status["demographic parity difference: religion"] == "pass"
    assert status["adversarial flip rate (random)"] == "info"
    assert not report.passed
    assert "MFT: negated positive is negative" in report.failing()
    assert report.meta["model"] == "keyword-model" and report.meta["texts_predicted"] > 0


def test_thresholds_rejudge_without_recomputing(report):
    value = report.check("MFT: negated positive is negative").value
    lax = report.summary(thresholds={"mft_failure_rate": 1.0}).set_index("check")
    assert lax.loc["MFT: negated positive is negative", "status"] == "pass"
    by_name = report.summary(thresholds={"MFT: positive sentences": -1}).set_index("check")
    assert by_name.loc["MFT: positive sentences", "status"] == "fail"
    assert by_name.loc["MFT: negative sentences", "status"] == "pass"
    assert report.check("MFT: negated positive is negative").value == value
    with pytest.raises(TypeError, match="must be a number"):
        report.summary(thresholds={"ece": "low"})


def test_failing_examples_are_texts_that_fail(report):
    kw = KeywordClassifier()
    ex = report.examples("MFT: negated positive is negative")
    assert len(ex) > 0 and (ex["expected"] == "negative").all()
    assert kw.predict(ex["text"].tolist()) == ex["predicted"].tolist()
    with pytest.raises(KeyError, match="no check named"):
        report.examples("nope")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def hostile_report():
    kw = KeywordClassifier(labels=(SCRIPT, IMG))
    kw.name = IMG
    mine = MFT(
        name=f"MFT: {SCRIPT}", texts=[f"good {IMG}", f"bad {SCRIPT}"], labels=["negative"] * 2
    )
    return audit(
        kw,
        tiny_dataset(),
        steps=("behavioural", "calibration"),
        tests=[mine],
        label_map={"negative": SCRIPT, "positive": IMG},
        progress=False,
    )


def test_html_is_self_contained_and_escapes_hostile_text(tmp_path):
    report = hostile_report()
    path = report.to_html(tmp_path / "report.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "iframe" not in parser.tags
    assert not [a for a in parser.attrs if a[1].startswith("on")]  # no event handlers
    for tag, attr, value in parser.attrs:
        if attr in ("src", "href"):
            assert value.startswith("data:image/png;base64,"), (tag, attr, value[:40])
    assert "http://" not in page and "https://" not in page  # nothing loaded from outside
    assert IMG not in page and SCRIPT not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    text = "".join(parser.text)
    assert IMG in text and f"MFT: {SCRIPT}" in text  # shown as text
    assert len([t for t in parser.tags if t == "img"]) == len(report.figures)
    assert report._repr_html_().count("<img") == 1  # calibration only


def test_writes_are_atomic(tmp_path, monkeypatch, report):
    target = tmp_path / "report.json"
    target.write_text("old")
    import interpkit.audit.report as module

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(module.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        report.to_json(target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left
    monkeypatch.undo()
    report.to_json(target)
    data = json.loads(target.read_text())
    assert data["format"] == "interpkit.AuditReport" and data["passed"] is False
    assert len(data["summary"]) == len(report.summary())
    assert {r["check"] for r in data["summary"]} == set(report.summary()["check"])
    assert "behavioural" in data["tables"] and "examples" in data
    with pytest.raises(IsADirectoryError, match="is a folder"):
        report.to_html(tmp_path)


def test_bad_input_gets_clear_errors():
    kw = KeywordClassifier()
    with pytest.raises(ValueError, match="unknown audit step"):
        audit(kw, tiny_dataset(), steps=("vibes",), progress=False)
    with pytest.raises(ValueError, match="no split 'dev'"):
        audit(kw, tiny_dataset(), split="dev", progress=False)
    with pytest.raises(ValueError, match="label_map"):
        audit(KeywordClassifier(labels=("bad", "good")), tiny_dataset(), progress=False)
    with pytest.raises(TypeError, match="cannot be audited"):
        audit("my model", tiny_dataset(), progress=False)


def test_public_names_and_the_callable_package():
    import interpkit.audit.report  # noqa: F401  binds the package to interpkit.audit

    assert interpkit.AuditReport is AuditReport
    report = interpkit.audit(
        KeywordClassifier(), tiny_dataset(), steps=("calibration",), progress=False
    )
    assert isinstance(report, AuditReport)
    assert np.isfinite(report.check("expected calibration error").value)
    assert re.match(r"AuditReport\(model='keyword-model', checks=1, ", repr(report))


def test_tiny_bert_audit_with_integrated_gradients(tiny):
    report = audit(
        tiny,
        tiny_dataset(),
        steps=("robustness",),
        n_perturb=4,
        n_adversarial=2,
        options={"integrated_gradients": {"n_steps": 5}},
        progress=False,
    )
    adv = report.tables["robustness"]["adversarial"]
    assert len(adv) == 2 and set(adv["method"]) == {"integrated_gradients"}
    assert "adversarial flip rate (integrated_gradients)" in set(report.summary()["check"])
