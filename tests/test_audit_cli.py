"""`python -m interpkit audit`: exit 0 if every check passes, 1 if one fails, 2 for bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from interpkit.cli import main
from interpkit.testing import tiny_classifier, tiny_dataset

QUICK = ["--steps", "behavioural,calibration", "--n-perturb", "10", "--no-progress"]
LAX = [
    "--threshold", "mft_failure_rate=1",
    "--threshold", "inv_failure_rate=1",
    "--threshold", "dir_failure_rate=1",
    "--threshold", "ece=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def model_and_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-cli")
    model = tiny_classifier().save(root / "model")
    ds = tiny_dataset()
    csv = root / "reviews.csv"
    pd.concat([ds[s].to_pandas() for s in ds]).to_csv(csv, index=False)
    return str(model), str(csv)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "interpkit", *args], capture_output=True, text=True
    )


def test_a_failing_check_exits_1_and_still_writes_the_report(tmp_path, model_and_data, capsys):
    model, data = model_and_data
    out = tmp_path / "report.html"
    code = main(["audit", "--model", model, "--data", data, "--out", str(out),
                 "--json", str(tmp_path / "r.json"), *QUICK])  # fmt: skip
    assert code == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "check(s) failed" in captured.err
    assert out.read_text().startswith("<!DOCTYPE html>")
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert any(r["status"] == "fail" for r in summary)


def test_all_checks_passing_exits_0(tmp_path, model_and_data):
    model, data = model_and_data
    out = run_cli("audit", "--model", model, "--data", data, "--out", str(tmp_path / "r.html"),
                  *QUICK, *LAX)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "FAIL" not in out.stdout and "report written to" in out.stdout


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--threshold", "ece"], "write NAME=VALUE"),
        (["--threshold", "vibes=1"], "unknown name 'vibes'"),
        (["--threshold", "ece=low"], "is not a number"),
        (["--steps", "vibes"], "unknown audit step"),
        (["--split", "dev"], "no split 'dev'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, model_and_data, extra, message):
    model, data = model_and_data
    out = run_cli("audit", "--model", model, "--data", data, "--out", str(tmp_path / "r.html"),
                  *QUICK, *extra)  # fmt: skip
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "r.html").exists()


def test_missing_model_and_usage_errors_exit_2(tmp_path):
    out = run_cli("audit", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html"))
    assert out.returncode == 2 and "no model folder" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_cli("audit")
    assert out.returncode == 2 and "--out" in out.stderr
    out = run_cli("audit", "--help")
    assert out.returncode == 0 and "exit" in out.stdout.lower() and "ece" in out.stdout


def test_a_three_class_model_is_audited_with_skip_lines_and_label_map_opts_in(tmp_path):
    from interpkit.testing import tiny_classifier

    model = tiny_classifier(labels=("negative", "neutral", "positive")).save(tmp_path / "m")
    rows = [
        {"text": f"the film was {word} {i}", "label": label}
        for i in range(12)
        for label, word in (("negative", "bad"), ("neutral", "a"), ("positive", "good"))
    ]
    data = tmp_path / "three.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    args = ["audit", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "r.html"),
            "--steps", "behavioural,calibration", "--n-perturb", "10", "--no-progress",
            "--json", str(tmp_path / "r.json")]  # fmt: skip
    out = run_cli(*args)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    assert "SKIP  MFT and DIR tests" in out.stdout and "label_map" in out.stdout
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert not [r for r in summary if r["check"].startswith(("MFT:", "DIR:"))]
    opted = run_cli(*args, "--label-map", "negative=negative", "--label-map", "positive=positive")
    assert opted.returncode in (0, 1), opted.stderr[-2000:]
    assert "SKIP" not in opted.stdout and "MFT: positive sentences" in opted.stdout
    bad = run_cli(*args, "--label-map", "positive")
    assert bad.returncode == 2 and "write ROLE=CLASS" in bad.stderr
