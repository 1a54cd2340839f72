"""LIME (Ribeiro et al. 2016) through the ``lime`` package, predicting through a Predictor.

``lime.lime_text.LimeTextExplainer`` removes random subsets of words and fits a weighted
linear surrogate to the model's probabilities. Short texts have few distinct subsets, so many
of the ``n_samples`` perturbed texts repeat: the perturbed texts go through one
:class:`~interpkit.Predictor` (each distinct text predicted once, in length-sorted batches,
its probabilities reused). Pass a Predictor instead of the classifier to share its memory
across explanations or to follow progress through its ``on_batch``. Words are interpkit's
words (the same as every other method's), one feature per occurrence.

Example
-------
>>> e = interpkit.explain(clf, "a wonderful film", method="lime", n_samples=500, seed=0)
>>> e.diagnostics["r2"], e.diagnostics["unique_perturbations"]
"""

from __future__ import annotations

import warnings

import numpy as np

from ..models import Classifier, TruncationWarning
from ..predict import Predictor
from ..validation import check_choice, check_positive_int, check_positive_number
from .base import Attribution, Explainer, Inputs, register
from .scoring import auto_batch_size, describe_output

__all__ = ["FEATURE_SELECTIONS", "Lime", "check_enough_samples"]

#: lime's feature selection methods.
FEATURE_SELECTIONS = ("auto", "forward_selection", "lasso_path", "none", "highest_weights")


@register
class Lime(Explainer):
    """LIME with words as features (the ``lime`` package, batched and de-duplicated).

    Scores are the surrogate's word weights for the target's probability (in contrast mode,
    for ``p(target) - p(contrast)``, fitted directly). Diagnostics: ``r2`` (the surrogate's
    weighted R² on the samples), ``intercept``, ``local_prediction``, and how many perturbed
    texts were distinct (``unique_perturbations``) and predicted.

    Parameters
    ----------
    n_samples : int
        Perturbed texts (lime's neighbourhood size, its ``num_samples``: the former name here,
        still accepted with a DeprecationWarning; the unperturbed text is one of them).
        At least the number of words + 1: the surrogate has one weight per word plus an
        intercept, and fewer samples cannot determine them (with 1, the text alone, every
        weight is 0 and R² undefined; below words + 1 the weights are set by the ridge
        penalty rather than the model). Fewer are refused with a ValueError.
    num_features : int or None
        Words given a weight (lime's feature selection picks them); None = every word.
    seed : int or None
        lime's ``random_state``: the same seed gives the same explanation.
    kernel_width : float
        Width of lime's exponential similarity kernel.
    mask_string : str or None
        What replaces a removed word: None (default) removes it, or e.g. "[MASK]".
    batch_size : int or "auto"
        Texts per forward pass ("auto": up to 64, fewer for long texts to bound memory).
    feature_selection : str
        lime's feature selection ("auto", "forward_selection", "lasso_path", "none",
        "highest_weights").
    """

    name = "lime"
    family = "perturbation"
    renamed = {"num_samples": "n_samples"}

    def __init__(
        self,
        classifier: Classifier | Predictor,
        n_samples: int = 1000,
        num_features: int | None = None,
        seed: int | None = 0,
        kernel_width: float = 25.0,
        mask_string: str | None = None,
        batch_size: int | str = "auto",
        feature_selection: str = "auto",
        **old_names: object,
    ) -> None:
        super().__init__(classifier)
        self._set_params(locals())

    def _check_params(self, params: dict) -> None:
        if params["num_features"] is not None:
            check_positive_int("num_features", params["num_features"])
        check_positive_number("kernel_width", params["kernel_width"])
        if params["mask_string"] is not None and not isinstance(params["mask_string"], str):
            raise ValueError(f"mask_string must be a string or None, got {params['mask_string']!r}")
        check_choice("feature_selection", params["feature_selection"], FEATURE_SELECTIONS)

    def _predictor(self, inputs: Inputs) -> Predictor:
        """Return the Predictor given in place of the classifier, else a new one, told the text."""
        predictor = self.predictor
        if predictor is None:
            predictor = Predictor(self.classifier, warn_truncation=False)
        if not inputs.truncated and inputs.seen_text not in predictor:
            predictor.remember({inputs.seen_text: inputs.probabilities.astype(np.float32)})
        return predictor

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        from lime.lime_text import LimeTextExplainer

        text, words = inputs.seen_text, inputs.words
        check_enough_samples(params["n_samples"], len(words))
        # lime removes words by replacing them with mask_string when bow=False; "" removes.
        mask = "" if params["mask_string"] is None else params["mask_string"]
        explainer = LimeTextExplainer(
            kernel_width=params["kernel_width"],
            class_names=list(self.classifier.labels),
            feature_selection=params["feature_selection"],
            split_expression=lambda _raw: list(words),
            bow=False,
            mask_string=mask,
            random_state=params["seed"],
        )
        batch = auto_batch_size(params["batch_size"], len(inputs.tokens), 64)
        predictor = self._predictor(inputs)
        before = (predictor.texts_requested, predictor.texts_predicted, predictor.model_calls)
        n_labels = len(self.classifier.labels)
        distinct: set[str] = set()

        def classifier_fn(texts: list[str]) -> np.ndarray:
            distinct.update(texts)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TruncationWarning)  # already reported once
                probs = predictor.predict_proba(texts, batch_size=batch)
            if contrast is None:
                return probs
            return np.column_stack([probs, probs[:, target] - probs[:, contrast]])

        label = target if contrast is None else n_labels  # the difference column
        n_features = len(words) if params["num_features"] is None else params["num_features"]
        exp = explainer.explain_instance(
            text,
            classifier_fn,
            labels=(label,),
            num_features=min(n_features, len(words)),
            num_samples=params["n_samples"],
        )
        indexed = exp.domain_mapper.indexed_string
        if indexed.num_words() != len(words):
            raise RuntimeError(
                f"lime split the text into {indexed.num_words()} words, interpkit into "
                f"{len(words)}: please report this text"
            )
        scores = np.zeros(len(words), dtype=np.float64)
        for feature, weight in exp.local_exp[label]:
            scores[int(feature)] = float(weight)
        what = "p" if contrast is None else "p difference"
        diagnostics = {
            "explains": describe_output("probability", self.classifier.labels, target, contrast),
            "r2": float(exp.score),
            "intercept": float(exp.intercept[label]),
            "local_prediction": float(np.ravel(exp.local_pred)[0]),
            "surrogate": f"weighted ridge on {what}",
            "samples": int(params["n_samples"]),
            "evaluations": predictor.texts_requested - before[0],
            "unique_perturbations": len(distinct),
            "predicted": predictor.texts_predicted - before[1],
            "model_calls": predictor.model_calls - before[2],
        }
        return Attribution(scores, level="word", diagnostics=diagnostics)


