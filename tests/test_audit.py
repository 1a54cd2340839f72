"""Audit steps on models whose behaviour is known: a keyword model and hand-made predictions."""

import random

import numpy as np
import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from interpkit.audit import (
    DIR,
    INV,
    MFT,
    Predictor,
    adversarial_search,
    apply_temperature,
    default_tests,
    domain_metrics,
    expand,
    expected_calibration_error,
    fairness,
    fit_temperature,
    identity_cases,
    reliability_table,
    review_data,
    robustness,
    run_tests,
    slice_metrics,
)
from interpkit.audit.robustness import add_typo, drop_words, misspell
from interpkit.predict import as_predictor
from interpkit.testing import KeywordClassifier


class LookupClassifier:
    """Returns p(positive) from a dict: predictions fixed by hand."""

    labels = ("negative", "positive")

    def __init__(self, p_positive: dict):
        self.p = p_positive
        self.calls = 0

    def predict_proba(self, texts, batch_size=64):
        self.calls += 1
        p = np.array([self.p[t] for t in texts], dtype=float)
        return np.stack([1 - p, p], axis=1)


@pytest.fixture
def kw():
    return KeywordClassifier()


# --------------------------------------------------------------------------- behavioural


def test_keyword_model_fails_negation_and_passes_vocabulary_names_places(kw):
    cases, summary = run_tests(kw)
    rate = summary.set_index("test")["failure_rate"]
    assert rate["MFT: negated positive is negative"] == 1.0
    assert rate["MFT: negated negative is positive"] == 1.0
    for name in (
        "MFT: positive sentences",
        "MFT: negative sentences",
        "MFT: intensifiers",
        "MFT: intensifiers (negative)",
        "INV: change names",
        "INV: change places",
        "INV: punctuation",
        "INV: neutral sentence added",
        "DIR: positive clause added",
        "DIR: negative clause added",
    ):
        assert rate[name] == 0.0, name
    assert kw.calls == 1  # every templated and perturbed text in one batched call
    assert set(summary["kind"]) == {"MFT", "INV", "DIR"}
    failing = summary.set_index("test").loc["MFT: negated positive is negative", "example"]
    assert " not " in failing or "n't" in failing


def test_a_model_that_handles_negation_passes_the_negation_tests():
    _, summary = run_tests(KeywordClassifier(negation=True))
    rate = summary.set_index("test")["failure_rate"]
    assert rate["MFT: negated positive is negative"] == 0.0
    assert rate["MFT: negated negative is positive"] == 0.0


def test_typo_invariance_fails_exactly_where_the_sentiment_word_was_hit(kw):
    texts = ["The acting was wonderful.", "What an excellent script."] * 10  # one such word
    test = INV.from_function("INV: typos", texts, add_typo, seed=1)
    cases, _ = run_tests(kw, [test])
    hit = [kw.score(row.text) == 0 for row in cases.itertuples()]
    assert cases["passed"].tolist() == [not h for h in hit]
    assert any(hit) and not all(hit)


def test_user_tests_in_a_few_lines(kw):
    mine = MFT.from_template("MFT: recommend", "I {pos_verb_base} this {thing}.", "positive", n=10)
    direction = DIR(
        name="DIR: custom",
        originals=["a good film"],
        perturbed=["a good film, the worst"],
        label="positive",
        direction="down",
    )
    pairs = INV(name="INV: custom", originals=["a good film"], perturbed=["a good movie"])
    _, summary = run_tests(kw, [mine, direction, pairs])
    assert summary["test"].tolist() == ["MFT: recommend", "DIR: custom", "INV: custom"]
    assert summary["cases"].tolist() == [10, 1, 1]
    assert summary["failure_rate"].tolist() == [0.0, 0.0, 0.0]


def test_dir_fails_when_probability_moves_the_wrong_way(kw):
    test = DIR(
        name="DIR: wrong",
        originals=["a good film"],
        perturbed=["a good film. Overall, I hated it and it was awful."],
        label="positive",
        direction="up",
    )
    cases, summary = run_tests(kw, [test])
    assert not cases["passed"].iloc[0] and cases["change"].iloc[0] < -0.1


