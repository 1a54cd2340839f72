"""Behavioural tests in CheckList's three types (Ribeiro et al., 2020), templates as data.

- **MFT** (minimum functionality): templated sentences with known labels (plain sentiment,
  intensifiers, negation, contrast "but"). A case fails when the prediction is wrong.

A test's labels are classes of the classifier or the roles ``"negative"``/``"positive"``; a
role stands for the classes :mod:`interpkit.validation` gives it (a two-class negative/positive
model by itself, any other through ``label_map``, e.g. both ``positive`` and ``very_positive``
of a 5-class model). The built-in MFTs and DIRs are labelled with roles, so they need such a
pair; the INVs compare a prediction with itself and run on any label set.
- **INV** (invariance): a change that must not matter (a typo, another name or place, a
  neutral sentence added, punctuation). A case fails when the predicted label changes.
- **DIR** (directional expectation): a change with a known direction (a clearly positive or
  negative clause added). A case fails when the probability of the class moves the wrong way
  by more than ``tolerance`` (CheckList's default 0.1).

The word lists and templates ship in ``interpkit/audit/data/behavioural.json``
(:func:`lexicon`). Your own test takes a few lines:

>>> from interpkit.audit import MFT, run_tests, default_tests
>>> mine = MFT.from_template("MFT: sarcasm", "Oh great, another {neg_adj} sequel.", "negative")
>>> cases, summary = run_tests(clf, default_tests() + [mine])
>>> summary                   # one row per test: cases, failures, failure rate
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ..predict import Predictor, TextClassifier
from ..validation import target_indices
from ._common import audit_predictor
from .robustness import add_typo, strip_punctuation

_SLOT = re.compile(r"\{([A-Za-z_]+?)(\d*)\}")
#: Cases per templated test (sampled with a seed from all fill-ins).
DEFAULT_N = 60


@cache
def _data() -> dict:
    text = resources.files("interpkit.audit").joinpath("data", "behavioural.json").read_text()
    return json.loads(text)


def lexicon() -> dict[str, list[str]]:
    """The built-in word lists (a fresh copy: change it and pass it as ``lexicon=``)."""
    return {k: list(v) for k, v in _data()["lexicon"].items()}


def expand(
    template: str,
    lexicon: dict[str, Sequence[str]] | None = None,
    n: int | None = None,
    seed: int = 0,
    **fixed: str,
) -> list[str]:
    """All fill-ins of ``template`` (or a seeded sample of ``n``), in a stable order.

    ``{thing}`` takes each word of the list ``thing``; ``{thing2}`` draws from the same list
    but never repeats ``{thing}``'s word. ``fixed`` pins slots (``identity="Muslim"``). The
    first letter of the sentence is capitalised.
    """
    words = lexicon if lexicon is not None else _data()["lexicon"]
    slots = list(dict.fromkeys(m.group(0)[1:-1] for m in _SLOT.finditer(template)))
    if not slots:
        return [template]
    choices = []
    for slot in slots:
        if slot in fixed:
            choices.append([fixed[slot]])
            continue
        base = _SLOT.fullmatch("{" + slot + "}").group(1)
        if base not in words:
            raise ValueError(
                f"template {template!r} uses {{{slot}}} but there is no word list {base!r}: "
                f"add it to the lexicon (lists: {', '.join(sorted(words))})"
            )
        choices.append(list(words[base]))
    bases = [_SLOT.fullmatch("{" + s + "}").group(1) for s in slots]
    same = [(i, j) for i, j in itertools.combinations(range(len(slots)), 2) if bases[i] == bases[j]]
    combos = [c for c in itertools.product(*choices) if all(c[i] != c[j] for i, j in same)]
    if n is not None and n < len(combos):
        combos = random.Random(seed).sample(combos, n)
    out = []
    for combo in combos:
        text = template.format(**dict(zip(slots, combo, strict=True)))
        out.append(text[:1].upper() + text[1:])
    return out


@dataclass
class BehaviouralTest:
    """A named set of cases; subclasses say how a case passes. Build with the subclasses."""

    name: str
    capability: str = ""
    kind: str = field(init=False, default="")

    def inputs(self) -> list[str]:
        raise NotImplementedError

    def evaluate(self, probs: dict[str, np.ndarray], labels, label_map) -> pd.DataFrame:
        raise NotImplementedError


@dataclass
class MFT(BehaviouralTest):
    """Minimum functionality: each text must get its label."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = "MFT"
        if len(self.texts) != len(self.labels) or not self.texts:
            raise ValueError(
                f"{self.name}: pass one label per text (got {len(self.texts)} texts and "
                f"{len(self.labels)} labels)"
            )

    @classmethod
    def from_template(
        cls,
        name: str,
        templates: str | Sequence[str],
        label: str,
        capability: str = "",
        n: int | None = DEFAULT_N,
        lexicon: dict | None = None,
        seed: int = 0,
    ) -> MFT:
        """Sentences from one or more templates, all with ``label``; ``n`` sampled in all."""
        templates = [templates] if isinstance(templates, str) else list(templates)
        texts = []
        for j, template in enumerate(templates):
            share = None if n is None else max(1, round(n / len(templates)))
            texts += expand(template, lexicon, share, seed + j)
        return cls(name=name, capability=capability, texts=texts, labels=[label] * len(texts))

    def inputs(self) -> list[str]:
        return list(self.texts)

    def evaluate(self, probs, labels, label_map) -> pd.DataFrame:
        rows = []
        for text, expected in zip(self.texts, self.labels, strict=True):
            p = probs[text]
            want = target_indices(labels, expected, label_map)
            pred = int(p.argmax())
            rows.append(
                {
                    "text": text,
                    "original": "",
                    "expected": _shown(labels, want, expected),
                    "predicted": labels[pred],
                    "p_expected": float(p[list(want)].sum()),
                    "change": np.nan,
                    "passed": pred in want,
                }
            )
        return pd.DataFrame(rows)


