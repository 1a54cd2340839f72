import hashlib
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

import interpkit
from interpkit.models import (
    EMBEDDED_SHA256,
    TruncationWarning,
    UntrainedHeadWarning,
    as_text_list,
    embedded_model_dir,
    load_classifier,
    resolve_device,
    verify_sha256,
)

TEXTS = [
    "A gripping, funny and moving film.",
    "Dull.",
    "The plot meanders for two hours and the jokes never land, which is a shame given the cast.",
    "not bad at all",
    "Worst movie of the year?",
]


def test_import_is_cheap():
    code = "import sys, interpkit; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_public_api_is_exported():
    for name in interpkit.__all__:
        assert getattr(interpkit, name) is not None
    with pytest.raises(AttributeError):
        interpkit.no_such_thing  # noqa: B018


def test_default_loads_embedded_bert_with_eager_attention(embedded):
    assert embedded.labels == ("negative", "positive")
    assert embedded.model.config.model_type == "bert"
    assert embedded.model.config._attn_implementation == "eager"
    assert embedded.max_length == 512
    assert not embedded.head_is_trained
    assert "head untrained" in repr(embedded)


def test_embedded_weights_match_published_sha256():
    path = embedded_model_dir() / "model.safetensors"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == EMBEDDED_SHA256


def test_tampered_weights_are_refused(tmp_path):
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(b"not the published weights")
    with pytest.raises(RuntimeError, match="sha256"):
        verify_sha256(fake, EMBEDDED_SHA256)


def test_untrained_head_warns():
    with pytest.warns(UntrainedHeadWarning, match="fine-tune"):
        load_classifier(device="cpu")


def test_predict_proba_rows_sum_to_one_and_keep_order(embedded):
    probs = embedded.predict_proba(TEXTS, batch_size=2)
    assert probs.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    one_by_one = np.vstack([embedded.predict_proba(t) for t in TEXTS])
    np.testing.assert_allclose(probs, one_by_one, atol=1e-5)
    reversed_probs = embedded.predict_proba(TEXTS[::-1], batch_size=3)
    np.testing.assert_allclose(reversed_probs[::-1], probs, atol=1e-5)


def test_predict_proba_matches_an_unbatched_forward_pass(embedded):
    enc = embedded.tokenizer(TEXTS[2], return_tensors="pt")
    with torch.no_grad():
        expected = torch.softmax(embedded.model(**enc).logits, -1).numpy()[0]
    np.testing.assert_allclose(embedded.predict_proba([TEXTS[2]])[0], expected, atol=1e-5)


def test_predict_returns_label_names(embedded):
    assert set(embedded.predict(TEXTS)) <= set(embedded.labels)


def test_attentions_are_returned_and_normalised(embedded):
    tokens, att = embedded.attentions("a great film")
    assert tokens == ["[CLS]", "a", "great", "film", "[SEP]"]
    assert att.shape == (6, 12, 5, 5)
    torch.testing.assert_close(att.sum(-1), torch.ones(6, 12, 5))


def test_attentions_work_after_switching_to_sdpa(tiny):
    tiny.model.set_attn_implementation("sdpa")
    tokens, att = tiny.attentions("a good film")
    assert att.shape[-1] == len(tokens)
    assert tiny.model.config._attn_implementation == "sdpa"  # restored


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ("", ValueError, "empty"),
        ("   \n", ValueError, "empty"),
        (["fine", "  "], ValueError, "text #1 is empty"),
        ([], ValueError, "no texts"),
        (["fine", 3], TypeError, "text #1 is a int"),
        (42, TypeError, "string or a list"),
        (b"bytes", TypeError, "string or a list"),
    ],
)
def test_bad_texts_give_one_line_errors(tiny, bad, error, match):
    with pytest.raises(error, match=match) as info:
        tiny.predict_proba(bad)
    assert "\n" not in str(info.value)


def test_as_text_list_accepts_series_and_arrays():
    import pandas as pd

    assert as_text_list(pd.Series(["a", "b"])) == ["a", "b"]
    assert as_text_list(np.array(["a", "b"])) == ["a", "b"]
    assert as_text_list("one") == ["one"]


