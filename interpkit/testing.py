"""A tiny random-weight BERT and a tiny dataset, built from a config: fast, download-free tests.

Used by interpkit's own tests and handy in yours (bertviz's habit): the same code paths as
the real model, in milliseconds.

Example
-------
>>> from interpkit.testing import tiny_classifier, tiny_dataset
>>> clf = tiny_classifier()
>>> clf.predict_proba(["a good film"]).shape
(1, 2)
"""

from __future__ import annotations

from .models import DEFAULT_LABELS, Classifier

POSITIVE = ["good", "great", "fine", "wonderful", "moving", "funny", "best", "love"]
NEGATIVE = ["bad", "awful", "boring", "dull", "worst", "poor", "hate", "terrible"]
NEUTRAL = ["a", "the", "film", "movie", "plot", "was", "is", "and", "but", "not", "very", "this"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PIECES = [
    "##s",
    "##ly",
    "##ing",
    "##ed",
    ".",
    ",",
    "!",
    "?",
    "<",
    ">",
    "'",
    '"',
    "/",
    "=",
    "(",
    ")",
]


def tiny_vocab() -> list[str]:
    """Special tokens, the words of :func:`tiny_dataset`, letters and a few word pieces."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = [f"##{c}" for c in letters]
    words = POSITIVE + NEGATIVE + NEUTRAL
    seen: dict[str, None] = {}
    for tok in SPECIAL + words + letters + pieces + PIECES:
        seen.setdefault(tok, None)
    return list(seen)


def tiny_tokenizer():
    """A real WordPiece ``BertTokenizer`` (fast) over :func:`tiny_vocab` (no download).

    transformers 5 takes the vocabulary as a dict (``vocab=``); ``vocab_file=`` is silently
    ignored there, leaving every word ``[UNK]``.
    """
    from transformers import BertTokenizer

    vocab = {tok: i for i, tok in enumerate(tiny_vocab())}
    return BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=64)


def tiny_classifier(
    labels=DEFAULT_LABELS, seed: int = 0, layers: int = 2, heads: int = 2
) -> Classifier:
    """A randomly initialised 2-layer BERT classifier (hidden size 16), eager attention."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    tokenizer = tiny_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer.get_vocab()),
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
        attn_implementation="eager",
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    clf = Classifier(model, tokenizer, labels=labels, device="cpu", name="tiny-bert")
    clf.head_is_trained = False
    return clf


def tiny_dataset(n_per_class: int = 40, seed: int = 0):
    """A balanced toy sentiment DatasetDict (train/validation/test) over the tiny vocabulary."""
    import random

    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    rng = random.Random(seed)
    rows = []
    for label, words in ((0, NEGATIVE), (1, POSITIVE)):
        for _ in range(n_per_class * 3 // 2):
            opener = rng.choice(["the film was", "this movie is", "a", "the plot was"])
            rows.append({"text": f"{opener} {rng.choice(words)}", "label": label})
    rng.shuffle(rows)
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(DEFAULT_LABELS))})
    full = Dataset.from_list(rows, features=features)
    n = len(full)
    cut1, cut2 = int(n * 2 / 3), int(n * 5 / 6)
    return DatasetDict(
        {
            "train": full.select(range(cut1)),
            "validation": full.select(range(cut1, cut2)),
            "test": full.select(range(cut2, n)),
        }
    )


class KeywordClassifier:
    """A bag-of-words sentiment model with known behaviour, for testing audits.

    p(positive) = sigmoid(``strength`` × (number of positive words − number of negative
    words)); every other word is ignored, so it has no notion of negation ("not good" counts
    as good), is blind to names, places and identity terms, and never changes its mind for a
    typo in a word it does not know. With ``negation=True`` a word right after "not" / "n't" /
    "never" counts with the opposite sign. It has ``predict_proba(texts, batch_size)``,
    ``predict`` and ``labels`` (all the audit needs) and counts its calls in ``calls``.

    Example
    -------
    >>> kw = KeywordClassifier()
    >>> kw.predict(["a good film", "not good"])   # negation is ignored
    ['positive', 'positive']
    """

    name = "keyword-model"

    def __init__(
        self,
        positive=None,
        negative=None,
        labels=DEFAULT_LABELS,
        strength: float = 2.0,
        negation: bool = False,
    ) -> None:
        from .audit.behavioural import lexicon

        words = lexicon()
        extra_pos = ["love", "like", "enjoy", "admire", "recommend", "appreciate", "best"]
        extra_neg = ["hate", "dislike", "regret", "resent", "worst", "waste"]
        self.positive = set(positive or words["pos_adj"] + words["pos_verb"] + extra_pos)
        self.negative = set(negative or words["neg_adj"] + words["neg_verb"] + extra_neg)
        self.labels = tuple(labels)
        self.strength = strength
        self.negation = negation
        self.calls = 0

    def score(self, text: str) -> float:
        import re

        total, flip = 0.0, 1.0
        for word in re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower()):
            if word in ("not", "never", "no") or word.endswith("n't"):
                flip = -1.0 if self.negation else 1.0
                continue
            sign = 1.0 if word in self.positive else -1.0 if word in self.negative else 0.0
            total += flip * sign
            if sign:
                flip = 1.0
        return total

    def predict_proba(self, texts, batch_size: int = 64):
        import numpy as np

        from .models import as_text_list

        items = as_text_list(texts)
        self.calls += 1
        z = np.array([self.strength * self.score(t) for t in items], dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-z))
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, texts, batch_size: int = 64) -> list[str]:
        return [self.labels[int(i)] for i in self.predict_proba(texts).argmax(axis=1)]
