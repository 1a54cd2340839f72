"""Explainers: one class per method, one call for all, and a registry to find them by name.

Every explainer is built as ``Method(classifier, **params)`` and called as
``explain(text, target=None, contrast=None, **overrides) -> Explanation``. The registry lets
views, metrics and users list and call methods by name.

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()
>>> interpkit.list_explainers()
['attention', 'attention_rollout', 'integrated_gradients', ...]
>>> e = interpkit.explain(clf, "a wonderful film", method="lime", num_samples=500)
>>> e.top(3)
"""

from __future__ import annotations

from ..explanation import Explanation
from .base import Explainer, UnknownTokensWarning, get_explainer, list_explainers, register

# Importing the method modules registers them, in this order (the order of list_explainers()).
# isort: off
from . import attention, gradients, shap, lime, control  # noqa: F401
# isort: on


def explain(
    classifier,
    text: str,
    method: str = "integrated_gradients",
    target: str | int | None = None,
    contrast: str | int | None = None,
    **options,
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
    "Explainer",
    "Explanation",
    "UnknownTokensWarning",
    "explain",
    "get_explainer",
    "list_explainers",
    "register",
]
