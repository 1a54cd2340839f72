"""Fine-tuning on the Hugging Face Trainer, with atomic checkpoints, resume and a demo model.

:func:`fine_tune` pads per batch, uses AdamW with linear warm-up, mixed precision on CUDA,
evaluates every epoch (accuracy, macro-F1, loss) and writes checkpoints atomically. Because
the HF Trainer does the loop, ``accelerate launch`` and ``torchrun`` run the same code on
several GPUs or machines.

Example
-------
>>> clf = interpkit.load_classifier()
>>> history = interpkit.fine_tune(clf, interpkit.load_dataset(), output_dir="runs/rt")
>>> history[["epoch", "eval_accuracy"]].dropna()
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .models import (
    Classifier,
    UntrainedHeadWarning,
    as_text_list,
    atomic_write_dir,
    load_classifier,
    sweep_stale_writes,
)

RUN_INFO = "interpkit.json"
#: File in a checkpoint with the RNG state of the epoch's length-grouped batch order.
SAMPLER_STATE = "interpkit_sampler.pt"
CHECKPOINTS = "checkpoints"
MODEL = "model"
#: Settings of the demo model every notebook starts from: 0.827 test accuracy, about 7 minutes on
#: 2 CPU cores with bf16 (measured; see notebook 01), seconds on a GPU.
DEMO_RECIPE = dict(epochs=2, batch_size=32, learning_rate=1e-4, seed=0)
DEMO_NAME = "demo-minilm-rotten-tomatoes-v1"
HISTORY_COLUMNS = [
    "step",
    "epoch",
    "loss",
    "learning_rate",
    "eval_loss",
    "eval_accuracy",
    "eval_macro_f1",
]


def cache_dir() -> Path:
    """Where interpkit keeps models it makes: ``$INTERPKIT_CACHE`` or ``~/.cache/interpkit``."""
    return Path(os.environ.get("INTERPKIT_CACHE") or Path.home() / ".cache" / "interpkit")


def versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced."""
    import torch
    import transformers

    from . import __version__

    return {
        "interpkit": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- data preparation


def _splits(dataset, eval_split):
    from datasets import Dataset, DatasetDict

    if isinstance(dataset, Dataset):
        return dataset, None
    if isinstance(dataset, (DatasetDict, dict)):
        if "train" not in dataset:
            raise ValueError(
                f"dataset has no 'train' split (it has {sorted(dataset)}): pass e.g. "
                "interpkit.load_dataset()"
            )
        if eval_split is not None and eval_split not in dataset:
            raise ValueError(
                f"dataset has no {eval_split!r} split for evaluation (it has {sorted(dataset)}): "
                "pass eval_split=None to skip evaluation"
            )
        return dataset["train"], dataset[eval_split] if eval_split else None
    raise TypeError(
        f"dataset must be a datasets.DatasetDict or Dataset, got {type(dataset).__name__}: "
        "use interpkit.load_dataset() or datasets.Dataset.from_pandas(df)"
    )


def _label_ids(classifier: Classifier, split, where: str) -> list[int]:
    """The split's labels as the classifier's class ids, matched by name; clear errors."""
    from datasets import ClassLabel

    from .labels import class_indices

    missing = {"text", "label"} - set(split.column_names)
    if missing:
        raise ValueError(
            f"the {where} split has no {'/'.join(sorted(missing))} column: it needs 'text' and "
            f"'label' (it has {split.column_names})"
        )
    feature = split.features["label"]
    names = list(feature.names) if isinstance(feature, ClassLabel) else None
    if names is not None:
        unknown = [n for n in names if not _is_class(classifier, n)]
        if unknown:
            raise ValueError(
                f"unknown label name(s) {unknown} in the {where} split: the classifier's labels "
                f"are {list(classifier.labels)}; load it with load_classifier(labels={names}) "
                f"(command line: --labels {','.join(names)})"
            )
    return class_indices(
        classifier.labels, list(split["label"]), names, where=f"the {where} split"
    ).tolist()


def _is_class(classifier: Classifier, name: str) -> bool:
    from .labels import class_index

    try:
        class_index(classifier.labels, name)
    except ValueError:
        return False
    return True


def _tokenize(classifier: Classifier, split, where: str, limit=None, seed=0):
    from datasets import Dataset

    if len(split) == 0:
        fix = (
            "give it labelled texts (check the file or filter that made it)"
            if where == "train"
            else "give it labelled texts, or pass eval_split=None to skip evaluation"
        )
        raise ValueError(f"the {where} split is empty (0 rows): {fix}")
    if limit is not None:
        if limit < 1:
            raise ValueError(f"max examples must be positive, got {limit}")
        if limit < len(split):
            split = split.shuffle(seed=seed).select(range(limit))
    labels = _label_ids(classifier, split, where)
    texts = as_text_list(list(split["text"]))
    classifier.warn_if_truncated(classifier.token_lengths(texts), texts)
    enc = classifier.tokenizer(texts, truncation=True, max_length=classifier.max_length)
    columns = {k: enc[k] for k in enc.keys()}
    columns["labels"] = labels
    return Dataset.from_dict(columns)


def _compute_metrics(eval_pred) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    logits, labels = eval_pred
    preds = np.asarray(logits).argmax(-1)
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, average="macro")),
    }


