"""``make lab``, the README's first command, as a newcomer runs it: as root and as a normal user.

Each test starts ``make lab`` exactly as the README says (``PORT`` set to a free port), waits for
the URL line Jupyter prints with its token, fetches the lab page and a course notebook through
the REST API with that token (and checks that nothing is served without it), then stops the
whole process group (make and Jupyter) by its id and checks that nothing is left running.

As root, the unprivileged run drops to the ``nobody`` user with ``setpriv``. When the project's
interpreter is not reachable by that user (this project's machines keep Python under /root,
mode 700), the run uses a throw-away virtual environment on the system's Python of the same
version layered on the project's packages (a ``.pth`` file), passed as ``make lab VENV=...``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import urllib.error
from pathlib import Path

import nbformat
import psutil
import pytest
from jupyter_servers import (
    NOTEBOOKS,
    ROOT,
    free_port,
    log_tail,
    request,
    start_group,
    stop_group,
    wait_until,
)

pytestmark = pytest.mark.serving

#: The line Jupyter prints for the user to open (its token is generated for each start).
URL_LINE = re.compile(r"http://(?:localhost|127\.0\.0\.1):(\d+)/lab\?token=([0-9a-f]+)")
NOBODY = 65534
DROP_TO_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
#: First run of ``make lab`` may still set up .venv (~2 min on 2 cores).
START_TIMEOUT_S = 300


def make_lab(log: Path, home: Path | None = None, prefix=(), make_args=()):
    """Start ``make lab`` on a free port; return the process, and the port and token it printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PORT"] = str(free_port())
    env.pop("MAKEFLAGS", None)
    if home is not None:
        env["HOME"] = str(home)
    proc = start_group([*prefix, "make", "lab", *make_args], log, env=env, cwd=ROOT)

    def url_line():
        if proc.poll() is not None:
            raise AssertionError(f"make lab exited with {proc.returncode}:\n{log_tail(log)}")
        return URL_LINE.search(log.read_text(errors="replace"))

    try:
        found = wait_until(url_line, START_TIMEOUT_S, lambda: f"no URL line:\n{log_tail(log)}")
    except BaseException:
        stop_group(proc)
        raise
    assert found.group(1) == env["PORT"], f"served on {found.group(1)}, asked {env['PORT']}"
    return proc, int(found.group(1)), found.group(2)


def check_serves_the_course(port: int, token: str, kernel: str | None = "interpkit") -> None:
    """The lab page and notebook 02 through the REST API, with the printed token only."""
    base = f"http://127.0.0.1:{port}"
    page = wait_until(
        lambda: request(f"{base}/lab?token={token}"), 60, lambda: "the lab page did not load"
    )
    assert '"appName": "JupyterLab"' in page
    served = request(f"{base}/api/contents/02_attention.ipynb", token)
    assert served["type"] == "notebook"  # notebooks/ is the served root
    on_disk = nbformat.read(NOTEBOOKS / "02_attention.ipynb", as_version=4)
    assert [c["source"] for c in served["content"]["cells"]] == [c.source for c in on_disk.cells]
    with pytest.raises(urllib.error.HTTPError) as refused:
        request(f"{base}/api/contents/02_attention.ipynb")  # no token
    assert refused.value.code == 403
    if kernel:  # `make venv` registers the project's kernel for other front ends
        assert kernel in request(f"{base}/api/kernelspecs", token)["kernelspecs"]


def stop_and_check(proc, port: int) -> None:
    assert stop_group(proc) == [], "make lab left processes behind"
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        request(f"http://127.0.0.1:{port}/api/status", timeout=5)


def test_make_lab_as_the_current_user(tmp_path):
    log = tmp_path / "make-lab.log"
    proc, port, token = make_lab(log)
    try:
        check_serves_the_course(port, token)
        command = next(line for line in log.read_text().splitlines() if "jupyter lab" in line)
        assert ("--allow-root" in command) == (os.geteuid() == 0), command
    finally:
        stop_and_check(proc, port)
    assert "Shutting down" in log.read_text()  # a clean stop, not a kill


