"""Argument checks shared by the whole package: one message per kind of mistake.

Every public function checks its arguments here, so the same mistake gets the same one-line
``ValueError``/``TypeError`` that says what was wrong and what to pass instead, wherever it is
made. Nothing here imports torch or transformers.

Labels are answered here too, in one place each:

- *which class is this?* :func:`resolve_label` turns a class name or index into the
  classifier's index (predicting, explaining, training, scoring a labelled split);
- *which classes are positive and which negative?* :func:`sentiment_roles` answers it for the
  parts of the audit that are about sentiment (the CheckList templates, fairness, the
  out-of-domain sentiment sets).

A classifier whose two labels are ``negative`` and ``positive`` (in any order and case) is
resolved by itself. Any other label set (3 or 5 classes, topics, ``LABEL_0``/``LABEL_1``,
``neg``/``pos``) is resolved only through a ``label_map`` that names the classes of each role:
one class, ``{"negative": "neg", "positive": "pos"}``, or several,
``{"negative": ["very_negative", "negative"], "positive": ["positive", "very_positive"]}``.
Nothing is guessed: a 5-class model's ``very_positive`` is never scored as "not positive".

Example
-------
>>> from interpkit.validation import check_positive_int
>>> check_positive_int("n_steps", 0)
Traceback (most recent call last):
ValueError: n_steps must be a positive integer, got 0
>>> roles = sentiment_roles(["very_neg", "neg", "neutral", "pos", "very_pos"],
...                         {"negative": ["very_neg", "neg"], "positive": ["pos", "very_pos"]})
>>> roles.positive, roles.role_of(2)
((3, 4), None)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np


def is_int(value: object) -> bool:
    """Tell whether ``value`` is a Python or numpy integer (``bool`` excluded)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: object) -> bool:
    """Tell whether ``value`` is a real number, finite or not (``bool`` excluded)."""
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
    raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


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


def check_fraction(
    name: str,
    value: object,
    *,
    closed_low: bool = False,
    closed_high: bool = True,
    what: str = "a number",
    hint: str = "",
) -> float:
    """``value`` as a float in (0, 1] (``closed_low``: from 0; not ``closed_high``: below 1).

    ``what`` names the quantity in the error (``"a fraction of the words"``); ``hint`` is added
    to it (``"pass e.g. 0.2 for 20 %"``).
    """
    if is_number(value) and math.isfinite(float(value)):
        x = float(value)
        if (0 <= x if closed_low else 0 < x) and (x <= 1 if closed_high else x < 1):
            return x
    interval = ("[" if closed_low else "(") + "0, 1" + ("]" if closed_high else ")")
    extra = f": {hint}" if hint else ""
    raise ValueError(f"{name} must be {what} in {interval}, got {value!r}{extra}")


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    options = list(choices)
    if value in options:
        return value
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")


def check_int_at_least(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum``, else ValueError."""
    if is_int(value) and int(value) >= minimum:
        return int(value)
    raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")


def check_seed(value: object, name: str = "seed") -> int | None:
    """``value`` if it is an integer >= 0, or None (no seed: fresh randomness); else ValueError.

    The one rule for ``seed`` wherever it appears (explainers, views, metrics, the audit).
    """
    if value is None:
        return None
    if is_int(value) and int(value) >= 0:
        return int(value)
    raise ValueError(f"{name} must be a non-negative integer or None, got {value!r}")


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is True or False, else ValueError."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


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


# --------------------------------------------------------------------------- class labels


def _names(labels: Iterable[object]) -> str:
    return ", ".join(repr(str(name)) for name in labels)


def resolve_label(labels: Sequence[str], label: object, where: str = "") -> int:
    """Index of a class given by name (exact, else a unique case-insensitive match) or index.

    ``where`` (e.g. ``"the train split"``) is named in the error for an unknown label.
    """
    names = [str(name) for name in labels]
    if is_int(label):
        if 0 <= int(label) < len(names):
            return int(label)
        raise ValueError(
            f"label index {label} is out of range: this classifier has {len(names)} classes "
            f"{_names(names)}"
        )
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        folded = [i for i, name in enumerate(names) if name.casefold() == label.casefold()]
        if len(folded) == 1:
            return folded[0]
    source = f" in {where}" if where else ""
    raise ValueError(
        f"unknown label {label!r}{source}: this classifier's labels are {_names(names)}"
    )


def resolve_labels(
    labels: Sequence[str],
    values: Iterable[object],
    names: Sequence[str] | None = None,
    where: str = "",
) -> np.ndarray:
    """Return the indices of many labels: names, or integers that index ``names``.

    ``names`` default to ``labels``.

    ``names`` are the data's own class names (a ``ClassLabel``'s), so that integer labels of a
    dataset whose classes are in another order than the classifier's are mapped by name.
    """
    out = []
    for value in values:
        if names is not None and not isinstance(value, str):
            value = str(list(names)[int(value)])
        out.append(resolve_label(labels, value, where))
    return np.array(out, dtype=np.int64)


# --------------------------------------------------------------------------- sentiment roles

#: The two sentiment roles the audit's templates, fairness cases and sentiment sets are labelled
#: with.
ROLES = ("negative", "positive")


@dataclass(frozen=True)
class SentimentRoles:
    """The classes that count as negative and as positive (the rest, e.g. neutral: neither)."""

    labels: tuple[str, ...]
    negative: tuple[int, ...]
    positive: tuple[int, ...]

    def indices(self, role: str) -> tuple[int, ...]:
        """Return the class indices of ``role`` (``"negative"`` or ``"positive"``)."""
        return self.positive if role == "positive" else self.negative

    def role_of(self, index: int) -> str | None:
        """Return ``"negative"``, ``"positive"`` or None for a class in neither role."""
        if int(index) in self.positive:
            return "positive"
        if int(index) in self.negative:
            return "negative"
        return None

    def probability(self, probs: np.ndarray, role: str) -> np.ndarray:
        """Return p(role) per row: the summed probability of the role's classes."""
        return np.asarray(probs)[:, list(self.indices(role))].sum(axis=1)

    def predicted_roles(self, probs: np.ndarray) -> list[str | None]:
        """Return the role of each row's predicted (argmax) class."""
        return [self.role_of(i) for i in np.asarray(probs).argmax(axis=1)]

    def describe(self) -> str:
        """Describe the roles for reports: ``"negative = 'neg'; positive = 'pos', 'v_pos'"``."""
        return "; ".join(
            f"{role} = {_names(self.labels[i] for i in self.indices(role))}" for role in ROLES
        )


