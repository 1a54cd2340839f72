"""Explainers: one class per method, one call for all, and a registry to find them by name.

Every explainer is built as ``Method(classifier, **params)`` and called as
``explain(text, target=None, contrast=None, **overrides) -> Explanation``. The registry lets
views, metrics and users list and call methods by name; the classes are exported here (and
from :mod:`interpkit`) too. Class (registry name), by family:

- attention: :class:`Attention` (``"attention"``), :class:`AttentionRollout`
  (``"attention_rollout"``);
- gradient: :class:`IntegratedGradients` (``"integrated_gradients"``), :class:`Saliency`
  (``"saliency"``), :class:`InputXGradient` (``"input_x_gradient"``), :class:`SmoothGrad`
  (``"smoothgrad"``), :class:`DeepLift` (``"deeplift"``);
- perturbation: :class:`Occlusion` (``"occlusion"``), :class:`ShapleySampling` (``"shap"``),
  :class:`KernelShap` (``"kernel_shap"``), :class:`Lime` (``"lime"``);
- control: :class:`RandomScores` (``"random"``).

Shared parameter names mean the same thing in every method (``n_samples``, ``batch_size``,
``seed``, ``baseline``, ``output``, ``integration``: :mod:`.vocabulary`), and functions that run
a method by name take its options as ``options={method: {...}}`` (:mod:`.options`).

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()
>>> interpkit.list_explainers()
['attention', 'attention_rollout', 'integrated_gradients', ...]
>>> e = interpkit.explain(clf, "a wonderful film", method="lime", n_samples=500)
>>> e = interpkit.IntegratedGradients(clf, n_steps=100).explain("a wonderful film")
>>> e.top(3)
"""

from __future__ import annotations

from ..explanation import Explanation
from ..models import Classifier
from ..predict import Predictor

# Importing the method modules registers them, in this order (the order of list_explainers()).
# isort: off
from . import attention, gradients, shap, lime, control  # noqa: F401

# isort: on
from .attention import Attention, AttentionRollout
from .base import Explainer, UnknownTokensWarning, get_explainer, list_explainers, register
from .control import RandomScores
from .gradients import (
    DeepLift,
    InputXGradient,
    IntegratedGradients,
    Occlusion,
    Saliency,
    SmoothGrad,
)
from .lime import Lime
from .options import method_options
from .shap import KernelShap, ShapleySampling

#: The method classes exported by :mod:`interpkit` and :mod:`interpkit.explainers`.
METHOD_CLASSES = (
    Attention,
    AttentionRollout,
    IntegratedGradients,
    Saliency,
    InputXGradient,
    SmoothGrad,
    DeepLift,
    Occlusion,
    ShapleySampling,
    KernelShap,
    Lime,
    RandomScores,
)


def explain(
    classifier: Classifier | Predictor,
    text: str,
    method: str = "integrated_gradients",
    target: str | int | None = None,
    contrast: str | int | None = None,
    **options: object,
) -> Explanation:
    """Explain ``classifier``'s score for ``target`` on ``text`` with a registered method.

    ``options`` are the method's parameters (see ``help(interpkit.get_explainer(method))``).
    Same as ``get_explainer(method)(classifier, **options).explain(text, target, contrast)``.

    Example
    -------
    >>> e = interpkit.explain(clf, "a wonderful film", method="integrated_gradients",
    ...                       target="positive", n_steps=100)
    >>> e.top(3)
    """
    explainer = get_explainer(method)(classifier)
    return explainer.explain(text, target=target, contrast=contrast, **options)


__all__ = [
    "METHOD_CLASSES",
    "Attention",
    "AttentionRollout",
    "DeepLift",
    "Explainer",
    "Explanation",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "Lime",
    "Occlusion",
    "RandomScores",
    "Saliency",
    "ShapleySampling",
    "SmoothGrad",
    "UnknownTokensWarning",
    "explain",
    "get_explainer",
    "list_explainers",
    "method_options",
    "register",
]
