"""Command line: ``python -m interpkit train|predict|demo ...`` (also installed as ``interpkit``).

The ``train`` command runs unchanged on several GPUs or machines under ``accelerate launch``
or ``torchrun`` (the HF Trainer handles DDP):

    torchrun --nproc_per_node 4 -m interpkit train --model bert-base-uncased \
        --data sst2 --out runs/sst2
"""

from __future__ import annotations

import argparse
import sys
import warnings


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
    train.add_argument("--epochs", type=float, default=1)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=5e-5, help="learning rate (default: 5e-5)")
    train.add_argument("--max-train-examples", type=int, default=None)
    train.add_argument("--max-eval-examples", type=int, default=None)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
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
    return parser


def _train(args) -> int:
    from .data import load_dataset
    from .models import UntrainedHeadWarning, load_classifier
    from .train import fine_tune

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        clf = load_classifier(args.model, device=args.device)
    history = fine_tune(
        clf,
        load_dataset(args.data),
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


def _predict(args) -> int:
    import json

    from .models import load_classifier
    from .train import demo_classifier

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


def _demo(args) -> int:
    from .train import DEMO_NAME, MODEL, cache_dir, demo_classifier

    clf = demo_classifier(device=args.device, retrain=args.retrain)
    print(f"{clf.name}: {cache_dir() / DEMO_NAME / MODEL}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one line and exit with status 2 (no traceback)."""
    args = _parser().parse_args(argv)
    handler = {"train": _train, "predict": _predict, "demo": _demo}[args.command]
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
