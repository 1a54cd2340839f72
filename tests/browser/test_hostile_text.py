"""Hostile text in every view and HTML output, in a real browser: shown as text, never run.

A notebook written for this test explains a sentence carrying an ``<img onerror>``, a
``<script>``, an ``<svg onload>`` and a ``javascript:`` link, with a classifier whose class
names are hostile too, in every view and in the static Explanation HTML. Each payload sets a
global flag if it ever runs; the test fails if the flag is set, if any payload appears as an
element, or if the text is not visible as text.
"""

from __future__ import annotations

import nbformat
import pytest

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<script>window.__pwned='script'</script>",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "<a href=\"javascript:window.__pwned='link'\">click me</a>",
]
HOSTILE = "A great film " + " ".join(PAYLOADS) + " truly moving."
HOSTILE_LABEL = "<img src=y onerror=\"window.__pwned='label'\">"

CELLS = [
    "import warnings\nwarnings.simplefilter('ignore')\n"
    "from IPython.display import HTML, display\nimport interpkit\n"
    "from interpkit.train import DEMO_NAME, MODEL\n"
    "clf = interpkit.demo_classifier()\n"
    f"HOSTILE = {HOSTILE!r}\n"
    # the same weights under hostile class names
    "demo = interpkit.cache_dir() / DEMO_NAME / MODEL\n"
    f"odd = interpkit.load_classifier(demo, labels=['negative', {HOSTILE_LABEL!r}])",
    "interpkit.AttentionView(clf, HOSTILE)",
    "interpkit.AttentionView(odd, HOSTILE, mode='model')",
    "interpkit.SaliencyView(clf, HOSTILE, method='saliency')",
    "interpkit.SaliencyView(odd, HOSTILE, method='input_x_gradient', target=1)",
    "lime = interpkit.LimeView(odd, HOSTILE, n_samples=200)\nlime.run()\nlime",
    "interpkit.CompareView(odd, HOSTILE, selected=['saliency', 'random'])",
    "interpkit.explain(odd, HOSTILE, method='saliency', target=1)  # _repr_html_",
    "display(HTML(interpkit.explain(clf, HOSTILE, method='attention').to_html()))",
]
#: Elements that only exist if a payload became markup.
MARKUP = (
    "img[src='x'], img[src='y'], [onerror], [onload], a[href^='javascript:'], "
    "script:not([type]), svg[onload]"
)


@pytest.fixture
def hostile_notebook(lab):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, lab.root / "hostile.ipynb")
    return "hostile.ipynb"


def test_hostile_text_is_shown_as_text_and_never_runs(notebook, hostile_notebook, artifacts):
    nb = notebook(hostile_notebook)
    page = nb.page
    page.evaluate("() => { window.__pwned = null; }")
    nb.run_all()
    outputs = page.locator(".jp-Notebook .jp-OutputArea")
    views = page.locator(".jp-OutputArea-output .interpkit-view")
    views.nth(5).wait_for(state="visible", timeout=60_000)
    assert views.count() == 6
    for i in range(views.count()):
        output = views.nth(i).locator(".interpkit-output").element_handle()
        page.wait_for_function("el => el.textContent.trim() !== ''", arg=output, timeout=60_000)
    # every view and the static HTML outputs carry the text, as text
    text = outputs.all_inner_texts()
    shown = "\n".join(text)
    assert "onerror" in shown and "javascript:" in shown and "<script>" in shown
    assert page.locator(".jp-OutputArea-output").filter(has_text="click me").count() >= 3
    # the hostile class name appears as text in a prediction panel
    assert "<img src=y onerror=" in views.nth(1).locator(".interpkit-prediction").inner_text()
    page.screenshot(path=artifacts / "hostile_text.png", full_page=True)
    # hover and click whatever links and buttons the outputs hold: nothing may run
    for link in page.locator(".jp-OutputArea-output a").all():
        link.click(modifiers=["Control"], no_wait_after=True, timeout=5_000)
    page.wait_for_timeout(500)
    markup = page.locator(f".jp-OutputArea-output :is({MARKUP})")
    assert markup.count() == 0, markup.first.evaluate("el => el.outerHTML")
    assert page.evaluate("() => window.__pwned") is None
    assert not page.console_errors
