import warnings

import pytest

from interpkit.models import UntrainedHeadWarning


@pytest.fixture(scope="session")
def embedded():
    """The real embedded all-MiniLM-L6-v2 (untrained head), loaded once."""
    from interpkit import load_classifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return load_classifier(device="cpu")


@pytest.fixture
def tiny():
    from interpkit.testing import tiny_classifier

    return tiny_classifier()


@pytest.fixture(scope="session")
def tiny_data():
    from interpkit.testing import tiny_dataset

    return tiny_dataset()
