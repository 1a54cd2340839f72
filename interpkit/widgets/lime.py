"""LimeView: LIME word weights on demand, with a progress bar and a cache per settings.

LIME predicts hundreds of perturbed texts, so nothing runs until Run is pressed (or
:meth:`LimeView.run` is called). The view predicts through one :class:`~interpkit.Predictor`
whose ``on_batch`` moves the progress bar after each batch of perturbed texts (and which
remembers them: a rerun with another seed predicts only the texts it has not seen). Results
are cached per (text, n_samples, num_features, seed), so changing a setting back shows the
earlier result at once. The surrogate's R² says how well the linear model fits the classifier
around the text. The defaults are :class:`~interpkit.Lime`'s, so ``view.explanation`` equals
``interpkit.explain(clf, text, method="lime")`` and :func:`~interpkit.surrogate_fidelity`
accepts it.

Example
-------
>>> view = interpkit.LimeView(clf, "a gripping, funny film", n_samples=500)
>>> view.run()                  # or press Run
>>> view.explanation.diagnostics["r2"]
"""

from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from .. import render
from ..explainers import Lime, explain
from ..explanation import Explanation
from ..models import Classifier, TruncationWarning
from ..predict import Predictor
from ..validation import check_non_negative_int, check_positive_int
from ._common import TextView, block, hold, note_html

#: The num_features slider's value for "every word" (Lime's ``num_features=None``).
ALL_WORDS = 0


def _old_n_samples(n_samples: int, old_names: dict) -> int:
    """``n_samples`` given by its old name (``num_samples``), with Lime's DeprecationWarning."""
    unknown = [k for k in old_names if k not in Lime.renamed]
    if unknown:
        raise TypeError(f"LimeView() got an unexpected keyword argument {unknown[0]!r}")
    given = {} if n_samples == 1000 else {"n_samples": n_samples}
    return Lime.translate_options({**given, **old_names})["n_samples"]


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
    """LIME with ``n_samples``/``num_features``/``seed`` controls, a Run button and progress.

    Parameters
    ----------
    classifier : interpkit.Classifier
    text : str
    n_samples : int
        Perturbed texts per run (LIME's neighbourhood; more = steadier weights, slower).
        ``num_samples``, its former name, still works with a DeprecationWarning.
    num_features : int or None
        Words given a weight; None (the slider's "all words") weights every word.
    seed : int
        LIME's random state: the same seed gives the same weights.
    batch_size : int or "auto"
        Texts per forward pass (and per progress-bar step).

    The defaults are :class:`~interpkit.Lime`'s. Controls: ``samples_slider``,
    ``features_slider``, ``seed_box``, ``run_button``, ``progress``, ``text_box``. Changing a
    control or the text shows a cached result, or asks you to press Run; only Run (or
    :meth:`run`) calls the model for LIME.
    """

    def __init__(
        self,
        classifier: Classifier,
        text: str,
        n_samples: int = 1000,
        num_features: int | None = None,
        seed: int = 0,
        batch_size: int | str = "auto",
        **old_names: object,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        if old_names:
            n_samples = _old_n_samples(n_samples, old_names)
        check_positive_int("n_samples", n_samples)
        if num_features is not None:
            check_positive_int("num_features", num_features)
        check_non_negative_int("seed", seed)
        self.batch_size = check_positive_int("batch_size", batch_size, allow=("auto",))
        self._cache: dict[tuple, Explanation] = {}
        self._probs: dict[str, np.ndarray] = {}
        self._predictor = Predictor(classifier, on_batch=self._on_batch, warn_truncation=False)
        controls = self._build_controls(n_samples, num_features, seed)
        self._setup(classifier, text, controls)
        self._compute()  # the prediction only; errors with the first text are raised
        self._render()
        for control in (self.samples_slider, self.features_slider, self.seed_box):
            control.observe(self._on_setting, names=["value"])
        self.run_button.on_click(self._on_run)

    def _build_controls(
        self, n_samples: int, num_features: int | None, seed: int
    ) -> list[widgets.Widget]:
        self.samples_slider = widgets.IntSlider(
            value=n_samples,
            min=min(100, n_samples),
            max=max(5000, n_samples),
            step=100,
            description="n_samples",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        most = max(20, num_features or 0)
        self.features_slider = widgets.SelectionSlider(
            options=[("all words", ALL_WORDS)] + [(str(i), i) for i in range(1, most + 1)],
            value=ALL_WORDS if num_features is None else num_features,
            description="num_features",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.seed_box = widgets.IntText(value=int(seed), description="seed")
        self.run_button = widgets.Button(
            description="Run LIME", button_style="primary", tooltip="Perturb and fit (slow)"
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        return [
            widgets.HBox([self.samples_slider, self.features_slider, self.seed_box]),
            widgets.HBox([self.run_button, self.progress]),
        ]

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
        return (self._text, *self._settings().values())

    def _num_features(self) -> int | None:
        value = self.features_slider.value
        return None if value == ALL_WORDS else int(value)

    def _on_batch(self, done: int, total: int) -> None:
        """Move the progress bar: ``done`` of ``total`` perturbed texts predicted."""
        with hold(self.progress):
            self.progress.max = max(total, 1)
            self.progress.value = min(done, self.progress.max)

    def _run_lime(self) -> Explanation:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)  # shown once, by _compute
            e = explain(
                self._predictor,
                self._text,
                method="lime",
                **self._settings(),
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
    def _on_setting(self, change: dict) -> None:
        self._refresh()  # a cached result, or "press Run": never LIME itself

    def _on_run(self, _button: widgets.Button) -> None:
        self.run()

    # -- rendering ------------------------------------------------------------------------------
    def _settings(self) -> dict:
        return {
            "n_samples": self.samples_slider.value,
            "num_features": self._num_features(),
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
