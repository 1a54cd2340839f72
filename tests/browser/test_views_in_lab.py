"""The views as students meet them: the course notebooks run in a real browser (Chromium).

Each test opens a notebook, runs all its cells, checks in the DOM that every view rendered
(ipywidgets' front end, not the Python side), then drives one control with the mouse or
keyboard and waits for the kernel's re-render to reach the page. A screenshot of each view
is saved under artifacts/browser/. The AttentionView and SaliencyView tests run in both front
ends students use, JupyterLab and Jupyter Notebook 7 (screenshots ``notebook7_*.png``); the
LimeView test in JupyterLab.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ROUND_TRIP_MS = 60_000  # kernel work + widget messages, on a loaded 2-core machine


def output_html(view) -> str:
    return view.locator(".interpkit-output").first.inner_html()


def wait_for_change(page, view, before: str, contains: str | None = None) -> str:
    """Wait until the view's output differs from ``before`` (and shows ``contains``)."""
    handle = view.locator(".interpkit-output").first.element_handle()
    page.wait_for_function(
        """([el, before, contains]) =>
            el.innerHTML !== before && (contains === null || el.textContent.includes(contains))""",
        arg=[handle, before, contains],
        timeout=ROUND_TRIP_MS,
        polling=200,
    )
    return output_html(view)


def move_slider(nb, slider, down: bool) -> None:
    """Move an ipywidgets slider as a student would: arrow keys in JupyterLab; the mouse in
    Notebook 7, where arrow keys on a focused slider do nothing (a plain IntSlider too)."""
    if nb.server.app == "lab":
        slider.locator(".noUi-handle").first.focus()
        nb.page.keyboard.press("ArrowLeft" if down else "ArrowRight")
        return
    track = slider.locator(".noUi-target").first.bounding_box()
    x = track["x"] + track["width"] * (0.02 if down else 0.98)
    nb.page.mouse.click(x, track["y"] + track["height"] / 2)


def test_attention_notebook_renders_views_and_the_layer_slider_redraws(open_notebook, artifacts):
    nb = open_notebook("02_attention.ipynb")
    nb.run_all()
    views = nb.views("attentionview")
    views.first.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    assert views.count() == 4  # heatmap, head view, model view, rollout
    for i in range(views.count()):
        view = views.nth(i)
        view.locator(".interpkit-output svg").first.wait_for(timeout=ROUND_TRIP_MS)
        assert "negative" in view.locator(".interpkit-prediction").inner_text()
    view = views.first
    view.scroll_into_view_if_needed()
    view.screenshot(path=nb.shot(artifacts, "attention_view.png"))
    readout = view.locator(".interpkit-layer-slider .widget-readout")
    layer = readout.inner_text()
    before = output_html(view)
    move_slider(nb, view.locator(".interpkit-layer-slider"), down=layer != "0")
    after = wait_for_change(nb.page, view, before)
    assert readout.inner_text() != layer and "<svg" in after
    view.screenshot(path=nb.shot(artifacts, "attention_view_layer_changed.png"))

    model_view = views.nth(2)  # clicking a thumbnail selects its layer and head
    head = model_view.locator(".interpkit-head-dropdown select")
    thumbnails = model_view.locator(".interpkit-model-grid button")
    assert thumbnails.count() == 6 * 12
    thumbnails.nth(13).click()  # layer 1, head 1
    nb.page.wait_for_function(
        "el => el.value !== undefined && el.selectedIndex >= 0",
        arg=head.element_handle(),
    )
    expect_layer = model_view.locator(".interpkit-layer-slider .widget-readout")
    nb.page.wait_for_function(
        "el => el.textContent.trim() === '1'", arg=expect_layer.element_handle(), timeout=20_000
    )
    model_view.screenshot(path=nb.shot(artifacts, "attention_model_view.png"))
    assert not nb.page.console_errors


def test_saliency_notebook_renders_and_the_method_dropdown_recomputes(open_notebook, artifacts):
    nb = open_notebook("03_saliency.ipynb")
    nb.run_all()
    views = nb.views("saliencyview")
    views.first.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    assert views.count() == 2
    view = views.first
    view.scroll_into_view_if_needed()
    method = view.locator(".interpkit-method-dropdown select")
    current = method.input_value()  # the notebook's cells may have changed it
    assert view.locator(".interpkit-output").inner_text().startswith(f"{current} explains")
    view.screenshot(path=nb.shot(artifacts, "saliency_view.png"))
    before = output_html(view)
    other = "input x gradient" if current != "input x gradient" else "integrated gradients"
    method.select_option(other)
    wait_for_change(nb.page, view, before, contains=f"{other} explains")
    view.screenshot(path=nb.shot(artifacts, "saliency_view_method_changed.png"))

    before = output_html(view)  # a sentence of one's own, typed into the text box
    box = view.locator(".interpkit-text-box textarea")
    box.fill("A dull, lifeless remake.")
    view.locator(".interpkit-explain-button").click()
    after = wait_for_change(nb.page, view, before, contains="lifeless")
    assert "remake" in after
    assert not nb.page.console_errors


def test_lime_notebook_renders_and_the_run_button_runs_lime(notebook, artifacts):
    nb = notebook("04_lime.ipynb")
    nb.run_all()
    views = nb.views("limeview")
    views.first.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    view = views.first
    view.scroll_into_view_if_needed()
    assert "surrogate R²" in view.locator(".interpkit-output").inner_text()
    view.screenshot(path=artifacts / "lime_view.png")
    before = output_html(view)  # a new seed: LIME waits for Run
    seed = view.locator(".interpkit-seed-box input")
    seed.fill("7")
    seed.press("Enter")
    waiting = wait_for_change(nb.page, view, before, contains="press Run")
    view.locator(".interpkit-run-button").click()
    wait_for_change(nb.page, view, waiting, contains="surrogate R²")
    progress = view.locator(".interpkit-progress")
    assert "progress-bar-success" in progress.inner_html()
    view.screenshot(path=artifacts / "lime_view_rerun.png")
    assert not nb.page.console_errors
