"""One message per kind of mistake (interpkit.validation)."""

import numpy as np
import pytest

from interpkit import validation as v
from interpkit.validation import (
    find_sentiment_roles,
    resolve_label,
    resolve_labels,
    sentiment_roles,
    target_indices,
)


def test_positive_int_accepts_ints_and_allowed_words_only():
    assert v.check_positive_int("n", 3) == 3
    assert v.check_positive_int("n", np.int64(2)) == 2
    assert v.check_positive_int("n", "auto", allow=("auto",)) == "auto"
    for bad in (0, -1, 2.0, True, "3", None):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            v.check_positive_int("n", bad)


def test_numbers_and_fractions():
    assert v.check_positive_number("t", 2) == 2.0
    assert v.check_non_negative_number("l1", 0) == 0.0
    assert v.check_fraction("k", 1) == 1.0
    assert v.check_fraction("a", 0, closed_low=True) == 0.0
    for bad in (0, 1.5, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match=r"k must be a number in \(0, 1\]"):
            v.check_fraction("k", bad)
    with pytest.raises(ValueError, match="positive number"):
        v.check_positive_number("t", float("inf"))


def test_choice_and_texts():
    assert v.check_choice("output", "logit", ("probability", "logit")) == "logit"
    with pytest.raises(ValueError, match="'probability', 'logit'"):
        v.check_choice("output", "prob", ("probability", "logit"))
    assert v.check_texts("a film") == ["a film"]
    with pytest.raises(ValueError, match="text #1 is empty"):
        v.check_texts(["a", "  "])
    with pytest.raises(TypeError, match="not a string"):
        v.check_texts(["a", 3])


def test_resolve_label_by_name_or_index():
    labels = ("negative", "positive")
    assert v.resolve_label(labels, "positive") == 1
    assert v.resolve_label(labels, np.int32(0)) == 0
    with pytest.raises(ValueError, match="out of range"):
        v.resolve_label(labels, 2)
    with pytest.raises(ValueError, match="unknown label 'neutral'"):
        v.resolve_label(labels, "neutral")


def test_seed_bool_and_integer_floors():
    assert v.check_seed(0) == 0 and v.check_seed(None) is None and v.check_seed(np.int64(3)) == 3
    for bad in (-1, 1.0, True, "0"):
        with pytest.raises(ValueError, match="seed must be a non-negative integer or None"):
            v.check_seed(bad)
    assert v.check_bool("residual", np.bool_(True)) is True
    with pytest.raises(ValueError, match="residual must be True or False"):
        v.check_bool("residual", 1)
    assert v.check_int_at_least("holdout", 2, 2) == 2
    with pytest.raises(ValueError, match="holdout must be an integer of at least 2, got 1"):
        v.check_int_at_least("holdout", 1, 2)
    assert v.check_positive_int("n", None, allow=(None,)) is None
    with pytest.raises(ValueError, match="n must be a positive integer or None, got 0"):
        v.check_positive_int("n", 0, allow=(None,))
    with pytest.raises(
        ValueError, match=r"ci must be a number in \(0, 1\), got 1: pass e\.g\. 0\.95"
    ):
        v.check_fraction("ci", 1, closed_high=False, hint="pass e.g. 0.95")


def test_the_old_labels_module_is_a_re_export():
    from interpkit import labels

    assert labels.class_index is resolve_label and labels.class_indices is resolve_labels
    assert labels.sentiment_roles is sentiment_roles


# --------------------------------------------------------------------------- labels and roles
# (formerly tests/test_labels.py: interpkit.labels folded into interpkit.validation)

FIVE = ("very_negative", "negative", "neutral", "positive", "very_positive")
FIVE_MAP = {"negative": ["very_negative", "negative"], "positive": ["positive", "very_positive"]}


def test_resolve_label_by_name_index_and_case():
    labels = ("negative", "positive")
    assert resolve_label(labels, "positive") == 1
    assert resolve_label(labels, np.int64(0)) == 0
    assert resolve_label(labels, "POSITIVE") == 1  # a unique case-insensitive match
    with pytest.raises(ValueError, match=r"unknown label 'neutral' in the data: .*'negative'"):
        resolve_label(labels, "neutral", where="the data")
    with pytest.raises(ValueError, match="out of range"):
        resolve_label(labels, 2)
    with pytest.raises(ValueError, match="unknown label True"):
        resolve_label(labels, True)  # a bool is not an index


def test_integer_labels_map_by_the_data_names_not_by_position():
    # the data says 0 = negative, 1 = positive; the classifier has them the other way round
    ids = resolve_labels(("positive", "negative"), [0, 1, 1], names=["negative", "positive"])
    assert ids.tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    "labels, negative, positive",
    [
        (("negative", "positive"), (0,), (1,)),
        (("positive", "negative"), (1,), (0,)),  # the order the outside test used
        (("Negative", "POSITIVE"), (0,), (1,)),
    ],
)
def test_a_negative_positive_pair_resolves_by_itself(labels, negative, positive):
    roles = sentiment_roles(labels)
    assert (roles.negative, roles.positive) == (negative, positive)
    probs = np.eye(2)[[positive[0], negative[0]]]
    assert roles.predicted_roles(probs) == ["positive", "negative"]
    assert roles.probability(probs, "positive").tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "labels",
    [
        ("negative", "neutral", "positive"),
        FIVE,
        ("sports", "politics"),
        ("LABEL_0", "LABEL_1"),
        ("neg", "pos"),
    ],
)
def test_any_other_label_set_is_never_guessed(labels):
    assert find_sentiment_roles(labels) is None
    with pytest.raises(ValueError, match="not a negative/positive pair.*label_map"):
        sentiment_roles(labels)
    with pytest.raises(ValueError, match="label_map"):
        target_indices(labels, "positive")


def test_label_map_gives_roles_one_or_several_classes():
    roles = sentiment_roles(FIVE, FIVE_MAP)
    assert roles.negative == (0, 1) and roles.positive == (3, 4)
    assert roles.role_of(2) is None  # neutral is neither
    probs = np.array([[0.0, 0.1, 0.2, 0.3, 0.4]])
    assert roles.probability(probs, "positive")[0] == pytest.approx(0.7)
    assert roles.predicted_roles(probs) == ["positive"]  # very_positive is positive
    assert "positive = 'positive', 'very_positive'" in roles.describe()
    assert target_indices(FIVE, "positive", FIVE_MAP) == (3, 4)
    assert target_indices(FIVE, "neutral", FIVE_MAP) == (2,)  # a class name is a class
    single = sentiment_roles(("LABEL_0", "LABEL_1"), {"negative": "LABEL_0", "positive": "LABEL_1"})
    assert single.positive == (1,)


@pytest.mark.parametrize(
    "label_map, error, match",
    [
        ({"positive": "very_positive"}, ValueError, "'positive' classes but not the 'negative'"),
        ({"negative": "negative", "positive": "great"}, ValueError, "'great'.*its labels are"),
        (
            {"negative": ["negative", "neutral"], "positive": ["neutral", "positive"]},
            ValueError,
            "'neutral' in both",
        ),
        ({"positive": []}, TypeError, "non-empty list"),
        (["negative", "positive"], TypeError, "must be a dict"),
    ],
)
def test_a_wrong_label_map_is_an_error_that_names_the_classes(label_map, error, match):
    with pytest.raises(error, match=match):
        find_sentiment_roles(FIVE, label_map)
