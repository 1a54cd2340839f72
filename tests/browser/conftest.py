"""A real JupyterLab, a real Jupyter Notebook 7 and a real Chromium for the browser tests.

One server per front end and session, on a free loopback port with a random token, serving a
temporary copy of the notebooks (Run All must not rewrite the committed files). Each exposes
its application object as ``window.jupyterapp`` so tests can run commands (Run All) and read
cell outputs from the notebook model; the same ``NotebookPage`` drives both front ends. The
servers are started and stopped by tests/jupyter_servers.py (by process group, never by name).

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make test`` when missing), driven
by Playwright without ``playwright install``. Screenshots go to ``artifacts/browser/`` (set
``INTERPKIT_ARTIFACTS`` to move them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import pytest
from jupyter_servers import NOTEBOOKS, ROOT, JupyterServer, free_port, start_jupyter

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Front-end settings for the test servers (JupyterLab and Notebook 7 read the same ones): no
#: news/update pop-ups over the views.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # every cell stays in the DOM (the default virtualises cells scrolled out of view)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_path() -> str:
    found = os.environ.get("INTERPKIT_CHROMIUM") or next(
        filter(None, (shutil.which(n) for n in ("chromium", "chromium-browser"))), None
    )
    if not found:
        pytest.fail(
            "Chromium is not installed: run `make test` (it installs Debian's chromium when run "
            "as root), or `sudo apt-get install chromium`, or set INTERPKIT_CHROMIUM to a "
            "Chromium binary",
            pytrace=False,
        )
    return found


def serve(app: str, tmp_path_factory) -> JupyterServer:
    """Start ``jupyter lab`` or ``jupyter notebook`` on a copy of the course notebooks."""
    root = tmp_path_factory.mktemp(app)
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, root / path.name)
    settings = tmp_path_factory.mktemp(f"{app}-settings")
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp(f"{app}-workspaces")),
    )
    log = root.parent / f"jupyter-{app}.log"
    return start_jupyter(app, root, log, env, port=free_port(), token=secrets.token_hex(16))


@pytest.fixture(scope="session")
def lab(tmp_path_factory, demo_model):
    """JupyterLab (``jupyter lab``) serving a copy of notebooks/."""
    server = serve("lab", tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def notebook7_server(tmp_path_factory, demo_model):
    """Jupyter Notebook 7 (``jupyter notebook``) serving a copy of notebooks/."""
    server = serve("notebook", tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: Page errors Jupyter Notebook 7.6.5 raises by itself on every page load, as (message, script):
#: its keyboard-shortcuts plugin reads the settings schema of a plugin that is not loaded. Seen on
#: its file browser (/tree) with default settings and no notebook open, so nothing of interpkit's.
NOTEBOOK7_OWN_ERRORS = (
    ("Cannot read properties of undefined (reading 'schema')", "/static/notebook/notebook_core."),
)


def new_page(browser, known_errors=()):
    """A fresh browser context and page that records uncaught page errors in
    ``page.console_errors`` (all but the front end's own ``known_errors``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []

    def record(err) -> None:
        stack = err.stack or ""
        if not any(text in str(err) and where in stack for text, where in known_errors):
            page.console_errors.append(str(err))

    page.on("pageerror", record)
    return context, page


@pytest.fixture
def page(browser, lab):
    context, page = new_page(browser)
    yield page
    context.close()
    lab.shutdown_kernels()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("INTERPKIT_ARTIFACTS", ROOT / "artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class NotebookPage:
    """A notebook opened in the browser: Run All, read errors, find the views.

    Works in JupyterLab and in Notebook 7 alike: both are JupyterLab applications whose shell's
    ``currentWidget`` is the open notebook panel, with the same ``notebook:run-all-cells``
    command and the same output DOM.
    """

    def __init__(self, page, server: JupyterServer, name: str):
        self.page, self.server, self.name = page, server, name

    def open(self) -> NotebookPage:
        self.page.goto(self.server.notebook_url(self.name))
        self.page.wait_for_function(
            """name => {
                const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                return !!(w && w.context && w.context.path === name && w.sessionContext);
            }""",
            arg=self.name,
            timeout=60_000,
        )
        self.page.evaluate(
            """async () => {
                const w = window.jupyterapp.shell.currentWidget;
                await w.context.ready;
                await w.sessionContext.ready;
            }"""
        )
        self.page.wait_for_function(
            """() => {
                const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
                return !!k && k.status === 'idle';
            }""",
            timeout=120_000,
            polling=500,
        )
        return self

    def run_all(self, timeout_s: float = 600) -> None:
        """Run every cell (the front end's Run All) and wait until the last one finished."""
        self.page.evaluate(
            """() => {
                window.__runAll = 'running';
                window.jupyterapp.commands.execute('notebook:run-all-cells').then(
                    ok => { window.__runAll = ok === false ? 'a cell failed' : 'done'; },
                    err => { window.__runAll = 'Run All failed: ' + err; });
            }"""
        )
        self.page.wait_for_function(
            "() => window.__runAll !== 'running'", timeout=timeout_s * 1000, polling=1000
        )
        status = self.page.evaluate("() => window.__runAll")
        errors = self.errors()
        assert status == "done" and not errors, f"{self.name}: {status}; errors: {errors}"

    def errors(self) -> list[str]:
        """Error outputs of code cells, as 'cell N: Name: message'."""
        return self.page.evaluate(
            """() => {
                const errors = [];
                const nb = window.jupyterapp.shell.currentWidget.content;
                nb.widgets.forEach((cell, i) => {
                    if (cell.model.type !== 'code') return;
                    for (const o of cell.model.outputs.toJSON())
                        if (o.output_type === 'error')
                            errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
                });
                return errors;
            }"""
        )

    def shot(self, folder: Path, name: str) -> Path:
        """Where to save screenshot ``name``: as named for JupyterLab, prefixed for Notebook 7."""
        return folder / (name if self.server.app == "lab" else f"notebook7_{name}")

    def views(self, kind: str):
        """Locator of the rendered views of one kind ("attentionview", "saliencyview", ...)."""
        return self.page.locator(f".jp-OutputArea-output .interpkit-{kind}")


@pytest.fixture
def notebook(page, lab):
    """``notebook(name)`` opens ``name`` in JupyterLab, from the server's copy of notebooks/."""
    return lambda name: NotebookPage(page, lab, name).open()


@pytest.fixture
def notebook7(browser, notebook7_server):
    """``notebook7(name)`` opens ``name`` in Jupyter Notebook 7 (its own page per notebook)."""
    context, page = new_page(browser, known_errors=NOTEBOOK7_OWN_ERRORS)
    yield lambda name: NotebookPage(page, notebook7_server, name).open()
    context.close()
    notebook7_server.shutdown_kernels()


@pytest.fixture(params=["jupyterlab", "notebook7"])
def open_notebook(request):
    """``open_notebook(name)`` in each front end students use: JupyterLab, then Notebook 7."""
    return request.getfixturevalue("notebook" if request.param == "jupyterlab" else "notebook7")
