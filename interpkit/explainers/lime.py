"""LIME (Ribeiro et al. 2016) through the ``lime`` package, with a batched, de-duplicating
classifier function.

``lime.lime_text.LimeTextExplainer`` removes random subsets of words and fits a weighted
linear surrogate to the model's probabilities. Short texts have few distinct subsets, so many
of the ``num_samples`` perturbed texts repeat: each distinct text is predicted once (in
length-sorted batches through :meth:`Classifier.predict_proba`) and its probabilities reused.
Words are interpkit's words (the same as every other method's), one feature per occurrence.

Example
-------
>>> e = interpkit.explain(clf, "a wonderful film", method="lime", num_samples=500, seed=0)
>>> e.diagnostics["r2"], e.diagnostics["unique_perturbations"]
"""

from __future__ import annotations

import warnings

import numpy as np

from ..models import TruncationWarning
from .base import Attribution, Explainer, check_positive_int, register
from .scoring import auto_batch_size, describe_output


class CachedPredictor:
    """A ``classifier_fn`` for lime: predicts each distinct text once, in batches.

    ``known`` seeds the cache (e.g. the unperturbed text, already predicted). ``calls`` counts
    calls to ``predict_proba`` and ``predicted`` the texts sent to it.
    """

    def __init__(self, classifier, batch_size: int = 64, known: dict | None = None):
        self.classifier = classifier
        self.batch_size = batch_size
        self.cache: dict[str, np.ndarray] = dict(known or {})
        self.calls = 0
        self.predicted = 0
        self.requested = 0

    def __call__(self, texts) -> np.ndarray:
        texts = list(texts)
        self.requested += len(texts)
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        # Removing every word can leave an empty or blank text; the model still has an
        # answer for it ([CLS] [SEP]), but as_text_list rejects blank input, so send "".
        real = [t for t in todo if t.strip()]
        if real:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TruncationWarning)  # already reported once
                probs = self.classifier.predict_proba(real, batch_size=self.batch_size)
            self.calls += 1
            self.predicted += len(real)
            self.cache.update(zip(real, probs, strict=True))
        blanks = [t for t in todo if not t.strip()]
        if blanks:
            probs = _predict_empty(self.classifier)
            self.calls += 1
            self.predicted += 1
            self.cache.update({t: probs for t in blanks})
        return np.stack([self.cache[t] for t in texts])


def _predict_empty(classifier) -> np.ndarray:
    import torch

    enc = classifier.tokenizer([""], return_tensors="pt").to(classifier.device)
    with torch.no_grad():
        logits = classifier.model(**enc).logits.float()
    return torch.softmax(logits, -1)[0].cpu().numpy()


