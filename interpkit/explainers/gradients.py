"""Gradient methods through Captum, on the word-embedding layer.

All of them explain the same quantity: the probability of the target class (``output=
"probability"``, default) or its logit (``output="logit"``), minus the contrast class's in
contrast mode. Scores per token come from the attribution over the embedding dimensions:
summed for methods with a completeness property (Integrated Gradients, Input×Gradient,
DeepLift; signed), the L2 norm for plain gradients (Saliency, SmoothGrad; unsigned).

Baselines (IG, DeepLift, Occlusion) replace every non-special token by [PAD] or [MASK], or
set its word embedding to zero; [CLS] and [SEP] stay in place.

Example
-------
>>> from interpkit.explainers.gradients import IntegratedGradients
>>> e = IntegratedGradients(clf, baseline="mask", n_steps=100).explain("a wonderful film")
>>> e.diagnostics["convergence_delta"]
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..models import Classifier
from ..predict import Predictor
from ..validation import check_non_negative_number, check_positive_int
from .base import Attribution, Explainer, Inputs, register, warn_user
from .scoring import (
    ScoreModel,
    auto_batch_size,
    baseline_embeddings,
    baseline_ids,
    describe_output,
    input_embeddings,
    output_of,
    seeded,
)
from .vocabulary import BASELINES, INTEGRATIONS

__all__ = [
    "BASELINES",
    "INTEGRATIONS",
    "DeepLift",
    "InputXGradient",
    "IntegratedGradients",
    "Occlusion",
    "Saliency",
    "SmoothGrad",
]


class _CaptumExplainer(Explainer):
    """Shared: the ``output`` parameter, the score model and the explained quantity."""

    family = "gradient"

    def _score_model(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> ScoreModel:
        return ScoreModel(self.classifier.model, inputs, target, contrast, params["output"])

    def _diagnostics(self, target: int, contrast: int | None, params: dict) -> dict:
        labels = self.classifier.labels
        return {"explains": describe_output(params["output"], labels, target, contrast)}


def _needs_grad(classifier: Classifier, inputs: Inputs) -> torch.Tensor:
    """Return the text's word embeddings as a fresh leaf tensor that requires grad."""
    return input_embeddings(classifier, inputs).clone().requires_grad_()


def _per_token(attributions: torch.Tensor, reduce: str) -> np.ndarray:
    att = attributions.detach()[0].float()
    values = att.sum(-1) if reduce == "sum" else att.norm(dim=-1)
    return values.cpu().numpy().astype(np.float64)