def test_expand_fills_templates_and_never_repeats_a_list_word():
    texts = expand("the {thing} and the {thing2}", {"thing": ["a", "b", "c"]})
    assert len(texts) == 6 and all(t.split()[1] != t.split()[-1] for t in texts)
    assert texts[0][0].isupper()
    assert expand("x {thing}", {"thing": list("abcdef")}, n=3, seed=0) == expand(
        "x {thing}", {"thing": list("abcdef")}, n=3, seed=0
    )
    with pytest.raises(ValueError, match="no word list 'colour'"):
        expand("a {colour} film")


def test_bad_tests_get_clear_errors(kw):
    with pytest.raises(ValueError, match="one label per text"):
        MFT(name="x", texts=["a"], labels=[])
    with pytest.raises(ValueError, match="unique"):
        run_tests(kw, [default_tests()[0], default_tests()[0]])
    with pytest.raises(ValueError, match="label_map"):
        run_tests(KeywordClassifier(labels=("neg", "pos")), default_tests()[:1])
    cases, _ = run_tests(
        KeywordClassifier(labels=("neg", "pos")),
        default_tests()[:1],
        label_map={"negative": "neg", "positive": "pos"},
    )
    assert set(cases["expected"]) == {"pos"}
    with pytest.raises(TypeError, match="cannot be audited"):
        run_tests(object())


# --------------------------------------------------------------------------- robustness


def test_perturbations():
    rng = random.Random(0)
    typo = add_typo("a wonderful film", rng)
    assert typo != "a wonderful film" and len(typo) == len("a wonderful film")
    assert sorted(typo) == sorted("a wonderful film")
    assert add_typo("a b c", rng) == "a b c"  # no word long enough
    assert misspell("great") == "graet" and misspell("good") != "good"
    dropped = drop_words("one two three four", rng, p=0.0)
    assert len(dropped.split()) == 3


def test_robustness_flip_rates_of_the_keyword_model(kw):
    texts = ["good", "a good film", "a wonderful story"]
    flips = robustness(kw, texts, n_variants=4, seed=0)
    assert kw.calls == 1
    assert set(flips["perturbation"]) == {"typo", "word_dropout"}
    for row in flips.itertuples():
        assert row.flipped == (np.sign(kw.score(row.text)) <= 0)


def test_adversarial_search_finds_the_smallest_flipping_edit(kw):
    texts = ["a good film", "a good and wonderful film", "what a film"]
    out = adversarial_search(kw, texts, method="random", max_words=3, seed=0)
    assert kw.calls == 1  # originals and every candidate in one call
    assert out["flipped"].tolist() == [True, True, False]
    assert out["words_changed"].iloc[0] == 1 and "'good'" in out["edit"].iloc[0]
    assert out["words_changed"].iloc[1] >= 2  # both sentiment words must go
    assert kw.score(out["adversarial_text"].iloc[1]) <= 0
    assert np.isnan(out["words_changed"].iloc[2])
    assert out["new_label"].iloc[0] == "negative"
    with pytest.raises(ValueError, match="max_words"):
        adversarial_search(kw, texts, method="random", max_words=0)


def test_explanation_guided_search_on_a_real_bert(tiny):
    texts = ["a good film but the plot was dull", "the worst film"]
    out = adversarial_search(tiny, texts, method="saliency", max_words=2)
    assert len(out) == 2 and set(out["method"]) == {"saliency"}
    flipped = out[out["flipped"]]
    if len(flipped):
        probs = tiny.predict_proba(flipped["adversarial_text"].tolist())
        assert [tiny.labels[i] for i in probs.argmax(1)] == flipped["new_label"].tolist()


# --------------------------------------------------------------------------- fairness