@dataclass
class INV(BehaviouralTest):
    """Invariance: each perturbed text must keep its original's predicted label."""

    originals: list[str] = field(default_factory=list)
    perturbed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = "INV"
        if len(self.originals) != len(self.perturbed) or not self.originals:
            raise ValueError(f"{self.name}: pass as many perturbed texts as originals (>= 1)")

    @classmethod
    def from_function(
        cls,
        name: str,
        texts: Sequence[str],
        perturb: Callable[[str, random.Random], str],
        capability: str = "",
        seed: int = 0,
    ) -> INV:
        """Pairs ``(text, perturb(text, rng))``; texts that the function leaves unchanged drop."""
        rng = random.Random(seed)
        pairs = [(t, perturb(t, rng)) for t in texts]
        pairs = [(a, b) for a, b in pairs if a != b]
        if not pairs:
            raise ValueError(f"{name}: the perturbation changed none of the {len(texts)} texts")
        return cls(
            name=name,
            capability=capability,
            originals=[a for a, _ in pairs],
            perturbed=[b for _, b in pairs],
        )

    def inputs(self) -> list[str]:
        return list(self.originals) + list(self.perturbed)

    def evaluate(self, probs, labels, label_map) -> pd.DataFrame:
        rows = []
        for orig, new in zip(self.originals, self.perturbed, strict=True):
            a, b = probs[orig], probs[new]
            pred = int(a.argmax())
            rows.append(
                {
                    "text": new,
                    "original": orig,
                    "expected": labels[pred],
                    "predicted": labels[int(b.argmax())],
                    "p_expected": float(b[pred]),
                    "change": float(b[pred] - a[pred]),
                    "passed": int(b.argmax()) == pred,
                }
            )
        return pd.DataFrame(rows)


@dataclass
class DIR(BehaviouralTest):
    """Directional expectation: p(``label``) must not move against ``direction``.

    A case fails when p(label) falls by more than ``tolerance`` (``direction="up"``) or rises
    by more than ``tolerance`` (``"down"``).
    """

    originals: list[str] = field(default_factory=list)
    perturbed: list[str] = field(default_factory=list)
    label: str = "positive"
    direction: str = "up"
    tolerance: float = 0.1

    def __post_init__(self) -> None:
        self.kind = "DIR"
        if self.direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {self.direction!r}")
        if len(self.originals) != len(self.perturbed) or not self.originals:
            raise ValueError(f"{self.name}: pass as many perturbed texts as originals (>= 1)")

    @classmethod
    def from_function(
        cls,
        name: str,
        texts: Sequence[str],
        perturb: Callable[[str, random.Random], str],
        label: str,
        direction: str,
        capability: str = "",
        tolerance: float = 0.1,
        seed: int = 0,
    ) -> DIR:
        rng = random.Random(seed)
        pairs = [(t, perturb(t, rng)) for t in texts]
        return cls(
            name=name,
            capability=capability,
            originals=[a for a, _ in pairs],
            perturbed=[b for _, b in pairs],
            label=label,
            direction=direction,
            tolerance=tolerance,
        )

    def inputs(self) -> list[str]:
        return list(self.originals) + list(self.perturbed)

    def evaluate(self, probs, labels, label_map) -> pd.DataFrame:
        k = list(target_indices(labels, self.label, label_map))
        shown = _shown(labels, k, self.label)
        sign = 1.0 if self.direction == "up" else -1.0
        rows = []
        for orig, new in zip(self.originals, self.perturbed, strict=True):
            change = float(probs[new][k].sum() - probs[orig][k].sum())
            rows.append(
                {
                    "text": new,
                    "original": orig,
                    "expected": f"p({shown}) {self.direction}",
                    "predicted": labels[int(probs[new].argmax())],
                    "p_expected": float(probs[new][k].sum()),
                    "change": change,
                    "passed": sign * change >= -self.tolerance,
                }
            )
        return pd.DataFrame(rows)


