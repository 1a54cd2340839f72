"""AttentionView re-render time next to one model forward pass, measured side by side.

Changing a layer or head in :class:`interpkit.AttentionView` redraws from the cached attention
tensor; the target is under 50 ms and well under a forward pass. This script times both in
one run, on the same text and machine:

- re-render: setting ``layer_slider.value`` or ``head_dropdown.value`` (the observer builds
  the HTML and sets the widget's value) in heatmap, head, model (every thumbnail widget
  checked and re-styled) and rollout mode;
- forward: ``classifier.predict_proba([text])`` (one forward pass, what a view that
  recomputed would pay at least), and the attention explanation
  (``explain(..., method="attention")``) that the view runs once per text.

All cases take turns N times (so load from other processes hits them alike); medians are
printed.

Run from the repository root::

    python benchmarks/view_speed.py            # the demo model (trained once, then cached)
    python benchmarks/view_speed.py --tiny     # the tiny random BERT (no model needed)
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# Import this checkout's interpkit, not an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXT = (
    "An intelligent, beautifully acted drama that never quite finds its footing, "
    "but the final act is genuinely moving."
)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def interleaved_medians(cases: dict, n: int) -> dict[str, float]:
    """Median milliseconds of each case, the cases taking turns (so load hits all alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(n):
        for name, (setup, fn) in cases.items():
            setup()
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="repetitions per measurement")
    parser.add_argument("--tiny", action="store_true", help="use the tiny random BERT")
    parser.add_argument("--text", default=TEXT)
    args = parser.parse_args()

    import torch

    import interpkit

    if args.tiny:
        from interpkit.testing import tiny_classifier

        clf = tiny_classifier()
    else:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        clf = interpkit.demo_classifier(progress=False)
    view = interpkit.AttentionView(clf, args.text)
    layers, heads = view.layer_slider.max + 1, len(view.head_dropdown.options) - 2
    layer_cycle = itertools.cycle(range(layers))
    head_cycle = itertools.cycle(range(heads))

    def change_layer():
        view.layer_slider.value = next(layer_cycle)

    def change_head():
        view.head_dropdown.value = next(head_cycle)

    def mode(name):
        return lambda: setattr(view.mode_buttons, "value", name)

    def nothing():
        pass

    cases = {
        "re-render, layer change (heatmap)": (mode("heatmap"), change_layer),
        "re-render, head change (heatmap)": (mode("heatmap"), change_head),
        "re-render, layer change (head view)": (mode("head"), change_layer),
        "re-render, head change (model view)": (mode("model"), change_head),
        "re-render, layer change (rollout)": (mode("rollout"), change_layer),
        "one forward pass (predict_proba)": (nothing, lambda: clf.predict_proba([args.text])),
        "attention explanation (2 passes)": (
            nothing,
            lambda: interpkit.explain(clf, args.text, method="attention"),
        ),
    }
    interleaved_medians(cases, 3)  # warm up: memoised aggregates, torch's first calls
    medians = interleaved_medians(cases, args.n)
    tokens = len(view.explanation.tokens)
    print(
        f"model: {clf.name} ({layers} layers x {heads} heads), {tokens} tokens, device {clf.device}"
    )
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
    print(f"median of {args.n}, cases taking turns:")
    for name, ms in medians.items():
        print(f"  {name:<38} {ms:8.2f} ms")
    worst = max(ms for name, ms in medians.items() if name.startswith("re-render"))
    forward_ms = medians["one forward pass (predict_proba)"]
    print(
        f"slowest re-render: {worst:.1f} ms (target < 50 ms), "
        f"{forward_ms / worst:.0f}x faster than one forward pass"
    )


if __name__ == "__main__":
    main()
