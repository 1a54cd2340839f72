"""Course artefacts: models trained once, then cached, the same weights from any process.

An artefact is anything expensive and deterministic that a lesson only *loads*: the demo model
every notebook starts from, notebook 07's trained variants, a capstone's seeds. A
:class:`Recipe` says how to build one into a folder; the registry builds it the first time it
is asked for, into ``cache_dir() / recipe.folder`` (``$INTERPKIT_CACHE`` or
``~/.cache/interpkit``), and loads it from there afterwards:

- **once**: a file lock makes a second process (another kernel, Binder's ``postBuild``, a test
  run) wait for the first one's build and load it, instead of building the same folder;
- **atomically**: the build writes into a temporary folder renamed into place, so a killed
  build never leaves a half artefact that looks complete;
- **valid only as recorded**: the folder records the recipe's version and settings
  (``artefact.json``); when they differ from the recipe's (the recipe changed), the artefact is
  rebuilt, with a warning that says why;
- **retrain**: ``load_artefact(name, retrain=True)`` builds it again.

``python -m interpkit prepare`` (run by Binder's ``postBuild``, ``make lab`` and ``make test``)
builds every registered artefact not yet cached, so no notebook cell trains one.

Adding a recipe
---------------
Write a build function that trains into the folder it is given, and register it in a module
that ``interpkit.train`` imports (the demo's is :mod:`interpkit.train.demo`), so that
``python -m interpkit prepare`` sees it. The example ``tests/test_artefacts.py`` runs, on the
tiny model::

    from interpkit.train.artefacts import Recipe, register

    SETTINGS = dict(epochs=1, batch_size=8, learning_rate=1e-3, seed=0, precision="fp32")

    def build_tiny(folder, device, progress):
        from interpkit import fine_tune
        from interpkit.testing import tiny_classifier, tiny_dataset

        clf = tiny_classifier(seed=SETTINGS["seed"])  # the new head: the same in any process
        fine_tune(clf, tiny_dataset(), output_dir=folder, progress=progress, **SETTINGS)

    register(Recipe(name="tiny", version=1, build=build_tiny, settings=SETTINGS))

``load_artefact("tiny")`` then returns the model (the default ``load`` reads ``folder/model``,
where ``fine_tune`` saves it; pass ``load=`` for anything else, e.g. a dict of variants). For
the embedded model, draw the new head from the seed as the demo does
(``torch.manual_seed(seed)`` right before ``load_classifier()``; see ``demo._seeded_base``).
Change ``version`` (or the settings) when the recipe changes: cached copies are then rebuilt.
Train in fp32 (``precision="fp32"``) so that every machine type, Binder's included, builds the
same weights.

Example
-------
>>> from interpkit.train.artefacts import load_artefact, prepare
>>> prepare()                      # build what is not cached yet (minutes, once)
{'demo': 'cached'}
>>> clf = load_artefact("demo")    # a second
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import storage

if TYPE_CHECKING:
    from ..models import Classifier

#: The file in an artefact's folder that records what built it.
STAMP = "artefact.json"

#: ``build(folder, device, progress)``: train/write the artefact into ``folder``.
Build = Callable[[Path, str, bool], None]
#: ``load(folder, device)``: what :func:`load_artefact` returns.
Load = Callable[[Path, str], object]


class ArtefactRebuildWarning(UserWarning):
    """A cached artefact was built by another version or settings of its recipe: rebuilt."""


def cache_dir() -> Path:
    """Where interpkit keeps what it builds: ``$INTERPKIT_CACHE`` or ``~/.cache/interpkit``."""
    return Path(os.environ.get("INTERPKIT_CACHE") or Path.home() / ".cache" / "interpkit")


def _load_model(folder: Path, device: str) -> Classifier:
    """Load the classifier ``fine_tune`` saved in ``folder/model`` (the default ``load``)."""
    from ..models import load_classifier

    return load_classifier(folder / "model", device=device)


def _read_stamp(folder: Path) -> Mapping[str, Any] | None:
    """Read ``folder/artefact.json`` (the default ``recorded``; None: missing or unreadable)."""
    try:
        return json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Recipe:
    """How to build one cached artefact.

    Parameters
    ----------
    name : str
        The registry key (``load_artefact(name)``, ``python -m interpkit prepare NAME``).
    version : int
        Bump it when the build changes in a way the settings do not show.
    build : callable
        ``build(folder, device, progress)`` writes the artefact into ``folder`` (a fresh
        temporary folder renamed into place afterwards).
    settings : dict or callable, optional
        What decides the result (epochs, seed, precision, ...), JSON-able; a callable returning
        it is read at each check. Recorded at build time; a cached copy with other settings
        is rebuilt.
    load : callable, optional
        ``load(folder, device)``, the value :func:`load_artefact` returns (default: the
        classifier in ``folder/model``).
    folder : str, optional
        Its folder's name in :func:`cache_dir` (default ``"{name}-v{version}"``).
    recorded : callable, optional
        ``recorded(folder) -> {"version", "settings"} or None``: what built the cached copy
        (default: read from ``artefact.json``). For artefacts that can also be made outside the
        registry (the demo model, which notebook 01 trains with the same recipe).
    description : str, optional
        One line for listings.
    """

    name: str
    version: int
    build: Build
    settings: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict)
    load: Load = _load_model
    folder: str | None = None
    recorded: Callable[[Path], Mapping[str, Any] | None] = _read_stamp
    description: str = ""

    def current_settings(self) -> dict[str, Any]:
        """Return the settings as JSON values (a callable ``settings`` is called now)."""
        settings = self.settings() if callable(self.settings) else self.settings
        return storage.to_jsonable(dict(settings))

    def stale_reason(self, path: Path) -> str | None:
        """Why the copy in ``path`` cannot be used (None: it is complete and current)."""
        found = self.recorded(path) if path.is_dir() else None
        if found is None:
            return "not built yet"
        if found.get("version") != self.version:
            return f"built by version {found.get('version')} of the recipe, it is {self.version}"
        recorded = storage.to_jsonable(found.get("settings"))
        if recorded != self.current_settings():
            return f"built with settings {recorded}, the recipe says {self.current_settings()}"
        return None


_RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe, replace: bool = False) -> Recipe:
    """Add ``recipe`` to the registry (``replace=True`` to swap one of the same name)."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"register takes a Recipe, got {type(recipe).__name__}")
    if recipe.name in _RECIPES and not replace and _RECIPES[recipe.name] is not recipe:
        raise ValueError(
            f"an artefact named {recipe.name!r} is registered already: choose another name, "
            "or pass replace=True"
        )
    _RECIPES[recipe.name] = recipe
    return recipe


