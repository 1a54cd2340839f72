"""Command line: ``python -m interpkit train|predict|demo|prepare|audit ...`` (or ``interpkit``).

The ``train`` command runs unchanged on several GPUs or machines under ``accelerate launch``
or ``torchrun`` (the HF Trainer handles DDP):

    torchrun --nproc_per_node 4 -m interpkit train --model bert-base-uncased \
        --data sst2 --out runs/sst2
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import DatasetDict


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m interpkit",
        description="Fine-tune, explain and audit BERT text classifiers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="fine-tune a classifier and save it",
        description="Fine-tune a classifier on a dataset; the model is saved to OUT/model and "
        "checkpoints to OUT/checkpoints. Runs on several GPUs under accelerate launch / torchrun.",
    )
    train.add_argument(
        "--model",
        default=None,
        help="model folder or hub name (default: embedded all-MiniLM-L6-v2)",
    )
    train.add_argument(
        "--data",
        default="default",
        help="'default' (embedded Rotten Tomatoes), 'sst2', or a .csv/.json/.parquet file",
    )
    train.add_argument(
        "--out", required=True, help="run folder for checkpoints and the final model"
    )
    train.add_argument(
        "--labels",
        default=None,
        metavar="NAMES",
        help="comma-separated class names in id order, e.g. negative,neutral,positive (default: "
        "the model's own; a base model without a trained head takes the data's class names). "
        "The data's labels are matched to them by name",
    )
    train.add_argument("--epochs", type=float, default=1)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=5e-5, help="learning rate (default: 5e-5)")
    train.add_argument("--max-train-examples", type=int, default=None)
    train.add_argument("--max-eval-examples", type=int, default=None)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="auto: $INTERPKIT_PRECISION if set, else bf16/fp16 where the hardware computes it",
    )
    train.add_argument(
        "--save-steps",
        type=int,
        default=None,
        help="checkpoint every N steps (default: each epoch)",
    )
    train.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint in OUT"
    )
    train.add_argument("--device", default="auto")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    predict = sub.add_parser(
        "predict",
        help="print class probabilities for texts",
        description="Print the predicted label and class probabilities of each TEXT.",
    )
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    predict.add_argument(
        "--model", default="demo", help="model folder, hub name, or 'demo' (default)"
    )
    predict.add_argument("--device", default="auto")
    predict.add_argument("--json", action="store_true", help="print JSON lines instead of a table")

    demo = sub.add_parser(
        "demo",
        help="train (once) and cache the demo model the notebooks use",
        description="Fine-tune the demo model into the cache (INTERPKIT_CACHE) unless it is there.",
    )
    demo.add_argument("--retrain", action="store_true")
    demo.add_argument("--device", default="auto")

    prepare = sub.add_parser(
        "prepare",
        help="build the cached course artefacts (the demo model, ...) not built yet",
        description="Build every registered artefact (or those NAMEd) into the cache "
        "(INTERPKIT_CACHE) unless a current copy is there: Binder's postBuild, `make lab` and "
        "`make test` run it so that no notebook cell trains one.",
    )
    prepare.add_argument("names", nargs="*", metavar="NAME", help="artefacts (default: all)")
    prepare.add_argument("--list", action="store_true", help="list the artefacts and exit")
    prepare.add_argument("--retrain", action="store_true", help="build them again")
    prepare.add_argument("--device", default="auto")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bars")

    audit = sub.add_parser(
        "audit",
        help="audit a classifier and write an HTML report (exit 1 when a check fails)",
        description="Run the audit (data review, behavioural tests, robustness, fairness, "
        "consistency, calibration) and write one self-contained HTML report. Exit status: 0 "
        "when every check passes, 1 when a check fails, 2 for bad usage or input: usable in "
        "a model's CI. The sentiment parts (MFT/DIR templates, fairness, out-of-domain sets) "
        "need negative/positive classes: other label sets get them with --label-map, else "
        "they are listed as SKIP lines.",
    )
    audit.add_argument(
        "--model", default="demo", help="model folder, hub name, or 'demo' (default)"
    )
    audit.add_argument(
        "--data",
        default="default",
        help="'default' (embedded Rotten Tomatoes), 'sst2', or a .csv/.json/.parquet file",
    )
    audit.add_argument("--split", default="test", help="split to evaluate (default: test)")
    audit.add_argument("--out", required=True, help="HTML report to write, e.g. report.html")
    audit.add_argument("--json", default=None, metavar="PATH", help="also write the report as JSON")
    audit.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a pass/fail threshold (repeatable; VALUE 'none' = informational). Names: "
        + ", ".join(_threshold_names()),
    )
    audit.add_argument(
        "--steps",
        default=None,
        help="comma-separated steps (default: all): data, behavioural, robustness, fairness, "
        "consistency, calibration",
    )
    audit.add_argument(
        "--out-of-domain",
        default="tweets,amazon,nyt",
        help="comma-separated VADER sets (tweets, amazon, nyt, movies) or 'none'",
    )
    audit.add_argument(
        "--label-map",
        action="append",
        default=[],
        metavar="ROLE=CLASSES",
        help="which classes are negative/positive, for a model that is not a two-class "
        "negative/positive one (repeatable), e.g. --label-map negative=very_negative,negative "
        "--label-map positive=positive,very_positive. Without it such a model gets the steps "
        "that run on any label set and the others are reported as skipped",
    )
    audit.add_argument("--n-eval", type=int, default=None, help="evaluate a sample of the split")
    audit.add_argument("--n-out-of-domain", type=int, default=500)
    audit.add_argument("--n-perturb", type=int, default=100)
    audit.add_argument("--n-adversarial", type=int, default=20, help="0 skips the search")
    audit.add_argument("--adversarial-method", default="integrated_gradients")
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--device", default="auto")
    audit.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def _threshold_names() -> list[str]:
    from .audit._common import DEFAULT_THRESHOLDS

    return list(DEFAULT_THRESHOLDS)


def _parse_thresholds(items: list[str]) -> dict:
    names = _threshold_names()
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--threshold {item!r}: write NAME=VALUE, e.g. ece=0.1")
        if name not in names:
            raise ValueError(f"--threshold: unknown name {name!r}; use one of {', '.join(names)}")
        if value.strip().lower() == "none":
            out[name] = None
            continue
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(
                f"--threshold {item!r}: {value!r} is not a number (or 'none')"
            ) from None
    return out


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return [] if items == ["none"] else items


def _parse_label_map(items: list[str]) -> dict | None:
    out = {}
    for item in items:
        role, sep, classes = item.partition("=")
        names = _csv(classes) or []
        if not sep or not role.strip() or not names:
            raise ValueError(
                f"--label-map {item!r}: write ROLE=CLASS[,CLASS...], e.g. "
                "positive=positive,very_positive"
            )
        out[role.strip()] = names
    return out or None


def _check_model_arg(model: str | None, default: str) -> None:
    """Refuse a --model that can only be a path and does not exist (in command-line words)."""
    from .models import _looks_like_path

    if model is None or model == "demo" or Path(model).expanduser().exists():
        return
    if _looks_like_path(model):
        raise FileNotFoundError(
            f"no model folder at {model!r} (--model): pass a folder written by `interpkit "
            f"train` or Classifier.save(), a Hugging Face model name, or {default}"
        )


def _class_names(dataset: DatasetDict) -> list[str] | None:
    feature = dataset["train"].features.get("label") if "train" in dataset else None
    return list(feature.names) if hasattr(feature, "names") else None


def _train(args: argparse.Namespace) -> int:
    from .data import load_dataset

    labels = _csv(args.labels)
    data = load_dataset(args.data)  # before torch and the model: a wrong --data fails fast
    _check_model_arg(args.model, "leave --model out for the embedded default")
    from .models import UntrainedHeadWarning, load_classifier
    from .train import fine_tune

    names = _class_names(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        clf = load_classifier(args.model, labels=labels, device=args.device)
        if labels is None and names and not clf.head_is_trained and clf.num_labels != len(names):
            # a base model: its new head is sized for the data's classes
            clf = load_classifier(args.model, labels=names, device=args.device)
    history = fine_tune(
        clf,
        data,
        output_dir=args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        max_train_examples=args.max_train_examples,
        max_eval_examples=args.max_eval_examples,
        seed=args.seed,
        precision=args.precision,
        save_steps=args.save_steps,
        resume=args.resume,
        progress=not args.no_progress,
    )
    evals = history.dropna(subset=["eval_accuracy"])
    if not evals.empty:
        last = evals.iloc[-1]
        print(
            f"epoch {last.epoch:g}: eval accuracy {last.eval_accuracy:.3f}, "
            f"macro-F1 {last.eval_macro_f1:.3f}, loss {last.eval_loss:.3f}"
        )
    if "model_dir" in history.attrs:
        print(f"model saved to {history.attrs['model_dir']}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import json

    from .models import load_classifier
    from .train import demo_classifier

    _check_model_arg(args.model, "'demo' (the default) for the demo model")
    clf = (
        demo_classifier(device=args.device)
        if args.model == "demo"
        else load_classifier(args.model, device=args.device)
    )
    probs = clf.predict_proba(args.texts)
    for text, row in zip(args.texts, probs, strict=True):
        label = clf.labels[int(row.argmax())]
        if args.json:
            print(
                json.dumps(
                    {
                        "text": text,
                        "label": label,
                        "probabilities": dict(zip(clf.labels, map(float, row), strict=True)),
                    }
                )
            )
        else:
            scores = "  ".join(f"{name}={p:.3f}" for name, p in zip(clf.labels, row, strict=True))
            print(f"{label:<10} {scores}  {text}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .train import DEMO_NAME, MODEL, cache_dir, demo_classifier

    clf = demo_classifier(device=args.device, retrain=args.retrain)
    print(f"{clf.name}: {cache_dir() / DEMO_NAME / MODEL}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from .train.artefacts import artefact_dir, get_recipe, prepare, recipes

    if args.list:
        for name in args.names or recipes():
            print(f"{name:<12} {get_recipe(name).description}  ({artefact_dir(name)})")
        return 0
    done = prepare(
        args.names or None,
        retrain=args.retrain,
        device=args.device,
        progress=not args.no_progress,
    )
    for name, status in done.items():
        print(f"{name}: {status} in {artefact_dir(name)}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from .audit import STEPS, audit
    from .data import load_dataset

    thresholds = _parse_thresholds(args.threshold)
    label_map = _parse_label_map(args.label_map)
    steps = _csv(args.steps) or list(STEPS)
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {args.out} is a folder: pass a file name such as report.html")
    data = load_dataset(args.data)  # before torch and the model: a wrong --data fails fast
    _check_model_arg(args.model, "'demo' (the default) for the demo model")
    from .models import load_classifier
    from .train import demo_classifier

    clf = (
        demo_classifier(device=args.device)
        if args.model == "demo"
        else load_classifier(args.model, device=args.device)
    )
    report = audit(
        clf,
        data,
        split=args.split,
        label_map=label_map,
        steps=steps,
        n_eval=args.n_eval,
        out_of_domain=_csv(args.out_of_domain),
        n_out_of_domain=args.n_out_of_domain,
        n_perturb=args.n_perturb,
        n_adversarial=args.n_adversarial,
        adversarial_method=args.adversarial_method,
        thresholds=thresholds,
        seed=args.seed,
        progress=not args.no_progress,
    )
    summary = report.summary()
    for row in summary.itertuples():
        if row.status == "skipped":
            print(f"SKIP  {row.check:<48} {row.detail}")
            continue
        limit = "" if row.threshold != row.threshold else f"{row.rule} {row.threshold:g}"
        print(f"{row.status.upper():<5} {row.check:<48} {row.value:8.3f} {limit}")
    report.to_html(out)
    print(f"report written to {out}")
    if args.json:
        print(f"JSON written to {report.to_json(args.json)}")
    failing = report.failing()
    if failing:
        print(f"{len(failing)} check(s) failed: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one line and exit with status 2 (no traceback)."""
    args = _parser().parse_args(argv)
    handler = {
        "train": _train,
        "predict": _predict,
        "demo": _demo,
        "prepare": _prepare,
        "audit": _audit,
    }[args.command]
    try:
        return handler(args)
    except (ValueError, TypeError, OSError, ModuleNotFoundError) as err:
        print(f"interpkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interpkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
