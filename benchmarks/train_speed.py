"""Fine-tuning throughput: interpkit's ``fine_tune`` against the HF Trainer as its tutorial runs it.

Same model (the embedded all-MiniLM-L6-v2 with a new 2-class head), same Rotten Tomatoes
training snippets, same batch size, learning rate, epochs and seed, one run of this script.
Each variant trains in its own fresh process (so peak memory is its own), and the variants take
turns ``--rounds`` times so that load from other processes hits them alike.

Variants
--------
reference   ``transformers.Trainer`` with its defaults, as the "Fine-tune a pretrained model"
            tutorial does it: ``tokenizer(..., padding="max_length", truncation=True)`` (every
            snippet padded to the tokenizer's 512), ``from_pretrained`` defaults (SDPA
            attention), fp32, random batches.
fp32        ``interpkit.fine_tune(precision="fp32")``: padding per batch, length-grouped
            batches (eager attention, which the views need).
auto        ``interpkit.fine_tune()`` as users call it: also bf16 autocast where the CPU
            computes bf16 natively (or the GPU's bf16/fp16).

Printed: training examples/s (the Trainer's own ``train_samples_per_second``), peak resident
memory of the process, and the ratio to the reference.

Usage
-----
    python benchmarks/train_speed.py                   # 256 snippets, 1 epoch, 2 rounds
    python benchmarks/train_speed.py --examples 1024 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout's interpkit

VARIANTS = ("reference", "fp32", "auto")
SETTINGS = dict(batch_size=32, learning_rate=5e-5, seed=0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=256, help="training snippets")
    parser.add_argument("--rounds", type=int, default=2, help="turns of every variant")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def train_split(n: int):
    import interpkit

    return interpkit.load_dataset()["train"].shuffle(seed=0).select(range(n))


def run_reference(n: int, out: Path) -> dict:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
    )
    from transformers.utils import logging as hf_logging

    from interpkit.models import embedded_model_dir

    hf_logging.set_verbosity_error()
    folder = embedded_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
    data = train_split(n).map(
        lambda batch: tokenizer(batch["text"], padding="max_length", truncation=True),
        batched=True,
    )
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=SETTINGS["batch_size"],
        learning_rate=SETTINGS["learning_rate"],
        seed=SETTINGS["seed"],
        num_train_epochs=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    metrics = Trainer(model=model, args=args, train_dataset=data).train().metrics
    return {
        "examples_per_s": metrics["train_samples_per_second"],
        "tokens_per_example": len(data[0]["input_ids"]),
    }


def run_interpkit(n: int, out: Path, precision: str) -> dict:
    import interpkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = interpkit.load_classifier()
    data = interpkit.load_dataset()
    data["train"] = train_split(n)
    history = interpkit.fine_tune(
        clf,
        data,
        epochs=1,
        eval_split=None,
        precision=precision,
        progress=False,
        **SETTINGS,
    )
    lengths = clf.token_lengths(list(data["train"]["text"]))
    return {
        "examples_per_s": history.attrs["train_examples_per_s"],
        "tokens_per_example": statistics.mean(lengths),
    }


def worker(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.worker == "reference":
            result = run_reference(args.examples, Path(tmp))
        else:
            result = run_interpkit(args.examples, Path(tmp), args.worker)
    # ru_maxrss is in KiB on Linux
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("RESULT " + json.dumps(result))


def spawn(variant: str, args) -> dict:
    command = [sys.executable, __file__, "--worker", variant, "--examples", str(args.examples)]
    command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    import torch

    import interpkit
    from interpkit.train import cpu_has_native_bf16

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"machine: {torch.cuda.get_device_name(0) if device == 'cuda' else cpu_name()}, "
        f"{os.cpu_count()} CPUs | torch {torch.__version__} | interpkit {interpkit.__version__}"
    )
    print(
        f"{args.examples} training snippets, 1 epoch, batch {SETTINGS['batch_size']}, "
        f"{args.rounds} round(s), each run in a fresh process; "
        f"native CPU bf16: {cpu_has_native_bf16()}"
    )
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    started = time.perf_counter()
    for r in range(args.rounds):
        order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            results[variant].append(spawn(variant, args))
    print(f"(took {time.perf_counter() - started:.0f} s)\n")
    ref = statistics.median(x["examples_per_s"] for x in results["reference"])
    print(f"{'variant':<44}{'tokens/ex':>10}{'ex/s':>9}{'peak RSS':>10}{'speed-up':>10}")
    labels = {
        "reference": "HF Trainer tutorial (pad to 512, fp32)",
        "fp32": "interpkit fine_tune, fp32",
        "auto": "interpkit fine_tune, precision='auto'",
    }
    for variant in VARIANTS:
        runs = results[variant]
        speed = statistics.median(x["examples_per_s"] for x in runs)
        rss = max(x["peak_rss_gb"] for x in runs)
        tokens = runs[0]["tokens_per_example"]
        print(
            f"{labels[variant]:<44}{tokens:>10.0f}{speed:>9.1f}{rss:>8.2f} GB{speed / ref:>9.1f}x"
        )
    print("\nex/s: median over rounds; peak RSS: the largest over rounds (whole process)")


if __name__ == "__main__":
    main()
