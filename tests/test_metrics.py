"""Metrics on models whose true importance is known, their bounds, and the evaluation table.

The keyword model's positive logit is ``4 * (number of "good" tokens) - 2``: the word "good"
is all that matters, so a faithful method must rank it first and the metrics must give the
values computed by hand (p(positive) drops from sigmoid(2) to sigmoid(-2) without it).
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import interpkit
from interpkit.metrics import (
    agreement_matrix,
    aopc,
    bootstrap_ci,
    comprehensiveness,
    deletion_curve,
    edit_stability,
    evaluate_explanations,
    faithfulness_scores,
    global_importance,
    insertion_curve,
    n_top,
    rank_agreement,
    ranking,
    score_agreement,
    seed_stability,
    sufficiency,
    summarize,
    surrogate_fidelity,
)
from interpkit.metrics.faithfulness import Perturber
from interpkit.models import Classifier
from interpkit.testing import tiny_classifier, tiny_tokenizer

KEYWORD = "good"
STRENGTH = 4.0
P_WITH = float(torch.sigmoid(torch.tensor(STRENGTH / 2)))  # one "good": logit +2
P_WITHOUT = float(torch.sigmoid(torch.tensor(-STRENGTH / 2)))  # none: logit -2
DROP = P_WITH - P_WITHOUT
TEXTS = [
    "the film was good and the plot was fine",
    "a movie , but the plot is good",
    "good",
    "this film is very good but the plot was boring and dull",
    "the plot was good , the movie was not bad",
]
#: Methods that must find the keyword (attributions exact on this model).
FAITHFUL = ["integrated_gradients", "input_x_gradient", "occlusion", "lime"]


class KeywordModel(torch.nn.Module):
    """logit(positive) = STRENGTH * (keyword tokens counted through dimension 0) - STRENGTH / 2.

    Dimension 0 of the word embedding is 1 for the keyword and 0 for every other token; the
    other dimensions are noise the output never reads. Works with ids or embeddings, as a
    Hugging Face model does, so every explainer runs on it.
    """

    def __init__(self, vocab_size: int, keyword_id: int, hidden: int = 8):
        super().__init__()
        from transformers import PretrainedConfig

        self.config = PretrainedConfig(num_labels=2)
        self.embeddings = torch.nn.Embedding(vocab_size, hidden)
        with torch.no_grad():
            noise = torch.randn(vocab_size, hidden, generator=torch.Generator().manual_seed(0))
            self.embeddings.weight.copy_(0.1 * noise)
            self.embeddings.weight[:, 0] = 0.0
            self.embeddings.weight[keyword_id, 0] = 1.0

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, **_):
        x = self.embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        mask = torch.ones(x.shape[:2]) if attention_mask is None else attention_mask.float()
        logit = STRENGTH * (x[..., 0] * mask).sum(-1) - STRENGTH / 2
        return SimpleNamespace(logits=torch.stack([torch.zeros_like(logit), logit], -1))


@pytest.fixture(scope="module")
def keyword():
    tokenizer = tiny_tokenizer()
    vocab = tokenizer.get_vocab()
    model = KeywordModel(len(vocab), vocab[KEYWORD])
    return Classifier(model, tokenizer, device="cpu", name="keyword-model")


def explain(clf, text, method, **options):
    if method == "lime":
        options.setdefault("n_samples", 200)
    return interpkit.explain(clf, text, method=method, **options)


# --------------------------------------------------------------------------- the known answer


def test_keyword_model_behaves_as_designed(keyword):
    probs = keyword.predict_proba(["the film was good", "the film was bad", "[MASK] film"])
    np.testing.assert_allclose(probs[:, 1], [P_WITH, P_WITHOUT, P_WITHOUT], atol=1e-6)


@pytest.mark.parametrize("method", FAITHFUL)
def test_faithful_methods_rank_the_keyword_first_and_score_the_maximum(keyword, method):
    for text in TEXTS:
        e = explain(keyword, text, method, target="positive")
        assert e.words[ranking(e)[0]] == KEYWORD, (method, text, e.top(3))
        f = faithfulness_scores(keyword, e)
        # Every k removes the keyword first: comprehensiveness is the whole drop at every k,
        # and the keyword alone keeps the prediction (sufficiency 0).
        np.testing.assert_allclose(f.comprehensiveness, DROP, atol=1e-5)
        np.testing.assert_allclose(f.sufficiency, 0.0, atol=1e-5)
        assert f.comprehensiveness_aopc == pytest.approx(DROP, abs=1e-5)


def test_random_control_scores_what_its_ranking_deserves_and_no_better(keyword):
    """Random's comprehensiveness@k is DROP exactly when its top k happens to hold the keyword."""
    faithful, chance = [], []
    for text in TEXTS:
        best = faithfulness_scores(keyword, explain(keyword, text, "input_x_gradient"))
        faithful.append(best.comprehensiveness_aopc)
        for seed in range(4):
            e = explain(keyword, text, "random", seed=seed, target="positive")
            f = faithfulness_scores(keyword, e)
            order = ranking(e)
            where = e.words.index(KEYWORD)
            n = len(e.words)
            for k, comp, suff in zip(f.ks, f.comprehensiveness, f.sufficiency, strict=True):
                top = set(order[: n_top(k, n)].tolist())
                assert comp == pytest.approx(DROP if where in top else 0.0, abs=1e-5)
                assert suff == pytest.approx(0.0 if where in top else DROP, abs=1e-5)
            assert f.comprehensiveness_aopc <= best.comprehensiveness_aopc + 1e-6
            chance.append(f.comprehensiveness_aopc)
    assert np.mean(chance) < np.mean(faithful) - 0.1  # random must not score best


