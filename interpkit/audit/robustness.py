"""Robustness: random typos and word dropout, and an explanation-guided adversarial search.

Random perturbations measure how often small, meaning-preserving noise flips a prediction
(the *flip rate*). The adversarial search ("adversarial instance" analysis) asks a stronger
question: what is the smallest edit that flips each prediction? It ranks the words of a text by
an explanation (Integrated Gradients, LIME, ... through :func:`interpkit.explain`), edits the
words that most support the predicted class first (delete them, or misspell them), and keeps the
edit that flips the prediction with the fewest words changed. Running the same search with a
random word order shows how much the explanation helps.

Example
-------
>>> rob = robustness(clf, texts, n_variants=3)
>>> rob.groupby("perturbation")["flipped"].mean()          # flip rates
>>> adv = adversarial_search(clf, texts[:20], method="integrated_gradients")
>>> adv[["text", "flipped", "words_changed", "adversarial_text"]]
"""

from __future__ import annotations

import random
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..predict import Predictor, TextClassifier
from ..validation import check_positive_int
from ._common import audit_predictor

_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
EDITS = ("delete", "typo")
#: Explanation-based word rankings per Predictor, so that audits sharing one Predictor
#: explain a text once (forgotten with the Predictor).
_RANKINGS: weakref.WeakKeyDictionary[Predictor, dict[tuple, list]] = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- perturbations


def add_typo(text: str, rng: random.Random) -> str:
    """Swap two neighbouring letters inside one random word of 4+ letters (a keyboard slip).

    Texts without such a word come back unchanged.
    """
    words = [m for m in _WORD.finditer(text) if len(m.group()) >= 4 and m.group().isalpha()]
    if not words:
        return text
    m = rng.choice(words)
    word = m.group()
    i = rng.randrange(1, len(word) - 2)  # keep the first and last letters
    typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return text[: m.start()] + typo + text[m.end() :]


def misspell(word: str) -> str:
    """A deterministic typo of ``word``: two middle letters swapped (``"great"`` → ``"graet"``)."""
    if len(word) < 3:
        return word + word[-1]
    i = (len(word) - 1) // 2
    if word[i] == word[i + 1]:
        return word[:i] + word[i + 1 :]  # "good" -> "god" would not be a typo; drop one letter
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def drop_words(text: str, rng: random.Random, p: float = 0.1) -> str:
    """Delete each word with probability ``p`` (at least one word, at most all but one)."""
    words = text.split()
    if len(words) < 2:
        return text
    keep = [w for w in words if rng.random() >= p]
    if len(keep) == len(words):
        drop = rng.randrange(len(words))
        keep = words[:drop] + words[drop + 1 :]
    return " ".join(keep or words[:1])


def strip_punctuation(text: str) -> str:
    """The text without trailing punctuation, or with a full stop added when it had none."""
    stripped = text.rstrip(" .!?,;:")
    return stripped if stripped != text.rstrip() else text.rstrip() + "."


PERTURBATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "typo": add_typo,
    "word_dropout": drop_words,
}


