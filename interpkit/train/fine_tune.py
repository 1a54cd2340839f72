"""``fine_tune``: prepare the data, set the arguments, build the trainer, run and record it.

:func:`fine_tune` pads per batch, uses AdamW with linear warm-up, mixed precision where the
hardware computes it, evaluates every epoch (accuracy, macro-F1, loss) and writes checkpoints
atomically. Because the HF Trainer does the loop, ``accelerate launch`` and ``torchrun`` run the
same code on several GPUs or machines. Each step is a short function of its own module:
:mod:`.splits` (data), :mod:`.arguments` (settings, precision), :mod:`.trainer` (the Trainer),
:mod:`.run` (the run folder and its record); the loss options are a :class:`LossConfig`.

Example
-------
>>> clf = interpkit.load_classifier()
>>> history = interpkit.fine_tune(clf, interpkit.load_dataset(), output_dir="runs/rt")
>>> history[["epoch", "eval_accuracy"]].dropna()
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..models import Classifier
from .arguments import TrainSettings, computed_precision, limit_heap_fragmentation
from .arguments import training_arguments as make_arguments
from .config import LossConfig
from .losses import TrainingLoss
from .run import MODEL, RunFolder, history_frame, run_info, save_run_model
from .splits import PreparedData, prepare_data
from .trainer import build_trainer

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from transformers import Trainer, TrainerCallback, TrainingArguments


def fine_tune(
    classifier: Classifier,
    dataset: DatasetDict | Dataset,
    output_dir: str | os.PathLike | None = None,
    *,
    epochs: float = 1,
    batch_size: int = 32,
    learning_rate: float = 5e-5,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.01,
    max_train_examples: int | None = None,
    max_eval_examples: int | None = None,
    eval_split: str | None = "validation",
    seed: int = 0,
    precision: str = "auto",
    save_steps: int | None = None,
    logging_steps: int | None = None,
    group_by_length: bool = True,
    resume: bool = False,
    progress: bool = True,
    callbacks: Sequence[TrainerCallback] | None = None,
    loss: LossConfig | None = None,
    **loss_options: object,
) -> pd.DataFrame:
    """Fine-tune ``classifier`` in place on ``dataset`` and return the training history.

    Parameters
    ----------
    classifier : Classifier
        Its model is trained in place; afterwards it predicts with the new weights. Labels are
        matched by name, in any order. An untrained head takes the training split's class
        names, unless names were given (``load_classifier(labels=...)``): those are kept, and a
        data class they lack is an error that names both lists (a silent rename could swap
        classes).
    dataset : datasets.DatasetDict or Dataset
        ``text`` and ``label`` columns; the ``eval_split`` split is evaluated each epoch.
    output_dir : path, optional
        Run folder: checkpoints go to ``output_dir/checkpoints`` (each written atomically) and
        the final model to ``output_dir/model`` (safetensors, tokenizer and ``interpkit.json``
        with metrics, seed and versions). ``load_classifier(output_dir)`` loads it. ``None``
        keeps checkpoints in a temporary folder that is removed afterwards.
    epochs, batch_size, learning_rate, warmup_ratio, weight_decay : number
        AdamW with linear warm-up over ``warmup_ratio`` of the steps, then linear decay.
    max_train_examples, max_eval_examples : int, optional
        Train/evaluate on a seeded random subset (quick experiments).
    eval_split : str or None, default "validation"
        The split evaluated each epoch (None: no evaluation).
    seed : int
        Same seed on the CPU gives identical metrics.
    precision : {"auto", "fp32", "bf16", "fp16"}
        "auto": bf16 (or fp16) mixed precision on CUDA; on the CPU bf16 where the processor
        computes it natively (AVX512-BF16/AMX: about 1.7x faster here), else fp32. The
        ``INTERPKIT_PRECISION`` environment variable (fp32, bf16, fp16) overrides "auto".
    save_steps, logging_steps : int, optional
        Checkpoint every this many steps (default: at the end of each epoch); log every this
        many (default: ten times an epoch).
    group_by_length : bool, default True
        Batch texts of similar length together (less padding: about 2x faster here). The
        order of each epoch is recorded in the checkpoints, so a resumed run sees the same
        batches as an uninterrupted one.
    resume : bool
        Continue from the last checkpoint in ``output_dir/checkpoints`` (optimizer, scheduler,
        RNG, batch order and data position included: the final weights are bit-identical to an
        uninterrupted run's on the same machine). With no checkpoint there, training starts
        afresh. Folders a run killed while saving its model left are removed.
    progress : bool, default True
        Show the Trainer's progress bar.
    callbacks : list of transformers.TrainerCallback, optional
        Passed to the HF Trainer.
    loss : LossConfig, optional
        Extra loss terms (L1/L2 penalties, distillation from a teacher, an attribution
        penalty); see :class:`~interpkit.train.LossConfig` for each option.
    **loss_options
        The same options by name (``l1``, ``l2``, ``penalty_on``, ``teacher``,
        ``distill_alpha``, ``distill_temperature``, ``attribution_penalty``), applied on top
        of ``loss``: ``fine_tune(clf, data, l2=1e-3)``.

    Returns
    -------
    pandas.DataFrame
        One row per logged step (``loss``, ``learning_rate``; ``loss_ce``, ``loss_distill``,
        ... with extra terms) and per evaluation (``eval_loss``, ``eval_accuracy``,
        ``eval_macro_f1``). ``history.attrs`` holds the runtime, throughput and the path of the
        saved model.
    """
    if not isinstance(classifier, Classifier):
        raise TypeError(
            f"classifier must be an interpkit Classifier, got {type(classifier).__name__}: "
            "use interpkit.load_classifier()"
        )
    settings = TrainSettings(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        seed=seed,
        precision=precision,
        save_steps=save_steps,
        logging_steps=logging_steps,
        group_by_length=group_by_length,
        progress=progress,
    )
    if resume and output_dir is None:
        raise ValueError("resume=True needs the output_dir of the run to continue")
    config = LossConfig.resolve(loss, loss_options)
    config.check_student(classifier)
    limit_heap_fragmentation()
    data = prepare_data(
        classifier, dataset, eval_split, max_train_examples, max_eval_examples, seed
    )
    folder = RunFolder.open(output_dir, resume)
    try:
        args = _arguments(classifier, settings, folder, data)
        trainer = build_trainer(
            classifier,
            args,
            data,
            loss=TrainingLoss(config, tokenizer=classifier.tokenizer),
            resume_from=folder.resume_from,
            callbacks=callbacks,
        )
        history = _train(trainer, classifier, folder.resume_from, len(data.train))
        if output_dir is not None and trainer.is_world_process_zero():
            record = {
                **settings.record(),
                "max_train_examples": max_train_examples,
                "mixed_precision": computed_precision(args),
                **config.settings(),
            }
            info = run_info(classifier, history, record, history.attrs["train_runtime_s"])
            saved = save_run_model(classifier, folder.path / MODEL, info)
            history.attrs["model_dir"] = str(saved)
    finally:
        folder.close()
    return history


def _arguments(
    classifier: Classifier, settings: TrainSettings, folder: RunFolder, data: PreparedData
) -> TrainingArguments:
    """Make the run's TrainingArguments, on the classifier's device."""
    import torch

    on_cpu = classifier.device.type == "cpu" or not torch.cuda.is_available()
    return make_arguments(
        settings, folder.checkpoints, len(data.train), data.eval is not None, on_cpu
    )


def _train(
    trainer: Trainer, classifier: Classifier, resume_from: str | None, n_train: int
) -> pd.DataFrame:
    """Train, hand the trained model to the classifier, and return the history."""
    from ..models import _quiet_transformers

    started, finished = time.perf_counter(), False
    try:
        with _quiet_transformers():  # no 'Writing model shards' bar for each checkpoint
            result = trainer.train(resume_from_checkpoint=resume_from)
        finished = True
    finally:
        # Accelerate wraps forward() in autocast for mixed precision; unwrap it so that later
        # predictions run in fp32, exactly as the saved model does when it is loaded again.
        model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
        classifier.adopt(model, head_is_trained=finished or classifier.head_is_trained)
    runtime = time.perf_counter() - started
    history = history_frame(trainer.state.log_history)
    history.attrs.update(
        train_runtime_s=runtime,
        train_examples_per_s=result.metrics.get("train_samples_per_second"),
        train_examples=n_train,
        resumed_from=resume_from,
    )
    return history


def _signature_with_loss_options() -> inspect.Signature:
    """Return ``fine_tune``'s signature with each :class:`LossConfig` field as a parameter.

    ``**loss_options`` takes them; this makes ``help(fine_tune)``, Jupyter's tooltips and
    ``inspect.signature`` show them with their defaults, taken from the one place they are
    spelled (the dataclass).
    """
    import dataclasses

    signature = inspect.signature(fine_tune)
    defaults = LossConfig()
    options = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=getattr(defaults, f.name),
            annotation=f.type,
        )
        for f in dataclasses.fields(LossConfig)
    ]
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    return signature.replace(parameters=params + options)


fine_tune.__signature__ = _signature_with_loss_options()