def test_deletion_and_insertion_curves_separate_faithful_from_random(keyword):
    text = TEXTS[3]
    good = faithfulness_scores(keyword, explain(keyword, text, "integrated_gradients"))
    chance = explain(keyword, text, "random", seed=1)
    assert chance.words[ranking(chance)[0]] != KEYWORD  # this seed misses the keyword
    bad = faithfulness_scores(keyword, chance)
    # IG removes the keyword first: the curve drops at the first step and stays down.
    assert good.deletion.scores[1] == pytest.approx(P_WITHOUT, abs=1e-5)
    assert good.insertion.scores[1] == pytest.approx(P_WITH, abs=1e-5)
    assert good.deletion.auc < bad.deletion.auc
    assert good.insertion.auc > bad.insertion.auc


def test_saliency_ties_on_a_linear_model_and_scores_like_text_order(keyword):
    """|gradient| is the same at every position of this model: Saliency cannot find the word."""
    e = explain(keyword, TEXTS[0], "saliency")
    assert np.ptp(e.scores[1:-1]) < 1e-6 * e.scores.max()
    assert comprehensiveness(keyword, e, 0.1) < DROP / 2  # its top 10 % is "the"


# --------------------------------------------------------------------------- definitions, bounds


def test_n_top_rounds_half_up_with_at_least_one_word():
    assert [n_top(k, 10) for k in (0.1, 0.15, 0.25, 0.5, 1.0)] == [1, 2, 3, 5, 10]
    assert n_top(0.1, 23) == 2 and n_top(0.01, 5) == 1 and n_top(0.5, 1) == 1


@pytest.mark.parametrize("k", [0, -0.1, 1.5, float("nan")])
def test_k_outside_zero_one_is_refused_with_advice(keyword, k):
    e = explain(keyword, TEXTS[0], "random")
    with pytest.raises(ValueError, match=r"k must be a fraction of the words in \(0, 1\]"):
        comprehensiveness(keyword, e, k)