# --------------------------------------------------------------------------- the trainer


def _replayable_sampler_class():
    """transformers' length-grouped sampler, made exact under resume.

    transformers draws each epoch's length-grouped order from the global torch RNG (its
    sampler gets no generator), so a run resumed in the middle of epoch 2 or later drew another
    order than the uninterrupted run did and skipped the wrong batches. This sampler draws
    exactly as transformers does (the same order, so the same trained weights, as before) and
    records the RNG state of each draw; the checkpoint stores it (:data:`SAMPLER_STATE`) and a
    resumed run replays that epoch's order from it.
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

    class ReplayableLengthGroupedSampler(LengthGroupedSampler):
        def __init__(self, batch_size: int, lengths: list[int], preset: dict | None = None):
            super().__init__(batch_size, lengths=lengths)
            self.epoch = 0
            self.preset = preset  # {"epoch", "rng_state"} of the checkpoint resumed from
            self.drawn: tuple[int, torch.Tensor] | None = None  # (epoch, RNG state) of last draw

        def set_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)

        def __iter__(self):
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


def _load_sampler_state(checkpoint: str | None, n: int, batch_size: int) -> dict | None:
    """The sampler state a checkpoint stored, if it matches this run's data and batch size."""
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


def _trainer_class():
    """A Trainer whose checkpoints appear atomically (a crash never leaves a half checkpoint)
    and whose length-grouped batch order survives a resume."""
    import torch
    from transformers import Trainer
    from transformers.trainer_pt_utils import LengthGroupedSampler
    from transformers.trainer_utils import rotate_checkpoints

    replayable = _replayable_sampler_class()

    class AtomicCheckpointTrainer(Trainer):
        _staging: str | None = None
        #: interpkit.interpretable.TrainingLoss when fine_tune got L1/L2, a teacher or an
        #: attribution penalty; evaluation always reports the plain cross-entropy.
        interpkit_loss = None
        _parts: dict | None = None
        #: The checkpoint this run resumes from (fine_tune sets it before train()).
        interpkit_resume: str | None = None
        _sampler = None

        def _get_train_sampler(self, train_dataset=None):
            sampler = super()._get_train_sampler(train_dataset)
            if type(sampler) is not LengthGroupedSampler:
                return sampler  # the random sampler is seeded per epoch by accelerate already
            preset = _load_sampler_state(
                self.interpkit_resume, len(sampler.lengths), sampler.batch_size
            )
            self._sampler = replayable(sampler.batch_size, sampler.lengths, preset)
            return self._sampler

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
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

        def log(self, logs, *args, **kwargs):
            if self._parts and "loss" in logs:
                # the mean of each loss term since the last log, beside the total loss
                for key, (total, count) in self._parts.items():
                    logs[f"loss_{key}"] = round(total / max(count, 1), 6)
                self._parts = None
            return super().log(logs, *args, **kwargs)

        def _get_output_dir(self, trial):
            return self._staging or super()._get_output_dir(trial)

        def _save_checkpoint(self, model, trial):
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
            self._barrier()

        def _barrier(self):
            if self.args.world_size > 1:
                import torch.distributed as dist

                if dist.is_available() and dist.is_initialized():
                    dist.barrier()

    return AtomicCheckpointTrainer


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX): bf16 is then faster.

    On other CPUs bf16 is emulated and slower than fp32, so "auto" keeps fp32 there.
    """
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


#: Environment variable that ``precision="auto"`` obeys: ``fp32``, ``bf16`` or ``fp16``.
PRECISION_ENV = "INTERPKIT_PRECISION"
_PRECISIONS = ("fp32", "bf16", "fp16")


def precision_from_env() -> str | None:
    """The precision ``$INTERPKIT_PRECISION`` imposes on ``precision="auto"`` (None: unset).

    A machine with native bf16 can then stand in for one without (``INTERPKIT_PRECISION=fp32``,
    as ``benchmarks/notebook_series.py --binder`` does), with no change to the notebooks.
    Empty or ``auto`` means unset; anything else is an error, not a silent fallback.
    """
    value = os.environ.get(PRECISION_ENV, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in _PRECISIONS:
        raise ValueError(
            f"{PRECISION_ENV}={os.environ[PRECISION_ENV]!r} is not a precision: set it to "
            f"{', '.join(_PRECISIONS)} (or unset it to let precision='auto' decide)"
        )
    return value


def _precision(precision: str, on_cpu: bool) -> dict[str, bool]:
    """Trainer flags for the precision asked for: mixed bf16/fp16 or plain fp32.

    ``"auto"`` follows ``$INTERPKIT_PRECISION`` when it is set, else the hardware: bf16 (or
    fp16) on CUDA, bf16 on a CPU that computes it natively, fp32 otherwise.
    """
    import torch

    if precision not in ("auto", *_PRECISIONS):
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got {precision!r}")
    source = f"precision={precision!r}"
    if precision == "auto" and (forced := precision_from_env()) is not None:
        precision, source = forced, f"{PRECISION_ENV}={forced}"
    if precision == "auto":
        if on_cpu:
            return {"bf16": cpu_has_native_bf16(), "fp16": False}
        bf16 = torch.cuda.is_bf16_supported()
        return {"bf16": bf16, "fp16": not bf16}
    if precision == "fp16" and on_cpu:
        raise ValueError(f"{source} needs a CUDA GPU: use 'auto', 'bf16' or 'fp32' on CPU")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def limit_heap_fragmentation() -> bool:
    """Make glibc return freed memory to the system (Linux only; a no-op elsewhere).

    Training allocates activations of ever-changing shapes (per-batch padding); glibc's heap
    then keeps them as fragments, and a kernel that fine-tuned once holds ~1 GB more than it
    uses. Binder gives about 2 GB. Measured here (3,000 snippets, fp32): resident memory after
    fine_tune 1.69 -> 0.75 GB, peak 1.81 -> 1.37 GB. Same as MALLOC_MMAP_THRESHOLD_=65536
    MALLOC_TRIM_THRESHOLD_=0 MALLOC_ARENA_MAX=2 in the environment.
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return False
    settings = ((_M_MMAP_THRESHOLD, 65536), (_M_TRIM_THRESHOLD, 0), (_M_ARENA_MAX, 2))
    return all(mallopt(option, value) == 1 for option, value in settings)


