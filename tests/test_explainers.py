"""Explainers: one contract test over every registered method, then method-specific checks.

Everything runs on tiny random models whose weights are re-drawn with a larger spread
(``lively``), so that outputs and attributions are far from float noise: BERT for most checks,
and the contract test over every tokenizer family interpkit supports (``ARCHITECTURES``:
WordPiece, byte-level BPE, SentencePiece-style Unigram). Only the sentiment checks at the end
use the real fine-tuned demo model.
"""

import copy
import functools
import html
import itertools
import math
import re
import types
import warnings

import numpy as np
import pytest
import torch

import interpkit
from interpkit import (
    Explanation,
    TruncationWarning,
    UnknownTokensWarning,
    get_explainer,
    list_explainers,
)
from interpkit.audit import adversarial_search
from interpkit.explainers import base as explainer_base
from interpkit.explainers.attention import aggregate_layers, drop_special, rollout
from interpkit.explainers.base import WORD_PATTERN, group_words
from interpkit.explainers.lime import (
    expected_distinct_perturbations,
    perturbation_masks,
    proximity_weights,
)
from interpkit.explainers.vocabulary import BASELINES, OLD_SPELLINGS, OUTPUTS, VOCABULARY
from interpkit.testing import (
    ARCHITECTURES,
    NEGATIVE,
    POSITIVE,
    KeywordClassifier,
    keyword_classifier,
    tiny_classifier,
    tiny_dataset,
)

TEXT = "a good film, but the plot was dull"
HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]
LONG = "the film was good and the plot was fine but " * 12  # > 64 tokens
#: Smaller sample counts keep the contract test fast on 2 CPU cores; behaviour is the same.
FAST = {
    "integrated_gradients": {"n_steps": 16},
    "smoothgrad": {"n_samples": 4},
    "shap": {"n_samples": 4},
    "kernel_shap": {"n_samples": 40},
    "lime": {"n_samples": 150},
}


def lively_classifier(labels=("negative", "positive"), architecture="bert", std=0.5, **kwargs):
    """tiny_classifier() with weights drawn at std ``std``: outputs vary between texts."""
    clf = tiny_classifier(labels=labels, architecture=architecture, **kwargs)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in clf.model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
                module.weight.normal_(0.0, std, generator=gen)
    return clf


@functools.cache
def lively_of(architecture: str):
    """One lively classifier per architecture for the whole session (tests do not change it)."""
    return lively_classifier(architecture=architecture)


@pytest.fixture(scope="module")
def lively():
    return lively_classifier()


@pytest.fixture(scope="module")
def three_class():
    return lively_classifier(labels=("negative", "neutral", "positive"))


def grouped(e: Explanation) -> np.ndarray:
    out = np.zeros(len(e.words))
    for score, w in zip(e.scores, e.token_to_word, strict=True):
        if w is not None:
            out[w] += score
    return out


# --------------------------------------------------------------------------- the contract


@pytest.mark.filterwarnings("ignore:DeepLift scores sum:RuntimeWarning")  # tested below
@pytest.mark.parametrize("method", list_explainers())
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_explainer_keeps_the_contract(architecture, method):
    clf = lively_of(architecture)
    options = FAST.get(method, {})
    explainer = get_explainer(method)(clf, **options)
    assert explainer.classifier is clf
    params = explainer.get_params()
    assert {k: params[k] for k in options} == options  # __init__ stores params as given

    e = explainer.explain(TEXT)
    # shapes and layout
    ids = clf.tokenizer(TEXT)["input_ids"]
    assert e.tokens == clf.tokenizer.convert_ids_to_tokens(ids)
    n = len(e.tokens)
    assert e.scores.shape == (n,) and len(e.offsets) == n and len(e.token_to_word) == n
    assert e.word_scores.shape == (len(e.words),) and len(e.word_spans) == len(e.words)
    assert e.words == ["a", "good", "film", ",", "but", "the", "plot", "was", "dull"]
    assert np.all(np.isfinite(e.scores)) and np.all(np.isfinite(e.word_scores))
    np.testing.assert_allclose(e.word_scores, grouped(e), rtol=1e-9, atol=1e-12)
    # every token but the special ones counts in a word (whitespace-only tokens included)
    special = np.array(clf.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True))
    assert [w is None for w in e.token_to_word] == special.astype(bool).tolist()
    assert e.word_scores.sum() == pytest.approx(e.scores[special == 0].sum(), abs=1e-9)
    assert e.word_rule == "sum"
    # what was explained, how and how long
    assert e.method == method and e.params == params and e.seconds > 0
    assert e.labels == clf.labels
    np.testing.assert_allclose(e.probabilities, clf.predict_proba([TEXT])[0], atol=1e-5)
    assert e.target == int(np.argmax(e.probabilities)) and e.contrast is None
    assert "explains" in e.diagnostics
    # repeatable (every sampling method is seeded)
    again = explainer.explain(TEXT)
    np.testing.assert_array_equal(again.scores, e.scores)
    # JSON round trip
    back = Explanation.from_json(e.to_json())
    assert back == e and back.scores.tobytes() == e.scores.tobytes()

    # hostile text shows as text in every HTML path
    hostile = explainer.explain(f"a good {HOSTILE[0]} film {HOSTILE[1]}")
    assert all(w == w.strip() and w for w in hostile.words)  # no whitespace in any word
    for snippet in (
        hostile.to_html(),
        hostile.to_html(level="token"),
        hostile._repr_html_(),
        hostile.to_html(show_timing=True),
    ):
        for raw in HOSTILE:
            assert raw not in snippet
        assert "<script" not in snippet and "<img" not in snippet
    # ... and its escaped form is what the reader sees (once our own tags are removed)
    visible = re.sub(r"<[^>]*>", "", hostile.to_html())
    assert html.escape(HOSTILE[0]) in visible and html.escape(HOSTILE[1]) in visible

    # target by name and by index
    by_name = explainer.explain(TEXT, target="negative")
    by_index = explainer.explain(TEXT, target=0)
    assert by_name.target == by_index.target == 0 and by_name.target_label == "negative"
    np.testing.assert_array_equal(by_name.scores, by_index.scores)

    # contrast mode: "positive rather than negative"
    if explainer.supports_contrast:
        c = explainer.explain(TEXT, target="positive", contrast="negative")
        assert (c.target, c.contrast) == (1, 0)
        assert c.explained == "positive rather than negative"
        assert np.all(np.isfinite(c.scores))
        if explainer.class_specific:
            # With two classes p1 - p0 = 2 p1 - 1: every method here is linear in the output,
            # so the contrast scores are twice the scores for "positive".
            pos = explainer.explain(TEXT, target="positive")
            np.testing.assert_allclose(c.word_scores, 2 * pos.word_scores, rtol=2e-3, atol=1e-7)
    else:
        with pytest.raises(ValueError, match="contrast mode has no meaning"):
            explainer.explain(TEXT, target="positive", contrast="negative")

    # errors speak
    with pytest.raises(ValueError, match="unknown label 'neutral'"):
        explainer.explain(TEXT, target="neutral")
    with pytest.raises(ValueError, match="out of range"):
        explainer.explain(TEXT, target=7)
    with pytest.raises(ValueError, match="empty"):
        explainer.explain("   ")
    with pytest.raises(TypeError, match="one text"):
        explainer.explain([TEXT, TEXT])

    # truncation is visible
    with pytest.warns(TruncationWarning):
        long = explainer.explain(LONG)
    assert long.truncated and len(long.tokens) == clf.max_length
    assert long.word_spans[-1][1] < len(LONG.rstrip())
    assert np.all(np.isfinite(long.scores))
    assert "truncated" in long.to_html() and "truncated" in repr(long)


