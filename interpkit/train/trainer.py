"""The HF Trainer as :func:`interpkit.fine_tune` uses it: atomic checkpoints, exact resume.

Two things transformers' ``Trainer`` does not do, added here:

- a checkpoint appears atomically: it is written into ``.staging/`` and renamed into place, so
  a crash (Ctrl-C, a killed kernel, a full disk) never leaves a half checkpoint to resume from;
- the length-grouped batch order survives a resume: transformers draws each epoch's order
  from the global RNG, so a run resumed in epoch 2 or later trained on other batches than the
  uninterrupted run. The sampler here draws exactly as transformers does (same order, same
  weights) and records the RNG state of each draw in the checkpoint (:data:`SAMPLER_STATE`);
  a resumed run replays that epoch's order from it.

It also trains on a :class:`~interpkit.train.losses.TrainingLoss` when one is set (evaluation
always reports the plain cross-entropy) and logs each loss term's mean beside the total.

Example
-------
>>> trainer = build_trainer(clf, args, data, loss=TrainingLoss(l2=1e-3))
>>> trainer.train()
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..models import Classifier

if TYPE_CHECKING:
    import torch
    from datasets import Dataset
    from transformers import EvalPrediction, Trainer, TrainerCallback, TrainingArguments

    from .losses import TrainingLoss
    from .splits import PreparedData

#: File in a checkpoint with the RNG state of the epoch's length-grouped batch order.
SAMPLER_STATE = "interpkit_sampler.pt"


def _replayable_sampler_class() -> type:
    """Make transformers' length-grouped sampler exact under resume (see the module doc)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

    class ReplayableLengthGroupedSampler(LengthGroupedSampler):
        """Draws as transformers does; ``preset`` (a checkpoint's state) replays an epoch."""

        def __init__(self, batch_size: int, lengths: list[int], preset: dict | None = None) -> None:
            super().__init__(batch_size, lengths=lengths)
            self.epoch = 0
            self.preset = preset  # {"epoch", "rng_state"} of the checkpoint resumed from
            self.drawn: tuple[int, torch.Tensor] | None = None  # (epoch, RNG state) of last draw

        def set_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)

        def __iter__(self) -> Iterator[int]:
            if self.preset is not None and int(self.preset["epoch"]) == self.epoch:
                state = self.preset["rng_state"]
                generator = torch.Generator()
                generator.set_state(state)
                indices = get_length_grouped_indices(
                    self.lengths, self.batch_size, generator=generator
                )
            else:  # as transformers does: from the global RNG, which the checkpoint restores
                state = torch.random.get_rng_state()
                indices = get_length_grouped_indices(self.lengths, self.batch_size)
            self.drawn = (self.epoch, state)
            return iter(indices)

        def state(self) -> dict | None:
            """Return what a checkpoint stores to replay the last drawn epoch (None: none drawn)."""
            if self.drawn is None:
                return None
            epoch, state = self.drawn
            return {
                "epoch": epoch,
                "rng_state": state,
                "n": len(self.lengths),
                "batch_size": self.batch_size,
            }

    return ReplayableLengthGroupedSampler


def load_sampler_state(checkpoint: str | None, n: int, batch_size: int) -> dict | None:
    """Read the sampler state a checkpoint stored, if it fits this run's data and batches."""
    import torch

    if checkpoint is None:
        return None
    path = Path(checkpoint) / SAMPLER_STATE
    if not path.is_file():
        return None  # a checkpoint of an older interpkit: the order is drawn afresh
    state = torch.load(path, weights_only=True)
    if state.get("n") != n or state.get("batch_size") != batch_size:
        warnings.warn(
            f"{path} was saved for {state.get('n')} examples in batches of "
            f"{state.get('batch_size')}, this run has {n} in batches of {batch_size}: the "
            "resumed epoch's batch order is drawn afresh (the data or batch size changed)",
            stacklevel=4,
        )
        return None
    return state


class _AtomicCheckpoints:
    """Trainer mixin: a checkpoint is written into ``.staging/`` and renamed into place.

    With a replayable sampler, the checkpoint also stores its state (:data:`SAMPLER_STATE`).
    """

    _staging: str | None = None
    _sampler = None

    def _get_output_dir(self, trial: object) -> str:
        return self._staging or super()._get_output_dir(trial)

    def _save_checkpoint(self, model: torch.nn.Module, trial: object) -> None:
        run_dir = super()._get_output_dir(trial)
        staging = os.path.join(run_dir, ".staging")
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)
        self._barrier()
        self._staging = staging
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self._staging = None
        self._barrier()
        if self.args.should_save:
            self._publish_checkpoint(run_dir, staging)
        self._barrier()

    def _publish_checkpoint(self, run_dir: str, staging: str) -> None:
        """Add the sampler state, rename the staged checkpoint into place, rotate."""
        import torch
        from transformers.trainer_utils import rotate_checkpoints

        name = f"checkpoint-{self.state.global_step}"
        sampler_state = self._sampler.state() if self._sampler is not None else None
        if sampler_state is not None:
            torch.save(sampler_state, os.path.join(staging, name, SAMPLER_STATE))
        final = os.path.join(run_dir, name)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(os.path.join(staging, name), final)
        shutil.rmtree(staging, ignore_errors=True)
        rotate_checkpoints(
            output_dir=run_dir, save_total_limit=self.args.save_total_limit, use_mtime=False
        )

    def _barrier(self) -> None:
        if self.args.world_size > 1:
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                dist.barrier()


