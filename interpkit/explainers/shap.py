"""Shapley values with words as players, through Captum (no ``shap`` dependency).

A word is "absent" when all its tokens are replaced by the baseline ([MASK] by default) in
embedding space; [CLS]/[SEP] are always present. ``shap`` uses Captum's
``ShapleyValueSampling`` (random permutations: unbiased, and the word scores always sum
exactly to ``f(text) - f(all words masked)``); ``kernel_shap`` uses Captum's ``KernelShap``
(a weighted linear fit over random coalitions, SHAP's KernelExplainer).

Example
-------
>>> e = interpkit.explain(clf, "a wonderful film", method="shap", n_samples=50)
>>> e.diagnostics["efficiency_gap"]       # sum of word scores - (f(text) - f(baseline))
"""

from __future__ import annotations

import numpy as np
import torch

from .base import Attribution, Explainer, check_choice, check_positive_int, register
from .scoring import (
    OUTPUTS,
    ScoreModel,
    auto_batch_size,
    baseline_embeddings,
    describe_output,
    input_embeddings,
    output_of,
    seeded,
)

BASELINES = ("mask", "pad", "zero")


@register
class ShapleySampling(Explainer):
    """Shapley values of the words by permutation sampling (Captum ``ShapleyValueSampling``).

    Cost: ``n_samples × (words + 1)`` model evaluations, batched by ``batch_size``.

    Parameters
    ----------
    n_samples : int
        Random word orders (permutations) averaged.
    baseline : {"mask", "pad", "zero"}
        What replaces the tokens of an absent word.
    batch_size : int or "auto"
        Perturbed copies per forward pass ("auto": bounded by attention memory).
    seed : int or None
        Seed of the sampling (the same seed gives the same scores).
    output : {"probability", "logit"}
        What is explained.
    """

    name = "shap"
    family = "perturbation"
    _captum_class = "ShapleyValueSampling"

    def __init__(
        self,
        classifier,
        n_samples: int = 25,
        baseline: str = "mask",
        batch_size: int | str = "auto",
        seed: int | None = 0,
        output: str = "probability",
    ) -> None:
        super().__init__(classifier)
        self.n_samples = n_samples
        self.baseline = baseline
        self.batch_size = batch_size
        self.seed = seed
        self.output = output

    def _check_params(self, params: dict) -> None:
        check_positive_int("n_samples", params["n_samples"])
        check_positive_int("batch_size", params["batch_size"], allow=("auto",))
        check_choice("baseline", params["baseline"], BASELINES)
        check_choice("output", params["output"], OUTPUTS)

    def _attribute(self, inputs, target, contrast, params) -> Attribution:
        import captum.attr

        forward = ScoreModel(self.classifier.model, inputs, target, contrast, params["output"])
        embeds = input_embeddings(self.classifier, inputs)
        base = baseline_embeddings(self.classifier, inputs, params["baseline"])
        n_words = len(inputs.words)
        # One feature per word; special tokens share one extra feature whose baseline equals
        # the input, so "removing" it changes nothing and its value is exactly 0.
        groups = [n_words if w is None else w for w in inputs.token_to_word]
        mask = torch.tensor(groups, device=embeds.device).reshape(1, -1, 1)
        method = getattr(captum.attr, self._captum_class)(forward)
        with torch.no_grad(), seeded(params["seed"], embeds.device):
            att = method.attribute(
                embeds,
                baselines=base,
                feature_mask=mask,
                n_samples=params["n_samples"],
                perturbations_per_eval=auto_batch_size(params["batch_size"], embeds.shape[1], 64),
            )
            f_input = output_of(inputs, target, contrast, params["output"])
            f_base = float(forward(base)[0])
        word_scores = np.zeros(n_words, dtype=np.float64)
        values = att.detach()[0, :, 0].float().cpu().numpy()
        for position, w in enumerate(inputs.token_to_word):
            if w is not None:
                word_scores[w] = values[position]
        labels = self.classifier.labels
        diagnostics = {
            "explains": describe_output(params["output"], labels, target, contrast),
            "output": f_input,
            "baseline_output": f_base,
            "efficiency_gap": float(word_scores.sum() - (f_input - f_base)),
        }
        return Attribution(word_scores, level="word", diagnostics=diagnostics)


@register
class KernelShap(ShapleySampling):
    """Kernel SHAP (Lundberg & Lee 2017, Captum ``KernelShap``) with words as features.

    A linear model fitted to ``n_samples`` random word coalitions weighted by the Shapley
    kernel; ``diagnostics["efficiency_gap"]`` says how far its word scores are from summing to
    ``f(text) - f(baseline)``.

    Parameters
    ----------
    n_samples : int
        Coalitions evaluated (model calls, batched by ``batch_size``).
    baseline, batch_size, seed, output :
        As for :class:`ShapleySampling`.
    """

    name = "kernel_shap"
    _captum_class = "KernelShap"

    def __init__(
        self,
        classifier,
        n_samples: int = 200,
        baseline: str = "mask",
        batch_size: int | str = "auto",
        seed: int | None = 0,
        output: str = "probability",
    ) -> None:
        super().__init__(classifier, n_samples, baseline, batch_size, seed, output)
