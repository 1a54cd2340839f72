"""What every view shares: the text box, the prediction panel, and small escaped HTML helpers.

A view is a :class:`TextView` (an ipywidgets ``VBox``): a text box with an Explain button to
explain your own sentence, a one-line prediction panel, the view's own controls, and one
``HTML`` leaf that :meth:`TextView._render` fills. Every string that reaches HTML goes through
:func:`interpkit.render.escape`; nothing here uses ids, scripts or external resources, so the
static ``_repr_html_`` of a view is stable between runs (nbval) and reads well on GitHub.
"""

from __future__ import annotations

import base64
import contextlib
import struct
import zlib
from collections.abc import Iterator, Sequence

import ipywidgets as widgets
import numpy as np

from .. import render
from ..models import Classifier
from ..predict import Predictor
from ..validation import check_texts

#: Sequential colour of attention (not the red/blue of "for"/"against" a class).
ATTENTION_RGB = (84, 39, 143)
#: Longest text shown in a view's ``repr``.
PREVIEW_CHARS = 30


def check_text(text) -> str:
    """``text`` as one non-empty string, or a one-line error that says what to pass."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}: pass one sentence")
    (text,) = check_texts(text)
    return text


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis), for reprs and titles."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def block(html: str, style: str = "") -> str:
    """``html`` (already escaped) in a ``<div>`` with an inline style."""
    return f'<div style="{style}">{html}</div>' if style else f"<div>{html}</div>"


def note_html(message: str) -> str:
    """A muted one-line note (escaped)."""
    return block(render.escape(message), f"{render.MUTED}; margin: 4px 0")


def error_html(message: str) -> str:
    """A visible one-line error (escaped), shown in place of a result."""
    return block(render.escape(message), "color: #b00020; font-size: 13px; margin: 4px 0")


def title_html(parts: Sequence[str]) -> str:
    """A bold heading made of escaped parts joined by middle dots."""
    text = " · ".join(render.escape(p) for p in parts)
    return block(f"<b>{text}</b>", "margin: 4px 0")


def prediction_html(text: str, labels: Sequence[str], probabilities, table: bool = True) -> str:
    """The analysed text, the predicted label and (``table``) every class probability, escaped."""
    probs = np.asarray(probabilities, dtype=np.float64)
    best = int(np.argmax(probs))
    head = (
        f"“{render.escape(text)}” → predicted <b>{render.escape(labels[best])}</b> "
        f"(p = {render.escape(render.format_score(probs[best]))})"
    )
    table = render.probability_table(labels, probs, (best,)) if table else ""
    return (
        f'<div class="interpkit-prediction-text" style="{render.FONT}; margin: 4px 0">'
        f"<div>{head}</div>{table}</div>"
    )


def settings_html(name: str, settings: dict) -> str:
    """A muted line naming the view and its current settings (escaped)."""
    items = ", ".join(f"{k} = {v}" for k, v in settings.items())
    return note_html(f"{name}: {items}")


def png_data_uri(values: np.ndarray, rgb: tuple[int, int, int] = ATTENTION_RGB) -> str:
    """A ``data:image/png`` URI of a small matrix (values in [0, 1]: white to ``rgb``).

    One pixel per cell, written with zlib (deterministic bytes, no matplotlib): thumbnails of
    dozens of attention heads stay a few kB in a stored notebook, where SVG would take MBs.
    """
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    if v.ndim != 2 or v.size == 0:
        raise ValueError(f"png_data_uri needs a non-empty 2-D matrix, got shape {v.shape}")
    white, end = np.array([255.0, 255.0, 255.0]), np.array(rgb, dtype=np.float64)
    pixels = np.round(white + (end - white) * v[..., None]).astype(np.uint8)
    height, width = v.shape
    raw = b"".join(b"\x00" + pixels[i].tobytes() for i in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@contextlib.contextmanager
def hold(*items: widgets.Widget) -> Iterator[None]:
    """``hold_sync()`` on several widgets at once: each sends its changes in one message."""
    with contextlib.ExitStack() as stack:
        for item in items:
            stack.enter_context(item.hold_sync())
        yield


def add_dom_classes(view: widgets.DOMWidget) -> None:
    """Stable CSS hooks for browser tests and custom styling.

    The view gets ``interpkit-view`` and ``interpkit-<classname>`` (e.g.
    ``interpkit-attentionview``); each public control held in an attribute gets
    ``interpkit-<attribute>`` with dashes (``layer_slider`` -> ``interpkit-layer-slider``).
    """
    view.add_class("interpkit-view")
    view.add_class(f"interpkit-{type(view).__name__.lower()}")
    for name, value in vars(view).items():
        if not name.startswith("_") and isinstance(value, widgets.DOMWidget):
            value.add_class(f"interpkit-{name.replace('_', '-')}")


class TextView(widgets.VBox):
    """Base of the views: text box + Explain button, prediction panel, controls, one HTML leaf.

    Subclasses build their controls, call :meth:`_setup`, and implement :meth:`_compute`
    (make or fetch what the current settings need; may call the model) and :meth:`_body`
    (HTML of the current result from cached data only). Changing the text asks for new
    computation; every other callback of a subclass re-renders cached results unless the
    user asks for more (a Run button).
    """

    def _setup(
        self,
        classifier: Classifier | Predictor,
        text: str,
        controls: Sequence[widgets.Widget],
    ) -> None:
        self.classifier = classifier
        self._text = check_text(text)
        self._text_error: str | None = None  # the text box holds no valid text
        self._error: str | None = None  # the last computation failed
        self.text_box = widgets.Textarea(
            value=self._text,
            placeholder="Type a sentence, then press Explain",
            rows=2,
            continuous_update=False,
            layout=widgets.Layout(width="70%"),
        )
        self.explain_button = widgets.Button(
            description="Explain", tooltip="Explain the sentence in the text box"
        )
        self.prediction = widgets.HTML()
        self.output = widgets.HTML()
        self._top = widgets.HBox([self.text_box, self.explain_button])
        self._controls = list(controls)
        self.children = (self._top, self.prediction, *self._controls, self.output)
        self.text_box.observe(self._on_text, names=["value"])
        self.explain_button.on_click(self._on_explain)
        add_dom_classes(self)

    # -- public --------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The text the current rendering is about."""
        return self._text

    def show(self) -> None:
        """Display the view in the notebook (same as leaving it last in a cell)."""
        from IPython.display import display

        display(self)

    # -- callbacks -------------------------------------------------------------------
    def _on_text(self, change) -> None:
        self._set_text(self.text_box.value)

    def _on_explain(self, _button) -> None:
        self._set_text(self.text_box.value)

    def _set_text(self, text: str) -> None:
        try:
            self._text = check_text(text)
        except (TypeError, ValueError) as err:
            self._text_error = f"{err}"  # shown until a valid text is entered
        else:
            self._text_error = None
        self._refresh()

    def _refresh(self) -> None:
        """Compute what the settings need (errors shown in the view), then render."""
        if self._text_error is None:
            self._error = None
            try:
                self._compute()
            except (TypeError, ValueError, RuntimeError) as err:
                self._error = f"could not explain this text: {err}"
        self._render()

    @property
    def _message(self) -> str | None:
        """The error to show instead of a result, if any."""
        return self._text_error or self._error

    def _render(self) -> None:
        with hold(self.prediction, self.output):
            self.prediction.value = self._prediction_html()
            self.output.value = error_html(self._message) if self._message else self._body(False)

    # -- static html -------------------------------------------------------------------
    def _prediction_html(self) -> str:
        if self._message:
            return ""
        probs = self._probabilities()
        if probs is None:
            return block(f"“{render.escape(self._text)}”", f"{render.FONT}; margin: 4px 0")
        table = not self._body_has_probabilities()
        return prediction_html(self._text, self.classifier.labels, probs, table=table)

    def _repr_html_(self) -> str:
        """The current rendering as static HTML (for GitHub, nbviewer and saved outputs)."""
        body = error_html(self._message) if self._message else self._body(True)
        return (
            f'<div class="interpkit-static-view" style="{render.FONT}; max-width: 60em">'
            f"{settings_html(type(self).__name__, self._settings())}"
            f"{self._prediction_html()}{body}</div>"
        )

    def __repr__(self) -> str:
        state = {"text": preview(self._text), **self._settings()}
        args = ", ".join(f"{k}={v!r}" for k, v in state.items())
        return f"{type(self).__name__}({args})"

    # -- for subclasses ---------------------------------------------------------------
    def _compute(self) -> None:
        raise NotImplementedError

    def _body(self, static: bool) -> str:
        raise NotImplementedError

    def _settings(self) -> dict:
        raise NotImplementedError

    def _probabilities(self) -> np.ndarray | None:
        raise NotImplementedError

    def _body_has_probabilities(self) -> bool:
        """True when the body shows the probability table itself (an Explanation's HTML)."""
        return False