# --------------------------------------------------------------------------- one vocabulary


def _methods_with(param: str) -> list[str]:
    """Registered methods whose ``__init__`` takes ``param``."""
    return [m for m in list_explainers() if param in get_explainer(m)(None).get_params()]


#: Model evaluations a sample stands for: one perturbed input, except a Shapley word order,
#: whose words are added one at a time from the baseline (plus the baseline itself once).
EVALUATIONS = {
    "lime": lambda n, words: n,
    "kernel_shap": lambda n, words: n,
    "smoothgrad": lambda n, words: n,
    "shap": lambda n, words: n * words + 1,
}


def test_method_classes_are_exported_with_their_registry_names():
    from interpkit import explainers

    for cls in explainers.METHOD_CLASSES:
        assert getattr(interpkit, cls.__name__) is cls is getattr(explainers, cls.__name__)
        assert get_explainer(cls.name) is cls and cls.__name__ in interpkit.__all__
    assert [cls.name for cls in explainers.METHOD_CLASSES] == list_explainers()
    e = interpkit.IntegratedGradients(lively_of("bert"), n_steps=4).explain(TEXT)
    assert e.method == "integrated_gradients"


def test_shared_names_are_the_vocabulary_and_no_method_keeps_an_old_spelling():
    for method in list_explainers():
        cls = get_explainer(method)
        params = set(cls(None).get_params())
        assert not params & set(OLD_SPELLINGS), f"{method} uses an old spelling"
        for old, new in cls.renamed.items():
            assert OLD_SPELLINGS[old] == new and new in params
    # every shared name appears in several methods (otherwise it is not shared)
    for name in VOCABULARY:
        assert _methods_with(name), name
    assert set(EVALUATIONS) == set(_methods_with("n_samples"))
    # the views speak the same vocabulary
    import inspect

    from interpkit.widgets import CompareView, LimeView, SaliencyView

    old = set(OLD_SPELLINGS) - {"method"}  # a view's method= names the explainer, as it should
    for view in (LimeView, SaliencyView, CompareView):
        assert not set(inspect.signature(view).parameters) & old, view


@pytest.mark.parametrize("method", _methods_with("seed"))
def test_the_same_seed_gives_the_same_explanation_and_another_seed_another(method, lively):
    options = FAST.get(method, {})
    a = interpkit.explain(lively, TEXT, method=method, seed=1, **options)
    b = interpkit.explain(lively, TEXT, method=method, seed=1, **options)
    c = interpkit.explain(lively, TEXT, method=method, seed=2, **options)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores), "a seed that changes nothing is no seed"
    fresh = interpkit.explain(lively, TEXT, method=method, seed=None, **options)  # unseeded
    assert fresh.params["seed"] is None and np.all(np.isfinite(fresh.scores))
    with pytest.raises(ValueError, match="seed must be a non-negative integer or None"):
        interpkit.explain(lively, TEXT, method=method, seed=-1, **options)


@pytest.mark.parametrize("method", _methods_with("batch_size"))
def test_batch_size_changes_speed_not_scores(method, lively):
    options = FAST.get(method, {})
    auto = interpkit.explain(lively, TEXT, method=method, batch_size="auto", **options)
    one = interpkit.explain(lively, TEXT, method=method, batch_size=1, **options)
    np.testing.assert_allclose(one.scores, auto.scores, rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="batch_size must be a positive integer or 'auto'"):
        interpkit.explain(lively, TEXT, method=method, batch_size=0, **options)


@pytest.mark.parametrize("method", _methods_with("n_samples"))
def test_n_samples_is_the_number_of_perturbed_inputs_evaluated(method, lively):
    n = {"lime": 40, "kernel_shap": 30, "smoothgrad": 6, "shap": 3}[method]
    rows = []
    hook = lively.model.register_forward_hook(
        lambda module, args, kwargs, out: rows.append(out.logits.shape[0]), with_kwargs=True
    )
    try:
        predictor = interpkit.Predictor(lively)  # counts the texts LIME asks about
        e = interpkit.explain(predictor, TEXT, method=method, n_samples=n)
    finally:
        hook.remove()
    d = e.diagnostics
    assert d["samples"] == n and d["evaluations"] == EVALUATIONS[method](n, len(e.words))
    if method == "lime":  # each perturbed text is asked about; repeated ones predicted once
        assert predictor.texts_requested == d["evaluations"]
        assert sum(rows) == 1 + d["predicted"] < d["evaluations"]  # + the text itself
    else:  # + the text itself, + the baseline for methods that report its output
        assert sum(rows) == d["evaluations"] + 1 + ("baseline_output" in d)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        interpkit.explain(lively, TEXT, method=method, n_samples=0)


@pytest.mark.filterwarnings("ignore:DeepLift scores sum:RuntimeWarning")  # tested below
@pytest.mark.parametrize("name, values", [("output", OUTPUTS), ("baseline", BASELINES)])
def test_output_and_baseline_accept_the_same_values_everywhere(name, values, lively):
    methods = _methods_with(name)
    assert len(methods) > 1
    for method in methods:
        options = FAST.get(method, {})
        for value in values:
            e = interpkit.explain(lively, TEXT, method=method, **{name: value}, **options)
            assert e.params[name] == value and np.all(np.isfinite(e.scores))
        expected = f"{name} must be one of {', '.join(map(repr, values))}"
        with pytest.raises(ValueError, match=re.escape(expected)):
            interpkit.explain(lively, TEXT, method=method, **{name: "nope"}, **options)
    view = interpkit.SaliencyView(lively, TEXT, method="saliency")
    assert tuple(view.baseline_dropdown.options) == BASELINES


@pytest.mark.parametrize("method", [m for m in list_explainers() if get_explainer(m).renamed])
def test_old_spellings_still_work_with_a_warning_that_names_the_new_one(method, lively):
    cls = get_explainer(method)
    values = {"num_samples": 150, "internal_batch_size": 4, "method": "riemann_trapezoid"}
    for old, new in cls.renamed.items():
        with pytest.warns(DeprecationWarning, match=f"now called {new}="):
            by_old = cls(lively, **{old: values[old]})
        assert by_old.get_params() == cls(lively, **{new: values[old]}).get_params()
        with pytest.warns(DeprecationWarning, match=f"pass {new}="):
            e = cls(lively).explain(TEXT, **{old: values[old]})
        assert e.params[new] == values[old] and old not in e.params


# --------------------------------------------------------------------------- registry


