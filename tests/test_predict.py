"""The prediction seam: the TextClassifier protocol and the memoising Predictor."""

import numpy as np
import pytest

from interpkit.predict import Predictor, TextClassifier, as_predictor


class Counting:
    """A keyword classifier that records every call it gets."""

    labels = ("negative", "positive")

    def __init__(self):
        self.calls = []

    def predict_proba(self, texts, batch_size=64):
        texts = list(texts)
        self.calls.append(texts)
        p = np.array([0.9 if "good" in t else 0.1 for t in texts])
        return np.stack([1 - p, p], axis=1)


def test_protocol_recognises_duck_typed_classifiers():
    assert isinstance(Counting(), TextClassifier)
    assert not isinstance(object(), TextClassifier)


def test_each_distinct_text_is_predicted_once_and_order_is_kept():
    model = Counting()
    predictor = Predictor(model)
    probs = predictor.predict_proba(["a good film", "a bad film", "a good film"])
    assert probs[:, 1].tolist() == [0.9, 0.1, 0.9]
    assert predictor.texts_predicted == 2 and predictor.texts_requested == 3
    again = predictor.predict_proba(["a bad film", "good"])
    assert again[:, 1].tolist() == [0.1, 0.9]
    assert [len(c) for c in model.calls] == [2, 1]  # only "good" was new
    assert predictor.predict(["good", "bad"]) == ["positive", "negative"]


def test_new_texts_go_in_length_sorted_batches_and_report_progress():
    model = Counting()
    seen = []
    predictor = Predictor(model, batch_size=2, on_batch=lambda done, n: seen.append((done, n)))
    texts = ["a much longer good text here", "b", "ccc good", "dd"]
    predictor.predict_proba(texts)
    assert [len(c) for c in model.calls] == [2, 2]
    assert model.calls[0] == ["b", "dd"]  # shortest first: little padding per batch
    assert seen == [(2, 4), (4, 4)]


def test_blank_texts_are_allowed():
    model = Counting()
    predictor = Predictor(model)
    probs = predictor.predict_proba(["", "good"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)


def test_blank_text_on_a_real_classifier_uses_predict_empty(tiny):
    predictor = Predictor(tiny)
    probs = predictor.predict_proba(["   ", "a good film"])
    assert np.allclose(probs[0], tiny.predict_empty(), atol=1e-6)


def test_as_predictor_shares_memory_and_wrong_shapes_are_refused():
    predictor = Predictor(Counting())
    assert as_predictor(predictor) is predictor
    assert isinstance(as_predictor(Counting()), Predictor)

    class Broken(Counting):
        def predict_proba(self, texts, batch_size=64):
            return np.zeros((1, 3))

    with pytest.raises(ValueError, match="expected"):
        Predictor(Broken()).predict_proba(["a", "b"])


def test_not_a_classifier_gets_a_clear_error():
    with pytest.raises(TypeError, match="predict_proba"):
        Predictor(object())
    with pytest.raises(ValueError, match="batch_size"):
        Predictor(Counting(), batch_size=0)


def test_without_on_batch_a_request_is_one_call_and_an_empty_memory_is_still_truthy():
    model = Counting()
    predictor = Predictor(model, batch_size=2)
    assert predictor and len(predictor) == 0  # `predictor or fallback` keeps the predictor
    predictor.predict_proba(["a", "bb", "ccc good", "dddd"])
    assert [len(c) for c in model.calls] == [4]  # the classifier batches them itself


def test_a_predictor_shared_with_an_explainer_keeps_what_lime_predicted(tiny):
    import interpkit

    predictor = Predictor(tiny)
    e = interpkit.explain(predictor, "a good film", method="lime", n_samples=40, seed=0)
    assert predictor.texts_requested == e.diagnostics["evaluations"] == 40
    calls = predictor.model_calls
    again = interpkit.explain(predictor, "a good film", method="lime", n_samples=40, seed=0)
    assert predictor.model_calls == calls and again.diagnostics["predicted"] == 0
    np.testing.assert_array_equal(again.word_scores, e.word_scores)


def test_the_error_names_what_was_being_done():
    from interpkit.predict import check_classifier

    with pytest.raises(TypeError, match="str cannot be audited: it has no predict_proba"):
        check_classifier("my model", "audited")
