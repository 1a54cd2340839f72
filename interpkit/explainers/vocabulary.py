"""One vocabulary for explainer parameters: each shared name means the same thing everywhere.

A parameter that several explainers (and views) take means the same thing and accepts the same
values wherever it appears (:data:`VOCABULARY`); the contract test checks it for every
registered method, and :func:`check_shared_params` checks the values the one way:

- ``n_samples``: how many random samples the method draws, each evaluated by the model
  (LIME: perturbed texts; Kernel SHAP: word coalitions; SmoothGrad: noisy copies; Shapley
  sampling: word orders, each evaluated once per word). More is steadier and slower.
- ``batch_size``: inputs per forward pass, an integer or ``"auto"`` (bounded by attention
  memory). It changes speed and memory, never the scores.
- ``seed``: an integer >= 0 (the same seed gives the same explanation) or None (fresh
  randomness each call).
- ``baseline``: what replaces a removed token: ``"pad"``, ``"mask"`` or ``"zero"`` (its word
  embedding set to zero).
- ``output``: what is explained: ``"probability"`` or ``"logit"`` of the class.
- ``integration``: Integrated Gradients' integral approximation (Captum's ``method``).

Old spellings (:data:`OLD_SPELLINGS`: LIME's ``num_samples``, IG's ``internal_batch_size`` and
``method``) still work, with a ``DeprecationWarning`` that names the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..validation import check_choice, check_positive_int, check_seed

#: What gradient and perturbation methods can explain.
OUTPUTS = ("probability", "logit")
#: What replaces a removed token (IG, DeepLift, occlusion, Shapley methods, the views).
BASELINES = ("pad", "mask", "zero")
#: Captum's integral approximations for Integrated Gradients.
INTEGRATIONS = (
    "gausslegendre",
    "riemann_right",
    "riemann_left",
    "riemann_middle",
    "riemann_trapezoid",
)
#: The shared parameter names and what they mean (see the module notes).
VOCABULARY = {
    "n_samples": "random samples drawn, each evaluated by the model (a positive integer)",
    "batch_size": "inputs per forward pass: a positive integer or 'auto' (speed, not scores)",
    "seed": "an integer >= 0 (the same seed, the same explanation) or None",
    "baseline": f"what replaces a removed token: one of {', '.join(map(repr, BASELINES))}",
    "output": f"what is explained: one of {', '.join(map(repr, OUTPUTS))}",
    "integration": "Integrated Gradients' integral approximation (Captum's method)",
}
#: Old parameter names and the shared names that replaced them.
OLD_SPELLINGS = {
    "num_samples": "n_samples",
    "internal_batch_size": "batch_size",
    "method": "integration",
}


def check_shared_params(params: Mapping[str, Any]) -> None:
    """Check the shared parameters in ``params`` (those present) the one way for every method."""
    if "n_samples" in params:
        check_positive_int("n_samples", params["n_samples"])
    if "batch_size" in params:
        check_positive_int("batch_size", params["batch_size"], allow=("auto",))
    if "seed" in params:
        check_seed(params["seed"])
    if "baseline" in params:
        check_choice("baseline", params["baseline"], BASELINES)
    if "output" in params:
        check_choice("output", params["output"], OUTPUTS)
    if "integration" in params:
        check_choice("integration", params["integration"], INTEGRATIONS)