def test_registry_lists_every_family():
    names = list_explainers()
    assert names[:2] == ["attention", "attention_rollout"]
    for name in [
        "integrated_gradients",
        "saliency",
        "input_x_gradient",
        "smoothgrad",
        "deeplift",
        "occlusion",
        "shap",
        "kernel_shap",
        "lime",
        "random",
    ]:
        assert name in names
    assert list_explainers("gradient") == [
        "integrated_gradients",
        "saliency",
        "input_x_gradient",
        "smoothgrad",
        "deeplift",
    ]
    assert list_explainers("control") == ["random"]
    assert set(list_explainers("perturbation")) == {"occlusion", "shap", "kernel_shap", "lime"}
    with pytest.raises(ValueError, match="unknown family"):
        list_explainers("magic")


def test_unknown_method_suggests_a_name():
    with pytest.raises(ValueError, match="did you mean 'saliency'"):
        get_explainer("salency")
    with pytest.raises(ValueError, match="available: attention"):
        interpkit.explain(None, TEXT, method="nope")


def test_top_level_explain_equals_the_class(lively):
    a = interpkit.explain(lively, TEXT, method="integrated_gradients", n_steps=8, target=1)
    b = get_explainer("integrated_gradients")(lively, n_steps=8).explain(TEXT, target=1)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.params == b.params


def test_options_are_checked_with_clear_messages(lively):
    ig = get_explainer("integrated_gradients")(lively)
    with pytest.raises(ValueError, match="unknown option 'nsteps'.*n_steps"):
        ig.explain(TEXT, nsteps=10)
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        ig.explain(TEXT, n_steps=0)
    with pytest.raises(ValueError, match="baseline must be one of 'pad', 'mask', 'zero'"):
        ig.explain(TEXT, baseline="unk")
    with pytest.raises(ValueError, match="output must be one of"):
        interpkit.explain(lively, TEXT, method="saliency", output="prob")
    with pytest.raises(ValueError, match="n_samples must be"):
        interpkit.explain(lively, TEXT, method="lime", n_samples=-5)
    with pytest.raises(ValueError, match="layer must be one of"):
        interpkit.explain(lively, TEXT, method="attention", layer="top")
    with pytest.raises(ValueError, match="layer 5 does not exist"):
        interpkit.explain(lively, TEXT, method="attention", layer=5)


def test_register_a_custom_explainer(lively):
    class Constant(explainer_base.Explainer):
        name = "constant_test"
        family = "control"

        def __init__(self, classifier, value: float = 1.0):
            super().__init__(classifier)
            self.value = value

        def _attribute(self, inputs, target, contrast, params):
            return explainer_base.Attribution(np.full(len(inputs.words), params["value"]), "word")

    try:
        explainer_base.register(Constant)
        assert "constant_test" in list_explainers()
        e = interpkit.explain(lively, "good film", method="constant_test", value=2.0)
        assert e.word_scores.tolist() == [2.0, 2.0] and e.params == {"value": 2.0}
        with pytest.raises(ValueError, match="already registered"):

            class Other(Constant):
                pass

            explainer_base.register(Other)
    finally:
        explainer_base._REGISTRY.pop("constant_test", None)
    with pytest.raises(TypeError, match="not an Explainer"):
        explainer_base.register(dict)


def test_a_slow_tokenizer_is_refused_clearly(lively):
    clf = copy.copy(lively)
    clf.tokenizer = types.SimpleNamespace(is_fast=False)
    with pytest.raises(TypeError, match="need a fast tokenizer.*use_fast=True"):
        interpkit.explain(clf, TEXT, method="random")


def test_explainer_repr_and_params(lively):
    lime = get_explainer("lime")(lively, n_samples=10)
    assert lime.get_params()["n_samples"] == 10
    assert repr(lime).startswith("Lime(n_samples=10, num_features=None, seed=0")


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        "  don't   stop, it's   good!!  ",
        "naïve café — wonderfully <b>bold</b> (really)",
        f"a {HOSTILE[0]} and {HOSTILE[1]}",
        "x",
    ],
)
def test_word_grouping_round_trips_to_the_text(text, lively):
    e = interpkit.explain(lively, text, method="random")
    for word, (start, end) in zip(e.words, e.word_spans, strict=True):
        assert text[start:end] == word
    # words plus the gaps between them give back the text, character for character
    pieces, pos = [], 0
    for start, end in e.word_spans:
        gap = text[pos:start]
        assert gap.strip() == "" or not gap.isalnum()
        pieces += [gap, text[start:end]]
        pos = end
    assert "".join(pieces) + text[pos:] == text
    # every token lies inside its word, every word has a token, specials have no word
    for (start, end), w, token in zip(e.offsets, e.token_to_word, e.tokens, strict=True):
        if w is None:
            assert (start, end) == (0, 0) and token in ("[CLS]", "[SEP]")
        else:
            ws, we = e.word_spans[w]
            assert ws <= start < end <= we
    assert sorted({w for w in e.token_to_word if w is not None}) == list(range(len(e.words)))


def test_word_grouping_merges_pieces_and_keeps_contractions():
    text = "wonderfully don't"
    offsets = [(0, 0), (0, 9), (9, 11), (12, 15), (15, 16), (16, 17), (0, 0)]
    special = [True, False, False, False, False, False, True]
    words, spans, t2w, token_offsets = group_words(text, offsets, special)
    assert words == ["wonderfully", "don't"]
    assert spans == [(0, 11), (12, 17)]
    assert t2w == [None, 0, 0, 1, 1, 1, None]
    assert token_offsets == offsets  # nothing to strip


def test_word_grouping_strips_spaces_and_keeps_every_token_in_a_word():
    # DeBERTa-v2 style spans include the space before a piece ("▁funny" covers " funny"); a
    # standalone "▁" covers a space only; RoBERTa's standalone "Ġ" is zero-width; a trailing
    # whitespace token has no word after it.
    text = "so  funny\tand "
    offsets = [(0, 0), (0, 2), (2, 3), (3, 9), (9, 9), (9, 13), (13, 14), (0, 0)]
    special = [True, False, False, False, False, False, False, True]
    words, spans, t2w, token_offsets = group_words(text, offsets, special)
    assert words == ["so", "funny", "and"]
    assert spans == [(0, 2), (4, 9), (10, 13)]
    # a whitespace-only token belongs to the next word (the last one at the end of the text)
    assert t2w == [None, 0, 1, 1, 2, 2, 2, None]
    assert token_offsets == [(0, 0), (0, 2), (4, 4), (4, 9), (10, 10), (10, 13), (13, 13), (0, 0)]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_words_never_carry_whitespace_on_any_tokenizer(architecture):
    clf = lively_of(architecture)
    text = "so  funny\tand <b>moving</b>, not dull "
    e = interpkit.explain(clf, text, method="integrated_gradients", n_steps=8)
    assert e.words == [
        "so", "funny", "and", "<", "b", ">", "moving", "<", "/", "b", ">", ",", "not", "dull",
    ]  # fmt: skip
    for word, (start, end) in zip(e.words, e.word_spans, strict=True):
        assert text[start:end] == word
    ids = clf.tokenizer(text)["input_ids"]
    special = clf.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    for (start, end), w, is_special in zip(e.offsets, e.token_to_word, special, strict=True):
        assert (w is None) == bool(is_special)  # every other token counts in a word ...
        if w is not None:
            assert e.word_spans[w][0] <= start <= end <= e.word_spans[w][1]
    # ... so the word scores add up to every non-special token's score
    content = [w is not None for w in e.token_to_word]
    assert e.word_scores.sum() == pytest.approx(e.scores[content].sum(), abs=1e-9)


