import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import transformers
from datasets import ClassLabel, DatasetDict
from transformers import TrainerCallback

import interpkit
from interpkit.models import UntrainedHeadWarning
from interpkit.testing import tiny_classifier, tiny_dataset
from interpkit.train import (
    CHECKPOINTS,
    MODEL,
    RUN_INFO,
    demo_classifier,
    evaluate,
    fine_tune,
)
from interpkit.train.splits import label_ids

QUICK = dict(epochs=2, batch_size=8, learning_rate=1e-3, seed=3, progress=False)


class StopAtStep(TrainerCallback):
    """Simulates a crash (Ctrl-C, killed kernel) right after a given step."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


def _evals(history):
    return history.dropna(subset=["eval_accuracy"]).reset_index(drop=True)


def test_fine_tune_learns_and_returns_history(tiny, tiny_data):
    before = evaluate(tiny, tiny_data["test"])
    history = fine_tune(tiny, tiny_data, epochs=8, batch_size=8, learning_rate=3e-3, progress=False)
    assert isinstance(history, pd.DataFrame)
    assert {"loss", "eval_loss", "eval_accuracy", "eval_macro_f1"} <= set(history.columns)
    evals = _evals(history)
    assert list(evals["epoch"]) == [float(e) for e in range(1, 9)]
    after = evaluate(tiny, tiny_data["test"])
    assert after["accuracy"] >= 0.9 > before["accuracy"]
    assert tiny.head_is_trained
    assert history.attrs["train_examples"] == len(tiny_data["train"])


def test_same_seed_gives_identical_metrics(tiny_data):
    a = fine_tune(tiny_classifier(seed=1), tiny_data, **QUICK)
    b = fine_tune(tiny_classifier(seed=1), tiny_data, **QUICK)
    pd.testing.assert_frame_equal(a, b)
    c = fine_tune(tiny_classifier(seed=1), tiny_data, **{**QUICK, "seed": 4})
    assert not a["loss"].equals(c["loss"])


def test_run_folder_holds_model_metrics_seed_and_versions(tmp_path, tiny, tiny_data):
    # bf16 autocast during training must not leak into later fp32 predictions
    history = fine_tune(tiny, tiny_data, output_dir=tmp_path / "run", precision="bf16", **QUICK)
    model_dir = tmp_path / "run" / MODEL
    assert history.attrs["model_dir"] == str(model_dir)
    assert (model_dir / "model.safetensors").is_file()
    assert (model_dir / "tokenizer.json").is_file()
    info = json.loads((model_dir / RUN_INFO).read_text())
    assert info["settings"]["seed"] == 3
    assert info["labels"] == ["negative", "positive"]
    assert info["versions"]["transformers"] == transformers.__version__
    assert info["final_eval"]["eval_accuracy"] == pytest.approx(
        _evals(history)["eval_accuracy"].iloc[-1]
    )
    again = interpkit.load_classifier(tmp_path / "run", device="cpu")  # the run folder loads
    np.testing.assert_allclose(
        again.predict_proba(["the film was good"]),
        tiny.predict_proba(["the film was good"]),
        atol=1e-6,
    )


def test_resume_after_an_interrupted_run_matches_an_uninterrupted_one(tmp_path, tiny_data):
    straight = fine_tune(
        tiny_classifier(seed=2), tiny_data, output_dir=tmp_path / "a", save_steps=3, **QUICK
    )
    first = tiny_classifier(seed=2)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(
            first,
            tiny_data,
            output_dir=tmp_path / "b",
            save_steps=3,
            callbacks=[StopAtStep(8)],
            **QUICK,
        )
    ckpts = sorted(p.name for p in (tmp_path / "b" / CHECKPOINTS).iterdir())
    assert ckpts == ["checkpoint-3", "checkpoint-6"]
    assert not (tmp_path / "b" / MODEL).exists()
    resumed_clf = tiny_classifier(
        seed=99
    )  # fresh weights: everything must come from the checkpoint
    resumed = fine_tune(
        resumed_clf, tiny_data, output_dir=tmp_path / "b", save_steps=3, resume=True, **QUICK
    )
    assert resumed.attrs["resumed_from"].endswith("checkpoint-6")
    # the final evaluation (epoch 2) is identical, as are the weights
    pd.testing.assert_series_equal(_evals(resumed).iloc[-1], _evals(straight).iloc[-1])
    a = interpkit.load_classifier(tmp_path / "a", device="cpu").predict_proba(
        ["a bad film", "the best"]
    )
    np.testing.assert_allclose(resumed_clf.predict_proba(["a bad film", "the best"]), a, atol=1e-6)


def _weights_sha256(run_dir):
    return hashlib.sha256((run_dir / MODEL / "model.safetensors").read_bytes()).hexdigest()


def test_resume_in_a_later_epoch_is_bit_exact_with_length_grouped_batches(tmp_path, tiny_data):
    """Issue 12.12: transformers draws the length-grouped order from the global RNG, so a run
    resumed in the middle of epoch 2 trained on other batches than the uninterrupted run."""
    settings = dict(save_steps=3, group_by_length=True, **QUICK)  # 10 steps per epoch
    fine_tune(tiny_classifier(seed=2), tiny_data, output_dir=tmp_path / "straight", **settings)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(
            tiny_classifier(seed=2),
            tiny_data,
            output_dir=tmp_path / "cut",
            callbacks=[StopAtStep(14)],
            **settings,
        )
    history = fine_tune(
        tiny_classifier(seed=99), tiny_data, output_dir=tmp_path / "cut", resume=True, **settings
    )
    assert history.attrs["resumed_from"].endswith("checkpoint-12")  # epoch 2, 2 steps in
    assert _weights_sha256(tmp_path / "cut") == _weights_sha256(tmp_path / "straight")
    from interpkit.train import SAMPLER_STATE

    checkpoints = list((tmp_path / "cut" / CHECKPOINTS).glob("checkpoint-*"))
    assert checkpoints and all((c / SAMPLER_STATE).is_file() for c in checkpoints)


KILLED_WHILE_SAVING = """
import sys, time
from pathlib import Path

