"""The course notebooks as committed: executed, readable on GitHub, and ready for nbval."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].name == "01_finetune_bert.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_and_clean(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert all(isinstance(n, int) for n in counts), (
        "run `make notebooks`: every code cell needs a count"
    )
    assert counts == sorted(counts), "cells were executed out of order: run `make notebooks`"
    assert any(c["outputs"] for c in code), "commit notebooks with their outputs"
    assert "widgets" not in nb["metadata"], (
        "widget state must be stripped (nbstripout --keep-output)"
    )
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, "a stored output is an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_objectives_and_ends_with_checked_exercises(path):
    nb = json.loads(path.read_text())
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# "), "open with an H1 title"
    assert "What you will learn" in first and "CPU" in first and "GPU" in first
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "## Exercises" in markdown
    tail = nb["cells"][
        [i for i, c in enumerate(nb["cells"]) if "## Exercises" in "".join(c["source"])][0] :
    ]
    assert any("assert" in "".join(c["source"]) for c in tail if c["cell_type"] == "code")