def test_global_importance_counts_a_word_once_whatever_the_spaces_around_it():
    clf = lively_of("deberta-v2")  # its offsets include the space before a word
    texts = ["so funny", "it was  funny", "funny\tand moving"]
    explanations = [interpkit.explain(clf, t, method="random", target=1) for t in texts]
    g = interpkit.global_importance(clf, explanations=explanations, min_count=1)
    funny = g.frame[g.frame["word"].str.strip() == "funny"]
    assert funny["word"].tolist() == ["funny"] and funny["count"].tolist() == [3]


# --------------------------------------------------------------------------- CJK

CHINESE = "这部电影非常好看"
JAPANESE = "この映画はとても面白い"
#: Japanese the way BERT's basic tokenizer splits it: ideographs alone, kana runs whole.
JAPANESE_WORDS = ["この", "映", "画", "はとても", "面", "白", "い"]


def test_word_pattern_splits_cjk_ideographs_as_bert_does():
    def words(text):
        return [m.group() for m in WORD_PATTERN.finditer(text)]

    assert words(CHINESE) == list(CHINESE)
    assert words(JAPANESE) == JAPANESE_WORDS
    assert words("我爱it, don't stop!") == ["我", "爱", "it", ",", "don't", "stop", "!"]
    assert words("한국어 영화 좋아요") == ["한국어", "영화", "좋아요"]  # Hangul: as BERT, by spaces
    assert words("𠀀𠀁") == ["𠀀", "𠀁"]  # Extension B, beyond the Basic Multilingual Plane
    # BERT's own normaliser and pre-tokenizer (in tokenizers) split these texts the same way
    backend = tiny_classifier().tokenizer.backend_tokenizer
    for text in (CHINESE, JAPANESE, "我爱it, 好看!"):
        normalized = backend.normalizer.normalize_str(text)
        assert [w for w, _ in backend.pre_tokenizer.pre_tokenize_str(normalized)] == words(text)


@pytest.mark.parametrize(
    "text, expected", [(CHINESE, list(CHINESE)), (JAPANESE, JAPANESE_WORDS)], ids=["zh", "ja"]
)
def test_cjk_words_are_characters_for_every_method(text, expected):
    clf = lively_classifier(extra_words=expected)  # a vocabulary that knows these characters
    e = interpkit.explain(clf, text, method="random")
    assert e.words == expected and e.unknown_fraction == 0
    assert sorted({w for w in e.token_to_word if w is not None}) == list(range(len(expected)))
    lime = interpkit.explain(clf, text, method="lime", n_samples=300)
    assert lime.word_scores.shape == (len(expected),) and np.count_nonzero(lime.word_scores) > 1
    shap = interpkit.explain(clf, text, method="kernel_shap", target=1)
    assert shap.word_scores.shape == (len(expected),)
    assert abs(shap.diagnostics["efficiency_gap"]) < 1e-5


# --------------------------------------------------------------------------- unknown tokens


def test_a_mostly_unknown_text_is_flagged(lively):
    for text in (CHINESE, "😀😀 🎬🍿"):  # the tiny BERT vocabulary knows neither
        with pytest.warns(UnknownTokensWarning, match=r"unknown to the tokenizer \(\[UNK\]\)"):
            e = interpkit.explain(lively, text, method="saliency")
        assert e.mostly_unknown and e.unknown_fraction == 1.0
        assert e.diagnostics["unknown_fraction"] == 1.0
        assert "unknown to the tokenizer" in e.to_html()
        assert Explanation.from_json(e.to_json()).mostly_unknown


def test_some_unknown_tokens_are_recorded_without_alarm(lively):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTokensWarning)
        half = interpkit.explain(lively, "good 😀", method="saliency")  # 1 of 2: not "most"
        clean = interpkit.explain(lively, TEXT, method="saliency")
    assert half.unknown_fraction == 0.5 and not half.mostly_unknown
    assert "unknown to the tokenizer" not in half.to_html()
    assert clean.unknown_fraction == 0.0 and "unknown_fraction" not in clean.diagnostics


def test_byte_level_bpe_has_no_unknown_tokens():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTokensWarning)
        e = interpkit.explain(lively_of("roberta"), CHINESE, method="random")
    assert e.unknown_fraction == 0.0 and e.words == list(CHINESE)


# --------------------------------------------------------------------------- gradients


def _prob(model, target, **inputs):
    with torch.no_grad():
        return float(torch.softmax(model(**inputs).logits, -1)[0, target])


@pytest.mark.parametrize("baseline", ["pad", "mask", "zero"])
def test_integrated_gradients_completeness(baseline, lively):
    clf = lively
    e = interpkit.explain(
        clf, TEXT, method="integrated_gradients", baseline=baseline, n_steps=300, target=1
    )
    # f(x) and f(baseline) computed here, independently of the explainer
    enc = clf.tokenizer(TEXT, return_tensors="pt")
    content = torch.ones_like(enc["input_ids"], dtype=torch.bool)
    content[0, [0, -1]] = False
    if baseline == "zero":
        emb = clf.model.get_input_embeddings()(enc["input_ids"]).detach()
        emb[content] = 0.0
        base = {"inputs_embeds": emb}
    else:
        ids = enc["input_ids"].clone()
        tok = clf.tokenizer
        ids[content] = tok.pad_token_id if baseline == "pad" else tok.mask_token_id
        base = {"input_ids": ids}
    f_x = _prob(clf.model, 1, **enc)
    f_b = _prob(clf.model, 1, **base, attention_mask=enc["attention_mask"])
    delta = e.diagnostics["convergence_delta"]
    assert abs(f_x - f_b) > 0.01  # a real difference to explain
    assert abs(e.scores.sum() - (f_x - f_b)) <= abs(delta) + 1e-5
    assert abs(delta) < 0.01 * abs(f_x - f_b)
    assert e.scores[0] == e.scores[-1] == 0  # [CLS]/[SEP] are in the baseline too
    assert e.diagnostics["output"] == pytest.approx(f_x, abs=1e-5)
    assert e.diagnostics["baseline_output"] == pytest.approx(f_b, abs=1e-5)


@functools.cache
def moderate_of(architecture: str):
    """Weights at std 0.2: a clear effect to explain, smooth enough for IG to converge."""
    return lively_classifier(architecture=architecture, std=0.2)


def _output_at_baseline(clf, text: str, baseline: str, target: int) -> float:
    """p(target) of a forward pass at the baseline, computed here: the text's word embeddings
    with the content tokens' replaced, and nothing else given (every model numbers the
    positions of ``inputs_embeds`` as those of the real text)."""
    enc = clf.tokenizer(text, return_tensors="pt")
    ids = enc.pop("input_ids")
    special = clf.tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True
    )
    content = ~torch.tensor(special, dtype=torch.bool)
    embed = clf.model.get_input_embeddings()
    with torch.no_grad():
        if baseline == "zero":
            words = embed(ids)
            words[0, content] = 0.0
        else:
            base = ids.clone()
            tok = clf.tokenizer
            base[0, content] = tok.pad_token_id if baseline == "pad" else tok.mask_token_id
            words = embed(base)
        logits = clf.model(inputs_embeds=words, **enc).logits
    return float(torch.softmax(logits, -1)[0, target])


