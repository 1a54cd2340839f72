"""Scoring trained variants side by side: accuracy, size, sparsity, faithfulness, agreement.

:func:`compare_variants` puts models trained with different loss terms (L1/L2, distillation, an
attribution penalty; notebook 07) in one table, so a claim such as "L1 makes explanations
sparser" is a number with a baseline; :func:`attribution_sparsity` is the sparsity it uses.
This module reads explanations, so it imports the explainers and metrics; nothing else in
:mod:`interpkit.train` imports it.

Example
-------
>>> frame = compare_variants({"teacher": teacher, "student": student}, data["test"], texts,
...                          reference="teacher",
...                          options={"integrated_gradients": {"n_steps": 32}})
>>> frame[["accuracy", "gini", "agreement_spearman"]]
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..models import Classifier
from .scoring import evaluate
from .students import count_parameters

if TYPE_CHECKING:
    import pandas as pd
    from datasets import Dataset

    from ..explanation import Explanation

#: The columns of :func:`compare_variants`' table, in order.
COLUMNS = (
    "accuracy",
    "macro_f1",
    "parameters",
    "train_seconds",
    "gini",
    "entropy",
    "comprehensiveness",
    "sufficiency",
    "agreement_spearman",
    "agreement_top20",
    "explain_seconds",
)


def attribution_sparsity(scores: Explanation | Sequence[float] | np.ndarray) -> dict[str, float]:
    """Gini coefficient and normalised entropy of ``|scores|`` (one sentence).

    Gini 1 = all attribution on one word, 0 = spread evenly; entropy the reverse (1 = even).

    Parameters
    ----------
    scores : Explanation or array of float
        An :class:`~interpkit.Explanation` (its word scores) or the scores themselves.

    Returns
    -------
    dict
        ``{"gini": float, "entropy": float}``.
    """
    values = np.abs(np.asarray(getattr(scores, "word_scores", scores), dtype=float))
    n = values.size
    if n == 0 or not np.isfinite(values).all():
        raise ValueError("attribution_sparsity needs a non-empty array of finite scores")
    total = values.sum()
    if n == 1 or total == 0:
        return {"gini": 0.0 if total == 0 else 1.0, "entropy": 1.0 if total == 0 else 0.0}
    v = np.sort(values)
    index = np.arange(1, n + 1)
    gini = float((2 * index - n - 1) @ v / (n * total)) * n / (n - 1)
    p = values / total
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(n))
    return {"gini": gini, "entropy": entropy}


def method_options(options: Mapping[str, Any] | None, method: str) -> dict[str, Any]:
    """Return ``method``'s options from ``options={method: {...}}`` (the one way to pass them).

    The old flat form (``options={"n_steps": 32}``) still works with a DeprecationWarning that
    shows the new one; options for another method are an error (they would be ignored).
    """
    from ..explainers import get_explainer, list_explainers
    from ..explainers.base import warn_user

    if not options:
        return {}
    registered = set(list_explainers())
    per_method = set(options) <= registered and all(
        isinstance(v, Mapping) for v in options.values()
    )
    if not per_method:
        warn_user(
            f"compare_variants: pass the explainer's options per method, "
            f"options={{{method!r}: {dict(options)!r}}} (a flat options dict will stop "
            "working in a future version)",
            DeprecationWarning,
        )
        return get_explainer(method).translate_options(dict(options))
    others = sorted(set(options) - {method})
    if others:
        raise ValueError(
            f"options given for {others[0]!r}, but every variant is explained with "
            f"method={method!r}: pass options={{{method!r}: {{...}}}}"
        )
    return get_explainer(method).translate_options(dict(options.get(method, {})))


def _check_variants(variants: Mapping[str, Classifier], texts: str | Sequence[str]) -> list[str]:
    """Clear errors for an empty or mistyped ``variants``; ``texts`` as a non-empty list."""
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must be a non-empty dict {name: Classifier}")
    for name, clf in variants.items():
        if not isinstance(clf, Classifier):
            raise TypeError(f"variant {name!r} is a {type(clf).__name__}, not a Classifier")
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError("texts must hold at least one sentence to explain")
    return texts


def _text_rows(
    name: str,
    clf: Classifier,
    texts: list[str],
    explanations: list[Explanation],
    method: str,
    opts: dict[str, Any],
    references: list[Explanation] | None,
) -> list[dict[str, Any]]:
    """One row per text: sparsity, faithfulness and (with a reference) agreement."""
    from ..explainers import explain
    from ..metrics import faithfulness_scores, rank_agreement

    rows = []
    for i, e in enumerate(explanations):
        f = faithfulness_scores(clf, e)
        row = {"variant": name, "text_id": i, **attribution_sparsity(e)}
        row["comprehensiveness"] = f.comprehensiveness_aopc
        row["sufficiency"] = f.sufficiency_aopc
        if references is not None:
            # Same target for both: the reference's explanation of its predicted class is
            # compared with the variant's explanation of that class.
            ref = references[i]
            if e.target != ref.target:
                e = explain(clf, texts[i], method=method, target=ref.target, **opts)
            row["agreement_spearman"] = rank_agreement(e, ref, "spearman")
            row["agreement_top20"] = rank_agreement(e, ref, "top_k", k=0.2)
        rows.append(row)
    return rows


def _variant_row(
    name: str,
    clf: Classifier,
    scores: Mapping[str, float],
    explain_seconds: float,
    history: pd.DataFrame | None,
) -> dict[str, Any]:
    """Return the per-variant columns: accuracy, macro-F1 (from ``scores``), size, times."""
    return {
        "variant": name,
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "parameters": count_parameters(clf),
        "train_seconds": history.attrs.get("train_runtime_s") if history is not None else np.nan,
        "explain_seconds": explain_seconds,
    }


def compare_variants(
    variants: Mapping[str, Classifier],
    test: Dataset,
    texts: str | Sequence[str],
    *,
    reference: Classifier | str | None = None,
    method: str = "integrated_gradients",
    options: Mapping[str, Mapping[str, Any]] | None = None,
    histories: Mapping[str, pd.DataFrame] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per trained variant: accuracy, F1, size, sparsity, faithfulness, agreement.

    Parameters
    ----------
    variants : dict of {str: Classifier}
        The trained models, by name.
    test : datasets.Dataset
        ``text`` and ``label`` columns (accuracy and macro-F1).
    texts : str or list of str
        Sentences whose explanations are scored (sparsity, faithfulness, agreement).
    reference : Classifier or str, optional
        Explanations are compared with this model's (e.g. the teacher; or a name in
        ``variants``): Spearman rank correlation of word scores and the share of the top 20 %
        words in common.
    method : str, default "integrated_gradients"
        The explainer for every variant.
    options : dict, optional
        The explainer's options per method, ``{method: {option: value}}``, e.g.
        ``{"integrated_gradients": {"n_steps": 32}}`` (the flat ``{"n_steps": 32}`` still
        works, with a DeprecationWarning).
    histories : dict of {str: pandas.DataFrame}, optional
        ``fine_tune`` histories by variant: adds ``train_seconds`` (from ``history.attrs``).
    progress : bool, default True
        A progress bar over the variants.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (``comprehensiveness`` and ``sufficiency`` are AOPC; higher
        comprehensiveness and lower sufficiency = more faithful), indexed by variant.
        ``frame.attrs["per_text"]`` has one row per variant and text (for confidence
        intervals and plots).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from ..explainers import explain

    texts = _check_variants(variants, texts)
    if isinstance(reference, str):
        if reference not in variants:
            raise ValueError(f"reference {reference!r} is not one of {list(variants)}")
        reference = variants[reference]
    opts = method_options(options, method)
    references = None
    if reference is not None:
        references = [explain(reference, t, method=method, **opts) for t in texts]
    rows, per_text = [], []
    for name, clf in tqdm(list(variants.items()), desc="variants", disable=not progress):
        scores = evaluate(clf, test)
        started = time.perf_counter()
        explanations = [explain(clf, t, method=method, **opts) for t in texts]
        explain_seconds = (time.perf_counter() - started) / len(texts)
        per_text += _text_rows(name, clf, texts, explanations, method, opts, references)
        history = (histories or {}).get(name)
        rows.append(_variant_row(name, clf, scores, explain_seconds, history))
    detail = pd.DataFrame(per_text)
    means = detail.drop(columns="text_id").groupby("variant", sort=False).mean()
    frame = pd.DataFrame(rows).set_index("variant").join(means)
    frame = frame[[c for c in COLUMNS if c in frame.columns]]
    frame.attrs["per_text"] = detail
    frame.attrs["method"] = method
    return frame
