"""Data for :func:`interpkit.fine_tune`: the splits, the label ids, the tokenised datasets.

Labels are matched to the classifier's classes by name, never by position; an untrained head
takes the training data's class names (unless the user named its classes). Every mistake gets
an error that names the split, both label lists and the fix.

Example
-------
>>> from interpkit.train.splits import prepare_data
>>> data = prepare_data(clf, interpkit.load_dataset(), eval_split="validation")
>>> len(data.train), data.eval is not None
(8530, True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..models import Classifier, as_text_list
from ..predict import TextClassifier
from ..validation import check_positive_int
from ..validation import resolve_label as class_index
from ..validation import resolve_labels as class_indices

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict


@dataclass(frozen=True)
class PreparedData:
    """Tokenised splits ready for the Trainer (``labels`` column holds class ids)."""

    train: Dataset
    eval: Dataset | None


def split_dataset(
    dataset: DatasetDict | Dataset | Mapping[str, Dataset], eval_split: str | None
) -> tuple[Dataset, Dataset | None]:
    """Return the training and evaluation splits (None: no evaluation) of ``dataset``."""
    from datasets import Dataset, DatasetDict

    if isinstance(dataset, Dataset):
        return dataset, None
    if not isinstance(dataset, (DatasetDict, dict)):
        raise TypeError(
            f"dataset must be a datasets.DatasetDict or Dataset, got {type(dataset).__name__}: "
            "use interpkit.load_dataset() or datasets.Dataset.from_pandas(df)"
        )
    if "train" not in dataset:
        raise ValueError(
            f"dataset has no 'train' split (it has {sorted(dataset)}): pass e.g. "
            "interpkit.load_dataset()"
        )
    if eval_split is not None and eval_split not in dataset:
        raise ValueError(
            f"dataset has no {eval_split!r} split for evaluation (it has {sorted(dataset)}): "
            "pass eval_split=None to skip evaluation"
        )
    return dataset["train"], dataset[eval_split] if eval_split else None


def _class_names(split: Dataset) -> list[str] | None:
    """Return the split's class names when its label column is a ClassLabel, else None."""
    from datasets import ClassLabel

    feature = split.features.get("label")
    return list(feature.names) if isinstance(feature, ClassLabel) else None


def _unknown_names(classifier: TextClassifier, names: list[str]) -> list[str]:
    """Return the names among ``names`` that are not classes of ``classifier``."""
    unknown = []
    for name in names:
        try:
            class_index(classifier.labels, name)
        except ValueError:
            unknown.append(name)
    return unknown


def label_ids(classifier: TextClassifier, split: Dataset, where: str) -> list[int]:
    """Return the split's labels as the classifier's class ids, matched by name.

    Parameters
    ----------
    classifier : TextClassifier
        Whose classes (``labels``) the split's labels are matched to.
    split : datasets.Dataset
        With ``text`` and ``label`` columns (names, ids, or a ClassLabel).
    where : str
        The split's name, for messages.

    Returns
    -------
    list of int
        One class id per row.
    """
    missing = {"text", "label"} - set(split.column_names)
    if missing:
        raise ValueError(
            f"the {where} split has no {'/'.join(sorted(missing))} column: it needs 'text' and "
            f"'label' (it has {split.column_names})"
        )
    names = _class_names(split)
    unknown = _unknown_names(classifier, names) if names is not None else []
    if unknown:
        raise ValueError(
            f"unknown label name(s) {unknown} in the {where} split: the classifier's labels "
            f"are {list(classifier.labels)}; load it with load_classifier(labels={names}) "
            f"(command line: --labels {','.join(names)})"
        )
    return class_indices(
        classifier.labels, list(split["label"]), names, where=f"the {where} split"
    ).tolist()


def _empty_split_error(where: str) -> ValueError:
    fix = (
        "give it labelled texts (check the file or filter that made it)"
        if where == "train"
        else "give it labelled texts, or pass eval_split=None to skip evaluation"
    )
    return ValueError(f"the {where} split is empty (0 rows): {fix}")


