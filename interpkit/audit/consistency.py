"""Consistency: accuracy and F1 across slices of the data and across domains.

A model that is right on average can be wrong on a slice that matters: long texts, texts with
a negation, snippets about movies it never saw in training, or text from another domain.
Slices are named boolean functions of a text (add your own); domains are labelled sets such
as the VADER paper's tweets, Amazon reviews and NYT editorials
(:func:`interpkit.data.load_out_of_domain`).

Example
-------
>>> slice_metrics(clf, test_frame, train_movies=set(train_frame["movie"]))
>>> domain_metrics(clf, {"movies (test)": test_frame, "tweets": load_out_of_domain("tweets", 500)})
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ._common import Predictor

NEGATION = re.compile(
    r"\b(not|no|never|nothing|nobody|none|neither|nor|cannot|without|hardly)\b|n't\b", re.I
)
CONTRAST = re.compile(r"\b(but|however|although|though|yet)\b", re.I)


def default_slices() -> dict[str, Callable[[str], bool]]:
    """Length buckets (words), negation, contrast and questions: name -> ``text -> bool``."""

    def n_words(text: str) -> int:
        return len(text.split())

    return {
        "short (<= 10 words)": lambda t: n_words(t) <= 10,
        "medium (11-25 words)": lambda t: 10 < n_words(t) <= 25,
        "long (> 25 words)": lambda t: n_words(t) > 25,
        "contains negation": lambda t: bool(NEGATION.search(t)),
        "no negation": lambda t: not NEGATION.search(t),
        "contains contrast (but, however, ...)": lambda t: bool(CONTRAST.search(t)),
        "question": lambda t: "?" in t,
    }


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(y_true, y_pred)), float(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )


def _label_ids(frame: pd.DataFrame, labels, names) -> np.ndarray:
    """Label column as class indices of the classifier (names given by ``names`` for ints)."""
    values = frame["label"].tolist()
    out = []
    for v in values:
        name = names[int(v)] if not isinstance(v, str) and names is not None else str(v)
        if name not in labels:
            raise ValueError(
                f"label {name!r} of the data is not a class of the classifier {list(labels)}: "
                "the data's label names must match the classifier's"
            )
        out.append(list(labels).index(name))
    return np.array(out)


def slice_metrics(
    classifier,
    frame: pd.DataFrame,
    slices: dict[str, Callable[[str], bool]] | None = None,
    train_movies: set | None = None,
    label_names=None,
) -> pd.DataFrame:
    """Accuracy and macro-F1 per slice of ``frame`` (columns ``text``, ``label``).

    One row for everything, then one per slice: ``slice``, ``n``, ``accuracy``, ``macro_f1``,
    ``gap`` (overall accuracy minus the slice's). With ``train_movies`` and a ``movie`` column,
    two more slices split the texts by whether their movie was in the training data (when
    both are non-empty).
    ``label_names`` turns integer labels into the classifier's names (default: its labels).
    """
    predictor = Predictor(classifier)
    slices = dict(default_slices() if slices is None else slices)
    texts = frame["text"].astype(str).tolist()
    y_true = _label_ids(frame, predictor.labels, label_names or predictor.labels)
    y_pred = predictor.predict_proba(texts).argmax(axis=1)
    masks = {name: np.array([bool(fn(t)) for t in texts]) for name, fn in slices.items()}
    if train_movies is not None and "movie" in frame.columns:
        seen = frame["movie"].isin(train_movies).to_numpy()
        if seen.any() and not seen.all():  # (all seen: the data review reports it)
            masks["movie seen in training"] = seen
            masks["movie not in training"] = ~seen
    acc, f1 = _scores(y_true, y_pred)
    rows = [{"slice": "all", "n": len(texts), "accuracy": acc, "macro_f1": f1, "gap": 0.0}]
    for name, mask in masks.items():
        if mask.sum() == 0:
            rows.append({"slice": name, "n": 0, "accuracy": np.nan, "macro_f1": np.nan})
            continue
        s_acc, s_f1 = _scores(y_true[mask], y_pred[mask])
        rows.append({"slice": name, "n": int(mask.sum()), "accuracy": s_acc, "macro_f1": s_f1})
    out = pd.DataFrame(rows)
    out["gap"] = acc - out["accuracy"]
    errors = frame.assign(
        expected=[predictor.labels[i] for i in y_true],
        predicted=[predictor.labels[i] for i in y_pred],
    )[y_true != y_pred]
    out.attrs["errors"] = errors.reset_index(drop=True)
    out.attrs["masks"] = {k: v[y_true != y_pred] for k, v in masks.items()}
    return out


def domain_metrics(classifier, domains: dict[str, pd.DataFrame], reference: str | None = None):
    """Accuracy and macro-F1 per labelled set; ``drop`` = reference accuracy minus each set's.

    ``domains`` maps a name to a frame with ``text`` and ``label`` (integer labels index the
    classifier's labels). ``reference`` (default: the first set) is the in-domain set.
    """
    if not domains:
        raise ValueError("no domains given: pass {'name': frame with text and label, ...}")
    predictor = Predictor(classifier)
    reference = reference or next(iter(domains))
    if reference not in domains:
        raise ValueError(f"reference {reference!r} is not one of the domains {list(domains)}")
    rows, errors = [], {}
    for name, frame in domains.items():
        texts = frame["text"].astype(str).tolist()
        y_true = _label_ids(frame, predictor.labels, predictor.labels)
        probs = predictor.predict_proba(texts)
        y_pred = probs.argmax(axis=1)
        acc, f1 = _scores(y_true, y_pred)
        rows.append(
            {
                "domain": name,
                "n": len(texts),
                "positive_share": float(np.mean(y_true == len(predictor.labels) - 1)),
                "predicted_positive_share": float(np.mean(y_pred == len(predictor.labels) - 1)),
                "accuracy": acc,
                "macro_f1": f1,
            }
        )
        wrong = y_true != y_pred
        errors[name] = frame.assign(
            expected=[predictor.labels[i] for i in y_true],
            predicted=[predictor.labels[i] for i in y_pred],
            confidence=probs.max(axis=1),
        )[wrong].reset_index(drop=True)
    out = pd.DataFrame(rows)
    ref = float(out.loc[out["domain"] == reference, "accuracy"].iloc[0])
    out["drop"] = ref - out["accuracy"]
    out.attrs["reference"] = reference
    out.attrs["errors"] = errors
    return out
