"""AttentionView: every layer and head of one text's attention, re-rendered without the model.

The model runs once per text (``interpkit.explain(..., method="attention")``); the raw
``(layers, heads, seq, seq)`` tensor it keeps in ``Explanation.extras["attention"]`` is all the
view needs afterwards. Changing layer, head, mode or the special-token toggle only redraws
from that tensor (``benchmarks/view_speed.py`` times it against one forward pass).

Modes: ``"heatmap"`` (query × key grid), ``"head"`` (bertviz-style lines between tokens,
strength = opacity), ``"model"`` (a thumbnail of every layer × head; clicking a head's button
selects it) and ``"rollout"`` (Abnar & Zuidema's attention rollout up to the chosen layer).

Example
-------
>>> view = interpkit.AttentionView(clf, "a gripping, funny film")
>>> view                                   # interactive in Jupyter, static HTML on GitHub
>>> view.mode_buttons.value = "model"      # or click in the notebook
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from .. import render
from ..explainers import explain
from ..explainers.attention import aggregate_heads, drop_special, rollout
from ..explanation import Explanation
from ..models import Classifier
from ._common import (
    ATTENTION_RGB,
    TextView,
    block,
    hold,
    note_html,
    png_data_uri,
    title_html,
)

MODES = (
    ("heatmap", "heatmap"),
    ("head view", "head"),
    ("model view", "model"),
    ("rollout", "rollout"),
)
HEAD_AGGREGATES = ("mean", "max")
#: Texts whose attention tensors the view keeps (the least recently shown is dropped first).
MAX_CACHED_TEXTS = 4
#: Tokens drawn in the heatmap and head view; longer texts show their first MAX_TOKENS.
MAX_TOKENS = 48
_FILL = "rgb({}, {}, {})".format(*ATTENTION_RGB)
_LABEL_CHARS = 12


def _label(token: str) -> str:
    return token if len(token) <= _LABEL_CHARS else token[: _LABEL_CHARS - 1] + "…"


def _label_width(tokens: Sequence[str]) -> int:
    return 10 + 7 * max((len(_label(t)) for t in tokens), default=1)


def _svg(width: float, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'style="font-size: 11px; font-family: sans-serif">{body}</svg>'
    )


def heatmap_svg(tokens: Sequence[str], matrix: np.ndarray, cell: int = 16) -> str:
    """A query (rows) × key (columns) grid; cell opacity = weight / the largest weight.

    Tokens are escaped ``<text>`` elements; every drawn cell has an escaped ``<title>``
    tooltip. Cells below 1 % of the largest weight are left blank.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(tokens)
    if matrix.shape != (n, n):
        raise ValueError(f"matrix has shape {matrix.shape} for {n} tokens: pass ({n}, {n})")
    left = top = _label_width(tokens)
    vmax = float(matrix.max()) if n and matrix.max() > 0 else 1.0
    parts = [
        f'<rect x="{left}" y="{top}" width="{n * cell}" height="{n * cell}" fill="#fafafa" '
        'stroke="#ddd"/>'
    ]
    for i, token in enumerate(tokens):
        name, tip = render.escape(_label(token)), render.escape(token)
        y = top + i * cell + cell * 0.72
        x = left + i * cell + cell * 0.72
        parts.append(
            f'<text x="{left - 4}" y="{y:.1f}" text-anchor="end"><title>{tip}</title>{name}</text>'
            f'<text transform="translate({x:.1f},{top - 4}) rotate(-90)">'
            f"<title>{tip}</title>{name}</text>"
        )
    for i, query in enumerate(tokens):
        for j, key in enumerate(tokens):
            weight = float(matrix[i, j])
            opacity = weight / vmax
            if opacity < 0.01:
                continue
            tip = render.escape(f"{query} → {key}: {render.format_score(weight)}")
            parts.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="{_FILL}" fill-opacity="{opacity:.2f}">'
                f"<title>{tip}</title></rect>"
            )
    return _svg(left + n * cell + 4, top + n * cell + 4, "".join(parts))


