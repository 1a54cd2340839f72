"""interpkit.course: exercise checks, the Colab install cell's guard, and the hub probe."""

import http.server
import importlib.metadata
import linecache
import re
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import tomllib

from interpkit import course
from interpkit.course import COLAB_INSTALL_CELL, COLAB_KEEPS, CheckFailed, check, hub_reachable

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- check


def test_check_passes_quietly_with_a_tick(capsys):
    answer = 42
    with check("multiply 6 by 7", name="Exercise 1"):
        assert answer == 42
    assert capsys.readouterr().out == "✓ Exercise 1\n"


@pytest.mark.parametrize(
    "body, detail",
    [
        ("assert answer == 43", "AssertionError in `assert answer == 43`"),
        ("assert answer == 43, 'not 43'", "AssertionError: not 43"),
        ("assert missing == 1", "NameError: name 'missing' is not defined"),
        ("assert ... > 1", "TypeError: '>' not supported"),
    ],
)
def test_check_turns_any_failure_into_one_hint(capsys, body, detail):
    namespace = {"answer": 42, "check": check}
    source = f"with check('multiply 6 by 7', name='Exercise 2'):\n    {body}\n"
    # IPython keeps each cell's source in linecache, which is how the message quotes the line
    linecache.cache["<cell>"] = (len(source), None, source.splitlines(True), "<cell>")
    with pytest.raises(CheckFailed) as failure:
        exec(compile(source, "<cell>", "exec"), namespace)
    message = str(failure.value)
    assert message.startswith("✗ Exercise 2 is not solved yet. Hint: multiply 6 by 7")
    assert detail in message
    assert isinstance(failure.value, AssertionError)  # nbgrader and pytest count it as failed
    # Jupyter (IPython's hook) shows the message alone, not a traceback through interpkit
    assert failure.value._render_traceback_() == message.splitlines()
    assert capsys.readouterr().out == ""


def test_check_needs_a_hint_and_lets_interrupts_through():
    with pytest.raises(ValueError, match="hint is empty"):
        with check("  "):
            pass
    with pytest.raises(KeyboardInterrupt):
        with check("a hint"):
            raise KeyboardInterrupt


# --------------------------------------------------------------------------- Colab cell


def _run_install_cell(monkeypatch, in_colab: bool) -> tuple[list[list[str]], dict]:
    """Execute the canonical cell; subprocess.run is captured instead of run."""
    calls: list[list[str]] = []

    def fake_run(command, check=False, **kwargs):
        calls.append(list(command))
        assert check is True, "a failed install must stop the notebook"
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if in_colab:
        google = types.ModuleType("google")
        colab = types.ModuleType("google.colab")
        google.colab = colab
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace: dict = {}
    exec(compile(COLAB_INSTALL_CELL, "<colab cell>", "exec"), namespace)
    return calls, namespace


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    calls, namespace = _run_install_cell(monkeypatch, in_colab=False)
    assert calls == []
    assert namespace["IN_COLAB"] is False


def test_colab_cell_installs_the_kit_and_keeps_colabs_torch(monkeypatch):
    calls, namespace = _run_install_cell(monkeypatch, in_colab=True)
    assert namespace["IN_COLAB"] is True
    assert len(calls) == 2
    deps, kit = calls
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert deps[:5] == pip and kit[:5] == pip
    # torch is pinned to the version already installed: pip never replaces Colab's build
    torch_pins = [a for a in deps + kit if a.startswith("torch")]
    assert torch_pins == [f"torch=={importlib.metadata.version('torch')}"]
    assert "--no-deps" not in deps
    assert kit[5] == "--no-deps"
    assert "interpkit @ git+https://github.com/interpkit/interpkit" in kit


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["default-model"]
    pins = {}
    for req in reqs:
        name, _, version = req.partition("==")
        pins[name] = version
    return pins


def test_colab_cell_pins_agree_with_pyproject_and_nodeps_file(monkeypatch):
    calls, _ = _run_install_cell(monkeypatch, in_colab=True)
    deps, kit = calls
    cell_pins = dict(a.split("==") for a in deps[5:] if "==" in a and not a.startswith("torch"))
    expected = _pyproject_pins()
    for name, version in cell_pins.items():
        assert expected.get(name) == version, f"{name}: Colab cell {version} != pyproject"
    # every dependency is either installed by the cell or deliberately left as Colab has it
    undecided = set(expected) - set(cell_pins) - set(COLAB_KEEPS)
    assert not undecided, f"decide for Colab: pin {sorted(undecided)} in the cell or keep them"
    assert not set(cell_pins) & set(COLAB_KEEPS)
    nodeps = re.findall(
        r"^([A-Za-z0-9_.\-]+==\S+)", (ROOT / "requirements-nodeps.txt").read_text(), re.M
    )
    assert sorted(a for a in kit[6:] if "==" in a) == sorted(nodeps)


def test_colab_badge_points_at_the_notebook_on_github():
    badge = course.colab_badge("notebooks/02_attention.ipynb")
    assert badge == (
        "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/interpkit/interpkit/blob/main/"
        "notebooks/02_attention.ipynb)"
    )


# --------------------------------------------------------------------------- hub probe


def test_hub_unreachable_here_and_quick(monkeypatch):
    """No internet on this machine: False, within the timeout."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    started = time.perf_counter()
    assert hub_reachable(timeout=2) is False
    assert time.perf_counter() - started < 2.5


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"])
def test_hub_offline_switch_means_no_network_at_all(monkeypatch, variable):
    def no_network(*args, **kwargs):
        raise AssertionError("hub_reachable used the network although offline was set")

    monkeypatch.setattr(course.urllib.request, "urlopen", no_network)
    monkeypatch.setenv(variable, "1")
    started = time.perf_counter()
    assert hub_reachable(timeout=5) is False
    assert time.perf_counter() - started < 0.1


class _Hub(http.server.BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        found = self.path == "/api/models/bert-base-uncased"
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_hub(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield _Hub
    _Hub.delay = 0.0
    server.shutdown()
    server.server_close()


def test_hub_reachable_when_the_endpoint_answers(local_hub):
    assert hub_reachable(timeout=5) is True
    assert hub_reachable(timeout=5, model="no-such-model") is False  # 404


def test_hub_that_hangs_counts_as_unreachable_after_the_timeout(local_hub):
    local_hub.delay = 3.0
    started = time.perf_counter()
    assert hub_reachable(timeout=0.5) is False
    assert time.perf_counter() - started < 1.5
