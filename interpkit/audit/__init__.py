"""Audit a fine-tuned text classifier: data, behaviour, robustness, fairness, consistency and
calibration.

:func:`audit` runs every step and returns an :class:`AuditReport` (``.summary()``,
``.to_html(path)``, ``.to_json(path)``); each step is also a function that returns tidy
pandas frames, for use on its own.

Label sets: data review, robustness, the INV tests, slices and calibration run on any
classifier (2, 3, 5 classes, topics). The built-in MFT and DIR tests, fairness and the
out-of-domain sentiment sets need a negative and a positive class: a two-class
negative/positive model has them, any other gets them through ``label_map=`` (see
:mod:`interpkit.validation`), and without it they are reported as ``skipped``, with the reason.

Example
-------
>>> import interpkit
>>> report = interpkit.audit(interpkit.demo_classifier(), interpkit.load_dataset())
>>> report.summary().query("status == 'fail'")
>>> report.to_html("audit.html")
"""

import sys
import types

from ..predict import Predictor  # the one prediction seam, re-exported for old imports
from ._common import DEFAULT_THRESHOLDS, Check
from .behavioural import DIR, INV, MFT, BehaviouralTest, default_tests, expand, lexicon, run_tests
from .calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    plot_reliability,
    reliability_table,
)
from .consistency import default_slices, domain_metrics, slice_metrics
from .data_review import review_data
from .fairness import fairness, identity_cases, plot_fairness
from .report import STEPS, AuditReport
from .robustness import adversarial_search, robustness
from .runner import audit

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DIR",
    "INV",
    "MFT",
    "STEPS",
    "AuditReport",
    "BehaviouralTest",
    "Check",
    "Predictor",
    "adversarial_search",
    "apply_temperature",
    "audit",
    "default_slices",
    "default_tests",
    "domain_metrics",
    "expand",
    "expected_calibration_error",
    "fairness",
    "fit_temperature",
    "identity_cases",
    "lexicon",
    "plot_fairness",
    "plot_reliability",
    "reliability_table",
    "review_data",
    "robustness",
    "run_tests",
    "slice_metrics",
]


class _CallableModule(types.ModuleType):
    """``interpkit.audit`` is both this package and the :func:`audit` function.

    Importing a submodule (``interpkit.audit.report``, as the views do) makes Python bind the
    package to ``interpkit.audit``, hiding the lazily exported function; calling the package
    runs :func:`audit`, so ``interpkit.audit(clf, data)`` works in either order.
    """

    def __call__(self, *args, **kwargs):
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
