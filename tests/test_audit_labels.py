"""The audit on other label orders and label sets: right numbers, or a skip that says why.

Known-behaviour models: the keyword model with its classes in another order, and graded keyword
models with 3 or 5 ordered sentiment classes (score -2 .. 2 → very_negative .. very_positive).
"""

import json

import numpy as np
import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from interpkit.audit import audit, domain_metrics, run_tests
from interpkit.data import load_out_of_domain
from interpkit.models import as_text_list
from interpkit.testing import KeywordClassifier, tiny_dataset

FIVE = ("very_negative", "negative", "neutral", "positive", "very_positive")
THREE = ("negative", "neutral", "positive")
FIVE_MAP = {"negative": ["very_negative", "negative"], "positive": ["positive", "very_positive"]}
FAST = dict(
    n_perturb=20,
    n_adversarial=5,
    adversarial_method="random",
    out_of_domain=("tweets",),
    n_out_of_domain=40,
    n_boot=10,
    progress=False,
)


class Reordered:
    """The keyword model with its two classes in the order given (columns permuted to match).

    A text without sentiment words gets p = 0.5 from the keyword model, and argmax breaks that
    tie by column order; here such texts lean negative by 0.001 in every order."""

    name = "keyword-model"

    def __init__(self, labels=("positive", "negative")):
        self.model = KeywordClassifier()
        self.labels = tuple(labels)
        self.columns = [list(self.model.labels).index(x) for x in self.labels]

    def predict_proba(self, texts, batch_size=64):
        probs = self.model.predict_proba(texts) + [0.001, 0.0]
        return (probs / probs.sum(axis=1, keepdims=True))[:, self.columns]


class AlwaysNegative:
    """Predicts negative for every text; its labels in the outside test's order."""

    name = "always-negative"
    labels = ("positive", "negative")

    def predict_proba(self, texts, batch_size=64):
        return np.tile([0.1, 0.9], (len(as_text_list(texts)), 1))


class Graded:
    """Keyword score → one of k ordered sentiment classes; ``gain`` 2 sends any positive word to
    the most positive class (so a 5-class model predicts ``very_positive`` for "a good film")."""

    def __init__(self, labels=FIVE, gain=2.0):
        self.kw = KeywordClassifier()
        self.labels = tuple(labels)
        self.gain = gain
        self.name = f"graded-{len(labels)}"

    def predict_proba(self, texts, batch_size=64):
        half = len(self.labels) // 2
        score = np.clip([self.gain * self.kw.score(t) for t in as_text_list(texts)], -half, half)
        logits = -4.0 * (score[:, None] - np.arange(-half, half + 1)[None, :]) ** 2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)


def graded_dataset(labels, n=12):
    """Texts whose keyword score picks each class, labelled with the class names."""
    half = len(labels) // 2
    pos, neg = ["good", "great", "wonderful"], ["bad", "awful", "boring"]
    rows = []
    for k, label in enumerate(labels):
        score = k - half
        for i in range(n):
            words = (pos if score > 0 else neg)[: abs(score)] if score else []
            rows.append({"text": " ".join(["the film", *words, f"scene {i}"]), "label": label})
    frame = pd.DataFrame(rows).sample(frac=1, random_state=0).reset_index(drop=True)
    feats = Features({"text": Value("string"), "label": ClassLabel(names=list(labels))})
    parts = np.array_split(np.arange(len(frame)), [len(frame) // 2, 3 * len(frame) // 4])
    return DatasetDict(
        {
            split: Dataset.from_pandas(frame.iloc[idx], features=feats, preserve_index=False)
            for split, idx in zip(("train", "validation", "test"), parts, strict=True)
        }
    )


def _values(report):
    return report.summary().set_index("check")["value"]


# --------------------------------------------------------------------------- label order


def test_out_of_domain_sentence_gives_the_true_share_of_each_role_whatever_the_order():
    """Issue 12.1: with labels [positive, negative] the report said 'predicts positive 100%
    (truth 22.5%)' for a model that predicted negative for every tweet."""
    report = audit(AlwaysNegative(), tiny_dataset(), steps=("consistency",), **FAST)
    tweets = load_out_of_domain("tweets", n=40, seed=0)
    truth = tweets["label"].mean()  # 1 = positive rating
    row = report.tables["consistency"]["domains"].set_index("domain").loc["tweets"]
    assert row["positive_share"] == pytest.approx(truth)
    assert row["negative_share"] == pytest.approx(1 - truth)
    assert row["predicted_positive_share"] == 0.0 and row["predicted_negative_share"] == 1.0
    assert row["accuracy"] == pytest.approx(1 - truth)
    detail = report.check("domain: tweets").detail
    assert "predicts positive 0.0% and negative 100.0%" in detail
    assert f"truth: positive {100 * truth:.1f}%, negative {100 * (1 - truth):.1f}%" in detail


def test_every_check_has_the_same_value_when_the_classes_are_reordered():
    plain = audit(Reordered(("negative", "positive")), tiny_dataset(), **FAST)
    reordered = audit(Reordered(("positive", "negative")), tiny_dataset(), **FAST)
    a, b = _values(plain), _values(reordered)
    assert list(a.index) == list(b.index) and len(a) > 20
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), equal_nan=True)
    assert "skipped" not in set(reordered.summary()["status"])
    domains = reordered.tables["consistency"]["domains"]
    pd.testing.assert_frame_equal(domains, plain.tables["consistency"]["domains"])


