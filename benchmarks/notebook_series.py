"""The whole course on this machine: seconds per notebook and the kernel's peak memory.

Each notebook runs top to bottom in a fresh kernel (as a student's Run All would), on a
temporary copy so the committed files are untouched. Peak memory is the kernel process's
high-water mark of resident memory (``VmHWM`` in /proc, Linux), read just before the kernel
shuts down: compare it with the ~2 GB a Binder session gets.

The demo model is trained before the first notebook if it is not cached yet (Binder builds
it into the image), so the times are what a student sees.

Usage
-----
    python benchmarks/notebook_series.py                  # every notebooks/NN_*.ipynb
    python benchmarks/notebook_series.py notebooks/02_attention.ipynb
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BINDER_GB = 2.0


def peak_rss_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB
    raise RuntimeError("no VmHWM in /proc: this benchmark needs Linux")


def run_notebook(path: Path, workdir: Path, timeout: int) -> tuple[float, float]:
    import nbformat
    from nbclient import NotebookClient

    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    started = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - started
        peak = peak_rss_gb(pid)
    return seconds, peak


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

    import torch

    import interpkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpkit.demo_classifier(progress=False)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, {gpu} | torch {torch.__version__}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            seconds, peak = run_notebook(path, Path(tmp), args.timeout)
            rows.append((path.name, seconds, peak))
            print(f"  {path.name:<40}{seconds:8.0f} s{peak:8.2f} GB", flush=True)
    total = sum(s for _, s, _ in rows)
    worst = max(p for _, _, p in rows)
    print(f"  {'whole course':<40}{total:8.0f} s{worst:8.2f} GB (largest kernel)")
    verdict = "fits" if worst < BINDER_GB else "does NOT fit"
    print(f"peak kernel memory {worst:.2f} GB {verdict} in Binder's ~{BINDER_GB:.0f} GB")


if __name__ == "__main__":
    main()
