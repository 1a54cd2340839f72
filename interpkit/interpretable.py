"""Fine-tuning for interpretability: L1/L2 penalties, distillation, attribution sparsity.

Interpretability guides often claim that L1/L2 regularisation and knowledge distillation keep
a fine-tuned model more interpretable. This module makes the claim testable: the extra loss
terms that :func:`interpkit.fine_tune` adds (``l1=``, ``l2=``, ``teacher=``,
``attribution_penalty=``), a shallower student (:func:`truncate_layers`) and one table that
scores each trained variant on accuracy, size, attribution sparsity, faithfulness and
agreement with a reference model (:func:`compare_variants`).

The training loss is

.. math::

    L = \\alpha \\, CE(y, s) + (1-\\alpha) \\, T^2 \\, KL(\\sigma(t/T) \\,\\|\\, \\sigma(s/T))
        + \\lambda_1 \\sum |w| + \\lambda_2 \\sum w^2 + \\gamma \\, H(|\\nabla_x s_y \\cdot x|)

with student logits ``s``, teacher logits ``t`` (the KL term only with a teacher, Hinton et
al. 2015), the penalties summed over the chosen weights, and ``H`` the normalised entropy of a
sentence's gradient×input attributions (low entropy = attribution on few tokens).

Example
-------
>>> student = interpkit.truncate_layers(interpkit.load_classifier(), 3)
>>> fine_tune(student, data, teacher=interpkit.demo_classifier(), distill_alpha=0.5)
>>> compare_variants({"student": student}, data["test"], texts, reference=teacher)
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .models import Classifier

#: Which weights the L1/L2 penalties cover (``penalty_on=``).
PENALTY_GROUPS = ("all", "encoder", "head")


# --------------------------------------------------------------------------- parameter groups


def penalized_parameters(model, on: str | Callable = "all") -> list[tuple[str, object]]:
    """The ``(name, parameter)`` pairs an L1/L2 penalty covers.

    Parameters
    ----------
    model : transformers model
    on : {"all", "encoder", "head"} or callable
        ``"all"``: every weight matrix (embeddings included; biases and LayerNorm scales
        excluded, as weight decay excludes them). ``"encoder"``: the weight matrices of the
        transformer layers. ``"head"``: every parameter outside the backbone (the classifier
        layer). A callable ``on(name, parameter) -> bool`` chooses freely.
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    if callable(on):
        chosen = [(n, p) for n, p in model.named_parameters() if on(n, p)]
    elif on == "all":
        chosen = [(n, p) for n, p in model.named_parameters() if p.dim() >= 2]
    elif on == "encoder":
        chosen = [
            (n, p)
            for n, p in model.named_parameters()
            if p.dim() >= 2 and ".encoder." in f".{n}" and ".layer." in n
        ]
    elif on == "head":
        chosen = [
            (n, p) for n, p in model.named_parameters() if not (prefix and n.startswith(prefix))
        ]
    else:
        raise ValueError(
            f"penalty_on must be one of {', '.join(PENALTY_GROUPS)} or a callable "
            f"(name, parameter) -> bool, got {on!r}"
        )
    if not chosen:
        raise ValueError(f"penalty_on={on!r} selects no parameter of this model")
    return chosen


def weight_penalty(model, l1: float = 0.0, l2: float = 0.0, on: str | Callable = "all"):
    """``l1 * sum |w| + l2 * sum w**2`` over :func:`penalized_parameters` (a scalar tensor).

    Sums, not means: the coefficient is per weight, as in ridge and lasso. On the 22 M
    parameters of MiniLM, ``sum |w|`` is about 5e5, so useful ``l1`` values are around 1e-6.
    """
    import torch

    params = [p for _, p in penalized_parameters(model, on)]
    total = torch.zeros((), device=params[0].device)
    if l1:
        total = total + l1 * sum(p.abs().sum() for p in params)
    if l2:
        total = total + l2 * sum(p.pow(2).sum() for p in params)
    return total


# --------------------------------------------------------------------------- distillation


def distillation_loss(student_logits, teacher_logits, labels=None, alpha=0.5, temperature=1.0):
    """``alpha * CE(labels, student) + (1 - alpha) * T**2 * KL(teacher || student)`` at T.

    The ``T**2`` keeps the soft term's gradients on the scale of the hard term's (Hinton et
    al., 2015). ``labels=None`` (or ``alpha=0``) distils from the teacher alone. Zero when the
    student's logits equal the teacher's, ``alpha=0`` and any ``T``.
    """
    import torch.nn.functional as F

    check_alpha(alpha)
    check_temperature(temperature)
    t = float(temperature)
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


