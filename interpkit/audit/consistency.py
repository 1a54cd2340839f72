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

from ..predict import Predictor, TextClassifier
from ..validation import ROLES, SentimentRoles, find_sentiment_roles, resolve_label, resolve_labels
from ._common import audit_predictor

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
    try:
        return resolve_labels(labels, frame["label"].tolist(), names, where="the data")
    except ValueError as err:
        raise ValueError(f"{err}: the data's label names must match the classifier's") from None


def slice_metrics(
    classifier: TextClassifier | Predictor,
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
    predictor = audit_predictor(classifier)
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


def domain_metrics(
    classifier: TextClassifier | Predictor,
    domains: dict[str, pd.DataFrame],
    reference: str | None = None,
    label_map: dict | None = None,
) -> pd.DataFrame:
    """Accuracy and macro-F1 per labelled set; ``drop`` = reference accuracy minus each set's.

    ``domains`` maps a name to a frame with ``text`` and ``label``; ``reference`` (default:
    the first set) is the in-domain set. Integer labels index the classifier's labels; strings
    are the roles ``"negative"``/``"positive"`` or class names.

    When the classifier has negative and positive classes (a two-class negative/positive
    model, or any label set with ``label_map``; see :mod:`interpkit.validation`), sets are scored by
    sentiment polarity: a prediction is right when its class has the text's role, the columns
    ``positive_share``/``negative_share`` (truth) and ``predicted_positive_share``/
    ``predicted_negative_share`` say how often each role is true and predicted, and texts
    whose true class has neither role (neutral) are left out (counted in
    ``attrs["left_out"]``). Otherwise classes are compared as they are and the share columns
    are NaN. Sentiment sets such as :func:`interpkit.data.load_out_of_domain` label 1 as
    positive: give them as ``"negative"``/``"positive"`` when the classifier's order differs.
    """
    if not domains:
        raise ValueError("no domains given: pass {'name': frame with text and label, ...}")
    predictor = audit_predictor(classifier)
    reference = reference or next(iter(domains))
    if reference not in domains:
        raise ValueError(f"reference {reference!r} is not one of the domains {list(domains)}")
    roles = find_sentiment_roles(predictor.labels, label_map)
    rows, errors, left_out = [], {}, {}
    for name, frame in domains.items():
        if roles is None:
            row, wrong, kept = _class_scores(predictor, frame)
        else:
            row, wrong, kept = _polarity_scores(predictor, roles, frame)
        rows.append({"domain": name, **row})
        errors[name] = wrong
        left_out[name] = len(frame) - kept
    out = pd.DataFrame(rows)
    ref = float(out.loc[out["domain"] == reference, "accuracy"].iloc[0])
    out["drop"] = ref - out["accuracy"]
    out.attrs["reference"] = reference
    out.attrs["errors"] = errors
    out.attrs["left_out"] = left_out
    return out


def _class_scores(predictor: Predictor, frame: pd.DataFrame):
    texts = frame["text"].astype(str).tolist()
    y_true = _label_ids(frame, predictor.labels, predictor.labels)
    probs = predictor.predict_proba(texts)
    y_pred = probs.argmax(axis=1)
    acc, f1 = _scores(y_true, y_pred)
    row = {"n": len(texts), "accuracy": acc, "macro_f1": f1}
    row.update(dict.fromkeys(SHARES, np.nan))
    wrong = frame.assign(
        expected=[predictor.labels[i] for i in y_true],
        predicted=[predictor.labels[i] for i in y_pred],
        confidence=probs.max(axis=1),
    )[y_true != y_pred]
    return row, wrong.reset_index(drop=True), len(texts)


SHARES = (
    "positive_share",
    "negative_share",
    "predicted_positive_share",
    "predicted_negative_share",
)


def _polarity_scores(predictor: Predictor, roles: SentimentRoles, frame: pd.DataFrame):
    from sklearn.metrics import f1_score

    truth = np.array([_role_of_label(roles, v) for v in frame["label"]], dtype=object)
    has_role = np.array([t is not None for t in truth], dtype=bool)  # neutral texts: left out
    frame, truth = frame[has_role], truth[has_role]
    if not len(frame):
        row = {"n": 0, "accuracy": np.nan, "macro_f1": np.nan, **dict.fromkeys(SHARES, np.nan)}
        return row, frame.assign(expected=[], predicted=[], confidence=[]), 0
    probs = predictor.predict_proba(frame["text"].astype(str).tolist())
    predicted = np.array(roles.predicted_roles(probs), dtype=object)
    right = predicted == truth
    f1 = f1_score(
        list(truth),
        ["other" if p is None else p for p in predicted],  # neutral: wrong on a sentiment set
        labels=list(ROLES),
        average="macro",
        zero_division=0,
    )
    row = {
        "n": len(frame),
        "accuracy": float(right.mean()),
        "macro_f1": float(f1),
        "positive_share": float(np.mean(truth == "positive")),
        "negative_share": float(np.mean(truth == "negative")),
        "predicted_positive_share": float(np.mean(predicted == "positive")),
        "predicted_negative_share": float(np.mean(predicted == "negative")),
    }
    wrong = frame.assign(
        expected=list(truth),
        predicted=[roles.labels[i] for i in probs.argmax(axis=1)],
        confidence=probs.max(axis=1),
    )[~right]
    return row, wrong.reset_index(drop=True), len(frame)


def _role_of_label(roles: SentimentRoles, value) -> str | None:
    """The sentiment role of one data label: a role name, a class name or a class index."""
    if isinstance(value, str) and value.casefold() in ROLES:
        return value.casefold()
    return roles.role_of(resolve_label(roles.labels, value, where="the data"))