def head_view_svg(tokens: Sequence[str], matrix: np.ndarray, row: int = 18, gap: int = 150) -> str:
    """Tokens twice (attending on the left, attended to on the right) joined by lines whose
    opacity is weight / the largest weight; lines below 2 % are left out."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(tokens)
    if matrix.shape != (n, n):
        raise ValueError(f"matrix has shape {matrix.shape} for {n} tokens: pass ({n}, {n})")
    label = _label_width(tokens)
    x1, x2 = label, label + gap
    vmax = float(matrix.max()) if n and matrix.max() > 0 else 1.0
    parts = []
    for i, query in enumerate(tokens):
        for j, key in enumerate(tokens):
            weight = float(matrix[i, j])
            opacity = weight / vmax
            if opacity < 0.02:
                continue
            y1, y2 = i * row + row / 2 + 2, j * row + row / 2 + 2
            tip = render.escape(f"{query} → {key}: {render.format_score(weight)}")
            parts.append(
                f'<line x1="{x1}" y1="{y1:.1f}" x2="{x2}" y2="{y2:.1f}" stroke="{_FILL}" '
                f'stroke-width="2" stroke-opacity="{opacity:.2f}"><title>{tip}</title></line>'
            )
    for i, token in enumerate(tokens):
        name, tip = render.escape(_label(token)), render.escape(token)
        y = i * row + row * 0.72 + 2
        parts.append(
            f'<text x="{x1 - 4}" y="{y:.1f}" text-anchor="end"><title>{tip}</title>{name}</text>'
            f'<text x="{x2 + 4}" y="{y:.1f}"><title>{tip}</title>{name}</text>'
        )
    return _svg(x2 + label + 4, n * row + 4, "".join(parts))


def thumbnail_html(matrix: np.ndarray, caption: str, selected: bool = False, size: int = 56) -> str:
    """A small pixel image of one head's attention (darkest = its largest weight)."""
    return thumbnail_img(thumbnail_uri(matrix), caption, selected, size)


def thumbnail_uri(matrix: np.ndarray) -> str:
    """PNG data URI of ``matrix`` scaled so that its largest weight is darkest."""
    matrix = np.asarray(matrix, dtype=np.float64)
    vmax = float(matrix.max()) if matrix.size and matrix.max() > 0 else 1.0
    return png_data_uri(matrix / vmax)


def thumbnail_img(uri: str, caption: str, selected: bool = False, size: int = 56) -> str:
    border = f"2px solid {_FILL}" if selected else "1px solid #ccc"
    tip = render.escape(caption)
    return (
        f'<img src="{render.escape(uri)}" width="{size}" height="{size}" '
        f'alt="{tip}" title="{tip}" style="image-rendering: pixelated; border: {border}"/>'
    )


class AttentionData:
    """One text's attention, computed once, with the aggregates the view asks for memoised.

    ``raw`` is ``(layers, heads, seq, seq)``; ``special`` marks [CLS]/[SEP] (tokens that
    belong to no word).
    """

    def __init__(self, explanation: Explanation) -> None:
        if "attention" not in explanation.extras:
            raise ValueError("this Explanation holds no attention: make it with method='attention'")
        self.explanation = explanation
        self.tokens = list(explanation.tokens)
        self.special = np.array([w is None for w in explanation.token_to_word], dtype=bool)
        # float32 as the model made it: (6, 12, 512, 512) is 75 MB, float64 would double it
        self.raw = np.asarray(explanation.extras["attention"], dtype=np.float32)
        self._heads: dict[str, np.ndarray] = {}
        self._rollouts: dict[int, np.ndarray] = {}
        self._thumbnails: dict[tuple[int, int, bool], str] = {}

    @property
    def layers(self) -> int:
        return int(self.raw.shape[0])

    @property
    def heads(self) -> int:
        return int(self.raw.shape[1])

    def matrix(self, layer: int, head: str | int) -> np.ndarray:
        """``(seq, seq)`` attention of one layer: one head, or the mean/max over heads."""
        if isinstance(head, str):
            if head not in self._heads:
                self._heads[head] = aggregate_heads(self.raw, head)
            return self._heads[head][layer]
        return self.raw[layer, head]

    def rollout(self, layer: int) -> np.ndarray:
        """Attention rollout (mean over heads, residual) through layers ``0..layer``."""
        if layer not in self._rollouts:
            self._rollouts[layer] = rollout(self.matrix_stack()[: layer + 1], residual=True)
        return self._rollouts[layer]

    def thumbnail(self, layer: int, head: int, special_tokens: bool) -> str:
        """PNG data URI of one head as displayed (memoised: the model view redraws cheaply)."""
        key = (layer, head, special_tokens)
        if key not in self._thumbnails:
            _, matrix = self.shown(self.matrix(layer, head), special_tokens)
            self._thumbnails[key] = thumbnail_uri(matrix)
        return self._thumbnails[key]

    def matrix_stack(self) -> np.ndarray:
        self.matrix(0, "mean")
        return self._heads["mean"]

    def shown(self, matrix: np.ndarray, special_tokens: bool) -> tuple[list[str], np.ndarray]:
        """Tokens and matrix as displayed: without [CLS]/[SEP] (rows renormalised) when
        ``special_tokens`` is False, and cut to :data:`MAX_TOKENS`."""
        tokens = self.tokens
        if not special_tokens and self.special.any() and not self.special.all():
            keep = ~self.special
            matrix = drop_special(matrix, self.special)[np.ix_(keep, keep)]
            tokens = [t for t, k in zip(tokens, keep, strict=True) if k]
        return tokens[:MAX_TOKENS], matrix[:MAX_TOKENS, :MAX_TOKENS]


