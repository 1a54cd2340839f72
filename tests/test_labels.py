"""interpkit.labels: the one place that maps label names to classes and finds sentiment roles."""

import numpy as np
import pytest

from interpkit.labels import (
    class_index,
    class_indices,
    find_sentiment_roles,
    sentiment_roles,
    target_indices,
)

FIVE = ("very_negative", "negative", "neutral", "positive", "very_positive")
FIVE_MAP = {"negative": ["very_negative", "negative"], "positive": ["positive", "very_positive"]}


def test_class_index_by_name_index_and_case():
    labels = ("negative", "positive")
    assert class_index(labels, "positive") == 1
    assert class_index(labels, np.int64(0)) == 0
    assert class_index(labels, "POSITIVE") == 1  # a unique case-insensitive match
    with pytest.raises(ValueError, match=r"unknown label 'neutral' in the data: .*'negative'"):
        class_index(labels, "neutral", where="the data")
    with pytest.raises(ValueError, match="out of range"):
        class_index(labels, 2)
    with pytest.raises(ValueError, match="unknown label True"):
        class_index(labels, True)  # a bool is not an index


def test_integer_labels_map_by_the_data_names_not_by_position():
    # the data says 0 = negative, 1 = positive; the classifier has them the other way round
    ids = class_indices(("positive", "negative"), [0, 1, 1], names=["negative", "positive"])
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
