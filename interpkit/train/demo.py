"""The demo model every notebook starts from: the first course artefact.

It is the embedded all-MiniLM-L6-v2 fine-tuned on the embedded Rotten Tomatoes training split
with :data:`DEMO_RECIPE`, its new head drawn from the recipe's seed, in fp32, so any process on
any machine type (Binder's included) gets the same weights. It is built once into
:func:`demo_dir` by the artefact registry (:mod:`interpkit.train.artefacts`: file-locked,
atomic, rebuilt when the recipe changes) and loaded from there afterwards.

Example
-------
>>> clf = interpkit.demo_classifier()          # trained once (minutes on CPU), then cached
>>> clf = interpkit.demo_classifier(retrain=True)  # train it again
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..models import Classifier, UntrainedHeadWarning, load_classifier
from .artefacts import Recipe, cache_dir, load_artefact, register
from .run import CHECKPOINTS, MODEL, RUN_INFO

#: Settings of the demo model: 0.844 validation accuracy, about 14 minutes on 2 CPU cores in
#: fp32, seconds on a GPU. fp32 everywhere: bf16 autocast on CPUs that have it gave other
#: weights than Binder's CPUs, which lack it (issue 14).
DEMO_RECIPE = dict(epochs=2, batch_size=32, learning_rate=1e-4, seed=0, precision="fp32")
DEMO_VERSION = 1
DEMO_NAME = f"demo-minilm-rotten-tomatoes-v{DEMO_VERSION}"
DEMO_DISPLAY_NAME = "demo: all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes"


def demo_dir() -> Path:
    """Return the demo model's folder, ``cache_dir() / DEMO_NAME`` (weights in ``model/``).

    Fine-tuning the embedded model, its new head initialised after ``torch.manual_seed(seed)``,
    on ``load_dataset()`` with exactly :data:`DEMO_RECIPE` into this folder *is* training the
    demo model: the result is the same weights :func:`demo_classifier` would train, and it
    loads them.
    """
    return cache_dir() / DEMO_NAME


def _seeded_base(device: str, seed: int) -> Classifier:
    """Load the embedded model, its new head drawn from ``seed`` whatever ran before."""
    import torch

    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        torch.manual_seed(seed)
        return load_classifier(device=device)


def _build_demo(folder: Path, device: str, progress: bool) -> None:
    """Train the demo model into ``folder`` (a run folder; its checkpoints are dropped)."""
    from ..data import load_dataset
    from .fine_tune import fine_tune

    base = _seeded_base(device, DEMO_RECIPE.get("seed", 0))
    fine_tune(base, load_dataset(), output_dir=folder, progress=progress, **DEMO_RECIPE)
    shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)


def _demo_settings() -> dict[str, Any]:
    """Return the recipe as it stands now (read at each check: a change is noticed)."""
    return dict(DEMO_RECIPE)


def _recorded_demo(folder: Path) -> Mapping[str, Any] | None:
    """Read what built the demo in ``folder`` from the model's ``interpkit.json``.

    The model's own record, not the registry's stamp, because notebook 01 trains the demo into
    :func:`demo_dir` with ``fine_tune`` directly. The precision is the one the run computed in
    (``mixed_precision``), so a model trained with ``precision="auto"`` on a CPU without bf16
    counts as the fp32 one it is.
    """
    import json

    try:
        info = json.loads((folder / MODEL / RUN_INFO).read_text())
        recorded = info["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    computed = recorded.get("mixed_precision") or ["fp32"]
    settings = {k: recorded.get(k) for k in DEMO_RECIPE if k != "precision"}
    if "precision" in DEMO_RECIPE:
        settings["precision"] = "+".join(computed)
    return {"version": DEMO_VERSION, "settings": settings}


def _load_demo(folder: Path, device: str) -> Classifier:
    """Load the demo model in ``folder``, named for display."""
    clf = load_classifier(folder / MODEL, device=device)
    clf.name = DEMO_DISPLAY_NAME
    return clf


DEMO = register(
    Recipe(
        name="demo",
        version=DEMO_VERSION,
        build=_build_demo,
        settings=_demo_settings,
        load=_load_demo,
        folder=DEMO_NAME,
        recorded=_recorded_demo,
        description="all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes (every notebook's model)",
    ),
    replace=True,  # a reloaded module registers the same recipe again
)


def demo_classifier(
    device: str = "auto", retrain: bool = False, progress: bool = True
) -> Classifier:
    """Return the fine-tuned demo model every notebook starts from (trained once, cached).

    The first call trains it (about 14 minutes on 2 CPU cores in fp32, under 30 on one; seconds
    on a GPU) into :func:`demo_dir` (set ``INTERPKIT_CACHE`` to move it); later calls, from any
    process, load it in a second. Two processes asking at once: the second waits for the
    first's model. ``python -m interpkit prepare`` builds it ahead of time.

    Parameters
    ----------
    device : str, default "auto"
        Where to train and load it.
    retrain : bool, default False
        Train it again even when it is cached.
    progress : bool, default True
        The training progress bar.

    Returns
    -------
    Classifier
        The demo model.
    """
    return load_artefact("demo", retrain=retrain, device=device, progress=progress)
