"""Evaluate explanation methods over a set of texts, and summarise with confidence intervals.

One row per text × method; the summary has bootstrap confidence intervals.

Example
-------
>>> texts = interpkit.load_dataset()["validation"]["text"][:100]
>>> results = interpkit.evaluate_explanations(clf, texts, methods=["attention", "saliency",
...                                                               "integrated_gradients", "random"])
>>> interpkit.summarize(results)              # mean and 95 % CI per method, best first
>>> interpkit.agreement_matrix(results)       # reuses the stored explanations
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..models import Classifier, TruncationWarning
from ..predict import Predictor
from ..validation import check_choice, check_fraction, check_positive_int, check_texts
from .faithfulness import DEFAULT_KS, DEFAULT_STEPS, REMOVALS, check_ks, faithfulness_scores

if TYPE_CHECKING:
    import pandas as pd

#: Methods evaluated by default: attention, the main gradient methods, LIME and the control.
DEFAULT_METHODS = (
    "attention",
    "attention_rollout",
    "integrated_gradients",
    "saliency",
    "input_x_gradient",
    "lime",
    "random",
)
#: Columns summarised by :func:`summarize`, and whether higher is better.
SUMMARY_METRICS = {
    "comprehensiveness": True,
    "sufficiency": False,
    "deletion_auc": False,
    "insertion_auc": True,
    "surrogate_r2_heldout": True,
    "seconds": False,
}


def check_methods(methods: str | Iterable[str]) -> list[str]:
    """Return the method names, checked against the registry (unknown names list the others)."""
    from ..explainers import get_explainer

    names = [methods] if isinstance(methods, str) else list(methods)
    if not names:
        raise ValueError("no methods given: pass e.g. ['integrated_gradients', 'random']")
    for name in names:
        get_explainer(name)
    if len(set(names)) != len(names):
        raise ValueError(f"methods are repeated: {names}")
    return names


def _texts(texts: object) -> list[str]:
    """Return a list of texts, from a list or a dataset split with a ``text`` column."""
    if hasattr(texts, "column_names") and "text" in texts.column_names:  # a datasets split
        texts = texts["text"]
    return check_texts(texts)


def evaluate_explanations(
    classifier: Classifier | Predictor,
    texts: Iterable[str],
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    ks: Sequence[float] = DEFAULT_KS,
    removal: str = "mask",
    steps: int = DEFAULT_STEPS,
    target: str | int | None = None,
    seed: int = 0,
    surrogate_holdout: int | None = 200,
    keep_explanations: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Explain every text with every method and score each explanation's faithfulness.

    Parameters
    ----------
    classifier : interpkit.Classifier, or a Predictor over one
    texts : list of str, or a dataset split with a ``text`` column
    methods : names from ``interpkit.list_explainers()``; ``"random"`` is the chance control
    options : ``{method: {option: value}}``, e.g. ``{"lime": {"n_samples": 300}}``
    ks, removal, steps : see :func:`interpkit.faithfulness_scores` (what removing a word means, how
        k rounds)
    target : class to explain; None = each text's predicted class
    seed : passed to every method that takes a seed (unless set in ``options``)
    surrogate_holdout : held-out perturbations for LIME's surrogate R² (None: skip; also
        skipped when LIME's ``num_features`` leaves words out of the surrogate)
    keep_explanations : keep each Explanation and Faithfulness in the frame (for
        :func:`agreement_matrix`, :func:`global_importance` and curves)
    progress : show a progress bar over the texts

    Returns
    -------
    pandas.DataFrame
        One row per text × method: ``text_id``, ``method``, ``n_words``, ``target``,
        ``p_target``, ``comprehensiveness`` and ``sufficiency`` (AOPC over ``ks``), each
        ``comprehensiveness@k``/``sufficiency@k``, ``deletion_auc``, ``insertion_auc``,
        ``seconds`` (the explainer's runtime), for LIME ``surrogate_r2`` (in-sample) and
        ``surrogate_r2_heldout``, and ``explanation``/``faithfulness`` objects. Summarise it
        with :func:`summarize`.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    items = _texts(texts)
    names = check_methods(methods)
    ks = check_ks(ks)
    check_choice("removal", removal, REMOVALS)
    per_method = _per_method_options(classifier, names, options, seed, surrogate_holdout)
    settings = dict(
        ks=ks,
        removal=removal,
        steps=steps,
        target=target,
        seed=seed,
        surrogate_holdout=surrogate_holdout,
        keep_explanations=keep_explanations,
    )
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        for text_id, text in enumerate(
            tqdm(items, desc="texts", unit="text", disable=not progress)
        ):
            rows += _evaluate_text(classifier, text_id, text, per_method, settings)
    frame = pd.DataFrame(rows)
    frame.attrs.update(ks=list(ks), removal=removal, steps=steps, n_texts=len(items))
    return frame


def _per_method_options(
    classifier: Classifier | Predictor,
    names: list[str],
    options: Mapping[str, Mapping[str, Any]] | None,
    seed: int,
    surrogate_holdout: int | None,
) -> dict[str, dict[str, Any]]:
    """Each method's options: the user's, the common seed, and LIME weighting every word."""
    from ..explainers import get_explainer, method_options

    per_method = method_options(names, options)
    for name, opts in per_method.items():
        if "seed" in get_explainer(name)(classifier).get_params():
            opts.setdefault("seed", seed)
        if name == "lime" and surrogate_holdout:
            opts.setdefault("num_features", None)  # the held-out R² needs every word's weight
    return per_method


def _evaluate_text(
    classifier: Classifier | Predictor,
    text_id: int,
    text: str,
    per_method: dict[str, dict[str, Any]],
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    """Return the rows of one text: each method's explanation, scored (shared texts once)."""
    from ..explainers import explain

    cache: dict = {}  # perturbed texts several methods share are predicted once
    rows = []
    for name, options in per_method.items():
        e = explain(classifier, text, method=name, target=settings["target"], **options)
        f = faithfulness_scores(
            classifier,
            e,
            ks=settings["ks"],
            removal=settings["removal"],
            steps=settings["steps"],
            cache=cache,
        )
        row = {
            "text_id": text_id,
            "method": name,
            "n_words": len(e.words),
            "target": e.target_label,
            "p_target": float(e.probabilities[e.target]),
            **f.as_dict(),
            "seconds": e.seconds,
        }
        if name == "lime":
            row["surrogate_r2"] = float(e.diagnostics["r2"])
            holdout = settings["surrogate_holdout"]
            if holdout and e.params["num_features"] in (None, len(e.words)):
                row["surrogate_r2_heldout"] = _heldout_r2(
                    classifier, text, e, holdout, settings["seed"]
                )
        row["text"] = text
        if settings["keep_explanations"]:
            row["explanation"], row["faithfulness"] = e, f
        rows.append(row)
    return rows


