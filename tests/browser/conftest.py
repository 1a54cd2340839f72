"""A real JupyterLab and a real Chromium for the browser tests.

One JupyterLab server per session, on a free loopback port with a random token, serving a
temporary copy of the notebooks (Run All must not rewrite the committed files). It exposes its
application object as ``window.jupyterapp`` so tests can run JupyterLab commands (Run All)
and read cell outputs from the notebook model. The server is stopped by its PID at the end.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make test`` when missing), driven
by Playwright without ``playwright install``. Screenshots go to ``artifacts/browser/`` (set
``INTERPKIT_ARTIFACTS`` to move them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: JupyterLab settings for the test server: no news/update pop-ups over the views.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server: its URL, token, notebook folder and REST helpers."""

    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.root, self.port, self.token, self.proc, self.log = root, port, token, proc, log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def shutdown_kernels(self) -> None:
        """Free the memory of every kernel (each holds a model; Binder has 2 GB)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


@pytest.fixture(scope="session")
def demo_model():
    """Train the demo model here if it is not cached yet, not inside a browser run."""
    import interpkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpkit.demo_classifier(progress=False)


@pytest.fixture(scope="session")
def lab(tmp_path_factory, demo_model):
    root = tmp_path_factory.mktemp("lab")
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, root / path.name)
    settings = tmp_path_factory.mktemp("lab-settings")
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp("lab-workspaces")),
    )
    port, token = free_port(), secrets.token_hex(16)
    log = root.parent / "jupyterlab.log"
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Lab(root, port, token, proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.api("status")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield server
    finally:
        proc.send_signal(signal.SIGINT)  # by its PID: only the server this session started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda err: page.console_errors.append(str(err)))
    yield page
    context.close()
    lab.shutdown_kernels()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("INTERPKIT_ARTIFACTS", ROOT / "artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class NotebookPage:
    """A notebook opened in the browser: Run All, read errors, find the views."""

    def __init__(self, page, lab: Lab, name: str):
        self.page, self.lab, self.name = page, lab, name

    def open(self) -> NotebookPage:
        self.page.goto(self.lab.notebook_url(self.name))
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
        """Run every cell (JupyterLab's Run All) and wait until the last one finished."""
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

    def views(self, kind: str):
        """Locator of the rendered views of one kind ("attentionview", "saliencyview", ...)."""
        return self.page.locator(f".jp-OutputArea-output .interpkit-{kind}")


@pytest.fixture
def notebook(page, lab):
    """``notebook(name)`` opens ``name`` from the server's copy of notebooks/."""
    return lambda name: NotebookPage(page, lab, name).open()
