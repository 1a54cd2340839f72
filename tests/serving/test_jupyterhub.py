"""A class-sized JupyterHub on this machine: five students run notebook 02 at the same time.

JupyterHub 6 with its built-in DummyAuthenticator and SimpleLocalProcessSpawner (each student's
server is a process of the same OS user, with its own home), its proxy configurable-http-proxy
from the npm registry (``make hub-proxy``), hub and proxy on free 127.0.0.1 ports. With an admin
service token the test creates five users and spawns their servers at once through the hub's
REST API. Then each student, with a token of their own and only through the proxy:

1. follows the course's nbgitpuller link from docs/jupyterhub.md (the repository swapped for a
   local git copy of notebooks/): the hub redirects it to their server's ``git-pull``, and the
   pull its page starts clones the course into their home;
2. reads notebook 02 from that clone, starts its kernel (the project's environment) and runs
   every code cell over the kernel websocket, as a front end does (JupyterHub's own browser tests
   reach kernels through the proxy the same way: jupyterhub/tests/browser/test_browser.py);
3. has the peak memory of their server and kernel measured (VmHWM, and a 0.5 s RSS sampler).

The servers are then stopped through the API and the hub by its process group; no process that
the hub started may be left. Numbers go to artifacts/jupyterhub/memory.json (docs/jupyterhub.md).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import psutil
import pytest
from jupyter_servers import (
    CHP,
    NOTEBOOKS,
    ROOT,
    allow_root_flag,
    descendants,
    free_port,
    log_tail,
    request,
    start_group,
    stop_group,
    venv_bin,
    wait_until,
)

pytestmark = pytest.mark.serving

STUDENTS = [f"student{i}" for i in range(1, 6)]
NOTEBOOK = "02_attention.ipynb"
CELL_TIMEOUT_S = 900  # five kernels at once on a loaded 2-core machine
SPAWN_TIMEOUT_S = 300
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DOCS = ROOT / "docs" / "jupyterhub.md"


def chp_command() -> str:
    path = os.environ.get("INTERPKIT_CHP") or str(CHP)
    if not Path(path).is_file():
        pytest.fail(
            f"configurable-http-proxy is not installed at {path}: run `make hub-proxy` (npm "
            "installs it into .venv/node; `make test` does it), or set INTERPKIT_CHP to it",
            pytrace=False,
        )
    return path


def course_link() -> str:
    """The nbgitpuller link that docs/jupyterhub.md gives students."""
    found = re.search(r"https://\S+/hub/user-redirect/git-pull\?[^\s)`>\"]+", DOCS.read_text())
    assert found, "docs/jupyterhub.md has no nbgitpuller link"
    return found.group(0)


HUB_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.ConfigurableHTTPProxy.pid_file = {folder!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {folder!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {folder!r} + "/cookie_secret"
c.JupyterHub.pid_file = {folder!r} + "/hub.pid"
c.JupyterHub.authenticator_class = "dummy"
# only the users the admin creates through the API may log in (any password: a test hub)
c.Authenticator.allow_all = False
c.Authenticator.allow_existing_users = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = {timeout}
c.Spawner.http_timeout = {timeout}
c.JupyterHub.services = [{{"name": "course-admin", "api_token": {admin_token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "course-admin",
        "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
        "services": ["course-admin"],
    }}
]
"""


