"""Give each course notebook its "Open in Colab" badge and Colab install cell (idempotent).

The badge goes into the title cell, on its own line after the H1; the install cell (source:
``interpkit.course.COLAB_INSTALL_CELL``, tagged ``colab-install``) becomes the first code cell.
Run it again after the canonical cell changes: it rewrites what differs and nothing else, so a
second run leaves every file byte for byte as it was. Re-execute the notebooks afterwards
(``make notebooks``): a new cell has no execution count yet.

Usage
-----
    python tools/course_cells.py notebooks/[0-9][0-9]_*.ipynb
    python tools/course_cells.py --check notebooks/*.ipynb   # exit 1 if any would change
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interpkit.course import COLAB_BADGE_IMAGE, COLAB_INSTALL_CELL, colab_badge  # noqa: E402

INSTALL_TAG = "colab-install"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def repo_path(path: Path) -> str:
    """``path`` as the repository names it (what Colab's GitHub address needs)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return f"notebooks/{path.name}"


def with_badge(title_source: str, badge: str) -> str:
    """The title cell with ``badge`` on the line after the H1 (replacing an older badge)."""
    lines = title_source.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("the first cell must open with an H1 title ('# ...') to carry the badge")
    for number, line in enumerate(lines):
        if COLAB_BADGE_IMAGE in line:
            lines[number] = badge
            return "\n".join(lines)
    rest = lines[1:]
    while rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join([lines[0], "", badge, *([""] + rest if rest else [])])


def install_cell_index(nb) -> int | None:
    return next(
        (i for i, c in enumerate(nb.cells) if INSTALL_TAG in c.get("metadata", {}).get("tags", [])),
        None,
    )


def ensure_course_cells(nb, notebook: str) -> bool:
    """Put the badge and the install cell into ``nb`` in place; True when anything changed."""
    changed = False
    title = nb.cells[0]
    new_title = with_badge(_source(title), colab_badge(notebook))
    if new_title != _source(title):
        title.source, changed = new_title, True

    wanted = COLAB_INSTALL_CELL.rstrip("\n")
    index = install_cell_index(nb)
    if index is not None:
        cell = nb.cells[index]
        if _source(cell) != wanted:
            cell.source, changed = wanted, True
        if all(c.cell_type != "code" for c in nb.cells[:index]):
            return changed  # already the first code cell
        nb.cells.pop(index)
    else:
        cell = nbformat.v4.new_code_cell(wanted, metadata={"tags": [INSTALL_TAG]})
        if nb.nbformat_minor < 5:
            cell.pop("id", None)
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    return True


def update(path: Path, check_only: bool = False) -> bool:
    """Update ``path`` (atomically) unless ``check_only``; True when it needed a change."""
    nb = nbformat.read(path, as_version=4)
    changed = ensure_course_cells(nb, repo_path(path))
    if changed and not check_only:
        tmp = path.with_name(path.name + ".tmp")
        nbformat.write(nb, tmp)
        tmp.replace(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    stale = [path for path in args.notebooks if update(path, check_only=args.check)]
    for path in stale:
        print(f"{path}: {'needs' if args.check else 'updated:'} Colab badge / install cell")
    if stale and not args.check:
        print("re-execute them (make notebooks): the install cell has no execution count yet")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