def test_long_texts_are_truncated_with_a_visible_warning(tiny):
    long_text = " ".join(["good"] * 200)
    with pytest.warns(TruncationWarning, match="truncated"):
        probs = tiny.predict_proba([long_text, "bad"])
    assert probs.shape == (2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        tiny.predict_proba(["short and fine"])  # no warning below the limit


def test_label_ids_and_unknown_labels(tiny):
    assert tiny.label_id("positive") == 1
    assert tiny.label_id(0) == 0
    with pytest.raises(ValueError, match="unknown label 'neutral'.*'negative', 'positive'"):
        tiny.label_id("neutral")
    with pytest.raises(ValueError, match="out of range"):
        tiny.label_id(5)


def test_custom_labels_and_wrong_label_count(tmp_path, tiny):
    tiny.save(tmp_path / "m")
    clf = load_classifier(tmp_path / "m", device="cpu")
    assert clf.labels == ("negative", "positive")
    with pytest.raises(ValueError, match="trained head with 2 classes"):
        load_classifier(tmp_path / "m", labels=["a", "b", "c"], device="cpu")
    with pytest.raises(ValueError, match="distinct"):
        load_classifier(tmp_path / "m", labels=["a", "a"], device="cpu")


def test_local_path_round_trip(tmp_path, tiny):
    saved = tiny.save(tmp_path / "model")
    assert (saved / "model.safetensors").is_file()
    assert not list(tmp_path.glob(".*tmp*")), "temporary folders left behind"
    again = load_classifier(saved, device="cpu")
    assert again.head_is_trained
    np.testing.assert_allclose(
        again.predict_proba(["a good film"]), tiny.predict_proba(["a good film"]), atol=1e-6
    )


def test_save_replaces_an_existing_model_atomically(tmp_path, tiny):
    target = tmp_path / "model"
    tiny.save(target)
    tiny.save(target)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda p: p, ValueError, "not a model folder"),
        (lambda p: p / "missing", FileNotFoundError, "no model folder"),
        (lambda p: _file(p / "w.safetensors"), ValueError, "is a file"),
    ],
)
def test_bad_paths_give_clear_errors(tmp_path, make, error, match):
    with pytest.raises(error, match=match):
        load_classifier(make(tmp_path), device="cpu")


def _file(path):
    path.write_bytes(b"x")
    return path


