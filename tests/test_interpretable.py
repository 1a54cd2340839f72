"""Fine-tuning for interpretability: penalties, distillation, students and the comparison."""

import math

import numpy as np
import pytest
import torch

import interpkit
from interpkit.testing import tiny_classifier
from interpkit.train import (
    TrainingLoss,
    attribution_entropy,
    count_parameters,
    distillation_loss,
    penalized_parameters,
    truncate_layers,
    weight_penalty,
)
from interpkit.train.variants import attribution_sparsity, compare_variants


def _batch(clf, texts=("the film was great", "a dull plot"), labels=(1, 0)):
    enc = clf.tokenizer(list(texts), padding=True, return_tensors="pt")
    return {**enc, "labels": torch.tensor(labels)}


def test_l1_and_l2_change_the_loss_by_exactly_their_terms(tiny):
    batch = _batch(tiny)
    tiny.model.train()  # dropout on: compare with the cross-entropy of the same forward pass
    weights = [p for _, p in penalized_parameters(tiny.model, "all")]
    l1_sum = float(sum(p.detach().abs().sum() for p in weights))
    l2_sum = float(sum(p.detach().pow(2).sum() for p in weights))
    assert l1_sum > 1 and l2_sum > 0.01  # a real model's weights, not zeros
    with_l1, _, parts1 = TrainingLoss(l1=0.01)(tiny.model, batch)
    assert float(with_l1.detach()) - parts1["ce"] == pytest.approx(0.01 * l1_sum, rel=1e-5)
    assert parts1["weight_penalty"] == pytest.approx(0.01 * l1_sum, rel=1e-5)
    tiny.model.eval()
    plain = float(TrainingLoss()(tiny.model, batch)[0].detach())
    with_l2 = float(TrainingLoss(l2=0.1)(tiny.model, batch)[0].detach())
    both = float(TrainingLoss(l1=0.01, l2=0.1)(tiny.model, batch)[0].detach())
    assert with_l2 - plain == pytest.approx(0.1 * l2_sum, rel=1e-5)
    assert both - plain == pytest.approx(0.01 * l1_sum + 0.1 * l2_sum, rel=1e-5)


def test_penalty_groups_select_what_they_say(tiny):
    model = tiny.model
    head = dict(penalized_parameters(model, "head"))
    assert head and all(not n.startswith("bert.") for n in head)
    encoder = dict(penalized_parameters(model, "encoder"))
    assert encoder and all(
        ".encoder.layer." in f".{n}" and p.dim() == 2 for n, p in encoder.items()
    )
    everything = dict(penalized_parameters(model, "all"))
    assert "bert.embeddings.word_embeddings.weight" in everything
    assert not any(n.endswith("bias") or "LayerNorm" in n for n in everything)
    only_cls = dict(penalized_parameters(model, lambda n, p: n == "classifier.weight"))
    assert list(only_cls) == ["classifier.weight"]
    assert float(weight_penalty(model, l1=1.0, on="head")) == pytest.approx(
        float(sum(p.abs().sum() for p in head.values()))
    )
    with pytest.raises(ValueError, match="penalty_on must be one of"):
        penalized_parameters(model, "heads")
    with pytest.raises(ValueError, match="l1 must be a number >= 0"):
        TrainingLoss(l1=-1)


def test_distillation_is_zero_for_a_student_equal_to_its_teacher_at_t1():
    logits = torch.randn(5, 3)
    assert float(distillation_loss(logits, logits.clone(), None, alpha=0.0, temperature=1)) == (
        pytest.approx(0.0, abs=1e-7)
    )
    labels = torch.tensor([0, 1, 2, 0, 1])
    assert float(distillation_loss(logits, logits, labels, alpha=0, temperature=1)) == (
        pytest.approx(0.0, abs=1e-7)
    )


