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

from .base import Attribution, Explainer, register


@register
class RandomScores(Explainer):
    """Random token scores (seeded): the chance baseline for metrics.

    Parameters
    ----------
    seed : int
        Mixed with the text's CRC-32, so scores are repeatable per text.
    """

    name = "random"
    family = "control"
    class_specific = False  # contrast is still accepted: the control must run in every mode
    explains = "nothing (random control)"

    def __init__(self, classifier, seed: int = 0) -> None:
        super().__init__(classifier)
        self.seed = seed

    def _check_params(self, params: dict) -> None:
        seed = params["seed"]
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")

    def _attribute(self, inputs, target, contrast, params) -> Attribution:
        rng = np.random.default_rng([int(params["seed"]), zlib.crc32(inputs.text.encode())])
        scores = rng.standard_normal(len(inputs.tokens))
        scores[inputs.special] = 0.0
        return Attribution(scores, diagnostics={"class_specific": False})
