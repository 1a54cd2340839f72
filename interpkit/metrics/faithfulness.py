"""Faithfulness: does removing the words an explanation ranks highest change the prediction.

Comprehensiveness and sufficiency (DeYoung et al., ERASER, 2020), their AOPC, deletion and
insertion curves (Petsiuk et al. 2018, applied to words) with the area under each, and the
held-out fidelity of LIME's local linear surrogate.

**What "removing" a word means.** Metrics work on interpkit's words (``Explanation.words``,
the units every method scores; ERASER's "tokens"). With ``removal="mask"`` (default) every
sub-word token of a removed word is replaced by the tokenizer's mask token (``[MASK]``), so
the input keeps its length and every other token its position; with ``removal="delete"`` the
word's characters are cut out of the text. Special tokens ([CLS], [SEP]) are never removed.
Truncated texts are scored on the part the model saw.

**Ranking and rounding.** Words are ranked by signed score, highest (most in favour of the
explained class) first; ties keep text order. "k % of the words" is
``round_half_up(k * n_words)`` words, at least one (:func:`n_top`).

**The score.** ``f`` is the explained class's probability (``p(target) - p(contrast)`` for a
contrast explanation). Comprehensiveness at k is ``f(text) - f(text without the top k)``
(higher = more faithful); sufficiency is ``f(text) - f(only the top k)`` (lower = more
faithful). AOPC is their mean over the k's. Both lie in [-1, 1] ([-2, 2] in contrast mode).

Every perturbed text of one explanation (all k's and both curves) is predicted in one
batched, de-duplicated request to a :class:`~interpkit.Predictor`; pass one Predictor (instead
of the classifier) to several calls and the texts they share are predicted once.

Example
-------
>>> e = interpkit.explain(clf, "a wonderful, moving film", method="integrated_gradients")
>>> f = interpkit.faithfulness_scores(clf, e)
>>> f.comprehensiveness_aopc, f.sufficiency_aopc, f.deletion.auc
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..explanation import Explanation
from ..models import Classifier, TruncationWarning
from ..predict import Predictor, TextClassifier, as_predictor
from ..validation import check_choice, check_fraction, check_int_at_least, check_positive_int

#: ERASER's middle bins: 10 to 50 % of the words.
DEFAULT_KS = (0.1, 0.2, 0.3, 0.4, 0.5)
REMOVALS = ("mask", "delete")
#: Default number of steps of the deletion and insertion curves (every word when fewer).
DEFAULT_STEPS = 10


# --------------------------------------------------------------------------- checks and ranks


def check_k(k: object) -> float:
    """``k`` as a float in (0, 1], or a ValueError that says what to pass."""
    return check_fraction("k", k, what="a fraction of the words", hint="pass e.g. 0.2 for 20 %")


def check_ks(ks: float | Iterable[float]) -> tuple[float, ...]:
    """Return ``ks`` as a non-empty tuple of valid fractions."""
    items = (ks,) if isinstance(ks, (int, float, np.number)) else tuple(ks)
    if not items:
        raise ValueError("ks is empty: pass fractions such as (0.1, 0.2, 0.3, 0.4, 0.5)")
    return tuple(check_k(k) for k in items)


def check_explanation(explanation: object) -> Explanation:
    """``explanation`` if it is an Explanation with words, else a clear error."""
    if not isinstance(explanation, Explanation):
        raise TypeError(
            f"expected an interpkit Explanation, got {type(explanation).__name__}: make one "
            "with interpkit.explain(classifier, text, method=...)"
        )
    if not explanation.words:
        raise ValueError("the explanation has no words to remove: explain a text with words")
    return explanation


def _count(fraction: float, n: int) -> int:
    """``fraction * n`` rounded half up (1e-9 absorbs float error: 0.15 * 10 -> 2)."""
    return min(n, int(math.floor(fraction * n + 0.5 + 1e-9)))


def n_top(k: float, n_words: int) -> int:
    """Words in "the top k": ``round_half_up(k * n_words)``, at least 1, at most ``n_words``.

    >>> n_top(0.1, 23), n_top(0.25, 10), n_top(0.5, 1)
    (2, 3, 1)
    """
    return max(1, _count(check_k(k), n_words))


def ranking(explanation: Explanation, by: str = "score") -> np.ndarray:
    """Word indices, highest score first (``by="abs"``: largest magnitude); ties in text order.

    Non-finite scores rank last.
    """
    check_choice("by", by, ("score", "abs"))
    scores = np.asarray(explanation.word_scores, dtype=np.float64)
    key = np.abs(scores) if by == "abs" else scores
    key = np.where(np.isfinite(key), key, -np.inf)
    return np.argsort(-key, kind="stable")


def explained_score(probabilities: np.ndarray, target: int, contrast: int | None) -> np.ndarray:
    """``p(target)`` per row, minus ``p(contrast)`` in contrast mode."""
    probs = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    score = probs[:, target]
    return score if contrast is None else score - probs[:, contrast]


# --------------------------------------------------------------------------- perturbed texts


class Perturber:
    """Builds the texts of one explanation with chosen words removed (see the module notes)."""

    def __init__(
        self,
        classifier: TextClassifier | Predictor,
        explanation: Explanation,
        removal: str = "mask",
    ) -> None:
        check_choice("removal", removal, REMOVALS)
        e = check_explanation(explanation)
        self.explanation = e
        self.removal = removal
        end = max(stop for _, stop in e.word_spans)
        self.text = e.text[:end] if e.truncated else e.text
        counts = np.bincount([w for w in e.token_to_word if w is not None], minlength=len(e.words))
        if removal == "mask":
            if isinstance(classifier, Predictor):
                classifier = classifier.classifier
            mask = getattr(getattr(classifier, "tokenizer", None), "mask_token", None)
            if not mask:
                raise ValueError(
                    "this tokenizer has no mask token, so removal='mask' is impossible: "
                    "pass removal='delete'"
                )
            self.replacements = [" ".join([mask] * max(int(c), 1)) for c in counts]
        else:
            self.replacements = [""] * len(e.words)

    def text_without(self, removed: Iterable[int]) -> str:
        """Return the text with the words in ``removed`` (indices) masked or deleted."""
        removed = set(int(i) for i in removed)
        parts, pos = [], 0
        for i, (start, end) in enumerate(self.explanation.word_spans):
            if i not in removed:
                continue
            parts.append(self.text[pos:start])
            if self.removal == "mask":
                before = " " if start > 0 and not self.text[start - 1].isspace() else ""
                after = " " if end < len(self.text) and not self.text[end].isspace() else ""
                parts.append(before + self.replacements[i] + after)
            pos = end
        parts.append(self.text[pos:])
        out = "".join(parts)
        if self.removal == "delete":
            out = re.sub(r"\s+", " ", out).strip()
        return out


def predict_texts(
    classifier: TextClassifier | Predictor,
    texts: Sequence[str],
    cache: dict[str, np.ndarray] | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Probabilities of ``texts`` in one batched request, each distinct text once (blank allowed).

    ``classifier`` may be a :class:`~interpkit.Predictor` (its memory is used and extended).
    ``cache`` (text -> probabilities) is read and updated too: pass the same dict for several
    explanations of one text and the texts they share (the text itself, the emptied text,
    equal top-k sets) are predicted once.
    """
    return _predict(as_predictor(classifier, batch_size, warn_truncation=False), texts, cache)