def test_fairness_matches_fairlearn_and_a_hand_computed_case():
    from fairlearn.metrics import demographic_parity_difference, equal_opportunity_difference

    cases = pd.DataFrame(
        {
            "attribute": ["x"] * 8,
            "group": ["a"] * 4 + ["b"] * 4,
            "text": [f"t{i}" for i in range(8)],
            "label": ["positive", "positive", "negative", "negative"] * 2,
        }
    )
    # group a predicts positive for t0, t1, t2 (selection 3/4, TPR 2/2);
    # group b for t4 only (selection 1/4, TPR 1/2)
    p = {"t0": 0.9, "t1": 0.8, "t2": 0.7, "t3": 0.1, "t4": 0.9, "t5": 0.2, "t6": 0.3, "t7": 0.1}
    groups, summary = fairness(LookupClassifier(p), cases, n_boot=20)
    row = summary.iloc[0]
    assert row["demographic_parity_difference"] == pytest.approx(0.5)
    assert row["equal_opportunity_difference"] == pytest.approx(0.5)
    y_true = [1, 1, 0, 0] * 2
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    sf = cases["group"]
    assert row["demographic_parity_difference"] == demographic_parity_difference(
        y_true, y_pred, sensitive_features=sf
    )
    assert row["equal_opportunity_difference"] == equal_opportunity_difference(
        y_true, y_pred, sensitive_features=sf
    )
    g = groups.set_index("group")
    assert g.loc["a", "selection_rate"] == 0.75 and g.loc["b", "selection_rate"] == 0.25
    assert g.loc["a", "true_positive_rate"] == 1.0 and g.loc["b", "true_positive_rate"] == 0.5
    assert g["count"].tolist() == [4, 4]
    assert (g["selection_rate_low"] <= g["selection_rate_high"]).all()
    assert row["lowest_selection"] == "b" and row["highest_selection"] == "a"


def test_identity_terms_differ_only_in_the_term(kw):
    cases = identity_cases()
    per = cases.groupby(["attribute", "group"]).size()
    assert per.nunique() == 1  # the same number of sentences for every term
    religion = cases[cases["attribute"] == "religion"]
    a = religion[religion["group"] == "Muslim"]["text"].str.replace("Muslim", "X").tolist()
    b = religion[religion["group"] == "Jewish"]["text"].str.replace("Jewish", "X").tolist()
    assert a == b
    groups, summary = fairness(kw, n_boot=10)  # the keyword model ignores identity terms
    assert (summary["demographic_parity_difference"] == 0).all()
    assert (summary["equal_opportunity_difference"] == 0).all()


# --------------------------------------------------------------------------- calibration


def test_ece_of_a_perfectly_calibrated_toy_is_zero():
    # in each confidence group exactly that share of predictions is right
    probs, labels = [], []
    for conf in (0.55, 0.65, 0.75, 0.85, 0.95):
        n = 100
        right = round(conf * n)
        probs += [[1 - conf, conf]] * n
        labels += [1] * right + [0] * (n - right)
    ece = expected_calibration_error(np.array(probs), np.array(labels))
    assert ece == pytest.approx(0.0, abs=1e-12)


def test_ece_of_an_overconfident_toy_and_temperature_scaling():
    rng = np.random.default_rng(0)
    n = 2000
    labels = rng.integers(0, 2, n)
    right = rng.random(n) < 0.7  # 70 % right, but always 99 % sure
    pred = np.where(right, labels, 1 - labels)
    probs = np.where(pred[:, None] == np.arange(2), 0.99, 0.01)
    ece = expected_calibration_error(probs, labels)
    assert ece == pytest.approx(0.99 - right.mean(), abs=1e-9)
    temp = fit_temperature(probs, labels)
    assert temp > 1
    scaled = apply_temperature(probs, temp)
    assert expected_calibration_error(scaled, labels) < 0.02
    assert (scaled.argmax(1) == probs.argmax(1)).all()  # temperature never changes a label
    table = reliability_table(probs, labels)
    assert table["count"].sum() == n and len(table) == 10
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error(probs, labels[:-1])


# --------------------------------------------------------------------------- data and slices


