"""Data review: label balance, lengths, duplicates and near-duplicates, train/test leakage.

An audit starts with the data: a model evaluated on texts it was trained on (or on
near-copies) looks better than it is, a skewed label balance makes accuracy misleading, and
a random split of reviews about the same movies lets a model score by remembering movies.
Near-duplicates are pairs whose TF-IDF vectors (words and word pairs) have cosine similarity
of at least ``threshold``; the comparison runs in chunks, so 10,000 x 10,000 texts stay
within a few hundred MB.

Example
-------
>>> review = review_data(interpkit.load_dataset())
>>> review["splits"]          # per split: size, label shares, length statistics
>>> review["leakage"]         # evaluation texts that (nearly) repeat a training text
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NEAR_DUPLICATE = 0.9
_CHUNK = 512


def _frames(dataset) -> dict[str, pd.DataFrame]:
    """A DatasetDict / dict of frames / one frame as ``{split: DataFrame}`` with names."""
    if isinstance(dataset, pd.DataFrame):
        parts = {"data": dataset}
    elif hasattr(dataset, "to_pandas"):
        parts = {"data": dataset}
    elif isinstance(dataset, dict) or hasattr(dataset, "keys"):
        parts = dict(dataset)
    else:
        raise TypeError(
            f"dataset must be a DatasetDict, a dict of splits or a DataFrame, got "
            f"{type(dataset).__name__}"
        )
    out = {}
    for name, part in parts.items():
        frame = part if isinstance(part, pd.DataFrame) else part.to_pandas()
        if not {"text", "label"} <= set(frame.columns):
            raise ValueError(
                f"split {name!r} needs 'text' and 'label' columns (found {list(frame.columns)})"
            )
        names = _label_names(part)
        if names is not None and not isinstance(frame["label"].iloc[0], str):
            frame = frame.assign(label_name=[names[int(i)] for i in frame["label"]])
        else:
            frame = frame.assign(label_name=frame["label"].astype(str))
        out[str(name)] = frame.reset_index(drop=True)
    if not out:
        raise ValueError("the dataset has no splits")
    return out


def _label_names(part) -> list[str] | None:
    features = getattr(part, "features", None)
    if features is not None and "label" in features and hasattr(features["label"], "names"):
        return list(features["label"].names)
    return None


def _normalise(texts: pd.Series) -> pd.Series:
    return (
        texts.astype(str)
        .str.lower()
        .str.replace(r"[^\w\s]", "", regex=True)
        .str.split()
        .str.join(" ")
    )


def split_statistics(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per split: ``n``, share of each label, words per text (mean, median, 95th pct, max)."""
    rows = []
    for name, frame in frames.items():
        words = frame["text"].astype(str).str.split().str.len()
        row = {"split": name, "n": len(frame)}
        shares = frame["label_name"].value_counts(normalize=True)
        for label in sorted(frame["label_name"].unique()):
            row[f"share_{label}"] = float(shares.get(label, 0.0))
        row.update(
            words_mean=float(words.mean()),
            words_median=float(words.median()),
            words_p95=float(words.quantile(0.95)),
            words_max=int(words.max()),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _nearest(a: list[str], b: list[str], same: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each text of ``a``: its most similar text in ``b`` (index, cosine similarity)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    vec.fit(a + ([] if same else b))
    xa, xb = vec.transform(a), vec.transform(b)
    best = np.zeros(len(a), dtype=np.int64)
    sim = np.zeros(len(a))
    for start in range(0, len(a), _CHUNK):
        block = (xa[start : start + _CHUNK] @ xb.T).toarray()
        if same:
            rows = np.arange(block.shape[0])
            block[rows, start + rows] = -1.0  # a text is not its own near-duplicate
        best[start : start + _CHUNK] = block.argmax(axis=1)
        sim[start : start + _CHUNK] = block.max(axis=1)
    return best, sim


def review_data(
    dataset,
    train: str = "train",
    threshold: float = NEAR_DUPLICATE,
    group_column: str = "movie",
) -> dict[str, pd.DataFrame]:
    """Review a dataset; returns tidy frames under ``splits``, ``duplicates``, ``leakage``,
    ``near_duplicate_pairs`` and ``group_overlap``.

    - ``duplicates``: per split, texts that repeat another text of the same split after
      lower-casing and removing punctuation (``exact``), and near-duplicates (``near``).
    - ``leakage``: per evaluation split, how many texts repeat a ``train`` text exactly or
      nearly (cosine >= ``threshold``); ``near_duplicate_pairs`` lists them.
    - ``group_overlap``: with a ``group_column`` (the movie), the share of evaluation texts
      whose group also occurs in train (a random split of reviews shares movies).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    frames = _frames(dataset)
    dup_rows, leak_rows, pairs, overlap_rows = [], [], [], []
    for name, frame in frames.items():
        texts = frame["text"].astype(str).tolist()
        norm = _normalise(frame["text"])
        exact = int(norm.duplicated().sum())
        near = 0
        if len(texts) > 1:
            _, sim = _nearest(texts, texts, same=True)
            near = int((sim >= threshold).sum())
        dup_rows.append(
            {
                "split": name,
                "n": len(texts),
                "exact": exact,
                "exact_rate": exact / max(len(texts), 1),
                "near": near,
                "near_rate": near / max(len(texts), 1),
            }
        )
    if train in frames:
        base = frames[train]
        base_norm = set(_normalise(base["text"]))
        base_texts = base["text"].astype(str).tolist()
        for name, frame in frames.items():
            if name == train:
                continue
            texts = frame["text"].astype(str).tolist()
            exact_mask = _normalise(frame["text"]).isin(base_norm).to_numpy()
            idx, sim = _nearest(texts, base_texts, same=False)
            near_mask = sim >= threshold
            leaked = exact_mask | near_mask
            leak_rows.append(
                {
                    "split": name,
                    "n": len(texts),
                    "exact": int(exact_mask.sum()),
                    "near": int(near_mask.sum()),
                    "leaked": int(leaked.sum()),
                    "leakage_rate": float(leaked.mean()) if len(texts) else 0.0,
                }
            )
            for i in np.flatnonzero(leaked):
                pairs.append(
                    {
                        "split": name,
                        "text": texts[i],
                        "train_text": base_texts[idx[i]],
                        "similarity": float(sim[i]),
                        "same_label": frame["label_name"].iloc[i]
                        == base["label_name"].iloc[idx[i]],
                    }
                )
            if group_column in frame.columns and group_column in base.columns:
                seen = frame[group_column].isin(set(base[group_column]))
                overlap_rows.append(
                    {
                        "split": name,
                        "groups": int(frame[group_column].nunique()),
                        "groups_in_train": int(frame.loc[seen, group_column].nunique()),
                        "texts_with_group_in_train": float(seen.mean()),
                    }
                )
    return {
        "splits": split_statistics(frames),
        "duplicates": pd.DataFrame(dup_rows),
        "leakage": pd.DataFrame(
            leak_rows, columns=["split", "n", "exact", "near", "leaked", "leakage_rate"]
        ),
        "near_duplicate_pairs": pd.DataFrame(
            pairs, columns=["split", "text", "train_text", "similarity", "same_label"]
        ),
        "group_overlap": pd.DataFrame(
            overlap_rows,
            columns=["split", "groups", "groups_in_train", "texts_with_group_in_train"],
        ),
    }