def _predict(
    predictor: Predictor, texts: Sequence[str], cache: dict[str, np.ndarray] | None
) -> np.ndarray:
    if cache:
        predictor.remember({t: p for t, p in cache.items() if t not in predictor})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)  # reported when explained
        probs = predictor.predict_proba(list(texts))
    if cache is not None:
        cache.update(zip(texts, probs, strict=True))
    return probs


# --------------------------------------------------------------------------- results


@dataclass
class Curve:
    """A deletion or insertion curve: the explained score as words are removed / inserted.

    ``fractions`` are the fractions of words removed (deletion) or kept (insertion), from 0
    to 1; ``scores`` the explained score there. :attr:`auc` is the trapezoid area over
    [0, 1]: low is faithful for deletion, high for insertion.
    """

    kind: str
    method: str
    fractions: np.ndarray
    scores: np.ndarray

    @property
    def auc(self) -> float:
        """Trapezoid area under the curve over [0, 1]."""
        return float(np.trapezoid(self.scores, self.fractions))

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the curve (stored values, nothing recomputed); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3))
        label = kwargs.pop("label", f"{self.method} (AUC {self.auc:.3f})")
        ax.plot(self.fractions, self.scores, marker=".", label=label, **kwargs)
        what = "removed" if self.kind == "deletion" else "kept (inserted)"
        ax.set_xlabel(f"fraction of words {what}, most important first")
        ax.set_ylabel("explained score")
        ax.set_title(f"{self.kind} curve")
        ax.legend(fontsize=8)
        return ax