def test_bad_arguments_say_what_to_do(keyword, tiny):
    e = explain(keyword, TEXTS[0], "random")
    with pytest.raises(ValueError, match="removal must be one of 'mask', 'delete'"):
        faithfulness_scores(keyword, e, removal="drop")
    with pytest.raises(TypeError, match="expected an interpkit Explanation"):
        faithfulness_scores(keyword, "the film")
    with pytest.raises(ValueError, match="ks is empty"):
        faithfulness_scores(keyword, e, ks=())
    with pytest.raises(ValueError, match="unknown explainer 'integrated_gradient'.*available:"):
        evaluate_explanations(tiny, TEXTS, methods=["integrated_gradient"], progress=False)
    with pytest.raises(ValueError, match="no texts given"):
        evaluate_explanations(tiny, [], methods=["random"], progress=False)
    with pytest.raises(ValueError, match="options given for 'lime'"):
        evaluate_explanations(tiny, TEXTS, methods=["random"], options={"lime": {}})


def aopc_cases():
    clf = tiny_classifier(labels=("neg", "neu", "pos"))
    for method in ("saliency", "integrated_gradients", "attention", "random"):
        for text in TEXTS[:3]:
            yield clf, explain(clf, text, method), 1.0
    yield clf, explain(clf, TEXTS[0], "input_x_gradient", target="pos", contrast="neg"), 2.0


def test_aopc_and_curves_stay_in_bounds_and_share_their_ends():
    for clf, e, bound in aopc_cases():
        for removal in ("mask", "delete"):
            f = faithfulness_scores(clf, e, removal=removal)
            for value in (*f.comprehensiveness, *f.sufficiency):
                assert -bound <= value <= bound
            assert -bound <= f.comprehensiveness_aopc <= bound
            assert f.comprehensiveness_aopc == pytest.approx(np.mean(f.comprehensiveness))
            assert f.deletion.scores[0] == pytest.approx(f.full_score, abs=1e-5)
            assert f.insertion.scores[-1] == pytest.approx(f.full_score, abs=1e-5)
            assert f.deletion.scores[-1] == pytest.approx(f.insertion.scores[0], abs=1e-6)
            assert f.deletion.fractions[0] == 0 and f.deletion.fractions[-1] == 1
            assert abs(f.deletion.auc) <= bound and abs(f.insertion.auc) <= bound


def test_single_metric_helpers_agree_with_the_full_computation(keyword):
    e = explain(keyword, TEXTS[3], "random", seed=2)
    full = faithfulness_scores(keyword, e, steps=10)
    np.testing.assert_allclose(comprehensiveness(keyword, e, full.ks), full.comprehensiveness)
    np.testing.assert_allclose(sufficiency(keyword, e, full.ks), full.sufficiency)
    assert aopc(keyword, e) == pytest.approx(full.comprehensiveness_aopc)
    assert aopc(keyword, e, "sufficiency") == pytest.approx(full.sufficiency_aopc)
    np.testing.assert_allclose(deletion_curve(keyword, e).scores, full.deletion.scores)
    np.testing.assert_allclose(insertion_curve(keyword, e).scores, full.insertion.scores)


def test_mask_removal_keeps_length_and_every_other_token(tiny):
    text = "the film, was good-bad and (boring)!"
    e = explain(tiny, text, "random")
    perturber = Perturber(tiny, e, "mask")
    original = tiny.tokenizer(text)["input_ids"]
    mask_id = tiny.tokenizer.mask_token_id
    for removed in ([0], [1, 2], [4, 5, 6], list(range(len(e.words)))):
        ids = tiny.tokenizer(perturber.text_without(removed))["input_ids"]
        assert len(ids) == len(original)
        for t, (old, new) in enumerate(zip(original, ids, strict=True)):
            word = e.token_to_word[t]
            assert new == (mask_id if word in removed else old)


def test_delete_removal_cuts_the_words_out(tiny):
    e = explain(tiny, "the film was good", "random")
    perturber = Perturber(tiny, e, "delete")
    assert perturber.text_without([1, 3]) == "the was"
    assert perturber.text_without(range(4)) == ""


