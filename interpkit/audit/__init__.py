"""Audit a fine-tuned text classifier: data, behaviour, robustness, fairness, consistency, calibration.

:func:`audit` runs every step and returns an :class:`AuditReport` (``.summary()``,
``.to_html(path)``, ``.to_json(path)``); each step is also a function that returns tidy
pandas frames, for use on its own.

Example
-------
>>> import interpkit
>>> report = interpkit.audit(interpkit.demo_classifier(), interpkit.load_dataset())
>>> report.summary().query("status == 'fail'")
>>> report.to_html("audit.html")
"""

from ._common import DEFAULT_THRESHOLDS, Check, Predictor
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
