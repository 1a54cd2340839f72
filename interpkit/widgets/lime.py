"""LimeView: LIME word weights on demand, with a progress bar and a cache per settings.

LIME predicts hundreds of perturbed texts, so nothing runs until Run is pressed (or
:meth:`LimeView.run` is called). The progress bar moves as each batch of perturbed texts is
predicted; results are cached per (text, num_samples, num_features, seed), so changing a
setting back shows the earlier result at once. The surrogate's R² says how well the linear
model fits the classifier around the text.

Example
-------
>>> view = interpkit.LimeView(clf, "a gripping, funny film", num_samples=500)
>>> view.run()                  # or press Run
>>> view.explanation.diagnostics["r2"]
"""

from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from .. import render
from ..explainers import explain
from ..explanation import Explanation
from ..models import TruncationWarning
from ._common import TextView, block, hold, note_html


class ProgressClassifier:
    """A classifier whose ``predict_proba`` works in batches and moves ``progress`` after each.

    Everything else is the wrapped classifier's (attribute access is forwarded), so an
    explainer built on it computes exactly what it would on the classifier itself. Texts are
    sorted by length before batching (little padding) and returned in the order given.
    """

    def __init__(self, classifier, progress: widgets.IntProgress) -> None:
        self._classifier = classifier
        self._progress = progress

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_classifier", "_progress"):
            raise AttributeError(name)  # no recursion while copying or half-built
        return getattr(self._classifier, name)

    def predict_proba(self, texts, batch_size: int = 64) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        out = np.empty((len(items), self._classifier.num_labels), dtype=np.float32)
        bar = self._progress
        bar.max = bar.value + max(len(items), 1)  # grows if the explainer calls again
        for start in range(0, len(items), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._classifier.predict_proba([items[i] for i in idx], batch_size)
            bar.value = min(bar.value + len(idx), bar.max)
        return out


def weights_chart(explanation: Explanation) -> str:
    """Escaped SVG bars of the words LIME weighted, strongest first (repeats numbered)."""
    seen: dict[str, int] = {}
    names = []
    for word in explanation.words:
        seen[word] = seen.get(word, 0) + 1
        names.append(word if seen[word] == 1 else f"{word} #{seen[word]}")
    order = sorted(
        (i for i, s in enumerate(explanation.word_scores) if s != 0),
        key=lambda i: (-abs(explanation.word_scores[i]), i),
    )
    if not order:
        return note_html("LIME gave every word a weight of zero")
    return render.bar_chart_svg(
        [names[i] for i in order], [float(explanation.word_scores[i]) for i in order]
    )


def surrogate_html(explanation: Explanation) -> str:
    """The surrogate's R² and how many perturbed texts it was fitted on."""
    diag = explanation.diagnostics
    r2 = float(diag.get("r2", float("nan")))
    text = (
        f"surrogate R² = {render.format_score(r2)}: how well the weighted linear model fits "
        f"the classifier on {diag.get('samples', '?')} perturbed texts "
        f"({diag.get('unique_perturbations', '?')} distinct)"
    )
    if r2 < 0.5:
        text += "; a low R² means the weights describe the model poorly here"
    return block(render.escape(text), "font-size: 13px; margin: 4px 0")


class LimeView(TextView):
    """LIME with ``num_samples``/``num_features``/``seed`` controls, a Run button and progress.

    Parameters
    ----------
    classifier : interpkit.Classifier
    text : str
    num_samples : int
        Perturbed texts per run (LIME's neighbourhood; more = steadier weights, slower).
    num_features : int
        Words given a weight.
    seed : int
        LIME's random state: the same seed gives the same weights.
    batch_size : int
        Texts per forward pass (and per progress-bar step).

    Controls: ``samples_slider``, ``features_slider``, ``seed_box``, ``run_button``,
    ``progress``, ``text_box``. Changing a control or the text shows a cached result, or asks
    you to press Run; only Run (or :meth:`run`) calls the model for LIME.
    """

    def __init__(
        self,
        classifier,
        text: str,
        num_samples: int = 1000,
        num_features: int = 10,
        seed: int = 0,
        batch_size: int = 64,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        for name, value in (("num_samples", num_samples), ("num_features", num_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        self._cache: dict[tuple, Explanation] = {}
        self._probs: dict[str, np.ndarray] = {}
        self.samples_slider = widgets.IntSlider(
            value=num_samples,
            min=min(100, num_samples),
            max=max(5000, num_samples),
            step=100,
            description="num_samples",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.features_slider = widgets.IntSlider(
            value=num_features,
            min=1,
            max=max(20, num_features),
            description="num_features",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.seed_box = widgets.IntText(value=int(seed), description="seed")
        self.run_button = widgets.Button(
            description="Run LIME", button_style="primary", tooltip="Perturb and fit (slow)"
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        controls = [
            widgets.HBox([self.samples_slider, self.features_slider, self.seed_box]),
            widgets.HBox([self.run_button, self.progress]),
        ]
        self._setup(classifier, text, controls)
        self._compute()  # the prediction only; errors with the first text are raised
        self._render()
        for control in (self.samples_slider, self.features_slider, self.seed_box):
            control.observe(self._on_setting, names=["value"])
        self.run_button.on_click(self._on_run)

    # -- public ----------------------------------------------------------------------------
    @property
    def explanation(self) -> Explanation | None:
        """The LIME Explanation for the current text and settings, if it was run."""
        return self._cache.get(self._key())

    def run(self) -> Explanation | None:
        """Run LIME for the current text and settings (cached), update the view, return it."""
        if self._text_error is not None:
            self._render()
            return None
        self._error = None
        key = self._key()
        if key not in self._cache:
            with hold(self.progress):
                self.progress.value, self.progress.max, self.progress.bar_style = 0, 1, ""
            self.run_button.disabled = True
            try:
                self._cache[key] = self._run_lime()
            except (TypeError, ValueError, RuntimeError) as err:
                self.progress.bar_style = "danger"
                self._error = f"LIME failed: {err}"
                self._render()
                return None
            finally:
                self.run_button.disabled = False
        self._mark_done()
        self._render()
        return self._cache[key]

    # -- computation ----------------------------------------------------------------------------
    def _key(self) -> tuple:
        return (
            self._text,
            self.samples_slider.value,
            self.features_slider.value,
            self.seed_box.value,
        )

    def _run_lime(self) -> Explanation:
        tracked = ProgressClassifier(self.classifier, self.progress)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)  # shown once, by _compute
            e = explain(
                tracked,
                self._text,
                method="lime",
                num_samples=self.samples_slider.value,
                num_features=self.features_slider.value,
                seed=self.seed_box.value,
                batch_size=self.batch_size,
            )
        self._probs[self._text] = e.probabilities
        return e

    def _compute(self) -> None:
        """Only the prediction (one forward pass): LIME itself waits for Run."""
        if self._text not in self._probs:
            self._probs[self._text] = self.classifier.predict_proba([self._text])[0]
        if self._key() in self._cache:
            self._mark_done()
        else:
            with hold(self.progress):
                self.progress.value, self.progress.bar_style = 0, ""

    def _mark_done(self) -> None:
        with hold(self.progress):
            self.progress.value = self.progress.max
            self.progress.bar_style = "success"

    def _probabilities(self):
        return self._probs.get(self._text)

    def _body_has_probabilities(self) -> bool:
        return self.explanation is not None

    # -- callbacks ------------------------------------------------------------------------------
    def _on_setting(self, change) -> None:
        self._refresh()  # a cached result, or "press Run": never LIME itself

    def _on_run(self, _button) -> None:
        self.run()

    # -- rendering ------------------------------------------------------------------------------
    def _settings(self) -> dict:
        return {
            "num_samples": self.samples_slider.value,
            "num_features": self.features_slider.value,
            "seed": self.seed_box.value,
        }

    def _body(self, static: bool) -> str:
        e = self.explanation
        if e is None:
            return note_html(
                "LIME has not run for this text and these settings: press Run LIME "
                f"(it predicts up to {self.samples_slider.value} perturbed texts)"
            )
        return e.to_html() + surrogate_html(e) + block(weights_chart(e), "margin: 6px 0")