def test_domain_metrics_with_reordered_classes_and_role_names():
    kw, reordered = KeywordClassifier(), Reordered(("positive", "negative"))
    frame = pd.DataFrame(
        {
            "text": ["a good film", "a bad film", "meh"],
            "label": ["positive", "negative", "positive"],
        }
    )
    for model in (kw, reordered):
        row = domain_metrics(model, {"set": frame}).iloc[0]
        assert row["accuracy"] == pytest.approx(2 / 3)
        assert row["positive_share"] == pytest.approx(2 / 3)
        assert row["predicted_positive_share"] == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- other label sets


@pytest.fixture(scope="module")
def five_class_report():
    return audit(Graded(FIVE), graded_dataset(FIVE), **FAST)


def test_a_five_class_model_gets_the_class_agnostic_steps_and_a_note_per_skip(five_class_report):
    s = five_class_report.summary()
    status = s.set_index("check")["status"]
    assert status["MFT and DIR tests"] == "skipped"
    assert status["fairness"] == "skipped"
    assert status["domains: tweets"] == "skipped"
    # nothing scored against a guessed 'positive' class
    assert not s["check"].str.startswith(("MFT:", "DIR:", "demographic", "equal")).any()
    assert not s["check"].str.startswith("domain: ").any()
    ran = s[s["status"] != "skipped"]
    assert set(ran["section"]) == {
        "data",
        "behavioural",
        "robustness",
        "consistency",
        "calibration",
    }
    assert ran[ran["section"] == "behavioural"]["check"].str.startswith("INV:").all()
    assert np.isfinite(five_class_report.check("expected calibration error").value)
    for _, row in s[s["status"] == "skipped"].iterrows():
        assert "not a negative/positive pair" in row["detail"] and "label_map" in row["detail"]
        assert "'very_positive'" in row["detail"]
    assert five_class_report.meta["sentiment_classes"] == "none"
    assert five_class_report.meta["skipped"] == ["MFT and DIR tests", "fairness", "domains: tweets"]
    assert "skipped=3" in repr(five_class_report)


def test_skips_are_in_the_html_and_json(five_class_report, tmp_path):
    page = five_class_report.to_html(tmp_path / "r.html").read_text()
    assert "Not run:" in page and "fairness (selection rate = share predicted positive)" in page
    assert "SKIPPED" in page
    assert "Not run:" in five_class_report._repr_html_()
    data = json.loads(five_class_report.to_json(tmp_path / "r.json").read_text())
    skipped = [r for r in data["summary"] if r["status"] == "skipped"]
    assert [r["check"] for r in skipped] == ["MFT and DIR tests", "fairness", "domains: tweets"]
    assert all(r["value"] is None and "label_map" in r["detail"] for r in skipped)
    assert data["passed"] in (True, False)  # a skip never fails the audit by itself


