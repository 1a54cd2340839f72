"""interpkit: fine-tune, explain and audit BERT text classifiers in Jupyter.

The public API is listed in ``__all__``. Names are imported on first use, so
``import interpkit`` stays cheap (torch and transformers load only when needed).

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()          # fine-tuned once, then cached
>>> clf.predict_proba(["a gripping, funny film"])
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Classifier": "models",
    "load_classifier": "models",
    "TruncationWarning": "models",
    "UnknownTokensWarning": "explainers",
    "UntrainedHeadWarning": "models",
    "load_dataset": "data",
    "fine_tune": "train",
    "evaluate": "train",
    "LossConfig": "train",
    "truncate_layers": "train",
    "count_parameters": "train",
    "distillation_loss": "train",
    "weight_penalty": "train",
    "attribution_sparsity": "train.variants",
    "compare_variants": "train.variants",
    "demo_classifier": "train",
    "cache_dir": "train",
    "demo_dir": "train",
    "DEMO_RECIPE": "train",
    "load_artefact": "train",
    "Explanation": "explanation",
    "explain": "explainers",
    "list_explainers": "explainers",
    "get_explainer": "explainers",
    # the method classes (registry names in interpkit.explainers' docs)
    "Attention": "explainers",
    "AttentionRollout": "explainers",
    "IntegratedGradients": "explainers",
    "Saliency": "explainers",
    "InputXGradient": "explainers",
    "SmoothGrad": "explainers",
    "DeepLift": "explainers",
    "Occlusion": "explainers",
    "ShapleySampling": "explainers",
    "KernelShap": "explainers",
    "Lime": "explainers",
    "RandomScores": "explainers",
    # the prediction seam
    "TextClassifier": "predict",
    "Predictor": "predict",
    "AttentionView": "widgets",
    "SaliencyView": "widgets",
    "LimeView": "widgets",
    "CompareView": "widgets",
    "evaluate_explanations": "metrics",
    "summarize": "metrics",
    "faithfulness_scores": "metrics",
    "comprehensiveness": "metrics",
    "sufficiency": "metrics",
    "aopc": "metrics",
    "deletion_curve": "metrics",
    "insertion_curve": "metrics",
    "surrogate_fidelity": "metrics",
    "agreement_matrix": "metrics",
    "rank_agreement": "metrics",
    "seed_stability": "metrics",
    "edit_stability": "metrics",
    "global_importance": "metrics",
    "AuditView": "widgets",
    "audit": "audit",
    "AuditReport": "audit",
    "load_out_of_domain": "data",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> object:
    """Import a public name on first use (``import interpkit`` stays cheap)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'interpkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, for tab completion."""
    return sorted(set(globals()) | set(__all__))