def tokenize(
    classifier: Classifier, split: Dataset, where: str, limit: int | None = None, seed: int = 0
) -> Dataset:
    """``split`` tokenised for training (no padding: the collator pads per batch).

    Parameters
    ----------
    classifier : Classifier
        Its tokenizer and classes.
    split : datasets.Dataset
        ``text`` and ``label`` columns.
    where : str
        The split's name, for messages.
    limit : int, optional
        Keep a seeded random subset of this many rows (a positive integer).
    seed : int
        Seed of that subset.

    Returns
    -------
    datasets.Dataset
        The tokenizer's columns and ``labels`` (class ids).
    """
    from datasets import Dataset

    if len(split) == 0:
        raise _empty_split_error(where)
    if limit is not None and limit < len(split):
        split = split.shuffle(seed=seed).select(range(limit))
    labels = label_ids(classifier, split, where)
    texts = as_text_list(list(split["text"]))
    classifier.warn_if_truncated(classifier.token_lengths(texts), texts)
    enc = classifier.tokenizer(texts, truncation=True, max_length=classifier.max_length)
    columns = {k: enc[k] for k in enc.keys()}
    columns["labels"] = labels
    return Dataset.from_dict(columns)


def adopt_label_names(classifier: Classifier, split: Dataset) -> None:
    """Give an untrained head the training split's class names, unless the user named them.

    The names then travel into checkpoints. Names given to ``load_classifier(labels=...)``
    are kept and the data is matched to them by name (any order); a data class they lack is an
    error that names both lists, never a silent rename.
    """
    names = _class_names(split)
    if classifier.head_is_trained or names is None:
        return
    if getattr(classifier, "labels_given", False):
        unknown = _unknown_names(classifier, names)
        if unknown:
            raise ValueError(
                f"the classifier's labels {list(classifier.labels)} were given when it was "
                f"loaded, but the train split's classes are {names} ({unknown} not among them): "
                "interpkit does not rename classes you named. Load it with "
                f"load_classifier(labels={names}) (command line: --labels {','.join(names)}), "
                "or leave labels out to take the data's names"
            )
        return
    if len(names) != classifier.num_labels:
        raise ValueError(
            f"the dataset has {len(names)} classes {names} but the classifier has "
            f"{classifier.num_labels}: load it with load_classifier(labels={names}) "
            f"(command line: --labels {','.join(names)})"
        )
    classifier.adopt(labels=names, head_is_trained=False)


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
    """No ``datasets`` progress bars inside the block (restored afterwards)."""
    import datasets

    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was:
            datasets.enable_progress_bars()


def prepare_data(
    classifier: Classifier,
    dataset: DatasetDict | Dataset | Mapping[str, Dataset],
    eval_split: str | None = "validation",
    max_train_examples: int | None = None,
    max_eval_examples: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Split, name the classes, and tokenise ``dataset`` for ``classifier``.

    Parameters
    ----------
    classifier : Classifier
        An untrained head takes the training split's class names here.
    dataset : datasets.DatasetDict or Dataset
        ``text`` and ``label`` columns.
    eval_split : str, optional
        The split evaluated each epoch (None: none).
    max_train_examples, max_eval_examples : int, optional
        Seeded random subsets.
    seed : int
        Seed of the subsets.

    Returns
    -------
    PreparedData
        The tokenised training and evaluation splits.
    """
    for name, limit in (
        ("max_train_examples", max_train_examples),
        ("max_eval_examples", max_eval_examples),
    ):
        if limit is not None:
            check_positive_int(name, limit)
    train_split, eval_data = split_dataset(dataset, eval_split)
    adopt_label_names(classifier, train_split)
    with quiet_datasets():
        train = tokenize(classifier, train_split, "train", max_train_examples, seed)
        evaluation = (
            tokenize(classifier, eval_data, eval_split, max_eval_examples, seed)
            if eval_data is not None
            else None
        )
    return PreparedData(train, evaluation)
