"""docs/jupyterhub.md: its Helm values, image appendix and nbgitpuller link say what they claim.

The hub itself runs in tests/serving/test_jupyterhub.py; these checks keep the page that an
instructor copies from consistent with the repository (pins, notebook names, Binder's build).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "jupyterhub.md").read_text()
REPO = "https://github.com/interpkit/interpkit"


def helm_values() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS, re.S)
    values = [yaml.safe_load(block) for block in blocks if block.startswith("singleuser:")]
    assert len(values) == 1, "docs/jupyterhub.md should hold one config.yaml block"
    return values[0]


def appendix() -> str:
    found = re.search(r"--appendix \"\$\(cat <<'EOF'\n(.*?)\nEOF\n\)\"", DOCS, re.S)
    assert found, "docs/jupyterhub.md has no repo2docker --appendix"
    return found.group(1)


def test_helm_values_give_each_student_binders_budget_and_cull_idle_servers():
    values = helm_values()
    user = values["singleuser"]
    assert user["memory"] == {"limit": "2G", "guarantee": "2G"}
    assert user["extraEnv"]["OMP_NUM_THREADS"] == str(user["cpu"]["limit"])
    assert user["defaultUrl"] == "/lab"
    kernels = user["extraFiles"]["jupyter_server_config.json"]["data"]["MappingKernelManager"]
    assert kernels["cull_idle_timeout"] > 0
    cull = values["cull"]
    assert cull["enabled"] is True and cull["users"] is False
    assert 0 < cull["every"] < cull["timeout"] < cull["maxAge"]


def test_nbgitpuller_link_is_encoded_and_opens_a_notebook_of_the_clone():
    link = re.search(r"https://\S+/hub/user-redirect/git-pull\?\S+", DOCS).group(0)
    parts = urlsplit(link)
    assert parts.path == "/hub/user-redirect/git-pull"
    query = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=True).items()}
    assert set(query) == {"repo", "urlpath", "branch"}
    assert urlencode(query) == parts.query  # every value URL-encoded, as the link generator does
    assert query["repo"] == REPO and query["branch"] == "main"
    assert REPO.removeprefix("https://github.com/") in (ROOT / "README.md").read_text()
    app, tree, clone, *path = query["urlpath"].split("/")
    assert (app, tree) == ("lab", "tree")
    assert clone == REPO.rsplit("/", 1)[1]  # nbgitpuller clones into the repository's name
    assert (ROOT.joinpath(*path)).is_file(), f"{'/'.join(path)} is not in the repository"


def test_image_appendix_pins_nbgitpuller_and_moves_the_cache_out_of_home():
    text = appendix()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(r.split("==") for r in extras["optional-dependencies"]["test"] if "==" in r)
    assert f"nbgitpuller=={pins['nbgitpuller']}" in text  # the version the hub test runs
    assert "pip install --no-cache-dir --no-deps ." in text  # not editable: home is a volume
    cache = re.search(r"^ENV INTERPKIT_CACHE=(\S+)$", text, re.M).group(1)
    assert not cache.startswith(("${HOME}", "/home", "~"))
    assert f"cp -a ${{HOME}}/.cache/interpkit/. {cache}/" in text


def test_repo2docker_runs_the_appendix_after_postbuild():
    exe = shutil.which("jupyter-repo2docker") or str(
        Path(sys.executable).with_name("jupyter-repo2docker")
    )
    if not Path(exe).exists():
        pytest.fail("jupyter-repo2docker is not installed: run `make venv` (test extra)")
    plan = subprocess.run(
        [
            exe,
            "--no-build",
            "--debug",
            "--user-name",
            "jovyan",
            "--user-id",
            "1000",
            "--appendix",
            appendix(),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plan.returncode == 0, plan.stderr[-2000:]
    dockerfile = plan.stdout + plan.stderr
    post_build = dockerfile.index("RUN ./binder/postBuild")
    added = dockerfile.index("ENV INTERPKIT_CACHE=")
    assert post_build < added  # the pre-trained cache exists when it is copied
    assert "USER ${NB_USER}" in dockerfile[:post_build]  # and it runs as the notebook user,
    assert "COPY --chown=1000:1000 src/" in dockerfile  # who owns the copy pip builds from