class Hub:
    """A JupyterHub started for this test: public URL, admin token, process, log."""

    def __init__(self, folder: Path, environment: dict[str, str]):
        self.folder, self.log = folder, folder / "jupyterhub.log"
        self.homes = folder / "homes"
        self.homes.mkdir(parents=True)
        self.port, self.admin_token = free_port(), secrets.token_hex(32)
        self.url = f"http://127.0.0.1:{self.port}"
        config = HUB_CONFIG.format(
            proxy_port=self.port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            chp=chp_command(),
            proxy_token=secrets.token_hex(32),
            folder=str(folder),
            homes=str(self.homes),
            singleuser=venv_bin("jupyterhub-singleuser"),
            args=allow_root_flag(),
            environment=environment,
            timeout=SPAWN_TIMEOUT_S,
            admin_token=self.admin_token,
        )
        (folder / "jupyterhub_config.py").write_text(config)
        self.proc = None

    def start(self) -> None:
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        command = [venv_bin("jupyterhub"), "-f", str(self.folder / "jupyterhub_config.py")]
        self.proc = start_group(command, self.log, env=env, cwd=self.folder)
        # the proxy is started by the hub in a session of its own: stop_group tracks it by parentage

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited:\n{log_tail(self.log)}")
            return "version" in request(f"{self.url}/hub/api/")

        wait_until(up, 120, lambda: f"jupyterhub did not start:\n{log_tail(self.log)}")

    def api(self, path: str, method: str = "GET", body: object = None):
        return request(f"{self.url}/hub/api/{path}", self.admin_token, method=method, body=body)

    def server(self, name: str) -> dict | None:
        return self.api(f"users/{name}")["servers"].get("")


def course_repository(folder: Path) -> Path:
    """A git repository named like the course's, holding a copy of notebooks/ on branch main."""
    repo = folder / "interpkit"
    (repo / "notebooks").mkdir(parents=True)
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, repo / "notebooks" / path.name)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@localhost", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the course"], check=True)
    return repo