import interpkit.storage as storage
import interpkit.train as train
from interpkit.testing import tiny_classifier, tiny_dataset

real = storage.atomic_write_dir


def write_then_wait(target, write):
    def slow(tmp):
        write(tmp)  # the model is written into .model.tmp-..., not yet renamed into place
        Path(sys.argv[2]).write_text(str(tmp))
        time.sleep(600)

    real(target, slow)


storage.atomic_write_dir = write_then_wait
train.fine_tune(tiny_classifier(seed=2), tiny_dataset(), output_dir=sys.argv[1], save_steps=3,
                epochs=2, batch_size=8, learning_rate=1e-3, seed=3, progress=False)
"""


def test_a_run_killed_while_saving_its_model_is_swept_and_resumes_exactly(tmp_path, tiny_data):
    """Issue 12.13: SIGKILL during the final save left .model.tmp-* in the run folder for good."""
    run, marker = tmp_path / "run", tmp_path / "saving"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_SAVING, str(run), str(marker)])
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the child never reached the final save"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = [p.name for p in run.iterdir() if p.name.startswith(".model.")]
    assert left and all(name.startswith(".model.tmp-") for name in left)
    assert not (run / MODEL).exists()
    settings = dict(save_steps=3, **QUICK)
    history = fine_tune(
        tiny_classifier(seed=99), tiny_data, output_dir=run, resume=True, **settings
    )
    assert history.attrs["resumed_from"].endswith("checkpoint-20")
    assert [p.name for p in run.iterdir() if p.name.startswith(".model.")] == []
    fine_tune(tiny_classifier(seed=2), tiny_data, output_dir=tmp_path / "straight", **settings)
    assert _weights_sha256(run) == _weights_sha256(tmp_path / "straight")


def test_the_length_grouped_order_is_the_one_transformers_draws():
    """Recording the order changes nothing about it: the same weights as before the fix (the
    demo model and the notebooks' numbers stay)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from interpkit.train.trainer import _replayable_sampler_class

    lengths = [int(x) for x in np.random.default_rng(0).integers(3, 60, 500)]
    torch.manual_seed(7)
    expected = list(LengthGroupedSampler(8, lengths=lengths))
    torch.manual_seed(7)
    sampler = _replayable_sampler_class()(8, lengths)
    assert list(sampler) == expected
    replay = _replayable_sampler_class()(8, lengths, preset=sampler.state())
    torch.manual_seed(123)  # another global state: the preset decides
    assert list(replay) == expected


def test_a_crash_while_saving_leaves_no_corrupted_checkpoint(tmp_path, tiny_data, monkeypatch):
    real = transformers.Trainer._save_rng_state
    calls = {"n": 0}

    def crash_on_second_save(self, output_dir):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed half-way through writing checkpoint-6
        return real(self, output_dir)

    monkeypatch.setattr(transformers.Trainer, "_save_rng_state", crash_on_second_save)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(tiny_classifier(), tiny_data, output_dir=tmp_path / "run", save_steps=3, **QUICK)
    ckpt_root = tmp_path / "run" / CHECKPOINTS
    assert sorted(p.name for p in ckpt_root.iterdir() if not p.name.startswith(".")) == [
        "checkpoint-3"
    ]
    assert (ckpt_root / "checkpoint-3" / "trainer_state.json").is_file()
    monkeypatch.setattr(transformers.Trainer, "_save_rng_state", real)
    history = fine_tune(
        tiny_classifier(),
        tiny_data,
        output_dir=tmp_path / "run",
        save_steps=3,
        resume=True,
        **QUICK,
    )
    assert history.attrs["resumed_from"].endswith("checkpoint-3")
    assert not (ckpt_root / ".staging").exists()


def test_resume_with_no_checkpoint_starts_afresh(tmp_path, tiny, tiny_data):
    with pytest.warns(UserWarning, match="starts from the beginning"):
        history = fine_tune(tiny, tiny_data, output_dir=tmp_path / "new", resume=True, **QUICK)
    assert history.attrs["resumed_from"] is None


def test_subsets_and_no_eval(tiny, tiny_data):
    history = fine_tune(tiny, tiny_data, max_train_examples=16, eval_split=None, **QUICK)
    assert history.attrs["train_examples"] == 16
    assert history["eval_accuracy"].isna().all()


def test_untrained_head_adopts_dataset_label_names(base_model_dir, tiny_data):
    with pytest.warns(UntrainedHeadWarning):
        clf = interpkit.load_classifier(base_model_dir, device="cpu")  # no labels given
    assert clf.labels == ("negative", "positive") and not clf.labels_given
    renamed = tiny_data.cast_column("label", ClassLabel(names=["neg", "pos"]))
    fine_tune(clf, renamed, **QUICK)
    assert clf.labels == ("neg", "pos")


def test_labels_the_user_gave_are_never_silently_replaced(base_model_dir, tiny_data):
    """Issue 12.14: an untrained head's labels=['bad', 'good'] became the data's names."""
    with pytest.warns(UntrainedHeadWarning):
        clf = interpkit.load_classifier(base_model_dir, labels=["bad", "good"], device="cpu")
    with pytest.raises(
        ValueError,
        match=r"labels \['bad', 'good'\] were given .* classes are \['negative', 'positive'\]"
        r".*--labels negative,positive",
    ):
        fine_tune(clf, tiny_data, **QUICK)
    assert clf.labels == ("bad", "good")
    # the same names in another order are kept, and the data is matched by name
    with pytest.warns(UntrainedHeadWarning):
        swapped = interpkit.load_classifier(
            base_model_dir, labels=["positive", "negative"], device="cpu"
        )
    fine_tune(swapped, tiny_data, max_train_examples=16, eval_split=None, **QUICK)
    assert swapped.labels == ("positive", "negative")
    ids = label_ids(swapped, tiny_data["test"], "test")
    assert ids == [1 - y for y in tiny_data["test"]["label"]]


def test_an_empty_split_is_named(tiny, tiny_data):
    empty_train = DatasetDict(
        {"train": tiny_data["train"].select([]), "validation": tiny_data["test"]}
    )
    with pytest.raises(ValueError, match=r"the train split is empty \(0 rows\)"):
        fine_tune(tiny, empty_train, **QUICK)
    empty_eval = DatasetDict(
        {"train": tiny_data["train"], "validation": tiny_data["test"].select([])}
    )
    with pytest.raises(ValueError, match=r"the validation split is empty .*eval_split=None"):
        fine_tune(tiny, empty_eval, **QUICK)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(dataset={"validation": None}), ValueError, "no 'train' split"),
        (dict(dataset=[1, 2]), TypeError, "DatasetDict"),
        (dict(eval_split="dev"), ValueError, "no 'dev' split"),
        (dict(epochs=0), ValueError, "epochs must be a positive"),
        (dict(resume=True), ValueError, "needs the output_dir"),
        (dict(precision="fp16"), ValueError, "needs a CUDA GPU"),
        (dict(precision="half"), ValueError, "precision must be"),
    ],
)
def test_bad_arguments(tiny, tiny_data, kwargs, error, match):
    args = {"dataset": tiny_data, **kwargs}
    with pytest.raises(error, match=match):
        fine_tune(tiny, **args)


