"""Writing files safely: atomic writes and one JSON coercion for everything interpkit saves.

A file or folder interpkit writes (a report, an explanation, a model, a run's metadata) is first
written beside its target under a temporary name and then renamed into place, so a crash or a
full disk never leaves a half-written file where a good one was. :func:`to_jsonable` is the one
rule for turning numpy/pandas values into JSON: non-finite floats become ``null``.

Example
-------
>>> from interpkit.storage import atomic_write_text
>>> atomic_write_text("report.html", "<p>ok</p>")
PosixPath('report.html')
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _target_file(path: str | os.PathLike) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder: pass a file name such as report.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place; return the path."""
    target = _target_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from Python/numpy/pandas values (tuples become lists).

    Non-finite floats (NaN, ±inf) and pandas' missing values become ``None`` (JSON ``null``),
    so every file interpkit writes is valid JSON that any reader parses.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if value is None or isinstance(value, str):
        return value
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False
    return value is pd.NA or value is pd.NaT


#: The metadata file :func:`save_model` writes beside a model's weights (``info=``).
RUN_INFO = "interpkit.json"


def atomic_write_dir(target: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_dir)`` then move ``tmp_dir`` to ``target``, replacing it safely.

    Interim (issue 15, branch i15-train): delegates to ``interpkit.models.atomic_write_dir``
    until the seam branch moves that function here.
    """
    from .models import atomic_write_dir as write_dir

    target = Path(target)
    write_dir(target, write)
    return target


def save_model(
    model: Any, tokenizer: Any, target: str | os.PathLike, info: dict | None = None
) -> Path:
    """Save ``model`` (safetensors) and ``tokenizer`` to ``target`` in one atomic rename.

    ``info`` (a run's metadata) is written beside them as ``interpkit.json``, through
    :func:`to_jsonable`. Returns the folder.
    """

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if info is not None:
            (tmp / RUN_INFO).write_text(json.dumps(to_jsonable(info), indent=2))

    return atomic_write_dir(Path(target).expanduser(), write)
