"""The one prediction seam: what a classifier is, and one memoising predictor over it.

Everything in interpkit that only needs predictions (LIME, Shapley sampling, the faithfulness
metrics, the audit, progress bars in the views) asks a :class:`Predictor`, never the model
directly. A :class:`TextClassifier` is anything with class names and batched probabilities:
an :class:`interpkit.Classifier`, a keyword model in a test, a wrapped scikit-learn pipeline.

The Predictor predicts each distinct text once (de-duplicated within a call, memoised across
calls) and sends the new texts of a request to the classifier sorted by length (little
padding): in one call (the classifier's ``predict_proba`` batches them by ``batch_size``), or,
when ``on_batch`` is given, one call per batch of ``batch_size`` texts with
``on_batch(done, total)`` after each, so progress bars hook in here rather than through a
proxy classifier.

Example
-------
>>> from interpkit.predict import Predictor
>>> model = Predictor(clf)                 # clf: any TextClassifier
>>> p = model.predict_proba(["a great film", "a dull film", "a great film"])
>>> model.texts_predicted                  # the repeated text was predicted once
2
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .validation import check_positive_int

#: ``on_batch(done, total)``: texts predicted so far in this request, and the request's size.
BatchCallback = Callable[[int, int], None]


@runtime_checkable
class TextClassifier(Protocol):
    """What interpkit needs of a classifier: class names and batched class probabilities.

    ``predict_proba(texts, batch_size)`` returns an array of shape ``(len(texts), len(labels))``
    whose rows are probability distributions, in the order of ``texts``.
    """

    labels: Sequence[str]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities of ``texts``, one row per text."""
        ...


def check_classifier(classifier: object, action: str = "used as a text classifier") -> None:
    """Raise a clear error unless ``classifier`` is a :class:`TextClassifier`.

    ``action`` completes the error's first words, e.g. ``"audited"``: "str cannot be audited".
    """
    if isinstance(classifier, Predictor):
        return
    missing = [a for a in ("predict_proba", "labels") if not hasattr(classifier, a)]
    if missing:
        raise TypeError(
            f"{type(classifier).__name__} cannot be {action}: it has no "
            f"{' or '.join(missing)}. Pass an interpkit.Classifier (load_classifier(), "
            "demo_classifier()) or an object with predict_proba(texts, batch_size) and labels "
            "(see interpkit.TextClassifier)"
        )
    if len(classifier.labels) < 2:
        raise ValueError(f"a classifier needs at least two labels, got {classifier.labels!r}")