@pytest.mark.parametrize("baseline", ["pad", "mask", "zero"])
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_integrated_gradients_integrates_from_its_baseline_on_every_architecture(
    architecture, baseline
):
    clf = moderate_of(architecture)
    # DeBERTa-v3 style models add no position embedding before the LayerNorm: zero word
    # embeddings put the path's start at LayerNorm's singular point (a zero vector), where
    # the gradient is huge, so IG needs more steps there (delta 1e-7 at 1024 steps).
    steps = 1024 if (architecture, baseline) == ("deberta-v2", "zero") else 256
    coarse, fine = (
        interpkit.explain(
            clf, TEXT, method="integrated_gradients", baseline=baseline, n_steps=n, target=1
        )
        for n in (16, steps)
    )
    d = fine.diagnostics
    # f(baseline) is that of a real forward pass at the start of the integrated path ...
    assert d["baseline_output"] == pytest.approx(
        _output_at_baseline(clf, TEXT, baseline, 1), abs=1e-6
    )
    assert d["output"] == pytest.approx(fine.probabilities[1], abs=1e-6)
    effect = d["output"] - d["baseline_output"]
    assert abs(effect) > 1e-3
    # ... so the convergence delta is small next to the effect, and falls with n_steps
    assert abs(d["convergence_delta"]) < 1e-2 * abs(effect)
    assert abs(d["convergence_delta"]) <= abs(coarse.diagnostics["convergence_delta"]) + 1e-6
    assert fine.scores.sum() == pytest.approx(effect + d["convergence_delta"], abs=1e-6)


def test_integrated_gradients_contrast_completeness_three_classes(three_class):
    clf = three_class
    e = interpkit.explain(
        clf, TEXT, method="integrated_gradients", target="neutral", contrast=2, n_steps=200
    )
    assert e.explained == "neutral rather than positive"
    assert e.diagnostics["explains"] == "p(neutral) - p(positive)"
    d = e.diagnostics
    assert (
        abs(e.scores.sum() - (d["output"] - d["baseline_output"]))
        <= abs(d["convergence_delta"]) + 1e-6
    )
    assert d["output"] == pytest.approx(e.probabilities[1] - e.probabilities[2], abs=1e-5)


def test_logit_output(lively):
    e = interpkit.explain(lively, TEXT, method="integrated_gradients", output="logit", target=1)
    with torch.no_grad():
        logits = lively.model(**lively.tokenizer(TEXT, return_tensors="pt")).logits[0]
    assert e.diagnostics["output"] == pytest.approx(float(logits[1]), abs=1e-5)
    assert e.diagnostics["explains"] == "logit(positive)"


def test_unsigned_gradient_methods_are_non_negative(lively):
    for method in ("saliency", "smoothgrad"):
        e = interpkit.explain(lively, TEXT, method=method)
        assert np.all(e.scores >= 0) and e.diagnostics["signed"] is False
        assert e.scores.max() > 0


def test_smoothgrad_seed_changes_noise_only_when_asked(lively):
    a = interpkit.explain(lively, TEXT, method="smoothgrad", n_samples=4, seed=1)
    b = interpkit.explain(lively, TEXT, method="smoothgrad", n_samples=4, seed=2)
    assert not np.array_equal(a.scores, b.scores)
    state = torch.random.get_rng_state()
    interpkit.explain(lively, TEXT, method="smoothgrad", n_samples=4, seed=1)
    assert torch.equal(state, torch.random.get_rng_state())  # the user's stream is untouched


def test_occlusion_is_the_drop_when_a_token_is_masked(lively):
    clf = lively
    e = interpkit.explain(clf, TEXT, method="occlusion", target=1)
    enc = clf.tokenizer(TEXT, return_tensors="pt")
    ids = enc["input_ids"].clone()
    ids[0, 2] = clf.tokenizer.mask_token_id
    drop = _prob(clf.model, 1, **enc) - _prob(clf.model, 1, input_ids=ids)
    assert e.scores[2] == pytest.approx(drop, abs=1e-5)


def test_deeplift_reports_its_convergence_delta(lively):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = interpkit.explain(lively, TEXT, method="deeplift", baseline="mask")
    d = e.diagnostics
    expected = e.scores.sum() - d["convergence_delta"]  # f(text) - f(baseline)
    assert d["relative_delta"] == pytest.approx(abs(d["convergence_delta"]) / abs(expected))
    warned = [w for w in caught if "DeepLift scores sum" in str(w.message)]
    assert len(warned) == (d["relative_delta"] > 0.1)
    assert all(w.filename == __file__ for w in warned)  # points at the caller's line


# --------------------------------------------------------------------------- IG's integration


@pytest.fixture
def integration_spy(monkeypatch):
    """Records the integration rule of every Integrated Gradients computation."""
    seen = []
    ig_class = get_explainer("integrated_gradients")
    original = ig_class._attribute

    def spy(self, inputs, target, contrast, params):
        seen.append(params["integration"])
        return original(self, inputs, target, contrast, params)

    monkeypatch.setattr(ig_class, "_attribute", spy)
    return seen


IG_OPTIONS = {"integration": "riemann_trapezoid", "n_steps": 4}


def _through_every_entry_point(clf, options: dict) -> dict:
    """Run each entry point that passes explainer options next to a method name."""
    ig = "integrated_gradients"
    data = tiny_dataset(n_per_class=4)
    return {
        "evaluate_explanations": lambda: interpkit.evaluate_explanations(
            clf, [TEXT], methods=[ig], options={ig: options}, progress=False
        ),
        "CompareView": lambda: interpkit.CompareView(
            clf, TEXT, methods=[ig], options={ig: options}
        ),
        "compare_variants": lambda: interpkit.compare_variants(
            {"tiny": clf}, data["test"], [TEXT], method=ig, options=options, progress=False
        ),
        "audit": lambda: interpkit.audit(
            clf,
            data,
            steps=("robustness",),
            n_perturb=4,
            n_adversarial=1,
            adversarial_method=ig,
            options={ig: options},
            progress=False,
        ),
        "adversarial_search": lambda: adversarial_search(
            clf, [TEXT], method=ig, options={ig: options}
        ),
        "global_importance": lambda: interpkit.global_importance(
            clf, [TEXT], method=ig, options={ig: options}, progress=False
        ),
        "edit_stability": lambda: interpkit.edit_stability(
            clf, TEXT, TEXT.replace("film", "movie"), ig, options={ig: options}
        ),
    }