def check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"distill_alpha must be a number in [0, 1], got {alpha!r}")
    return float(alpha)


def check_temperature(temperature) -> float:
    ok = isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
    if not ok or not temperature > 0 or math.isinf(temperature):
        raise ValueError(f"distill_temperature must be a positive number, got {temperature!r}")
    return float(temperature)


def check_teacher(teacher, student: Classifier) -> Classifier:
    """The teacher must be a Classifier with the student's labels and tokenizer."""
    if not isinstance(teacher, Classifier):
        raise TypeError(
            f"teacher must be an interpkit Classifier, got {type(teacher).__name__}: e.g. "
            "teacher=interpkit.demo_classifier()"
        )
    if tuple(teacher.labels) != tuple(student.labels):
        raise ValueError(
            f"the teacher's labels {list(teacher.labels)} differ from the student's "
            f"{list(student.labels)}: distillation matches outputs class by class, so both "
            "need the same labels in the same order"
        )
    probe = "A probe sentence, with punctuation: isn't it?"
    if teacher.tokenizer(probe)["input_ids"] != student.tokenizer(probe)["input_ids"]:
        raise ValueError(
            "the teacher and the student tokenize text differently: the teacher sees the "
            "student's token ids, so use a teacher with the same tokenizer (e.g. the same "
            "base model, or truncate_layers() of it)"
        )
    return teacher


# --------------------------------------------------------------------------- attribution penalty


def _special_mask(tokenizer, input_ids):
    import torch

    ids = [i for i in (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)]
    mask = torch.zeros_like(input_ids, dtype=torch.bool)
    for i in ids:
        if i is not None:
            mask |= input_ids == i
    return mask


