"""How well a classifier does on a labelled split: accuracy, macro-F1, cross-entropy.

The same two scores the Trainer reports each epoch (``eval_accuracy``, ``eval_macro_f1``) are
computed here for any classifier, so a model loaded later is scored exactly as during training.

Example
-------
>>> interpkit.evaluate(clf, interpkit.load_dataset()["test"])
{'accuracy': 0.83, 'macro_f1': 0.83, 'loss': 0.41, 'n': 1066}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..predict import TextClassifier, check_classifier
from ..validation import check_positive_int
from .splits import label_ids

if TYPE_CHECKING:
    from datasets import Dataset


def accuracy_and_f1(labels: Sequence[int] | np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """``{"accuracy", "macro_f1"}`` of predicted class ids against the true ones."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, average="macro")),
    }


def evaluate(classifier: TextClassifier, split: Dataset, batch_size: int = 64) -> dict[str, float]:
    """Accuracy, macro-F1 and cross-entropy loss of ``classifier`` on a labelled split.

    Parameters
    ----------
    classifier : TextClassifier
        The model to score (an interpkit Classifier or any object with ``labels`` and
        ``predict_proba(texts, batch_size)``).
    split : datasets.Dataset
        ``text`` and ``label`` columns (labels matched to the classes by name).
    batch_size : int, default 64
        Texts per forward pass.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``loss`` and ``n`` (rows scored).
    """
    from sklearn.metrics import log_loss

    check_classifier(classifier)
    check_positive_int("batch_size", batch_size)
    labels = label_ids(classifier, split, "evaluation")
    probs = classifier.predict_proba(list(split["text"]), batch_size=batch_size)
    loss = log_loss(labels, probs, labels=list(range(len(classifier.labels))))
    return {**accuracy_and_f1(labels, probs.argmax(1)), "loss": float(loss), "n": len(labels)}
