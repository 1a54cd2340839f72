"""AuditView as students meet it: notebook 06 run in a real JupyterLab + Chromium.

Run All, check in the DOM that the dashboard rendered with its embedded SaliencyView, then pick
another failing example and another check with the mouse and wait for the kernel's re-render
to reach the page. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ROUND_TRIP_MS = 120_000  # an Integrated Gradients explanation on a loaded 2-core machine
NEGATION = "MFT: negated negative is positive"


def test_audit_notebook_renders_the_dashboard_and_links_checks_examples_explanations(
    notebook, artifacts
):
    nb = notebook("06_audit.ipynb")
    nb.run_all(timeout_s=1500)  # the whole audit: ~6 min on a loaded 2-core machine
    views = nb.views("auditview")
    views.first.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    assert views.count() == 1
    view = views.first
    view.scroll_into_view_if_needed()
    checks = view.locator(".interpkit-check-select select")
    assert NEGATION in checks.input_value()  # the notebook selected it (value = label)
    assert NEGATION in view.locator(".interpkit-detail").inner_text()
    saliency = view.locator(".interpkit-saliencyview")
    saliency.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    output = saliency.locator(".interpkit-output")
    assert "integrated gradients explains" in output.inner_text()
    view.screenshot(path=artifacts / "audit_view.png")

    # another failing example: the embedded SaliencyView explains it
    examples = view.locator(".interpkit-example-select select")
    before = output.inner_html()
    second = examples.locator("option").nth(1).inner_text()
    examples.select_option(index=1)
    handle = output.element_handle()
    nb.page.wait_for_function(
        "([el, before]) => el.innerHTML !== before",
        arg=[handle, before],
        timeout=ROUND_TRIP_MS,
        polling=200,
    )
    assert second.split()[-1].strip(".") in output.inner_text()
    view.screenshot(path=artifacts / "audit_view_second_example.png")

    # another check: its detail and examples replace the first one's
    # ipywidgets draws option labels with no-break spaces: compare them as plain text
    labels = [t.replace("\xa0", " ") for t in checks.locator("option").all_inner_texts()]
    index = next(i for i, text in enumerate(labels) if NEGATION not in text)
    name = labels[index].rsplit(" (", 1)[0].split(maxsplit=1)[1]  # "FAIL  name (value)"
    detail = view.locator(".interpkit-detail")
    checks.select_option(index=index)
    nb.page.wait_for_function(
        "([el, name]) => el.textContent.includes(name)",
        arg=[detail.element_handle(), name],
        timeout=ROUND_TRIP_MS,
        polling=200,
    )
    view.screenshot(path=artifacts / "audit_view_other_check.png")
    assert not nb.page.console_errors