def test_make_lab_picks_allow_root_by_uid():
    """The Makefile's flag logic alone (``make -n``): the flag for uid 0 only."""
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    command = next(line for line in dry.stdout.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0), command
    assert "--port=8888" in command and command.endswith("notebooks/")
    if os.geteuid() != 0:
        return  # as a normal user, uid 0 cannot be reached: the check above is the whole test
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed: cannot drop to an unprivileged user")
    dry = subprocess.run(
        [*DROP_TO_NOBODY, "make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    command = next(line for line in dry.stdout.splitlines() if "jupyter lab" in line)
    assert "--allow-root" not in command, command


def _runs_as_nobody(*command: str) -> bool:
    """Whether ``command`` runs as nobody when a nobody process starts it (as make does; on
    some sandboxes setpriv's own exec still succeeds where its children's would not)."""
    shell = [*DROP_TO_NOBODY, "sh", "-c", '"$@"', "sh", *command]
    return subprocess.run(shell, capture_output=True, cwd="/").returncode == 0


def _layered_venv(folder: Path, python: str) -> Path:
    """A venv on ``python`` that sees the project's packages, with the two scripts make needs."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(folder)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = folder / "lib" / version / "site-packages"
    (site / "project-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for name, module in (("jupyter", "jupyter_core.command"), ("jupyter-lab", "jupyterlab.labapp")):
        script = folder / "bin" / name
        script.write_text(
            f"#!{folder}/bin/python\nimport sys\nfrom {module} import main\nsys.exit(main())\n"
        )
        script.chmod(0o755)
    (folder / ".installed-stamp").touch()  # newer than pyproject.toml: make installs nothing
    return folder


def test_make_lab_as_an_unprivileged_user():
    if os.geteuid() != 0:
        pytest.skip("not root: test_make_lab_as_the_current_user already ran it as a normal user")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed: cannot drop to an unprivileged user")
    if not _runs_as_nobody("test", "-r", str(ROOT / "Makefile")):
        pytest.skip(f"user nobody cannot read {ROOT}: clone the repository where others can read")
    scratch = Path(tempfile.mkdtemp(prefix="interpkit-nobody-"))
    scratch.chmod(0o755)
    try:
        home = scratch / "home"
        home.mkdir()
        os.chown(home, NOBODY, NOBODY)
        # nobody's fresh home has no course artefacts: PREPARE=0 opens the lab without
        # training them (minutes); the root test runs `make lab` with its prepare step.
        make_args, kernel = ["PREPARE=0"], "interpkit"
        if not _runs_as_nobody(sys.executable, "-c", "pass"):
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            system = shutil.which(f"python{version}", path="/usr/local/bin:/usr/bin:/bin")
            if not system or not _runs_as_nobody(system, "-c", "import venv"):
                pytest.skip(
                    f"user nobody cannot run {Path(sys.executable).resolve()} and there is no "
                    f"system python{version} to layer a venv on"
                )
            venv = _layered_venv(scratch / "venv", system)
            # its kernelspecs live in its own prefix
            make_args, kernel = ["PREPARE=0", f"VENV={venv}"], None
        log = scratch / "make-lab.log"
        proc, port, token = make_lab(log, home=home, prefix=DROP_TO_NOBODY, make_args=make_args)
        try:
            server = next(p for p in _children(proc.pid) if "jupyter" in " ".join(p[1]))
            assert server[0] == NOBODY, f"jupyter runs as uid {server[0]}"
            check_serves_the_course(port, token, kernel=kernel)
            command = next(line for line in log.read_text().splitlines() if "jupyter lab" in line)
            assert "--allow-root" not in command, command
        finally:
            stop_and_check(proc, port)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _children(pid: int) -> list[tuple[int, list[str]]]:
    """(real uid, command line) of every process under ``pid``."""
    return [(p.uids().real, p.cmdline()) for p in psutil.Process(pid).children(recursive=True)]
