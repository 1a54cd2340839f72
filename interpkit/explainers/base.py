"""What every explainer shares: the registry, the ``explain()`` flow and word grouping.

An explainer is a class whose ``__init__`` stores its parameters as given and whose
:meth:`Explainer.explain` does the work (Captum's and scikit-learn's habit). Subclasses only
implement :meth:`Explainer._attribute`, which returns scores per token or per word; this
module does the rest the same way for every method: text validation, tokenisation with
character offsets, the truncation flag, target/contrast resolution, word grouping, timing and
building the :class:`~interpkit.explanation.Explanation`.
"""

from __future__ import annotations

import bisect
import difflib
import inspect
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from ..explanation import UNKNOWN_LIMIT, Explanation
from ..models import Classifier, eval_mode
from ..predict import Predictor
from ..validation import check_texts
from .vocabulary import check_shared_params

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

#: CJK ideographs, the ranges BERT's BasicTokenizer (``_is_chinese_char``) splits one by one:
#: Unified Ideographs and Extensions A-E, and the Compatibility Ideographs. Like BERT, Japanese
#: kana and Korean Hangul are not in it (runs of them stay one word).
CJK_IDEOGRAPHS = (
    "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df\U0002a700-\U0002b73f"
    "\U0002b740-\U0002b81f\U0002b820-\U0002ceaf\uf900-\ufaff\U0002f800-\U0002fa1f"
)
_LETTERS = rf"[^\W{CJK_IDEOGRAPHS}]"  # \w without CJK ideographs
#: A word: one CJK ideograph; or a run of other letters/digits (with inner apostrophes, as in
#: "don't"); or one punctuation mark. Chinese has no spaces between words and BERT sees one
#: token per ideograph, so each ideograph is a word (as BERT's own basic tokenizer splits it).
WORD_PATTERN = re.compile(rf"[{CJK_IDEOGRAPHS}]|{_LETTERS}+(?:['\u2019]{_LETTERS}+)*|[^\w\s]")

_REGISTRY: dict[str, type[Explainer]] = {}


class UnknownTokensWarning(UserWarning):
    """Over half of a text's tokens are unknown to the tokenizer ([UNK]).

    Emoji, or a script or language its vocabulary lacks: the model saw little of the text.
    """


# --------------------------------------------------------------------------- registry


def register(
    cls: type[Explainer] | None = None, *, overwrite: bool = False
) -> type[Explainer] | Callable[[type[Explainer]], type[Explainer]]:
    """Add an explainer class to the registry under ``cls.name`` (usable as a decorator).

    Example
    -------
    >>> @register
    ... class MyExplainer(Explainer):
    ...     name = "my_method"
    ...     def _attribute(self, inputs, target, contrast, params): ...
    """

    def add(klass: type[Explainer]) -> type[Explainer]:
        if not (isinstance(klass, type) and issubclass(klass, Explainer)):
            raise TypeError(f"{klass!r} is not an Explainer subclass")
        if not klass.name or not re.fullmatch(r"[a-z][a-z0-9_]*", klass.name):
            raise ValueError(
                f"{klass.__name__}.name must be a lower_snake_case name, got {klass.name!r}"
            )
        if klass.name in _REGISTRY and _REGISTRY[klass.name] is not klass and not overwrite:
            raise ValueError(
                f"an explainer named {klass.name!r} is already registered: pick another name "
                "or pass overwrite=True"
            )
        _REGISTRY[klass.name] = klass
        return klass

    return add if cls is None else add(cls)


def list_explainers(family: str | None = None) -> list[str]:
    """Names of the registered explainers (optionally of one family), in registration order.

    Families: ``"attention"``, ``"gradient"``, ``"perturbation"``, ``"control"``.

    Example
    -------
    >>> import interpkit
    >>> interpkit.list_explainers("gradient")
    ['integrated_gradients', 'saliency', 'input_x_gradient', 'smoothgrad', 'deeplift']
    """
    if family is None:
        return list(_REGISTRY)
    families = sorted({cls.family for cls in _REGISTRY.values()})
    if family not in families:
        raise ValueError(f"unknown family {family!r}: families are {', '.join(families)}")
    return [name for name, cls in _REGISTRY.items() if cls.family == family]


