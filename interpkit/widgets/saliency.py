"""SaliencyView: gradient attributions (Captum) of one text, method by method.

Pick a method, the class to explain, Integrated Gradients' steps and the baseline, and words
or sub-word tokens. Every Explanation is cached per (text, method, target, settings), so
going back to a combination already seen is instant; the word/token toggle only re-renders.

Example
-------
>>> view = interpkit.SaliencyView(clf, "a gripping, funny film", method="integrated_gradients")
>>> view.method_dropdown.value = "saliency"      # computed once, cached
>>> view.explanation.top(3)
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from .. import render
from ..explainers import explain, get_explainer, list_explainers
from ..explainers.vocabulary import BASELINES
from ..explanation import Explanation
from ..models import Classifier
from ..validation import check_choice, check_positive_int
from ._common import TextView, block, note_html

#: Methods offered by default: the gradient family and occlusion (all fast enough to click).
DEFAULT_METHODS = (*list_explainers("gradient"), "occlusion")
LEVELS = (("words", "word"), ("sub-word tokens", "token"))
PREDICTED = -1  # target dropdown value: the predicted class


def bar_chart(explanation: Explanation, level: str) -> str:
    """Escaped SVG bars of the word (or non-special token) scores, in text order."""
    if level == "word":
        names, scores = explanation.words, list(explanation.word_scores)
    else:
        keep = [i for i, w in enumerate(explanation.token_to_word) if w is not None]
        names = [explanation.tokens[i] for i in keep]
        scores = [float(explanation.scores[i]) for i in keep]
    return render.bar_chart_svg(names, scores)


def completeness_html(explanation: Explanation) -> str:
    """For methods with a baseline: do the scores add up to f(text) - f(baseline)?"""
    diag = explanation.diagnostics
    if "convergence_delta" not in diag:
        return ""
    total = float(np.sum(explanation.scores))
    text = f"scores sum to {render.format_score(total)}"
    if "output" in diag and "baseline_output" in diag:
        gap = float(diag["output"]) - float(diag["baseline_output"])
        text += f"; f(text) - f(baseline) = {render.format_score(gap)}"
    delta = float(diag["convergence_delta"])
    scale = max(float(np.sum(np.abs(explanation.scores))), 1e-12)
    verdict = (
        "large compared with the scores: raise n_steps"
        if abs(delta) > 0.05 * scale
        else "small compared with the scores"
    )
    text += f"; convergence delta = {render.format_score(delta)} ({verdict})"
    return note_html(text)


class SaliencyView(TextView):
    """Gradient (and occlusion) attributions with method, class, steps, baseline and level.

    Parameters
    ----------
    classifier : interpkit.Classifier
    text : str
    method : str
        A registered explainer name; see ``methods``.
    target : str, int or None
        Class to explain; None = the predicted class of each text.
    n_steps : int
        Integrated Gradients' path steps.
    baseline : {"pad", "mask", "zero"}
        Reference input for methods that take one (IG, DeepLift, occlusion).
    level : {"word", "token"}
        Show word scores (sum of their tokens) or sub-word token scores.
    methods : sequence of str, optional
        Methods in the dropdown (default: the gradient family and occlusion).

    Controls: ``method_dropdown``, ``target_dropdown`` (-1 = predicted class),
    ``steps_slider``, ``baseline_dropdown``, ``level_buttons``, ``text_box``.
    """

    def __init__(
        self,
        classifier: Classifier,
        text: str,
        method: str = "integrated_gradients",
        target: str | int | None = None,
        n_steps: int = 50,
        baseline: str = "pad",
        level: str = "word",
        methods: Sequence[str] | None = None,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        methods = list(DEFAULT_METHODS if methods is None else methods)
        for name in methods:
            get_explainer(name)  # a clear error for unknown names
        if method not in methods:
            raise ValueError(f"method {method!r} is not offered: pick one of {', '.join(methods)}")
        check_choice("baseline", baseline, BASELINES)
        check_positive_int("n_steps", n_steps)
        check_choice("level", level, ("word", "token"))
        target_id = PREDICTED if target is None else classifier.label_id(target)
        self._cache: dict[tuple, Explanation] = {}
        self._probs: dict[str, np.ndarray] = {}
        self._params = {m: set(get_explainer(m)(classifier).get_params()) for m in methods}
        self.method_dropdown = widgets.Dropdown(
            options=[(m.replace("_", " "), m) for m in methods], value=method, description="method"
        )
        self.target_dropdown = widgets.Dropdown(
            options=[("predicted class", PREDICTED)]
            + [(name, i) for i, name in enumerate(classifier.labels)],
            value=target_id,
            description="explain",
        )
        self.steps_slider = widgets.IntSlider(
            value=n_steps,
            min=min(5, n_steps),
            max=max(300, int(n_steps)),
            step=5,
            description="IG steps",
            continuous_update=False,
        )
        self.baseline_dropdown = widgets.Dropdown(
            options=BASELINES, value=baseline, description="baseline"
        )
        self.level_buttons = widgets.ToggleButtons(options=LEVELS, value=level, description="show")
        controls = [
            widgets.HBox([self.method_dropdown, self.target_dropdown]),
            widgets.HBox([self.steps_slider, self.baseline_dropdown]),
            self.level_buttons,
        ]
        self._setup(classifier, text, controls)
        self._enable_controls()
        self._compute()  # errors with the first text are raised, not shown
        self._render()
        for control in (
            self.method_dropdown,
            self.target_dropdown,
            self.steps_slider,
            self.baseline_dropdown,
        ):
            control.observe(self._on_setting, names=["value"])
        self.level_buttons.observe(self._on_level, names=["value"])

    # -- public ------------------------------------------------------------------------
    @property
    def explanation(self) -> Explanation | None:
        """The Explanation shown now (None before it is computed or after an error)."""
        key = self._key()
        return None if key is None else self._cache.get(key)

    # -- computation -----------------------------------------------------------------------
    def _options(self) -> dict:
        """The settings the current method takes (others do not split the cache)."""
        accepted = self._params[self.method_dropdown.value]
        options = {"n_steps": self.steps_slider.value, "baseline": self.baseline_dropdown.value}
        return {k: v for k, v in options.items() if k in accepted}

    def _key(self) -> tuple | None:
        target = self.target_dropdown.value
        if target == PREDICTED:
            probs = self._probs.get(self._text)
            if probs is None:
                return None
            target = int(np.argmax(probs))
        options = tuple(sorted(self._options().items()))
        return (self._text, self.method_dropdown.value, target, options)

    def _compute(self) -> None:
        key = self._key()
        if key is not None and key in self._cache:
            return
        target = None if key is None else key[2]
        e = explain(
            self.classifier,
            self._text,
            method=self.method_dropdown.value,
            target=target,
            **self._options(),
        )
        self._probs[self._text] = e.probabilities
        self._cache[self._key()] = e

    def _probabilities(self):
        return self._probs.get(self._text)

    def _body_has_probabilities(self) -> bool:
        return self.explanation is not None

    # -- callbacks ---------------------------------------------------------------------------
    def _on_setting(self, change) -> None:
        if change["owner"] is self.method_dropdown:
            self._enable_controls()
        self._refresh()  # cached, or computed once for these settings

    def _on_level(self, change) -> None:
        self._render()  # re-render only: both levels are in the cached Explanation

    def _enable_controls(self) -> None:
        accepted = self._params[self.method_dropdown.value]
        self.steps_slider.disabled = "n_steps" not in accepted
        self.baseline_dropdown.disabled = "baseline" not in accepted

    # -- rendering ---------------------------------------------------------------------------
    def _settings(self) -> dict:
        target = self.target_dropdown.value
        settings = {
            "method": self.method_dropdown.value,
            "target": "predicted" if target == PREDICTED else self.classifier.labels[target],
            **self._options(),
            "level": self.level_buttons.value,
        }
        return settings

    def _body(self, static: bool) -> str:
        e = self.explanation
        if e is None:
            return note_html("not computed yet: press Explain")
        level = self.level_buttons.value
        signed = e.diagnostics.get("signed", True)
        notes = [] if signed else ["unsigned scores: size of the gradient, not its direction"]
        return (
            e.to_html(level=level)
            + completeness_html(e)
            + "".join(note_html(n) for n in notes)
            + block(bar_chart(e, level), "margin: 6px 0")
        )
