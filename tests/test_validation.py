"""One message per kind of mistake (interpkit.validation)."""

import numpy as np
import pytest

from interpkit import validation as v


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