@dataclass
class Faithfulness:
    """Comprehensiveness and sufficiency per k, their AOPC, and both curves of one Explanation."""

    method: str
    ks: tuple[float, ...]
    comprehensiveness: np.ndarray
    sufficiency: np.ndarray
    deletion: Curve
    insertion: Curve
    full_score: float
    removal: str
    extras: dict = field(default_factory=dict)

    @property
    def comprehensiveness_aopc(self) -> float:
        """Mean comprehensiveness over the k's (ERASER's AOPC): higher is more faithful."""
        return float(np.mean(self.comprehensiveness))

    @property
    def sufficiency_aopc(self) -> float:
        """Mean sufficiency over the k's: lower is more faithful."""
        return float(np.mean(self.sufficiency))

    def as_dict(self) -> dict[str, float]:
        """Flat numbers for a table row."""
        row = {
            "comprehensiveness": self.comprehensiveness_aopc,
            "sufficiency": self.sufficiency_aopc,
            "deletion_auc": self.deletion.auc,
            "insertion_auc": self.insertion.auc,
        }
        for k, c, s in zip(self.ks, self.comprehensiveness, self.sufficiency, strict=True):
            row[f"comprehensiveness@{k:g}"] = float(c)
            row[f"sufficiency@{k:g}"] = float(s)
        return row


def _curve_counts(n: int, steps: int) -> list[int]:
    """Word counts 0..n at ``steps`` even steps (every count when ``n <= steps``)."""
    steps = check_positive_int("steps", steps)
    return sorted({_count(f, n) for f in np.linspace(0.0, 1.0, int(steps) + 1)})


