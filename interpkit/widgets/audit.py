"""AuditView: the audit's checks as a dashboard, linked to failing examples and explanations.

Pick a check (failing ones first) to see its value, threshold and failing examples; pick an
example to open its explanation in an embedded :class:`~interpkit.widgets.SaliencyView`
(Integrated Gradients by default): the audit loop "find a failure → see why" in one place.
Nothing is recomputed when a check is picked; the explanation is computed once per example
(the SaliencyView caches it).

Widgets are reachable by stable attributes (``filter_buttons``, ``check_select``,
``detail``, ``example_select``, ``explanation_box``, ``saliency_view``) and, like the other
views, CSS classes for browser tests: ``interpkit-auditview`` on the view and
``interpkit-<attribute>`` on each control (``interpkit-check-select``, ...).

Example
-------
>>> report = interpkit.audit(clf, interpkit.load_dataset())
>>> view = interpkit.AuditView(report)
>>> view.select("MFT: negated negative is positive", example=0)
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from .. import render
from ..audit.report import AuditReport, frame_html, status_badge
from ..models import Classifier
from ._common import add_dom_classes, block, error_html, hold, note_html, preview

FILTERS = (("failing", "fail"), ("all checks", "all"))
#: Examples listed per check (the report keeps up to 50).
MAX_LISTED = 50
ORDER = {"fail": 0, "info": 1, "pass": 2, "n/a": 3, "skipped": 4}


class AuditView(widgets.VBox):
    """Dashboard of an :class:`~interpkit.audit.AuditReport`.

    Parameters
    ----------
    report : AuditReport
    classifier : interpkit.Classifier, optional
        Explains the selected example; default: the classifier the report was made with.
    method : str
        Explainer of the embedded SaliencyView.
    show : {"fail", "all"}
        List only failing checks (default) or all of them.
    """

    def __init__(
        self,
        report: AuditReport,
        classifier: Classifier | None = None,
        method: str = "integrated_gradients",
        show: str = "fail",
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        if not isinstance(report, AuditReport):
            raise TypeError(
                f"AuditView needs an AuditReport (from interpkit.audit(...)), got "
                f"{type(report).__name__}"
            )
        if show not in dict(FILTERS).values():
            raise ValueError(f"show must be 'fail' or 'all', got {show!r}")
        self.report = report
        self.classifier = classifier if classifier is not None else report.classifier
        self.method = method
        self._summary = report.summary()
        self._examples = pd.DataFrame()
        self._explain_error: str | None = None
        self.saliency_view = None
        self._filling = False

        self.header = widgets.HTML(_header_html(self._summary, report.meta.get("model", "")))
        self.filter_buttons = widgets.ToggleButtons(options=FILTERS, value=show, description="show")
        self.check_select = widgets.Select(
            options=[], rows=10, description="check", layout=widgets.Layout(width="95%")
        )
        self.detail = widgets.HTML()
        self.example_select = widgets.Select(
            options=[], rows=6, description="example", layout=widgets.Layout(width="95%")
        )
        self.explanation_box = widgets.VBox()
        self.children = (
            self.header,
            self.filter_buttons,
            self.check_select,
            self.detail,
            self.example_select,
            self.explanation_box,
        )
        add_dom_classes(self)  # interpkit-view, interpkit-auditview, interpkit-check-select, ...
        self._fill_checks()
        self.filter_buttons.observe(self._on_filter, names=["value"])
        self.check_select.observe(self._on_check, names=["value"])
        self.example_select.observe(self._on_example, names=["value"])
        self._on_check(None)

    # -- public ---------------------------------------------------------------------------
    @property
    def selected_check(self) -> str | None:
        return self.check_select.value

    @property
    def selected_text(self) -> str | None:
        i = self.example_select.value
        return None if i is None else str(self._examples["text"].iloc[i])

    def select(self, check: str, example: int | None = None) -> None:
        """Select ``check`` (by name) and, optionally, its ``example``-th failing example."""
        names = [v for _, v in self.check_select.options]
        if check not in names:
            if check not in set(self._summary["check"]):
                raise ValueError(f"no check named {check!r}: see report.summary()['check']")
            self.filter_buttons.value = "all"
        self.check_select.value = check
        if example is not None:
            if not 0 <= example < len(self.example_select.options):
                raise ValueError(
                    f"check {check!r} has {len(self.example_select.options)} listed examples: "
                    f"pick 0..{len(self.example_select.options) - 1}"
                )
            self.example_select.value = example

    def show(self) -> None:
        """Display the view in the notebook (same as leaving it last in a cell)."""
        from IPython.display import display

        display(self)

    # -- callbacks --------------------------------------------------------------------------
    def _fill_checks(self) -> None:
        s = self._summary
        if self.filter_buttons.value == "fail":
            s = s[s["status"] == "fail"]
        s = s.sort_values("status", key=lambda col: col.map(ORDER), kind="stable")
        options = [
            (f"{r.status.upper():<5} {r.check} ({render.format_score(r.value)})", r.check)
            for r in s.itertuples()
        ]
        self._filling = True  # one _on_check after the new options, not one per change
        try:
            self.check_select.options = options
            self.check_select.value = options[0][1] if options else None
        finally:
            self._filling = False

    def _on_filter(self, change) -> None:
        current = self.check_select.value
        self._fill_checks()
        if current in [v for _, v in self.check_select.options]:
            self.check_select.value = current
        self._on_check(None)

    def _on_check(self, change) -> None:
        if change is not None and self._filling:
            return
        name = self.check_select.value
        if name is None:
            self._examples = pd.DataFrame()
            message = "no failing checks" if self.filter_buttons.value == "fail" else "no checks"
            with hold(self.detail, self.example_select):
                self.detail.value = note_html(message)
                self.example_select.options = []
            return
        self._examples = self.report.examples(name).head(MAX_LISTED).reset_index(drop=True)
        options = [(preview(str(t), 90), i) for i, t in enumerate(self._examples.get("text", []))]
        with hold(self.detail, self.example_select):
            self.detail.value = self._detail_html(name)
            self.example_select.options = options
            self.example_select.value = None

    def _on_example(self, change) -> None:
        text = self.selected_text
        if text is None:
            return
        self._explain_error = None
        if self.classifier is None or not hasattr(self.classifier, "tokenizer"):
            self._explain_error = (
                "explanations need an interpkit Classifier: pass AuditView(report, classifier=...)"
            )
            self.explanation_box.children = (widgets.HTML(error_html(self._explain_error)),)
            return
        from .saliency import SaliencyView

        try:
            if self.saliency_view is None:
                self.saliency_view = SaliencyView(self.classifier, text, method=self.method)
            else:
                self.saliency_view.text_box.value = text  # recomputes (cached per text)
        except (TypeError, ValueError, RuntimeError) as err:
            self._explain_error = f"could not explain this example: {err}"
            self.explanation_box.children = (widgets.HTML(error_html(self._explain_error)),)
            return
        self.explanation_box.children = (self.saliency_view,)

    # -- rendering ---------------------------------------------------------------------------
    def _detail_html(self, name: str) -> str:
        row = self._summary[self._summary["check"] == name].iloc[0]
        limit = "" if pd.isna(row["threshold"]) else f" {row['rule']} {row['threshold']:g}"
        head = (
            f"{status_badge(row['status'])} <b>{render.escape(name)}</b>: "
            f"{render.escape(row['metric'])} = {render.escape(render.format_score(row['value']))}"
            f"{render.escape(limit)} (n = {render.escape(row['n'])})"
        )
        examples = self._examples
        table = (
            frame_html(examples, max_rows=8, css_class="interpkit-audit-example-table")
            if len(examples)
            else note_html("no failing examples stored for this check")
        )
        return block(
            f"<div>{head}</div>{note_html(row['detail'])}{table}",
            f"{render.FONT}; margin: 4px 0",
        )

    def _repr_html_(self) -> str:
        """Static HTML: the header, the selected check and the explanation shown, if any."""
        parts = [self.header.value, self.detail.value]
        if self._explain_error:
            parts.append(error_html(self._explain_error))
        elif self.saliency_view is not None and self.selected_text is not None:
            parts.append(self.saliency_view._repr_html_())
        return f'<div class="interpkit-static-view" style="{render.FONT}">{"".join(parts)}</div>'

    def __repr__(self) -> str:
        failing = int((self._summary["status"] == "fail").sum())
        return (
            f"AuditView(checks={len(self._summary)}, failing={failing}, "
            f"selected={self.check_select.value!r}, example={self.example_select.value!r})"
        )


def _header_html(summary: pd.DataFrame, model: str) -> str:
    counts = summary["status"].value_counts()
    shown = ("fail", "pass", "info", "n/a") + (("skipped",) if counts.get("skipped", 0) else ())
    parts = ", ".join(f"{status_badge(k)} {int(counts.get(k, 0))}" for k in shown)
    return block(
        f"<b>Audit of {render.escape(model)}</b> · {parts}", f"{render.FONT}; margin: 4px 0"
    )
