"""Controls: explainers that know nothing, to measure what chance looks like.

``random`` gives every non-special token a standard-normal score from a generator seeded by
``seed`` and the text itself (CRC-32), so the same text and seed always give the same scores
and different texts different ones. Faithfulness metrics compare real methods against it.

Example
-------
>>> e = interpkit.explain(clf, "a wonderful film", method="random", seed=1)
"""

from __future__ import annotations

import zlib

import numpy as np

from ..models import Classifier
from ..predict import Predictor
from .base import Attribution, Explainer, Inputs, register

__all__ = ["RandomScores"]


@register
class RandomScores(Explainer):
    """Random token scores (seeded): the chance baseline for metrics.

    Parameters
    ----------
    seed : int or None
        Mixed with the text's CRC-32, so scores are repeatable per text; None draws fresh
        scores on every call.
    """

    name = "random"
    family = "control"
    class_specific = False  # contrast is still accepted: the control must run in every mode
    explains = "nothing (random control)"

    def __init__(self, classifier: Classifier | Predictor, seed: int | None = 0) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        seed = params["seed"]
        rng = np.random.default_rng(
            None if seed is None else [int(seed), zlib.crc32(inputs.text.encode())]
        )
        scores = rng.standard_normal(len(inputs.tokens))
        scores[inputs.special] = 0.0
        return Attribution(scores, diagnostics={"class_specific": False})
