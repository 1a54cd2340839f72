"""Deprecated home of the interpretability loss terms, students and variant comparison.

Everything here moved into :mod:`interpkit.train` (issue 15): the loss terms to
:mod:`interpkit.train.losses`, their options to :class:`interpkit.train.LossConfig`, the
students to :mod:`interpkit.train.students`, :func:`compare_variants` and
:func:`attribution_sparsity` to :mod:`interpkit.train.variants`. The names the README lists are
still found here (notebook 07 imports them from here); import them from ``interpkit`` or
``interpkit.train`` in new code. This module will be removed in a future version.

Example
-------
>>> from interpkit.train import weight_penalty  # rather than interpkit.interpretable
"""

from __future__ import annotations

import importlib

#: Where each name lives now (a module of interpkit.train).
_MOVED = {
    "PENALTY_GROUPS": "config",
    "LossConfig": "config",
    "TrainingLoss": "losses",
    "attribution_entropy": "losses",
    "distillation_loss": "losses",
    "penalized_parameters": "losses",
    "weight_penalty": "losses",
    "count_parameters": "students",
    "truncate_layers": "students",
    "attribution_sparsity": "variants",
    "compare_variants": "variants",
}

__all__ = sorted(_MOVED)


def __getattr__(name: str) -> object:
    """Return ``name`` from its new module in :mod:`interpkit.train`."""
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'interpkit.interpretable' has no attribute {name!r}")
    return getattr(importlib.import_module(f"interpkit.train.{module}"), name)


def __dir__() -> list[str]:
    """List the names this module still provides."""
    return sorted(set(globals()) | set(__all__))