def check_enough_samples(n_samples: int, n_words: int) -> None:
    """Refuse a neighbourhood too small to fit LIME's surrogate.

    The surrogate has one weight per word and an intercept: ``n_words + 1`` unknowns need as
    many samples.
    """
    needed = n_words + 1
    if n_samples < needed:
        raise ValueError(
            f"n_samples={n_samples} is too few for this text's {n_words} words: LIME fits "
            f"a linear surrogate with one weight per word plus an intercept, which needs at "
            f"least {needed} samples (the text itself and one perturbation per weight); with "
            "fewer the weights come from the ridge penalty, not the model. Pass n_samples="
            f"{max(needed, 1000)} or more (the default is 1000)"
        )


# --------------------------------------------------------------------------- lime's sampler


def perturbation_masks(n_words: int, n_samples: int, seed: int | None = 0) -> np.ndarray:
    """Return the keep (1) / remove (0) masks ``LimeTextExplainer`` draws for ``n_words``.

    Row 0 is the text itself (every word kept). Each other row first draws how many words
    to remove, uniformly from 1 to ``n_words``, then which, uniformly without replacement:
    the same calls on the same ``numpy.random.RandomState(seed)`` as lime 0.2.0.1, so
    ``seed`` gives exactly the samples ``explain(..., method="lime", seed=seed)`` fits.
    Shape ``(n_samples, n_words)``.

    Example
    -------
    >>> perturbation_masks(3, 4, seed=0)
    array([[1., 1., 1.],
           [0., 1., 1.],
           [0., 1., 0.],
           [1., 1., 0.]])
    """
    from sklearn.utils import check_random_state

    check_positive_int("n_words", n_words)
    check_positive_int("n_samples", n_samples)
    rng = check_random_state(seed)  # what lime does with its random_state
    sizes = rng.randint(1, n_words + 1, n_samples - 1)
    masks = np.ones((n_samples, n_words))
    for row, size in enumerate(sizes, start=1):
        masks[row, rng.choice(range(n_words), size, replace=False)] = 0
    return masks


def proximity_weights(masks: np.ndarray, kernel_width: float = 25.0) -> np.ndarray:
    """Return lime's sample weights, ``sqrt(exp(-D**2 / kernel_width**2))``.

    ``D`` is 100 × the cosine distance between a mask and the all-ones mask (the text itself).

    A mask keeping ``m`` of ``d`` words has cosine distance ``1 - sqrt(m / d)``; the factor
    100 is lime's, so with the default width 25 a sample keeping half the words weighs
    about 0.50 and one keeping none 0.0003 (the text itself: 1).
    """
    from sklearn.metrics.pairwise import pairwise_distances

    z = np.atleast_2d(np.asarray(masks, dtype=np.float64))
    distances = pairwise_distances(z, np.ones((1, z.shape[1])), metric="cosine").ravel() * 100
    return np.sqrt(np.exp(-(distances**2) / float(kernel_width) ** 2))


def expected_distinct_perturbations(n_words: int, n_samples: int) -> float:
    """Return the expected number of distinct texts among lime's ``n_samples`` (text included).

    A text of ``d`` words has ``2**d`` keep/remove patterns; lime's sampler gives one that
    removes ``k`` words the probability ``1 / (d * C(d, k))``, so short texts repeat many
    samples (each distinct text is predicted once, see :class:`~interpkit.predict.Predictor`).
    """
    from math import comb

    check_positive_int("n_words", n_words)
    check_positive_int("n_samples", n_samples)
    draws = n_samples - 1
    seen = 1.0  # the text itself is always sample 0
    for k in range(1, n_words + 1):
        patterns = comb(n_words, k)
        p = 1.0 / (n_words * patterns)
        seen += patterns * -np.expm1(draws * np.log1p(-p)) if p < 1 else float(draws > 0)
    return float(seen)
