r"""The loss terms :func:`interpkit.fine_tune` can add, and the loss that sums them.

Interpretability guides often claim that L1/L2 regularisation and knowledge distillation keep a
fine-tuned model more interpretable. These are the terms that make the claim testable
(notebook 07); :class:`TrainingLoss` adds the ones a :class:`~interpkit.train.LossConfig` turns
on:

.. math::

    L = \alpha \, CE(y, s) + (1-\alpha) \, T^2 \, KL(\sigma(t/T) \,\|\, \sigma(s/T))
        + \lambda_1 \sum |w| + \lambda_2 \sum w^2 + \gamma \, H(|\nabla_x s_y \cdot x|)

with student logits ``s``, teacher logits ``t`` (the KL term only with a teacher, Hinton et
al. 2015), the penalties summed over the chosen weights, and ``H`` the normalised entropy of a
sentence's gradient×input attributions (low entropy = attribution on few tokens).

Example
-------
>>> from interpkit.train.losses import TrainingLoss
>>> loss, logits, parts = TrainingLoss(l2=1e-3)(clf.model, batch)
>>> sorted(parts)
['ce', 'weight_penalty']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..validation import check_fraction, check_positive_number
from .config import PENALTY_GROUPS, LossConfig

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ParameterFilter = Callable[[str, Any], bool]


def penalized_parameters(
    model: PreTrainedModel, on: str | ParameterFilter = "all"
) -> list[tuple[str, torch.nn.Parameter]]:
    """Return the ``(name, parameter)`` pairs an L1/L2 penalty covers.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The model being trained.
    on : {"all", "encoder", "head"} or callable
        ``"all"``: every weight matrix (embeddings included; biases and LayerNorm scales
        excluded, as weight decay excludes them). ``"encoder"``: the weight matrices of the
        transformer layers. ``"head"``: every parameter outside the backbone (the classifier
        layer). A callable ``on(name, parameter) -> bool`` chooses freely.

    Returns
    -------
    list of (str, torch.nn.Parameter)
        The chosen parameters, in the model's order.
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    named = list(model.named_parameters())
    if callable(on):
        chosen = [(n, p) for n, p in named if on(n, p)]
    elif on == "all":
        chosen = [(n, p) for n, p in named if p.dim() >= 2]
    elif on == "encoder":
        chosen = [
            (n, p) for n, p in named if p.dim() >= 2 and ".encoder." in f".{n}" and ".layer." in n
        ]
    elif on == "head":
        chosen = [(n, p) for n, p in named if not (prefix and n.startswith(prefix))]
    else:
        raise ValueError(
            f"penalty_on must be one of {', '.join(PENALTY_GROUPS)} or a callable "
            f"(name, parameter) -> bool, got {on!r}"
        )
    if not chosen:
        raise ValueError(f"penalty_on={on!r} selects no parameter of this model")
    return chosen


