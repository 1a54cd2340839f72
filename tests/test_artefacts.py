"""Course artefacts (issue 14): trained once, then cached, the same weights from any process.

The example recipe here is the one docs/teaching.md shows, on the tiny model: a course author's
recipe (notebook-07 variants, capstone seeds, a TREC model) is registered the same way.
"""

import hashlib
import json
import subprocess
import sys
import time
import warnings

import pytest

import interpkit
from interpkit.cli import main
from interpkit.train import artefacts
from interpkit.train.artefacts import (
    STAMP,
    ArtefactRebuildWarning,
    Recipe,
    artefact_dir,
    load_artefact,
    prepare,
    register,
)

TINY_SETTINGS = dict(epochs=1, batch_size=8, learning_rate=1e-3, seed=0, precision="fp32")
BUILDS = []  # (name, folder) of every build in this process


def build_tiny(folder, device, progress):
    """The example recipe's build: fine-tune the tiny model into the folder it is given."""
    from interpkit.testing import tiny_classifier, tiny_dataset

    BUILDS.append(folder)
    clf = tiny_classifier(seed=TINY_SETTINGS["seed"])  # the new head: the same in any process
    interpkit.fine_tune(clf, tiny_dataset(), output_dir=folder, progress=progress, **TINY_SETTINGS)


def tiny_recipe(**changes):
    return Recipe(
        **{"name": "tiny", "version": 1, "build": build_tiny, "settings": TINY_SETTINGS, **changes}
    )


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """An empty cache and a registry of its own (the demo recipe stays registered)."""
    monkeypatch.setenv("INTERPKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(artefacts, "_RECIPES", dict(artefacts._RECIPES))
    BUILDS.clear()
    return tmp_path / "cache"


def _weights(folder):
    return hashlib.sha256((folder / "model" / "model.safetensors").read_bytes()).hexdigest()


def test_an_artefact_is_built_once_then_loaded(registry):
    register(tiny_recipe())
    first = load_artefact("tiny", device="cpu", progress=False)
    folder = artefact_dir("tiny")
    assert folder == registry / "tiny-v1" and len(BUILDS) == 1
    assert isinstance(first, interpkit.Classifier) and first.head_is_trained
    stamp = json.loads((folder / STAMP).read_text())
    assert stamp["name"] == "tiny" and stamp["version"] == 1
    assert stamp["settings"] == TINY_SETTINGS
    weights = _weights(folder)
    second = load_artefact("tiny", device="cpu")
    assert len(BUILDS) == 1 and _weights(folder) == weights  # loaded, not built again
    assert (
        first.predict_proba("a good film").tolist() == second.predict_proba("a good film").tolist()
    )
    assert not list(registry.glob(".tiny-v1.*"))  # no temporary folder left behind


def test_retrain_builds_it_again_to_the_same_weights(registry):
    register(tiny_recipe())
    load_artefact("tiny", device="cpu", progress=False)
    weights = _weights(artefact_dir("tiny"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArtefactRebuildWarning)  # asked for: no warning
        load_artefact("tiny", retrain=True, device="cpu", progress=False)
    assert len(BUILDS) == 2
    assert _weights(artefact_dir("tiny")) == weights  # fp32, seeded head: deterministic


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(settings={**TINY_SETTINGS, "epochs": 2}), r"built with settings .*'epochs': 1"),
        (dict(version=2, folder="tiny-v1"), "built by version 1 of the recipe, it is 2"),
    ],
)
def test_a_changed_recipe_rebuilds_its_artefact_with_a_message(registry, change, reason):
    register(tiny_recipe())
    load_artefact("tiny", device="cpu", progress=False)
    register(tiny_recipe(**change), replace=True)
    with pytest.warns(ArtefactRebuildWarning, match=reason):
        load_artefact("tiny", device="cpu", progress=False)
    assert len(BUILDS) == 2
    stamp = json.loads((artefact_dir("tiny") / STAMP).read_text())
    assert stamp["version"] == change.get("version", 1)


def test_prepare_builds_every_registered_artefact_not_yet_cached(registry, monkeypatch):
    monkeypatch.setattr(artefacts, "_RECIPES", {})  # without the demo (minutes of training)
    register(tiny_recipe())
    register(tiny_recipe(name="other", settings={**TINY_SETTINGS, "seed": 1}))
    load_artefact("tiny", device="cpu", progress=False)
    assert prepare(device="cpu", progress=False) == {"tiny": "cached", "other": "built"}
    assert prepare(device="cpu") == {"tiny": "cached", "other": "cached"}
    assert len(BUILDS) == 2
    with pytest.raises(ValueError, match="no artefact named 'nope': the registered ones are tiny"):
        prepare(["other", "nope"], retrain=True)
    assert len(BUILDS) == 2  # every name is checked before anything is built