@contextlib.contextmanager
def _quiet_datasets():
    import datasets

    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was:
            datasets.enable_progress_bars()


def _quiet_saves():
    """No 'Writing model shards' bars for each checkpoint (the Trainer's own bar stays)."""
    from .models import _quiet_transformers

    return _quiet_transformers()


def fine_tune(
    classifier: Classifier,
    dataset,
    *,
    output_dir: str | os.PathLike | None = None,
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
    callbacks=None,
    l1: float = 0.0,
    l2: float = 0.0,
    penalty_on="all",
    teacher: Classifier | None = None,
    distill_alpha: float = 0.5,
    distill_temperature: float = 1.0,
    attribution_penalty: float = 0.0,
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
    epochs, batch_size, learning_rate, warmup_ratio, weight_decay :
        AdamW with linear warm-up over ``warmup_ratio`` of the steps, then linear decay.
    max_train_examples, max_eval_examples : int, optional
        Train/evaluate on a seeded random subset (quick experiments).
    seed : int
        Same seed on the CPU gives identical metrics.
    precision : {"auto", "fp32", "bf16", "fp16"}
        "auto": bf16 (or fp16) mixed precision on CUDA; on the CPU bf16 where the processor
        computes it natively (AVX512-BF16/AMX: about 1.7x faster here), else fp32. The
        ``INTERPKIT_PRECISION`` environment variable (fp32, bf16, fp16) overrides "auto".
    group_by_length : bool, default True
        Batch texts of similar length together (less padding: about 2x faster here). The
        order of each epoch is recorded in the checkpoints, so a resumed run sees the same
        batches as an uninterrupted one.
    save_steps : int, optional
        Checkpoint every this many steps (default: at the end of each epoch).
    resume : bool
        Continue from the last checkpoint in ``output_dir/checkpoints`` (optimizer, scheduler,
        RNG, batch order and data position included: the final weights are bit-identical to an
        uninterrupted run's on the same machine). With no checkpoint there, training starts
        afresh. Folders a run killed while saving its model left are removed.
    l1, l2 : float, default 0
        Add ``l1 * sum |w| + l2 * sum w**2`` over the weights ``penalty_on`` selects
        ("all" weight matrices, "encoder", "head", or a callable ``(name, param) -> bool``);
        see :mod:`interpkit.interpretable`. Independent of ``weight_decay`` (decoupled).
    teacher : Classifier, optional
        Knowledge distillation: the loss becomes ``distill_alpha * CE + (1 - distill_alpha) *
        T**2 * KL(teacher || student)`` at ``T = distill_temperature``. The teacher needs the
        same labels and tokenizer (e.g. ``truncate_layers(teacher, 3)`` as the student).
        ``T = 1`` by default: with two classes and a short run, Hinton's softer ``T = 2``
        left a 3-layer student predicting the majority class (1,500 examples, one epoch:
        0.58 validation accuracy vs 0.75 at ``T = 1``; notebook 07).
    attribution_penalty : float, default 0
        Add this times the normalised entropy of each sentence's gradient×input attributions
        (pushes attribution onto fewer tokens; about 3x slower steps: double backward).

    Returns
    -------
    pandas.DataFrame
        One row per logged step (``loss``, ``learning_rate``) and per evaluation
        (``eval_loss``, ``eval_accuracy``, ``eval_macro_f1``). ``history.attrs`` holds the
        runtime, throughput and the path of the saved model.
    """
    import torch
    from transformers import DataCollatorWithPadding, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    if not isinstance(classifier, Classifier):
        raise TypeError(
            f"classifier must be an interpkit Classifier, got {type(classifier).__name__}: "
            "use interpkit.load_classifier()"
        )
    for name, value in (
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("learning_rate", learning_rate),
    ):
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if resume and output_dir is None:
        raise ValueError("resume=True needs the output_dir of the run to continue")
    from .interpretable import TrainingLoss, check_teacher

    if teacher is not None:
        check_teacher(teacher, classifier)
    extra_loss = TrainingLoss(
        l1=l1,
        l2=l2,
        penalty_on=penalty_on,
        teacher=teacher,
        distill_alpha=distill_alpha,
        distill_temperature=distill_temperature,
        attribution_penalty=attribution_penalty,
        tokenizer=classifier.tokenizer,
    )
    train_split, eval_data = _splits(dataset, eval_split)
    _adopt_label_names(classifier, train_split)
    limit_heap_fragmentation()
    with _quiet_datasets():
        train_ds = _tokenize(classifier, train_split, "train", max_train_examples, seed)
        eval_ds = (
            _tokenize(classifier, eval_data, eval_split, max_eval_examples, seed)
            if eval_data is not None
            else None
        )

    temp = None
    if output_dir is None:
        temp = tempfile.mkdtemp(prefix="interpkit-run-")
        run_dir = Path(temp)
    else:
        run_dir = Path(output_dir).expanduser().resolve()
    ckpt_dir = run_dir / CHECKPOINTS
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_writes(run_dir / MODEL)  # what a run killed while saving its model left
    resume_from = get_last_checkpoint(str(ckpt_dir)) if resume else None
    if resume and resume_from is None:
        warnings.warn(
            f"no checkpoint in {ckpt_dir}: training starts from the beginning", stacklevel=2
        )

    on_cpu = classifier.device.type == "cpu" or not torch.cuda.is_available()
    mixed = _precision(precision, on_cpu)
    steps_per_epoch = max(1, int(np.ceil(len(train_ds) / batch_size)))
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, 64),
        learning_rate=learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=warmup_ratio,
        weight_decay=weight_decay,
        optim="adamw_torch",
        eval_strategy="epoch" if eval_ds is not None else "no",
        save_strategy="steps" if save_steps else "epoch",
        save_steps=save_steps or 500,
        save_total_limit=2,
        logging_strategy="steps",
        logging_steps=logging_steps or max(1, steps_per_epoch // 10),
        seed=seed,
        data_seed=seed,
        report_to="none",
        disable_tqdm=not progress,
        train_sampling_strategy="group_by_length" if group_by_length else "random",
        dataloader_pin_memory=not on_cpu,
        use_cpu=on_cpu,
        **mixed,
    )
    trainer = _trainer_class()(
        model=classifier.model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=DataCollatorWithPadding(classifier.tokenizer),
        processing_class=classifier.tokenizer,
        compute_metrics=_compute_metrics,
        callbacks=callbacks,
    )
    if extra_loss.active:
        trainer.interpkit_loss = extra_loss
        if teacher is not None:
            teacher.model.to(trainer.args.device).eval()
    trainer.interpkit_resume = resume_from
    if not progress:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    started = time.perf_counter()
    try:
        with _quiet_saves():
            result = trainer.train(resume_from_checkpoint=resume_from)
    finally:
        # Accelerate wraps forward() in autocast for mixed precision; unwrap it so that later
        # predictions run in fp32, exactly as the saved model does when it is loaded again.
        classifier.model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
        classifier.model.eval()
    runtime = time.perf_counter() - started
    classifier.device = next(classifier.model.parameters()).device
    classifier.head_is_trained = True

    history = _history(trainer.state.log_history)
    history.attrs.update(
        train_runtime_s=runtime,
        train_examples_per_s=result.metrics.get("train_samples_per_second"),
        train_examples=len(train_ds),
        resumed_from=resume_from,
    )
    if output_dir is not None and trainer.is_world_process_zero():
        info = {
            "history": json.loads(history.to_json(orient="records")),
            "final_eval": _last_eval(history),
            "labels": list(classifier.labels),
            "base_model": classifier.name,
            "settings": dict(
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                warmup_ratio=warmup_ratio,
                weight_decay=weight_decay,
                max_train_examples=max_train_examples,
                seed=seed,
                precision=precision,
                mixed_precision=[k for k, v in mixed.items() if v] or ["fp32"],
                l1=l1,
                l2=l2,
                penalty_on=penalty_on if isinstance(penalty_on, str) else repr(penalty_on),
                teacher=teacher.name if teacher is not None else None,
                distill_alpha=distill_alpha if teacher is not None else None,
                distill_temperature=distill_temperature if teacher is not None else None,
                attribution_penalty=attribution_penalty,
            ),
            "versions": versions(),
            "train_runtime_s": runtime,
        }
        with _quiet_saves():
            history.attrs["model_dir"] = str(save_run_model(classifier, run_dir / MODEL, info))
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)
    return history


def _adopt_label_names(classifier: Classifier, split) -> None:
    """An untrained head takes the dataset's class names (so labels travel into checkpoints),
    unless the user named its classes: names given to ``load_classifier(labels=...)`` are kept
    and the data is matched to them by name (any order); a data class they lack is an error
    that names both lists, never a silent rename."""
    from datasets import ClassLabel

    feature = split.features.get("label")
    if classifier.head_is_trained or not isinstance(feature, ClassLabel):
        return
    names = list(feature.names)
    if getattr(classifier, "labels_given", False):
        unknown = [n for n in names if not _is_class(classifier, n)]
        if unknown:
            raise ValueError(
                f"the classifier's labels {list(classifier.labels)} were given when it was "
                f"loaded, but the train split's classes are {names} ({unknown} not among them): "
                "interpkit does not rename classes you named. Load it with "
                f"load_classifier(labels={names}) (command line: --labels {','.join(names)}), "
                "or leave labels out to take the data's names"
            )
        return
    if len(names) != classifier.num_labels:
        raise ValueError(
            f"the dataset has {len(names)} classes {names} but the classifier has "
            f"{classifier.num_labels}: load it with load_classifier(labels={names}) "
            f"(command line: --labels {','.join(names)})"
        )
    from .models import _set_config_labels

    classifier.labels = tuple(names)
    _set_config_labels(classifier.model.config, classifier.labels)


def save_run_model(classifier: Classifier, target: Path, info: dict) -> Path:
    """Save model + tokenizer + ``interpkit.json`` to ``target`` in one atomic rename."""

    def write(tmp: Path) -> None:
        classifier.model.save_pretrained(tmp, safe_serialization=True)
        classifier.tokenizer.save_pretrained(tmp)
        (tmp / RUN_INFO).write_text(json.dumps(info, indent=2, default=str))

    atomic_write_dir(target, write)
    return target


def _history(log_history: list[dict]) -> pd.DataFrame:
    extra = sorted({k for entry in log_history for k in entry if k.startswith("loss_")})
    columns = HISTORY_COLUMNS + extra  # loss_ce, loss_distill, ...: the terms of the loss
    rows = [
        {k: entry.get(k) for k in columns}
        for entry in log_history
        if "loss" in entry or "eval_loss" in entry
    ]
    frame = pd.DataFrame(rows, columns=columns).astype({"step": int})
    return frame.astype({c: float for c in columns[1:]})


def _last_eval(history: pd.DataFrame) -> dict:
    evals = history.dropna(subset=["eval_accuracy"])
    if evals.empty:
        return {}
    last = evals.iloc[-1]
    return {k: float(last[k]) for k in ("epoch", "eval_loss", "eval_accuracy", "eval_macro_f1")}


def evaluate(classifier: Classifier, split, batch_size: int = 64) -> dict[str, float]:
    """Accuracy, macro-F1 and cross-entropy loss of ``classifier`` on a labelled split."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    labels = _label_ids(classifier, split, "evaluation")
    probs = classifier.predict_proba(list(split["text"]), batch_size=batch_size)
    preds = probs.argmax(1)
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, average="macro")),
        "loss": float(log_loss(labels, probs, labels=list(range(classifier.num_labels)))),
        "n": len(labels),
    }


