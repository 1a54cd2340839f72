"""Atomic writes and the one JSON coercion (interpkit.storage)."""

import json

import numpy as np
import pandas as pd
import pytest

from interpkit.storage import atomic_write_bytes, atomic_write_text, to_jsonable


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