def get_explainer(name: str) -> type[Explainer]:
    """Return the explainer class registered as ``name`` (a clear error suggests close names).

    Example
    -------
    >>> ig = interpkit.get_explainer("integrated_gradients")(clf, n_steps=100)
    >>> ig.explain("a wonderful film")
    """
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(str(name), list(_REGISTRY), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(
        f"unknown explainer {name!r}: {hint}available: {', '.join(_REGISTRY)} "
        "(interpkit.list_explainers())"
    )


# --------------------------------------------------------------------------- data passed around


@dataclass
class Inputs:
    """One tokenised text, ready for a method: tensors on the model's device plus text layout."""

    text: str
    input_ids: torch.Tensor  # (1, seq)
    attention_mask: torch.Tensor  # (1, seq)
    token_type_ids: torch.Tensor | None
    tokens: list[str]
    offsets: list[tuple[int, int]]
    special: np.ndarray  # bool, (seq,)
    truncated: bool
    unknown: int  # content tokens the tokenizer did not know ([UNK])
    words: list[str]
    word_spans: list[tuple[int, int]]
    token_to_word: list[int | None]
    logits: np.ndarray  # (n_labels,)
    probabilities: np.ndarray  # (n_labels,)

    @property
    def unknown_fraction(self) -> float:
        """Share of the non-special tokens that are [UNK]."""
        content = int((~self.special).sum())
        return self.unknown / content if content else 0.0

    @property
    def seen_text(self) -> str:
        """The part of the text the model sees (all of it unless truncated)."""
        end = self.word_spans[-1][1] if self.word_spans else 0
        return self.text if not self.truncated else self.text[:end]

    def model_kwargs(self) -> dict[str, torch.Tensor]:
        """Return the model's keyword arguments besides the ids (attention mask, token types)."""
        kwargs = {"attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            kwargs["token_type_ids"] = self.token_type_ids
        return kwargs


@dataclass
class Attribution:
    """What a method computes: one score per token (``level="token"``) or per word."""

    scores: np.ndarray
    level: str = "token"
    diagnostics: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- the base class


class Explainer:
    """Base class: ``__init__`` stores parameters, :meth:`explain` computes an Explanation.

    Subclasses set ``name`` (registry key), ``family``, and implement ``_attribute`` (and
    optionally ``_check_params``). Parameters are the ``__init__`` keyword arguments after
    ``classifier``; ``explain(..., **overrides)`` replaces any of them for one call. The
    shared names (``n_samples``, ``batch_size``, ``seed``, ``baseline``, ``output``,
    ``integration``) are checked the same way for every method
    (:mod:`interpkit.explainers.options`).

    ``classifier`` is an :class:`~interpkit.Classifier`, or a :class:`~interpkit.Predictor`
    over one: methods that predict many texts (LIME) then share its memory and report
    progress through its ``on_batch``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    #: False when scores do not depend on the class (attention, random control).
    class_specific: ClassVar[bool] = True
    #: Whether contrast mode is accepted (refused where scores cannot depend on the class).
    supports_contrast: ClassVar[bool] = True
    #: The quantity explained when it is the same in every call (else set in diagnostics).
    explains: ClassVar[str] = "class score"
    #: Old parameter names still accepted (with a DeprecationWarning): ``{old: new}``.
    renamed: ClassVar[dict[str, str]] = {}

    def __init__(self, classifier: Classifier | Predictor) -> None:
        self.predictor = classifier if isinstance(classifier, Predictor) else None
        self.classifier = classifier.classifier if self.predictor is not None else classifier

    # -- parameters ---------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [
            name
            for name, p in sig.parameters.items()
            if p.kind in named and name not in ("self", "classifier")
        ]

    @classmethod
    def translate_options(cls, options: dict) -> dict:
        """Return ``options`` with old parameter names (:attr:`renamed`) replaced by the new ones.

        Each old name gives a DeprecationWarning; both spellings at once are an error.
        """
        out = dict(options)
        for old, new in cls.renamed.items():
            if old not in out:
                continue
            if new in out:
                raise ValueError(
                    f"{cls.name}: pass {new}= only ({old}= is its old name, both were given)"
                )
            warn_user(
                f"{cls.name}: the option {old}= is now called {new}= ({old}= will stop "
                f"working in a future version): pass {new}={out[old]!r}",
                DeprecationWarning,
            )
            out[new] = out.pop(old)
        return out

    def _renamed_in_init(self, old_names: dict, values: dict) -> dict:
        """Return ``values`` (new name -> value given) updated with parameters given by old names.

        For an ``__init__`` that takes ``**old_names``. Any other unknown keyword is a
        TypeError, as Python gives; a new name still at its default counts as not given.
        """
        unknown = [k for k in old_names if k not in self.renamed]
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument {unknown[0]!r}: "
                f"its options are {', '.join(self._param_names())}"
            )
        defaults = inspect.signature(type(self).__init__).parameters
        given = {k: v for k, v in values.items() if v != defaults[k].default}
        return {**values, **self.translate_options({**given, **old_names})}

    def _set_params(self, values: dict) -> None:
        """Store every ``__init__`` parameter as given (pass ``locals()``).

        Old names, given through an ``**old_names`` catch-all, are translated (see
        :attr:`renamed`).
        """
        given = {name: values[name] for name in self._param_names()}
        old = values.get("old_names") or {}
        if old:
            given = self._renamed_in_init(old, given)
        for name, value in given.items():
            setattr(self, name, value)

    def get_params(self) -> dict:
        """Return the parameters as stored by ``__init__`` (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def _resolve_params(self, overrides: dict) -> dict:
        overrides = self.translate_options(overrides)
        names = self._param_names()
        unknown = [k for k in overrides if k not in names]
        if unknown:
            options = ", ".join(names) or "none"
            raise ValueError(
                f"unknown option {unknown[0]!r} for {self.name}: its options are {options}"
            )
        params = {**self.get_params(), **overrides}
        check_shared_params(params)
        self._check_params(params)
        return params

    def _check_params(self, params: dict) -> None:
        """Raise a one-line ValueError for bad parameter values (override in subclasses)."""

    def __repr__(self) -> str:
        """``Method(param=value, ...)``, as scikit-learn shows an estimator."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- the work -------------------------------------------------------------------
    def explain(
        self,
        text: str,
        target: str | int | None = None,
        contrast: str | int | None = None,
        **overrides: object,
    ) -> Explanation:
        """Explain the model's score for ``target`` on ``text``.

        Parameters
        ----------
        text : str
            One text. Texts longer than the model's limit are truncated (a
            ``TruncationWarning`` is shown and ``Explanation.truncated`` is True). When over
            half of its tokens are unknown to the tokenizer ([UNK]: emoji, a script the
            vocabulary lacks), an ``UnknownTokensWarning`` is shown and
            ``Explanation.mostly_unknown`` is True (``diagnostics["unknown_fraction"]`` holds
            the share whenever some token is unknown).
        target : str or int, optional
            Class to explain, by name or index. Default: the predicted class.
        contrast : str or int, optional
            Explain "why ``target`` rather than ``contrast``": scores of the difference of
            the two class scores.
        **overrides
            Any ``__init__`` parameter, for this call only.
        """
        params = self._resolve_params(overrides)
        start = time.perf_counter()
        with eval_mode(self.classifier.model):
            inputs = prepare(self.classifier, text)
            target_id, contrast_id = self._resolve_classes(inputs, target, contrast)
            result = self._attribute(inputs, target_id, contrast_id, params)
        seconds = time.perf_counter() - start
        return build_explanation(self, inputs, result, target_id, contrast_id, params, seconds)

    def _attribute(
        self, inputs: Inputs, target: int, contrast: int | None, params: dict
    ) -> Attribution:
        raise NotImplementedError(f"{type(self).__name__} must implement _attribute()")

    def _resolve_classes(
        self, inputs: Inputs, target: str | int | None, contrast: str | int | None
    ) -> tuple[int, int | None]:
        clf = self.classifier
        target_id = int(np.argmax(inputs.probabilities)) if target is None else clf.label_id(target)
        if contrast is None:
            return target_id, None
        if not self.supports_contrast:
            raise ValueError(
                f"{self.name} scores do not depend on the class, so contrast mode has no "
                "meaning here: use a gradient or perturbation method for 'A rather than B'"
            )
        contrast_id = clf.label_id(contrast)
        if contrast_id == target_id:
            raise ValueError(
                f"contrast {clf.labels[contrast_id]!r} is the target class itself: pass a "
                f"different class (labels: {', '.join(clf.labels)})"
            )
        return target_id, contrast_id


# --------------------------------------------------------------------------- shared steps


def prepare(classifier: Classifier, text: str) -> Inputs:
    """Validate and tokenise one text (with offsets), flag truncation, predict its classes."""
    if not isinstance(text, str):
        items = check_texts(text)  # clear TypeError for non-strings
        raise TypeError(
            f"explain() takes one text, got {len(items)}: loop over the texts, e.g. "
            "[explainer.explain(t) for t in texts]"
        )
    (text,) = check_texts(text)
    if not getattr(classifier.tokenizer, "is_fast", False):
        raise TypeError(
            "explanations need a fast tokenizer (it gives each token's character offsets): "
            "load the tokenizer with AutoTokenizer.from_pretrained(name, use_fast=True)"
        )
    n_tokens = classifier.token_lengths([text])[0]
    truncated = n_tokens > classifier.max_length
    if truncated:
        classifier.warn_if_truncated([n_tokens], [text])
    enc = classifier.tokenizer(
        text,
        truncation=True,
        max_length=classifier.max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    offsets = [(int(s), int(e)) for s, e in enc.pop("offset_mapping")[0].tolist()]
    special = enc.pop("special_tokens_mask")[0].numpy().astype(bool)
    enc = enc.to(classifier.device)
    ids = enc["input_ids"]
    tokens = classifier.tokenizer.convert_ids_to_tokens(ids[0].tolist())
    words, spans, token_to_word, offsets = group_words(text, offsets, special)
    unknown = count_unknown(classifier.tokenizer, ids[0], special)
    with torch.no_grad():
        logits = classifier.model(**enc).logits[0].float()
    inputs = Inputs(
        text=text,
        input_ids=ids,
        attention_mask=enc["attention_mask"],
        token_type_ids=enc.get("token_type_ids"),
        tokens=tokens,
        offsets=offsets,
        special=special,
        truncated=truncated,
        unknown=unknown,
        words=words,
        word_spans=spans,
        token_to_word=token_to_word,
        logits=logits.cpu().numpy().astype(np.float64),
        probabilities=torch.softmax(logits, -1).cpu().numpy().astype(np.float64),
    )
    if inputs.unknown_fraction > UNKNOWN_LIMIT:
        unk = classifier.tokenizer.unk_token
        preview = text[:40] + ("…" if len(text) > 40 else "")
        warn_user(
            f"{unknown} of the {int((~special).sum())} tokens of {preview!r} are unknown to "
            f"the tokenizer ({unk}): the model saw little of this text (emoji, or a script "
            "or language its vocabulary lacks?), so its explanation says little about the "
            "words; Explanation.mostly_unknown is True",
            UnknownTokensWarning,
        )
    return inputs


def count_unknown(
    tokenizer: PreTrainedTokenizerBase, ids: torch.Tensor, special: np.ndarray
) -> int:
    """Count the non-special tokens that are the tokenizer's unknown token.

    0 when it has none: byte-level BPE knows every text.
    """
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None:
        return 0
    is_unk = (ids == unk).cpu().numpy()
    return int((is_unk & ~special).sum())


def strip_offsets(
    text: str, offsets: list[tuple[int, int]], special: Sequence[bool] | np.ndarray
) -> list[tuple[int, int]]:
    """Token spans without surrounding whitespace; special tokens get ``(0, 0)``.

    Some tokenizers' offsets include the space before a word (DeBERTa-v2's "▁good" covers
    " good" as transformers 5 builds it) or are whitespace only (RoBERTa's "ĉ" for a tab,
    DeBERTa's standalone "▁"). A whitespace-only token is left with an empty span at its
    end.
    """
    out = []
    for (s, e), is_special in zip(offsets, special, strict=True):
        if is_special:
            out.append((0, 0))
            continue
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, max(s, e)))
    return out


def group_words(
    text: str, offsets: list[tuple[int, int]], special: Sequence[bool] | np.ndarray
) -> tuple[list[str], list[tuple[int, int]], list[int | None], list[tuple[int, int]]]:
    """Merge sub-word tokens back into words, using the tokenizer's character offsets.

    A word is one CJK ideograph, a run of other letters/digits (inner apostrophes allowed) or
    one punctuation mark (:data:`WORD_PATTERN`); every token belongs to the word its
    characters fall in, and a token that straddles several such words merges them. Token
    spans are first stripped of whitespace (:func:`strip_offsets`), so no word starts or ends
    with a space.

    A token left without characters (whitespace only, such as RoBERTa's standalone "Ġ", or
    zero-width) belongs to the word of the next token that has characters, or to the last
    word when none follows: the space marker belongs to the word it precedes, and its score
    still counts in a word. So the word scores (sums of token scores) add up to the sum over
    all non-special tokens. Special tokens belong to no word (``None``).

    Returns ``(words, word_spans, token_to_word, token_offsets)``: every word has at least one
    token and ``text[start:end] == word``; ``token_offsets`` are the stripped spans, each
    inside its word (a token without characters gets the empty span at its word's start, or
    at its end when attached to the last word); special tokens get ``(0, 0)``.
    """
    offsets = strip_offsets(text, offsets, special)
    pattern_spans = [m.span() for m in WORD_PATTERN.finditer(text)]
    starts = [s for s, _ in pattern_spans]
    groups: list[list[int]] = []
    token_to_word: list[int | None] = []
    waiting: list[int] = []  # tokens without characters, until the next word is known
    for position, ((s, e), is_special) in enumerate(zip(offsets, special, strict=True)):
        token_to_word.append(None)
        if is_special:
            continue
        if e <= s:
            waiting.append(position)
            continue
        lo, hi = s, e
        i = bisect.bisect_right(starts, s) - 1
        if i >= 0 and pattern_spans[i][1] > s:
            lo, hi = min(lo, pattern_spans[i][0]), max(hi, pattern_spans[i][1])
        j = i + 1
        while j < len(pattern_spans) and pattern_spans[j][0] < e:
            hi = max(hi, pattern_spans[j][1])
            j += 1
        if groups and lo < groups[-1][1]:
            groups[-1][0] = min(groups[-1][0], lo)
            groups[-1][1] = max(groups[-1][1], hi)
        else:
            groups.append([lo, hi])
        token_to_word[position] = len(groups) - 1
        for k in waiting:
            token_to_word[k] = len(groups) - 1
        waiting = []
    trailing = set(waiting) if groups else set()
    for k in trailing:
        token_to_word[k] = len(groups) - 1
    spans = [(lo, hi) for lo, hi in groups]
    token_offsets = []
    for position, ((s, e), w) in enumerate(zip(offsets, token_to_word, strict=True)):
        if w is not None and e <= s:
            edge = spans[w][1] if position in trailing else spans[w][0]
            s = e = edge
        token_offsets.append((s, e))
    return [text[lo:hi] for lo, hi in spans], spans, token_to_word, token_offsets


def words_to_tokens(word_scores: np.ndarray, token_to_word: list[int | None]) -> np.ndarray:
    """Token scores from word scores: each word's score split evenly over its tokens.

    The split keeps the sum rule exact: grouping the token scores back gives the word scores.
    """
    counts = np.bincount([w for w in token_to_word if w is not None], minlength=len(word_scores))
    return np.array(
        [0.0 if w is None else word_scores[w] / counts[w] for w in token_to_word], dtype=np.float64
    )


def tokens_to_words(
    scores: np.ndarray, token_to_word: list[int | None], n_words: int
) -> np.ndarray:
    """Return word scores as the sum of their tokens' scores (the ``"sum"`` word rule)."""
    out = np.zeros(n_words, dtype=np.float64)
    for score, w in zip(scores, token_to_word, strict=True):
        if w is not None:
            out[w] += score
    return out


def build_explanation(
    explainer: Explainer,
    inputs: Inputs,
    result: Attribution,
    target: int,
    contrast: int | None,
    params: dict,
    seconds: float,
) -> Explanation:
    """Turn a method's raw scores into the one result type."""
    scores = np.asarray(result.scores, dtype=np.float64).reshape(-1)
    n_words, n_tokens = len(inputs.words), len(inputs.tokens)
    if result.level == "word":
        if scores.shape != (n_words,):
            raise RuntimeError(
                f"{explainer.name} returned {scores.shape} scores for {n_words} words"
            )
        word_scores, token_scores = scores, words_to_tokens(scores, inputs.token_to_word)
    elif result.level == "token":
        if scores.shape != (n_tokens,):
            raise RuntimeError(
                f"{explainer.name} returned {scores.shape} scores for {n_tokens} tokens"
            )
        token_scores = scores
        word_scores = tokens_to_words(scores, inputs.token_to_word, n_words)
    else:
        raise RuntimeError(f"{explainer.name} returned scores at unknown level {result.level!r}")
    if not np.all(np.isfinite(token_scores)):
        warn_user(
            f"{explainer.name} produced non-finite scores (nan/inf): the model's output may "
            "have overflowed; try output='logit' or another method",
            RuntimeWarning,
        )
    diagnostics = {"explains": explainer.explains, **result.diagnostics}
    if inputs.unknown:  # recorded only when there are some: most texts have none
        diagnostics["unknown_fraction"] = inputs.unknown_fraction
    if result.level == "word":
        diagnostics.setdefault("token_scores", "word score split evenly over its tokens")
    return Explanation(
        text=inputs.text,
        tokens=inputs.tokens,
        offsets=inputs.offsets,
        scores=token_scores,
        words=inputs.words,
        word_spans=inputs.word_spans,
        word_scores=word_scores,
        token_to_word=inputs.token_to_word,
        target=target,
        labels=explainer.classifier.labels,
        probabilities=inputs.probabilities,
        method=explainer.name,
        params=params,
        seconds=seconds,
        diagnostics=diagnostics,
        contrast=contrast,
        truncated=inputs.truncated,
        word_rule="sum",
        extras=result.extras,
    )


# --------------------------------------------------------------------------- validation


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the user's line (the first frame outside interpkit)."""
    import sys

    package = __name__.split(".")[0]
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == package:
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