def test_all_perturbed_texts_of_an_explanation_go_in_one_predict_call(keyword, monkeypatch):
    e = explain(keyword, TEXTS[3], "random")
    calls = []
    original = Classifier.predict_proba

    def counted(self, texts, batch_size=64):
        calls.append(len(texts))
        return original(self, texts, batch_size)

    monkeypatch.setattr(Classifier, "predict_proba", counted)
    f = faithfulness_scores(keyword, e, steps=10)
    assert len(calls) == 1 and calls[0] == f.extras["texts"] == f.extras["texts_predicted"] > 10


# --------------------------------------------------------------------------- agreement


def test_a_method_agrees_with_itself(tiny):
    es = {m: explain(tiny, TEXTS[0], m) for m in ("saliency", "attention", "random", "lime")}
    for measure in ("spearman", "kendall", "top_k"):
        matrix = agreement_matrix(es, measure=measure)
        np.testing.assert_allclose(np.diag(matrix.to_numpy()), 1.0)
        np.testing.assert_allclose(matrix.to_numpy(), matrix.to_numpy().T)
        assert list(matrix.index) == list(es)
        assert np.all(matrix.to_numpy() <= 1 + 1e-12) and np.all(matrix.to_numpy() >= -1 - 1e-12)


def test_agreement_measures_on_known_vectors():
    x = np.array([0.1, 0.5, 0.3, 0.9, 0.2])
    assert score_agreement(x, -x, "spearman", by="score") == pytest.approx(-1)
    assert score_agreement(x, 2 * x + 1, "kendall", by="score") == pytest.approx(1)
    other = np.array([0.9, 0.1, 0.5, 0.0, 0.3])
    assert score_agreement(x, other, "top_k", k=0.4) == 0.0  # top 2: {3, 1} vs {0, 2}
    assert score_agreement(x, np.array([0, 0, 0, 9, 5.0]), "top_k", k=0.4) == 0.5
    assert np.isnan(score_agreement(x, np.zeros(5)))  # no ranking at all


def test_agreement_over_texts_averages_and_refuses_mismatched_texts(tiny):
    a = explain(tiny, TEXTS[0], "saliency")
    b = explain(tiny, TEXTS[1], "saliency")
    with pytest.raises(ValueError, match="different texts"):
        rank_agreement(a, b)
    per_text = [
        {m: explain(tiny, t, m) for m in ("saliency", "input_x_gradient")}
        for t in (TEXTS[0], TEXTS[1], TEXTS[3])
    ]
    matrix = agreement_matrix(per_text)
    expected = np.mean([rank_agreement(g["saliency"], g["input_x_gradient"]) for g in per_text])
    assert matrix.loc["saliency", "input_x_gradient"] == pytest.approx(expected)
    assert matrix.attrs["n_texts"] == 3


def test_seed_and_edit_stability(keyword, tiny):
    # Every seed puts the keyword on top; the order of the words that do not matter is noise.
    lime = {"lime": {"n_samples": 300}}
    top = seed_stability(keyword, TEXTS[0], "lime", (0, 1, 2), "top_k", k=0.1, options=lime)
    assert top == 1.0
    random_stability = seed_stability(tiny, TEXTS[3], "random", seeds=range(6))
    assert abs(random_stability) < 0.5  # independent random rankings barely agree
    with pytest.raises(ValueError, match="takes no seed"):
        seed_stability(tiny, TEXTS[0], "saliency")
    same = edit_stability(keyword, "the film was good", "the movie was good", "input_x_gradient")
    assert same == pytest.approx(1.0)  # "the", "was", "good" keep their ranking
    with pytest.raises(ValueError, match="share fewer than two words"):
        edit_stability(tiny, "good film", "bad movie", "saliency")


# --------------------------------------------------------------------------- LIME's surrogate


def test_surrogate_fidelity_is_near_perfect_when_the_model_is_linear_in_words(keyword):
    fid = surrogate_fidelity(keyword, TEXTS[0], options={"lime": {"n_samples": 300}}, holdout=150)
    assert fid["r2_heldout"] > 0.95 and fid["r2_train"] > 0.95
    assert fid["holdout"] == 150 and fid["n_words"] == 9


