"""Writing files safely: atomic writes, one model saver and one JSON coercion.

A file or folder interpkit writes (a report, an explanation, a model, a run's metadata) is first
written beside its target under a temporary name and then renamed into place, so a crash or a
full disk never leaves a half-written file where a good one was (:func:`atomic_write_bytes`,
:func:`atomic_write_text`, :func:`atomic_write_dir`; :func:`save_model` for a model folder).
A process killed while writing a folder leaves its temporary copy behind: the next write of
the same target sweeps it (:func:`sweep_stale_writes`). :func:`to_jsonable` is the one rule for
turning numpy/pandas values into JSON: non-finite floats become ``null``.

Example
-------
>>> from interpkit.storage import atomic_write_text
>>> atomic_write_text("report.html", "<p>ok</p>")
PosixPath('report.html')
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: The metadata file :func:`save_model` writes beside the weights when given ``info``.
MODEL_INFO = "interpkit.json"
#: A leftover folder whose owner cannot be checked (written on another machine, or by an
#: interpkit that did not name its process) is removed only when older than this.
STALE_AFTER_S = 3600
_OWNER = re.compile(r"^(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)(?:-|$)")


def _target_file(path: str | os.PathLike[str]) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder: pass a file name such as report.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
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


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- folders


def _owner_tag() -> str:
    """``HOST-PID`` of this process, embedded in the names of its temporary folders."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"
    return f"{host}-{os.getpid()}"


def _pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs on this machine (None: cannot tell here)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
        except psutil.Error:
            return True
    if os.name != "posix":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(path: Path, owner_part: str) -> bool:
    owner = _OWNER.match(owner_part)
    if owner is not None and owner["host"] == _owner_tag().split("-")[0]:
        alive = _pid_alive(int(owner["pid"]))
        if alive is not None:
            return not alive
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_AFTER_S


def sweep_stale_writes(target: str | os.PathLike[str]) -> list[Path]:
    """Remove what an interrupted :func:`atomic_write_dir` of ``target`` left; return it.

    A process killed while saving (SIGKILL, out of memory, power loss) leaves
    ``.NAME.tmp-HOST-PID-…`` (a partial copy) or ``.NAME.old-HOST-PID`` (the copy being
    replaced) beside ``target`` for good. They are removed once their process is gone (checked
    on this machine) or, when that cannot be checked, after :data:`STALE_AFTER_S`. When
    ``target`` itself is missing, a replaced copy left behind is put back instead of removed:
    it is the last complete one. Runs at every save and when a fine_tune run resumes.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.*")):
        rest = path.name[len(target.name) + 2 :]
        if not rest.startswith(("tmp-", "old-")) or not path.is_dir():
            continue
        if not _is_stale(path, rest[4:]):
            continue
        if rest.startswith("old-") and not target.exists():
            os.replace(path, target)
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def atomic_write_dir(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_dir)`` then move ``tmp_dir`` to ``target``, replacing it safely.

    The temporary folders carry this process's host and id, so the next save sweeps the ones a
    killed process left (:func:`sweep_stale_writes`). Returns ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_writes(target)
    owner = _owner_tag()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{owner}-", dir=target.parent))
    try:
        write(tmp)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{owner}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def save_model(
    model: Any,
    tokenizer: Any,
    target: str | os.PathLike[str],
    info: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model (safetensors), its tokenizer and, optionally, ``info`` to ``target``.

    The one way interpkit saves a model (:meth:`interpkit.Classifier.save`, a fine_tune run's
    final model): everything goes to a temporary folder beside ``target`` that is renamed into
    place (:func:`atomic_write_dir`), so an interrupted save never leaves a half-written model
    where a good one was. ``info`` (run settings, metrics) is written as :data:`MODEL_INFO`
    through :func:`to_jsonable`. Returns ``target``.

    Example
    -------
    >>> save_model(clf.model, clf.tokenizer, "runs/my-model", info={"epochs": 2})
    """

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if info is not None:
            text = json.dumps(to_jsonable(dict(info)), indent=2, ensure_ascii=False)
            (tmp / MODEL_INFO).write_text(text, encoding="utf-8")

    return atomic_write_dir(Path(target).expanduser(), write)


# --------------------------------------------------------------------------- json


def to_jsonable(value: Any, *, strict: bool = True) -> Any:
    """Plain JSON types from Python/numpy/pandas values (tuples become lists).

    Non-finite floats (NaN, ±inf) and pandas' missing values become ``None`` (JSON ``null``),
    so every file interpkit writes is valid JSON that any reader parses. ``strict=False``
    keeps non-finite floats as floats: the same plain types for values held in memory (an
    :class:`~interpkit.Explanation`'s parameters and diagnostics), where NaN still means
    "not measured"; they become ``null`` when written.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, strict=strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, strict=strict) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v, strict=strict) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) or not strict else None
    if isinstance(value, str):
        return str(value)  # numpy's str_ too
    if value is None or _is_missing(value):
        return None
    return str(value)


def _is_missing(value: object) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False
    return value is pd.NA or value is pd.NaT
