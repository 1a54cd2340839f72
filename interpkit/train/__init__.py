"""Fine-tuning: ``fine_tune`` and what it is made of, students, and the cached course models.

The package's modules, in the order a run uses them:

- :mod:`.config`: :class:`LossConfig`, the extra loss terms' options (each spelled once);
- :mod:`.losses`: the terms themselves (weight penalty, distillation, attribution entropy);
- :mod:`.splits`: splits, label ids, tokenisation;
- :mod:`.arguments`: settings, precision (``INTERPKIT_PRECISION``), TrainingArguments;
- :mod:`.trainer`: the HF Trainer with atomic checkpoints and an exactly resumable order;
- :mod:`.run`: the run folder, ``interpkit.json`` and the saved model;
- :mod:`.fine_tune`: :func:`fine_tune`, the four steps above in a row; :mod:`.scoring`:
  :func:`evaluate`;
- :mod:`.students`: :func:`truncate_layers`, :func:`count_parameters`;
- :mod:`.artefacts` and :mod:`.demo`: models trained once then cached (the demo model first);
- :mod:`.variants`: :func:`compare_variants` (imports the explainers; not imported here).

Example
-------
>>> from interpkit.train import LossConfig, fine_tune
>>> history = fine_tune(clf, data, output_dir="runs/l2", loss=LossConfig(l2=1e-3))
"""

from __future__ import annotations

from .arguments import (
    PRECISION_ENV,
    TrainSettings,
    cpu_has_native_bf16,
    limit_heap_fragmentation,
    precision_from_env,
)
from .artefacts import (
    ArtefactRebuildWarning,
    Recipe,
    artefact_dir,
    cache_dir,
    load_artefact,
    prepare,
    recipes,
    register,
)
from .config import PENALTY_GROUPS, LossConfig
from .demo import DEMO_NAME, DEMO_RECIPE, demo_classifier, demo_dir
from .fine_tune import fine_tune
from .losses import (
    TrainingLoss,
    attribution_entropy,
    distillation_loss,
    penalized_parameters,
    weight_penalty,
)
from .run import CHECKPOINTS, MODEL, RUN_INFO, save_run_model, versions
from .scoring import evaluate
from .students import count_parameters, truncate_layers
from .trainer import SAMPLER_STATE

__all__ = [
    "CHECKPOINTS",
    "DEMO_NAME",
    "DEMO_RECIPE",
    "MODEL",
    "PENALTY_GROUPS",
    "PRECISION_ENV",
    "RUN_INFO",
    "SAMPLER_STATE",
    "ArtefactRebuildWarning",
    "LossConfig",
    "Recipe",
    "TrainSettings",
    "TrainingLoss",
    "artefact_dir",
    "attribution_entropy",
    "cache_dir",
    "count_parameters",
    "cpu_has_native_bf16",
    "demo_classifier",
    "demo_dir",
    "distillation_loss",
    "evaluate",
    "fine_tune",
    "limit_heap_fragmentation",
    "load_artefact",
    "penalized_parameters",
    "precision_from_env",
    "prepare",
    "recipes",
    "register",
    "save_run_model",
    "truncate_layers",
    "versions",
    "weight_penalty",
]
