"""What every audit step shares: one predictor over the classifier, thresholds, checks.

The audit needs only ``predict_proba(texts, batch_size)`` and ``labels`` from a classifier (a
:class:`~interpkit.TextClassifier`), so any object with those two (a
:class:`interpkit.Classifier`, a keyword model in a test, a wrapped scikit-learn pipeline) can
be audited. Predictions go through one :class:`~interpkit.Predictor`, which asks the model only
for texts it has not seen yet: the test split predicted for consistency is reused by
calibration, and a perturbed text that two tests share is predicted once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..predict import Predictor, TextClassifier, as_predictor, check_classifier

#: Default pass/fail thresholds. A check passes when its value is at most the threshold
#: (``higher_is_better`` checks: at least). ``None`` makes a check informational.
DEFAULT_THRESHOLDS: dict[str, float | None] = {
    "duplicate_rate": 0.02,  # share of texts in a split that repeat another text
    "leakage_rate": 0.01,  # share of evaluation texts (near-)duplicated in train
    "group_overlap_rate": None,  # informational: evaluation texts whose movie is in train
    "mft_failure_rate": 0.2,  # CheckList minimum functionality tests
    "inv_failure_rate": 0.1,  # CheckList invariance tests
    "dir_failure_rate": 0.1,  # CheckList directional expectation tests
    "typo_flip_rate": 0.1,
    "word_dropout_flip_rate": 0.2,
    "adversarial_flip_rate": None,  # informational: a search that edits words flips most
    "demographic_parity_difference": 0.1,
    "equal_opportunity_difference": 0.1,
    "slice_accuracy_gap": 0.1,  # overall accuracy minus a slice's accuracy
    "domain_accuracy_drop": 0.1,  # in-domain accuracy minus an out-of-domain set's
    "ece": 0.05,  # expected calibration error (10 equal-width bins)
}


def audit_predictor(classifier: TextClassifier | Predictor, batch_size: int = 64) -> Predictor:
    """The Predictor an audit step predicts through: ``classifier`` itself when it is one
    (its memory is shared, so no text is predicted twice), else a new one over it."""
    check_classifier(classifier, "audited")
    return as_predictor(classifier, batch_size)


@dataclass
class Check:
    """One audited property: a value, the threshold it is held to, and failing examples.

    ``key`` names the threshold in :data:`DEFAULT_THRESHOLDS` (a user's threshold for the
    check's own ``name`` wins over it). ``examples`` holds failing cases with a ``text``
    column (the text a view explains).
    """

    name: str
    section: str
    metric: str
    value: float
    key: str
    n: int
    detail: str = ""
    higher_is_better: bool = False
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Why the check did not run (its status is then ``"skipped"``); empty when it ran.
    skipped: str = ""

    @classmethod
    def skip(cls, name: str, section: str, reason: str) -> Check:
        """A check that did not run, and why: reports list it instead of staying silent."""
        return cls(
            name=name,
            section=section,
            metric="not run",
            value=float("nan"),
            key="",
            n=0,
            detail=f"skipped: {reason}",
            skipped=reason,
        )

    def threshold(self, thresholds: dict) -> float | None:
        if self.name in thresholds:
            return thresholds[self.name]
        return thresholds.get(self.key)

    def status(self, thresholds: dict) -> str:
        """``"pass"``, ``"fail"``, ``"info"`` (no threshold), ``"n/a"`` (no value) or
        ``"skipped"`` (did not run: see ``detail``)."""
        if self.skipped:
            return "skipped"
        limit = self.threshold(thresholds)
        value = float(self.value)
        if not math.isfinite(value):
            return "n/a"
        if limit is None:
            return "info"
        ok = value >= limit if self.higher_is_better else value <= limit
        return "pass" if ok else "fail"


def merge_thresholds(thresholds: dict | None) -> dict:
    """Defaults updated with the user's; a clear error for a non-numeric threshold."""
    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float, np.number))
        ):
            raise TypeError(f"threshold {key!r} must be a number or None, got {value!r}")
        merged[str(key)] = None if value is None else float(value)
    return merged


def sample_rows(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """A seeded sample of ``n`` rows (all rows when ``n`` is None or too large), index reset."""
    if n is not None and n < len(frame):
        frame = frame.sample(n=n, random_state=seed)
    return frame.reset_index(drop=True)


def words_count(texts: Iterable[str]) -> np.ndarray:
    return np.array([len(str(t).split()) for t in texts])