def _shown(labels, indices, name: str) -> str:
    """How an expected label is shown: its one class's name, or the role for several classes."""
    return labels[indices[0]] if len(indices) == 1 else str(name)


# --------------------------------------------------------------------------- the built-in suite


def _suffix(options: str) -> Callable[[str, random.Random], str]:
    def add(text: str, rng: random.Random) -> str:
        return text.rstrip() + " " + rng.choice(lexicon()[options])

    return add


def _swap_slot(test: dict, words: dict, n: int, seed: int) -> INV:
    """INV pairs: the same templated sentence with two different words in ``test['slot']``."""
    rng = random.Random(seed)
    slot = test["slot"]
    originals, perturbed = [], []
    per = max(1, n // len(test["templates"]))
    for j, template in enumerate(test["templates"]):
        for base in expand(template, words, per, seed + j, **{slot: "\0"}):
            a, b = rng.sample(list(words[slot]), 2)
            originals.append(base.replace("\0", a))
            perturbed.append(base.replace("\0", b))
    return INV(
        name=test["name"], capability=test["capability"], originals=originals, perturbed=perturbed
    )


def default_tests(
    texts: Sequence[str] | None = None,
    n: int = DEFAULT_N,
    seed: int = 0,
    lexicon: dict | None = None,
) -> list[BehaviouralTest]:
    """interpkit's built-in suite: 8 MFTs, 5 INVs and 2 DIRs (labels negative/positive).

    ``texts`` are real sentences for the perturbation tests (typos, punctuation, neutral
    addition, clauses); without them, the MFT sentences are used. ``n`` bounds each test.
    """
    data = _data()
    words = lexicon if lexicon is not None else data["lexicon"]
    tests: list[BehaviouralTest] = [
        MFT.from_template(t["name"], t["templates"], t["label"], t["capability"], n, words, seed)
        for t in data["mft"]
    ]
    tests += [_swap_slot(t, words, n, seed) for t in data["inv_templates"]]
    if texts is None:
        texts = [t for test in tests[:2] for t in test.inputs()]
    base = random.Random(seed).sample(list(texts), min(n, len(texts)))
    tests += [
        INV.from_function("INV: typos", base, add_typo, "robustness", seed),
        INV.from_function(
            "INV: punctuation", base, lambda t, _: strip_punctuation(t), "robustness", seed
        ),
        INV.from_function(
            "INV: neutral sentence added", base, _suffix("neutral_addition"), "distraction", seed
        ),
        DIR.from_function(
            "DIR: positive clause added",
            base,
            _suffix("positive_clause"),
            "positive",
            "up",
            "direction",
            seed=seed,
        ),
        DIR.from_function(
            "DIR: negative clause added",
            base,
            _suffix("negative_clause"),
            "positive",
            "down",
            "direction",
            seed=seed,
        ),
    ]
    return tests


def run_tests(
    classifier: TextClassifier | Predictor,
    tests: Sequence[BehaviouralTest] | None = None,
    label_map: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run behavioural tests with ONE batched prediction over all their texts.

    Returns ``(cases, summary)``: ``cases`` has one row per case (``test``, ``kind``,
    ``capability``, ``text``, ``original``, ``expected``, ``predicted``, ``p_expected``,
    ``change``, ``passed``); ``summary`` one row per test (``test``, ``kind``, ``capability``,
    ``cases``, ``failures``, ``failure_rate``, ``example`` = the first failing text).
    """
    tests = default_tests() if tests is None else list(tests)
    if not tests:
        raise ValueError("no tests given: pass a list of MFT/INV/DIR tests or None")
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise ValueError(
            f"test names must be unique: {sorted(n for n in names if names.count(n) > 1)}"
        )
    predictor = audit_predictor(classifier)
    texts = list(dict.fromkeys(x for t in tests for x in t.inputs()))
    probs = dict(zip(texts, predictor.predict_proba(texts), strict=True))
    frames = []
    for test in tests:
        frame = test.evaluate(probs, predictor.labels, label_map)
        frame.insert(0, "capability", test.capability)
        frame.insert(0, "kind", test.kind)
        frame.insert(0, "test", test.name)
        frames.append(frame)
    cases = pd.concat(frames, ignore_index=True)
    summary = (
        cases.groupby("test", sort=False)
        .agg(
            kind=("kind", "first"),
            capability=("capability", "first"),
            cases=("passed", "size"),
            failures=("passed", lambda s: int((~s.astype(bool)).sum())),
        )
        .reset_index()
    )
    summary["failure_rate"] = summary["failures"] / summary["cases"]
    first_fail = cases[~cases["passed"].astype(bool)].groupby("test", sort=False)["text"].first()
    summary["example"] = summary["test"].map(first_fail).fillna("")
    return cases, summary