def _heldout_r2(
    classifier: Classifier | Predictor, text: str, e: object, holdout: int, seed: int
) -> float:
    """LIME's surrogate R² on held-out perturbations (:func:`surrogate_fidelity`)."""
    from .faithfulness import surrogate_fidelity

    return surrogate_fidelity(classifier, text, e, holdout=holdout, seed=seed)["r2_heldout"]


def bootstrap_ci(
    values: Iterable[float], n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its percentile bootstrap confidence interval.

    ``nan`` values are dropped; fewer than two values give ``(mean, nan, nan)``.

    Example
    -------
    >>> bootstrap_ci([0.1, 0.3, 0.2, 0.4])
    """
    check_fraction("ci", ci, closed_high=False, hint="pass e.g. 0.95")
    check_positive_int("n_boot", n_boot)
    x = np.asarray(list(values), dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(int(n_boot), len(x)))].mean(axis=1)
    alpha = (1 - ci) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def summarize(
    results: pd.DataFrame,
    metrics: Iterable[str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    sort_by: str = "comprehensiveness",
) -> pd.DataFrame:
    """Per method: the mean of each metric over texts with a bootstrap CI, best first.

    Columns ``<metric>``, ``<metric>_low``, ``<metric>_high`` for every metric present in
    ``results`` (default: comprehensiveness, sufficiency, deletion/insertion AUC, LIME's
    held-out surrogate R², seconds), and ``n_texts``. Rows are sorted by ``sort_by`` (best
    first: descending where higher is better).
    """
    import pandas as pd

    if not hasattr(results, "columns") or "method" not in results.columns:
        raise TypeError("pass the DataFrame evaluate_explanations() returned")
    if len(results) == 0:
        raise ValueError("results are empty: evaluate at least one text")
    wanted = list(SUMMARY_METRICS if metrics is None else metrics)
    missing = [m for m in wanted if m not in results.columns]
    if metrics is not None and missing:
        raise ValueError(f"no column {missing[0]!r} in results: columns are {list(results)}")
    present = [m for m in wanted if m in results.columns]
    rows = []
    for method, group in results.groupby("method", sort=False):
        row = {"method": method, "n_texts": int(group["text_id"].nunique())}
        for metric in present:
            mean, low, high = bootstrap_ci(group[metric], n_boot, ci, seed)
            row.update({metric: mean, f"{metric}_low": low, f"{metric}_high": high})
        rows.append(row)
    summary = pd.DataFrame(rows).set_index("method")
    if sort_by in summary.columns:
        summary = summary.sort_values(sort_by, ascending=not SUMMARY_METRICS.get(sort_by, True))
    summary.attrs.update(ci=ci, n_boot=n_boot)
    return summary


def plot_summary(
    summary: pd.DataFrame,
    metric: str = "comprehensiveness",
    ax: Any = None,
) -> Any:
    """Horizontal error bars: each method's mean ``metric`` with its CI (from :func:`summarize`)."""
    import matplotlib.pyplot as plt

    for col in (metric, f"{metric}_low", f"{metric}_high"):
        if col not in summary.columns:
            raise ValueError(f"summary has no {col!r} column: pass summarize(results)")
    data = summary[[metric, f"{metric}_low", f"{metric}_high"]].dropna(subset=[metric])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.4 * len(data) + 1.2))
    y = np.arange(len(data))
    err = np.vstack(
        [data[metric] - data[f"{metric}_low"], data[f"{metric}_high"] - data[metric]]
    ).clip(min=0)
    colors = ["#999" if m == "random" else "#1f77b4" for m in data.index]
    ax.barh(y, data[metric], xerr=err, color=colors, capsize=3)
    ax.set_yticks(y, list(data.index))
    ax.invert_yaxis()
    better = "higher" if SUMMARY_METRICS.get(metric, True) else "lower"
    level = int(round(100 * summary.attrs.get("ci", 0.95)))
    ax.set_xlabel(f"{metric} ({better} is better; {level} % bootstrap CI)")
    ax.axvline(0, color="#999", linewidth=0.8)
    return ax


