"""Agreement between explanations (rank correlation, top-k overlap) and their stability.

Two explanations of the same text agree when they rank its words alike. Scores are compared
by magnitude by default (``by="abs"``): attention and Saliency are unsigned, so "how much a
word matters" is the only thing every method states; pass ``by="score"`` to compare signed
scores (words for the class first). Measures:

- ``"spearman"``: Spearman's rank correlation of the word scores (-1 to 1);
- ``"kendall"``: Kendall's tau-b (-1 to 1; ties handled);
- ``"top_k"``: the share of the top ``k`` words (:func:`~interpkit.metrics.faithfulness.n_top`
  of them) the two explanations have in common (0 to 1).

A method agrees with itself perfectly (1); constant scores have no ranking (``nan``).

Example
-------
>>> es = {m: interpkit.explain(clf, text, method=m) for m in ["attention", "saliency", "lime"]}
>>> interpkit.agreement_matrix(es, measure="kendall")
"""

from __future__ import annotations

import difflib
import itertools
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..explanation import Explanation
from ..models import Classifier
from ..predict import Predictor
from ..validation import check_choice
from .faithfulness import check_explanation, check_k, n_top

if TYPE_CHECKING:
    import pandas as pd

MEASURES = ("spearman", "kendall", "top_k")


def _check_measure(measure: str, by: str) -> None:
    check_choice("measure", measure, MEASURES)
    check_choice("by", by, ("abs", "score"))


def score_agreement(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    measure: str = "spearman",
    k: float = 0.2,
    by: str = "abs",
) -> float:
    """Agreement of two score vectors over the same words (see the module notes)."""
    from scipy import stats

    _check_measure(measure, by)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"score vectors must have the same length, got {x.shape} and {y.shape}")
    if by == "abs":
        x, y = np.abs(x), np.abs(y)
    if measure == "top_k":
        m = n_top(check_k(k), len(x))
        top_x = set(np.argsort(-x, kind="stable")[:m].tolist())
        top_y = set(np.argsort(-y, kind="stable")[:m].tolist())
        return len(top_x & top_y) / m
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on near-constant input: nan is the answer
        if measure == "spearman":
            return float(stats.spearmanr(x, y).statistic)
        return float(stats.kendalltau(x, y).statistic)


def rank_agreement(
    a: Explanation, b: Explanation, measure: str = "spearman", k: float = 0.2, by: str = "abs"
) -> float:
    """How alike two explanations of the same text rank its words.

    Example
    -------
    >>> rank_agreement(e_ig, e_lime, measure="top_k", k=0.2)   # share of the top 20 % in common
    """
    a, b = check_explanation(a), check_explanation(b)
    if a.text != b.text or a.words != b.words:
        raise ValueError(
            "the explanations are of different texts (or word splits): compare explanations "
            "of the same text, or use edit_stability() for an edited text"
        )
    return score_agreement(a.word_scores, b.word_scores, measure, k, by)


def _per_text(explanations: object) -> list[dict[str, Explanation]]:
    """One ``{method: Explanation}`` per text, from any accepted input."""
    if isinstance(explanations, Mapping):
        return [dict(explanations)]
    if hasattr(explanations, "columns"):  # an evaluate_explanations() frame
        if "explanation" not in explanations.columns:
            raise ValueError(
                "the frame has no 'explanation' column: pass the frame evaluate_explanations() "
                "returned (keep_explanations=True)"
            )
        groups = []
        for _, rows in explanations.groupby("text_id", sort=True):
            groups.append({e.method: e for e in rows["explanation"]})
        return groups
    items = list(explanations)
    if items and all(isinstance(x, Explanation) for x in items):
        return [{e.method: e for e in items}]
    if items and all(isinstance(x, Mapping) for x in items):
        return [dict(x) for x in items]
    raise TypeError(
        "pass {method: Explanation} for one text, a list of such dicts (one per text), a list "
        "of Explanations of one text, or the frame evaluate_explanations() returned"
    )


def agreement_matrix(
    explanations: Mapping[str, Explanation] | Iterable[object] | pd.DataFrame,
    measure: str = "spearman",
    k: float = 0.2,
    by: str = "abs",
) -> pd.DataFrame:
    """Pairwise agreement of methods as a DataFrame (methods × methods), averaged over texts.

    ``explanations``: ``{method: Explanation}`` for one text, a list of those (one per text:
    each cell is the mean over the texts where both methods were run, ignoring ``nan``), or
    the frame :func:`~interpkit.evaluate_explanations` returned. The diagonal is a method
    against itself: 1. ``frame.attrs["n_texts"]`` says how many texts went in.

    Example
    -------
    >>> m = agreement_matrix(results, measure="spearman")
    >>> m.loc["attention", "integrated_gradients"]
    """
    import pandas as pd

    _check_measure(measure, by)
    groups = _per_text(explanations)
    if not groups or not any(groups):
        raise ValueError("no explanations given: pass at least one Explanation")
    methods = list(dict.fromkeys(m for g in groups for m in g))
    values: dict[tuple[str, str], list[float]] = {}
    for group in groups:
        for a, b in itertools.combinations_with_replacement([m for m in methods if m in group], 2):
            value = rank_agreement(group[a], group[b], measure, k, by)
            values.setdefault((a, b), []).append(value)
    matrix = np.full((len(methods), len(methods)), np.nan)
    for (a, b), vals in values.items():
        finite = [v for v in vals if np.isfinite(v)]
        mean = float(np.mean(finite)) if finite else float("nan")
        i, j = methods.index(a), methods.index(b)
        matrix[i, j] = matrix[j, i] = mean
    frame = pd.DataFrame(matrix, index=methods, columns=methods)
    frame.index.name, frame.columns.name = "method", "method"
    frame.attrs.update(measure=measure, k=k, by=by, n_texts=len(groups))
    return frame


