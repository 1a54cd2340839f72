"""One way to pass a method's options next to its name: ``options={method: {option: value}}``.

Functions and views that run a method by name take its options as ``options={method:
{option: value}}`` (:func:`method_options`): ``evaluate_explanations``, ``CompareView``,
``audit``, ``adversarial_search``, ``global_importance``, ``seed_stability``,
``edit_stability``, ``surrogate_fidelity``. The old forms (a flat ``options`` dict,
``explain_options=``, ``**options``) keep working with a ``DeprecationWarning`` that shows the
new call; old option spellings are translated (:mod:`interpkit.explainers.vocabulary`).

Example
-------
>>> interpkit.evaluate_explanations(clf, texts, methods=["lime", "integrated_gradients"],
...                                 options={"lime": {"n_samples": 300}})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import _REGISTRY, get_explainer, warn_user


def _is_nested(options: Mapping[str, Any]) -> bool:
    """Tell whether ``options`` is keyed by registered method names (``{method: {...}}``)."""
    methods = [key for key in options if key in _REGISTRY]
    if methods and len(methods) != len(options):
        other = next(key for key in options if key not in _REGISTRY)
        raise ValueError(
            f"options mixes method names ({', '.join(map(repr, methods))}) with the option "
            f"{other!r}: pass options={{method: {{option: value}}}}"
        )
    return bool(methods)


def _warn_old_form(old: str, method: str, values: Mapping[str, Any]) -> None:
    warn_user(
        f"{old} is deprecated and will stop working in a future version: pass the method's "
        f"options as options={{{method!r}: {dict(values)!r}}}",
        DeprecationWarning,
    )


def method_options(
    methods: Sequence[str],
    options: Mapping[str, Any] | None = None,
    *,
    old: Mapping[str, Any] | None = None,
    old_name: str = "**options",
) -> dict[str, dict[str, Any]]:
    """Return ``{method: {option: value}}`` for each of ``methods``, from any accepted form.

    Parameters
    ----------
    methods : sequence of str
        The registered methods the caller runs.
    options : dict, optional
        ``{method: {option: value}}``. A flat ``{option: value}`` dict is accepted for a single
        method (deprecated, with a warning that shows the nested form).
    old : dict, optional
        Options given the old way for the (single) method: ``explain_options=`` or
        ``**options``. Deprecated: a warning names ``options={method: {...}}``.
    old_name : str
        How the caller spelled the old form, for the warning (e.g. ``"explain_options="``).

    Old option spellings (``num_samples``, ``internal_batch_size``, IG's ``method``) are
    translated with a DeprecationWarning; options for a method not in ``methods`` are an error.
    """
    names = [methods] if isinstance(methods, str) else list(methods)
    nested = _nested_options(names, options)
    if old:
        if len(names) != 1:
            raise ValueError(f"{old_name} applies to one method: pass options={{method: {{...}}}}")
        if nested.get(names[0]):
            raise ValueError(
                f"options for {names[0]!r} were given twice, in options= and in {old_name}: "
                "pass options= only"
            )
        _warn_old_form(old_name, names[0], old)
        nested[names[0]] = dict(old)
    return {m: get_explainer(m).translate_options(nested.get(m, {})) for m in names}


def _nested_options(names: list[str], options: Mapping[str, Any] | None) -> dict[str, dict]:
    """``options`` as ``{method: dict}``: nested as given, or a flat dict for a single method."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(
            f"options must be a dict {{method: {{option: value}}}}, got {type(options).__name__}"
        )
    if not options:
        return {}
    if _is_nested(options):
        unused = [m for m in options if m not in names]
        if unused:
            raise ValueError(f"options given for {unused[0]!r}, which is not in methods {names}")
        for method, values in options.items():
            if not isinstance(values, Mapping):
                raise TypeError(
                    f"options[{method!r}] must be a dict of that method's options, e.g. "
                    f"{{'n_samples': 300}}, got {values!r}"
                )
        return {m: dict(v) for m, v in options.items()}
    if len(names) != 1:
        key = next(iter(options))
        raise ValueError(
            f"options must be keyed by method ({names}), got the option {key!r}: pass "
            f"options={{{names[0]!r}: {{{key!r}: ...}}}}"
        )
    _warn_old_form("a flat options= dict", names[0], options)
    return {names[0]: dict(options)}
