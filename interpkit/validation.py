"""Argument checks shared by the whole package: one message per kind of mistake.

Every public function checks its arguments here, so the same mistake gets the same one-line
``ValueError``/``TypeError`` that says what was wrong and what to pass instead, wherever it is
made. Nothing here imports torch or transformers.

Example
-------
>>> from interpkit.validation import check_positive_int
>>> check_positive_int("n_steps", 0)
Traceback (most recent call last):
ValueError: n_steps must be a positive integer, got 0
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from numbers import Real

import numpy as np


def is_int(value: object) -> bool:
    """True for Python and numpy integers (``bool`` excluded)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: object) -> bool:
    """True for finite-or-not real numbers (``bool`` excluded)."""
    return isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_))


def check_positive_int(name: str, value: object, allow: Collection[object] = ()) -> int | object:
    """``value`` if it is an integer >= 1 (or one of ``allow``, e.g. "auto"), else ValueError."""
    if isinstance(value, str) or value is None:
        if value in allow:
            return value
    elif is_int(value) and int(value) >= 1:
        return int(value)
    extra = f" or {', '.join(map(repr, allow))}" if allow else ""
    raise ValueError(f"{name} must be a positive integer{extra}, got {value!r}")


def check_non_negative_int(name: str, value: object) -> int:
    """``value`` if it is an integer >= 0, else ValueError."""
    if is_int(value) and int(value) >= 0:
        return int(value)
    raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def check_positive_number(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number > 0, else ValueError."""
    if is_number(value) and math.isfinite(float(value)) and float(value) > 0:
        return float(value)
    raise ValueError(f"{name} must be a positive number, got {value!r}")


def check_non_negative_number(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number >= 0, else ValueError."""
    if is_number(value) and math.isfinite(float(value)) and float(value) >= 0:
        return float(value)
    raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def check_fraction(name: str, value: object, *, closed_low: bool = False) -> float:
    """``value`` as a float in (0, 1] (``closed_low``: [0, 1]), else ValueError."""
    if is_number(value) and math.isfinite(float(value)):
        x = float(value)
        if (0 <= x if closed_low else 0 < x) and x <= 1:
            return x
    interval = "[0, 1]" if closed_low else "(0, 1]"
    raise ValueError(f"{name} must be a number in {interval}, got {value!r}")


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    options = list(choices)
    if value in options:
        return value
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")


def check_texts(texts: object) -> list[str]:
    """``texts`` as a list of non-empty strings (one string or any iterable of them).

    Accepts a string, list, tuple, pandas Series or numpy array of strings.
    """
    if isinstance(texts, str):
        items = [texts]
    elif isinstance(texts, bytes) or not isinstance(texts, Iterable):
        raise TypeError(
            f"texts must be a string or a list of strings, got {type(texts).__name__}: "
            "pass e.g. ['a great film']"
        )
    else:
        items = list(texts)
    if not items:
        raise ValueError("no texts given: pass at least one string, e.g. ['a great film']")
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(
                f"text #{i} is a {type(text).__name__}, not a string: convert it with str() "
                "or drop it"
            )
        if not text.strip():
            where = "text" if len(items) == 1 else f"text #{i}"
            raise ValueError(f"{where} is empty: pass at least one word")
    return items


def resolve_label(labels: Collection[str], label: object) -> int:
    """Index of a class given by name or index in ``labels``; a clear error otherwise."""
    names = list(labels)
    shown = ", ".join(repr(n) for n in names)
    if is_int(label):
        if 0 <= int(label) < len(names):
            return int(label)
        raise ValueError(
            f"label index {label} is out of range: this classifier has {len(names)} classes {shown}"
        )
    if isinstance(label, str) and label in names:
        return names.index(label)
    raise ValueError(f"unknown label {label!r}: this classifier's labels are {shown}")