def follow_course_link(name: str, link: str) -> str:
    """The student's click on the link, as a browser makes it; returns the path it opens.

    The hub asks them to log in (the DummyAuthenticator takes any password from an allowed
    user), sends them on to nbgitpuller's page on their own server (single sign-on through the
    hub's OAuth on the way), and that page's script runs the pull as a stream of events.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(link, timeout=60) as response:
        login, page = response.url, response.read().decode()
    assert urlsplit(login).path == "/hub/login", login
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    form = urlencode({"username": name, "password": "any", "_xsrf": xsrf}).encode()
    with opener.open(login, data=form, timeout=120) as response:
        landed, page = response.url, response.read().decode()
    assert urlsplit(landed).path == f"/user/{name}/git-pull", landed
    assert "nbgitpuller" in page.lower()
    query = parse_qs(urlsplit(landed).query)
    api = landed.replace("/git-pull?", "/git-pull/api?", 1)
    assert parse_qs(urlsplit(api).query) == query  # repo, branch and urlpath as in the link
    events = []
    with opener.open(api, timeout=300) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                events.append(json.loads(line[5:]))
                if events[-1].get("phase") in ("finished", "error"):
                    break
    assert events and events[-1]["phase"] == "finished", events[-3:]
    return query["urlpath"][0]


def kernel_message(channel: str, msg_type: str, content: dict, session: str) -> dict:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": session,
        "username": "student",
        "date": "",
        "version": "5.3",
    }
    return {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


def receive(ws) -> dict:
    from jupyter_server.services.kernels.connection.base import deserialize_binary_message

    data = ws.recv()
    return deserialize_binary_message(data) if isinstance(data, bytes) else json.loads(data)


def execute(ws, code: str, session: str, where: str) -> list[dict]:
    """Run ``code`` in the kernel behind ``ws``; its outputs, or AssertionError on an error."""
    request_msg = kernel_message(
        "shell",
        "execute_request",
        {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
        session,
    )
    ws.send(json.dumps(request_msg))
    msg_id, outputs, reply, idle = request_msg["header"]["msg_id"], [], None, False
    while reply is None or not idle:
        msg = receive(ws)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if msg["channel"] == "shell" and kind == "execute_reply":
            reply = content
        elif kind == "status":
            idle = content["execution_state"] == "idle"
        elif kind in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"output_type": kind, **content})
    if reply["status"] != "ok":
        raise AssertionError(f"{where}: {reply.get('ename')}: {reply.get('evalue')}")
    return outputs


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


class MemorySampler(threading.Thread):
    """Every 0.5 s: RSS of each student's server + kernel, and of the whole node's share."""

    def __init__(self, servers: dict[str, int], hub_pid: int):
        super().__init__(daemon=True)
        self.servers, self.hub_pid = servers, hub_pid
        self.peak = dict.fromkeys(servers, 0.0)
        self.peak_total = 0.0
        self.done = threading.Event()

    def rss_mb(self, pid: int) -> float:
        total = 0.0
        for process in [psutil.Process(pid), *descendants(pid)]:
            try:
                total += process.memory_info().rss / 2**20
            except psutil.Error:
                continue
        return total

    def run(self) -> None:
        while not self.done.wait(0.5):
            try:
                per = {name: self.rss_mb(pid) for name, pid in self.servers.items()}
                hub = psutil.Process(self.hub_pid).memory_info().rss / 2**20
                proxy = sum(
                    p.memory_info().rss / 2**20
                    for p in descendants(self.hub_pid)
                    if "node" in p.name() or "configurable" in " ".join(p.cmdline())
                )
            except psutil.Error:
                continue
            for name, mb in per.items():
                self.peak[name] = max(self.peak[name], mb)
            self.peak_total = max(self.peak_total, sum(per.values()) + hub + proxy)


def student_session(hub: Hub, name: str, token: str, link: str, server_pid: int) -> dict:
    """One student: the course link, then notebook 02 cell by cell through their server."""
    import nbformat
    import websocket

    start = time.monotonic()
    base = f"{hub.url}/user/{name}"
    urlpath = follow_course_link(name, link)
    assert request(f"{base}/{urlpath}", token, timeout=60)  # the page the link opens
    opened = urlpath.removeprefix("lab/tree/")
    assert request(f"{base}/api/contents/{opened}", token)["type"] == "notebook"
    folder = opened.rsplit("/", 1)[0]  # interpkit/notebooks, in the student's home
    path = f"{folder}/{NOTEBOOK}"
    nb = nbformat.from_dict(request(f"{base}/api/contents/{path}", token)["content"])
    # a session for the notebook, as a front end opens it: its kernel starts in its folder
    session_model = {"path": path, "type": "notebook", "name": NOTEBOOK}
    session_model["kernel"] = {"name": nb.metadata.kernelspec.name}
    kernel = request(f"{base}/api/sessions", token, method="POST", body=session_model)["kernel"]
    ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel['id']}/channels"
    ws = websocket.create_connection(
        ws_url,
        header=[f"Authorization: token {token}"],
        timeout=CELL_TIMEOUT_S,
        suppress_origin=True,
    )
    session = uuid.uuid4().hex
    try:
        probe = execute(
            ws,
            "import os, sys\nfrom interpkit.train import cache_dir\n"
            "print(os.environ['HOME'], cache_dir(), sys.prefix, sep='\\n')",
            session,
            f"{name}: probe",
        )
        home, cache, prefix = "".join(o.get("text", "") for o in probe).split()
        outputs = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                outputs += execute(ws, cell.source, session, f"{name}: {NOTEBOOK} cell {i}")
        processes = descendants(server_pid)  # the kernel
        memory = {"server": peak_rss_mb(server_pid)}
        for process in processes:
            memory[f"kernel {process.pid}"] = peak_rss_mb(process.pid)
    finally:
        ws.close()
        request(f"{base}/api/kernels/{kernel['id']}", token, method="DELETE")
    stored = [output for cell in nb.cells for output in cell.get("outputs", [])]
    return {
        "home": home,
        "cache": cache,
        "prefix": prefix,
        "views": sum(WIDGET_VIEW in o.get("data", {}) for o in outputs),
        "stored_views": sum(WIDGET_VIEW in o.get("data", {}) for o in stored),
        "peak_rss_mb": memory,
        "processes": processes,
        "seconds": time.monotonic() - start,
    }


def wait_for(hub: Hub, names, ready: bool) -> None:
    def check():
        return all((hub.server(n) or {}).get("ready", False) == ready for n in names) and (
            ready or all(hub.server(n) is None for n in names)
        )

    wait_until(check, SPAWN_TIMEOUT_S, lambda: f"servers not ready={ready}:\n{log_tail(hub.log)}")


def test_five_students_run_notebook_02_at_once_through_jupyterhub(tmp_path, demo_model):
    from interpkit.train import cache_dir

    started = time.monotonic()
    repo = course_repository(tmp_path / "remote")
    link = course_link()
    query = parse_qs(urlsplit(link).query)
    environment = {
        # the demo model is shared from the cache, not trained in each student's kernel
        "INTERPKIT_CACHE": str(cache_dir()),
        "OMP_NUM_THREADS": "1",  # one core per student, as on Binder and in docs/jupyterhub.md
    }
    hub = Hub(tmp_path / "hub", environment)
    watched: list[psutil.Process] = []
    try:
        hub.start()
        hub.api("users", method="POST", body={"usernames": STUDENTS})
        tokens = {
            name: hub.api(f"users/{name}/tokens", method="POST", body={"note": "course test"})[
                "token"
            ]
            for name in STUDENTS
        }
        for name in STUDENTS:  # all five at once: the hub spawns them concurrently
            hub.api(f"users/{name}/server", method="POST")
        wait_for(hub, STUDENTS, ready=True)
        spawned = time.monotonic()
        pids = {name: hub.server(name)["state"]["pid"] for name in STUDENTS}
        watched += [psutil.Process(pid) for pid in pids.values()]
        sampler = MemorySampler(pids, hub.proc.pid)
        sampler.start()
        local_link = f"{hub.url}/hub/user-redirect/git-pull?" + urlencode(
            {"repo": f"file://{repo}", "urlpath": query["urlpath"][0], "branch": query["branch"][0]}
        )
        with ThreadPoolExecutor(len(STUDENTS)) as pool:
            futures = {
                name: pool.submit(student_session, hub, name, tokens[name], local_link, pid)
                for name, pid in pids.items()
            }
            results = {name: future.result() for name, future in futures.items()}
        sampler.done.set()
        sampler.join()
        for result in results.values():  # the kernels: gone already, checked all the same
            watched += result["processes"]
        for name in STUDENTS:
            hub.api(f"users/{name}/server", method="DELETE")
        wait_for(hub, STUDENTS, ready=False)
    finally:
        leftovers = stop_group(hub.proc, also=watched) if hub.proc else []
    assert leftovers == [], f"processes left after the hub stopped: {leftovers}"

    homes = {r["home"] for r in results.values()}
    assert homes == {str(hub.homes / name) for name in STUDENTS}  # each in their own home
    assert {r["cache"] for r in results.values()} == {environment["INTERPKIT_CACHE"]}
    assert {r["prefix"] for r in results.values()} == {sys.prefix}  # the project's kernel
    for name, r in results.items():
        assert r["views"] == r["stored_views"] > 0, f"{name}: {r['views']} views rendered"
        assert (hub.homes / name / "interpkit" / "notebooks" / NOTEBOOK).is_file()
    report_memory(results, sampler, spawned - started, time.monotonic() - started)


def report_memory(results: dict, sampler: MemorySampler, spawn_s: float, total_s: float):
    """Write the measurement to artifacts/jupyterhub/memory.json and print a summary."""
    folder = Path(os.environ.get("INTERPKIT_ARTIFACTS", ROOT / "artifacts")) / "jupyterhub"
    folder.mkdir(parents=True, exist_ok=True)
    per_student = {
        name: {
            "server_plus_kernel_vmhwm_mb": round(sum(r["peak_rss_mb"].values())),
            "processes_vmhwm_mb": {k: round(v) for k, v in r["peak_rss_mb"].items()},
            "sampled_peak_rss_mb": round(sampler.peak[name]),
            "seconds": round(r["seconds"], 1),
        }
        for name, r in results.items()
    }
    summary = {
        "students": len(results),
        "notebook": NOTEBOOK,
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "spawn_seconds": round(spawn_s, 1),
        "test_seconds": round(total_s, 1),
        "max_per_student_vmhwm_mb": max(
            s["server_plus_kernel_vmhwm_mb"] for s in per_student.values()
        ),
        "peak_total_rss_mb_hub_proxy_and_all_students": round(sampler.peak_total),
        "per_student": per_student,
    }
    (folder / "memory.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
