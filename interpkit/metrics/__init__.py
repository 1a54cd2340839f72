"""Measuring explanations: faithfulness, agreement, stability, evaluation, the global view.

- :mod:`~interpkit.metrics.faithfulness`: comprehensiveness, sufficiency, AOPC, deletion and
  insertion curves (one batched prediction per explanation), LIME's held-out surrogate R².
- :mod:`~interpkit.metrics.agreement`: rank agreement between methods, seed and edit stability.
- :mod:`~interpkit.metrics.evaluation`: :func:`evaluate_explanations` (a row per text ×
  method) and :func:`summarize` (bootstrap confidence intervals).
- :mod:`~interpkit.metrics.global_importance`: top words per class over a dataset split.

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()
>>> results = interpkit.evaluate_explanations(clf, texts, methods=["saliency", "random"])
>>> interpkit.summarize(results)
"""

from .agreement import (
    agreement_matrix,
    aligned_scores,
    edit_stability,
    plot_agreement,
    rank_agreement,
    score_agreement,
    seed_stability,
)
from .evaluation import (
    DEFAULT_METHODS,
    bootstrap_ci,
    evaluate_explanations,
    mean_curves,
    plot_curves,
    plot_summary,
    summarize,
)
from .faithfulness import (
    DEFAULT_KS,
    Curve,
    Faithfulness,
    aopc,
    comprehensiveness,
    deletion_curve,
    faithfulness_scores,
    insertion_curve,
    n_top,
    ranking,
    sufficiency,
    surrogate_fidelity,
)
from .global_importance import GlobalImportance, global_importance

__all__ = [
    "DEFAULT_KS",
    "DEFAULT_METHODS",
    "Curve",
    "Faithfulness",
    "GlobalImportance",
    "agreement_matrix",
    "aligned_scores",
    "aopc",
    "bootstrap_ci",
    "comprehensiveness",
    "deletion_curve",
    "edit_stability",
    "evaluate_explanations",
    "faithfulness_scores",
    "global_importance",
    "insertion_curve",
    "mean_curves",
    "n_top",
    "plot_agreement",
    "plot_curves",
    "plot_summary",
    "rank_agreement",
    "ranking",
    "score_agreement",
    "seed_stability",
    "sufficiency",
    "summarize",
    "surrogate_fidelity",
]
