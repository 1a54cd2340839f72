"""Shapley values with words as players, through Captum (no ``shap`` dependency).

A word is "absent" when all its tokens are replaced by the baseline ([MASK] by default) in
embedding space. The players are the words alone: [CLS]/[SEP] are always present and are not
a feature (Captum only ever sees the words' token embeddings). ``shap`` uses Captum's
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

from ..models import Classifier
from ..predict import Predictor
from .base import Attribution, Explainer, Inputs, register
from .scoring import (
    ScoreModel,
    auto_batch_size,
    baseline_embeddings,
    describe_output,
    input_embeddings,
    output_of,
    seeded,
)

__all__ = ["KernelShap", "ShapleySampling"]


@register
class ShapleySampling(Explainer):
    """Shapley values of the words by permutation sampling (Captum ``ShapleyValueSampling``).

    Cost: ``n_samples × words + 1`` model evaluations, batched by ``batch_size``
    (``diagnostics["evaluations"]``).

    Parameters
    ----------
    n_samples : int
        Random word orders (permutations) averaged; each is evaluated once per word.
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
        classifier: Classifier | Predictor,
        n_samples: int = 25,
        baseline: str = "mask",
        batch_size: int | str = "auto",
        seed: int | None = 0,
        output: str = "probability",
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        import captum.attr

        forward = ScoreModel(self.classifier.model, inputs, target, contrast, params["output"])
        embeds = input_embeddings(self.classifier, inputs)
        base = baseline_embeddings(self.classifier, inputs, params["baseline"])
        game = WordGame(forward, embeds, inputs.token_to_word)
        # One feature per word, nothing else: a feature for the always-present special tokens
        # would get a weight in Kernel SHAP's regression that belongs to no word.
        mask = torch.tensor(game.words, device=embeds.device).reshape(1, -1, 1)
        method = getattr(captum.attr, self._captum_class)(game)
        with torch.no_grad(), seeded(params["seed"], embeds.device):
            att = method.attribute(
                game.select(embeds),
                baselines=game.select(base),
                feature_mask=mask,
                n_samples=params["n_samples"],
                perturbations_per_eval=auto_batch_size(params["batch_size"], embeds.shape[1], 64),
            )
            evaluations = forward.rows
            f_input = output_of(inputs, target, contrast, params["output"])
            f_base = float(forward(base)[0])
        word_scores = np.zeros(len(inputs.words), dtype=np.float64)
        values = att.detach()[0, :, 0].float().cpu().numpy()
        for value, w in zip(values, game.words, strict=True):
            word_scores[w] = value  # every token of a word carries the word's value
        labels = self.classifier.labels
        diagnostics = {
            "explains": describe_output(params["output"], labels, target, contrast),
            "output": f_input,
            "baseline_output": f_base,
            "efficiency_gap": float(word_scores.sum() - (f_input - f_base)),
            "samples": int(params["n_samples"]),
            "evaluations": int(evaluations),
        }
        return Attribution(word_scores, level="word", diagnostics=diagnostics)


class WordGame(torch.nn.Module):
    """The explained score as a function of the word tokens' embeddings only.

    Captum perturbs every feature it is given; this module takes the embeddings of the tokens
    that belong to a word (``select``) and puts them back among the text's special tokens,
    which stay as they are, so the words are the only players.
    """

    def __init__(
        self, score: torch.nn.Module, embeds: torch.Tensor, token_to_word: list[int | None]
    ) -> None:
        super().__init__()
        self.score = score
        self.embeds = embeds
        self.positions = [i for i, w in enumerate(token_to_word) if w is not None]
        self.words = [token_to_word[i] for i in self.positions]

    def select(self, embeds: torch.Tensor) -> torch.Tensor:
        """``(batch, word tokens, hidden)``: the embeddings of the tokens that belong to words."""
        return embeds[:, self.positions]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = self.embeds.expand(x.shape[0], -1, -1).clone()
        full[:, self.positions] = x
        return self.score(full)


@register
class KernelShap(ShapleySampling):
    """Kernel SHAP (Lundberg & Lee 2017, Captum ``KernelShap``) with words as features.

    A linear model fitted to ``n_samples`` random word coalitions weighted by the Shapley
    kernel, with one feature per word. Captum gives the empty and the full coalition a weight
    of 10⁶, so the word scores sum to ``f(text) - f(baseline)`` up to
    ``diagnostics["efficiency_gap"]`` (~1e-6 of it); their accuracy against exact Shapley
    values grows with ``n_samples``.

    Parameters
    ----------
    n_samples : int
        Coalitions evaluated (one model evaluation each, batched by ``batch_size``).
    baseline, batch_size, seed, output :
        As for :class:`ShapleySampling`.
    """

    name = "kernel_shap"
    _captum_class = "KernelShap"

    def __init__(
        self,
        classifier: Classifier | Predictor,
        n_samples: int = 200,
        baseline: str = "mask",
        batch_size: int | str = "auto",
        seed: int | None = 0,
        output: str = "probability",
    ) -> None:
        super().__init__(classifier, n_samples, baseline, batch_size, seed, output)