def weight_penalty(
    model: PreTrainedModel, l1: float = 0.0, l2: float = 0.0, on: str | ParameterFilter = "all"
) -> torch.Tensor:
    """``l1 * sum |w| + l2 * sum w**2`` over :func:`penalized_parameters` (a scalar tensor).

    Sums, not means: the coefficient is per weight, as in ridge and lasso. On the 22 M
    parameters of MiniLM, ``sum |w|`` is about 5e5, so useful ``l1`` values are around 1e-6.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The model whose weights are penalised.
    l1, l2 : float
        Coefficients of the L1 and L2 terms.
    on : {"all", "encoder", "head"} or callable
        Which weights (see :func:`penalized_parameters`).

    Returns
    -------
    torch.Tensor
        A differentiable scalar.
    """
    import torch

    params = [p for _, p in penalized_parameters(model, on)]
    total = torch.zeros((), device=params[0].device)
    if l1:
        total = total + l1 * sum(p.abs().sum() for p in params)
    if l2:
        total = total + l2 * sum(p.pow(2).sum() for p in params)
    return total


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor | None = None,
    alpha: float = 0.5,
    temperature: float = 1.0,
) -> torch.Tensor:
    """``alpha * CE(labels, student) + (1 - alpha) * T**2 * KL(teacher || student)`` at T.

    The ``T**2`` keeps the soft term's gradients on the scale of the hard term's (Hinton et
    al., 2015). ``labels=None`` (or ``alpha=0``) distils from the teacher alone. Zero when the
    student's logits equal the teacher's, ``alpha=0`` and any ``T``.

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor
        Shape ``(batch, classes)``.
    labels : torch.Tensor, optional
        Class ids, shape ``(batch,)``.
    alpha : float in [0, 1]
        Weight of the cross-entropy with the labels.
    temperature : float > 0
        Softening of both distributions.

    Returns
    -------
    torch.Tensor
        A differentiable scalar.
    """
    import torch.nn.functional as F

    alpha = check_fraction("distill_alpha", alpha, closed_low=True)
    t = check_positive_number("distill_temperature", temperature)
    soft = F.kl_div(
        F.log_softmax(student_logits.float() / t, dim=-1),
        F.log_softmax(teacher_logits.float() / t, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * (t * t)
    if labels is None or alpha == 0:
        return (1 - alpha) * soft if labels is not None else soft
    hard = F.cross_entropy(student_logits.float(), labels)
    return alpha * hard + (1 - alpha) * soft


def _special_mask(tokenizer: PreTrainedTokenizerBase, input_ids: torch.Tensor) -> torch.Tensor:
    """Mark where ``input_ids`` holds [CLS], [SEP] or padding."""
    import torch

    mask = torch.zeros_like(input_ids, dtype=torch.bool)
    for i in (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id):
        if i is not None:
            mask |= input_ids == i
    return mask


def attribution_entropy(
    model: PreTrainedModel,
    inputs: Mapping[str, torch.Tensor],
    tokenizer: PreTrainedTokenizerBase,
    create_graph: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised entropy (0..1) of each sentence's |gradient × input| over its word tokens.

    Differentiable (``create_graph=True``), so it can be a training penalty: lowering it moves
    attribution onto fewer tokens. The gradient is that of the labelled class's logit (the
    predicted class when ``inputs`` has no labels), with respect to the word embeddings;
    [CLS], [SEP] and padding are left out.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The classifier being trained.
    inputs : mapping
        A tokenised batch (``input_ids``, ``attention_mask``, optional ``labels``).
    tokenizer : transformers.PreTrainedTokenizerBase
        Names the special tokens to leave out.
    create_graph : bool, default True
        Keep the graph of the gradient (needed to train on the entropy).

    Returns
    -------
    tuple of torch.Tensor
        ``(entropy per sentence, logits)``.
    """
    import torch

    input_ids = inputs["input_ids"]
    embeds = model.get_input_embeddings()(input_ids)
    if not embeds.requires_grad:
        embeds.requires_grad_(True)
    rest = {k: v for k, v in inputs.items() if k not in ("input_ids", "labels", "inputs_embeds")}
    logits = model(inputs_embeds=embeds, **rest).logits
    labels = inputs.get("labels")
    target = labels if labels is not None else logits.argmax(-1)
    chosen = logits.gather(1, target.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(chosen, embeds, create_graph=create_graph)
    attr = (grad * embeds).sum(-1).float().abs()
    keep = ~_special_mask(tokenizer, input_ids)
    if "attention_mask" in inputs:
        keep &= inputs["attention_mask"].bool()
    attr = attr * keep
    p = attr / attr.sum(-1, keepdim=True).clamp_min(1e-12)
    h = -(p * torch.log(p.clamp_min(1e-12))).sum(-1)
    n = keep.sum(-1).clamp_min(2).float()
    return h / torch.log(n), logits


class TrainingLoss:
    """The loss :func:`interpkit.fine_tune` trains on when a :class:`LossConfig` is active.

    ``TrainingLoss(config)(model, inputs)`` returns ``(loss, logits, parts)`` where ``parts``
    holds each term's value (``ce``, ``distill``, ``weight_penalty``,
    ``attribution_entropy``) as floats, for logging and for checking.

    Parameters
    ----------
    config : LossConfig, optional
        The terms; ``**options`` (the same names, e.g. ``l1=0.01``) are applied on top.
    tokenizer : transformers.PreTrainedTokenizerBase, optional
        Needed by the attribution penalty (to leave special tokens out).
    """

    def __init__(
        self,
        config: LossConfig | None = None,
        *,
        tokenizer: PreTrainedTokenizerBase | None = None,
        **options: object,
    ) -> None:
        self.config = LossConfig.resolve(config, options)
        if self.config.attribution_penalty and tokenizer is None:
            raise ValueError("attribution_penalty needs the tokenizer")
        self.tokenizer = tokenizer

    @property
    def active(self) -> bool:
        """True when any term beyond the cross-entropy is on."""
        return self.config.active

    def __call__(
        self, model: PreTrainedModel, inputs: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """``(loss, logits, parts)`` of one batch (``parts``: each term's value)."""
        import torch.nn.functional as F

        config = self.config
        inputs = dict(inputs)
        labels = inputs.get("labels")
        features = {k: v for k, v in inputs.items() if k != "labels"}
        parts: dict[str, float] = {}
        if config.attribution_penalty:
            entropy, logits = attribution_entropy(model, inputs, self.tokenizer)
            parts["attribution_entropy"] = float(entropy.mean().detach())
        else:
            logits = model(**features).logits
        loss = self._fit_term(logits, labels, features, parts)
        if labels is not None:
            parts["ce"] = float(F.cross_entropy(logits.detach().float(), labels))
        if config.attribution_penalty:
            loss = loss + config.attribution_penalty * entropy.mean()
        if config.l1 or config.l2:
            penalty = weight_penalty(model, config.l1, config.l2, config.penalty_on)
            parts["weight_penalty"] = float(penalty.detach())
            loss = loss + penalty
        return loss, logits, parts

    def _fit_term(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor | None,
        features: Mapping[str, torch.Tensor],
        parts: dict[str, float],
    ) -> torch.Tensor:
        """Distillation from the teacher when there is one, else cross-entropy."""
        import torch
        import torch.nn.functional as F

        config = self.config
        if config.teacher is None:
            if labels is None:
                raise ValueError("training needs labels (a 'label' column) or a teacher")
            return F.cross_entropy(logits.float(), labels)
        with torch.no_grad():
            teacher_logits = config.teacher.model(**features).logits
        loss = distillation_loss(
            logits, teacher_logits, labels, config.distill_alpha, config.distill_temperature
        )
        parts["distill"] = float(loss.detach())
        return loss
