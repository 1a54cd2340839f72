"""The whole course on this machine: seconds per notebook and the kernel's peak memory.

Each notebook runs top to bottom in a fresh kernel (as a student's Run All would), on a
temporary copy so the committed files are untouched. Peak memory is the kernel process's
high-water mark of resident memory (``VmHWM`` in /proc, Linux; GB here means 2**30 bytes),
read just before the kernel shuts down: compare it with the ~2 GB a Binder session gets.
Processes a notebook starts itself (``!python -m interpkit ...``) are not counted.

``--binder`` measures what a Binder user gets: one CPU thread in fp32. The kernel starts with
``OMP_NUM_THREADS=MKL_NUM_THREADS=1`` (torch then uses one thread), one tokenizer thread and
``INTERPKIT_PRECISION=fp32`` (no bf16 autocast even where this CPU has it), and every thread of
the kernel process is pinned to one CPU (``sched_setaffinity``), so a 2-core machine behaves like
a Binder share. Notebooks over the course budget (180 s or 1.5 GB) are marked ``OVER``; the
threads and CPUs the kernel really had are read back from inside it and printed.

The demo model is trained before the first notebook if it is not cached yet (Binder builds
it into the image), so the times are what a student sees.

Usage
-----
    python benchmarks/notebook_series.py                  # every notebooks/NN_*.ipynb
    python benchmarks/notebook_series.py notebooks/02_attention.ipynb
    python benchmarks/notebook_series.py --binder --out binder.md   # or binder.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BINDER_GB = 2.0
#: The course budget per notebook in Binder mode (issue 14): seconds and peak kernel memory.
BUDGET_S = 180.0
BUDGET_GB = 1.5
#: The kernel's environment in Binder mode: one thread everywhere, fp32 training.
BINDER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",  # the Rust tokenizers' thread pool
    "TOKENIZERS_PARALLELISM": "false",
    "INTERPKIT_PRECISION": "fp32",
}
#: Run in the kernel after the notebook: what it really ran with (threads, CPUs, precision).
PROBE = (
    "import os as _os, sys as _sys\n"
    "_t = _sys.modules.get('torch')\n"
    "print('PROBE', _t.get_num_threads() if _t else -1,"
    " ','.join(map(str, sorted(_os.sched_getaffinity(0)))),"
    " _os.environ.get('INTERPKIT_PRECISION', 'auto'))"
)


@dataclass
class Result:
    notebook: str
    seconds: float
    peak_gb: float
    threads: int | None = None
    cpus: str = ""
    precision: str = ""
    error: str = ""

    def verdict(self, binder: bool) -> str:
        if self.error:
            return f"FAILED ({self.error})"
        if not binder:
            return ""
        over = self.seconds > BUDGET_S or self.peak_gb > BUDGET_GB
        return "OVER" if over else "ok"


def peak_rss_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB
    raise RuntimeError("no VmHWM in /proc: this benchmark needs Linux")


def pin_process(pid: int, cpu: int) -> None:
    """Pin every thread of ``pid`` to ``cpu`` (threads it starts later inherit it)."""
    if not hasattr(os, "sched_setaffinity"):
        warnings.warn(
            "this OS cannot pin a process to a CPU: only threads are limited", stacklevel=2
        )
        return
    task_dir = Path(f"/proc/{pid}/task")
    tasks = [int(t.name) for t in task_dir.iterdir()] if task_dir.is_dir() else [pid]
    for task in tasks:
        try:
            os.sched_setaffinity(task, {cpu})
        except ProcessLookupError:  # a thread that ended meanwhile
            pass


def _probe(client, nb) -> tuple[int | None, str, str]:
    import nbformat

    cell = nbformat.v4.new_code_cell(PROBE)
    nb.cells.append(cell)  # nbclient stores each executed cell back into the notebook
    cell = client.execute_cell(cell, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
    for line in text.splitlines():
        if line.startswith("PROBE "):
            _, threads, cpus, precision = line.split()
            return int(threads), cpus, precision
    return None, "", ""


def run_notebook(
    path: Path, workdir: Path, timeout: int, binder: bool = False, cpu: int | None = None
) -> Result:
    """Run ``path`` in a fresh kernel; Binder mode: one thread, fp32, pinned to ``cpu``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    env = {**os.environ, **BINDER_ENV} if binder else None
    error = ""
    with client.setup_kernel(**({"env": env} if env else {})):
        pid = client.km.provisioner.process.pid
        if binder and cpu is not None:
            pin_process(pid, cpu)
        started = time.perf_counter()  # the kernel's start-up is not the notebook's time
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except CellExecutionError as failure:
            error = f"cell {index}: {str(failure).strip().splitlines()[-1][:120]}"
        seconds = time.perf_counter() - started
        peak = peak_rss_gb(pid)
        threads, cpus, precision = _probe(client, nb)
    return Result(path.name, seconds, peak, threads, cpus, precision, error)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def table(results: list[Result], binder: bool, fmt: str, header: str) -> str:
    """The results as CSV or a markdown table (``fmt`` "csv" or "md")."""
    rows = [
        (r.notebook, f"{r.seconds:.0f}", f"{r.peak_gb:.2f}", r.threads, r.cpus, r.verdict(binder))
        for r in results
    ]
    names = ("notebook", "seconds", "peak_rss_gb", "torch_threads", "cpus", "verdict")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
        return out.getvalue()
    lines = [
        header,
        "",
        "| notebook | seconds | peak RSS (GB) | torch threads | CPUs | verdict |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_table(path: Path, text: str) -> None:
    """Write atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument(
        "--binder",
        action="store_true",
        help="one thread, fp32, one pinned CPU; mark notebooks over 180 s or 1.5 GB",
    )
    parser.add_argument(
        "--cpu", type=int, default=None, help="CPU to pin the kernel to (default: the last one)"
    )
    parser.add_argument("--out", type=Path, help="also write the table to OUT (.csv or .md)")
    args = parser.parse_args(argv)
    if args.out is not None and args.out.suffix not in (".csv", ".md"):
        parser.error(f"--out must end in .csv or .md, got {args.out.name}")
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

    import torch

    import interpkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpkit.demo_classifier(progress=False)
    cpu = None
    if args.binder:
        allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        cpu = args.cpu if args.cpu is not None else (allowed[-1] if allowed else None)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    mode = (
        f"Binder mode: 1 thread, fp32, pinned to CPU {cpu}; budget {BUDGET_S:.0f} s, {BUDGET_GB} GB"
        if args.binder
        else "all cores, precision='auto'"
    )
    header = (
        f"machine: {cpu_name()}, {os.cpu_count()} CPUs, {gpu} | torch {torch.__version__} | {mode}"
    )
    print(header)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            result = run_notebook(path, Path(tmp), args.timeout, args.binder, cpu)
            results.append(result)
            print(
                f"  {result.notebook:<40}{result.seconds:8.0f} s{result.peak_gb:8.2f} GB"
                f"  threads {result.threads} CPUs {result.cpus}  {result.verdict(args.binder)}",
                flush=True,
            )
    total = sum(r.seconds for r in results)
    worst = max(r.peak_gb for r in results)
    print(f"  {'whole course':<40}{total:8.0f} s{worst:8.2f} GB (largest kernel)")
    verdict = "fits" if worst < BINDER_GB else "does NOT fit"
    print(f"peak kernel memory {worst:.2f} GB {verdict} in Binder's ~{BINDER_GB:.0f} GB")
    if args.out is not None:
        fmt = args.out.suffix.lstrip(".")
        write_table(args.out, table(results, args.binder, fmt, header))
        print(f"table written to {args.out}")
    failed = [r for r in results if r.error or (args.binder and r.verdict(True) == "OVER")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
