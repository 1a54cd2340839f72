"""``audit()`` runs every step and returns an :class:`AuditReport`: checks, tables, plots.

The steps follow the usual model-audit workflow: review the data, test behaviour (CheckList),
probe robustness, compare groups (fairness), compare slices and domains (consistency), and
check calibration. Every step returns tidy DataFrames; each checked property becomes a
:class:`~interpkit.audit._common.Check` with a value and a threshold you can change, so
``report.summary()`` is a pass/fail table and the CLI can fail a model's CI.

Example
-------
>>> report = interpkit.audit(clf, interpkit.load_dataset())
>>> report.summary()                         # one row per check: value, threshold, status
>>> report.summary(thresholds={"ece": 0.1})  # re-judged, nothing recomputed
>>> report.to_html("audit.html"); report.to_json("audit.json")
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import render
from ..storage import atomic_write_text, to_jsonable
from ._common import DEFAULT_THRESHOLDS, Check, merge_thresholds

STEPS = ("data", "behavioural", "robustness", "fairness", "consistency", "calibration")
FORMAT = "interpkit.AuditReport"
FORMAT_VERSION = 1
#: Failing examples kept per check (the report and the view show these).
MAX_EXAMPLES = 50
STATUS_COLORS = {
    "pass": "#1a7f37",
    "fail": "#b00020",
    "info": "#555",
    "n/a": "#999",
    "skipped": "#8a6d00",
}


# --------------------------------------------------------------------------- the report


@dataclass
class AuditReport:
    """What :func:`audit` found: checks with thresholds, tables per step, plots, settings.

    ``checks`` are judged against ``thresholds`` each time :meth:`summary` is called, so a
    different threshold never needs a new audit. ``tables[step][name]`` are the steps' tidy
    DataFrames; ``figures[name]`` are PNG images (bytes). ``classifier`` is kept in memory (not
    saved) so that :class:`~interpkit.widgets.AuditView` can explain an example.
    """

    checks: list[Check]
    tables: dict[str, dict[str, pd.DataFrame]]
    figures: dict[str, bytes] = field(default_factory=dict)
    thresholds: dict = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    meta: dict = field(default_factory=dict)
    classifier: object = field(default=None, repr=False)

    # -- reading -------------------------------------------------------------------------
    def summary(self, thresholds: dict | None = None) -> pd.DataFrame:
        """One row per check: ``section``, ``check``, ``metric``, ``value``, ``threshold``,
        ``status`` (pass / fail / info / n/a / skipped), ``n`` and ``detail``.

        A ``skipped`` row is a part of the audit that did not run, and its ``detail`` says why
        (e.g. the sentiment tests on a classifier without negative/positive classes)."""
        limits = merge_thresholds({**self.thresholds, **(thresholds or {})})
        rows = []
        for c in self.checks:
            limit = c.threshold(limits)
            rows.append(
                {
                    "section": c.section,
                    "check": c.name,
                    "metric": c.metric,
                    "value": float(c.value),
                    "threshold": np.nan if limit is None else float(limit),
                    "rule": "≥" if c.higher_is_better else "≤",
                    "status": c.status(limits),
                    "n": int(c.n),
                    "detail": c.detail,
                }
            )
        return pd.DataFrame(rows)

    @property
    def passed(self) -> bool:
        """True when no check fails at the report's thresholds."""
        return not (self.summary()["status"] == "fail").any()

    def failing(self, thresholds: dict | None = None) -> list[str]:
        """Names of the failing checks."""
        s = self.summary(thresholds)
        return s.loc[s["status"] == "fail", "check"].tolist()

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}: see report.summary()['check']")

    def examples(self, name: str) -> pd.DataFrame:
        """Failing examples of check ``name`` (a ``text`` column, then details)."""
        return self.check(name).examples

    # -- export --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dict: settings, thresholds, the summary, examples and every table."""
        return to_jsonable(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "meta": self.meta,
                "thresholds": self.thresholds,
                "passed": self.passed,
                "summary": self.summary().to_dict(orient="records"),
                "examples": {c.name: c.examples.to_dict(orient="records") for c in self.checks},
                "tables": {
                    step: {name: t.to_dict(orient="records") for name, t in tables.items()}
                    for step, tables in self.tables.items()
                },
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON to ``path`` atomically (temp file + rename)."""
        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)
        return atomic_write_text(path, text)

    def to_html(self, path: str | os.PathLike | None = None) -> str | Path:
        """One self-contained HTML page (plots embedded as base64 PNG, every string escaped).

        With ``path``: written atomically (temp file + rename) and the path returned; without:
        the HTML text.
        """
        page = _page(self)
        return page if path is None else atomic_write_text(path, page)

    def _repr_html_(self) -> str:
        return _summary_html(self) + _figures_html(self, ("consistency", "fairness", "calibration"))

    def __repr__(self) -> str:
        s = self.summary()
        counts = s["status"].value_counts()
        parts = ", ".join(f"{k}={int(counts.get(k, 0))}" for k in ("pass", "fail", "info"))
        if counts.get("skipped", 0):
            parts += f", skipped={int(counts['skipped'])}"
        return f"AuditReport(model={self.meta.get('model', '?')!r}, checks={len(s)}, {parts})"


# --------------------------------------------------------------------------- html


def frame_html(frame: pd.DataFrame, max_rows: int = 20, css_class: str = "") -> str:
    """An escaped HTML table of ``frame`` (numbers formatted, at most ``max_rows`` rows)."""
    cls = f' class="{render.escape(css_class)}"' if css_class else ""
    head = "".join(
        f'<th style="text-align: left; padding: 2px 8px">{render.escape(c)}</th>'
        for c in frame.columns
    )
    body = []
    for _, row in frame.head(max_rows).iterrows():
        cells = []
        for value in row:
            if isinstance(value, (float, np.floating)):
                text = render.format_score(float(value))
            else:
                text = str(value)
            cells.append(
                f'<td style="padding: 2px 8px; vertical-align: top">{render.escape(text)}</td>'
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (
        f'<div style="{render.MUTED}">{len(frame) - max_rows} more rows not shown</div>'
        if len(frame) > max_rows
        else ""
    )
    return (
        f'<table{cls} style="border-collapse: collapse; font-size: 13px">'
        f'<thead style="border-bottom: 1px solid #999"><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def status_badge(status: str) -> str:
    color = STATUS_COLORS.get(status, "#555")
    return f'<b style="color: {color}">{render.escape(status.upper())}</b>'


def _summary_html(report: AuditReport) -> str:
    s = report.summary()
    counts = s["status"].value_counts()
    shown = ("pass", "fail", "info", "n/a") + (("skipped",) if counts.get("skipped", 0) else ())
    head = f"<b>Audit of {render.escape(report.meta.get('model', 'a model'))}</b>: " + ", ".join(
        f"{int(counts.get(k, 0))} {render.escape(k)}" for k in shown
    )
    rows = []
    for _, r in s.iterrows():
        limit = (
            ""
            if math.isnan(r["threshold"])
            else f"{r['rule']} {render.format_score(r['threshold'])}"
        )
        rows.append(
            "<tr>"
            f'<td style="padding: 2px 8px">{status_badge(r["status"])}</td>'
            f'<td style="padding: 2px 8px">{render.escape(r["section"])}</td>'
            f'<td style="padding: 2px 8px">{render.escape(r["check"])}</td>'
            f'<td style="padding: 2px 8px">{render.escape(r["metric"])}</td>'
            f'<td style="padding: 2px 8px; text-align: right">'
            f"{render.escape(render.format_score(r['value']))}</td>"
            f'<td style="padding: 2px 8px">{render.escape(limit)}</td>'
            f'<td style="padding: 2px 8px; color: #555">{render.escape(r["n"])}</td>'
            "</tr>"
        )
    header = "".join(
        f'<th style="text-align: left; padding: 2px 8px">{h}</th>'
        for h in ("status", "section", "check", "metric", "value", "threshold", "n")
    )
    return (
        f'<div class="interpkit-audit-summary" style="{render.FONT}">'
        f'<div style="margin: 4px 0">{head}</div>'
        f'<table style="border-collapse: collapse; font-size: 13px">'
        f'<thead style="border-bottom: 1px solid #999"><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{_skipped_html(s)}</div>"
    )


def _skipped_html(summary: pd.DataFrame) -> str:
    """The parts of the audit that did not run, each with its reason (never silent)."""
    skipped = summary[summary["status"] == "skipped"]
    if skipped.empty:
        return ""
    items = "".join(
        f"<li><b>{render.escape(r['section'])}: {render.escape(r['check'])}</b>: "
        f"{render.escape(r['detail'])}</li>"
        for _, r in skipped.iterrows()
    )
    return (
        f'<div class="interpkit-audit-skipped" style="margin: 6px 0">Not run:'
        f'<ul style="margin: 2px 0">{items}</ul></div>'
    )


def png_tag(data: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as a data URI (no file, no URL)."""
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img src="{uri}" alt="{render.escape(alt)}" style="max-width: 100%">'


def _figures_html(report: AuditReport, names: Sequence[str] | None = None) -> str:
    names = list(report.figures) if names is None else [n for n in names if n in report.figures]
    return "".join(
        f'<figure style="margin: 8px 0">{png_tag(report.figures[n], n)}'
        f'<figcaption style="{render.MUTED}">{render.escape(n)}</figcaption></figure>'
        for n in names
    )


def _page(report: AuditReport) -> str:
    meta_rows = pd.DataFrame([{"setting": k, "value": _short(v)} for k, v in report.meta.items()])
    sections = []
    for step, tables in report.tables.items():
        parts = [f"<h2>{render.escape(step)}</h2>"]
        for name, table in tables.items():
            parts.append(f"<h3>{render.escape(name)}</h3>{frame_html(table)}")
        parts.append(_figures_html(report, [step]))
        sections.append("".join(parts))
    failing = []
    for c in report.checks:
        if c.status(merge_thresholds(report.thresholds)) == "fail" and len(c.examples):
            failing.append(
                f"<h3>{render.escape(c.name)}</h3>"
                f"{frame_html(c.examples, max_rows=10, css_class='interpkit-audit-examples')}"
            )
    title = f"interpkit audit: {report.meta.get('model', '')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{render.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "</head>"
        f'<body style="{render.FONT}; max-width: 72em; margin: 1em auto; padding: 0 1em">'
        f"<h1>{render.escape(title)}</h1>"
        f"{frame_html(meta_rows, max_rows=100)}"
        f"<h2>Checks</h2>{_summary_html(report)}"
        f"<h2>Failing examples</h2>{''.join(failing) or '<p>none</p>'}"
        f"{''.join(sections)}"
        "</body></html>\n"
    )


def _short(value) -> str:
    if isinstance(value, float):
        return render.format_score(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib Figure (Agg, 100 dpi, no timestamps in the metadata)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()