def _dataset(train, test, movies_train=None, movies_test=None):
    def split(texts, movies):
        data = {"text": [t for t, _ in texts], "label": [y for _, y in texts]}
        feats = {"text": Value("string"), "label": ClassLabel(names=["negative", "positive"])}
        if movies is not None:
            data["movie"] = movies
            feats["movie"] = Value("string")
        return Dataset.from_dict(data, features=Features(feats))

    return DatasetDict({"train": split(train, movies_train), "test": split(test, movies_test)})


def test_review_data_finds_duplicates_leakage_and_shared_movies():
    train = [
        ("A gripping, funny film about two brothers and their dog.", 1),
        ("Dull and far too long.", 0),
        ("dull and far too long", 0),  # a duplicate after normalising
        ("The worst script of the year by a mile.", 0),
    ]
    test = [
        ("A gripping, funny film about two brothers and their dog!", 1),  # leaked
        ("An entirely new sentence about something else.", 1),
    ]
    ds = _dataset(train, test, ["m1", "m2", "m2", "m3"], ["m1", "m9"])
    review = review_data(ds)
    dup = review["duplicates"].set_index("split")
    assert dup.loc["train", "exact"] == 1
    leak = review["leakage"].set_index("split")
    assert leak.loc["test", "leaked"] == 1 and leak.loc["test", "leakage_rate"] == 0.5
    pairs = review["near_duplicate_pairs"]
    assert pairs["train_text"].iloc[0].startswith("A gripping")
    overlap = review["group_overlap"].set_index("split")
    assert overlap.loc["test", "texts_with_group_in_train"] == 0.5
    splits = review["splits"].set_index("split")
    assert splits.loc["train", "share_negative"] == 0.75
    with pytest.raises(ValueError, match="'text' and 'label'"):
        review_data({"train": pd.DataFrame({"sentence": ["a"]})})


def test_slices_show_where_a_model_fails(kw):
    frame = pd.DataFrame(
        {
            "text": ["a good film", "a bad film", "not a good film", "not a bad film at all"],
            "label": [1, 0, 0, 1],
        }
    )
    out = slice_metrics(kw, frame).set_index("slice")
    assert out.loc["all", "accuracy"] == 0.5
    assert out.loc["contains negation", "accuracy"] == 0.0
    assert out.loc["no negation", "accuracy"] == 1.0
    assert out.loc["contains negation", "gap"] == 0.5


def test_domain_metrics_and_the_drop(kw):
    domains = {
        "in": pd.DataFrame({"text": ["a good film", "a bad film"], "label": [1, 0]}),
        "out": pd.DataFrame({"text": ["a good film", "meh"], "label": [1, 1]}),
    }
    out = domain_metrics(kw, domains).set_index("domain")
    assert out.loc["in", "accuracy"] == 1.0 and out.loc["out", "accuracy"] == 0.5
    assert out.loc["out", "drop"] == 0.5


def test_predictor_predicts_each_text_once(kw):
    pred = Predictor(kw)
    a = pred.predict_proba(["a good film", "a bad film", "a good film"])
    b = pred.predict_proba(["a bad film", "dull"])
    assert kw.calls == 2 and pred.texts_predicted == 3
    assert np.allclose(a[1], b[0])


def test_a_shared_predictor_never_predicts_a_text_twice(kw):
    from interpkit.audit import audit
    from interpkit.testing import tiny_dataset

    pred = Predictor(kw)
    assert as_predictor(pred) is pred  # one memory, passed on as it is
    settings = dict(
        steps=("behavioural", "robustness", "fairness", "calibration"),
        n_perturb=10,
        n_adversarial=3,
        adversarial_method="random",
        n_boot=5,
        progress=False,
    )
    first = audit(pred, tiny_dataset(), **settings)
    calls, predicted = kw.calls, pred.texts_predicted
    second = audit(pred, tiny_dataset(), **settings)
    assert kw.calls == calls and pred.texts_predicted == predicted  # all from memory
    assert first.summary()["value"].equals(second.summary()["value"])


def test_explanation_guided_search_needs_an_explainable_model(kw):
    with pytest.raises(TypeError, match="method='random'"):
        adversarial_search(kw, ["a good film"], method="integrated_gradients")