def test_surrogate_fidelity_reuses_a_lime_explanation_and_checks_it(tiny):
    e = explain(tiny, TEXTS[0], "lime", num_features=None)
    fid = surrogate_fidelity(tiny, TEXTS[0], e, holdout=50)
    assert fid["r2_train"] == e.diagnostics["r2"] and fid["r2_heldout"] <= 1
    with pytest.raises(ValueError, match="needs a LIME explanation with every word weighted"):
        surrogate_fidelity(tiny, TEXTS[0], explain(tiny, TEXTS[0], "saliency"))
    with pytest.raises(ValueError, match="holdout must be an integer"):
        surrogate_fidelity(tiny, TEXTS[0], e, holdout=1)


# --------------------------------------------------------------------------- evaluation table


def test_evaluate_explanations_rows_columns_and_summary(keyword):
    methods = ["input_x_gradient", "saliency", "lime", "random"]
    results = evaluate_explanations(
        keyword, TEXTS, methods=methods, options={"lime": {"n_samples": 150}}, progress=False
    )
    assert len(results) == len(TEXTS) * len(methods)
    assert results.groupby("text_id")["method"].apply(list).tolist() == [methods] * len(TEXTS)
    for col in ("comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc", "seconds"):
        assert results[col].notna().all()
    lime = results[results["method"] == "lime"]
    assert lime["surrogate_r2_heldout"].notna().all()
    assert results.loc[results["method"] != "lime", "surrogate_r2_heldout"].isna().all()
    summary = summarize(results)
    assert summary.index[0] in ("input_x_gradient", "lime")  # the faithful ones rank first
    assert summary.loc["input_x_gradient", "comprehensiveness"] == pytest.approx(DROP, abs=1e-5)
    assert summary.loc["random", "comprehensiveness"] < DROP - 0.1
    assert (summary["n_texts"] == len(TEXTS)).all()
    matrix = agreement_matrix(results)  # reuses the stored explanations
    assert matrix.attrs["n_texts"] == len(TEXTS)


def test_evaluate_takes_a_dataset_split_and_fixes_seeds(tiny, tiny_data):
    split = tiny_data["validation"].select(range(4))
    one = evaluate_explanations(tiny, split, methods=["random"], seed=3, progress=False)
    two = evaluate_explanations(tiny, split["text"], methods=["random"], seed=3, progress=False)
    assert one["text"].tolist() == split["text"]
    pd.testing.assert_series_equal(one["comprehensiveness"], two["comprehensiveness"])
    assert one["explanation"].iloc[0].params["seed"] == 3


def test_bootstrap_ci_contains_the_point_estimate(keyword):
    rng = np.random.default_rng(0)
    for values in (rng.normal(size=30), rng.exponential(size=12), rng.uniform(size=200)):
        mean, low, high = bootstrap_ci(values, n_boot=500)
        assert low <= mean <= high and mean == pytest.approx(values.mean())
    narrow = bootstrap_ci(rng.normal(size=400))
    wide = bootstrap_ci(rng.normal(size=25))
    assert narrow[2] - narrow[1] < wide[2] - wide[1]
    results = evaluate_explanations(keyword, TEXTS, methods=["random", "saliency"], progress=False)
    summary = summarize(results)
    for metric in ("comprehensiveness", "sufficiency", "deletion_auc", "seconds"):
        assert (summary[f"{metric}_low"] <= summary[metric] + 1e-12).all()
        assert (summary[metric] <= summary[f"{metric}_high"] + 1e-12).all()
    assert np.isnan(bootstrap_ci([1.0])[1])
    with pytest.raises(ValueError, match=r"ci must be a number in \(0, 1\)"):
        bootstrap_ci([1.0, 2.0], ci=95)


# --------------------------------------------------------------------------- global view