def attribution_entropy(model, inputs: Mapping, tokenizer, create_graph: bool = True):
    """Normalised entropy (0..1) of each sentence's |gradient × input| over its word tokens.

    Differentiable (``create_graph=True``), so it can be a training penalty: lowering it moves
    attribution onto fewer tokens. Returns ``(entropy per sentence, logits)``. The gradient is
    that of the labelled class's logit (the predicted class when ``inputs`` has no labels),
    with respect to the word embeddings; [CLS], [SEP] and padding are left out.
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


# --------------------------------------------------------------------------- the training loss


class TrainingLoss:
    """The loss :func:`interpkit.fine_tune` trains on when any extra term is set.

    ``TrainingLoss(...)(model, inputs)`` returns ``(loss, logits, parts)`` where ``parts``
    holds each term's value (``ce``, ``distill``, ``weight_penalty``,
    ``attribution_entropy``) as floats, for logging and for checking.
    """

    def __init__(
        self,
        *,
        l1: float = 0.0,
        l2: float = 0.0,
        penalty_on: str | Callable = "all",
        teacher: Classifier | None = None,
        distill_alpha: float = 0.5,
        distill_temperature: float = 1.0,
        attribution_penalty: float = 0.0,
        tokenizer=None,
    ):
        for name, value in (("l1", l1), ("l2", l2), ("attribution_penalty", attribution_penalty)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if not callable(penalty_on) and penalty_on not in PENALTY_GROUPS:
            raise ValueError(
                f"penalty_on must be one of {', '.join(PENALTY_GROUPS)} or a callable, "
                f"got {penalty_on!r}"
            )
        self.l1, self.l2, self.penalty_on = float(l1), float(l2), penalty_on
        self.teacher = teacher
        self.alpha = check_alpha(distill_alpha)
        self.temperature = check_temperature(distill_temperature)
        self.attribution_penalty = float(attribution_penalty)
        if self.attribution_penalty and tokenizer is None:
            raise ValueError("attribution_penalty needs the tokenizer")
        self.tokenizer = tokenizer

    @property
    def active(self) -> bool:
        return bool(self.l1 or self.l2 or self.teacher is not None or self.attribution_penalty)

    def __call__(self, model, inputs: Mapping):
        import torch
        import torch.nn.functional as F

        inputs = dict(inputs)
        labels = inputs.get("labels")
        parts: dict[str, float] = {}
        if self.attribution_penalty:
            entropy, logits = attribution_entropy(model, inputs, self.tokenizer)
            extra = self.attribution_penalty * entropy.mean()
            parts["attribution_entropy"] = float(entropy.mean().detach())
        else:
            rest = {k: v for k, v in inputs.items() if k != "labels"}
            logits = model(**rest).logits
            extra = None
        if self.teacher is not None:
            with torch.no_grad():
                rest = {k: v for k, v in inputs.items() if k != "labels"}
                teacher_logits = self.teacher.model(**rest).logits
            loss = distillation_loss(logits, teacher_logits, labels, self.alpha, self.temperature)
            parts["distill"] = float(loss.detach())
        else:
            if labels is None:
                raise ValueError("training needs labels (a 'label' column) or a teacher")
            loss = F.cross_entropy(logits.float(), labels)
        if labels is not None:
            parts["ce"] = float(F.cross_entropy(logits.detach().float(), labels))
        if extra is not None:
            loss = loss + extra
        if self.l1 or self.l2:
            penalty = weight_penalty(model, self.l1, self.l2, self.penalty_on)
            parts["weight_penalty"] = float(penalty.detach())
            loss = loss + penalty
        return loss, logits, parts


# --------------------------------------------------------------------------- students


def _layer_list(model):
    """The ModuleList of transformer layers (BERT: ``bert.encoder.layer``)."""
    import torch

    n = getattr(model.config, "num_hidden_layers", None)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n and name.endswith("layer"):
            return name, module
    raise ValueError(
        f"could not find the transformer layers of {type(model).__name__}: truncate_layers "
        "supports BERT-style models (encoder.layer)"
    )


def truncate_layers(classifier: Classifier, num_layers: int) -> Classifier:
    """A copy of ``classifier`` that keeps only its first ``num_layers`` transformer layers.

    The usual student for distillation (DistilBERT keeps every other layer; the first k work
    as well for a small teacher and are simpler to explain). The original is not changed.
    """
    if not isinstance(classifier, Classifier):
        raise TypeError(f"expected an interpkit Classifier, got {type(classifier).__name__}")
    total = getattr(classifier.model.config, "num_hidden_layers", None)
    bad = isinstance(num_layers, bool) or not isinstance(num_layers, int)
    if bad or not (total is None or 1 <= num_layers <= total):
        raise ValueError(f"num_layers must be an integer from 1 to {total}, got {num_layers!r}")
    model = copy.deepcopy(classifier.model).to("cpu")
    name, layers = _layer_list(model)
    parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    import torch

    setattr(parent, name.rsplit(".", 1)[-1], torch.nn.ModuleList(list(layers)[:num_layers]))
    model.config.num_hidden_layers = num_layers
    student = Classifier(
        model,
        classifier.tokenizer,
        labels=classifier.labels,
        device=classifier.device,
        name=f"{classifier.name} (first {num_layers} layers)",
    )
    student.head_is_trained = classifier.head_is_trained
    student.labels_given = getattr(classifier, "labels_given", True)
    return student


def count_parameters(classifier: Classifier) -> int:
    """Number of parameters of the classifier's model."""
    return int(sum(p.numel() for p in classifier.model.parameters()))


# --------------------------------------------------------------------------- measurement


def attribution_sparsity(scores) -> dict[str, float]:
    """Gini coefficient and normalised entropy of ``|scores|`` (one sentence).

    Gini 1 = all attribution on one word, 0 = spread evenly; entropy the reverse (1 = even).
    Accepts an :class:`~interpkit.Explanation` (its word scores) or an array.
    """
    values = np.abs(np.asarray(getattr(scores, "word_scores", scores), dtype=float))
    n = values.size
    if n == 0 or not np.isfinite(values).all():
        raise ValueError("attribution_sparsity needs a non-empty array of finite scores")
    total = values.sum()
    if n == 1 or total == 0:
        return {"gini": 0.0 if total == 0 else 1.0, "entropy": 1.0 if total == 0 else 0.0}
    v = np.sort(values)
    index = np.arange(1, n + 1)
    gini = float((2 * index - n - 1) @ v / (n * total)) * n / (n - 1)
    p = values / total
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(n))
    return {"gini": gini, "entropy": entropy}


