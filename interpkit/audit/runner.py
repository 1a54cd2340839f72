"""``audit(classifier, dataset)``: every audit step, one progress bar, one :class:`AuditReport`."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..predict import Predictor, TextClassifier
from ..validation import SentimentRoles, find_sentiment_roles, normalise_label_map, resolve_label
from ._common import Check, audit_predictor, merge_thresholds, sample_rows
from .behavioural import BehaviouralTest, default_tests, run_tests
from .calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    plot_reliability,
    reliability_table,
)
from .consistency import domain_metrics, slice_metrics
from .data_review import _frames, review_data
from .fairness import fairness, plot_fairness
from .report import MAX_EXAMPLES, STEPS, AuditReport, figure_png
from .robustness import adversarial_search, ranking_options, robustness

KEY_BY_KIND = {"MFT": "mft_failure_rate", "INV": "inv_failure_rate", "DIR": "dir_failure_rate"}
OUT_OF_DOMAIN_DEFAULT = ("tweets", "amazon", "nyt")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _examples(frame: pd.DataFrame) -> pd.DataFrame:
    """The first failing examples, without columns that say nothing (all empty, or ``passed``)."""
    frame = frame.head(MAX_EXAMPLES).reset_index(drop=True)
    empty = [
        c
        for c in frame.columns
        if c == "passed" or (len(frame) and frame[c].isna().all()) or (frame[c] == "").all()
    ]
    return frame.drop(columns=[c for c in empty if c != "text"])


def audit(
    classifier: TextClassifier | Predictor,
    dataset=None,
    *,
    split: str = "test",
    steps: Sequence[str] = STEPS,
    n_eval: int | None = None,
    out_of_domain: Sequence[str] = OUT_OF_DOMAIN_DEFAULT,
    n_out_of_domain: int | None = 500,
    n_perturb: int = 100,
    n_adversarial: int = 20,
    adversarial_method: str = "integrated_gradients",
    options: dict | None = None,
    tests: Sequence[BehaviouralTest] | None = None,
    slices: dict | None = None,
    n_boot: int = 100,
    temperature: bool = True,
    thresholds: dict | None = None,
    label_map: dict | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool = True,
    explain_options: dict | None = None,
) -> AuditReport:
    """Audit a sentiment classifier: data, behaviour, robustness, fairness, consistency,
    calibration.

    Parameters
    ----------
    classifier : interpkit.Classifier, any TextClassifier (``predict_proba(texts, batch_size)``
        and ``labels``), or a Predictor (its memory is shared: no text is predicted twice)
    dataset : DatasetDict, dict of DataFrames, or None
        Splits with ``text`` and ``label`` (``load_dataset()`` when None). ``split`` is the one
        evaluated; ``train`` (if present) is checked for leakage and ``validation`` fits the
        temperature.
    steps : subset of ``("data", "behavioural", "robustness", "fairness", "consistency",
        "calibration")``
    n_eval : int, optional
        Evaluate on a seeded sample of ``split`` (all of it by default).
    out_of_domain, n_out_of_domain :
        VADER sets compared with ``split`` (see :func:`interpkit.data.load_out_of_domain`),
        each a seeded sample of ``n_out_of_domain`` texts; ``()`` skips them.
    n_perturb : int
        Real texts used by the invariance/directional tests and random perturbations.
    n_adversarial, adversarial_method, options :
        Texts searched for the smallest flipping edit, the explainer that ranks their words
        (``"integrated_gradients"``, ``"lime"``, ...; needs an interpkit Classifier), and its
        options as ``{method: {option: value}}``, e.g. ``{"integrated_gradients": {"n_steps":
        32}}`` (``explain_options={...}``, the old form, still works with a
        DeprecationWarning). ``n_adversarial=0`` skips the search.
    tests : list of MFT/INV/DIR, optional
        Your behavioural tests, run with the built-in ones.
    slices : dict name -> (text -> bool), optional
        Your slices, added to the built-in ones.
    thresholds : dict, optional
        Pass/fail limits by key (see ``interpkit.audit.DEFAULT_THRESHOLDS``) or by check name.
    label_map : dict, optional
        Which classes are negative and which positive, for classifiers that are not a
        two-class negative/positive model: one class per role,
        ``{"negative": "LABEL_0", "positive": "LABEL_1"}``, or several,
        ``{"negative": ["very_negative", "negative"], "positive": ["positive",
        "very_positive"]}`` (classes in neither role, e.g. neutral, count as neither). It also
        maps data label names that are not the classifier's (``{"negative": "neg"}``).

    Labels
    ------
    Every step runs on any label set (2, 3, 5 classes, topics) except the ones about sentiment.
    **Any label set:** data review; robustness (a flip is a change of predicted class); the
    behavioural INV tests (a prediction compared with itself); consistency slices; calibration.
    **Needs a negative and a positive class:** the built-in MFT and DIR tests (sentiment
    templates with known labels), fairness (the selection rate is the share predicted
    positive) and the out-of-domain sets (VADER tweets, Amazon, NYT: labelled by the sign of a
    sentiment rating, scored by polarity). A two-class model labelled negative/positive (any
    order, any case) has them; for any other label set they are skipped unless ``label_map``
    names the classes, and each skipped part is a row with status ``"skipped"`` in the summary
    (HTML and JSON too) that says why. Nothing is scored against a guessed class.

    Example
    -------
    >>> report = interpkit.audit(interpkit.demo_classifier(), interpkit.load_dataset())
    >>> report.summary().query("status == 'fail'")
    """
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown audit step(s) {unknown}: choose from {', '.join(STEPS)}")
    limits = merge_thresholds(thresholds)
    started = time.perf_counter()
    predictor = audit_predictor(classifier, batch_size=batch_size)
    search = {
        adversarial_method: ranking_options(
            adversarial_method, options, explain_options, "explain_options="
        )
    }
    roles = find_sentiment_roles(predictor.labels, label_map)  # None: sentiment parts skipped
    if dataset is None:
        from ..data import load_dataset

        dataset = load_dataset()
    frames = _frames(dataset)
    if split not in frames:
        raise ValueError(f"no split {split!r} in the dataset: it has {', '.join(frames)}")
    evaluated = sample_rows(frames[split], n_eval, seed)
    evaluated = evaluated.assign(label=_class_ids(predictor, label_map, evaluated["label_name"]))
    real_texts = sample_rows(evaluated, n_perturb, seed)["text"].tolist()

    checks: list[Check] = []
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    figures: dict[str, bytes] = {}
    seconds: dict[str, float] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(steps), desc="audit", leave=False)
    for step in [s for s in STEPS if s in steps]:
        if bar is not None:
            bar.set_postfix_str(step)
        t0 = time.perf_counter()
        if step == "data":
            _data_step(dataset, split, checks, tables)
        elif step == "behavioural":
            _behavioural_step(predictor, real_texts, tests, label_map, roles, seed, checks, tables)
        elif step == "robustness":
            _robustness_step(
                predictor,
                real_texts,
                n_adversarial,
                adversarial_method,
                search,
                seed,
                progress,
                checks,
                tables,
            )
        elif step == "fairness":
            if roles is None:
                reason = _no_roles(
                    predictor, "fairness (selection rate = share predicted positive) needs"
                )
                checks.append(Check.skip("fairness", "fairness", reason))
            else:
                _fairness_step(predictor, n_boot, seed, label_map, checks, tables, figures)
        elif step == "consistency":
            train_movies = None
            if "train" in frames and "movie" in frames["train"].columns:
                train_movies = set(frames["train"]["movie"])
            _consistency_step(
                predictor,
                label_map,
                roles,
                evaluated,
                split,
                slices,
                train_movies,
                out_of_domain,
                n_out_of_domain,
                seed,
                checks,
                tables,
                figures,
            )
        elif step == "calibration":
            validation = None
            if temperature and "validation" in frames and split != "validation":
                validation = sample_rows(frames["validation"], n_eval, seed)
                validation = validation.assign(
                    label=_class_ids(predictor, label_map, validation["label_name"])
                )
            _calibration_step(predictor, evaluated, validation, checks, tables, figures)
        seconds[step] = round(time.perf_counter() - t0, 1)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    meta = {
        "model": predictor.name,
        "labels": list(predictor.labels),
        "sentiment_classes": roles.describe() if roles is not None else "none",
        "skipped": [c.name for c in checks if c.skipped],
        "split": split,
        "evaluated": len(evaluated),
        "steps": [s for s in STEPS if s in steps],
        "out_of_domain": list(out_of_domain) if "consistency" in steps else [],
        "n_out_of_domain": n_out_of_domain,
        "n_perturb": n_perturb,
        "n_adversarial": n_adversarial,
        "adversarial_method": adversarial_method,
        "seed": seed,
        "texts_predicted": predictor.texts_predicted,
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_step": seconds,
    }
    return AuditReport(
        checks=checks,
        tables=tables,
        figures=figures,
        thresholds=limits,
        meta=meta,
        classifier=predictor.classifier,
    )


# --------------------------------------------------------------------------- labels


def _class_ids(predictor: Predictor, label_map: dict | None, names: pd.Series) -> pd.Series:
    """Data label names as classifier class indices (a class, or a label_map key to one)."""
    mapping = normalise_label_map(predictor.labels, label_map)
    ids = {}
    for name in names.unique():
        try:
            ids[name] = resolve_label(predictor.labels, name)
            continue
        except ValueError:
            pass
        if len(mapping.get(str(name), ())) == 1:
            ids[name] = mapping[str(name)][0]
            continue
        several = (
            f" (label_map gives it {len(mapping[str(name)])} classes; calibration and slices "
            "need one)"
            if str(name) in mapping
            else ""
        )
        raise ValueError(
            f"the data's label {name!r} is not a class of the classifier "
            f"{list(predictor.labels)}{several}: pass label_map={{'{name}': '<class>'}} or data "
            "with the classifier's label names"
        )
    return names.map(ids)


def _no_roles(predictor: Predictor, what: str) -> str:
    """Why a sentiment step was skipped, and how to run it."""
    labels = ", ".join(repr(x) for x in predictor.labels)
    return (
        f"{what} a negative and a positive class, and this classifier's labels "
        f"({labels}) are not a negative/positive pair; pass label_map={{'negative': "
        f"[<classes>], 'positive': [<classes>]}} to run it"
    )


# --------------------------------------------------------------------------- steps


def _data_step(dataset, split, checks, tables) -> None:
    review = review_data(dataset)
    tables["data"] = review
    for _, row in review["duplicates"].iterrows():
        rate = max(row["exact_rate"], row["near_rate"])
        checks.append(
            Check(
                name=f"duplicates in {row['split']}",
                section="data",
                metric="duplicate share",
                value=rate,
                key="duplicate_rate",
                n=int(row["n"]),
                detail=f"{row['exact']} exact and {row['near']} near-duplicates (cosine >= 0.9)",
            )
        )
    pairs = review["near_duplicate_pairs"]
    for _, row in review["leakage"].iterrows():
        checks.append(
            Check(
                name=f"leakage: {row['split']} texts in train",
                section="data",
                metric="leaked share",
                value=row["leakage_rate"],
                key="leakage_rate",
                n=int(row["n"]),
                detail=f"{row['exact']} exact, {row['near']} near copies of training texts",
                examples=_examples(pairs[pairs["split"] == row["split"]]),
            )
        )
    for _, row in review["group_overlap"].iterrows():
        checks.append(
            Check(
                name=f"movie overlap: {row['split']} movies in train",
                section="data",
                metric="share of texts",
                value=row["texts_with_group_in_train"],
                key="group_overlap_rate",
                n=int(row["groups"]),
                detail=f"{row['groups_in_train']} of {row['groups']} movies also in train: "
                "scores measure known movies, not new ones",
            )
        )


def _behavioural_step(predictor, texts, extra, label_map, roles, seed, checks, tables) -> None:
    suite = default_tests(texts, seed=seed)
    if roles is None:  # the INVs compare a prediction with itself: any label set
        skipped = [t for t in suite if t.kind != "INV"]
        suite = [t for t in suite if t.kind == "INV"]
        what = (
            f"the {len(skipped)} built-in MFT and DIR tests (sentiment templates with known "
            "labels) need"
        )
        checks.append(Check.skip("MFT and DIR tests", "behavioural", _no_roles(predictor, what)))
    suite += list(extra or [])
    cases, summary = run_tests(predictor, suite, label_map)
    tables["behavioural"] = {"summary": summary, "cases": cases}
    for _, row in summary.iterrows():
        failed = cases[(cases["test"] == row["test"]) & ~cases["passed"].astype(bool)]
        checks.append(
            Check(
                name=row["test"],
                section="behavioural",
                metric="failure rate",
                value=row["failure_rate"],
                key=KEY_BY_KIND[row["kind"]],
                n=int(row["cases"]),
                detail=f"{row['failures']} of {row['cases']} cases fail ({row['capability']})",
                examples=_examples(failed.drop(columns=["test", "kind", "capability"])),
            )
        )


def _robustness_step(
    predictor, texts, n_adversarial, method, options, seed, progress, checks, tables
) -> None:
    flips = robustness(predictor, texts, seed=seed)
    rates = flips.groupby("perturbation")["flipped"].agg(["mean", "size"])
    out = {"perturbations": flips}
    for name, key in (("typo", "typo_flip_rate"), ("word_dropout", "word_dropout_flip_rate")):
        if name not in rates.index:
            continue
        failed = flips[(flips["perturbation"] == name) & flips["flipped"]]
        checks.append(
            Check(
                name=f"{name.replace('_', ' ')} flip rate",
                section="robustness",
                metric="flip rate",
                value=rates.loc[name, "mean"],
                key=key,
                n=int(rates.loc[name, "size"]),
                detail=f"{len(failed)} of {int(rates.loc[name, 'size'])} perturbed texts "
                "change label",
                examples=_examples(failed.drop(columns=["perturbation"])),
            )
        )
    if n_adversarial:
        subset = texts[:n_adversarial]
        guided = adversarial_search(
            predictor, subset, method=method, seed=seed, progress=progress, options=options
        )
        baseline = adversarial_search(predictor, subset, method="random", seed=seed)
        out["adversarial"] = guided
        out["adversarial_random"] = baseline
        hits = guided[guided["flipped"]]
        median = float(hits["words_changed"].median()) if len(hits) else float("nan")
        checks.append(
            Check(
                name=f"adversarial flip rate ({method})",
                section="robustness",
                metric="flip rate (<= 3 words)",
                value=float(guided["flipped"].mean()),
                key="adversarial_flip_rate",
                n=len(guided),
                detail=f"median {median:g} word(s) changed; random word order flips "
                f"{_pct(float(baseline['flipped'].mean()))}",
                examples=_examples(
                    hits.sort_values("words_changed")[
                        ["adversarial_text", "text", "edit", "label", "new_label", "p_new"]
                    ].rename(columns={"adversarial_text": "text", "text": "original"})
                ),
            )
        )
    tables["robustness"] = out


def _fairness_step(predictor, n_boot, seed, label_map, checks, tables, figures) -> None:
    groups, summary = fairness(predictor, n_boot=n_boot, seed=seed, label_map=label_map)
    cases = groups.attrs.pop("cases")
    tables["fairness"] = {"summary": summary, "groups": groups}
    for _, row in summary.iterrows():
        wrong = cases[(cases["attribute"] == row["attribute"]) & ~cases["correct"]]
        for metric, short, key in (
            ("demographic_parity_difference", "dpd", "demographic_parity_difference"),
            ("equal_opportunity_difference", "eod", "equal_opportunity_difference"),
        ):
            checks.append(
                Check(
                    name=f"{metric.replace('_', ' ')}: {row['attribute']}",
                    section="fairness",
                    metric=metric.replace("_", " "),
                    value=row[metric],
                    key=key,
                    n=int(row["n"]),
                    detail=f"95% CI {row[f'{short}_low']:.3f}-{row[f'{short}_high']:.3f}; "
                    f"lowest selection: {row['lowest_selection']}, highest: "
                    f"{row['highest_selection']}",
                    examples=_examples(
                        wrong[["text", "group", "label", "predicted", "p_positive"]]
                    ),
                )
            )
    figures["fairness"] = figure_png(plot_fairness(groups).figure)


def _consistency_step(
    predictor,
    label_map,
    roles: SentimentRoles | None,
    evaluated,
    split,
    slices,
    train_movies,
    out_of_domain,
    n_ood,
    seed,
    checks,
    tables,
    figures,
) -> None:
    from ..data import load_out_of_domain
    from .consistency import default_slices

    all_slices = {**default_slices(), **(slices or {})}
    by_slice = slice_metrics(predictor, evaluated, all_slices, train_movies=train_movies)
    errors, masks = by_slice.attrs.pop("errors"), by_slice.attrs.pop("masks")
    for _, row in by_slice.iloc[1:].iterrows():
        if row["n"] == 0:
            continue
        checks.append(
            Check(
                name=f"slice: {row['slice']}",
                section="consistency",
                metric="accuracy gap",
                value=row["gap"],
                key="slice_accuracy_gap",
                n=int(row["n"]),
                detail=f"accuracy {row['accuracy']:.3f} vs {by_slice['accuracy'].iloc[0]:.3f} "
                "overall",
                examples=_examples(errors[masks[row["slice"]]][["text", "expected", "predicted"]]),
            )
        )
    domains = {f"movies ({split})": evaluated}
    if roles is None and out_of_domain:
        checks.append(
            Check.skip(
                f"domains: {', '.join(out_of_domain)}",
                "consistency",
                _no_roles(predictor, "comparing with the out-of-domain sentiment sets needs"),
            )
        )
    elif roles is not None:
        for name in out_of_domain:
            ood = load_out_of_domain(name, n=n_ood, seed=seed)  # label 1 = positive rating
            domains[name] = ood.assign(label=ood["label"].map({0: "negative", 1: "positive"}))
    by_domain = domain_metrics(predictor, domains, label_map=label_map)
    domain_errors = by_domain.attrs.pop("errors")
    left_out = by_domain.attrs.pop("left_out")
    by_domain.attrs.clear()
    reference = by_domain.iloc[0]
    scope = (
        f" ({left_out[reference['domain']]} in-domain texts of a class in neither role left out)"
        if left_out.get(reference["domain"])
        else ""
    )
    for _, row in by_domain.iloc[1:].iterrows():
        wrong = domain_errors[row["domain"]].sort_values("confidence", ascending=False)
        checks.append(
            Check(
                name=f"domain: {row['domain']}",
                section="consistency",
                metric="accuracy drop",
                value=row["drop"],
                key="domain_accuracy_drop",
                n=int(row["n"]),
                detail=f"accuracy {row['accuracy']:.3f} vs {reference['accuracy']:.3f} in "
                f"domain{scope}; {_shares(row)}",
                examples=_examples(wrong[["text", "expected", "predicted", "confidence"]]),
            )
        )
    tables["consistency"] = {"slices": by_slice, "domains": by_domain}
    figures["consistency"] = figure_png(_plot_consistency(by_slice, by_domain))


def _shares(row) -> str:
    """'predicts positive 0.0% and negative 100.0%; truth: positive 77.5%, negative 22.5%'."""
    text = (
        f"predicts positive {_pct(row['predicted_positive_share'])} and negative "
        f"{_pct(row['predicted_negative_share'])}"
    )
    other = 1 - row["predicted_positive_share"] - row["predicted_negative_share"]
    if other > 1e-9:
        text += f" (another class {_pct(other)})"
    return (
        f"{text}; truth: positive {_pct(row['positive_share'])}, negative "
        f"{_pct(row['negative_share'])}"
    )


def _plot_consistency(by_slice: pd.DataFrame, by_domain: pd.DataFrame):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    for ax, frame, col in ((left, by_slice, "slice"), (right, by_domain, "domain")):
        frame = frame.dropna(subset=["accuracy"])
        y = np.arange(len(frame))[::-1]
        ax.barh(y, frame["accuracy"], color="#8fa8c8")
        ax.set_yticks(y, [f"{n} (n={k})" for n, k in zip(frame[col], frame["n"], strict=True)])
        ax.axvline(float(frame["accuracy"].iloc[0]), color="#d62728", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_xlabel("accuracy")
        ax.tick_params(axis="y", labelsize=8)
    left.set_title("slices of the evaluation split", fontsize=10)
    right.set_title("domains", fontsize=10)
    fig.tight_layout()
    return fig


def _calibration_step(predictor, evaluated, validation, checks, tables, figures) -> None:
    probs = predictor.predict_proba(evaluated["text"].tolist())
    y = evaluated["label"].to_numpy().astype(int)
    ece = expected_calibration_error(probs, y)
    curves = {"model": reliability_table(probs, y)}
    detail = "10 equal-width confidence bins"
    stats = {"ece": ece}
    if validation is not None:
        temp = fit_temperature(
            predictor.predict_proba(validation["text"].tolist()),
            validation["label"].to_numpy().astype(int),
        )
        scaled = apply_temperature(probs, temp)
        ece_t = expected_calibration_error(scaled, y)
        curves[f"temperature {temp:.2f}"] = reliability_table(scaled, y)
        detail += f"; temperature scaling (T = {temp:.2f}, fitted on validation) gives {ece_t:.3f}"
        stats.update(temperature=temp, ece_after_temperature=ece_t)
    conf = probs.max(axis=1)
    wrong = probs.argmax(axis=1) != y
    worst = evaluated.assign(
        expected=[predictor.labels[i] for i in y],
        predicted=[predictor.labels[i] for i in probs.argmax(axis=1)],
        confidence=conf,
    )[wrong].sort_values("confidence", ascending=False)
    checks.append(
        Check(
            name="expected calibration error",
            section="calibration",
            metric="ECE",
            value=ece,
            key="ece",
            n=len(y),
            detail=detail,
            examples=_examples(worst[["text", "expected", "predicted", "confidence"]]),
        )
    )
    table = pd.concat([t.assign(curve=name) for name, t in curves.items()], ignore_index=True)
    tables["calibration"] = {"reliability": table, "ece": pd.DataFrame([stats])}
    figures["calibration"] = figure_png(plot_reliability(curves).figure)
