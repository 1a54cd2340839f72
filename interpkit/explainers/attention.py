"""Attention as an explanation: raw weights, head/layer aggregation and attention rollout.

The model runs once with eager attention (transformers' SDPA kernel returns no weights). The
raw tensor ``(layers, heads, seq, seq)`` is kept in ``Explanation.extras["attention"]`` (a
numpy array) so views can re-render any layer or head without calling the model again; the
aggregated ``(seq, seq)`` matrix the scores come from is in ``extras["matrix"]``.

Token scores are one row of the aggregated matrix: the attention paid by [CLS] (``query=
"cls"``, what the classifier head reads) or the mean attention each token receives
(``query="mean"``). Attention does not depend on the class, so contrast mode is refused and
``target`` only chooses which probability is shown.

The array helpers (:func:`drop_special`, :func:`aggregate_heads`, :func:`aggregate_layers`,
:func:`rollout`) work on numpy arrays and are public for the views.

Example
-------
>>> e = interpkit.explain(clf, "a wonderful film", method="attention_rollout")
>>> e.extras["attention"].shape        # (layers, heads, seq, seq)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..models import Classifier, eager_attention
from ..predict import Predictor
from ..validation import check_bool, check_choice, is_int
from .base import Attribution, Explainer, Inputs, register

LAYER_MODES = ("rollout", "mean", "last", "first")
HEAD_MODES = ("mean", "max")
QUERIES = ("cls", "mean")


def drop_special(
    attention: np.ndarray, special: Sequence[bool] | np.ndarray, renormalize: bool = True
) -> np.ndarray:
    """Zero the attention paid to special tokens (columns); optionally renormalise rows to 1.

    Works on any ``(..., seq, seq)`` array; rows with nothing left stay zero.
    """
    special = np.asarray(special, dtype=bool)
    out = np.array(attention, dtype=np.float64, copy=True)
    out[..., special] = 0.0
    if renormalize:
        sums = out.sum(axis=-1, keepdims=True)
        out = np.divide(out, sums, out=np.zeros_like(out), where=sums > 0)
    return out


def aggregate_heads(attention: np.ndarray, how: str | int = "mean") -> np.ndarray:
    """Reduce ``(layers, heads, seq, seq)`` to ``(layers, seq, seq)``.

    Mean or max over heads, or one head by index.
    """
    if is_int(how):
        return attention[:, _index(how, attention.shape[1], "head")]
    check_choice("head", how, HEAD_MODES)
    return attention.mean(axis=1) if how == "mean" else attention.max(axis=1)


def rollout(attention: np.ndarray, residual: bool = True) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of ``(layers, seq, seq)`` → ``(seq, seq)``.

    Each layer's matrix is mixed with the identity for the residual connection
    (``0.5 A + 0.5 I``), rows renormalised, and the layers multiplied from the first up.
    """
    seq = attention.shape[-1]
    eye = np.eye(seq)
    result = eye.copy()
    for layer in np.asarray(attention, dtype=np.float64):
        a = 0.5 * layer + 0.5 * eye if residual else layer
        sums = a.sum(axis=-1, keepdims=True)
        a = np.divide(a, sums, out=np.zeros_like(a), where=sums > 0)
        result = a @ result
    return result


def aggregate_layers(
    attention: np.ndarray, how: str | int = "last", residual: bool = True
) -> np.ndarray:
    """``(layers, seq, seq)`` → ``(seq, seq)``: rollout, mean, first, last or one layer."""
    if is_int(how):
        return attention[_index(how, attention.shape[0], "layer")]
    check_choice("layer", how, LAYER_MODES)
    if how == "rollout":
        return rollout(attention, residual=residual)
    if how == "mean":
        return attention.mean(axis=0)
    return attention[0] if how == "first" else attention[-1]


def _index(i: int, size: int, what: str) -> int:
    if not -size <= int(i) < size:
        raise ValueError(f"{what} {i} does not exist: this model has {size} {what}s (0-{size - 1})")
    return int(i)


@register
class Attention(Explainer):
    """Attention weights of one text as token scores (class-independent).

    Parameters
    ----------
    layer : "last", "first", "mean", "rollout" or int
        Which layer, or how layers are combined ("rollout": Abnar & Zuidema 2020).
    head : "mean", "max" or int
        Which head, or how heads are combined.
    drop_special : bool
        Zero the attention paid to [CLS]/[SEP] and renormalise rows to sum to 1 (they often
        soak up most attention as a "no-op").
    query : {"cls", "mean"}
        Score = attention paid by [CLS], or mean attention received from all tokens.
    residual : bool
        Rollout only: account for the residual connection (``0.5 A + 0.5 I``).
    """

    name = "attention"
    family = "attention"
    class_specific = False
    supports_contrast = False
    explains = "attention weights (class-independent)"

    def __init__(
        self,
        classifier: Classifier | Predictor,
        layer: str | int = "last",
        head: str | int = "mean",
        drop_special: bool = False,
        query: str = "cls",
        residual: bool = True,
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _check_params(self, params: dict) -> None:
        for name, modes in (("layer", LAYER_MODES), ("head", HEAD_MODES)):
            if not is_int(params[name]):
                check_choice(name, params[name], modes)
        check_choice("query", params["query"], QUERIES)
        check_bool("drop_special", params["drop_special"])
        check_bool("residual", params["residual"])

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        model = self.classifier.model
        with torch.no_grad(), eager_attention(model):
            out = model(input_ids=inputs.input_ids, **inputs.model_kwargs(), output_attentions=True)
        if not out.attentions:
            raise RuntimeError(
                f"{type(model).__name__} returned no attention weights: this model type does "
                "not expose them, so attention explanations are unavailable"
            )
        raw = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()
        per_layer = aggregate_heads(raw.astype(np.float64), params["head"])
        matrix = aggregate_layers(per_layer, params["layer"], residual=params["residual"])
        if params["drop_special"]:
            matrix = drop_special(matrix, inputs.special)
        if params["query"] == "cls":
            scores = matrix[0]  # [CLS] opens every BERT input; its row is what the head reads
        else:
            scores = matrix.mean(axis=0)
        diagnostics = {
            "class_specific": False,
            "layers": int(raw.shape[0]),
            "heads": int(raw.shape[1]),
            "row_sums_min": float(matrix.sum(axis=-1).min()),
        }
        extras = {"attention": raw, "matrix": matrix}
        return Attribution(np.asarray(scores), diagnostics=diagnostics, extras=extras)


@register
class AttentionRollout(Attention):
    """Attention rollout (Abnar & Zuidema 2020): :class:`Attention` with ``layer="rollout"``."""

    name = "attention_rollout"

    def __init__(
        self,
        classifier: Classifier | Predictor,
        layer: str | int = "rollout",
        head: str | int = "mean",
        drop_special: bool = False,
        query: str = "cls",
        residual: bool = True,
    ) -> None:
        super().__init__(classifier, layer, head, drop_special, query, residual)
