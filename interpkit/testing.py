"""Tiny random-weight classifiers and a tiny dataset, built from configs: fast offline tests.

Used by interpkit's own tests and handy in yours (bertviz's habit): the same code paths as
the real model, in milliseconds. :func:`tiny_classifier` builds BERT by default and, with
``architecture=``, the other tokenizer families interpkit must handle (:data:`ARCHITECTURES`):
WordPiece (BERT, DistilBERT), byte-level BPE (RoBERTa) and SentencePiece-style Unigram
(DeBERTa-v2, ALBERT, XLM-R). Their vocabularies are written from a fixed word list rather
than trained (``tokenizers`` training breaks ties differently from process to process), so
every run builds the same tokenizer; each is built once per process.

Example
-------
>>> from interpkit.testing import tiny_classifier, tiny_dataset
>>> clf = tiny_classifier()
>>> clf.predict_proba(["a good film"]).shape
(1, 2)
>>> tiny_classifier(architecture="roberta").tokenizer.tokenize("a good film!")
['a', 'Ġgood', 'Ġfilm', '!']
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .models import DEFAULT_LABELS, Classifier

if TYPE_CHECKING:
    import numpy as np
    from datasets import DatasetDict
    from transformers import PretrainedConfig, PreTrainedTokenizerFast

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
    """List special tokens, the words of :func:`tiny_dataset`, letters and a few word pieces."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = [f"##{c}" for c in letters]
    words = POSITIVE + NEGATIVE + NEUTRAL
    seen: dict[str, None] = {}
    for tok in SPECIAL + words + letters + pieces + PIECES:
        seen.setdefault(tok, None)
    return list(seen)


#: Architectures :func:`tiny_classifier` builds, by ``model_type`` name.
ARCHITECTURES = ("bert", "distilbert", "roberta", "deberta-v2", "albert", "xlm-roberta")
#: Words with a whole-word token in every tiny vocabulary (others are split into pieces).
TINY_WORDS = tuple(dict.fromkeys(POSITIVE + NEGATIVE + NEUTRAL + ["plot", "acted", "it"]))
#: Special tokens of each SentencePiece-style tokenizer, in the id order its class expects.
_UNIGRAM_SPECIALS = {
    "deberta-v2": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "albert": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
    "xlm-roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
}
_BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _check_architecture(architecture: str) -> str:
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}: use one of {', '.join(ARCHITECTURES)}"
        )
    return architecture