#: Entry points that run a method by name, and how each took options before issue 15.
OLD_FORMS = {
    "audit": lambda clf, options: interpkit.audit(
        clf,
        tiny_dataset(n_per_class=4),
        steps=("robustness",),
        n_perturb=4,
        n_adversarial=1,
        adversarial_method="integrated_gradients",
        explain_options=options,
        progress=False,
    ),
    "adversarial_search": lambda clf, options: adversarial_search(
        clf, [TEXT], method="integrated_gradients", **options
    ),
    "global_importance": lambda clf, options: interpkit.global_importance(
        clf, [TEXT], method="integrated_gradients", progress=False, **options
    ),
    "edit_stability": lambda clf, options: interpkit.edit_stability(
        clf, TEXT, TEXT.replace("film", "movie"), "integrated_gradients", **options
    ),
    "evaluate_explanations (flat)": lambda clf, options: interpkit.evaluate_explanations(
        clf, [TEXT], methods=["integrated_gradients"], options=options, progress=False
    ),
}
ENTRY_POINTS = [
    "evaluate_explanations",
    "CompareView",
    "compare_variants",
    "audit",
    "adversarial_search",
    "global_importance",
    "edit_stability",
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_integration_rule_reaches_ig_through_every_entry_point(entry, lively, integration_spy):
    _through_every_entry_point(lively, IG_OPTIONS)[entry]()
    assert integration_spy and set(integration_spy) == {"riemann_trapezoid"}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_old_integration_option_name_still_works_where_options_travel_with_a_method(
    entry, lively, integration_spy
):
    # before the rename: "got multiple values for keyword argument 'method'"
    old = {"method": "riemann_trapezoid", "n_steps": 4}
    with pytest.warns(DeprecationWarning, match="now called integration="):
        _through_every_entry_point(lively, old)[entry]()
    assert integration_spy and set(integration_spy) == {"riemann_trapezoid"}


def test_global_importance_passes_the_integration_rule(lively, integration_spy):
    ig = "integrated_gradients"
    g = interpkit.global_importance(
        lively, [TEXT, "a dull film"], method=ig, progress=False, options={ig: IG_OPTIONS}
    )
    assert g.n_texts == 2 and integration_spy == ["riemann_trapezoid"] * 2


@pytest.mark.parametrize("entry", list(OLD_FORMS))
def test_old_ways_of_passing_options_still_work_and_name_the_new_form(
    entry, lively, integration_spy
):
    new_form = "options={'integrated_gradients': {'integration': 'riemann_trapezoid'"
    with pytest.warns(DeprecationWarning, match=re.escape(new_form)):
        OLD_FORMS[entry](lively, IG_OPTIONS)
    assert integration_spy and set(integration_spy) == {"riemann_trapezoid"}


def test_options_for_a_method_not_run_or_given_twice_are_errors(lively):
    ig = "integrated_gradients"
    with pytest.raises(ValueError, match="options given for 'lime', which is not in methods"):
        interpkit.evaluate_explanations(lively, [TEXT], methods=[ig], options={"lime": {}})
    with pytest.raises(ValueError, match="options must be keyed by method"):
        interpkit.evaluate_explanations(
            lively, [TEXT], methods=[ig, "random"], options={"n_steps": 4}
        )
    with pytest.raises(ValueError, match="mixes method names"):
        interpkit.CompareView(lively, TEXT, methods=[ig], options={ig: {}, "n_steps": 4})
    with pytest.raises(ValueError, match="given twice"):
        adversarial_search(lively, [TEXT], method=ig, options={ig: {"n_steps": 4}}, n_steps=8)
    with pytest.raises(ValueError, match="sets the seed itself"):
        interpkit.seed_stability(lively, TEXT, "random", options={"random": {"seed": 3}})


def test_seed_stability_and_surrogate_fidelity_take_options_the_same_way(lively):
    lime = {"lime": {"n_samples": 60}}
    new = interpkit.seed_stability(lively, TEXT, "lime", options=lime)
    with pytest.warns(DeprecationWarning, match=re.escape("options={'lime': {'n_samples': 60}}")):
        old = interpkit.seed_stability(lively, TEXT, "lime", n_samples=60)
    assert new == old
    fid = interpkit.surrogate_fidelity(lively, TEXT, options=lime, holdout=20)
    with pytest.warns(DeprecationWarning, match=re.escape("options={'lime': {'n_samples': 60}}")):
        assert interpkit.surrogate_fidelity(lively, TEXT, n_samples=60, holdout=20) == fid
    assert fid["samples"] == 60


def test_integrated_gradients_integration_option_and_its_old_name(lively):
    ig_class = get_explainer("integrated_gradients")
    ig = ig_class(lively, integration="riemann_trapezoid", n_steps=8)
    assert ig.get_params()["integration"] == "riemann_trapezoid" and "method" not in ig.get_params()
    e = ig.explain(TEXT, target=1)
    assert e.params["integration"] == "riemann_trapezoid"
    with pytest.warns(DeprecationWarning, match="pass integration='riemann_trapezoid'"):
        old = ig_class(lively, method="riemann_trapezoid", n_steps=8)
    assert old.get_params() == ig.get_params()
    with pytest.warns(DeprecationWarning, match="now called integration="):
        again = ig_class(lively, n_steps=8).explain(TEXT, target=1, method="riemann_trapezoid")
    np.testing.assert_array_equal(again.scores, e.scores)
    with pytest.raises(ValueError, match="pass integration= only"):
        ig_class(lively).explain(TEXT, method="riemann_left", integration="riemann_right")
    with pytest.raises(ValueError, match="integration must be one of"):
        ig.explain(TEXT, integration="simpson")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nsteps'"):
        ig_class(lively, nsteps=3)


# --------------------------------------------------------------------------- shapley


def test_shapley_sampling_is_efficient(lively):
    e = interpkit.explain(lively, TEXT, method="shap", n_samples=6, target=1)
    d = e.diagnostics
    assert abs(d["efficiency_gap"]) < 1e-5
    assert e.word_scores.sum() == pytest.approx(d["output"] - d["baseline_output"], abs=1e-5)
    assert d["output"] == pytest.approx(e.probabilities[1], abs=1e-5)


def test_kernel_shap_seed(lively):
    a = interpkit.explain(lively, TEXT, method="kernel_shap", n_samples=60, seed=3)
    b = interpkit.explain(lively, TEXT, method="kernel_shap", n_samples=60, seed=3)
    c = interpkit.explain(lively, TEXT, method="kernel_shap", n_samples=60, seed=4)
    np.testing.assert_array_equal(a.word_scores, b.word_scores)
    assert not np.array_equal(a.word_scores, c.word_scores)


def exact_shapley(value, n: int) -> np.ndarray:
    """Shapley values of ``value`` (a function of a set of player indices) by brute force."""
    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in itertools.combinations(others, size):
                phi[i] += weight * (value({*coalition, i}) - value(set(coalition)))
    return phi


def test_kernel_shap_fits_the_words_only_so_its_scores_sum_to_the_effect(lively):
    e = interpkit.explain(lively, TEXT, method="kernel_shap", target=1)  # 200 samples
    d = e.diagnostics
    effect = d["output"] - d["baseline_output"]
    assert abs(effect) > 0.05
    # no feature for [CLS]/[SEP] takes a share of the effect that belongs to no word
    assert abs(d["efficiency_gap"]) < 1e-4 * abs(effect)
    assert e.word_scores.sum() == pytest.approx(effect, abs=1e-4 * abs(effect))


def test_shapley_methods_match_exact_values_of_a_keyword_model():
    clf = keyword_classifier()  # p(positive) = sigmoid(2 × (positive - negative words))
    keywords = KeywordClassifier(positive=POSITIVE, negative=NEGATIVE)
    text = "a good film, but the plot was dull and boring"
    words = interpkit.explain(clf, text, method="random").words

    def p_positive(kept: set) -> float:  # absent words deleted from the text
        kept_text = " ".join(words[i] for i in sorted(kept))
        return 1.0 / (1.0 + math.exp(-2.0 * keywords.score(kept_text)))

    exact = exact_shapley(p_positive, len(words))
    assert exact[words.index("good")] > 0.2 and exact[words.index("dull")] < -0.2
    assert np.count_nonzero(np.abs(exact) > 1e-12) == 3  # the other words are null players
    for method, n_samples, tolerance in (("kernel_shap", 2000, 0.02), ("shap", 200, 0.01)):
        e = interpkit.explain(clf, text, method=method, n_samples=n_samples, target=1)
        np.testing.assert_allclose(e.word_scores, exact, atol=tolerance, err_msg=method)
        assert abs(e.diagnostics["efficiency_gap"]) < 1e-4


def test_kernel_shap_matches_exact_shapley_values_of_a_transformer(lively):
    text = "a good film but dull"
    words = interpkit.explain(lively, text, method="random").words
    enc = lively.tokenizer(text, return_tensors="pt")
    ids = enc["input_ids"][0]
    t2w = interpkit.explain(lively, text, method="random").token_to_word

    def p_positive(kept: set) -> float:  # absent words' tokens become [MASK]
        masked = ids.clone()
        for position, w in enumerate(t2w):
            if w is not None and w not in kept:
                masked[position] = lively.tokenizer.mask_token_id
        return _prob(lively.model, 1, input_ids=masked[None], attention_mask=enc["attention_mask"])

    exact = exact_shapley(p_positive, len(words))
    e = interpkit.explain(lively, text, method="kernel_shap", n_samples=2000, target=1)
    assert abs(e.diagnostics["efficiency_gap"]) < 1e-4
    np.testing.assert_allclose(e.word_scores, exact, atol=0.1 * np.abs(exact).max())


# --------------------------------------------------------------------------- attention


def test_attention_keeps_the_raw_tensor_for_views(lively):
    e = interpkit.explain(lively, TEXT, method="attention")
    tokens, att = lively.attentions(TEXT)
    raw = e.extras["attention"]
    assert raw.shape == (2, 2, len(tokens), len(tokens)) == tuple(att.shape)
    np.testing.assert_allclose(raw, att.numpy(), atol=1e-6)
    # default: last layer, mean over heads, row of [CLS]
    np.testing.assert_allclose(e.scores, raw[-1].mean(axis=0)[0], atol=1e-6)
    assert "extras" not in e.to_dict() and len(e.to_json()) < 3000  # the tensor stays out
    assert e.diagnostics["class_specific"] is False


def test_attention_rows_sum_to_one_after_renormalisation(lively):
    e = interpkit.explain(lively, TEXT, method="attention", drop_special=True)
    special = np.array([w is None for w in e.token_to_word])
    matrix = e.extras["matrix"]
    np.testing.assert_allclose(matrix.sum(axis=-1), 1.0, atol=1e-9)
    assert np.all(matrix[:, special] == 0)
    assert np.all(e.scores[special] == 0) and e.scores.sum() == pytest.approx(1.0)
    every_head = drop_special(e.extras["attention"], special)
    np.testing.assert_allclose(every_head.sum(axis=-1), 1.0, atol=1e-6)
    kept = drop_special(e.extras["attention"], special, renormalize=False)
    assert np.all(kept.sum(axis=-1) < 1.0 + 1e-6)


def test_rollout_shape_and_rows(lively):
    e = interpkit.explain(lively, TEXT, method="attention_rollout")
    seq = len(e.tokens)
    assert e.extras["matrix"].shape == (seq, seq)
    np.testing.assert_allclose(e.extras["matrix"].sum(axis=-1), 1.0, atol=1e-9)
    per_layer = e.extras["attention"].mean(axis=1)
    np.testing.assert_allclose(e.extras["matrix"], rollout(per_layer), atol=1e-12)
    # rollout by hand (Abnar & Zuidema): (0.5 A2 + 0.5 I) @ (0.5 A1 + 0.5 I)
    eye = np.eye(seq)
    a1, a2 = (0.5 * per_layer[i] + 0.5 * eye for i in range(2))
    np.testing.assert_allclose(e.extras["matrix"], a2 @ a1, atol=1e-6)
    np.testing.assert_allclose(e.scores, (a2 @ a1)[0], atol=1e-6)


def test_rollout_of_identity_is_identity_and_layer_choices():
    att = np.stack([np.eye(4)] * 3)
    np.testing.assert_allclose(rollout(att), np.eye(4))
    rng = np.random.default_rng(0)
    layers = rng.random((3, 4, 4))
    np.testing.assert_array_equal(aggregate_layers(layers, "first"), layers[0])
    np.testing.assert_array_equal(aggregate_layers(layers, -1), layers[-1])
    np.testing.assert_allclose(aggregate_layers(layers, "mean"), layers.mean(axis=0))


def test_attention_one_head_one_layer_and_mean_query(lively):
    e = interpkit.explain(lively, TEXT, method="attention", layer=0, head=1, query="mean")
    np.testing.assert_allclose(e.scores, e.extras["attention"][0, 1].mean(axis=0), atol=1e-6)


def test_attention_works_on_an_sdpa_model():
    clf = tiny_classifier()
    clf.model.set_attn_implementation("sdpa")
    e = interpkit.explain(clf, TEXT, method="attention")
    assert e.extras["attention"].shape[0] == 2
    assert clf.model.config._attn_implementation == "sdpa"  # restored


# --------------------------------------------------------------------------- lime


def test_lime_is_deterministic_under_a_seed(lively):
    a = interpkit.explain(lively, TEXT, method="lime", n_samples=300, seed=7)
    b = interpkit.explain(lively, TEXT, method="lime", n_samples=300, seed=7)
    c = interpkit.explain(lively, TEXT, method="lime", n_samples=300, seed=8)
    np.testing.assert_array_equal(a.word_scores, b.word_scores)
    assert a.diagnostics == b.diagnostics
    assert not np.array_equal(a.word_scores, c.word_scores)
    assert 0 <= a.diagnostics["r2"] <= 1
    assert {"intercept", "local_prediction", "unique_perturbations"} <= set(a.diagnostics)


def test_lime_predicts_each_distinct_perturbation_once(lively, monkeypatch):
    clf = lively
    seen: list[str] = []
    calls = []
    original = clf.predict_proba

    def spy(texts, batch_size=64):
        calls.append(len(texts))
        seen.extend(texts)
        return original(texts, batch_size=batch_size)

    monkeypatch.setattr(clf, "predict_proba", spy)
    e = interpkit.explain(clf, "a good film", method="lime", n_samples=500)
    # 3 words: at most 2**3 - 1 distinct non-empty perturbations besides the text itself
    assert len(seen) == len(set(seen)) <= 6
    assert TEXT not in seen and "a good film" not in seen  # the text's prediction is reused
    assert len(calls) == 1  # one batched call
    d = e.diagnostics
    assert d["samples"] == 500 and d["predicted"] == len(seen) + 1  # + the empty text
    assert d["unique_perturbations"] <= 8
    assert np.all(np.isfinite(e.word_scores)) and np.any(e.word_scores != 0)


def test_lime_num_features_limits_the_weighted_words(lively):
    e = interpkit.explain(lively, TEXT, method="lime", n_samples=200, num_features=2)
    assert np.count_nonzero(e.word_scores) == 2


def test_lime_on_a_long_text_warns_once(lively):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = interpkit.explain(lively, LONG, method="lime", n_samples=100)
    assert sum(issubclass(w.category, TruncationWarning) for w in caught) == 1
    assert e.truncated


def test_lime_refuses_too_few_samples_to_fit_its_surrogate(lively):
    # TEXT has 9 words: 9 weights and an intercept need 10 samples (the text and 9 others)
    for n in (1, 9):
        with pytest.raises(ValueError, match=f"n_samples={n} is too few.*9 words.*at least 10"):
            interpkit.explain(lively, TEXT, method="lime", n_samples=n)
    e = interpkit.explain(lively, TEXT, method="lime", n_samples=10)
    assert np.isfinite(e.diagnostics["r2"]) and np.any(e.word_scores != 0)
    with pytest.raises(ValueError, match="at least 2 samples"):
        interpkit.explain(lively, "good", method="lime", n_samples=1)
    assert interpkit.explain(lively, "good", method="lime", n_samples=2).word_scores.shape == (1,)


def _lime_draws(n_words: int, n_samples: int, seed: int):
    """What lime 0.2.0.1 itself draws: its masks and its kernel's weights."""
    from lime.lime_text import IndexedString, LimeTextExplainer

    words = [f"w{i}" for i in range(n_words)]
    explainer = LimeTextExplainer(random_state=seed, bow=False, split_expression=lambda _: words)
    indexed = IndexedString(" ".join(words), split_expression=lambda _: words, bow=False)
    draw = explainer._LimeTextExplainer__data_labels_distances  # lime's own sampler
    masks, _, distances = draw(indexed, lambda texts: np.zeros((len(texts), 2)), n_samples)
    return masks, explainer.base.kernel_fn(distances)


@pytest.mark.parametrize("n_words, n_samples, seed", [(1, 5, 0), (9, 300, 0), (14, 200, 3)])
def test_perturbation_masks_and_weights_are_the_ones_lime_draws(n_words, n_samples, seed):
    masks, weights = _lime_draws(n_words, n_samples, seed)
    ours = perturbation_masks(n_words, n_samples, seed)
    np.testing.assert_array_equal(ours, masks)
    np.testing.assert_allclose(proximity_weights(ours), weights, rtol=1e-12)
    assert ours[0].all() and (ours[1:].sum(1) < n_words).all()  # row 0 is the text itself


def test_proximity_weights_follow_lime_kernel_formula():
    # keeping m of d words: cosine distance 1 - sqrt(m / d), scaled by 100, width 25
    d = 9
    masks = np.array([[1] * m + [0] * (d - m) for m in range(d + 1)])
    distance = 100 * (1 - np.sqrt(np.arange(d + 1) / d))
    np.testing.assert_allclose(proximity_weights(masks), np.exp(-(distance**2) / (2 * 25**2)))
    assert proximity_weights(masks)[-1] == 1.0 and proximity_weights(masks)[0] < 1e-3
    wider = proximity_weights(masks, kernel_width=100.0)
    assert (wider[:-1] > proximity_weights(masks)[:-1]).all()


def test_a_weighted_ridge_on_the_masks_reproduces_interpkits_lime(lively):
    from sklearn.linear_model import Ridge

    text = "a good film with a dull plot"
    words = text.split()
    e = interpkit.explain(lively, text, method="lime", n_samples=200, seed=5)
    z = perturbation_masks(len(words), 200, seed=5)
    texts = [" ".join(w for w, keep in zip(words, row, strict=True) if keep) for row in z]
    y = interpkit.Predictor(lively).predict_proba(texts)[:, e.target]  # blank texts too (none kept)
    fit = Ridge(alpha=1.0).fit(z, y, sample_weight=proximity_weights(z))
    np.testing.assert_allclose(fit.coef_, e.word_scores, atol=1e-6)
    assert len(np.unique(z, axis=0)) == e.diagnostics["unique_perturbations"]


def test_expected_distinct_perturbations_is_exact_and_matches_the_sampler():
    # two words: "remove one" has 2 patterns of probability 1/4, "remove both" 1/2
    for n in (1, 2, 5, 40):
        exact = 1 + 2 * (1 - 0.75 ** (n - 1)) + (1 - 0.5 ** (n - 1))
        assert expected_distinct_perturbations(2, n) == pytest.approx(exact)
    assert expected_distinct_perturbations(9, 10**7) == pytest.approx(2**9)
    counts = [len(np.unique(perturbation_masks(9, 1000, s), axis=0)) for s in range(60)]
    assert abs(np.mean(counts) - expected_distinct_perturbations(9, 1000)) < 3
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        expected_distinct_perturbations(9, 0)


# --------------------------------------------------------------------------- random control


def test_random_control_is_seeded_per_text(lively):
    a = interpkit.explain(lively, TEXT, method="random", seed=1)
    b = interpkit.explain(lively, TEXT, method="random", seed=1)
    c = interpkit.explain(lively, TEXT, method="random", seed=2)
    d = interpkit.explain(lively, TEXT + " too", method="random", seed=1)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)
    assert not np.array_equal(a.scores[:5], d.scores[:5])
    assert a.scores[0] == a.scores[-1] == 0


