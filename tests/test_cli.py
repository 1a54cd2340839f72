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
