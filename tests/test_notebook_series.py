"""benchmarks/notebook_series.py: Binder mode really gives the kernel one thread, one CPU, fp32."""

import csv
import importlib.util
import io
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _series():
    spec = importlib.util.spec_from_file_location(
        "notebook_series", ROOT / "benchmarks" / "notebook_series.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def series():
    return _series()


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="pinning to a CPU needs Linux's sched_setaffinity"
)
def test_binder_mode_kernel_has_one_thread_one_cpu_and_fp32(series, tmp_path, monkeypatch):
    monkeypatch.delenv("INTERPKIT_PRECISION", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    path = _notebook(
        tmp_path / "nb.ipynb",
        "import torch\nx = torch.randn(256, 256)\ny = x @ x",
        "from interpkit.train.arguments import _precision\n"
        "assert _precision('auto', True)['bf16'] is False",
    )
    before = os.sched_getaffinity(0)
    cpu = max(before)
    work = tmp_path / "work"
    work.mkdir()
    result = series.run_notebook(path, work, timeout=120, binder=True, cpu=cpu)
    assert result.error == ""
    assert (result.threads, result.cpus, result.precision) == (1, str(cpu), "fp32")
    assert 0.05 < result.peak_gb < series.BUDGET_GB  # torch imported: well above 50 MB
    assert result.verdict(binder=True) == "ok"
    assert os.sched_getaffinity(0) == before  # only the kernel was pinned, not this process


def test_default_mode_leaves_threads_and_precision_alone(series, tmp_path, monkeypatch):
    monkeypatch.delenv("INTERPKIT_PRECISION", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    path = _notebook(tmp_path / "nb.ipynb", "import torch")
    work = tmp_path / "work"
    work.mkdir()
    result = series.run_notebook(path, work, timeout=120)
    import torch

    assert result.threads == torch.get_num_threads()
    assert result.precision == "auto"
    assert result.cpus == ",".join(map(str, sorted(os.sched_getaffinity(0))))
    assert result.verdict(binder=False) == ""


def test_a_failing_notebook_is_reported_not_raised(series, tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", "x = 1", "raise ValueError('broken cell')", "y = 2")
    work = tmp_path / "work"
    work.mkdir()
    result = series.run_notebook(path, work, timeout=60, binder=True)
    assert result.error.startswith("cell 1:") and "broken cell" in result.error
    assert result.verdict(binder=True).startswith("FAILED")


def test_budget_marks_and_tables(series):
    Result = series.Result
    results = [
        Result("01_a.ipynb", 120.0, 1.2, 1, "1", "fp32"),
        Result("02_b.ipynb", 181.0, 0.9, 1, "1", "fp32"),  # too slow
        Result("03_c.ipynb", 30.0, 1.51, 1, "1", "fp32"),  # too big
    ]
    assert [r.verdict(binder=True) for r in results] == ["ok", "OVER", "OVER"]
    assert [r.verdict(binder=False) for r in results] == ["", "", ""]
    rows = list(csv.DictReader(io.StringIO(series.table(results, True, "csv", "h"))))
    assert [(r["notebook"], r["seconds"], r["peak_rss_gb"], r["verdict"]) for r in rows] == [
        ("01_a.ipynb", "120", "1.20", "ok"),
        ("02_b.ipynb", "181", "0.90", "OVER"),
        ("03_c.ipynb", "30", "1.51", "OVER"),
    ]
    md = series.table(results, True, "md", "machine: test").splitlines()
    assert md[0] == "machine: test"
    assert md[2].startswith("| notebook | seconds | peak RSS (GB)")
    assert md[5] == "| 02_b.ipynb | 181 | 0.90 | 1 | 1 | OVER |"


def test_out_must_be_csv_or_markdown(series, tmp_path):
    with pytest.raises(SystemExit):
        series.main(["--out", str(tmp_path / "table.txt"), "--binder"])
