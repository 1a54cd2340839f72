"""Label names to class indices, and which classes are "negative" and "positive": one place.

Two questions come up wherever labels meet a model, and both are answered here only:

- *which class is this?* :func:`class_index` turns a class name or index into the classifier's
  index (predicting, explaining, training, scoring a labelled split);
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
>>> roles = sentiment_roles(["very_neg", "neg", "neutral", "pos", "very_pos"],
...                         {"negative": ["very_neg", "neg"], "positive": ["pos", "very_pos"]})
>>> roles.positive, roles.role_of(2)
((3, 4), None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: The two sentiment roles the audit's templates, fairness cases and sentiment sets are labelled
#: with.
ROLES = ("negative", "positive")


def _names(labels: Sequence[str]) -> str:
    return ", ".join(repr(str(name)) for name in labels)


def class_index(labels: Sequence[str], label, where: str = "") -> int:
    """Index of a class given by name (exact, else a unique case-insensitive match) or index.

    ``where`` (e.g. ``"the train split"``) is named in the error for an unknown label.
    """
    labels = [str(name) for name in labels]
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        if 0 <= int(label) < len(labels):
            return int(label)
        raise ValueError(
            f"label index {label} is out of range: this classifier has {len(labels)} classes "
            f"{_names(labels)}"
        )
    if isinstance(label, str):
        if label in labels:
            return labels.index(label)
        folded = [i for i, name in enumerate(labels) if name.casefold() == label.casefold()]
        if len(folded) == 1:
            return folded[0]
    source = f" in {where}" if where else ""
    raise ValueError(
        f"unknown label {label!r}{source}: this classifier's labels are {_names(labels)}"
    )


def class_indices(labels: Sequence[str], values, names=None, where: str = "") -> np.ndarray:
    """Indices of many labels: names, or integers that index ``names`` (default: ``labels``).

    ``names`` are the data's own class names (a ``ClassLabel``'s), so that integer labels of a
    dataset whose classes are in another order than the classifier's are mapped by name.
    """
    out = []
    for value in values:
        if names is not None and not isinstance(value, str):
            value = str(list(names)[int(value)])
        out.append(class_index(labels, value, where))
    return np.array(out, dtype=np.int64)


# --------------------------------------------------------------------------- sentiment roles


@dataclass(frozen=True)
class SentimentRoles:
    """The classes that count as negative and as positive (the rest, e.g. neutral: neither)."""

    labels: tuple[str, ...]
    negative: tuple[int, ...]
    positive: tuple[int, ...]

    def indices(self, role: str) -> tuple[int, ...]:
        return self.positive if role == "positive" else self.negative

    def role_of(self, index: int) -> str | None:
        """``"negative"``, ``"positive"`` or None for a class in neither role."""
        if int(index) in self.positive:
            return "positive"
        if int(index) in self.negative:
            return "negative"
        return None

    def probability(self, probs: np.ndarray, role: str) -> np.ndarray:
        """p(role) per row: the summed probability of the role's classes."""
        return np.asarray(probs)[:, list(self.indices(role))].sum(axis=1)

    def predicted_roles(self, probs: np.ndarray) -> list[str | None]:
        """The role of each row's predicted (argmax) class."""
        return [self.role_of(i) for i in np.asarray(probs).argmax(axis=1)]

    def describe(self) -> str:
        """``"negative = 'neg'; positive = 'pos', 'very_pos'"``, for reports."""
        return "; ".join(
            f"{role} = {_names(self.labels[i] for i in self.indices(role))}" for role in ROLES
        )


def is_sentiment_pair(labels: Sequence[str]) -> bool:
    """True for exactly two labels named negative and positive (any order, any case)."""
    return len(labels) == 2 and {str(x).casefold() for x in labels} == set(ROLES)


def normalise_label_map(labels: Sequence[str], label_map: Mapping | None) -> dict:
    """``label_map`` as ``{key: tuple of class indices}``, every class checked, or a clear error.

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
                indices.append(class_index(labels, str(target)))
            except ValueError:
                raise ValueError(
                    f"label_map[{key!r}] names {target!r}, which is not a class of this "
                    f"classifier: its labels are {_names(labels)}"
                ) from None
        out[str(key)] = tuple(sorted(set(indices)))
    return out


def sentiment_roles(labels: Sequence[str], label_map: Mapping | None = None) -> SentimentRoles:
    """The negative and positive classes of ``labels``, or a ValueError that says what to pass.

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
    labels: Sequence[str], label_map: Mapping | None = None
) -> SentimentRoles | None:
    """:func:`sentiment_roles`, or None when the labels simply have no negative/positive pair.

    A ``label_map`` that is wrong (unknown class, one role only, overlap) still raises.
    """
    mapping = normalise_label_map(labels, label_map)
    if any(role in mapping for role in ROLES) or is_sentiment_pair(labels):
        return sentiment_roles(labels, label_map)
    return None


def target_indices(labels: Sequence[str], name, label_map: Mapping | None = None):
    """The classes a test's expected label ``name`` stands for, as a tuple of indices.

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
        return (class_index(labels, name),)
    except ValueError:
        raise ValueError(
            f"the test expects class {name!r}, but this classifier's labels are "
            f"{_names(labels)}: pass label_map={{{str(name)!r}: '<your class>', ...}}"
        ) from None