def faithfulness_scores(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    ks: Sequence[float] = DEFAULT_KS,
    removal: str = "mask",
    steps: int = DEFAULT_STEPS,
    batch_size: int = 64,
    cache: dict[str, np.ndarray] | None = None,
) -> Faithfulness:
    """Every removal metric of one explanation, from one batched prediction call.

    Parameters
    ----------
    classifier : interpkit.Classifier, any TextClassifier, or a Predictor
        The model that was explained (``removal="mask"`` needs its tokenizer's mask token). A
        :class:`~interpkit.Predictor` shares its memory: texts it has seen are not predicted
        again.
    explanation : Explanation
        Any method's explanation (its ``target`` and ``contrast`` say what ``f`` is).
    ks : fractions in (0, 1]
        Sizes of "the top k" (see :func:`n_top` for the rounding).
    removal : {"mask", "delete"}
        How a word is removed (module notes).
    steps : int
        Points of the deletion and insertion curves beyond 0 (every word when fewer words).
    cache : dict, optional
        Predictions to reuse and extend (see :func:`predict_texts`), e.g. shared by the
        methods evaluated on one text.

    Example
    -------
    >>> e = interpkit.explain(clf, "a dull, lifeless film", method="saliency")
    >>> faithfulness_scores(clf, e).comprehensiveness_aopc
    """
    e = check_explanation(explanation)
    ks = check_ks(ks)
    perturber = Perturber(classifier, e, removal)
    order = ranking(e)
    n = len(e.words)
    counts = _curve_counts(n, steps)
    top = [n_top(k, n) for k in ks]
    without = {m: perturber.text_without(order[:m]) for m in set(counts) | set(top)}
    only = {m: perturber.text_without(order[m:]) for m in set(counts) | set(top)}
    texts = [perturber.text, *without.values(), *only.values()]
    predictor = as_predictor(classifier, batch_size, warn_truncation=False)
    before = predictor.texts_predicted
    probs = _predict(predictor, texts, cache)
    todo = predictor.texts_predicted - before
    scores = dict(zip(texts, explained_score(probs, e.target, e.contrast), strict=True))
    full = scores[perturber.text]
    deletion = Curve(
        "deletion",
        e.method,
        np.array([m / n for m in counts]),
        np.array([scores[without[m]] for m in counts]),
    )
    insertion = Curve(
        "insertion",
        e.method,
        np.array([m / n for m in counts]),
        np.array([scores[only[m]] for m in counts]),
    )
    return Faithfulness(
        method=e.method,
        ks=ks,
        comprehensiveness=np.array([full - scores[without[m]] for m in top]),
        sufficiency=np.array([full - scores[only[m]] for m in top]),
        deletion=deletion,
        insertion=insertion,
        full_score=float(full),
        removal=removal,
        extras={"texts": len(set(texts)), "texts_predicted": todo, "top_counts": top},
    )


def comprehensiveness(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    k: float | Sequence[float] = 0.2,
    removal: str = "mask",
) -> float | np.ndarray:
    """``f(text) - f(text without its top-k words)``: a float, or an array for several k's.

    Higher is more faithful: removing what the explanation ranks highest should hurt.
    """
    return _at_k(classifier, explanation, k, removal, "comprehensiveness")


def sufficiency(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    k: float | Sequence[float] = 0.2,
    removal: str = "mask",
) -> float | np.ndarray:
    """``f(text) - f(only its top-k words)``: a float, or an array for several k's.

    Lower is more faithful: the top words alone should keep the prediction.
    """
    return _at_k(classifier, explanation, k, removal, "sufficiency")


def _at_k(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    k: float | Sequence[float],
    removal: str,
    metric: str,
) -> float | np.ndarray:
    """One removal metric at ``k``: a float, or an array for several k's."""
    values = getattr(
        faithfulness_scores(classifier, explanation, check_ks(k), removal, steps=1), metric
    )
    return values if _is_sequence(k) else float(values[0])


def aopc(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    metric: str = "comprehensiveness",
    ks: Sequence[float] = DEFAULT_KS,
    removal: str = "mask",
) -> float:
    """Area over the perturbation curve (ERASER): the mean of ``metric`` over ``ks``."""
    check_choice("metric", metric, ("comprehensiveness", "sufficiency"))
    result = faithfulness_scores(classifier, explanation, ks, removal, steps=1)
    return (
        result.comprehensiveness_aopc if metric == "comprehensiveness" else result.sufficiency_aopc
    )


def deletion_curve(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    steps: int = DEFAULT_STEPS,
    removal: str = "mask",
) -> Curve:
    """Compute the explained score as the top words are removed (AUC: low is good)."""
    return faithfulness_scores(classifier, explanation, (1.0,), removal, steps).deletion


def insertion_curve(
    classifier: TextClassifier | Predictor,
    explanation: Explanation,
    steps: int = DEFAULT_STEPS,
    removal: str = "mask",
) -> Curve:
    """Compute the explained score as the top words are put back (AUC: high is good)."""
    return faithfulness_scores(classifier, explanation, (1.0,), removal, steps).insertion


def _is_sequence(k: object) -> bool:
    return not isinstance(k, (int, float, np.number))


# --------------------------------------------------------------------------- LIME's surrogate


