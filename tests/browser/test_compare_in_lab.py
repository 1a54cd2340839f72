"""CompareView as students meet it, in a real JupyterLab + Chromium.

A small notebook shows the view on the demo model; the test checks in the DOM that one row
per ticked method and the agreement heatmap rendered, ticks another method with the mouse
(the kernel computes it once and the row appears), then switches the agreement measure (a
re-render only). A screenshot is saved under artifacts/browser/.
"""

from __future__ import annotations

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROUND_TRIP_MS = 60_000  # kernel work + widget messages, on a loaded 2-core machine
CELLS = [
    "import warnings\nwarnings.simplefilter('ignore')\nimport interpkit\n"
    "clf = interpkit.demo_classifier()",
    "view = interpkit.CompareView(clf, 'a gripping, funny film with a dull ending', "
    "selected=['attention', 'saliency', 'random'])\nview",
]


@pytest.fixture
def compare_notebook(lab):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, lab.root / "compare.ipynb")
    return "compare.ipynb"


def output_html(view) -> str:
    return view.locator(".interpkit-output").first.inner_html()


def wait_for_change(page, view, before: str, contains: str) -> str:
    """Wait until the view's output differs from ``before`` and shows ``contains``."""
    handle = view.locator(".interpkit-output").first.element_handle()
    page.wait_for_function(
        """([el, before, contains]) =>
            el.innerHTML !== before && el.textContent.includes(contains)""",
        arg=[handle, before, contains],
        timeout=ROUND_TRIP_MS,
        polling=200,
    )
    return output_html(view)


def test_compare_view_ticks_a_method_and_switches_the_measure(
    notebook, compare_notebook, artifacts
):
    nb = notebook(compare_notebook)
    nb.run_all()
    view = nb.views("compareview").first
    view.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    rows = view.locator(".interpkit-output .interpkit-compare-row")
    rows.first.wait_for(timeout=ROUND_TRIP_MS)
    assert rows.count() == 3
    assert view.locator(".interpkit-output svg.interpkit-agreement").count() == 1
    assert "predicted" in view.locator(".interpkit-prediction").inner_text()

    before = output_html(view)
    view.locator(".interpkit-method-input_x_gradient input[type='checkbox']").click()
    after = wait_for_change(nb.page, view, before, "input x gradient")
    assert rows.count() == 4 and 'data-method="input_x_gradient"' in after

    view.locator(".interpkit-compare-measure select").select_option("kendall")
    after = wait_for_change(nb.page, view, after, "kendall")
    assert "spearman" not in after and rows.count() == 4
    view.scroll_into_view_if_needed()
    view.screenshot(path=artifacts / "compare_view.png")
    assert not nb.page.console_errors