def test_global_importance_finds_the_keyword_with_counts(keyword):
    texts = TEXTS + ["the plot was dull", "a bad movie"]
    g = global_importance(keyword, texts, method="input_x_gradient", min_count=1, progress=False)
    top = g.top("positive", k=3, by="mean")
    assert top["word"].iloc[0] == KEYWORD
    assert top["count"].iloc[0] == sum(t.split().count(KEYWORD) for t in TEXTS)
    row = g.frame.iloc[0]
    assert row["total"] == pytest.approx(row["mean"] * row["count"])
    by_total = g.top("positive", k=1, by="total")
    assert by_total["word"].iloc[0] == KEYWORD
    assert "," not in set(g.frame["word"])  # punctuation left out by default
    with pytest.raises(ValueError, match="pass either texts"):
        global_importance(keyword)


def test_global_importance_reuses_evaluation_explanations_and_escapes(keyword):
    results = evaluate_explanations(keyword, TEXTS, methods=["occlusion"], progress=False)
    g = global_importance(keyword, explanations=results["explanation"], min_count=2)
    assert g.method == "occlusion" and g.n_texts == len(TEXTS)
    assert g.top("positive", k=1)["word"].iloc[0] == KEYWORD
    hostile = global_importance(
        keyword, ["<script>alert(1)</script> good"] * 3, method="occlusion", progress=False
    )
    assert "<script>" not in hostile._repr_html_()
    axes = g.plot(k=3)
    assert len(axes) == 2


def test_a_shared_cache_predicts_texts_common_to_several_methods_once(keyword):
    text = TEXTS[3]
    cache = {}
    first = faithfulness_scores(keyword, explain(keyword, text, "random", seed=0), cache=cache)
    assert first.extras["texts_predicted"] == first.extras["texts"] == len(cache)
    again = faithfulness_scores(keyword, explain(keyword, text, "random", seed=0), cache=cache)
    other = faithfulness_scores(keyword, explain(keyword, text, "occlusion"), cache=cache)
    assert again.extras["texts_predicted"] == 0
    assert 0 < other.extras["texts_predicted"] < other.extras["texts"]  # full and empty text
    np.testing.assert_array_equal(first.comprehensiveness, again.comprehensiveness)


def test_plot_helpers_draw_from_stored_values(keyword):
    import matplotlib

    matplotlib.use("Agg")
    from interpkit.metrics import plot_agreement, plot_curves, plot_summary

    results = evaluate_explanations(keyword, TEXTS, methods=["occlusion", "random"], progress=False)
    ax = plot_summary(summarize(results))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["occlusion", "random"]
    ax = plot_curves(results, "deletion")
    assert len(ax.get_lines()) == 2
    ax = plot_agreement(agreement_matrix(results))
    assert len(ax.texts) == 4
    curve = faithfulness_scores(keyword, results["explanation"].iloc[0]).deletion
    assert curve.plot().get_lines()[0].get_ydata().tolist() == curve.scores.tolist()


def test_held_out_surrogate_r2_is_skipped_when_lime_leaves_words_out(keyword):
    results = evaluate_explanations(
        keyword,
        TEXTS[:2],
        methods=["lime"],
        options={"lime": {"n_samples": 100, "num_features": 2}},
        progress=False,
    )
    assert results["surrogate_r2"].notna().all()
    assert "surrogate_r2_heldout" not in results or results["surrogate_r2_heldout"].isna().all()
    assert (results["explanation"].map(lambda e: np.count_nonzero(e.word_scores)) <= 2).all()


def test_metrics_are_exported_at_the_top_level():
    import interpkit.metrics as metrics

    names = ["evaluate_explanations", "summarize", "faithfulness_scores", "agreement_matrix"]
    names += ["global_importance", "surrogate_fidelity", "comprehensiveness", "aopc"]
    for name in names:
        assert getattr(interpkit, name) is getattr(metrics, name)
        assert name in interpkit.__all__
    assert all(getattr(metrics, name) is not None for name in metrics.__all__)
