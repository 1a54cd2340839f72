"""Smaller students for distillation: keep a model's first layers; count parameters.

Example
-------
>>> teacher = interpkit.demo_classifier()
>>> student = interpkit.truncate_layers(teacher, 3)
>>> count_parameters(student) < count_parameters(teacher)
True
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..models import Classifier
from ..validation import is_int

if TYPE_CHECKING:
    import torch


def _layer_list(model: torch.nn.Module) -> tuple[str, torch.nn.ModuleList]:
    """Find the ModuleList of transformer layers and its name (BERT: ``bert.encoder.layer``)."""
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
    """Copy ``classifier``, keeping only its first ``num_layers`` transformer layers.

    The usual student for distillation (DistilBERT keeps every other layer; the first k work
    as well for a small teacher and are simpler to explain). The original is not changed.

    Parameters
    ----------
    classifier : Classifier
        The teacher (a BERT-style model: ``encoder.layer``).
    num_layers : int
        Layers to keep, from 1 to the model's number of layers.

    Returns
    -------
    Classifier
        The student, on the teacher's device, with the teacher's labels and tokenizer.
    """
    import torch

    if not isinstance(classifier, Classifier):
        raise TypeError(f"expected an interpkit Classifier, got {type(classifier).__name__}")
    total = getattr(classifier.model.config, "num_hidden_layers", None)
    if not is_int(num_layers) or not (total is None or 1 <= num_layers <= total):
        raise ValueError(f"num_layers must be an integer from 1 to {total}, got {num_layers!r}")
    num_layers = int(num_layers)
    model = copy.deepcopy(classifier.model).to("cpu")
    name, layers = _layer_list(model)
    parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    setattr(parent, name.rsplit(".", 1)[-1], torch.nn.ModuleList(list(layers)[:num_layers]))
    model.config.num_hidden_layers = num_layers
    student = Classifier(
        model,
        classifier.tokenizer,
        labels=classifier.labels,
        device=classifier.device,
        name=f"{classifier.name} (first {num_layers} layers)",
    )
    student.adopt(head_is_trained=classifier.head_is_trained)
    student.labels_given = getattr(classifier, "labels_given", True)
    return student


def count_parameters(classifier: Classifier) -> int:
    """Count the parameters of the classifier's model."""
    return int(sum(p.numel() for p in classifier.model.parameters()))
