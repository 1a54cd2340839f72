"""Deprecated home of the interpretability loss terms, students and variant comparison.

Everything here moved into :mod:`interpkit.train` (issue 15): the loss terms to
:mod:`interpkit.train.losses`, the options to :class:`interpkit.train.LossConfig`, the students to
:mod:`interpkit.train.students`, :func:`compare_variants` and :func:`attribution_sparsity` to
:mod:`interpkit.train.variants`. This module re-exports the names the README lists so that
existing code (notebook 07 among it) keeps working; import them from ``interpkit`` or
``interpkit.train`` in new code. It will be removed in a future version.

Example
-------
>>> from interpkit.train import weight_penalty  # rather than interpkit.interpretable
"""

from __future__ import annotations

from .train.config import PENALTY_GROUPS, LossConfig
from .train.losses import (
    TrainingLoss,
    attribution_entropy,
    distillation_loss,
    penalized_parameters,
    weight_penalty,
)
from .train.students import count_parameters, truncate_layers
from .train.variants import attribution_sparsity, compare_variants

__all__ = [
    "PENALTY_GROUPS",
    "LossConfig",
    "TrainingLoss",
    "attribution_entropy",
    "attribution_sparsity",
    "compare_variants",
    "count_parameters",
    "distillation_loss",
    "penalized_parameters",
    "truncate_layers",
    "weight_penalty",
]