def test_distillation_matches_its_formula():
    torch.manual_seed(0)
    s, t = torch.randn(4, 2), torch.randn(4, 2)
    y = torch.tensor([0, 1, 1, 0])
    T, a = 3.0, 0.3
    ps = torch.softmax(s / T, -1)
    pt = torch.softmax(t / T, -1)
    kl = (pt * (pt.log() - ps.log())).sum(-1).mean()
    ce = torch.nn.functional.cross_entropy(s, y)
    expected = a * ce + (1 - a) * T * T * kl
    assert float(distillation_loss(s, t, y, a, T)) == pytest.approx(float(expected), rel=1e-5)
    assert float(distillation_loss(s, t, y, 1.0, T)) == pytest.approx(float(ce), rel=1e-6)
    with pytest.raises(ValueError, match="distill_alpha"):
        distillation_loss(s, t, y, alpha=1.5)
    with pytest.raises(ValueError, match="distill_temperature"):
        distillation_loss(s, t, y, temperature=0)


def test_the_student_has_fewer_layers_runs_and_leaves_the_teacher_alone():
    teacher = tiny_classifier(layers=4)
    student = truncate_layers(teacher, 2)
    assert student.model.config.num_hidden_layers == 2
    assert len(student.model.bert.encoder.layer) == 2
    assert len(teacher.model.bert.encoder.layer) == 4
    assert count_parameters(student) < count_parameters(teacher)
    probs = student.predict_proba(["the film was great", "a dull plot"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)
    assert student.model.bert.encoder.layer[0] is not teacher.model.bert.encoder.layer[0]
    # The kept layers start from the teacher's weights.
    torch.testing.assert_close(
        student.model.bert.encoder.layer[1].output.dense.weight,
        teacher.model.bert.encoder.layer[1].output.dense.weight,
    )
    # A full-depth "student" computes exactly what its teacher computes.
    same = truncate_layers(teacher, 4)
    np.testing.assert_allclose(
        same.predict_proba(["a dull plot"]), teacher.predict_proba(["a dull plot"]), atol=1e-6
    )
    with pytest.raises(ValueError, match="num_layers must be an integer from 1 to 4"):
        truncate_layers(teacher, 5)


def test_attribution_entropy_is_differentiable_and_normalised(tiny):
    batch = _batch(tiny, ("the film was great fun", "a dull plot"))
    tiny.model.train()
    entropy, logits = attribution_entropy(tiny.model, batch, tiny.tokenizer)
    assert entropy.shape == (2,) and logits.shape == (2, 2)
    assert ((entropy > 0) & (entropy <= 1 + 1e-6)).all()
    entropy.mean().backward()
    grads = [p.grad for p in tiny.model.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)


def test_sparsity_of_even_and_one_hot_scores():
    assert attribution_sparsity([1, 1, 1, 1]) == pytest.approx({"gini": 0.0, "entropy": 1.0})
    assert attribution_sparsity([0, 0, 5, 0]) == pytest.approx({"gini": 1.0, "entropy": 0.0})
    middle = attribution_sparsity([1, 2, 3, 4])
    assert 0 < middle["gini"] < 1 and 0 < middle["entropy"] < 1
    assert attribution_sparsity([-4, 3, -2, 1]) == pytest.approx(attribution_sparsity([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="non-empty"):
        attribution_sparsity([])


def test_fine_tune_with_a_teacher_and_penalties_logs_each_term(tiny_data, tmp_path):
    teacher = tiny_classifier(layers=2, seed=1)
    interpkit.fine_tune(teacher, tiny_data, epochs=3, learning_rate=1e-3, progress=False)
    student = truncate_layers(tiny_classifier(layers=2, seed=2), 1)
    history = interpkit.fine_tune(
        student,
        tiny_data,
        output_dir=tmp_path / "run",
        epochs=2,
        learning_rate=1e-3,
        progress=False,
        teacher=teacher,
        distill_alpha=0.5,
        distill_temperature=2.0,
        l2=1e-4,
        logging_steps=1,
    )
    logged = history.dropna(subset=["loss"])
    for column in ("loss_ce", "loss_distill", "loss_weight_penalty"):
        assert logged[column].notna().all(), column
    # the total is the distillation loss plus the penalty (means over the same steps)
    np.testing.assert_allclose(
        logged["loss"], logged["loss_distill"] + logged["loss_weight_penalty"], rtol=0.02
    )
    # evaluation reports the plain cross-entropy, not the training objective
    assert history["eval_loss"].dropna().size == 2
    saved = interpkit.load_classifier(tmp_path / "run")
    assert saved.model.config.num_hidden_layers == 1
    info = (tmp_path / "run" / "model" / "interpkit.json").read_text()
    assert '"teacher": "tiny-bert"' in info and '"l2": 0.0001' in info


def test_fine_tune_rejects_a_teacher_it_cannot_distil_from(tiny, tiny_data):
    other = tiny_classifier(labels=("bad", "good"))
    with pytest.raises(ValueError, match="same labels"):
        interpkit.fine_tune(tiny, tiny_data, teacher=other, progress=False)
    with pytest.raises(TypeError, match="teacher must be an interpkit Classifier"):
        interpkit.fine_tune(tiny, tiny_data, teacher="bert-base-uncased", progress=False)
    with pytest.raises(ValueError, match="distill_alpha"):
        interpkit.fine_tune(tiny, tiny_data, teacher=tiny, distill_alpha=2, progress=False)


def test_attribution_penalty_lowers_attribution_entropy(tiny_data):
    def trained(penalty):
        clf = tiny_classifier(seed=3)
        interpkit.fine_tune(
            clf,
            tiny_data,
            epochs=4,
            learning_rate=2e-3,
            attribution_penalty=penalty,
            eval_split=None,
            progress=False,
        )
        batch = _batch(clf, list(tiny_data["test"]["text"]), list(tiny_data["test"]["label"]))
        entropy, _ = attribution_entropy(clf.model, batch, clf.tokenizer, create_graph=False)
        return float(entropy.mean())

    assert trained(5.0) < trained(0.0) - 0.02


def test_compare_variants_reports_one_row_per_variant(tiny, tiny_data):
    student = truncate_layers(tiny, 1)
    texts = list(tiny_data["test"]["text"][:3])
    frame = compare_variants(
        {"teacher": tiny, "student": student},
        tiny_data["test"],
        texts,
        reference="teacher",
        method="saliency",
        progress=False,
    )
    assert list(frame.index) == ["teacher", "student"]
    assert frame.loc["teacher", "agreement_spearman"] == pytest.approx(1.0)
    assert frame.loc["teacher", "agreement_top20"] == pytest.approx(1.0)
    assert frame.loc["student", "parameters"] < frame.loc["teacher", "parameters"]
    for column in ("accuracy", "macro_f1", "gini", "entropy", "comprehensiveness", "sufficiency"):
        assert frame[column].notna().all() and np.isfinite(frame[column]).all()
    assert len(frame.attrs["per_text"]) == 6
    assert math.isnan(frame.loc["student", "train_seconds"])
    with pytest.raises(ValueError, match="reference 'nope'"):
        compare_variants({"a": tiny}, tiny_data["test"], texts, reference="nope", progress=False)


def _run_info(run):
    import json

    return json.loads((run / "model" / "interpkit.json").read_text())


def test_a_loss_config_trains_exactly_as_the_same_options_by_name(tiny_data, tmp_path):
    """Issue 15: each loss option is spelled once (LossConfig); fine_tune(loss=...) and
    fine_tune(l2=..., teacher=...) are the same run, recorded the same way."""
    from interpkit.train import LossConfig

    teacher = tiny_classifier(layers=2, seed=1)
    quick = dict(epochs=1, learning_rate=1e-3, progress=False, seed=3)
    by_name = interpkit.fine_tune(
        tiny_classifier(seed=2), tiny_data, tmp_path / "a", l2=1e-4, teacher=teacher, **quick
    )
    config = LossConfig(l2=1e-4, teacher=teacher)
    by_config = interpkit.fine_tune(
        tiny_classifier(seed=2), tiny_data, tmp_path / "b", loss=config, **quick
    )
    import pandas as pd

    pd.testing.assert_frame_equal(by_name, by_config)
    assert _run_info(tmp_path / "a")["settings"] == _run_info(tmp_path / "b")["settings"]
    recorded = _run_info(tmp_path / "b")["settings"]
    assert {k: recorded[k] for k in LossConfig.names()} == config.settings()
    # options by name go on top of the config
    on_top = interpkit.fine_tune(
        tiny_classifier(seed=2), tiny_data, tmp_path / "c", loss=config, l2=0.0, **quick
    )
    assert "loss_weight_penalty" not in on_top.columns
    assert _run_info(tmp_path / "c")["settings"]["teacher"] == "tiny-bert"


def test_loss_options_are_checked_once_and_shown_in_fine_tunes_signature(tiny, tiny_data):
    import inspect

    from interpkit.train import LossConfig

    with pytest.raises(
        TypeError, match="unexpected keyword argument 'l3': the loss options are l1"
    ):
        interpkit.fine_tune(tiny, tiny_data, l3=1.0)
    with pytest.raises(TypeError, match="loss must be an interpkit LossConfig"):
        interpkit.fine_tune(tiny, tiny_data, loss={"l2": 1e-3})
    with pytest.raises(ValueError, match="distill_temperature must be a positive number"):
        LossConfig(distill_temperature=float("inf"))
    with pytest.raises(ValueError, match="penalty_on must be one of all, encoder, head"):
        LossConfig(penalty_on="heads")
    assert LossConfig(l1=1).l1 == 1.0 and not LossConfig().active
    # notebook 07 reads the defaults from the signature: they come from LossConfig's fields
    parameters = inspect.signature(interpkit.fine_tune).parameters
    assert {k: parameters[k].default for k in LossConfig.names()} == {
        "l1": 0.0,
        "l2": 0.0,
        "penalty_on": "all",
        "teacher": None,
        "distill_alpha": 0.5,
        "distill_temperature": 1.0,
        "attribution_penalty": 0.0,
    }


def test_compare_variants_takes_options_per_method(tiny, tiny_data):
    """Issue 15: options={method: {...}}, the house's one way; the flat form still works with
    a DeprecationWarning that shows the new one."""
    texts = list(tiny_data["test"]["text"][:2])
    common = dict(method="smoothgrad", progress=False)
    per_method = compare_variants(
        {"m": tiny}, tiny_data["test"], texts,
        options={"smoothgrad": {"noise_level": 0.5}}, **common,
    )  # fmt: skip
    with pytest.warns(DeprecationWarning, match=r"options=\{'smoothgrad': \{'noise_level'"):
        flat = compare_variants(
            {"m": tiny}, tiny_data["test"], texts, options={"noise_level": 0.5}, **common
        )
    columns = ["gini", "entropy", "comprehensiveness", "sufficiency"]
    np.testing.assert_allclose(per_method[columns].to_numpy(), flat[columns].to_numpy())
    default = compare_variants({"m": tiny}, tiny_data["test"], texts, **common)
    assert not np.allclose(default[columns].to_numpy(), per_method[columns].to_numpy())
    with pytest.raises(ValueError, match="options given for 'lime', but every variant"):
        compare_variants(
            {"m": tiny}, tiny_data["test"], texts, options={"lime": {"n_samples": 50}}, **common
        )


def test_the_old_module_still_exports_what_the_readme_lists():
    """interpkit.interpretable is a deprecated re-export of interpkit.train (notebook 07
    imports from it)."""
    import interpkit.interpretable as old
    import interpkit.train.variants as variants

    for name in ("count_parameters", "distillation_loss", "penalized_parameters",
                 "weight_penalty", "truncate_layers", "PENALTY_GROUPS"):  # fmt: skip
        assert getattr(old, name) is getattr(interpkit.train, name)
    assert old.compare_variants is variants.compare_variants is interpkit.compare_variants
    assert old.attribution_sparsity is interpkit.attribution_sparsity
