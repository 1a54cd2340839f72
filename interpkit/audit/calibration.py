"""Calibration: does a predicted probability of 0.8 come true 80 % of the time?

:func:`expected_calibration_error` bins predictions by confidence (the top probability) into
equal-width bins and averages |accuracy - confidence| weighted by bin size (Guo et al., 2017).
:func:`reliability_table` holds the bins for a reliability diagram
(:func:`plot_reliability`). :func:`fit_temperature` fits one temperature T on held-out data by
minimising the negative log-likelihood of ``softmax(log p / T)``; T > 1 softens an
over-confident model. Only probabilities are needed: ``log p`` equals the logits up to a
constant per row, which softmax ignores.

Example
-------
>>> probs = clf.predict_proba(test["text"]); y = np.array(test["label"])
>>> expected_calibration_error(probs, y)
>>> T = fit_temperature(clf.predict_proba(val["text"]), np.array(val["label"]))
>>> expected_calibration_error(apply_temperature(probs, T), y)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..validation import check_positive_int

DEFAULT_BINS = 10


def _check(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"probs must be a non-empty (n, n_classes) array, got shape {probs.shape}")
    if labels.shape != (probs.shape[0],):
        raise ValueError(f"{labels.shape[0] if labels.ndim else 0} labels for {len(probs)} rows")
    if (
        not np.issubdtype(labels.dtype, np.integer)
        or labels.min() < 0
        or (labels.max() >= probs.shape[1])
    ):
        raise ValueError("labels must be class indices 0..n_classes-1")
    return probs, labels


def reliability_table(probs, labels, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """One row per confidence bin: ``low``, ``high``, ``count``, ``confidence``, ``accuracy``,
    ``gap``.

    Bins are equal-width on [1/n_classes, 1] (the confidence of the top class cannot be lower);
    empty bins have count 0 and NaN means.
    """
    probs, labels = _check(probs, labels)
    check_positive_int("n_bins", n_bins)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(1.0 / probs.shape[1], 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        mask = which == b
        n = int(mask.sum())
        rows.append(
            {
                "low": edges[b],
                "high": edges[b + 1],
                "count": n,
                "confidence": float(conf[mask].mean()) if n else np.nan,
                "accuracy": float(correct[mask].mean()) if n else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    table["gap"] = table["accuracy"] - table["confidence"]
    return table


def expected_calibration_error(probs, labels, n_bins: int = DEFAULT_BINS) -> float:
    """ECE: sum over bins of (bin size / n) * |accuracy - confidence|."""
    table = reliability_table(probs, labels, n_bins)
    used = table[table["count"] > 0]
    return float((used["count"] * used["gap"].abs()).sum() / used["count"].sum())


def apply_temperature(probs, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)``, row by row."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def fit_temperature(probs, labels) -> float:
    """The temperature that minimises the negative log-likelihood on (probs, labels)."""
    from scipy.optimize import minimize_scalar

    probs, labels = _check(probs, labels)

    def nll(log_t: float) -> float:
        p = apply_temperature(probs, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1.0))))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def plot_reliability(tables: dict[str, pd.DataFrame], ax=None):
    """Reliability diagram: accuracy against confidence per bin, one line per table; the Axes."""
    from matplotlib.figure import Figure

    if ax is None:
        ax = Figure(figsize=(4.6, 4.2)).subplots()
    lo = min(float(t["low"].min()) for t in tables.values())
    ax.plot(
        [lo, 1], [lo, 1], color="#999", linestyle="--", linewidth=1, label="perfect calibration"
    )
    for name, table in tables.items():
        used = table[table["count"] > 0]
        ax.plot(used["confidence"], used["accuracy"], marker="o", label=name)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(lo - 0.02, 1.01)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax
