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
memory of the process (and peak GPU memory on a GPU), and the ratio to the reference. On a GPU
also the model FLOP/s, 6 x parameters x tokens processed per second (padding counts: it is
computed), and the model FLOPs utilisation against the GPU's dense bf16 peak (``--peak-tflops``
for GPUs not in the table).

``--model bert-base`` trains a randomly initialised BERT-base (110M parameters, the embedded
tokenizer's vocabulary) instead of MiniLM: throughput does not depend on the weights, and
nothing needs downloading.

Usage
-----
    python benchmarks/train_speed.py                   # 256 snippets, 1 epoch, 2 rounds
    python benchmarks/train_speed.py --examples 1024 --rounds 1
    python benchmarks/train_speed.py --model bert-base --examples 4096   # on a GPU
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
#: Dense bf16 peak TFLOP/s (no sparsity) of GPUs this may run on, for the utilisation column.
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "T4": 65.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=256, help="training snippets")
    parser.add_argument("--rounds", type=int, default=2, help="turns of every variant")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--model", choices=("minilm", "bert-base"), default="minilm")
    parser.add_argument("--peak-tflops", type=float, default=0, help="GPU dense bf16 peak")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def train_split(n: int):
    import interpkit

    return interpkit.load_dataset()["train"].shuffle(seed=0).select(range(n))


def model_and_tokenizer(kind: str):
    """(model, tokenizer) as ``from_pretrained`` defaults give them (SDPA attention)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig
    from transformers import BertForSequenceClassification as Bert

    from interpkit.models import embedded_model_dir

    folder = embedded_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if kind == "bert-base":
        import torch

        torch.manual_seed(0)
        config = BertConfig(vocab_size=tokenizer.vocab_size, num_labels=2)  # BERT-base sizes
        return Bert(config), tokenizer
    return AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2), tokenizer


def run_reference(n: int, out: Path, kind: str) -> dict:
    from transformers import Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    model, tokenizer = model_and_tokenizer(kind)
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
        "params": model.num_parameters(),
    }


def run_interpkit(n: int, out: Path, precision: str, kind: str) -> dict:
    import interpkit

    if kind == "bert-base":
        model, tokenizer = model_and_tokenizer(kind)
        model.set_attn_implementation("eager")  # as load_classifier does (views need it)
        clf = interpkit.Classifier(model, tokenizer, labels=["negative", "positive"])
        clf.head_is_trained = False
    else:
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
        "params": clf.model.num_parameters(),
    }


def worker(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.worker == "reference":
            result = run_reference(args.examples, Path(tmp), args.model)
        else:
            result = run_interpkit(args.examples, Path(tmp), args.worker, args.model)
    # ru_maxrss is in KiB on Linux
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if torch.cuda.is_available():
        result["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2**30
    print("RESULT " + json.dumps(result))


def spawn(variant: str, args) -> dict:
    command = [sys.executable, __file__, "--worker", variant, "--examples", str(args.examples)]
    command += ["--threads", str(args.threads), "--model", args.model]
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

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if gpu and k in gpu), 0)
    print(
        f"machine: {gpu or cpu_name()}, "
        f"{os.cpu_count()} CPUs | torch {torch.__version__} | interpkit {interpkit.__version__}"
    )
    print(
        f"model: {args.model}; {args.examples} training snippets, 1 epoch, "
        f"batch {SETTINGS['batch_size']}, "
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
    header = f"{'variant':<44}{'tokens/ex':>10}{'ex/s':>9}{'peak RSS':>11}{'speed-up':>10}"
    if gpu:
        header += f"{'GPU mem':>10}{'TFLOP/s':>9}{'MFU':>7}"
    print(header)
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
        line = f"{labels[variant]:<44}{tokens:>10.0f}{speed:>9.1f}{rss:>8.2f} GB"
        line += f"{speed / ref:>9.1f}x"
        if gpu:
            # padded tokens are computed too: the reference processes 512 per example
            tflops = 6 * runs[0]["params"] * tokens * speed / 1e12
            mfu = f"{100 * tflops / peak:6.1f}%" if peak else "     ?"
            gpu_gb = max(x["peak_gpu_gb"] for x in runs)
            line += f"{gpu_gb:>7.1f} GB{tflops:>9.1f}{mfu:>7}"
        print(line)
    print("\nex/s: median over rounds; peak memory: the largest over rounds (whole process)")
    if gpu:
        print("TFLOP/s = 6 x parameters x tokens processed per second (attention FLOPs left out)")


if __name__ == "__main__":
    main()