class AttentionView(TextView):
    """Attention of one text: heatmap, head view, model view (all heads) and rollout.

    Parameters
    ----------
    classifier : interpkit.Classifier
    text : str
        The sentence to show; the text box explains others.
    layer : int
        Layer to show (negative counts from the last, as in Python).
    head : "mean", "max" or int
        One head, or the mean/max over the layer's heads.
    mode : {"heatmap", "head", "model", "rollout"}
    special_tokens : bool
        Show [CLS] and [SEP]; hiding them drops the attention paid to them and renormalises
        each row (they often soak up most of it).

    Controls (drive them from code or tests): ``layer_slider``, ``head_dropdown``,
    ``mode_buttons``, ``special_checkbox``, ``text_box``; in model view ``thumbnail_buttons``
    maps ``(layer, head)`` to the button that selects it.

    Example
    -------
    >>> view = AttentionView(clf, "a gripping, funny film", layer=-1, head="mean")
    >>> view.select(layer=2, head=5)   # re-rendered from the cached tensor, no model call
    """

    def __init__(
        self,
        classifier: Classifier,
        text: str,
        layer: int = -1,
        head: str | int = "mean",
        mode: str = "heatmap",
        special_tokens: bool = True,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        modes = [value for _, value in MODES]
        if mode not in modes:
            raise ValueError(f"mode must be one of {', '.join(map(repr, modes))}, got {mode!r}")
        self._cache: OrderedDict[str, AttentionData] = OrderedDict()
        self._paused = False
        self.layer_slider = widgets.IntSlider(value=0, min=0, max=0, description="layer")
        self.head_dropdown = widgets.Dropdown(
            description="head", options=[("mean of heads", "mean")]
        )
        self.mode_buttons = widgets.ToggleButtons(options=MODES, value=mode, description="mode")
        self.special_checkbox = widgets.Checkbox(
            value=bool(special_tokens), description="show [CLS]/[SEP]", indent=False
        )
        self.thumbnail_buttons: dict[tuple[int, int], widgets.Button] = {}
        self._thumbnails: dict[tuple[int, int], widgets.HTML] = {}
        self.model_grid = widgets.GridBox(layout=widgets.Layout(display="none"))
        controls = [
            self.mode_buttons,
            widgets.HBox([self.layer_slider, self.head_dropdown, self.special_checkbox]),
            self.model_grid,
        ]
        self._setup(classifier, text, controls)
        self._compute()
        data = self._data()
        self._fit_controls(data)
        self.layer_slider.value = _check_index(layer, data.layers, "layer")
        self.head_dropdown.value = _check_head(head, data.heads)
        for control in (self.layer_slider, self.head_dropdown, self.special_checkbox):
            control.observe(self._on_setting, names=["value"])
        self.mode_buttons.observe(self._on_mode, names=["value"])
        self._update_mode()
        self._render()

    # -- public ------------------------------------------------------------------------
    @property
    def explanation(self) -> Explanation | None:
        """The attention Explanation of the current text (holds the raw tensor)."""
        data = self._cache.get(self._text)
        return None if data is None else data.explanation

    def select(self, layer: int, head: str | int) -> None:
        """Show ``layer`` (negative counts from the last) and ``head`` ("mean", "max" or an
        index): one render, no model call."""
        data = self._data()
        layer, head = _check_index(layer, data.layers, "layer"), _check_head(head, data.heads)
        with self._batch():
            self.layer_slider.value = layer
            self.head_dropdown.value = head
        self._render()

    # -- computation (model calls happen only here) -----------------------------------------
    def _compute(self) -> None:
        if self._text in self._cache:
            self._cache.move_to_end(self._text)
            return
        e = explain(self.classifier, self._text, method="attention")
        self._cache[self._text] = AttentionData(e)
        while len(self._cache) > MAX_CACHED_TEXTS:  # tensors of long texts are large
            self._cache.popitem(last=False)

    def _data(self) -> AttentionData:
        return self._cache[self._text]

    def _probabilities(self):
        data = self._cache.get(self._text)
        return None if data is None else data.explanation.probabilities

    # -- callbacks (render only) ---------------------------------------------------------
    def _on_setting(self, change) -> None:
        if not self._paused:
            self._render()

    def _on_mode(self, change) -> None:
        self._update_mode()
        self._render()

    @contextlib.contextmanager
    def _batch(self):
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def _update_mode(self) -> None:
        mode = self.mode_buttons.value
        with hold(self.head_dropdown, self.layer_slider, self.model_grid.layout):
            self.head_dropdown.disabled = mode == "rollout"
            self.layer_slider.description = "up to layer" if mode == "rollout" else "layer"
            if mode == "model" and not self._thumbnails and self._text in self._cache:
                self._build_grid(self._data())
            self.model_grid.layout.display = "grid" if mode == "model" else "none"

    def _fit_controls(self, data: AttentionData) -> None:
        with self._batch(), hold(self.layer_slider, self.head_dropdown):
            self.layer_slider.max = data.layers - 1
            options = [(f"{h} of heads", h) for h in HEAD_AGGREGATES]
            options += [(f"head {h}", h) for h in range(data.heads)]
            value = self.head_dropdown.value
            self.head_dropdown.options = options
            valid = value in HEAD_AGGREGATES or (isinstance(value, int) and value < data.heads)
            self.head_dropdown.value = value if valid else "mean"

    def _build_grid(self, data: AttentionData) -> None:
        """One thumbnail and one button per layer × head (made when model view is first used)."""
        self.thumbnail_buttons, self._thumbnails, cells = {}, {}, []
        for layer in range(data.layers):
            for head in range(data.heads):
                button = widgets.Button(
                    description=f"L{layer} H{head}",
                    tooltip=f"show layer {layer}, head {head}",
                    layout=widgets.Layout(width="58px", padding="0"),
                )
                button.on_click(lambda _b, lay=layer, hd=head: self.select(lay, hd))
                thumb = widgets.HTML()
                self.thumbnail_buttons[(layer, head)] = button
                self._thumbnails[(layer, head)] = thumb
                cells.append(widgets.VBox([thumb, button]))
        self.model_grid.children = cells
        self.model_grid.layout.grid_template_columns = f"repeat({data.heads}, 62px)"

    # -- rendering (cached tensor only) -------------------------------------------------------
    def _settings(self) -> dict:
        return {
            "layer": self.layer_slider.value,
            "head": self.head_dropdown.value,
            "mode": self.mode_buttons.value,
            "special_tokens": self.special_checkbox.value,
        }

    def _render(self) -> None:
        if self.mode_buttons.value == "model" and self._thumbnails and not self._message:
            data = self._data()
            selected = self._selected_head()
            for (layer, head), thumb in self._thumbnails.items():
                html = self._thumbnail(data, layer, head, selected)
                if thumb.value != html:
                    thumb.value = html
                style = "info" if (layer, head) == selected else ""
                self.thumbnail_buttons[(layer, head)].button_style = style
        super()._render()

    def _selected_head(self) -> tuple[int, int] | None:
        head = self.head_dropdown.value
        return None if isinstance(head, str) else (self.layer_slider.value, head)

    def _thumbnail(self, data: AttentionData, layer: int, head: int, selected) -> str:
        uri = data.thumbnail(layer, head, self.special_checkbox.value)
        return thumbnail_img(uri, f"layer {layer}, head {head}", (layer, head) == selected)

    def _body(self, static: bool) -> str:
        data = self._data()
        layer, head = self.layer_slider.value, self.head_dropdown.value
        mode, special = self.mode_buttons.value, self.special_checkbox.value
        head_name = f"{head} of {data.heads} heads" if isinstance(head, str) else f"head {head}"
        parts = []
        if mode == "rollout":
            matrix = data.rollout(layer)
            tokens, shown = data.shown(matrix, special)
            parts.append(
                title_html([f"attention rollout through layers 0-{layer}", "mean of heads"])
            )
            row, strip_tokens = matrix[0], data.tokens  # [CLS] opens every BERT input
            if not special:
                keep = ~data.special
                row = drop_special(matrix, data.special)[0][keep]
                strip_tokens = [t for t, k in zip(data.tokens, keep, strict=True) if k]
            strip = render.highlight_words(strip_tokens[:MAX_TOKENS], list(row[:MAX_TOKENS]))
            parts.append(
                block(f"[CLS] reads, after rollout: {strip}", "margin: 4px 0; line-height: 1.9")
            )
            parts.append(heatmap_svg(tokens, shown))
        else:
            tokens, shown = data.shown(data.matrix(layer, head), special)
            parts.append(title_html([f"layer {layer} of {data.layers}", head_name]))
            if mode == "model":
                parts.append(self._model_view_html(data, static))
            if mode == "head":
                parts.append(head_view_svg(tokens, shown))
            else:
                parts.append(heatmap_svg(tokens, shown))
        # truncation and unknown tokens, right under the title (as every view shows them)
        parts.insert(1, "".join(render.notice(n) for n in data.explanation.notices()))
        parts.append(self._caption(mode, data, special))
        return "".join(parts)

    def _model_view_html(self, data: AttentionData, static: bool) -> str:
        intro = note_html(
            f"model view: {data.layers} layers (rows) × {data.heads} heads (columns); "
            "click a head's button to inspect it below"
        )
        if not static:
            return intro
        selected = self._selected_head()
        rows = []
        for layer in range(data.layers):
            cells = "".join(
                f'<td style="padding: 1px; text-align: center">'
                f"{self._thumbnail(data, layer, head, selected)}<br/>L{layer} H{head}</td>"
                for head in range(data.heads)
            )
            rows.append(f"<tr>{cells}</tr>")
        table = f'<table style="border-collapse: collapse; {render.MUTED}">{"".join(rows)}</table>'
        return intro + table

    def _caption(self, mode: str, data: AttentionData, special: bool) -> str:
        notes = []
        if mode == "head":
            notes.append("left: token attending; right: token attended to; opacity = weight")
        else:
            notes.append("rows: token attending (query); columns: token attended to (key)")
        if not special:
            notes.append("[CLS]/[SEP] hidden, rows renormalised")
        if len(data.tokens) > MAX_TOKENS:
            notes.append(f"first {MAX_TOKENS} of {len(data.tokens)} tokens shown")
        notes.append("attention shows where information flows, not why the model decided")
        return note_html("; ".join(notes))


def _check_head(value, size: int) -> str | int:
    if isinstance(value, str):
        if value in HEAD_AGGREGATES:
            return value
        raise ValueError(f"head must be 'mean', 'max' or a head index, got {value!r}")
    return _check_index(value, size, "head")


def _check_index(value, size: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if not -size <= int(value) < size:
        raise ValueError(f"{what} {value} does not exist: this model has {size} {what}s")
    return int(value) % size