def surrogate_fidelity(
    classifier: Classifier | Predictor,
    text: str,
    explanation: Explanation | None = None,
    holdout: int = 200,
    seed: int = 0,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **lime_options: Any,
) -> dict[str, float]:
    """How well LIME's local linear surrogate predicts the model on *new* perturbations.

    LIME's own R² (``diagnostics["r2"]``) is measured on the samples it was fitted to, so
    it flatters the surrogate (the "local linear explainability" score some audit guides
    quote). Here the surrogate (all words weighted) is fitted as LIME does, then ``holdout``
    fresh perturbations of the same text are drawn the same way (LIME's scheme: remove 1 to
    all words at random), predicted in one batched call, and the surrogate's R² is reported
    on them, weighted by LIME's proximity kernel (``r2_heldout``) and unweighted.

    Parameters
    ----------
    explanation : Explanation, optional
        A LIME explanation of ``text`` with every word weighted (``num_features=None``) to
        reuse, e.g. ``LimeView(...).explanation``; by default one is computed with
        ``options["lime"]``.
    holdout : int
        Held-out perturbations.
    seed : int
        Seeds LIME (unless given in ``options``) and, separately, the held-out draw.
    options : ``{"lime": {option: value}}``, optional
        LIME's options when it is computed here, e.g. ``{"lime": {"n_samples": 500}}``.
        LIME's options as keyword arguments (``**lime_options``) still work, with a
        DeprecationWarning.

    Example
    -------
    >>> surrogate_fidelity(clf, "a wonderful, moving film", options={"lime": {"n_samples": 500}})
    {'r2_train': ..., 'r2_heldout': ..., 'r2_heldout_unweighted': ..., ...}
    """
    from lime.lime_text import IndexedString
    from sklearn.metrics import r2_score
    from sklearn.metrics.pairwise import pairwise_distances

    from ..explainers import explain, method_options

    check_int_at_least("holdout", holdout, 2)
    lime = method_options(["lime"], options, old=lime_options, old_name="**lime_options")["lime"]
    if explanation is None:
        lime.setdefault("seed", seed)
        lime["num_features"] = None
        explanation = explain(classifier, text, method="lime", **lime)
    e = check_explanation(explanation)
    if e.method != "lime" or e.params.get("num_features") not in (None, len(e.words)):
        raise ValueError(
            "surrogate_fidelity needs a LIME explanation with every word weighted: pass one "
            "made with method='lime', num_features=None, or pass none to compute it"
        )
    if e.text != text:
        raise ValueError("the explanation is of another text: pass the text it explains")
    words = list(e.words)
    seen = e.text[: max(stop for _, stop in e.word_spans)] if e.truncated else e.text
    mask = e.params.get("mask_string") or ""
    indexed = IndexedString(seen, split_expression=lambda _raw: list(words), bow=False,
                            mask_string=mask)  # fmt: skip
    d = len(words)
    rng = np.random.default_rng([int(seed), 0x5EED])  # not LIME's stream
    z = np.ones((int(holdout), d))
    texts = []
    for row, size in enumerate(rng.integers(1, d + 1, int(holdout))):
        off = rng.choice(d, int(size), replace=False)
        z[row, off] = 0
        texts.append(indexed.inverse_removing(off))
    probs = predict_texts(classifier, texts)
    y = explained_score(probs, e.target, e.contrast)
    predicted = float(e.diagnostics["intercept"]) + z @ e.word_scores
    distances = pairwise_distances(z, np.ones((1, d)), metric="cosine").ravel() * 100
    width = float(e.params.get("kernel_width", 25.0))
    weights = np.sqrt(np.exp(-(distances**2) / width**2))
    return {
        "r2_train": float(e.diagnostics["r2"]),
        "r2_heldout": float(r2_score(y, predicted, sample_weight=weights)),
        "r2_heldout_unweighted": float(r2_score(y, predicted)),
        "n_words": d,
        "holdout": int(holdout),
        "samples": int(e.params.get("n_samples", e.params.get("num_samples", 0))),
    }