def is_sentiment_pair(labels: Sequence[str]) -> bool:
    """Return True for exactly two labels named negative and positive (any order, any case)."""
    return len(labels) == 2 and {str(x).casefold() for x in labels} == set(ROLES)


def normalise_label_map(
    labels: Sequence[str], label_map: Mapping[str, object] | None
) -> dict[str, tuple[int, ...]]:
    """Return ``label_map`` as ``{key: class indices}``, every class checked, or a clear error.

    Values are one class name or a list of class names of the classifier.
    """
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise TypeError(
            f"label_map must be a dict such as {{'negative': 'neg', 'positive': 'pos'}}, got "
            f"{type(label_map).__name__}"
        )
    out = {}
    for key, value in label_map.items():
        targets = [value] if isinstance(value, str) else value
        if not isinstance(targets, (list, tuple)) or not targets:
            raise TypeError(
                f"label_map[{key!r}] must be a class name or a non-empty list of class names, "
                f"got {value!r}"
            )
        indices = []
        for target in targets:
            try:
                indices.append(resolve_label(labels, str(target)))
            except ValueError:
                raise ValueError(
                    f"label_map[{key!r}] names {target!r}, which is not a class of this "
                    f"classifier: its labels are {_names(labels)}"
                ) from None
        out[str(key)] = tuple(sorted(set(indices)))
    return out


def sentiment_roles(
    labels: Sequence[str], label_map: Mapping[str, object] | None = None
) -> SentimentRoles:
    """Find the negative and positive classes of ``labels``, or say what to pass.

    From ``label_map["negative"]`` and ``label_map["positive"]`` when given (both needed, no
    class in both); otherwise only a two-class negative/positive classifier resolves.
    """
    labels = tuple(str(x) for x in labels)
    mapping = normalise_label_map(labels, label_map)
    given = [role for role in ROLES if role in mapping]
    if len(given) == 1:
        missing = next(role for role in ROLES if role not in mapping)
        raise ValueError(
            f"label_map names the {given[0]!r} classes but not the {missing!r} ones: the "
            f"sentiment steps need both (this classifier's labels are {_names(labels)})"
        )
    if given:
        both = set(mapping["negative"]) & set(mapping["positive"])
        if both:
            raise ValueError(
                f"label_map puts {_names(labels[i] for i in sorted(both))} in both 'negative' and "
                "'positive': give each class at most one role"
            )
        return SentimentRoles(labels, mapping["negative"], mapping["positive"])
    if is_sentiment_pair(labels):
        folded = [x.casefold() for x in labels]
        return SentimentRoles(labels, (folded.index("negative"),), (folded.index("positive"),))
    raise ValueError(
        f"this classifier's labels {_names(labels)} are not a negative/positive pair, so the "
        "sentiment tests cannot tell which classes are positive: pass label_map={'negative': "
        "[<negative classes>], 'positive': [<positive classes>]} naming its classes"
    )


def find_sentiment_roles(
    labels: Sequence[str], label_map: Mapping[str, object] | None = None
) -> SentimentRoles | None:
    """Return :func:`sentiment_roles`, or None when the labels have no negative/positive pair.

    A ``label_map`` that is wrong (unknown class, one role only, overlap) still raises.
    """
    mapping = normalise_label_map(labels, label_map)
    if any(role in mapping for role in ROLES) or is_sentiment_pair(labels):
        return sentiment_roles(labels, label_map)
    return None


def target_indices(
    labels: Sequence[str], name: object, label_map: Mapping[str, object] | None = None
) -> tuple[int, ...]:
    """Return the classes a test's expected label ``name`` stands for, as indices.

    In order: a ``label_map`` key; a role (``"negative"``/``"positive"``, resolved by
    :func:`sentiment_roles`); a class of the classifier. A role on a classifier without a
    negative/positive pair is an error, never a guess.
    """
    mapping = normalise_label_map(labels, label_map)
    if str(name) in mapping:
        return mapping[str(name)]
    if str(name).casefold() in ROLES:
        return sentiment_roles(labels, label_map).indices(str(name).casefold())
    try:
        return (resolve_label(labels, name),)
    except ValueError:
        raise ValueError(
            f"the test expects class {name!r}, but this classifier's labels are "
            f"{_names(labels)}: pass label_map={{{str(name)!r}: '<your class>', ...}}"
        ) from None