def test_hub_name_offline_and_uncached_names_the_fix(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path))
    code = (
        "import interpkit\n"
        "try:\n    interpkit.load_classifier('bert-base-uncased', device='cpu')\n"
        "except OSError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert "not in the local cache" in out.stdout
    assert "load_classifier() for the embedded default" in out.stdout


def test_hub_code_path_loads_a_cached_model(tmp_path, tiny):
    """A hub name resolves through the Hugging Face cache, as after a first online download."""
    folder = tmp_path / "hub" / "models--interpkit-test--tiny-bert"
    tiny.save(folder / "snapshots" / ("0" * 40))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    code = (
        "import interpkit\n"
        "clf = interpkit.load_classifier('interpkit-test/tiny-bert', device='cpu')\n"
        "print(clf.name, clf.predict_proba('a good film').shape)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(tmp_path / "hub"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["interpkit-test/tiny-bert", "(1,", "2)"]


def test_devices():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


# --------------------------------------------------------------------------- issue 12: damage


@pytest.mark.parametrize("keep", [0.5, 0.0001, 0.0])
def test_a_damaged_weights_file_names_its_path_and_the_fix(tmp_path, tiny, keep):
    """Issue 12.15: a cut safetensors file raised a raw SafetensorError."""
    folder = tiny.save(tmp_path / "model")
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(OSError, match=r"model\.safetensors is damaged or incomplete") as info:
        load_classifier(folder, device="cpu")
    assert str(weights) in str(info.value) and "resume=True" in str(info.value)


def _owned(parent, kind, pid, host=None):
    from interpkit.storage import _owner_tag

    host = host or _owner_tag().split("-")[0]
    suffix = f"-{pid}-x1y2" if kind == "tmp" else f"-{pid}"
    folder = parent / f".model.{kind}-{host}{suffix}"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"partial")
    return folder


def test_stale_save_folders_are_swept_only_when_their_owner_is_gone(tmp_path):
    from interpkit.storage import STALE_AFTER_S, sweep_stale_writes

    target = tmp_path / "model"
    target.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # ended and reaped: its id no longer runs
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = [_owned(tmp_path, "tmp", dead.pid), _owned(tmp_path, "old", dead.pid)]
        kept = [_owned(tmp_path, "tmp", alive.pid), _owned(tmp_path, "tmp", os.getpid())]
        # written by another machine or an older interpkit: judged by age only
        elsewhere = _owned(tmp_path, "tmp", dead.pid, host="othermachine")
        legacy_new = tmp_path / ".model.tmp-k3j4h5g6"
        legacy_old = tmp_path / ".model.tmp-a1b2c3d4"
        legacy_new.mkdir()
        legacy_old.mkdir()
        past = time.time() - STALE_AFTER_S - 60
        os.utime(legacy_old, (past, past))
        other_target = tmp_path / ".modelx.tmp-x-1-y"
        other_target.mkdir()
        removed = sweep_stale_writes(target)
        assert sorted(removed) == sorted([*gone, legacy_old])
        for folder in [*kept, elsewhere, legacy_new, other_target, target]:
            assert folder.is_dir(), folder
    finally:
        alive.kill()
        alive.wait()


def test_a_save_killed_between_its_renames_gets_the_last_complete_model_back(tmp_path, tiny):
    from interpkit.storage import _owner_tag, sweep_stale_writes

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # killed after 'model' was moved aside and before the new copy was moved in
    host = _owner_tag().split("-")[0]
    restored = tiny.save(tmp_path / "model").rename(tmp_path / f".model.old-{host}-{dead.pid}")
    half = _owned(tmp_path, "tmp", dead.pid)
    sweep_stale_writes(tmp_path / "model")
    assert not restored.exists() and not half.exists()
    again = load_classifier(tmp_path / "model", device="cpu")  # the previous model, complete
    np.testing.assert_allclose(
        again.predict_proba(["a good film"]), tiny.predict_proba(["a good film"]), atol=1e-6
    )


def test_the_next_save_sweeps_what_a_killed_save_left(tmp_path, tiny):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    half = _owned(tmp_path, "tmp", dead.pid)
    tiny.save(tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], half


@pytest.mark.parametrize("architecture", ["roberta", "xlm-roberta", "bert"])
def test_max_length_leaves_out_unusable_position_slots(architecture):
    from interpkit.testing import tiny_classifier

    # A tokenizer without model_max_length (as built from vocabulary files alone): the limit
    # comes from the model. RoBERTa and XLM-R have 514 position slots, of which positions
    # 0 and 1 (padding_idx + 1) are never used for tokens: 512 fit.
    clf = tiny_classifier(architecture=architecture, max_length=None)
    assert clf.tokenizer.model_max_length > 10**6
    slots = 514 if architecture != "bert" else 512
    assert clf.model.config.max_position_embeddings == slots and clf.max_length == 512
    long = "the film was good and the plot was fine but " * 70
    assert len(clf.tokenizer(long)["input_ids"]) > 600
    with pytest.warns(TruncationWarning, match="limit of 512 tokens"):
        probs = clf.predict_proba([long, "a good film"])
    assert probs.shape == (2, 2) and np.all(np.isfinite(probs))
    with pytest.warns(TruncationWarning):
        e = interpkit.explain(clf, long, method="saliency")
    assert e.truncated and len(e.tokens) == 512 and np.all(np.isfinite(e.scores))


def test_adopt_takes_trained_weights_and_labels(tiny):
    """Issue 15: the one way trained weights and class names get into a Classifier (fine_tune
    used to assign .model/.device/.labels/.head_is_trained from outside)."""
    import copy

    from interpkit.testing import tiny_classifier

    other = tiny_classifier(seed=5).model
    untrained = copy.deepcopy(tiny)
    untrained.head_is_trained = False
    assert untrained.adopt(other) is untrained
    assert untrained.model is other and untrained.head_is_trained
    assert untrained.device == next(other.parameters()).device and not other.training
    np.testing.assert_allclose(
        untrained.predict_proba("a good film"),
        tiny_classifier(seed=5).predict_proba("a good film"),
        atol=1e-6,
    )
    untrained.adopt(labels=["bad", "good"], head_is_trained=False)
    assert untrained.labels == ("bad", "good") and not untrained.head_is_trained
    assert untrained.model.config.id2label == {0: "bad", 1: "good"}  # travels into saves
    assert untrained.model.config.label2id == {"bad": 0, "good": 1}
    with pytest.raises(ValueError, match="3 label names given but the model has 2 outputs"):
        untrained.adopt(labels=["a", "b", "c"])
    assert untrained.labels == ("bad", "good")