@register
class Lime(Explainer):
    """LIME with words as features (the ``lime`` package, batched and de-duplicated).

    Scores are the surrogate's word weights for the target's probability (in contrast mode,
    for ``p(target) - p(contrast)``, fitted directly). Diagnostics: ``r2`` (the surrogate's
    weighted R² on the samples), ``intercept``, ``local_prediction``, and how many perturbed
    texts were distinct (``unique_perturbations``) and predicted.

    Parameters
    ----------
    num_samples : int
        Perturbed texts (lime's neighbourhood size; the unperturbed text is one of them).
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

    def __init__(
        self,
        classifier,
        num_samples: int = 1000,
        num_features: int | None = None,
        seed: int | None = 0,
        kernel_width: float = 25.0,
        mask_string: str | None = None,
        batch_size: int | str = "auto",
        feature_selection: str = "auto",
    ) -> None:
        super().__init__(classifier)
        self.num_samples = num_samples
        self.num_features = num_features
        self.seed = seed
        self.kernel_width = kernel_width
        self.mask_string = mask_string
        self.batch_size = batch_size
        self.feature_selection = feature_selection

    def _check_params(self, params: dict) -> None:
        check_positive_int("num_samples", params["num_samples"])
        check_positive_int("batch_size", params["batch_size"], allow=("auto",))
        if params["num_features"] is not None:
            check_positive_int("num_features", params["num_features"])
        width = params["kernel_width"]
        if isinstance(width, bool) or not isinstance(width, (int, float)) or width <= 0:
            raise ValueError(f"kernel_width must be a positive number, got {width!r}")
        if params["mask_string"] is not None and not isinstance(params["mask_string"], str):
            raise ValueError(f"mask_string must be a string or None, got {params['mask_string']!r}")
        choices = ("auto", "forward_selection", "lasso_path", "none", "highest_weights")
        if params["feature_selection"] not in choices:
            raise ValueError(
                f"feature_selection must be one of {', '.join(choices)}, "
                f"got {params['feature_selection']!r}"
            )

    def _attribute(self, inputs, target, contrast, params) -> Attribution:
        from lime.lime_text import LimeTextExplainer

        text, words = inputs.seen_text, inputs.words
        check_enough_samples(params["num_samples"], len(words))
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
        known = {} if inputs.truncated else {text: inputs.probabilities.astype(np.float32)}
        batch = auto_batch_size(params["batch_size"], len(inputs.tokens), 64)
        predictor = CachedPredictor(self.classifier, batch, known)
        n_labels = len(self.classifier.labels)

        def classifier_fn(texts):
            probs = predictor(texts)
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
            num_samples=params["num_samples"],
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
            "samples": int(params["num_samples"]),
            "unique_perturbations": len(predictor.cache),
            "predicted": predictor.predicted,
            "model_calls": predictor.calls,
        }
        return Attribution(scores, level="word", diagnostics=diagnostics)


def check_enough_samples(num_samples: int, n_words: int) -> None:
    """Refuse a neighbourhood too small to fit LIME's surrogate (one weight per word and an
    intercept: ``n_words + 1`` unknowns need as many samples)."""
    needed = n_words + 1
    if num_samples < needed:
        raise ValueError(
            f"num_samples={num_samples} is too few for this text's {n_words} words: LIME fits "
            f"a linear surrogate with one weight per word plus an intercept, which needs at "
            f"least {needed} samples (the text itself and one perturbation per weight); with "
            "fewer the weights come from the ridge penalty, not the model. Pass num_samples="
            f"{max(needed, 1000)} or more (the default is 1000)"
        )


# --------------------------------------------------------------------------- lime's sampler


def perturbation_masks(n_words: int, n_samples: int, seed: int | None = 0) -> np.ndarray:
    """The keep (1) / remove (0) masks ``LimeTextExplainer`` draws for a text of ``n_words``.

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


def proximity_weights(masks, kernel_width: float = 25.0) -> np.ndarray:
    """lime's sample weights: ``sqrt(exp(-D**2 / kernel_width**2))`` with ``D`` = 100 × the
    cosine distance between a mask and the all-ones mask (the text itself).

    A mask keeping ``m`` of ``d`` words has cosine distance ``1 - sqrt(m / d)``; the factor
    100 is lime's, so with the default width 25 a sample keeping half the words weighs
    about 0.50 and one keeping none 0.0003 (the text itself: 1).
    """
    from sklearn.metrics.pairwise import pairwise_distances

    z = np.atleast_2d(np.asarray(masks, dtype=np.float64))
    distances = pairwise_distances(z, np.ones((1, z.shape[1])), metric="cosine").ravel() * 100
    return np.sqrt(np.exp(-(distances**2) / float(kernel_width) ** 2))


def expected_distinct_perturbations(n_words: int, n_samples: int) -> float:
    """The expected number of distinct texts among lime's ``n_samples`` (the text included).

    A text of ``d`` words has ``2**d`` keep/remove patterns; lime's sampler gives one that
    removes ``k`` words the probability ``1 / (d * C(d, k))``, so short texts repeat many
    samples (each distinct text is predicted once, see :class:`CachedPredictor`).
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