class _ReplayedOrder:
    """Trainer mixin: the length-grouped sampler replaced by the replayable one."""

    #: The checkpoint this run resumes from (set before train()).
    interpkit_resume: str | None = None

    def _get_train_sampler(self, train_dataset: Dataset | None = None) -> torch.utils.data.Sampler:
        from transformers.trainer_pt_utils import LengthGroupedSampler

        sampler = super()._get_train_sampler(train_dataset)
        if type(sampler) is not LengthGroupedSampler:
            return sampler  # the random sampler is seeded per epoch by accelerate already
        preset = load_sampler_state(self.interpkit_resume, len(sampler.lengths), sampler.batch_size)
        self._sampler = _replayable_sampler_class()(sampler.batch_size, sampler.lengths, preset)
        return self._sampler


class _LossTerms:
    """Trainer mixin: train on a TrainingLoss and log each term's mean beside the total."""

    #: The TrainingLoss when the loss has extra terms; evaluation reports plain CE.
    interpkit_loss: TrainingLoss | None = None
    _parts: dict | None = None

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict,
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, dict]:
        """Use the TrainingLoss while training (terms summed for logs), else the Trainer's."""
        extra = self.interpkit_loss
        if extra is None or not model.training:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        loss, logits, parts = extra(model, inputs)
        sums = self._parts if self._parts is not None else {}
        for key, value in parts.items():
            total, count = sums.get(key, (0.0, 0))
            sums[key] = (total + value, count + 1)
        self._parts = sums
        return (loss, {"logits": logits}) if return_outputs else loss

    def log(self, logs: dict, *args: object, **kwargs: object) -> None:
        """Log each loss term's mean since the last log beside the total loss."""
        if self._parts and "loss" in logs:
            for key, (total, count) in self._parts.items():
                logs[f"loss_{key}"] = round(total / max(count, 1), 6)
            self._parts = None
        return super().log(logs, *args, **kwargs)


def _trainer_class() -> type[Trainer]:
    """Make the Trainer subclass: atomic checkpoints, replayed batch order, extra loss terms.

    Made on first use, so that importing :mod:`interpkit.train` does not import the Trainer.
    """
    from transformers import Trainer

    class AtomicCheckpointTrainer(_ReplayedOrder, _LossTerms, _AtomicCheckpoints, Trainer):
        """A Trainer whose checkpoints appear atomically and whose batch order resumes."""

    return AtomicCheckpointTrainer


def _compute_metrics(eval_pred: EvalPrediction) -> dict[str, float]:
    """Accuracy and macro-F1 of the Trainer's evaluation predictions."""
    import numpy as np

    from .scoring import accuracy_and_f1

    logits, labels = eval_pred
    return accuracy_and_f1(labels, np.asarray(logits).argmax(-1))


def build_trainer(
    classifier: Classifier,
    args: TrainingArguments,
    data: PreparedData,
    *,
    loss: TrainingLoss | None = None,
    resume_from: str | None = None,
    callbacks: Sequence[TrainerCallback] | None = None,
) -> Trainer:
    """Build the Trainer of one run: per-batch padding, extra loss terms, the resume point.

    Parameters
    ----------
    classifier : Classifier
        Its model is trained in place.
    args : transformers.TrainingArguments
        From :func:`~interpkit.train.arguments.training_arguments`.
    data : PreparedData
        Tokenised training and evaluation splits.
    loss : TrainingLoss, optional
        Trained on when it is active (a teacher is moved to the training device).
    resume_from : str, optional
        The checkpoint the run resumes from (its batch order is replayed).
    callbacks : list of transformers.TrainerCallback, optional
        Passed to the Trainer.

    Returns
    -------
    transformers.Trainer
        Ready for ``train(resume_from_checkpoint=resume_from)``.
    """
    from transformers import DataCollatorWithPadding
    from transformers.trainer_callback import PrinterCallback

    trainer = _trainer_class()(
        model=classifier.model,
        args=args,
        train_dataset=data.train,
        eval_dataset=data.eval,
        data_collator=DataCollatorWithPadding(classifier.tokenizer),
        processing_class=classifier.tokenizer,
        compute_metrics=_compute_metrics,
        callbacks=list(callbacks) if callbacks is not None else None,
    )
    if loss is not None and loss.active:
        trainer.interpkit_loss = loss
        if loss.config.teacher is not None:
            loss.config.teacher.model.to(trainer.args.device).eval()
    trainer.interpkit_resume = resume_from
    if args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)
    return trainer
