"""The model as a function for attribution methods: the explained score, baselines, seeds.

Gradient and perturbation methods all explain the same quantity, :func:`class_score`: the
target's probability (or logit), minus the contrast class's in contrast mode.
:class:`ScoreModel` exposes it as a module from token ids or word embeddings, so Captum can
batch path steps, noise samples and perturbations freely.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch

from ..models import Classifier, id_position_embeddings
from .base import Inputs
from .vocabulary import OUTPUTS

__all__ = ["OUTPUTS", "ScoreModel", "auto_batch_size", "class_score", "seeded"]
#: Budgets of rows × seq² for "auto" batch sizes. Attention memory grows with the square of
#: the length: measured on MiniLM-L6 (12 heads, 6 layers), a backward pass keeps ~230 MB per
#: 512-token row and inference needs ~40 MB, so these stay near 0.5 GB (Binder has 2 GB).
GRAD_BUDGET = 2**19
INFERENCE_BUDGET = 2**21


def auto_batch_size(value: int | str, seq_len: int, upper: int, grad: bool = False) -> int:
    """Return ``value`` itself, or for ``"auto"`` the most rows whose attention fits the budget.

    At most ``upper`` rows: all of them for a sentence, a few for a 512-token text.
    """
    if value != "auto":
        return int(value)
    budget = GRAD_BUDGET if grad else INFERENCE_BUDGET
    return max(1, min(int(upper), budget // max(seq_len * seq_len, 1)))


def class_score(
    logits: torch.Tensor, target: int, contrast: int | None, output: str
) -> torch.Tensor:
    """Return the explained quantity per example, shape ``(batch,)``.

    The target's probability (or logit), minus the contrast class's in contrast mode.
    """
    values = torch.softmax(logits.float(), dim=-1) if output == "probability" else logits.float()
    score = values[:, target]
    return score if contrast is None else score - values[:, contrast]


def output_of(inputs: Inputs, target: int, contrast: int | None, output: str) -> float:
    """Return the explained score of the unperturbed text, from the logits it was given."""
    logits = torch.as_tensor(inputs.logits, dtype=torch.float32).reshape(1, -1)
    return float(class_score(logits, target, contrast, output)[0])


def describe_output(output: str, labels: Sequence[str], target: int, contrast: int | None) -> str:
    """Name the explained quantity: ``"p(positive)"``, ``"logit(a) - logit(b)"``."""
    what = "p" if output == "probability" else "logit"
    text = f"{what}({labels[target]})"
    return text if contrast is None else f"{text} - {what}({labels[contrast]})"


def position_ids(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor | None:
    """Return the position ids ``model`` derives from ``input_ids`` (RoBERTa, XLM-R, ...).

    None when they do not depend on the ids (BERT-style models number positions 0, 1, 2, ...).
    """
    found = id_position_embeddings(model)
    if found is None:
        return None
    embeddings, make = found
    return make(input_ids, embeddings.padding_idx)


class ScoreModel(torch.nn.Module):
    """The model as a function from ids or word embeddings to the explained score ``(batch,)``.

    Attention mask, token types and position ids of the explained text are held here and
    expanded to the batch, so Captum can batch steps, noise samples and perturbations freely.
    The position ids are those of the real text: RoBERTa-style models would otherwise number
    positions from the ids given (a [PAD] baseline would move every position) or from
    ``inputs_embeds`` (where a [PAD] in the text is not seen), so a baseline or perturbed input
    would differ from the text in more than its word embeddings.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        inputs: Inputs,
        target: int,
        contrast: int | None,
        output: str,
    ) -> None:
        super().__init__()
        self.model = model
        self.attention_mask = inputs.attention_mask
        self.token_type_ids = inputs.token_type_ids
        self.position_ids = position_ids(model, inputs.input_ids)
        self.target, self.contrast, self.output = target, contrast, output
        #: Inputs evaluated so far (rows of every batch): the ``evaluations`` diagnostic.
        self.rows = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the explained score of each row of ``x`` (token ids or word embeddings)."""
        n = x.shape[0]
        self.rows += int(n)
        kwargs = {"attention_mask": self.attention_mask.expand(n, -1)}
        if self.token_type_ids is not None:
            kwargs["token_type_ids"] = self.token_type_ids.expand(n, -1)
        if self.position_ids is not None:
            kwargs["position_ids"] = self.position_ids.expand(n, -1)
        key = "inputs_embeds" if x.is_floating_point() else "input_ids"
        logits = self.model(**{key: x}, **kwargs).logits
        return class_score(logits, self.target, self.contrast, self.output)


def baseline_ids(classifier: Classifier, inputs: Inputs, kind: str) -> torch.Tensor:
    """Input ids with every non-special token replaced by [PAD] or [MASK] (specials kept)."""
    tok = classifier.tokenizer
    token_id = tok.pad_token_id if kind == "pad" else tok.mask_token_id
    if token_id is None:
        raise ValueError(
            f"this tokenizer has no {kind} token, so baseline={kind!r} is impossible: "
            "use baseline='zero'"
        )
    ids = inputs.input_ids.clone()
    content = torch.as_tensor(~inputs.special, device=ids.device)
    ids[0, content] = token_id
    return ids


def baseline_embeddings(classifier: Classifier, inputs: Inputs, kind: str) -> torch.Tensor:
    """Word embeddings of the baseline: [PAD]/[MASK] embeddings or zeros, specials kept."""
    embed = classifier.model.get_input_embeddings()
    with torch.no_grad():
        if kind == "zero":
            base = embed(inputs.input_ids).clone()
            base[0, torch.as_tensor(~inputs.special, device=base.device)] = 0.0
            return base
        return embed(baseline_ids(classifier, inputs, kind))


def input_embeddings(classifier: Classifier, inputs: Inputs) -> torch.Tensor:
    """Word embeddings of the text (no grad), the input of embedding-space methods."""
    with torch.no_grad():
        return classifier.model.get_input_embeddings()(inputs.input_ids).detach()


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device | None = None) -> Iterator[None]:
    """Seed torch's RNG (CPU, and the GPU of ``device``) inside the block only.

    Captum samples permutations, coalitions and noise with torch's global generator: forking
    it makes a seeded explanation repeatable without changing the user's random stream.
    """
    if seed is None:
        yield
        return
    devices = []
    if device is not None and device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