def test_label_map_opts_a_five_class_model_into_the_sentiment_steps():
    report = audit(Graded(FIVE), graded_dataset(FIVE), label_map=FIVE_MAP, **FAST)
    s = report.summary()
    assert "skipped" not in set(s["status"])
    rate = s.set_index("check")["value"]
    # 'a good film' → very_positive, which label_map counts as positive: no failure
    assert rate["MFT: positive sentences"] == 0.0
    assert rate["MFT: negative sentences"] == 0.0
    assert rate["MFT: negated positive is negative"] == 1.0  # the keywords ignore negation
    assert rate["demographic parity difference: religion"] == 0.0
    cases = report.tables["behavioural"]["cases"]
    positive = cases[cases["test"] == "MFT: positive sentences"]
    assert set(positive["predicted"]) == {"very_positive"} and positive["passed"].all()
    assert set(positive["expected"]) == {"positive"}  # the role, as it stands for two classes
    row = report.tables["consistency"]["domains"].set_index("domain").loc["tweets"]
    truth = load_out_of_domain("tweets", n=40, seed=0)["label"].mean()
    assert row["positive_share"] == pytest.approx(truth)
    assert report.meta["sentiment_classes"].startswith("negative = 'very_negative', 'negative'")


def test_run_tests_on_a_five_class_model_refuses_to_guess():
    with pytest.raises(ValueError, match="not a negative/positive pair.*label_map"):
        run_tests(Graded(FIVE))
    cases, _ = run_tests(Graded(FIVE), label_map=FIVE_MAP)
    mft = cases[cases["kind"] == "MFT"]
    assert (
        mft["passed"]
        == mft["predicted"]
        .isin(["positive", "very_positive"])
        .where(mft["expected"] == "positive", mft["predicted"].isin(["negative", "very_negative"]))
    ).all()


def test_a_three_class_tiny_bert_audits_with_skips_and_opts_in_with_label_map():
    from interpkit.testing import tiny_classifier

    clf = tiny_classifier(labels=THREE)
    data = graded_dataset(THREE)
    settings = dict(FAST, steps=("behavioural", "fairness", "consistency", "calibration"))
    report = audit(clf, data, **settings)
    status = report.summary().set_index("check")["status"]
    assert {"MFT and DIR tests", "fairness", "domains: tweets"} <= set(
        status[status == "skipped"].index
    )
    assert status["slice: no negation"] != "skipped"
    opt_in = dict(settings, steps=("behavioural", "fairness"))
    opted = audit(clf, data, label_map={"negative": "negative", "positive": "positive"}, **opt_in)
    assert "skipped" not in set(opted.summary()["status"])
    cases = opted.tables["behavioural"]["cases"]
    mft = cases[cases["kind"] == "MFT"]
    assert (mft["passed"] == (mft["predicted"] == mft["expected"])).all()  # neutral is a miss


def test_a_topic_classifier_gets_the_class_agnostic_steps():
    topics = ("sports", "politics")

    class Topic:
        name = "topic"
        labels = topics

        def predict_proba(self, texts, batch_size=64):
            p = np.array([0.8 if "game" in t else 0.3 for t in as_text_list(texts)])
            return np.stack([p, 1 - p], axis=1)

    frame = pd.DataFrame(
        {"text": [f"the game {i}" for i in range(20)] + [f"the vote {i}" for i in range(20)],
         "label": ["sports"] * 20 + ["politics"] * 20}
    )  # fmt: skip
    report = audit(Topic(), {"test": frame}, **FAST)
    s = report.summary().set_index("check")
    assert s.loc["slice: short (<= 10 words)", "status"] != "skipped"
    assert s.loc["expected calibration error", "value"] == pytest.approx(
        abs(0.8 - 1.0) / 2 + abs(0.7 - 1.0) / 2
    )
    assert s.loc["fairness", "status"] == "skipped"


def test_audit_view_counts_skipped_checks_and_lists_them_last(five_class_report):
    from interpkit.widgets import AuditView

    view = AuditView(five_class_report, show="all")
    header = view._repr_html_()
    assert "SKIPPED" in header
    names = [value for _, value in view.check_select.options]
    skipped = set(five_class_report.summary().query("status == 'skipped'")["check"])
    assert skipped and set(names[-len(skipped) :]) == skipped
