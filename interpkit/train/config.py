"""The training loss's options, spelled once: :class:`LossConfig`.

:func:`interpkit.fine_tune` trains on cross-entropy unless a :class:`LossConfig` adds terms (an
L1/L2 weight penalty, distillation from a teacher, an attribution-entropy penalty). Its fields
are the one place these options are named: ``fine_tune(..., l1=1e-5)`` builds a
``LossConfig(l1=1e-5)``, the run's ``interpkit.json`` records :meth:`LossConfig.settings`, and
:class:`~interpkit.train.losses.TrainingLoss` computes the loss from it.

Example
-------
>>> from interpkit.train import LossConfig
>>> LossConfig(l2=1e-3).active
True
>>> LossConfig(distill_alpha=2)
Traceback (most recent call last):
ValueError: distill_alpha must be a number in [0, 1], got 2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..validation import check_fraction, check_non_negative_number, check_positive_number

if TYPE_CHECKING:
    from ..models import Classifier

#: Which weights the L1/L2 penalties cover (``penalty_on=``).
PENALTY_GROUPS = ("all", "encoder", "head")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """What :func:`interpkit.fine_tune` adds to the cross-entropy; validated when made.

    Parameters
    ----------
    l1, l2 : float, default 0
        Add ``l1 * sum |w| + l2 * sum w**2`` over the weights ``penalty_on`` selects.
        Independent of ``weight_decay`` (decoupled).
    penalty_on : {"all", "encoder", "head"} or callable, default "all"
        ``"all"`` weight matrices, the ``"encoder"`` layers' or the ``"head"``'s, or a callable
        ``(name, parameter) -> bool``.
    teacher : Classifier, optional
        Knowledge distillation: the loss becomes ``distill_alpha * CE + (1 - distill_alpha) *
        T**2 * KL(teacher || student)`` at ``T = distill_temperature``. The teacher needs the
        student's labels and tokenizer (e.g. ``truncate_layers(teacher, 3)`` as the student).
    distill_alpha : float in [0, 1], default 0.5
        Weight of the cross-entropy against the labels (the rest goes to the teacher).
    distill_temperature : float > 0, default 1
        ``T = 1`` by default: with two classes and a short run, Hinton's softer ``T = 2`` left a
        3-layer student predicting the majority class (notebook 07).
    attribution_penalty : float, default 0
        Add this times the normalised entropy of each sentence's gradient×input attributions
        (pushes attribution onto fewer tokens; about 3x slower steps: double backward).
    """

    l1: float = 0.0
    l2: float = 0.0
    penalty_on: str | Callable[[str, Any], bool] = "all"
    teacher: Classifier | None = None
    distill_alpha: float = 0.5
    distill_temperature: float = 1.0
    attribution_penalty: float = 0.0

    def __post_init__(self) -> None:
        """Check every option (one message per mistake) and store numbers as floats."""
        from ..models import Classifier

        checked = {
            "l1": check_non_negative_number("l1", self.l1),
            "l2": check_non_negative_number("l2", self.l2),
            "attribution_penalty": check_non_negative_number(
                "attribution_penalty", self.attribution_penalty
            ),
            "distill_alpha": check_fraction("distill_alpha", self.distill_alpha, closed_low=True),
            "distill_temperature": check_positive_number(
                "distill_temperature", self.distill_temperature
            ),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        if not callable(self.penalty_on) and self.penalty_on not in PENALTY_GROUPS:
            raise ValueError(
                f"penalty_on must be one of {', '.join(PENALTY_GROUPS)} or a callable "
                f"(name, parameter) -> bool, got {self.penalty_on!r}"
            )
        if self.teacher is not None and not isinstance(self.teacher, Classifier):
            raise TypeError(
                f"teacher must be an interpkit Classifier, got {type(self.teacher).__name__}: "
                "e.g. teacher=interpkit.demo_classifier()"
            )

    @classmethod
    def resolve(cls, loss: LossConfig | None, options: Mapping[str, Any]) -> LossConfig:
        """``loss`` (default: plain cross-entropy) with ``options`` (field=value) applied.

        This is how ``fine_tune(..., loss=None, **loss_options)`` and ``TrainingLoss`` take
        their options: a name that is not a field is a TypeError that lists the fields.
        """
        if loss is not None and not isinstance(loss, cls):
            raise TypeError(
                f"loss must be an interpkit LossConfig, got {type(loss).__name__}: e.g. "
                "loss=LossConfig(l2=1e-3), or pass the options themselves (l2=1e-3)"
            )
        unknown = sorted(set(options) - set(cls.names()))
        if unknown:
            raise TypeError(
                f"unexpected keyword argument {unknown[0]!r}: the loss options are "
                f"{', '.join(cls.names())}"
            )
        return dataclasses.replace(loss or cls(), **options)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the option names, in order (the fields)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @property
    def active(self) -> bool:
        """True when any term beyond the cross-entropy is on."""
        return bool(self.l1 or self.l2 or self.teacher is not None or self.attribution_penalty)

    def check_student(self, student: Classifier) -> None:
        """Check that the teacher (if any) has ``student``'s labels, in order, and tokenizer."""
        teacher = self.teacher
        if teacher is None:
            return
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

    def settings(self) -> dict[str, Any]:
        """Return the options as JSON-ready values, as a run's ``interpkit.json`` records them.

        A callable ``penalty_on`` is recorded by its ``repr``, the teacher by its name; the
        distillation options are ``None`` without a teacher (they played no part).
        """
        record = {name: getattr(self, name) for name in self.names()}
        if not isinstance(self.penalty_on, str):
            record["penalty_on"] = repr(self.penalty_on)
        if self.teacher is None:
            record.update(distill_alpha=None, distill_temperature=None)
        else:
            record["teacher"] = self.teacher.name
        return record
