"""Start and stop the real servers the integration tests drive: JupyterLab, Jupyter Notebook 7,
``make lab`` and a JupyterHub with its proxy.

Every server runs on a free loopback port, in a process group of its own (``start_group``), and
is stopped by that group's id (``stop_group``): a SIGTERM to the group, a wait for it and for
every process it started (Jupyter kernels and JupyterHub's spawned servers run in sessions of
their own, so they are tracked by parentage as well), and a SIGKILL for anything still alive,
which is returned so that a test can fail on it. Nothing is ever stopped by name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Where ``make`` installs configurable-http-proxy (``make hub-proxy``); INTERPKIT_CHP overrides.
CHP = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def allow_root_flag() -> list[str]:
    """``["--allow-root"]`` when running as root (Jupyter refuses root without it), else ``[]``."""
    return ["--allow-root"] if os.geteuid() == 0 else []


def venv_bin(name: str) -> str:
    """A console script of the environment running the tests (``jupyter``, ...)."""
    return str(Path(sys.executable).with_name(name))


def start_group(
    command: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start ``command`` as the leader of a new process group, its output going to ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def descendants(pid: int) -> list[psutil.Process]:
    """Every live process started (directly or not) by ``pid``."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return str(process.pid)


def stop_group(
    proc: subprocess.Popen,
    timeout: float = 30.0,
    also: Sequence[psutil.Process] = (),
) -> list[str]:
    """Stop the process group led by ``proc`` (see ``start_group``) and everything it started.

    ``also``: processes known from earlier (e.g. servers already stopped through an API) that
    must be gone too. Returns the processes that had to be killed with SIGKILL, described.
    """
    pgid = proc.pid
    watched = {p.pid: p for p in [*also, *descendants(pgid), *_group_members(pgid)]}
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    for process in _group_members(pgid):
        watched.setdefault(process.pid, process)
    alive = [p for p in watched.values() if _alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if _alive(p)]
    killed = [describe(p) for p in alive]
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return killed


def wait_until(check: Callable[[], object], timeout: float, failure: Callable[[], str]):
    """Call ``check`` until it returns something truthy; raise with ``failure()`` on timeout.

    Connection errors count as "not yet". ``failure`` builds the message (e.g. a log tail).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        time.sleep(0.5)


def request(
    url: str,
    token: str | None = None,
    method: str = "GET",
    body: object = None,
    timeout: float = 30.0,
):
    """An HTTP request with a Jupyter token; returns the decoded JSON (or text), None if empty."""
    headers = {"Authorization": f"token {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as response:
        raw = response.read()
        kind = response.headers.get("Content-Type", "")
    if not raw:
        return None
    return json.loads(raw) if "json" in kind else raw.decode()


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


class JupyterServer:
    """A running JupyterLab or Notebook 7 server: URL, token, served folder and REST helpers."""

    def __init__(self, app: str, root: Path, port: int, token: str, proc, log: Path):
        self.app, self.root, self.port, self.token = app, root, port, token
        self.proc, self.log = proc, log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET", body: object = None):
        return request(f"{self.url}/api/{path}", self.token, method=method, body=body)

    def notebook_url(self, name: str) -> str:
        """The page a student opens for notebook ``name`` in this front end."""
        if self.app == "lab":
            return f"{self.url}/lab/tree/{name}?token={self.token}&reset"
        return f"{self.url}/notebooks/{name}?token={self.token}"

    def shutdown_kernels(self) -> None:
        """Free the memory of every kernel (each holds a model; Binder has 2 GB)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self) -> list[str]:
        return stop_group(self.proc)


def start_jupyter(
    app: str,
    root: Path,
    log: Path,
    env: dict[str, str],
    port: int,
    token: str,
    timeout: float = 90.0,
) -> JupyterServer:
    """Start ``jupyter lab`` or ``jupyter notebook`` serving ``root`` and wait until it answers.

    The app object is exposed as ``window.jupyterapp`` (both front ends support it), so tests
    can run commands (Run All) and read the notebook model.
    """
    if app not in ("lab", "notebook"):
        raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
    expose = "LabApp" if app == "lab" else "JupyterNotebookApp"
    command = [
        venv_bin("jupyter"),
        app,
        "--no-browser",
        *allow_root_flag(),
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{expose}.expose_app_in_browser=True",
    ]
    proc = start_group(command, log, env=env)
    server = JupyterServer(app, root, port, token, proc, log)

    def up():
        if proc.poll() is not None:
            raise AssertionError(f"jupyter {app} exited; its log:\n{log_tail(log)}")
        return server.api("status") is not None

    try:
        wait_until(up, timeout, lambda: f"jupyter {app} did not start:\n{log_tail(log)}")
    except BaseException:
        stop_group(proc)
        raise
    return server
