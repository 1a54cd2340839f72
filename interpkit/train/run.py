"""A fine-tuning run's folder and record: checkpoints, the final model, ``interpkit.json``.

A run folder holds ``checkpoints/`` (each written atomically, for resume) and ``model/`` (the
final weights, tokenizer and ``interpkit.json`` with the history, final evaluation, labels,
settings and library versions), which ``load_classifier(run_folder)`` loads. Without a folder,
checkpoints go to a temporary one that is removed afterwards.

Example
-------
>>> import json
>>> info = json.loads((run / "model" / RUN_INFO).read_text())
>>> info["settings"]["seed"], info["final_eval"]["eval_accuracy"]
(0, 0.84)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import storage
from ..models import Classifier
from ..storage import sweep_stale_writes

RUN_INFO = storage.MODEL_INFO
CHECKPOINTS = "checkpoints"
MODEL = "model"
HISTORY_COLUMNS = [
    "step",
    "epoch",
    "loss",
    "learning_rate",
    "eval_loss",
    "eval_accuracy",
    "eval_macro_f1",
]


def versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced."""
    import torch
    import transformers

    from .. import __version__

    return {
        "interpkit": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


@dataclass(frozen=True)
class RunFolder:
    """Where one run writes: the run folder, its checkpoints, and the checkpoint resumed from.

    ``temporary`` runs (no ``output_dir``) keep checkpoints in a folder :meth:`close` removes.
    """

    path: Path
    temporary: bool
    resume_from: str | None

    @property
    def checkpoints(self) -> Path:
        """The folder of the run's checkpoints."""
        return self.path / CHECKPOINTS

    @classmethod
    def open(cls, output_dir: str | os.PathLike | None, resume: bool) -> RunFolder:
        """Make the run folder and find the checkpoint to resume from.

        ``None`` makes a temporary folder. What a run killed while saving left is swept; with
        ``resume`` and no checkpoint, a warning says training starts afresh.
        """
        from transformers.trainer_utils import get_last_checkpoint

        if output_dir is None:
            path, temporary = Path(tempfile.mkdtemp(prefix="interpkit-run-")), True
        else:
            path, temporary = Path(output_dir).expanduser().resolve(), False
        (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        sweep_stale_writes(path / MODEL)  # what a run killed while saving its model left
        resume_from = get_last_checkpoint(str(path / CHECKPOINTS)) if resume else None
        if resume and resume_from is None:
            warnings.warn(
                f"no checkpoint in {path / CHECKPOINTS}: training starts from the beginning",
                stacklevel=3,
            )
        return cls(path, temporary, resume_from)

    def close(self) -> None:
        """Remove a temporary run folder (a kept one stays)."""
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)


def history_frame(log_history: list[dict]) -> pd.DataFrame:
    """Tabulate the Trainer's log: one row per logged step and per evaluation.

    Columns: :data:`HISTORY_COLUMNS`, then ``loss_ce``, ``loss_distill``, ... (the terms of the
    loss) when the loss had extra terms.
    """
    extra = sorted({k for entry in log_history for k in entry if k.startswith("loss_")})
    columns = HISTORY_COLUMNS + extra
    rows = [
        {k: entry.get(k) for k in columns}
        for entry in log_history
        if "loss" in entry or "eval_loss" in entry
    ]
    frame = pd.DataFrame(rows, columns=columns).astype({"step": int})
    return frame.astype({c: float for c in columns[1:]})


def last_eval(history: pd.DataFrame) -> dict[str, float]:
    """Return the last evaluation's epoch, loss, accuracy and macro-F1 (empty: none)."""
    evals = history.dropna(subset=["eval_accuracy"])
    if evals.empty:
        return {}
    last = evals.iloc[-1]
    return {k: float(last[k]) for k in ("epoch", "eval_loss", "eval_accuracy", "eval_macro_f1")}


def run_info(
    classifier: Classifier, history: pd.DataFrame, settings: dict[str, Any], runtime: float
) -> dict[str, Any]:
    """Return what ``interpkit.json`` records of a run (history, final scores, settings...)."""
    return {
        "history": json.loads(history.to_json(orient="records")),
        "final_eval": last_eval(history),
        "labels": list(classifier.labels),
        "base_model": classifier.name,
        "settings": settings,
        "versions": versions(),
        "train_runtime_s": runtime,
    }


def save_run_model(classifier: Classifier, target: Path, info: dict[str, Any]) -> Path:
    """Save model + tokenizer + ``interpkit.json`` to ``target`` in one atomic rename."""
    from ..models import _quiet_transformers

    with _quiet_transformers():  # no 'Writing model shards' bars
        return storage.save_model(classifier.model, classifier.tokenizer, target, info)