def compare_variants(
    variants: Mapping[str, Classifier],
    test,
    texts: Sequence[str],
    *,
    reference: Classifier | str | None = None,
    method: str = "integrated_gradients",
    options: Mapping | None = None,
    histories: Mapping | None = None,
    progress: bool = True,
):
    """One row per trained variant: accuracy, F1, size, sparsity, faithfulness, agreement.

    Parameters
    ----------
    variants : {name: Classifier}
    test : dataset split with ``text`` and ``label`` (accuracy and macro-F1)
    texts : sentences whose explanations are scored (sparsity, faithfulness, agreement)
    reference : Classifier or a name in ``variants``, optional
        Explanations are compared with this model's (e.g. the teacher): Spearman rank
        correlation of word scores and the share of the top 20 % words in common.
    method : explainer for every variant (default Integrated Gradients)
    options : explainer options, e.g. ``{"n_steps": 32}``
    histories : {name: fine_tune history}, optional
        Adds ``train_seconds`` (from ``history.attrs``).

    Returns
    -------
    pandas.DataFrame
        Columns ``accuracy``, ``macro_f1``, ``parameters``, ``train_seconds``, ``gini``,
        ``entropy``, ``comprehensiveness``, ``sufficiency`` (AOPC; higher comprehensiveness
        and lower sufficiency = more faithful), ``agreement_spearman``, ``agreement_top20``,
        ``explain_seconds``, indexed by variant. ``frame.attrs["per_text"]`` has one row per
        variant and text (for confidence intervals and plots).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from .explainers import explain, get_explainer
    from .metrics import faithfulness_scores, rank_agreement
    from .train import evaluate

    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must be a non-empty dict {name: Classifier}")
    for name, clf in variants.items():
        if not isinstance(clf, Classifier):
            raise TypeError(f"variant {name!r} is a {type(clf).__name__}, not a Classifier")
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError("texts must hold at least one sentence to explain")
    if isinstance(reference, str):
        if reference not in variants:
            raise ValueError(f"reference {reference!r} is not one of {list(variants)}")
        reference = variants[reference]
    opts = get_explainer(method).translate_options(options or {})
    ref_expl = None
    if reference is not None:
        ref_expl = [explain(reference, t, method=method, **opts) for t in texts]

    rows, per_text = [], []
    bar = tqdm(list(variants.items()), desc="variants", disable=not progress)
    for name, clf in bar:
        scores = evaluate(clf, test)
        started = time.perf_counter()
        explanations = [explain(clf, t, method=method, **opts) for t in texts]
        explain_seconds = (time.perf_counter() - started) / len(texts)
        for i, e in enumerate(explanations):
            f = faithfulness_scores(clf, e)
            row = {"variant": name, "text_id": i, **attribution_sparsity(e)}
            row["comprehensiveness"] = f.comprehensiveness_aopc
            row["sufficiency"] = f.sufficiency_aopc
            if ref_expl is not None:
                # Same target for both: the reference's explanation of its predicted class
                # is compared with the variant's explanation of that class.
                ref = ref_expl[i]
                if e.target != ref.target:
                    e = explain(clf, texts[i], method=method, target=ref.target, **opts)
                row["agreement_spearman"] = rank_agreement(e, ref, "spearman")
                row["agreement_top20"] = rank_agreement(e, ref, "top_k", k=0.2)
            per_text.append(row)
        history = (histories or {}).get(name)
        rows.append(
            {
                "variant": name,
                "accuracy": scores["accuracy"],
                "macro_f1": scores["macro_f1"],
                "parameters": count_parameters(clf),
                "train_seconds": (
                    history.attrs.get("train_runtime_s") if history is not None else np.nan
                ),
                "explain_seconds": explain_seconds,
            }
        )
    detail = pd.DataFrame(per_text)
    means = detail.drop(columns="text_id").groupby("variant", sort=False).mean()
    frame = pd.DataFrame(rows).set_index("variant").join(means)
    order = [
        "accuracy",
        "macro_f1",
        "parameters",
        "train_seconds",
        "gini",
        "entropy",
        "comprehensiveness",
        "sufficiency",
        "agreement_spearman",
        "agreement_top20",
        "explain_seconds",
    ]
    frame = frame[[c for c in order if c in frame.columns]]
    frame.attrs["per_text"] = detail
    frame.attrs["method"] = method
    return frame
