"""Atomic writes and the one JSON coercion (interpkit.storage)."""

import json

import numpy as np
import pandas as pd
import pytest

from interpkit.storage import (
    MODEL_INFO,
    atomic_write_bytes,
    atomic_write_dir,
    atomic_write_text,
    save_model,
    to_jsonable,
)


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "report.html"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "x.bin"
    atomic_write_bytes(target, b"good")

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"bad")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="pass a file name"):
        atomic_write_text(tmp_path, "x")


def test_to_jsonable_one_rule_for_non_finite_values():
    value = {
        "a": np.float32(0.5),
        "b": float("nan"),
        "c": np.array([1, 2]),
        "d": (np.bool_(True), np.inf),
        "e": pd.NA,
        1: "x",
    }
    out = to_jsonable(value)
    assert out == {"a": 0.5, "b": None, "c": [1, 2], "d": [True, None], "e": None, "1": "x"}
    json.dumps(out, allow_nan=False)  # strictly valid JSON


def _refuse(constant):
    raise ValueError(f"{constant} is not valid JSON")


def test_a_failed_folder_write_keeps_the_old_folder(tmp_path):
    target = tmp_path / "run"
    atomic_write_dir(target, lambda tmp: (tmp / "a.txt").write_text("good"))

    def broken(tmp):
        (tmp / "a.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write_dir(target, broken)
    assert (target / "a.txt").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folder left


def test_save_model_writes_weights_tokenizer_and_info_in_one_folder(tmp_path, tiny):
    from interpkit import load_classifier

    info = {"accuracy": np.float32(0.5), "loss": float("nan"), "labels": ("neg", "pos")}
    target = save_model(tiny.model, tiny.tokenizer, tmp_path / "model", info=info)
    assert (target / "model.safetensors").is_file()
    stored = json.loads((target / MODEL_INFO).read_text(), parse_constant=_refuse)
    assert stored == {"accuracy": 0.5, "loss": None, "labels": ["neg", "pos"]}
    assert tiny.save(tmp_path / "other") == (tmp_path / "other").resolve()  # the same saver
    assert not (tmp_path / "other" / MODEL_INFO).exists()  # info only when given
    again = load_classifier(target, device="cpu")
    np.testing.assert_allclose(
        again.predict_proba(["a good film"]), tiny.predict_proba(["a good film"]), atol=1e-6
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "other"]