def test_missing_columns_and_unknown_labels(tiny, tiny_data):
    renamed = tiny_data.rename_column("text", "sentence")
    with pytest.raises(ValueError, match="no text column"):
        fine_tune(tiny, renamed, **QUICK)
    trained = tiny_classifier(labels=("bad", "good"))
    trained.head_is_trained = True
    with pytest.raises(ValueError, match=r"unknown label name\(s\) \['negative', 'positive'\]"):
        fine_tune(trained, tiny_data, **QUICK)


def test_demo_classifier_trains_once_then_loads_from_cache(tmp_path, monkeypatch, tiny_data):
    import interpkit.train.demo as train

    monkeypatch.setenv("INTERPKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(train, "load_classifier", _tiny_or_load)
    monkeypatch.setattr("interpkit.data.load_dataset", lambda *a, **k: tiny_data)
    monkeypatch.setattr(train, "DEMO_RECIPE", dict(epochs=1, batch_size=8, seed=0))
    first = demo_classifier(device="cpu", progress=False)
    model_dir = tmp_path / train.DEMO_NAME / MODEL
    assert (model_dir / "model.safetensors").is_file()
    assert not (tmp_path / train.DEMO_NAME / CHECKPOINTS).exists()
    stamp = (model_dir / "model.safetensors").stat().st_mtime_ns
    second = demo_classifier(device="cpu")
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == stamp  # not retrained
    assert second.head_is_trained and first.name == second.name
    np.testing.assert_allclose(
        first.predict_proba("a good film"), second.predict_proba("a good film"), atol=1e-6
    )


def test_demo_model_is_the_same_whatever_ran_before(tmp_path, monkeypatch, tiny_data):
    """The new head is drawn from the recipe's seed: two processes in different random states (a
    notebook that sampled, a test run, Binder's postBuild) get the same demo weights."""
    import torch

    import interpkit.train.demo as train

    monkeypatch.setattr(train, "load_classifier", _tiny_or_load)
    monkeypatch.setattr("interpkit.data.load_dataset", lambda *a, **k: tiny_data)
    monkeypatch.setattr(train, "DEMO_RECIPE", dict(epochs=1, batch_size=8, seed=0))
    weights = []
    for state in (1, 2):
        monkeypatch.setenv("INTERPKIT_CACHE", str(tmp_path / f"cache-{state}"))
        torch.manual_seed(state)
        torch.randn(state * 10)  # some earlier work used the generator
        clf = demo_classifier(device="cpu", progress=False)
        weights.append({k: v.clone() for k, v in clf.model.state_dict().items()})
        assert train.demo_dir() == tmp_path / f"cache-{state}" / train.DEMO_NAME
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name


def test_fine_tuning_into_demo_dir_with_the_recipe_makes_the_demo_model(
    tmp_path, monkeypatch, tiny_data
):
    """What notebook 01 does on CPU: seed, load, fine_tune with DEMO_RECIPE into demo_dir(); then
    demo_classifier() loads that model instead of training it again."""
    import torch

    import interpkit.train.demo as train

    monkeypatch.setenv("INTERPKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(train, "load_classifier", _tiny_or_load)
    monkeypatch.setattr("interpkit.data.load_dataset", lambda *a, **k: tiny_data)
    monkeypatch.setattr(train, "DEMO_RECIPE", dict(epochs=1, batch_size=8, seed=0))
    torch.manual_seed(0)
    mine = _tiny_or_load()
    fine_tune(mine, tiny_data, output_dir=train.demo_dir(), progress=False, **train.DEMO_RECIPE)
    weights = train.demo_dir() / MODEL / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    demo = demo_classifier(device="cpu")
    assert weights.stat().st_mtime_ns == stamp  # loaded, not retrained
    np.testing.assert_allclose(
        demo.predict_proba("a good film"), mine.predict_proba("a good film"), atol=1e-6
    )


def _tiny_or_load(name_or_path=None, labels=None, device="auto"):
    if name_or_path is None:
        return tiny_classifier()
    return interpkit.load_classifier(name_or_path, labels=labels, device=device)


def test_evaluate_reports_accuracy_f1_and_loss(tiny, tiny_data):
    scores = evaluate(tiny, tiny_data["test"])
    assert set(scores) == {"accuracy", "macro_f1", "loss", "n"}
    assert 0 <= scores["accuracy"] <= 1 and scores["loss"] > 0
    assert scores["n"] == len(tiny_data["test"])


def test_tiny_dataset_is_balanced():
    ds = tiny_dataset()
    labels = (
        list(ds["train"]["label"]) + list(ds["validation"]["label"]) + list(ds["test"]["label"])
    )
    assert labels.count(0) == labels.count(1)


def test_heap_fragmentation_limit_is_applied_on_linux():
    import sys

    from interpkit.train import limit_heap_fragmentation

    assert limit_heap_fragmentation() is sys.platform.startswith("linux")


def test_auto_precision_on_cpu_follows_native_bf16(monkeypatch):
    from interpkit.train.arguments import _precision, cpu_has_native_bf16

    monkeypatch.delenv("INTERPKIT_PRECISION", raising=False)

    assert _precision("auto", on_cpu=True) == {"bf16": cpu_has_native_bf16(), "fp16": False}
    assert _precision("fp32", on_cpu=True) == {"bf16": False, "fp16": False}
    assert _precision("bf16", on_cpu=True) == {"bf16": True, "fp16": False}


@pytest.mark.parametrize(
    "value, flags",
    [
        ("fp32", {"bf16": False, "fp16": False}),
        ("bf16", {"bf16": True, "fp16": False}),
        (" FP32 ", {"bf16": False, "fp16": False}),
    ],
)
def test_precision_env_var_decides_auto(monkeypatch, value, flags):
    from interpkit.train.arguments import _precision

    monkeypatch.setenv("INTERPKIT_PRECISION", value)
    assert _precision("auto", on_cpu=True) == flags
    # an explicit precision is what the caller asked for: the variable does not touch it
    assert _precision("bf16", on_cpu=True) == {"bf16": True, "fp16": False}
    assert _precision("fp32", on_cpu=True) == {"bf16": False, "fp16": False}


@pytest.mark.parametrize("value", ["", "auto"])
def test_precision_env_var_unset_or_auto_keeps_hardware_choice(monkeypatch, value):
    from interpkit.train.arguments import _precision, cpu_has_native_bf16

    monkeypatch.setenv("INTERPKIT_PRECISION", value)
    assert _precision("auto", on_cpu=True) == {"bf16": cpu_has_native_bf16(), "fp16": False}


def test_precision_env_var_rejects_unknown_and_impossible_values(monkeypatch):
    from interpkit.train.arguments import _precision

    monkeypatch.setenv("INTERPKIT_PRECISION", "float32")
    with pytest.raises(ValueError, match="INTERPKIT_PRECISION='float32'.*fp32, bf16, fp16"):
        _precision("auto", on_cpu=True)
    monkeypatch.setenv("INTERPKIT_PRECISION", "fp16")
    with pytest.raises(ValueError, match="INTERPKIT_PRECISION=fp16 needs a CUDA GPU"):
        _precision("auto", on_cpu=True)


def test_fine_tune_auto_obeys_precision_env_var(tiny, tiny_data, tmp_path, monkeypatch):
    """End to end: the saved run records the precision the variable imposed on "auto"."""
    quick = dict(QUICK, epochs=1, max_train_examples=16, eval_split=None)
    for value in ("bf16", "fp32"):
        monkeypatch.setenv("INTERPKIT_PRECISION", value)
        history = fine_tune(tiny, tiny_data, output_dir=tmp_path / value, **quick)
        info = json.loads((Path(history.attrs["model_dir"]) / "interpkit.json").read_text())
        assert info["settings"]["precision"] == "auto"
        assert info["settings"]["mixed_precision"] == [value]


def test_demo_classifier_retrains_on_request_and_when_its_recipe_changed(
    tmp_path, monkeypatch, tiny_data
):
    """Issue 14: ``retrain=True`` trains again; a cached demo whose recorded settings are not
    the recipe's (the recipe changed) is rebuilt, with a warning that says why."""
    import interpkit.train.demo as train
    from interpkit.train.artefacts import ArtefactRebuildWarning

    monkeypatch.setenv("INTERPKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(train, "load_classifier", _tiny_or_load)
    monkeypatch.setattr("interpkit.data.load_dataset", lambda *a, **k: tiny_data)
    monkeypatch.setattr(train, "DEMO_RECIPE", dict(epochs=1, batch_size=8, seed=0))
    demo_classifier(device="cpu", progress=False)
    weights = train.demo_dir() / MODEL / "model.safetensors"
    stamps = [weights.stat().st_mtime_ns]
    demo_classifier(device="cpu", retrain=True, progress=False)
    stamps.append(weights.stat().st_mtime_ns)
    monkeypatch.setattr(train, "DEMO_RECIPE", dict(epochs=2, batch_size=8, seed=0))
    with pytest.warns(ArtefactRebuildWarning, match=r"built with settings \{'epochs': 1"):
        demo_classifier(device="cpu", progress=False)
    stamps.append(weights.stat().st_mtime_ns)
    assert len(set(stamps)) == 3  # trained three times
    info = json.loads((train.demo_dir() / MODEL / RUN_INFO).read_text())
    assert info["settings"]["epochs"] == 2
