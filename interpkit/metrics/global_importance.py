"""Global view: which words drive each class over a whole dataset split.

Each text is explained for its predicted class (or a class you give); every word occurrence
adds its attribution to that class's tally. Per class and (lower-cased) word we keep the
``count`` of occurrences, the ``mean`` attribution and the ``total`` (= mean × count, the
frequency-weighted attribution). Ranking by ``mean`` finds words that matter strongly when
they occur (rare words dominate unless ``min_count`` filters them); ranking by ``total`` finds
the words that matter most for the model's behaviour over the data.

Example
-------
>>> val = interpkit.load_dataset()["validation"].select(range(200))
>>> g = interpkit.global_importance(clf, val["text"], method="input_x_gradient")
>>> g.top("positive", k=10, by="total")
>>> g.plot()
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..explanation import Explanation
from ..models import Classifier, TruncationWarning
from ..predict import Predictor, TextClassifier
from ..validation import check_choice, check_positive_int

if TYPE_CHECKING:
    import pandas as pd

BY = ("mean", "total")
_HAS_WORD_CHAR = re.compile(r"\w")


@dataclass
class GlobalImportance:
    """Word attributions aggregated per class; ``frame`` has one row per (class, word).

    Columns: ``label``, ``word``, ``count``, ``mean``, ``total``. :meth:`top` ranks,
    :meth:`plot` draws from the stored values (nothing is recomputed).
    """

    frame: pd.DataFrame
    method: str
    labels: tuple[str, ...]
    n_texts: int
    min_count: int

    def top(
        self, label: str, k: int = 10, by: str = "mean", min_count: int | None = None
    ) -> pd.DataFrame:
        """Return the ``k`` words with the highest ``by`` for ``label`` (count ≥ ``min_count``)."""
        check_choice("by", by, BY)
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}: labels are {', '.join(self.labels)}")
        check_positive_int("k", k)
        floor = self.min_count if min_count is None else min_count
        rows = self.frame[(self.frame["label"] == label) & (self.frame["count"] >= floor)]
        rows = rows.sort_values([by, "word"], ascending=[False, True], kind="stable")
        return rows.head(k).reset_index(drop=True)

    def plot(
        self,
        k: int = 10,
        by: str = "total",
        axes: Any = None,
    ) -> np.ndarray:
        """One bar chart per class: its top ``k`` words by ``by``, counts beside the bars."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(
                1, len(self.labels), figsize=(4.2 * len(self.labels), 0.3 * k + 1.2)
            )
        axes = np.atleast_1d(axes)
        for ax, label in zip(axes, self.labels, strict=False):
            top = self.top(label, k, by)
            y = np.arange(len(top))
            ax.barh(y, top[by], color="#d62728")
            ax.set_yticks(
                y, [f"{w}  (n={c})" for w, c in zip(top["word"], top["count"], strict=True)]
            )
            ax.invert_yaxis()
            ax.set_title(f"{label}: top words by {by}")
            ax.set_xlabel(f"{by} attribution ({self.method})")
        return axes

    def _repr_html_(self) -> str:
        """Each class's top words by total attribution, escaped."""
        from .. import render

        parts = [
            f'<div style="{render.FONT}"><b>global importance</b> · '
            f"{render.escape(self.method)} · {self.n_texts} texts · words seen at least "
            f"{self.min_count} times</div>"
        ]
        for label in self.labels:
            top = self.top(label, 10, "total")
            parts.append(
                f'<div style="{render.MUTED}">{render.escape(label)}: '
                + render.escape(
                    ", ".join(f"{w} ({c})" for w, c in zip(top["word"], top["count"], strict=True))
                )
                + "</div>"
            )
        return "".join(parts)

    def __repr__(self) -> str:
        """Show the method, the number of texts and of distinct words."""
        return (
            f"GlobalImportance(method={self.method!r}, n_texts={self.n_texts}, "
            f"words={self.frame['word'].nunique()})"
        )


def global_importance(
    classifier: Classifier | Predictor | TextClassifier,
    texts: Iterable[str] | None = None,
    method: str = "integrated_gradients",
    explanations: Iterable[Explanation] | None = None,
    min_count: int = 3,
    lowercase: bool = True,
    punctuation: bool = False,
    progress: bool = True,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **old_options: Any,
) -> GlobalImportance:
    """Aggregate word attributions over a dataset split, per explained class.

    Parameters
    ----------
    classifier : interpkit.Classifier (or a Predictor over one); with ``explanations`` only
        its ``labels`` are read, so any TextClassifier will do
    texts : list of str or a split with a ``text`` column (explained with ``method``)
    method : the explainer to use
    explanations : Explanations you already have (e.g. ``results["explanation"]`` of one
        method from :func:`evaluate_explanations`): used instead of ``texts``
    min_count : words seen fewer times are left out of :meth:`GlobalImportance.top` by default
    lowercase : merge "Film" and "film"
    punctuation : keep words without a letter or digit ("," "!")
    progress : show a progress bar over the texts
    options : ``{method: {option: value}}``, the method's options, e.g.
        ``{"integrated_gradients": {"n_steps": 32}}`` (as keyword arguments they still work,
        with a DeprecationWarning)

    Example
    -------
    >>> g = global_importance(clf, texts, method="input_x_gradient")
    >>> g.top("negative", by="mean")
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from ..explainers import explain, method_options
    from .evaluation import _texts

    if (texts is None) == (explanations is None):
        raise ValueError("pass either texts (to explain) or explanations (already made)")
    check_positive_int("min_count", min_count)
    if explanations is None:
        opts = method_options([method], options, old=old_options)[method]
        items = _texts(texts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)
            explanations = [
                explain(classifier, t, method=method, **opts)
                for t in tqdm(items, desc="texts", unit="text", disable=not progress)
            ]
    explanations = list(explanations)
    if not explanations:
        raise ValueError("no explanations: pass at least one text")
    methods = {e.method for e in explanations}
    if len(methods) != 1:
        raise ValueError(
            f"explanations mix methods {sorted(methods)}: aggregate one method at a time"
        )
    records = []
    for e in explanations:
        for word, score in zip(e.words, e.word_scores, strict=True):
            if not punctuation and not _HAS_WORD_CHAR.search(word):
                continue
            records.append((e.target_label, word.lower() if lowercase else word, float(score)))
    frame = pd.DataFrame(records, columns=["label", "word", "score"])
    frame = (
        frame.groupby(["label", "word"], sort=True)["score"]
        .agg(count="count", mean="mean", total="sum")
        .reset_index()
    )
    return GlobalImportance(
        frame=frame,
        method=methods.pop(),
        labels=tuple(classifier.labels),
        n_texts=len(explanations),
        min_count=int(min_count),
    )