# --------------------------------------------------------------------------- the real model

SENTIMENT_WORDS = {"wonderful", "beautifully", "moving"}
POSITIVE_TEXT = "a wonderful, moving and beautifully acted film"


@pytest.fixture(scope="session")
def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return interpkit.demo_classifier(device="cpu", progress=False)


def test_deeplift_says_when_it_fails_on_bert(demo):
    with pytest.warns(RuntimeWarning, match="prefer method='integrated_gradients'"):
        e = interpkit.explain(demo, POSITIVE_TEXT, method="deeplift", target="positive")
    assert e.diagnostics["relative_delta"] > 0.1
    ig = interpkit.explain(demo, POSITIVE_TEXT, method="integrated_gradients", target="positive")
    assert abs(ig.diagnostics["convergence_delta"]) < 0.05 * abs(ig.scores.sum())


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency"])
def test_gradients_point_to_sentiment_words(demo, method):
    e = interpkit.explain(demo, POSITIVE_TEXT, method=method, target="positive")
    assert e.probabilities[1] > 0.9
    top3 = {word for word, _ in e.top(3)}
    assert top3 & SENTIMENT_WORDS, e.top(5)


def test_lime_top_word_sign_on_unambiguous_sentences(demo):
    pos = interpkit.explain(demo, POSITIVE_TEXT, method="lime", target="positive", seed=0)
    word, weight = pos.top(1, by="abs")[0]
    assert word in SENTIMENT_WORDS and weight > 0, pos.top(3, by="abs")
    neg = interpkit.explain(
        demo, "a dull, boring and badly acted film", method="lime", target="positive", seed=0
    )
    word, weight = neg.top(1, by="abs")[0]
    assert word in {"dull", "boring", "badly"} and weight < 0, neg.top(3, by="abs")
