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


@pytest.fixture(scope="session")
def demo_model():
    """Train the demo model here if it is not cached yet, not inside a server or browser run
    (the browser and serving tests' kernels then load it from the cache)."""
    import interpkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpkit.demo_classifier(progress=False)


@pytest.fixture
def tiny():
    from interpkit.testing import tiny_classifier

    return tiny_classifier()


@pytest.fixture(scope="session")
def tiny_data():
    from interpkit.testing import tiny_dataset

    return tiny_dataset()


def pytest_collection_modifyitems(config, items):
    """Run notebook 01 first: on CPU it trains the demo model into ``demo_dir()`` (its settings are
    the demo recipe), so the browser tests and notebooks 02-07 load it instead of training the same
    model a second time (about 7 minutes on CI's 2 cores). The order inside each file is kept."""
    first = [item for item in items if item.path.name.startswith("01_")]
    items[:] = first + [item for item in items if item not in first]


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory):
    """A tiny BERT encoder saved without a classification head (like a hub base model)."""
    from transformers import BertConfig, BertModel

    from interpkit.testing import tiny_tokenizer

    folder = tmp_path_factory.mktemp("base-encoder")
    tokenizer = tiny_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer.get_vocab()),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
