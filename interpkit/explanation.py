"""The one result type, :class:`Explanation`, and its conversions (html, frame, json, plot).

Every explainer returns an Explanation; every view, metric and report consumes one. It holds
what was explained (text, tokens with character offsets, words), the scores per token and per
word, the class explained and all class probabilities, and how the scores were made (method,
parameters, seconds, diagnostics). Nothing here calls the model.

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()
>>> e = interpkit.explain(clf, "a wonderful, moving film", method="integrated_gradients")
>>> e.top(3)                     # [(word, score), ...] most in favour of e.target_label first
>>> e.to_frame()                 # one row per word
>>> e                            # renders highlighted words in Jupyter (static HTML)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from . import render
from .storage import to_jsonable
from .validation import check_choice, check_non_negative_int

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "interpkit.Explanation"
FORMAT_VERSION = 1
LEVELS = ("word", "token")
#: "Most of the text is unknown": over this share of its (non-special) tokens are [UNK].
UNKNOWN_LIMIT = 0.5
#: Fields that hold floats, where JSON ``null`` (a non-finite number when written) reads as NaN.
FLOAT_FIELDS = ("scores", "word_scores", "probabilities", "seconds")


@dataclass(eq=False)
class Explanation:
    """Scores that say how much each word (and token) of ``text`` pushed the model.

    Positive scores support class ``target`` (or, in contrast mode, ``target`` rather than
    ``contrast``); negative scores speak against it. Word scores are the sum of the scores of
    the word's tokens (``word_rule == "sum"``); special tokens ([CLS], [SEP]) belong to no word
    (``token_to_word`` is ``None`` for them, their offsets are ``(0, 0)``). Every other token
    belongs to a word, so the word scores sum to the scores of all non-special tokens: token
    offsets are stripped of whitespace, and a whitespace-only token (RoBERTa's standalone "Ġ",
    DeBERTa's "▁") counts in the next word, with an empty span at its start. CJK ideographs
    are one word each (see :data:`interpkit.explainers.base.WORD_PATTERN`).

    ``unknown_fraction`` and ``mostly_unknown`` say how much of the text the tokenizer did not
    know ([UNK]); :meth:`notices` lists truncation and unknown-token warnings for views.

    ``extras`` holds large or non-JSON data (e.g. the raw attention tensor under
    ``"attention"``): it is kept in memory for views but left out of :meth:`to_json` and of
    equality.
    """

    text: str
    tokens: list[str]
    offsets: list[tuple[int, int]]
    scores: np.ndarray
    words: list[str]
    word_spans: list[tuple[int, int]]
    word_scores: np.ndarray
    token_to_word: list[int | None]
    target: int
    labels: tuple[str, ...]
    probabilities: np.ndarray
    method: str
    params: dict
    seconds: float
    diagnostics: dict
    contrast: int | None = None
    truncated: bool = False
    word_rule: str = "sum"
    extras: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Coerce every field to its plain type and check that the sizes agree."""
        self.tokens = [str(t) for t in self.tokens]
        self.offsets = [(int(s), int(e)) for s, e in self.offsets]
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        self.words = [str(w) for w in self.words]
        self.word_spans = [(int(s), int(e)) for s, e in self.word_spans]
        self.word_scores = np.asarray(self.word_scores, dtype=np.float64).reshape(-1)
        self.token_to_word = [None if w is None else int(w) for w in self.token_to_word]
        self.labels = tuple(str(name) for name in self.labels)
        self.probabilities = np.asarray(self.probabilities, dtype=np.float64).reshape(-1)
        self.target = int(self.target)
        self.contrast = None if self.contrast is None else int(self.contrast)
        self.seconds = float(self.seconds)
        self.truncated = bool(self.truncated)
        self.params = to_jsonable(dict(self.params), strict=False)
        self.diagnostics = to_jsonable(dict(self.diagnostics), strict=False)
        n_tok, n_word = len(self.tokens), len(self.words)
        sizes = {
            "offsets": len(self.offsets),
            "scores": len(self.scores),
            "token_to_word": len(self.token_to_word),
        }
        for name, size in sizes.items():
            if size != n_tok:
                raise ValueError(f"{name} has {size} entries for {n_tok} tokens: one per token")
        for name, size in (("word_spans", len(self.word_spans)), ("word_scores", n_word)):
            if size != n_word or len(self.word_scores) != n_word:
                raise ValueError(f"{name} has {size} entries for {n_word} words: one per word")
        if any(w is not None and not 0 <= w < n_word for w in self.token_to_word):
            raise ValueError("token_to_word refers to a word that does not exist")
        if len(self.probabilities) != len(self.labels):
            raise ValueError(
                f"{len(self.probabilities)} probabilities for {len(self.labels)} labels"
            )
        for name, idx in (("target", self.target), ("contrast", self.contrast)):
            if idx is not None and not 0 <= idx < len(self.labels):
                raise ValueError(f"{name}={idx} is not a class index of labels {self.labels}")

    # -- reading --------------------------------------------------------------------
    @property
    def target_label(self) -> str:
        """Name of the explained class."""
        return self.labels[self.target]

    @property
    def contrast_label(self) -> str | None:
        """Name of the class explained against (contrast mode), else ``None``."""
        return None if self.contrast is None else self.labels[self.contrast]

    @property
    def explained(self) -> str:
        """What the scores explain: ``"positive"``, or ``"positive rather than negative"``."""
        if self.contrast is None:
            return self.target_label
        return f"{self.target_label} rather than {self.contrast_label}"

    def _items(self, level: str) -> tuple[list[str], list[tuple[int, int]], np.ndarray]:
        if level == "word":
            return self.words, self.word_spans, self.word_scores
        check_choice("level", level, LEVELS)
        return self.tokens, self.offsets, self.scores

    def top(self, k: int = 5, level: str = "word", by: str = "score") -> list[tuple[str, float]]:
        """Return the ``k`` words (or tokens) with the highest scores, as ``(text, score)`` pairs.

        ``by="score"`` puts the strongest support for the explained class first;
        ``by="abs"`` ranks by magnitude (either direction). Special tokens are left out at
        token level. Ties keep text order.
        """
        check_non_negative_int("k", k)
        check_choice("by", by, ("score", "abs"))
        names, _, scores = self._items(level)
        idx = [i for i in range(len(names)) if level == "word" or self.token_to_word[i] is not None]
        key = np.abs(scores) if by == "abs" else scores
        idx.sort(key=lambda i: -key[i])
        return [(names[i], float(scores[i])) for i in idx[:k]]

    def to_frame(self, level: str = "word") -> pd.DataFrame:
        """Return a pandas DataFrame, one row per word (or token), in text order.

        Columns: ``word``/``token``, ``start``, ``end``, ``score``; token level adds ``word``
        (the index of the word it belongs to, ``<NA>`` for special tokens).
        """
        import pandas as pd

        names, spans, scores = self._items(level)
        frame = pd.DataFrame(
            {
                level: names,
                "start": [s for s, _ in spans],
                "end": [e for _, e in spans],
                "score": scores,
            }
        )
        if level == "token":
            frame["word"] = pd.array(self.token_to_word, dtype="Int64")
        frame.attrs.update(method=self.method, target=self.target_label, explained=self.explained)
        return frame

    # -- json ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict of every field except ``extras``.

        Non-finite numbers (a NaN score or diagnostic) become ``None`` (JSON ``null``), so the
        JSON is strictly valid; :meth:`from_dict` reads ``null`` back as NaN in the float
        fields (scores, word scores, probabilities, seconds) and in the diagnostics.
        """
        out: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
        for f in fields(self):
            if f.name == "extras":
                continue
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = [float(x) for x in value]
            elif f.name in ("offsets", "word_spans"):
                value = [list(pair) for pair in value]
            elif f.name == "labels":
                value = list(value)
            out[f.name] = to_jsonable(value)
        return out

    def to_json(self, indent: int | None = None) -> str:
        """JSON text of :meth:`to_dict`; :meth:`from_json` gives back an equal Explanation."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(
                "not an interpkit Explanation: expected a dict made by Explanation.to_dict()"
            )
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"Explanation format version {data.get('version')!r} is not supported by this "
                f"interpkit (it reads version {FORMAT_VERSION}): upgrade interpkit"
            )
        names = {f.name for f in fields(cls)} - {"extras"}
        missing = sorted(n for n in names if n not in data)
        if missing:
            raise ValueError(f"Explanation data is missing {', '.join(missing)}")
        values = {name: data[name] for name in names}
        for name in FLOAT_FIELDS:  # null is how to_dict writes a non-finite number
            values[name] = _nan_for_null(values[name])
        diagnostics = values["diagnostics"]
        if isinstance(diagnostics, dict):
            values["diagnostics"] = {k: _nan_for_null(v) for k, v in diagnostics.items()}
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        """Read an Explanation written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"not valid Explanation JSON: {err}") from None
        return cls.from_dict(data)

    def __eq__(self, other: object) -> bool:
        """Compare everything but ``extras`` (through the JSON text: exact, NaN-safe)."""
        if not isinstance(other, Explanation):
            return NotImplemented
        return self.to_json() == other.to_json()  # NaN-safe, exact for floats

    __hash__ = None  # mutable, like any dataclass with eq

    # -- display ----------------------------------------------------------------------
    def to_html(self, level: str = "word", show_timing: bool = False) -> str:
        """Return a standalone HTML snippet: highlighted text, legend, probabilities, method.

        Every string is escaped; no scripts, ids or external resources. Timing is left out
        by default so stored notebook outputs stay the same from run to run.
        """
        names, spans, scores = self._items(level)
        keep = [
            i for i in range(len(names)) if level == "word" or self.token_to_word[i] is not None
        ]
        kept_scores = [scores[i] for i in keep]
        vmax = render.symmetric_vmax(kept_scores)
        seen_until = max((e for _, e in self.word_spans), default=0) if self.truncated else None
        if level == "word":
            body = render.highlight_text(self.text, spans, kept_scores, vmax, seen_until)
        else:
            body = render.highlight_words([names[i] for i in keep], kept_scores, vmax)
        title = (
            f"<b>{render.escape(self.method.replace('_', ' '))}</b> explains "
            f"<b>{render.escape(self.explained)}</b>"
        )
        details = [f"{k} = {_short(v)}" for k, v in self.diagnostics.items() if _displayable(v)]
        if self.params:
            details.append(
                "params: " + ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
            )
        if show_timing:
            details.append(f"{self.seconds:.2f} s")
        note_html = "".join(render.notice(n) for n in self.notices())
        return (
            f'<div class="interpkit-explanation" style="{render.FONT}; line-height: 1.9; '
            'max-width: 60em; margin: 4px 0">'
            f"<div>{title}</div>"
            f'<div style="padding: 4px 0">{body}</div>{note_html}'
            f"{render.legend(vmax, *self._legend_labels())}"
            f"{render.probability_table(self.labels, self.probabilities, self._highlighted())}"
            f'<div style="{render.MUTED}">{render.escape(" · ".join(details))}</div>'
            "</div>"
        )

    @property
    def unknown_fraction(self) -> float:
        """Share of the text's tokens (special tokens aside) unknown to the tokenizer ([UNK]).

        ``diagnostics["unknown_fraction"]``, 0.0 when it has none.
        """
        return float(self.diagnostics.get("unknown_fraction", 0.0))

    @property
    def mostly_unknown(self) -> bool:
        """Whether over half of the text's tokens are unknown ([UNK]).

        The model then saw little of the text, and the scores are mostly about [UNK] tokens.
        """
        return self.unknown_fraction > UNKNOWN_LIMIT

    def notices(self) -> list[str]:
        """List what the reader must know before trusting the scores: truncation, [UNK].

        Views show the same lines (``Explanation.to_html`` and every view that shows it).
        """
        notes = []
        if self.truncated:
            notes.append(
                f"truncated: the model saw only the first {len(self.tokens)} tokens "
                "(struck-through text was not seen)"
            )
        if self.mostly_unknown:
            notes.append(
                f"{self.unknown_fraction:.0%} of the tokens are unknown to the tokenizer ([UNK]): "
                "the model saw little of this text (emoji, or a script its vocabulary lacks?), "
                "so these scores say little about its words"
            )
        return notes

    def _legend_labels(self) -> tuple[str, str]:
        if self.contrast is None:
            return f"against {self.target_label}", f"for {self.target_label}"
        return f"for {self.contrast_label}", f"for {self.target_label}"

    def _highlighted(self) -> tuple[int, ...]:
        return (self.target,) if self.contrast is None else (self.target, self.contrast)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        """Show the method, what is explained, and the sizes (no scores)."""
        flag = ", truncated" if self.truncated else ""
        return (
            f"Explanation(method={self.method!r}, explained={self.explained!r}, "
            f"words={len(self.words)}, tokens={len(self.tokens)}{flag})"
        )

    def plot(self, ax: Any = None, level: str = "word", k: int | None = None) -> Any:
        """Draw a horizontal bar chart of the scores (text order, top down); return the Axes.

        ``k`` keeps only the ``k`` largest by magnitude (still in text order). Nothing is
        recomputed: the chart is drawn from the stored scores.
        """
        import matplotlib.pyplot as plt

        names, _, scores = self._items(level)
        idx = [i for i in range(len(names)) if level == "word" or self.token_to_word[i] is not None]
        if k is not None:
            keep = set(sorted(idx, key=lambda i: -abs(scores[i]))[:k])
            idx = [i for i in idx if i in keep]
        values = [float(scores[i]) for i in idx]
        vmax = render.symmetric_vmax(values)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.28 * max(len(idx), 3) + 1))
        colors = [tuple(c / 255 for c in render.diverging_rgb(v, vmax)) for v in values]
        positions = list(range(len(idx)))
        ax.barh(positions, values, color=colors, edgecolor="#999", linewidth=0.5)
        ax.set_yticks(positions, [names[i] for i in idx])
        ax.invert_yaxis()
        ax.axvline(0, color="#999", linewidth=0.8)
        ax.set_xlabel(f"score ({self.word_rule} of token scores)" if level == "word" else "score")
        ax.set_title(f"{self.method.replace('_', ' ')}: {self.explained}")
        return ax


def _nan_for_null(value: Any) -> Any:
    """JSON ``null`` (None) as NaN, in a number or a list of numbers; anything else as is."""
    if value is None:
        return float("nan")
    if isinstance(value, list):
        return [float("nan") if v is None else v for v in value]
    return value


def _displayable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, np.generic))


def _short(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return render.format_score(float(value)) if math.isfinite(value) else str(value)
    return str(value)