def demo_dir() -> Path:
    """The demo model's folder, ``cache_dir() / DEMO_NAME`` (the weights are in ``model/``).

    Fine-tuning the embedded model, its new head initialised after ``torch.manual_seed(seed)``, on
    ``load_dataset()`` with exactly :data:`DEMO_RECIPE` into this folder *is* training the demo
    model: the result is the same weights :func:`demo_classifier` would train, and it loads them.
    Notebook 01 does this on CPU, so the course does not train the same model twice.
    """
    return cache_dir() / DEMO_NAME


def _seeded_base(device: str, seed: int) -> Classifier:
    """The embedded model, its new head drawn from ``seed`` whatever ran before in this process."""
    import torch

    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        torch.manual_seed(seed)
        return load_classifier(device=device)


def demo_classifier(
    device: str = "auto", retrain: bool = False, progress: bool = True
) -> Classifier:
    """The fine-tuned demo model every notebook starts from (trained once, then cached).

    It is the embedded all-MiniLM-L6-v2 fine-tuned on the embedded Rotten Tomatoes training
    split with :data:`DEMO_RECIPE`, the new head drawn from the recipe's seed (so any process on
    the same machine type gets the same model). The first call trains it (about 7 minutes on 2 CPU
    cores with native bf16, twice that without; seconds on a GPU) into :func:`demo_dir` (set
    ``INTERPKIT_CACHE`` to move it); later calls load it in a second.
    """
    from filelock import FileLock

    from .data import load_dataset

    run_dir = demo_dir()
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    # Two kernels starting at once: the second waits for the first's model instead of
    # training into the same folder.
    with FileLock(str(run_dir) + ".lock"):
        if retrain or not (run_dir / MODEL / "config.json").is_file():
            base = _seeded_base(device, DEMO_RECIPE.get("seed", 0))
            fine_tune(base, load_dataset(), output_dir=run_dir, progress=progress, **DEMO_RECIPE)
            shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)
    clf = load_classifier(run_dir / MODEL, device=device)
    clf.name = "demo: all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes"
    return clf
