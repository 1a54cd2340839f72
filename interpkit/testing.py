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