def robustness(
    classifier: TextClassifier | Predictor,
    texts: Sequence[str],
    perturbations: Sequence[str] = ("typo", "word_dropout"),
    n_variants: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """How often random noise flips the predicted label: one row per (text, variant).

    Columns: ``perturbation``, ``text`` (the perturbed text), ``original``, ``label``
    (original prediction), ``new_label``, ``p_original`` and ``p_new`` (probability of the
    original prediction before and after), ``flipped``. Variants that equal their original
    are skipped. All texts go to the model in one batched call.

    ``df.groupby("perturbation")["flipped"].mean()`` gives the flip rates.
    """
    unknown = [p for p in perturbations if p not in PERTURBATIONS]
    if unknown:
        raise ValueError(
            f"unknown perturbation(s) {unknown}: use any of {', '.join(PERTURBATIONS)}"
        )
    check_positive_int("n_variants", n_variants)
    predictor = audit_predictor(classifier)
    texts = [str(t) for t in texts]
    rng = random.Random(seed)
    rows = []
    for name in perturbations:
        fn = PERTURBATIONS[name]
        for text in texts:
            for _ in range(n_variants):
                variant = fn(text, rng)
                if variant != text:
                    rows.append({"perturbation": name, "text": variant, "original": text})
    frame = pd.DataFrame(rows, columns=["perturbation", "text", "original"])
    probs = predictor.predict_proba(texts + frame["text"].tolist())
    base = dict(zip(texts, probs[: len(texts)], strict=True))
    new = probs[len(texts) :]
    orig = np.stack([base[t] for t in frame["original"]]) if len(frame) else new
    pred = orig.argmax(axis=1)
    labels = np.array(predictor.labels)
    rows_idx = np.arange(len(frame))
    frame["label"] = labels[pred]
    frame["new_label"] = labels[new.argmax(axis=1)]
    frame["p_original"] = orig[rows_idx, pred]
    frame["p_new"] = new[rows_idx, pred]
    frame["flipped"] = frame["label"] != frame["new_label"]
    return frame


# --------------------------------------------------------------------------- adversarial search


def _ranked_words(
    predictor: Predictor,
    text: str,
    method: str,
    rng: random.Random,
    options: Mapping[str, Any],
) -> list[tuple[int, int]]:
    """Word spans of ``text``, the ones most in favour of the predicted class first."""
    if method == "random":
        spans = [m.span() for m in _WORD.finditer(text)]
        rng.shuffle(spans)
        return spans
    rankings = _RANKINGS.setdefault(predictor, {})
    key = (method, text, tuple(sorted(options.items())))
    if key in rankings:
        return rankings[key]
    from ..explainers import explain

    if not hasattr(predictor.classifier, "tokenizer"):
        raise TypeError(
            f"method={method!r} explains the model, which needs an interpkit Classifier; "
            f"{type(predictor.classifier).__name__} can only use method='random'"
        )
    e = explain(predictor, text, method=method, target=None, **options)
    words = [
        (span, score)
        for span, word, score in zip(e.word_spans, e.words, e.word_scores, strict=True)
        if _WORD.fullmatch(word)  # edit words, not punctuation
    ]
    words.sort(key=lambda item: -item[1])  # most support for the predicted class first
    rankings[key] = [span for span, _ in words]
    return rankings[key]


def _apply(text: str, spans: Sequence[tuple[int, int]], edit: str) -> str:
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append(text[pos:start])
        if edit == "typo":
            out.append(misspell(text[start:end]))
        pos = end
    out.append(text[pos:])
    text = re.sub(r"\s{2,}", " ", "".join(out)).strip()
    return re.sub(r"\s+([,.;:!?])", r"\1", text)


def adversarial_search(
    classifier: TextClassifier | Predictor,
    texts: Sequence[str],
    method: str = "integrated_gradients",
    max_words: int = 3,
    edits: Sequence[str] = EDITS,
    seed: int = 0,
    progress: bool = False,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **explain_options: Any,
) -> pd.DataFrame:
    """The smallest edit (fewest words changed) that flips each prediction, if one is found.

    For each text the words are ranked by ``method`` (any name in
    :func:`interpkit.list_explainers`, e.g. ``"integrated_gradients"`` or ``"lime"``, scoring the
    predicted class; or ``"random"`` for a baseline), with ``options={method: {...}}`` (its
    options as keyword arguments still work, with a DeprecationWarning). Candidates: each of
    the ``max_words`` top words edited alone, then the top 2, 3, ... words together; each edit
    is one of ``edits`` (``"delete"`` the word, or a ``"typo"`` that swaps two letters). All
    candidates of all texts are predicted in one batched call; the flipping candidate with the
    fewest words changed wins (ties: the lowest probability left for the original class).

    Returns one row per text: ``text``, ``label``, ``p_original``, ``flipped``,
    ``words_changed`` (NaN when nothing flipped), ``edit``, ``adversarial_text``,
    ``new_label``, ``p_new`` (probability of the original class after the edit), ``method``.
    """
    check_positive_int("max_words", max_words)
    method_opts = ranking_options(method, options, explain_options)
    bad = [e for e in edits if e not in EDITS]
    if bad or not edits:
        raise ValueError(f"edits must be a non-empty subset of {EDITS}, got {list(edits)}")
    predictor = audit_predictor(classifier)
    texts = [str(t) for t in texts]
    rng = random.Random(seed)
    iterator = texts
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(texts, desc=f"adversarial search ({method})", leave=False)
    candidates = []  # (text index, words changed, edit, description, candidate text)
    for i, text in enumerate(iterator):
        spans = _ranked_words(predictor, text, method, rng, method_opts)[:max_words]
        for edit in edits:
            for span in spans:  # one word at a time
                candidates.append((i, 1, edit, [span]))
            for k in range(2, len(spans) + 1):  # then the top k together
                candidates.append((i, k, edit, spans[:k]))
    cand_texts = [_apply(texts[i], s, edit) for i, _, edit, s in candidates]
    everything = texts + [t for t in cand_texts if t]
    probs = predictor.predict_proba(everything)
    base = probs[: len(texts)]
    by_text = dict(zip(everything, probs, strict=True))
    labels = predictor.labels
    best: dict[int, tuple] = {}
    for (i, k, edit, spans), cand in zip(candidates, cand_texts, strict=True):
        if not cand:
            continue
        pred = int(base[i].argmax())
        p = by_text[cand]
        if int(p.argmax()) == pred:
            continue
        key = (k, float(p[pred]))
        if i not in best or key < best[i][0]:
            words = ", ".join(repr(texts[i][s:e]) for s, e in spans)
            best[i] = (key, f"{edit} {words}", cand, labels[int(p.argmax())])
    rows = []
    for i, text in enumerate(texts):
        pred = int(base[i].argmax())
        hit = best.get(i)
        rows.append(
            {
                "text": text,
                "label": labels[pred],
                "p_original": float(base[i, pred]),
                "flipped": hit is not None,
                "words_changed": hit[0][0] if hit else np.nan,
                "edit": hit[1] if hit else "",
                "adversarial_text": hit[2] if hit else "",
                "new_label": hit[3] if hit else labels[pred],
                "p_new": hit[0][1] if hit else np.nan,
                "method": method,
            }
        )
    return pd.DataFrame(rows)


def ranking_options(
    method: str,
    options: Mapping[str, Mapping[str, Any]] | None,
    old: Mapping[str, Any] | None = None,
    old_name: str = "**explain_options",
) -> dict[str, Any]:
    """The options of the method that ranks words (the random order takes none: ignored).

    From ``options={method: {...}}`` or the deprecated flat form ``old`` (spelled ``old_name``
    in the warning); old option spellings are translated.
    """
    if method == "random":
        return {}
    from ..explainers import method_options

    return method_options([method], options, old=old, old_name=old_name)[method]
