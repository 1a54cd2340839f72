import json
import subprocess
import sys

import pandas as pd
import pytest

from interpkit.cli import main
from interpkit.testing import tiny_classifier


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "interpkit", *args], capture_output=True, text=True, env=env
    )


def test_help_lists_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("train", "predict", "demo"):
        assert command in out.stdout
    train_help = run_cli("train", "--help")
    assert "--resume" in train_help.stdout and "torchrun" in train_help.stdout


@pytest.fixture
def csv_data(tmp_path):
    from interpkit.testing import tiny_dataset

    ds = tiny_dataset()
    frame = pd.concat([ds[s].to_pandas() for s in ds])
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_then_predict(tmp_path, csv_data, capsys):
    base = tiny_classifier().save(tmp_path / "base")
    code = main(
        [
            "train",
            "--model",
            str(base),
            "--data",
            str(csv_data),
            "--out",
            str(tmp_path / "run"),
            "--epochs",
            "3",
            "--batch-size",
            "8",
            "--lr",
            "3e-3",
            "--no-progress",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "eval accuracy" in out and "model saved to" in out
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    code = main(["predict", "--model", str(tmp_path / "run"), "--json", "a good film", "the worst"])
    assert code == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["text"] for x in lines] == ["a good film", "the worst"]
    assert all(abs(sum(x["probabilities"].values()) - 1) < 1e-5 for x in lines)


def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path):
    out = run_cli("predict", "--model", str(tmp_path / "nope"), "hello")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("interpkit predict: error: no model folder")
    base = tiny_classifier().save(tmp_path / "base")
    out = run_cli("predict", "--model", str(base), "   ")
    assert out.returncode == 2 and "empty" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("train", "--model", str(base), "--data", "imdb", "--out", str(tmp_path / "r"))
    assert out.returncode == 2 and "unknown dataset 'imdb'" in out.stderr


def test_missing_required_argument_is_a_usage_error():
    out = run_cli("train")
    assert out.returncode == 2 and "--out" in out.stderr


# --------------------------------------------------------------------------- issue 12.16


@pytest.fixture
def three_class_csv(tmp_path):
    words = {"negative": "bad", "neutral": "film", "positive": "good"}
    rows = [
        {"text": f"the movie was {words[label]} {i}", "label": label}
        for i in range(20)
        for label in words
    ]
    path = tmp_path / "three.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("labels", [["--labels", "negative,neutral,positive"], []])
def test_train_a_three_class_model_from_a_base_model(
    tmp_path, base_model_dir, three_class_csv, capsys, labels
):
    """With --labels, or without (a base model's new head takes the data's classes)."""
    run = tmp_path / "run"
    code = main(["train", "--model", str(base_model_dir), "--data", str(three_class_csv),
                 "--out", str(run), "--batch-size", "8", "--no-progress", *labels])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    info = json.loads((run / "model" / "interpkit.json").read_text())
    assert info["labels"] == ["negative", "neutral", "positive"]
    from interpkit import load_classifier

    assert load_classifier(run, device="cpu").labels == ("negative", "neutral", "positive")


def test_train_labels_that_do_not_match_the_data_exit_2_naming_both(
    tmp_path, base_model_dir, three_class_csv
):
    out = run_cli("train", "--model", str(base_model_dir), "--data", str(three_class_csv),
                  "--out", str(tmp_path / "run"), "--labels", "bad,meh,good")  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "['bad', 'meh', 'good']" in out.stderr
    assert "['negative', 'neutral', 'positive']" in out.stderr
    assert "--labels negative,neutral,positive" in out.stderr


@pytest.mark.parametrize("command", ["train", "audit"])
def test_a_missing_data_file_fails_before_any_model_loads(tmp_path, monkeypatch, capsys, command):
    """Issue 12.16: `train --data missing.csv` loaded the model first (7.7 s)."""
    import interpkit.models
    import interpkit.train

    def never(*args, **kwargs):
        raise AssertionError("a model was loaded before the data was checked")

    monkeypatch.setattr(interpkit.models, "load_classifier", never)
    monkeypatch.setattr(interpkit.train, "demo_classifier", never)
    missing = str(tmp_path / "missing.csv")
    code = main([command, "--data", missing, "--out", str(tmp_path / "out.html")])
    assert code == 2
    assert f"no data file at {missing!r}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "audit", "predict"])
def test_a_missing_model_folder_is_explained_in_command_line_words(tmp_path, command):
    extra = ["hello"] if command == "predict" else ["--out", str(tmp_path / "o")]
    out = run_cli(command, "--model", "/no/such/model", *extra)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no model folder at '/no/such/model' (--model)" in out.stderr
    assert "None" not in out.stderr  # no Python advice on the command line
    default = "leave --model out" if command == "train" else "'demo' (the default)"
    assert default in out.stderr