def mean_curves(results: pd.DataFrame, kind: str = "deletion", grid: int = 21) -> pd.DataFrame:
    """Each method's curve averaged over texts, on a common grid of fractions (DataFrame)."""
    import pandas as pd

    check_choice("kind", kind, ("deletion", "insertion"))
    if "faithfulness" not in getattr(results, "columns", ()):
        raise ValueError(
            "results have no 'faithfulness' column: run evaluate_explanations(..., "
            "keep_explanations=True)"
        )
    xs = np.linspace(0, 1, grid)
    out = {}
    for method, group in results.groupby("method", sort=False):
        curves = [getattr(f, kind) for f in group["faithfulness"]]
        out[method] = np.mean([np.interp(xs, c.fractions, c.scores) for c in curves], axis=0)
    frame = pd.DataFrame(out, index=pd.Index(xs, name="fraction"))
    frame.attrs["kind"] = kind
    return frame


def plot_curves(
    results: pd.DataFrame,
    kind: str = "deletion",
    ax: Any = None,
) -> Any:
    """Mean deletion (or insertion) curve per method, with its mean AUC in the legend."""
    import matplotlib.pyplot as plt

    curves = mean_curves(results, kind)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    auc = results.groupby("method", sort=False)[f"{kind}_auc"].mean()
    for method in curves.columns:
        style = dict(color="#999", linestyle="--") if method == "random" else {}
        ax.plot(curves.index, curves[method], label=f"{method} ({auc[method]:.3f})", **style)
    what = "removed" if kind == "deletion" else "kept"
    ax.set_xlabel(f"fraction of words {what}, most important first")
    ax.set_ylabel("mean explained probability")
    ax.set_title(f"{kind} curves (AUC: {'lower' if kind == 'deletion' else 'higher'} is better)")
    ax.legend(fontsize=8)
    return ax