class Predictor:
    """Memoised, de-duplicated, length-batched ``predict_proba`` over a :class:`TextClassifier`.

    Parameters
    ----------
    classifier : TextClassifier
        The model asked for new texts.
    batch_size : int
        Texts per forward pass: passed to the classifier's ``predict_proba``.
    on_batch : callable, optional
        ``on_batch(done, total)`` after each batch of a request (progress bars). Without it,
        all new texts of a request go to the classifier in one call, which batches them.
    warn_truncation : bool
        False silences the classifier's :class:`~interpkit.TruncationWarning` (for perturbed
        copies of a text whose truncation was already reported).

    Blank texts (a perturbation that removed every word) are allowed: an interpkit
    :class:`~interpkit.Classifier` predicts them as ``[CLS] [SEP]``; other classifiers get ``""``.
    ``model_calls``, ``texts_requested`` and ``texts_predicted`` count the work done.
    """

    def __init__(
        self,
        classifier: TextClassifier,
        batch_size: int = 64,
        on_batch: BatchCallback | None = None,
        warn_truncation: bool = True,
    ) -> None:
        check_classifier(classifier)
        check_positive_int("batch_size", batch_size)
        if isinstance(classifier, Predictor):
            classifier = classifier.classifier
        self.classifier = classifier
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.warn_truncation = warn_truncation
        self.labels = tuple(classifier.labels)
        self.model_calls = 0
        self.texts_requested = 0
        self.texts_predicted = 0
        self._cache: dict[str, np.ndarray] = {}
        self._blank: np.ndarray | None = None  # the answer for a text without words

    @property
    def name(self) -> str:
        """The classifier's display name (its ``name`` attribute, else its type)."""
        return str(getattr(self.classifier, "name", type(self.classifier).__name__))

    @property
    def num_labels(self) -> int:
        """Number of classes."""
        return len(self.labels)

    def __contains__(self, text: object) -> bool:
        """Whether ``text``'s probabilities are remembered (asking for it costs nothing)."""
        return text in self._cache

    def __len__(self) -> int:
        """How many distinct texts are remembered."""
        return len(self._cache)

    def __bool__(self) -> bool:
        """Return True: a Predictor with an empty memory is still a predictor."""
        return True

    def remember(self, predictions: dict[str, np.ndarray]) -> None:
        """Seed the memory with known predictions (e.g. the unperturbed text's)."""
        for text, probs in predictions.items():
            self._cache[str(text)] = np.asarray(probs, dtype=np.float64)

    def predict_proba(self, texts: Iterable[str], batch_size: int | None = None) -> np.ndarray:
        """Probabilities of ``texts`` (rows in order); each distinct unseen text predicted once."""
        items = [texts] if isinstance(texts, str) else [str(t) for t in texts]
        self.texts_requested += len(items)
        if not items:
            return np.zeros((0, self.num_labels), dtype=np.float64)
        new = list(dict.fromkeys(t for t in items if t not in self._cache))
        if new:
            self._predict_new(new, batch_size or self.batch_size)
        return np.stack([self._cache[t] for t in items])

    def predict(self, texts: Iterable[str]) -> list[str]:
        """Predicted label name of each text."""
        probs = self.predict_proba(texts)
        return [self.labels[i] for i in probs.argmax(axis=1)]

    def _predict_new(self, new: list[str], batch_size: int) -> None:
        order = sorted(range(len(new)), key=lambda i: len(new[i]))
        step = batch_size if self.on_batch is not None else len(order)
        done = 0
        for start in range(0, len(order), step):
            batch = [new[i] for i in order[start : start + step]]
            real = [t for t in batch if t.strip()]
            if real:
                self._store(real, self._ask(real, batch_size))
            blanks = [t for t in batch if not t.strip()]
            if blanks:
                self._store(blanks, np.repeat(self._predict_blank()[None], len(blanks), axis=0))
            done += len(batch)
            if self.on_batch is not None:
                self.on_batch(done, len(new))

    def _ask(self, texts: list[str], batch_size: int) -> np.ndarray:
        with warnings.catch_warnings():
            if not self.warn_truncation:
                from .models import TruncationWarning

                warnings.simplefilter("ignore", TruncationWarning)
            probs = np.asarray(
                self.classifier.predict_proba(texts, batch_size=batch_size), dtype=np.float64
            )
        self.model_calls += 1
        if probs.shape != (len(texts), self.num_labels):
            raise ValueError(
                f"predict_proba returned shape {probs.shape} for {len(texts)} texts and "
                f"{self.num_labels} labels: expected ({len(texts)}, {self.num_labels})"
            )
        return probs

    def _store(self, texts: list[str], probs: np.ndarray) -> None:
        self.texts_predicted += len(texts)
        self._cache.update(zip(texts, probs, strict=True))

    def _predict_blank(self) -> np.ndarray:
        if self._blank is None:
            predict_empty = getattr(self.classifier, "predict_empty", None)
            if predict_empty is not None:
                self.model_calls += 1
                self._blank = np.asarray(predict_empty(), dtype=np.float64)
            else:
                self._blank = self._ask([""], 1)[0]
        return self._blank

    def __repr__(self) -> str:
        """Name, how many texts are remembered, how many model calls were made."""
        return f"Predictor({self.name!r}, remembered={len(self)}, model_calls={self.model_calls})"


def as_predictor(
    classifier: TextClassifier | Predictor,
    batch_size: int = 64,
    on_batch: BatchCallback | None = None,
    warn_truncation: bool = True,
) -> Predictor:
    """``classifier`` itself when it is already a Predictor (its memory is shared), else a new one.

    Pass one Predictor to several functions and no text is predicted twice between them.
    """
    if isinstance(classifier, Predictor):
        return classifier
    return Predictor(classifier, batch_size, on_batch=on_batch, warn_truncation=warn_truncation)