def _pairwise_mean(items: Sequence[Explanation], measure: str, k: float, by: str) -> float:
    values = [rank_agreement(a, b, measure, k, by) for a, b in itertools.combinations(items, 2)]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def seed_stability(
    classifier: Classifier | Predictor,
    text: str,
    method: str = "lime",
    seeds: Sequence[int] = (0, 1, 2),
    measure: str = "spearman",
    k: float = 0.2,
    by: str = "abs",
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **old_options: Any,
) -> float:
    """Mean pairwise agreement of one method's explanations of ``text`` under different seeds.

    1 means the seed does not change the ranking. Only methods with a ``seed`` parameter
    (LIME, Shapley sampling, KernelSHAP, SmoothGrad, the random control) are random.
    ``options={method: {...}}`` are the method's other options (given as keyword arguments,
    they still work with a DeprecationWarning).

    Example
    -------
    >>> seed_stability(clf, "a wonderful, moving film", "lime", seeds=(0, 1, 2),
    ...                options={"lime": {"n_samples": 300}})
    """
    from ..explainers import explain, get_explainer, method_options

    _check_measure(measure, by)
    opts = method_options([method], options, old=old_options)[method]
    if "seed" not in get_explainer(method)(classifier).get_params():
        raise ValueError(
            f"{method} takes no seed: it is deterministic, so its seed stability is 1 by "
            "construction; use edit_stability() to test it under an edit"
        )
    seeds = list(seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"pass at least two different seeds, got {seeds!r}")
    if "seed" in opts:
        raise ValueError(f"seed_stability sets the seed itself: pass seeds={seeds!r} only")
    runs = [explain(classifier, text, method=method, seed=s, **opts) for s in seeds]
    return _pairwise_mean(runs, measure, k, by)


def aligned_scores(a: Explanation, b: Explanation) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the words two texts share, matched in order (difflib on lower-cased words)."""
    left, right = [w.lower() for w in a.words], [w.lower() for w in b.words]
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    pairs = [
        (block.a + i, block.b + i)
        for block in matcher.get_matching_blocks()
        for i in range(block.size)
    ]
    idx_a = np.array([i for i, _ in pairs], dtype=int)
    idx_b = np.array([j for _, j in pairs], dtype=int)
    return a.word_scores[idx_a], b.word_scores[idx_b]


def edit_stability(
    classifier: Classifier | Predictor,
    text: str,
    edited: str,
    method: str,
    measure: str = "spearman",
    k: float = 0.2,
    by: str = "abs",
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **old_options: Any,
) -> float:
    """Agreement of a method's explanations of ``text`` and of a meaning-preserving edit of it.

    The words both texts share (matched in order) are compared; e.g. ``"a great film"`` vs
    ``"a great movie"`` compares "a" and "great". A faithful, stable method should rank the
    shared words alike when the prediction does not change. Needs at least two shared words.
    ``options={method: {...}}`` are the method's options (given as keyword arguments, they
    still work with a DeprecationWarning).

    Example
    -------
    >>> edit_stability(clf, "a wonderful, moving film", "a wonderful, moving movie", "saliency")
    """
    from ..explainers import explain, method_options

    _check_measure(measure, by)
    opts = method_options([method], options, old=old_options)[method]
    a = explain(classifier, text, method=method, **opts)
    b = explain(classifier, edited, method=method, **opts)
    x, y = aligned_scores(a, b)
    if len(x) < 2:
        raise ValueError(
            "the two texts share fewer than two words: an edit should keep most of the text"
        )
    return score_agreement(x, y, measure, k, by)


def plot_agreement(
    matrix: pd.DataFrame,
    ax: Any = None,
) -> Any:
    """Draw the agreement matrix (from :func:`agreement_matrix`) as a heatmap with values."""
    import matplotlib.pyplot as plt

    values = np.asarray(matrix, dtype=np.float64)
    names = [str(n) for n in matrix.index]
    if ax is None:
        size = 0.7 * len(names) + 2
        _, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            if np.isfinite(values[i, j]):
                color = "white" if abs(values[i, j]) > 0.6 else "black"
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", color=color)
    measure = matrix.attrs.get("measure", "agreement")
    n = matrix.attrs.get("n_texts")
    ax.set_title(f"{measure} agreement" + (f" (mean over {n} texts)" if n else ""))
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax
