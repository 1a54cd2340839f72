"""Fairness slices: identity terms in sentiment templates with known labels, scored by Fairlearn.

Every identity term of an attribute (gender, sexuality, religion, nationality) is put into the
same templates with the same fill-ins, so the sentences of two groups differ only in the
term, and each has a known label. Fairlearn's :class:`~fairlearn.metrics.MetricFrame`
disaggregates the predictions by term: selection rate (share predicted positive) and true
positive rate per group, with bootstrap confidence intervals; the demographic parity
difference and the equal opportunity difference are the largest gaps between groups
(:func:`fairlearn.metrics.demographic_parity_difference`,
:func:`~fairlearn.metrics.equal_opportunity_difference`). Nothing here re-implements them.

Example
-------
>>> groups, summary = fairness(clf)
>>> summary[["attribute", "demographic_parity_difference", "equal_opportunity_difference"]]
>>> plot_fairness(groups)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..predict import Predictor, TextClassifier
from ..validation import target_indices
from ._common import audit_predictor
from .behavioural import _data, expand

#: Fill-ins per template (the same ones for every identity term).
DEFAULT_PER_TEMPLATE = 6
CI = (0.025, 0.975)


def identity_cases(
    attributes: dict[str, Sequence[str]] | None = None,
    templates: Sequence[dict] | None = None,
    per_template: int = DEFAULT_PER_TEMPLATE,
    seed: int = 0,
    lexicon: dict | None = None,
) -> pd.DataFrame:
    """The templated sentences: columns ``attribute``, ``group``, ``text``, ``label``, ``template``.

    ``attributes`` maps an attribute to its identity terms (default: the built-in gender,
    sexuality, religion and nationality lists); ``templates`` are dicts with ``template``
    (containing ``{identity}``) and ``label``.
    """
    data = _data()["fairness"]
    attributes = data["attributes"] if attributes is None else attributes
    templates = data["templates"] if templates is None else templates
    rows = []
    for attribute, terms in attributes.items():
        if len(terms) < 2:
            raise ValueError(f"attribute {attribute!r} needs at least two identity terms")
        for j, spec in enumerate(templates):
            if "{identity}" not in spec["template"]:
                raise ValueError(f"template {spec['template']!r} has no {{identity}} slot")
            # the same fill-ins for every term: expand with a placeholder, then substitute
            filled = expand(spec["template"], lexicon, per_template, seed + j, identity="\0")
            for term in terms:
                for text in filled:
                    rows.append(
                        {
                            "attribute": attribute,
                            "group": term,
                            "text": text.replace("\0", term),
                            "label": spec["label"],
                            "template": spec["template"],
                        }
                    )
    return pd.DataFrame(rows)


def fairness(
    classifier: TextClassifier | Predictor,
    cases: pd.DataFrame | None = None,
    positive: str = "positive",
    n_boot: int = 100,
    seed: int = 0,
    label_map: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group metrics per identity term and the group-fairness differences per attribute.

    Returns ``(groups, summary)``. ``groups``: one row per (attribute, group) with ``count``,
    ``accuracy``, ``mean_p_positive``, ``selection_rate`` and ``true_positive_rate`` and their
    bootstrap intervals (``*_low``, ``*_high``, 95 %). ``summary``: per attribute, ``n``,
    ``demographic_parity_difference`` and ``equal_opportunity_difference`` with their bootstrap
    intervals, and the groups with the lowest and highest selection rate. ``cases`` (default
    :func:`identity_cases`) gets the predictions as columns ``predicted``, ``p_positive`` and
    ``correct`` (in ``groups.attrs["cases"]``).

    ``positive`` is the selected outcome: the role ``"positive"`` (the classes
    :mod:`interpkit.validation` gives it: a two-class negative/positive model by itself, any other
    label set through ``label_map``; p(positive) is then the sum over its classes) or a class
    name. A classifier without a negative/positive pair and no ``label_map`` is an error.
    """
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equal_opportunity_difference,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    predictor = audit_predictor(classifier)
    cases = identity_cases(seed=seed) if cases is None else cases.copy()
    missing = {"attribute", "group", "text", "label"} - set(cases.columns)
    if missing:
        raise ValueError(f"cases needs columns attribute, group, text, label: missing {missing}")
    k = target_indices(predictor.labels, positive, label_map)
    probs = predictor.predict_proba(cases["text"].tolist())
    cases["p_positive"] = probs[:, list(k)].sum(axis=1)
    cases["predicted"] = [predictor.labels[i] for i in probs.argmax(axis=1)]
    expected = {x: target_indices(predictor.labels, x, label_map) for x in set(cases["label"])}
    cases["correct"] = [
        int(i) in expected[x] for i, x in zip(probs.argmax(axis=1), cases["label"], strict=True)
    ]
    y_true = np.array([expected[x] == k for x in cases["label"]])
    y_pred = np.isin(probs.argmax(axis=1), k)
    group_rows, summary_rows = [], []
    for attribute, part in cases.groupby("attribute", sort=False):
        idx = part.index.to_numpy()
        yt, yp, sf = y_true[idx].astype(int), y_pred[idx].astype(int), part["group"].to_numpy()
        boot = MetricFrame(
            metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
            y_true=yt,
            y_pred=yp,
            sensitive_features=pd.Series(sf, name="group"),
            n_boot=n_boot,
            ci_quantiles=list(CI),
            random_state=seed,
        )
        plain = MetricFrame(
            metrics={"count": count, "accuracy": accuracy_score},
            y_true=yt,
            y_pred=yp,
            sensitive_features=pd.Series(sf, name="group"),
        )
        mean_p = pd.Series(cases.loc[idx, "p_positive"].to_numpy()).groupby(sf).mean()
        low, high = boot.by_group_ci
        for group in boot.by_group.index:
            row = {"attribute": attribute, "group": group}
            row["count"] = int(plain.by_group.loc[group, "count"])
            row["accuracy"] = float(plain.by_group.loc[group, "accuracy"])
            row["mean_p_positive"] = float(mean_p[group])
            for metric in ("selection_rate", "true_positive_rate"):
                row[metric] = float(boot.by_group.loc[group, metric])
                row[f"{metric}_low"] = float(low.loc[group, metric])
                row[f"{metric}_high"] = float(high.loc[group, metric])
            group_rows.append(row)
        dpd = demographic_parity_difference(yt, yp, sensitive_features=sf)
        eod = equal_opportunity_difference(yt, yp, sensitive_features=sf)
        d_low, d_high = boot.difference_ci()
        rates = boot.by_group["selection_rate"]
        summary_rows.append(
            {
                "attribute": attribute,
                "groups": len(rates),
                "n": len(idx),
                "demographic_parity_difference": float(dpd),
                "dpd_low": float(d_low["selection_rate"]),
                "dpd_high": float(d_high["selection_rate"]),
                "equal_opportunity_difference": float(eod),
                "eod_low": float(d_low["true_positive_rate"]),
                "eod_high": float(d_high["true_positive_rate"]),
                "lowest_selection": str(rates.idxmin()) if dpd > 0 else "(all equal)",
                "highest_selection": str(rates.idxmax()) if dpd > 0 else "(all equal)",
            }
        )
    groups = pd.DataFrame(group_rows)
    groups.attrs["cases"] = cases
    return groups, pd.DataFrame(summary_rows)


def plot_fairness(groups: pd.DataFrame, metric: str = "selection_rate", ax=None):
    """Dot-and-interval chart of ``metric`` per group, one block per attribute; returns the Axes.

    Uses a bare matplotlib ``Figure`` when no ``ax`` is given (nothing is shown twice in a
    notebook); the caller displays or saves ``ax.figure``.
    """
    from matplotlib.figure import Figure

    if metric not in groups.columns:
        raise ValueError(f"no column {metric!r} in groups: pick one of {list(groups.columns)}")
    if ax is None:
        fig = Figure(figsize=(6.5, 0.26 * len(groups) + 1.2))
        ax = fig.subplots()
    y = np.arange(len(groups))[::-1]
    value = groups[metric].to_numpy()
    ax.scatter(value, y, color="#333", zorder=3, s=18)
    if f"{metric}_low" in groups:
        lo, hi = groups[f"{metric}_low"].to_numpy(), groups[f"{metric}_high"].to_numpy()
        ax.hlines(y, lo, hi, color="#888", linewidth=2)
    for _, part in groups.groupby("attribute", sort=False):
        ys = y[part.index.to_numpy()]
        mean = part[metric].mean()
        ax.vlines(mean, ys.min() - 0.4, ys.max() + 0.4, color="#d62728", linewidth=1)
        ax.axhline(ys.min() - 0.5, color="#ddd", linewidth=0.8)
    ax.set_yticks(
        y, [f"{a}: {g}" for a, g in zip(groups["attribute"], groups["group"], strict=True)]
    )
    ax.set_xlabel(f"{metric.replace('_', ' ')} (95% bootstrap interval; red: attribute mean)")
    ax.set_xlim(-0.02, 1.02)
    ax.figure.tight_layout()
    return ax
