"""CompareView: one text, several methods side by side, each with its faithfulness and runtime.

Tick methods to compare. Each method's explanation and its faithfulness scores
(comprehensiveness and sufficiency AOPC, from :func:`interpkit.faithfulness_scores`) are
computed once per text and cached: unticking and ticking again, or changing the agreement
measure, only re-renders. Below the rows, the agreement matrix of the ticked methods is drawn
as a heatmap.

For browser tests, everything is reachable by stable names: ``method_boxes[name]`` (CSS
classes ``interpkit-compare-method`` and ``interpkit-method-<name>``), ``measure_dropdown``
(``interpkit-compare-measure``), and in the HTML ``div.interpkit-compare-row[data-method]``
and ``svg.interpkit-agreement``.

Example
-------
>>> view = interpkit.CompareView(clf, "a gripping, funny film")
>>> view.method_boxes["lime"].value = True        # computed once, cached
>>> view.agreement                                # the matrix shown, as a DataFrame
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np

from .. import render
from ..explainers import explain, get_explainer, method_options
from ..explanation import Explanation
from ..metrics.agreement import MEASURES, agreement_matrix
from ..metrics.evaluation import DEFAULT_METHODS  # offered: the methods evaluate_explanations runs
from ..metrics.faithfulness import DEFAULT_KS, REMOVALS, Faithfulness, check_ks, faithfulness_scores
from ..models import Classifier
from ..predict import Predictor, as_predictor
from ..validation import check_choice
from ._common import TextView, block, note_html

#: Ticked by default: the ones that take well under a second on a CPU.
DEFAULT_SELECTED = ("attention", "integrated_gradients", "saliency", "random")
REMOVED = {"mask": "masked", "delete": "deleted"}


def agreement_svg(matrix, cell: int = 44) -> str:
    """The agreement matrix as an SVG heatmap (red: agree, blue: disagree), values in cells.

    Method names are escaped ``<text>`` elements; each cell has an escaped ``<title>``.
    """
    names = [str(n) for n in matrix.index]
    values = np.asarray(matrix, dtype=np.float64)
    n = len(names)
    label = 8 + 7 * max((len(x) for x in names), default=4)
    top = int(label * 0.75) + 8  # the column names are drawn at 45 degrees
    parts = []
    for i, name in enumerate(names):
        y = top + i * cell + cell * 0.6
        x = label + i * cell + cell * 0.5
        parts.append(
            f'<text x="{label - 4}" y="{y:.1f}" text-anchor="end">{render.escape(name)}</text>'
            f'<text transform="translate({x:.1f},{top - 4}) rotate(-45)">'
            f"{render.escape(name)}</text>"
        )
    for i in range(n):
        for j in range(n):
            v = float(values[i, j])
            rgb = render.diverging_rgb(v, 1.0) if math.isfinite(v) else (238, 238, 238)
            shown = render.format_score(v, 2) if math.isfinite(v) else "n/a"
            tip = render.escape(f"{names[i]} vs {names[j]}: {shown}")
            x, y = label + j * cell, top + i * cell
            fill = f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
            parts.append(
                f'<g><title>{tip}</title><rect x="{x}" y="{y}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="{fill}"/>'
                f'<text x="{x + cell / 2:.1f}" y="{y + cell * 0.6:.1f}" text-anchor="middle" '
                f'fill="{render.text_color(rgb)}">{render.escape(shown)}</text></g>'
            )
    width, height = label + n * cell + 4, top + n * cell + 4
    return (
        f'<svg class="interpkit-agreement" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" style="font-size: 11px; font-family: sans-serif">'
        f"{''.join(parts)}</svg>"
    )


def method_row_html(explanation: Explanation, scores: Faithfulness) -> str:
    """One method: its name, the highlighted text, comprehensiveness, sufficiency, runtime."""
    e = explanation
    vmax = render.symmetric_vmax(e.word_scores)
    seen_until = max((end for _, end in e.word_spans), default=0) if e.truncated else None
    text = render.highlight_text(e.text, e.word_spans, list(e.word_scores), vmax, seen_until)
    numbers = (
        f"comp {render.format_score(scores.comprehensiveness_aopc)} · "
        f"suff {render.format_score(scores.sufficiency_aopc)} · {e.seconds:.2f} s"
    )
    name = render.escape(e.method.replace("_", " "))
    return (
        f'<div class="interpkit-compare-row" data-method="{render.escape(e.method)}" '
        'style="display: grid; grid-template-columns: 11em 1fr 17em; gap: 8px; '
        'align-items: baseline; padding: 3px 0; border-bottom: 1px solid #eee; line-height: 1.8">'
        f"<b>{name}</b><span>{text}</span>"
        f'<span style="{render.MUTED}">{render.escape(numbers)}</span></div>'
    )


class CompareView(TextView):
    """Several explanation methods on one text, side by side, with faithfulness and agreement.

    Parameters
    ----------
    classifier : interpkit.Classifier
    text : str
    methods : sequence of str
        Methods offered as checkboxes (registered explainer names).
    selected : sequence of str, optional
        Methods ticked at the start (default: attention, IG, Saliency and the random control,
        those of them in ``methods``).
    options : ``{method: {option: value}}``, optional
        Parameters per method, e.g. ``{"lime": {"n_samples": 300}}``.
    ks, removal : see :func:`interpkit.faithfulness_scores`
    measure : {"spearman", "kendall", "top_k"}
        Agreement measure of the heatmap (changing it only re-renders).

    Controls: ``method_boxes`` (dict of checkboxes by method name), ``measure_dropdown``,
    ``text_box``. Ticking a method computes it once for the text; everything else re-renders
    cached results.
    """

    def __init__(
        self,
        classifier: Classifier | Predictor,
        text: str,
        methods: Sequence[str] = DEFAULT_METHODS,
        selected: Sequence[str] | None = None,
        options: Mapping[str, Mapping] | None = None,
        ks: Sequence[float] = DEFAULT_KS,
        removal: str = "mask",
        measure: str = "spearman",
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        methods = [methods] if isinstance(methods, str) else list(methods)
        if not methods:
            raise ValueError("no methods given: pass e.g. ['integrated_gradients', 'random']")
        for name in methods:
            get_explainer(name)  # unknown names list the available ones
        if selected is None:
            selected = [m for m in DEFAULT_SELECTED if m in methods] or methods[:1]
        selected = [selected] if isinstance(selected, str) else list(selected)
        unknown = [m for m in selected if m not in methods]
        if unknown:
            raise ValueError(
                f"selected method {unknown[0]!r} is not offered: pick from {', '.join(methods)}"
            )
        self.options = {m: o for m, o in method_options(methods, options).items() if o}
        check_choice("removal", removal, REMOVALS)
        check_choice("measure", measure, MEASURES)
        self.ks = check_ks(ks)
        #: Predictions shared by the methods' faithfulness scores (a text is predicted once).
        self._predictor = as_predictor(classifier)
        self.removal = removal
        self.methods = methods
        self._cache: dict[tuple[str, str], tuple[Explanation, Faithfulness]] = {}
        self._probs: dict[str, np.ndarray] = {}
        self.method_boxes: dict[str, widgets.Checkbox] = {}
        for name in methods:
            box = widgets.Checkbox(
                value=name in selected,
                description=name.replace("_", " "),
                indent=False,
                layout=widgets.Layout(width="auto", margin="0 12px 0 0"),
            )
            box.add_class("interpkit-compare-method")
            box.add_class(f"interpkit-method-{name}")
            self.method_boxes[name] = box
        self.measure_dropdown = widgets.Dropdown(
            options=MEASURES, value=measure, description="agreement"
        )
        self.measure_dropdown.add_class("interpkit-compare-measure")
        controls = [
            widgets.HBox(list(self.method_boxes.values()), layout=widgets.Layout(flex_flow="wrap")),
            self.measure_dropdown,
        ]
        self._setup(classifier, text, controls)
        self.add_class("interpkit-compare")
        self._compute()  # errors with the first text are raised, not shown
        self._render()
        for box in self.method_boxes.values():
            box.observe(self._on_method, names=["value"])
        self.measure_dropdown.observe(self._on_measure, names=["value"])

    # -- public ---------------------------------------------------------------------------
    @property
    def selected(self) -> list[str]:
        """The ticked methods, in offered order."""
        return [m for m, box in self.method_boxes.items() if box.value]

    @property
    def explanations(self) -> dict[str, Explanation]:
        """The cached Explanation of each ticked method for the current text."""
        return {
            m: self._cache[(self._text, m)][0]
            for m in self.selected
            if (self._text, m) in self._cache
        }

    @property
    def scores(self) -> dict[str, Faithfulness]:
        """The cached faithfulness scores of each ticked method for the current text."""
        return {
            m: self._cache[(self._text, m)][1]
            for m in self.selected
            if (self._text, m) in self._cache
        }

    @property
    def agreement(self):
        """The agreement matrix of the ticked methods (DataFrame), or None with fewer than two."""
        explanations = self.explanations
        if len(explanations) < 2:
            return None
        return agreement_matrix(explanations, measure=self.measure_dropdown.value)

    # -- computation ------------------------------------------------------------------------
    def _compute(self) -> None:
        for method in self.selected:
            key = (self._text, method)
            if key in self._cache:
                continue
            e = explain(self.classifier, self._text, method=method, **self.options.get(method, {}))
            f = faithfulness_scores(self._predictor, e, ks=self.ks, removal=self.removal)
            self._cache[key] = (e, f)
            self._probs[self._text] = e.probabilities
        if self._text not in self._probs:
            self._probs[self._text] = self.classifier.predict_proba([self._text])[0]

    def _probabilities(self):
        return self._probs.get(self._text)

    # -- callbacks ------------------------------------------------------------------------------
    def _on_method(self, change) -> None:
        self._refresh()  # computes only methods not yet cached for this text

    def _on_measure(self, change) -> None:
        self._render()  # re-render only

    # -- rendering --------------------------------------------------------------------------------
    def _settings(self) -> dict:
        return {"methods": self.selected, "measure": self.measure_dropdown.value}

    def _body(self, static: bool) -> str:
        pairs = [
            self._cache[(self._text, m)] for m in self.selected if (self._text, m) in self._cache
        ]
        if not pairs:
            return note_html("no method ticked: tick at least one to explain the text")
        e0 = pairs[0][0]
        ks = ", ".join(f"{k:g}" for k in self.ks)
        head = note_html(
            f"explaining {e0.target_label} (the predicted class). comp = comprehensiveness "
            f"(drop in p when the top words are {REMOVED[self.removal]}; higher is more faithful), "
            f"suff = sufficiency (drop when only they are kept; lower is better), both averaged "
            f"over k = {ks} of the words. Red: for the class, blue: against."
        )
        head += "".join(render.notice(n) for n in e0.notices())  # truncation, [UNK]
        rows = "".join(method_row_html(e, f) for e, f in pairs)
        matrix = self.agreement
        if matrix is None:
            heat = note_html("tick two or more methods to see how much they agree")
        else:
            heat = block(
                note_html(f"agreement ({self.measure_dropdown.value} of word-score magnitudes)")
                + agreement_svg(matrix),
                "margin: 8px 0",
            )
        return head + block(rows, "margin: 4px 0") + heat