@register
class IntegratedGradients(_CaptumExplainer):
    """Integrated Gradients (Sundararajan et al. 2017) on the word embeddings.

    Token scores sum to ``f(text) - f(baseline)`` up to ``diagnostics["convergence_delta"]``
    (completeness); raise ``n_steps`` when the delta is large compared with the scores.

    Parameters
    ----------
    baseline : {"pad", "mask", "zero"}
        Reference input: content tokens replaced by [PAD] or [MASK] (Captum's
        ``LayerIntegratedGradients`` on ``model.get_input_embeddings()``), or zero word
        embeddings (Captum's ``IntegratedGradients`` on the embeddings, since a layer method
        can only start from token ids). [CLS]/[SEP] stay in place, and the baseline differs
        from the text only in its word embeddings: attention mask, token types and position
        ids are the text's (RoBERTa-style models would otherwise number a [PAD] baseline's
        positions differently, and f(baseline) would not be the start of the integrated path).
        On models that add no position embedding before the embeddings' LayerNorm
        (DeBERTa-v3 style), "zero" starts the path at LayerNorm's singular point (a zero
        vector): the convergence delta then needs several times more ``n_steps``.
    n_steps : int
        Points on the path from baseline to input.
    integration : str
        Captum's integral approximation (``"gausslegendre"``, ``"riemann_trapezoid"``,
        ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"``; Captum calls it
        ``method``). Formerly ``method``, which collided with the explainer's name wherever
        options travel with it (``evaluate_explanations``, ``CompareView``, ``audit``, ...):
        ``IntegratedGradients(clf, method=...)``, ``.explain(text, method=...)`` and
        per-method option dicts still accept it, with a DeprecationWarning.
    batch_size : int or "auto"
        Path points per forward pass (Captum's ``internal_batch_size``, its former name here,
        still accepted with a DeprecationWarning); "auto" bounds the attention memory kept for
        the backward pass (all 50 steps at once for a sentence, 2 at a time at 512 tokens).
        Speed and memory only: the scores are the same for any value.
    output : {"probability", "logit"}
        What is explained.
    """

    name = "integrated_gradients"
    renamed = {"method": "integration", "internal_batch_size": "batch_size"}

    def __init__(
        self,
        classifier: Classifier | Predictor,
        baseline: str = "pad",
        n_steps: int = 50,
        integration: str = "gausslegendre",
        batch_size: int | str = "auto",
        output: str = "probability",
        **old_names: object,
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _check_params(self, params: dict) -> None:
        check_positive_int("n_steps", params["n_steps"])

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import IntegratedGradients as CaptumIG
        from captum.attr import LayerIntegratedGradients

        forward = self._score_model(inputs, target, contrast, params)
        batch = auto_batch_size(
            params["batch_size"], inputs.input_ids.shape[1], params["n_steps"], grad=True
        )
        common = dict(
            n_steps=params["n_steps"],
            method=params["integration"],
            internal_batch_size=batch,
            return_convergence_delta=True,
        )
        if params["baseline"] == "zero":
            base = baseline_embeddings(self.classifier, inputs, "zero")
            att, delta = CaptumIG(forward).attribute(
                _needs_grad(self.classifier, inputs), baselines=base, **common
            )
        else:
            embeddings = self.classifier.model.get_input_embeddings()
            base = baseline_ids(self.classifier, inputs, params["baseline"])
            att, delta = LayerIntegratedGradients(forward, embeddings).attribute(
                inputs.input_ids, baselines=base, **common
            )
        scores = _per_token(att, "sum")
        delta = float(delta.reshape(-1)[0])
        f_input = output_of(inputs, target, contrast, params["output"])
        diagnostics = self._diagnostics(target, contrast, params)
        diagnostics.update(
            convergence_delta=delta,
            output=f_input,
            # Captum defines delta = sum(attributions) - (f(input) - f(baseline)), f being the
            # ScoreModel (the text's positions): reading f(baseline) back saves a forward pass.
            baseline_output=f_input - float(att.detach().double().sum()) + delta,
            batch_size=batch,
        )
        return Attribution(scores, diagnostics=diagnostics)


class _OutputOnly(_CaptumExplainer):
    """A gradient method whose only parameter is ``output``."""

    def __init__(self, classifier: Classifier | Predictor, output: str = "probability") -> None:
        super().__init__(classifier)
        self._set_params(locals())


@register
class Saliency(_OutputOnly):
    """Saliency (Simonyan et al. 2014): the L2 norm of the gradient at each token (unsigned).

    Parameters
    ----------
    output : {"probability", "logit"}
        What is explained.
    """

    name = "saliency"

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import Saliency as CaptumSaliency

        forward = self._score_model(inputs, target, contrast, params)
        grads = CaptumSaliency(forward).attribute(_needs_grad(self.classifier, inputs), abs=False)
        diagnostics = self._diagnostics(target, contrast, params)
        diagnostics["signed"] = False
        return Attribution(_per_token(grads, "norm"), diagnostics=diagnostics)


@register
class InputXGradient(_OutputOnly):
    """Input × Gradient: the gradient times the word embedding, summed per token (signed).

    Parameters
    ----------
    output : {"probability", "logit"}
        What is explained.
    """

    name = "input_x_gradient"

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import InputXGradient as CaptumIxG

        forward = self._score_model(inputs, target, contrast, params)
        att = CaptumIxG(forward).attribute(_needs_grad(self.classifier, inputs))
        return Attribution(
            _per_token(att, "sum"), diagnostics=self._diagnostics(target, contrast, params)
        )


@register
class SmoothGrad(_CaptumExplainer):
    """SmoothGrad (Smilkov et al. 2017): gradients averaged over noisy copies of the embeddings.

    Captum's ``NoiseTunnel`` over ``Saliency``, L2 norm per token (unsigned).

    Parameters
    ----------
    n_samples : int
        Noisy copies.
    noise_level : float
        Noise standard deviation as a fraction of the text's embedding value range (max - min).
        Word embeddings have outlier dimensions, so the image-domain 10-20 % is far too much
        here: on the demo MiniLM, 0.1 is twice the embeddings' spread and flips the model's
        prediction; 0.01 (AllenNLP's default) barely differs from plain saliency.
    batch_size : int or "auto"
        Noisy copies per forward pass ("auto": bounded by attention memory).
    seed : int or None
        Seed of the noise (the same seed gives the same scores).
    output : {"probability", "logit"}
        What is explained.
    """

    name = "smoothgrad"

    def __init__(
        self,
        classifier: Classifier | Predictor,
        n_samples: int = 20,
        noise_level: float = 0.05,
        batch_size: int | str = "auto",
        seed: int | None = 0,
        output: str = "probability",
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _check_params(self, params: dict) -> None:
        check_non_negative_number("noise_level", params["noise_level"])

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import NoiseTunnel
        from captum.attr import Saliency as CaptumSaliency

        forward = self._score_model(inputs, target, contrast, params)
        embeds = _needs_grad(self.classifier, inputs)
        stdev = float(params["noise_level"]) * float((embeds.max() - embeds.min()).detach())
        batch = auto_batch_size(
            params["batch_size"], embeds.shape[1], params["n_samples"], grad=True
        )
        with seeded(params["seed"], embeds.device):
            grads = NoiseTunnel(CaptumSaliency(forward)).attribute(
                embeds,
                nt_type="smoothgrad",
                nt_samples=params["n_samples"],
                nt_samples_batch_size=batch,
                stdevs=stdev,
                abs=False,
            )
        diagnostics = self._diagnostics(target, contrast, params)
        diagnostics.update(
            signed=False,
            noise_stdev=stdev,
            samples=int(params["n_samples"]),
            evaluations=forward.rows,
        )
        return Attribution(_per_token(grads, "norm"), diagnostics=diagnostics)


@register
class DeepLift(_CaptumExplainer):
    """DeepLift (Shrikumar et al. 2017, Captum's rescale rule) from a baseline, per token.

    Captum overrides the gradients of the non-linear modules it knows; BERT's GELU, LayerNorm
    and the functional softmax inside attention are not among them and pass plain gradients,
    so on transformers the scores can be far from summing to ``f(text) - f(baseline)`` (known
    Captum limitation, captum issues #519 and #1357). ``diagnostics["convergence_delta"]`` and
    ``["relative_delta"]`` say how far; a ``RuntimeWarning`` is shown when the gap is over 10 %.
    Kept for comparison and teaching; prefer Integrated Gradients for BERT.

    Parameters
    ----------
    baseline : {"pad", "mask", "zero"}
        Reference input (see :class:`IntegratedGradients`).
    output : {"probability", "logit"}
        What is explained.
    """

    name = "deeplift"

    def __init__(
        self, classifier: Classifier | Predictor, baseline: str = "pad", output: str = "probability"
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import DeepLift as CaptumDeepLift

        forward = self._score_model(inputs, target, contrast, params)
        base = baseline_embeddings(self.classifier, inputs, params["baseline"])
        with warnings.catch_warnings():
            # Captum announces its temporary hooks on every call.
            warnings.filterwarnings("ignore", message=".*hooks.*", category=UserWarning)
            att, delta = CaptumDeepLift(forward).attribute(
                _needs_grad(self.classifier, inputs),
                baselines=base,
                return_convergence_delta=True,
            )
        scores = _per_token(att, "sum")
        delta = float(delta.reshape(-1)[0])
        expected = float(scores.sum()) - delta  # f(text) - f(baseline), by Captum's definition
        relative = abs(delta) / max(abs(expected), 1e-12)
        if relative > 0.1 and abs(delta) > 1e-4:
            warn_user(
                f"DeepLift scores sum to {scores.sum():.3g} but f(text) - f(baseline) = "
                f"{expected:.3g}: Captum's DeepLift rules do not cover BERT's attention softmax, "
                "LayerNorm and GELU, so these scores are unreliable here; prefer "
                "method='integrated_gradients'",
                RuntimeWarning,
            )
        diagnostics = self._diagnostics(target, contrast, params)
        diagnostics.update(convergence_delta=delta, relative_delta=relative)
        return Attribution(scores, diagnostics=diagnostics)


@register
class Occlusion(_CaptumExplainer):
    """Token occlusion (Zeiler & Fergus 2014, Captum's ``Occlusion``).

    How much the score drops when a window of tokens is replaced by the baseline. Scores are
    averaged over the windows that cover a token (signed; positive = the token supports the
    class).

    Parameters
    ----------
    baseline : {"mask", "pad", "zero"}
        What replaces an occluded token.
    window : int
        Tokens occluded together (1 = one at a time).
    batch_size : int or "auto"
        Occluded copies per forward pass ("auto": bounded by attention memory).
    output : {"probability", "logit"}
        What is explained.
    """

    name = "occlusion"
    family = "perturbation"

    def __init__(
        self,
        classifier: Classifier | Predictor,
        baseline: str = "mask",
        window: int = 1,
        batch_size: int | str = "auto",
        output: str = "probability",
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _check_params(self, params: dict) -> None:
        check_positive_int("window", params["window"])

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from captum.attr import Occlusion as CaptumOcclusion

        forward = self._score_model(inputs, target, contrast, params)
        embeds = input_embeddings(self.classifier, inputs)
        seq, hidden = embeds.shape[1], embeds.shape[2]
        window = min(int(params["window"]), seq)
        with torch.no_grad():
            att = CaptumOcclusion(forward).attribute(
                embeds,
                sliding_window_shapes=(window, hidden),
                strides=(1, hidden),
                baselines=baseline_embeddings(self.classifier, inputs, params["baseline"]),
                perturbations_per_eval=auto_batch_size(params["batch_size"], seq, seq),
            )
        # Every embedding dimension of a token gets the same value: read one of them.
        scores = att.detach()[0, :, 0].float().cpu().numpy().astype(np.float64)
        return Attribution(scores, diagnostics=self._diagnostics(target, contrast, params))