def recipes() -> dict[str, Recipe]:
    """Return the registered recipes by name, in registration order."""
    return dict(_RECIPES)


def get_recipe(name: str) -> Recipe:
    """Return the recipe registered as ``name`` (an error lists the others)."""
    if name not in _RECIPES:
        known = ", ".join(_RECIPES) or "none"
        raise ValueError(f"no artefact named {name!r}: the registered ones are {known}")
    return _RECIPES[name]


def artefact_dir(name: str) -> Path:
    """Return the folder of artefact ``name`` in :func:`cache_dir` (maybe not built yet)."""
    recipe = get_recipe(name)
    return cache_dir() / (recipe.folder or f"{recipe.name}-v{recipe.version}")


def _build(recipe: Recipe, path: Path, device: str, progress: bool) -> None:
    """Build into a temporary folder, stamp it, and rename it into ``path``."""

    def write(tmp: Path) -> None:
        started = time.perf_counter()
        recipe.build(tmp, device, progress)
        stamp = {
            "name": recipe.name,
            "version": recipe.version,
            "settings": recipe.current_settings(),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        storage.atomic_write_text(tmp / STAMP, json.dumps(stamp, indent=2))

    storage.atomic_write_dir(path, write)


def ensure_artefact(
    name: str, retrain: bool = False, device: str = "auto", progress: bool = True
) -> bool:
    """Build artefact ``name`` unless a current copy is cached; True when it was built.

    Holds the artefact's file lock throughout, so concurrent processes build it once.
    """
    from filelock import FileLock

    recipe = get_recipe(name)
    path = artefact_dir(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        reason = "retrain=True" if retrain else recipe.stale_reason(path)
        if reason is None:
            return False
        if path.exists() and not retrain:
            warnings.warn(
                f"rebuilding the cached artefact {name!r} in {path}: {reason}",
                ArtefactRebuildWarning,
                stacklevel=3,
            )
        _build(recipe, path, device, progress)
        return True


def load_artefact(
    name: str, retrain: bool = False, device: str = "auto", progress: bool = True
) -> object:
    """Artefact ``name``: built the first time (or when stale, or ``retrain``), then loaded.

    Parameters
    ----------
    name : str
        A registered recipe's name (see :func:`recipes`).
    retrain : bool, default False
        Build it again even when a current copy is cached.
    device : str, default "auto"
        Where to build and load it.
    progress : bool, default True
        Progress bars while building.

    Returns
    -------
    object
        What the recipe's ``load`` returns (a :class:`~interpkit.Classifier` by default).
    """
    ensure_artefact(name, retrain=retrain, device=device, progress=progress)
    return get_recipe(name).load(artefact_dir(name), device)


def prepare(
    names: Iterable[str] | None = None,
    retrain: bool = False,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, str]:
    """Build every registered artefact (or those named) that is not cached yet.

    Parameters
    ----------
    names : list of str, optional
        Which artefacts (default: all registered).
    retrain : bool, default False
        Build them again even when current copies are cached.
    device : str, default "auto"
        Where to build them.
    progress : bool, default True
        Progress bars while building.

    Returns
    -------
    dict
        ``{name: "built" | "cached"}`` in the order prepared.
    """
    chosen = list(_RECIPES) if names is None else [names] if isinstance(names, str) else list(names)
    for name in chosen:
        get_recipe(name)  # every name is checked before anything is built
    done = {}
    for name in chosen:
        built = ensure_artefact(name, retrain=retrain, device=device, progress=progress)
        done[name] = "built" if built else "cached"
    return done