@functools.cache
def _unigram_vocab(architecture: str, extra: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """Build Unigram pieces with log-probability scores.

    The specials, "▁word" for every tiny word (and every ``extra`` word, also without "▁"), a
    few suffixes, and every printable ASCII character (so no ASCII text is unknown).

    Scores make a whole word (-8) beat any split of it into characters (-10 each).
    """
    pieces = [(tok, 0.0) for tok in _UNIGRAM_SPECIALS[architecture]]
    pieces += [(f"▁{w}", -8.0) for w in TINY_WORDS + extra] + [(w, -8.0) for w in extra]
    pieces += [(p, -9.0) for p in ("s", "ly", "ing", "ed")]
    pieces += [("▁", -6.0)] + [(c, -10.0) for c in string.printable.strip()]
    return tuple(dict.fromkeys(pieces))


@functools.cache
def _byte_bpe(extra: tuple[str, ...]) -> tuple[tuple[tuple[str, int], ...], tuple]:
    """Build a byte-level BPE vocabulary and merges that spell every tiny word as one token.

    ``extra`` words too.

    Each word (as byte-level characters) gets the merges of its prefixes, left to right, once
    with the space marker "Ġ" (a word after a space) and once without (the first word); the
    "Ġ" merges rank first so they win. A character without a merge after "Ġ" (e.g. "<" in
    " <b>") leaves a standalone "Ġ" token, as real RoBERTa vocabularies do for rare characters.
    """
    from tokenizers.pre_tokenizers import ByteLevel

    as_bytes = ByteLevel(add_prefix_space=False, use_regex=False)
    merges: list[tuple[str, str]] = []
    for marker in (" ", ""):
        for word in TINY_WORDS + extra:
            ((mapped, _),) = as_bytes.pre_tokenize_str(marker + word)
            piece, *rest = mapped
            for char in rest:
                merges.append((piece, char))
                piece += char
    merges = list(dict.fromkeys(merges))
    tokens = _BPE_SPECIALS + sorted(ByteLevel.alphabet()) + ["".join(m) for m in merges]
    vocab = tuple((tok, i) for i, tok in enumerate(dict.fromkeys(tokens)))
    return vocab, tuple(merges)


def tiny_tokenizer(
    architecture: str = "bert", max_length: int | None = 64, extra_words: Sequence[str] = ()
) -> PreTrainedTokenizerFast:
    """Build a real fast tokenizer of ``architecture``'s family over a tiny vocabulary.

    BERT and DistilBERT use :func:`tiny_vocab` (WordPiece), RoBERTa byte-level BPE, DeBERTa-v2,
    ALBERT and XLM-R a Unigram model; each knows the words of :data:`TINY_WORDS` and
    ``extra_words`` whole (e.g. Chinese characters), and splits other words into pieces.
    ``max_length`` becomes ``model_max_length``; None leaves it unset, as for a tokenizer built
    from vocabulary files alone (transformers then reports a huge number). transformers 5
    takes vocabularies as Python objects (``vocab=``); ``vocab_file=`` is silently ignored
    there, leaving every word unknown.
    """
    import transformers

    _check_architecture(architecture)
    extra = tuple(dict.fromkeys(extra_words))
    limit = {} if max_length is None else {"model_max_length": max_length}
    if architecture in ("bert", "distilbert"):
        cls = {"bert": transformers.BertTokenizer, "distilbert": transformers.DistilBertTokenizer}
        words = dict.fromkeys(tiny_vocab() + list(extra))
        vocab = {tok: i for i, tok in enumerate(words)}
        return cls[architecture](vocab=vocab, do_lower_case=True, **limit)
    if architecture == "roberta":
        vocab, merges = _byte_bpe(extra)
        return transformers.RobertaTokenizer(vocab=dict(vocab), merges=list(merges), **limit)
    cls = {
        "deberta-v2": transformers.DebertaV2Tokenizer,
        "albert": transformers.AlbertTokenizer,
        "xlm-roberta": transformers.XLMRobertaTokenizer,
    }
    return cls[architecture](vocab=list(_unigram_vocab(architecture, extra)), **limit)


def _tiny_config(
    architecture: str,
    tokenizer: PreTrainedTokenizerFast,
    n_labels: int,
    layers: int,
    heads: int,
    positions: int,
) -> PretrainedConfig:
    """Build a small config (hidden size 16) of ``architecture``, eager attention."""
    import transformers

    common = dict(
        vocab_size=len(tokenizer.get_vocab()),
        num_labels=n_labels,
        pad_token_id=tokenizer.pad_token_id,
        attn_implementation="eager",
    )
    if architecture == "distilbert":
        return transformers.DistilBertConfig(
            dim=16,
            n_layers=layers,
            n_heads=heads,
            hidden_dim=32,
            max_position_embeddings=positions,
            **common,
        )
    sizes = dict(
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=32,
        max_position_embeddings=positions,
    )
    if architecture == "bert":
        return transformers.BertConfig(**sizes, **common)
    if architecture in ("roberta", "xlm-roberta"):
        cls = {"roberta": transformers.RobertaConfig, "xlm-roberta": transformers.XLMRobertaConfig}
        ids = dict(bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
        return cls[architecture](**sizes, type_vocab_size=1, **ids, **common)
    if architecture == "albert":
        return transformers.AlbertConfig(embedding_size=16, **sizes, **common)
    # DeBERTa-v3 style: relative attention, no absolute positions in the input.
    return transformers.DebertaV2Config(
        **sizes,
        relative_attention=True,
        position_biased_input=False,
        pos_att_type=["p2c", "c2p"],
        type_vocab_size=0,
        **common,
    )


def tiny_classifier(
    labels: Sequence[str] = DEFAULT_LABELS,
    seed: int = 0,
    layers: int = 2,
    heads: int = 2,
    architecture: str = "bert",
    max_length: int | None = 64,
    extra_words: Sequence[str] = (),
) -> Classifier:
    """Build a randomly initialised 2-layer classifier (hidden size 16), eager attention.

    Parameters
    ----------
    labels, seed, layers, heads :
        Class names, the seed of the weights, and the model's depth and heads.
    architecture : one of :data:`ARCHITECTURES`
        The model and tokenizer family (default BERT).
    max_length : int or None
        Tokens the model accepts (64). None gives the architecture's published size (512
        usable positions; RoBERTa and XLM-R have 514 slots, two of them unusable) and a
        tokenizer without ``model_max_length``, as a checkpoint without a tokenizer config.
    extra_words : words the tokenizer knows whole besides :data:`TINY_WORDS` (see
        :func:`tiny_tokenizer`); the default vocabulary is unchanged when empty.

    Example
    -------
    >>> clf = tiny_classifier(architecture="deberta-v2", labels=("neg", "neu", "pos"))
    """
    import torch
    from transformers import AutoModelForSequenceClassification

    _check_architecture(architecture)
    tokenizer = tiny_tokenizer(architecture, max_length, extra_words)
    offset = tokenizer.pad_token_id + 1 if architecture in ("roberta", "xlm-roberta") else 0
    positions = (512 if max_length is None else max_length) + offset
    config = _tiny_config(architecture, tokenizer, len(labels), layers, heads, positions)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    name = "tiny-bert" if architecture == "bert" else f"tiny-{architecture}"
    clf = Classifier(model, tokenizer, labels=labels, device="cpu", name=name)
    clf.head_is_trained = False
    return clf


def tiny_dataset(n_per_class: int = 40, seed: int = 0) -> DatasetDict:
    """Build a balanced toy sentiment DatasetDict (train/validation/test), tiny vocabulary."""
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
    "never" counts with the opposite sign. It is a plain :class:`~interpkit.TextClassifier`
    (``labels`` and ``predict_proba(texts, batch_size)``: all the audit needs; a blank text
    has no words, so p = 0.5) and counts its ``predict_proba`` calls in ``calls``.

    Example
    -------
    >>> kw = KeywordClassifier()
    >>> kw.predict(["a good film", "not good"])   # negation is ignored
    ['positive', 'positive']
    """

    name = "keyword-model"

    def __init__(
        self,
        positive: Iterable[str] | None = None,
        negative: Iterable[str] | None = None,
        labels: Sequence[str] = DEFAULT_LABELS,
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
        """Positive minus negative words of ``text`` (negated words flipped with ``negation``)."""
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

    def predict_proba(self, texts: Sequence[str] | str, batch_size: int = 64) -> np.ndarray:
        """Class probabilities, one row per text (``batch_size`` is accepted and unused)."""
        import numpy as np

        items = [texts] if isinstance(texts, str) else list(texts)
        for i, text in enumerate(items):
            if not isinstance(text, str):
                raise TypeError(f"text #{i} is a {type(text).__name__}, not a string")
        self.calls += 1
        z = np.array([self.strength * self.score(t) for t in items], dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-z))
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, texts: Sequence[str] | str, batch_size: int = 64) -> list[str]:
        """Predicted label name of each text."""
        return [self.labels[int(i)] for i in self.predict_proba(texts).argmax(axis=1)]


def keyword_classifier(
    positive: Sequence[str] = POSITIVE, negative: Sequence[str] = NEGATIVE, strength: float = 2.0
) -> Classifier:
    """:class:`KeywordClassifier` as a torch model over the tiny BERT tokenizer, for explainers.

    p(positive) = sigmoid(``strength`` × (positive tokens − negative tokens)): a token's word
    embedding is its one-dimensional sentiment (+1, -1, or 0 for every other token, [MASK] and
    [PAD] included), summed over the attention mask. Masking a word is deleting it, so exact
    Shapley values can be computed by brute force from :meth:`KeywordClassifier.score` on the
    texts with words removed. It has no attention: gradient and perturbation methods only.

    Example
    -------
    >>> clf = keyword_classifier()
    >>> round(float(clf.predict_proba(["a good film"])[0, 1]), 3)  # sigmoid(2)
    0.881
    """
    import torch
    from transformers import PretrainedConfig
    from transformers.modeling_outputs import SequenceClassifierOutput

    tokenizer = tiny_tokenizer()
    vocab = tokenizer.get_vocab()

    class KeywordModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = PretrainedConfig(num_labels=2, max_position_embeddings=64)
            self.embeddings = torch.nn.Embedding(len(vocab), 1)
            with torch.no_grad():
                self.embeddings.weight.zero_()
                for words, sign in ((positive, 1.0), (negative, -1.0)):
                    for word in words:
                        self.embeddings.weight[vocab[word], 0] = sign

        def get_input_embeddings(self) -> torch.nn.Module:
            return self.embeddings

        def forward(
            self,
            input_ids: torch.Tensor | None = None,
            attention_mask: torch.Tensor | None = None,
            inputs_embeds: torch.Tensor | None = None,
            **_unused: object,
        ) -> SequenceClassifierOutput:
            x = self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
            if attention_mask is not None:
                x = x * attention_mask[..., None].to(x.dtype)
            z = strength * x.sum(dim=(1, 2))
            return SequenceClassifierOutput(logits=torch.stack([torch.zeros_like(z), z], -1))

    clf = Classifier(
        KeywordModel(), tokenizer, labels=DEFAULT_LABELS, device="cpu", name="keywords"
    )
    return clf