def test_a_build_that_dies_leaves_no_artefact_and_is_built_next_time(registry):
    def crash(folder, device, progress):
        (folder / "model").mkdir()
        (folder / "model" / "config.json").write_text("{}")  # half written
        raise KeyboardInterrupt

    register(tiny_recipe(build=crash))
    with pytest.raises(KeyboardInterrupt):
        load_artefact("tiny", device="cpu")
    assert not artefact_dir("tiny").exists() and not list(registry.glob(".tiny-v1.*"))
    register(tiny_recipe(), replace=True)
    assert load_artefact("tiny", device="cpu", progress=False).head_is_trained


def test_the_cli_prepares_and_lists_artefacts(registry, monkeypatch, capsys):
    monkeypatch.setattr(artefacts, "_RECIPES", {})
    register(tiny_recipe(description="the tiny example"))
    assert main(["prepare", "--device", "cpu", "--no-progress"]) == 0
    assert capsys.readouterr().out == f"tiny: built in {registry / 'tiny-v1'}\n"
    assert main(["prepare", "tiny"]) == 0
    assert capsys.readouterr().out == f"tiny: cached in {registry / 'tiny-v1'}\n"
    assert main(["prepare", "--list"]) == 0
    assert "the tiny example" in capsys.readouterr().out
    assert main(["prepare", "nope"]) == 2
    assert "no artefact named 'nope'" in capsys.readouterr().err


CONCURRENT = """
import hashlib, sys, time
from pathlib import Path

import test_artefacts as example  # the example recipe, importable from the tests folder
from interpkit.train.artefacts import artefact_dir, load_artefact, register

log = Path(sys.argv[1])


def build(folder, device, progress):
    with log.open("a") as f:
        f.write("build\\n")
    time.sleep(3)  # the other process asks meanwhile, and must wait
    example.build_tiny(folder, device, progress)


register(example.tiny_recipe(build=build))
clf = load_artefact("tiny", device="cpu", progress=False)
weights = (artefact_dir("tiny") / "model" / "model.safetensors").read_bytes()
print(hashlib.sha256(weights).hexdigest(), clf.predict_proba("a good film").tolist())
"""


def test_two_processes_asking_at_once_build_once_and_get_the_same_weights(registry, tmp_path):
    """The postBuild, a kernel and a test run can ask at the same moment: one builds."""
    import os

    log = tmp_path / "builds.log"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    children = []
    for _ in range(2):
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", CONCURRENT, str(log)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(0.5)
    outputs = [child.communicate(timeout=600) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    assert log.read_text() == "build\n"
    assert outputs[0][0] == outputs[1][0]  # same weights, same predictions


def test_the_demo_recipe_trains_in_fp32_and_accepts_the_demo_trained_so(registry):
    """The demo cached on a machine (trained with precision "auto" on a CPU without bf16, or
    INTERPKIT_PRECISION=fp32) is the fp32 demo: valid, never trained again; one trained in bf16
    is not (its weights differ from Binder's), so it is rebuilt."""
    from interpkit.train.demo import DEMO, DEMO_RECIPE, demo_dir

    assert DEMO_RECIPE == dict(
        epochs=2, batch_size=32, learning_rate=1e-4, seed=0, precision="fp32"
    )
    assert artefact_dir("demo") == demo_dir() == registry / "demo-minilm-rotten-tomatoes-v1"
    assert DEMO.stale_reason(demo_dir()) == "not built yet"
    recorded = {  # the settings of the demo cached on this project's machines
        "epochs": 2, "batch_size": 32, "learning_rate": 0.0001, "warmup_ratio": 0.1,
        "weight_decay": 0.01, "max_train_examples": None, "seed": 0, "precision": "auto",
        "mixed_precision": ["fp32"], "l1": 0.0, "l2": 0.0, "penalty_on": "all", "teacher": None,
        "distill_alpha": None, "distill_temperature": None, "attribution_penalty": 0.0,
    }  # fmt: skip
    info = demo_dir() / "model" / "interpkit.json"
    info.parent.mkdir(parents=True)
    info.write_text(json.dumps({"settings": recorded}))
    assert DEMO.stale_reason(demo_dir()) is None
    info.write_text(json.dumps({"settings": {**recorded, "mixed_precision": ["bf16"]}}))
    assert "'precision': 'bf16'" in DEMO.stale_reason(demo_dir())
    info.write_text(json.dumps({"settings": {**recorded, "learning_rate": 5e-5}}))
    assert "'learning_rate': 5e-05" in DEMO.stale_reason(demo_dir())
