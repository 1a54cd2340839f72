"""Explanation speed: interpkit against the usual way, side by side in one run.

Same model (the fine-tuned demo MiniLM), same real Rotten Tomatoes test sentences, same
machine state; the two sides of each row alternate sentence by sentence so that load from
other processes hits both alike. Printed ratios are reference time / interpkit time (> 1:
interpkit is faster).

Rows
----
IG        interpkit ``integrated_gradients`` (LayerIntegratedGradients on the word embeddings,
          [PAD] baseline) vs Captum ``LayerIntegratedGradients`` called as the Captum BERT
          tutorial does: a forward function over input_ids, token_type_ids, position_ids and
          attention_mask, layer ``model.bert.embeddings``, a [PAD] reference with [CLS]/[SEP]
          kept, ``return_convergence_delta=True``, Captum's default batching. Same n_steps.
Saliency  interpkit ``saliency`` vs ``captum.attr.Saliency`` differentiating the softmax through
          ``inputs_embeds`` (one forward and one backward pass each; the row shows overhead).
LIME      interpkit ``lime`` (batched, each distinct perturbed text predicted once) vs
          ``lime.lime_text.LimeTextExplainer`` with default settings and a classifier function
          that predicts one text per model call with no cache (the lime tutorial pattern).
          A middle row ("lime, batched, no cache") runs lime with interpkit's settings and
          ``Classifier.predict_proba`` directly, to show how much comes from batching and how
          much from not repeating predictions. Same num_samples everywhere.

Usage
-----
    python benchmarks/explain_speed.py --threads 1      # < 2 minutes on 2 busy CPU cores
    python benchmarks/explain_speed.py --sentences 20 --lime-samples 5000 --repeats 3

On a CPU shared with other work, ``--threads 1`` avoids torch's thread oversubscription
(two OpenMP threads fighting another process for two cores made small models ~100x slower
in our measurements); both sides always run with the same setting.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch

# Measure this checkout's interpkit, not whichever copy is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=4, help="test sentences (default 4)")
    p.add_argument("--ig-steps", type=int, default=50, help="IG n_steps, both sides (50)")
    p.add_argument("--lime-samples", type=int, default=500, help="LIME num_samples (500)")
    p.add_argument("--repeats", type=int, default=1, help="timings per sentence, median (1)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--skip-lime-naive", action="store_true", help="skip the slowest row")
    p.add_argument(
        "--tiny", action="store_true", help="smoke test on the tiny random model (not real timings)"
    )
    return p.parse_args(argv)


def cpu_name() -> str:
    """The CPU model as Linux names it (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(fn):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# --------------------------------------------------------------------------- references


def captum_tutorial_ig(clf, text: str, target: int, n_steps: int):
    """LayerIntegratedGradients as in Captum's "Interpreting BERT" tutorial."""
    from captum.attr import LayerIntegratedGradients

    model, tok = clf.model, clf.tokenizer

    def predict(inputs, token_type_ids=None, position_ids=None, attention_mask=None):
        output = model(
            inputs,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            attention_mask=attention_mask,
        )
        return torch.softmax(output.logits, dim=-1)

    ids = tok.encode(text, add_special_tokens=False)[: clf.max_length - 2]  # as interpkit cuts
    input_ids = torch.tensor([[tok.cls_token_id] + ids + [tok.sep_token_id]], device=clf.device)
    ref_input_ids = torch.tensor(
        [[tok.cls_token_id] + [tok.pad_token_id] * len(ids) + [tok.sep_token_id]],
        device=clf.device,
    )
    seq_len = input_ids.size(1)
    token_type_ids = torch.zeros_like(input_ids)
    position_ids = torch.arange(seq_len, device=clf.device).unsqueeze(0)
    attention_mask = torch.ones_like(input_ids)
    lig = LayerIntegratedGradients(predict, model.bert.embeddings)
    attributions, delta = lig.attribute(
        inputs=input_ids,
        baselines=ref_input_ids,
        target=target,
        additional_forward_args=(token_type_ids, position_ids, attention_mask),
        n_steps=n_steps,
        return_convergence_delta=True,
    )
    attributions = attributions.sum(dim=-1).squeeze(0)
    return (attributions / torch.norm(attributions)).detach().cpu().numpy(), float(delta)


def captum_saliency(clf, text: str, target: int):
    """captum.attr.Saliency on the embedding output, the usual pattern for BERT: embed the
    tokens, differentiate the softmax through ``inputs_embeds``, L2 norm over the hidden size."""
    from captum.attr import Saliency

    model, tok = clf.model, clf.tokenizer
    enc = tok(text, return_tensors="pt", truncation=True, max_length=clf.max_length).to(clf.device)
    embeds = model.get_input_embeddings()(enc["input_ids"]).detach().requires_grad_()

    def forward(inputs_embeds):
        logits = model(inputs_embeds=inputs_embeds, attention_mask=enc["attention_mask"]).logits
        return torch.softmax(logits, dim=-1)

    grads = Saliency(forward).attribute(embeds, target=target, abs=False)
    return grads.norm(dim=-1).squeeze(0).detach().cpu().numpy()


def lime_unbatched(clf, text: str, target: int, num_samples: int):
    """lime's tutorial pattern: default LimeTextExplainer, one model call per text."""
    from lime.lime_text import LimeTextExplainer

    def classifier_fn(texts):
        return np.vstack([clf.predict_proba([t if t.strip() else "."]) for t in texts])

    explainer = LimeTextExplainer(class_names=list(clf.labels), random_state=0)
    exp = explainer.explain_instance(
        text, classifier_fn, labels=(target,), num_features=10, num_samples=num_samples
    )
    return exp.as_list(label=target)


def lime_batched_uncached(clf, text: str, target: int, num_samples: int, words):
    """lime with interpkit's words and settings, but predict_proba on every sample."""
    from lime.lime_text import LimeTextExplainer

    def classifier_fn(texts):
        return clf.predict_proba([t if t.strip() else "." for t in texts])

    explainer = LimeTextExplainer(
        class_names=list(clf.labels),
        split_expression=lambda _raw: list(words),
        bow=False,
        mask_string="",
        random_state=0,
    )
    return explainer.explain_instance(
        text, classifier_fn, labels=(target,), num_features=len(words), num_samples=num_samples
    )


# --------------------------------------------------------------------------- the run


def main(argv=None) -> None:
    args = parse_args(argv)
    import interpkit

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.tiny:
        from interpkit.testing import tiny_classifier

        clf = tiny_classifier()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = interpkit.demo_classifier(device="cpu", progress=False)
    texts = list(interpkit.load_dataset()["test"]["text"][: args.sentences])
    targets = [int(p.argmax()) for p in clf.predict_proba(texts)]
    lengths = clf.token_lengths(texts)
    print(
        f"model: {clf.name} | CPU: {cpu_name()} x {os.cpu_count()} | "
        f"torch threads: {torch.get_num_threads()} | torch {torch.__version__}"
    )
    print(
        f"{len(texts)} Rotten Tomatoes test sentences, {min(lengths)}-{max(lengths)} tokens; "
        f"IG n_steps={args.ig_steps}; LIME num_samples={args.lime_samples}; "
        f"repeats={args.repeats}"
    )

    ig = interpkit.get_explainer("integrated_gradients")(clf, n_steps=args.ig_steps)
    sal = interpkit.get_explainer("saliency")(clf)
    lime = interpkit.get_explainer("lime")(clf, num_samples=args.lime_samples)
    # warm-up (imports, first-call allocations) outside the timings
    ig.explain(texts[0])
    captum_tutorial_ig(clf, texts[0], targets[0], args.ig_steps)
    lime.explain(texts[0], num_samples=50)

    sal.explain(texts[0])
    captum_saliency(clf, texts[0], targets[0])
    keys = ("ig", "ig_ref", "sal", "sal_ref", "lime", "lime_b", "lime_u")
    rows: dict[str, list[float]] = {k: [] for k in keys}
    agreement, unique = [], []
    for i, (text, target) in enumerate(zip(texts, targets, strict=True)):
        words = ig.explain(text, n_steps=1).words  # interpkit's words, for the middle LIME row
        calls = {
            "ig": partial(ig.explain, text, target=target),
            "ig_ref": partial(captum_tutorial_ig, clf, text, target, args.ig_steps),
            "sal": partial(sal.explain, text, target=target),
            "sal_ref": partial(captum_saliency, clf, text, target),
            "lime": partial(lime.explain, text, target=target),
            "lime_b": partial(lime_batched_uncached, clf, text, target, args.lime_samples, words),
            "lime_u": partial(lime_unbatched, clf, text, target, args.lime_samples),
        }
        if args.skip_lime_naive:
            del calls["lime_u"]
        for r in range(args.repeats):
            # alternate which side of a row goes first
            flip = (i + r) % 2 == 1
            for group in (["ig", "ig_ref"], ["sal", "sal_ref"], ["lime", "lime_b", "lime_u"]):
                for key in reversed(group) if flip else group:
                    if key not in calls:
                        continue
                    seconds, out = timed(calls[key])
                    rows[key].append(seconds)
                    if r == 0 and key == "ig":
                        ours = out.scores / np.linalg.norm(out.scores)
                    elif r == 0 and key == "ig_ref":
                        ref = out[0]
                    elif r == 0 and key == "lime":
                        unique.append(out.diagnostics["unique_perturbations"])
        agreement.append(float(np.corrcoef(ours, ref)[0, 1]))

    def total(key):
        values = rows[key]
        if not values:
            return float("nan")
        per_sentence = [
            statistics.median(values[j : j + args.repeats])
            for j in range(0, len(values), args.repeats)
        ]
        return sum(per_sentence) / len(per_sentence)

    print()
    print(f"{'row':<44}{'interpkit s':>12}{'reference s':>13}{'ratio':>8}")
    table = [
        ("IG: vs Captum tutorial LayerIG", "ig", "ig_ref"),
        ("Saliency: vs Captum Saliency on embeddings", "sal", "sal_ref"),
        ("LIME: vs lime, batched, no cache", "lime", "lime_b"),
        ("LIME: vs lime tutorial (unbatched, no cache)", "lime", "lime_u"),
    ]
    for label, ours, ref in table:
        a, b = total(ours), total(ref)
        print(f"{label:<44}{a:>12.3f}{b:>13.3f}{b / a:>7.1f}x")
    print()
    print("mean seconds per sentence (median of repeats); ratio = reference / interpkit")
    print(
        f"IG agreement (Pearson r of normalised token scores, word-embedding layer vs "
        f"whole embedding block): {min(agreement):.2f}-{max(agreement):.2f}"
    )
    print(
        f"LIME distinct perturbed texts per sentence: {min(unique)}-{max(unique)} of "
        f"{args.lime_samples} samples"
    )
    print()
    view_rerender_row(clf, texts[0])


def view_rerender_row(clf, text: str, n: int = 20) -> None:
    """AttentionView layer change (re-drawn from the cached tensor) next to one forward pass;
    ``benchmarks/view_speed.py`` times every mode."""
    import itertools

    import interpkit

    view = interpkit.AttentionView(clf, text)
    layers = itertools.cycle(range(view.layer_slider.max + 1))
    times = {"re-render": [], "forward": []}
    for _ in range(n + 2):  # the first two are warm-up
        for key, fn in (
            ("re-render", lambda: setattr(view.layer_slider, "value", next(layers))),
            ("forward", lambda: clf.predict_proba([text])),
        ):
            seconds, _ = timed(fn)
            times[key].append(seconds * 1000)
    rerender, forward = (statistics.median(v[2:]) for v in times.values())
    print(
        f"AttentionView layer change: {rerender:.1f} ms re-render vs {forward:.1f} ms for one "
        f"forward pass ({forward / rerender:.0f}x; target < 50 ms; median of {n})"
    )


if __name__ == "__main__":
    main()
