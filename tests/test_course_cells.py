"""tools/course_cells.py: the Colab badge and install cell go in once, and stay up to date."""

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

from interpkit.course import COLAB_INSTALL_CELL, colab_badge

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _tool():
    spec = importlib.util.spec_from_file_location(
        "course_cells", ROOT / "tools" / "course_cells.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cc = _tool()


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 09 · A lesson\n\n**What you will learn**\n\n- things"),
            nbformat.v4.new_markdown_cell("Some prose before any code."),
            nbformat.v4.new_code_cell("import interpkit", execution_count=1),
            nbformat.v4.new_code_cell("x = 1", execution_count=2),
        ]
    )
    nbformat.write(nb, path)
    return path


def test_inserts_badge_after_the_title_and_install_cell_before_the_first_code(tmp_path):
    path = _notebook(tmp_path / "09_lesson.ipynb")
    assert cc.main([str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    badge = colab_badge("notebooks/09_lesson.ipynb")  # outside the repository: notebooks/NAME
    assert nb.cells[0].source == (
        f"# 09 · A lesson\n\n{badge}\n\n**What you will learn**\n\n- things"
    )
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code", "code", "code"]
    install = nb.cells[2]
    assert install.source == COLAB_INSTALL_CELL.rstrip("\n")
    assert install.metadata["tags"] == ["colab-install"]
    assert nb.cells[3].source == "import interpkit"
    nbformat.validate(nb)


def test_second_run_changes_nothing(tmp_path):
    path = _notebook(tmp_path / "09_lesson.ipynb")
    cc.main([str(path)])
    first = path.read_bytes()
    assert cc.main(["--check", str(path)]) == 0
    assert cc.main([str(path)]) == 0
    assert path.read_bytes() == first
    assert not list(tmp_path.glob("*.tmp"))


def test_stale_cells_are_brought_up_to_date(tmp_path):
    path = _notebook(tmp_path / "09_lesson.ipynb")
    cc.main([str(path)])
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("blob/main", "blob/old-branch")
    nb.cells[2].source = "# an older install cell"
    nb.cells.insert(2, nb.cells.pop(3))  # a code cell moved above it
    nbformat.write(nb, path)
    assert cc.main(["--check", str(path)]) == 1
    assert nbformat.read(path, as_version=4) == nb  # --check writes nothing
    cc.main([str(path)])
    fixed = nbformat.read(path, as_version=4)
    assert fixed.cells[0].source.count("colab-badge.svg") == 1
    assert "blob/main/notebooks/09_lesson.ipynb" in fixed.cells[0].source
    assert fixed.cells[2].source == COLAB_INSTALL_CELL.rstrip("\n")
    assert fixed.cells[3].source == "import interpkit"
    assert len(fixed.cells) == 5


def test_badge_needs_an_h1_title():
    with pytest.raises(ValueError, match="H1 title"):
        cc.with_badge("Not a title", "badge")


def test_badge_points_at_the_path_inside_the_repository():
    assert cc.repo_path(ROOT / "notebooks" / "02_attention.ipynb") == "notebooks/02_attention.ipynb"


CARRYING = [
    p for p in NOTEBOOKS if cc.install_cell_index(nbformat.read(p, as_version=4)) is not None
]


@pytest.mark.parametrize(
    "path",
    CARRYING
    or [
        pytest.param(
            None,
            marks=pytest.mark.skip(
                reason="no course notebook has the Colab install cell yet: run "
                "tools/course_cells.py (docs/teaching.md)"
            ),
        )
    ],
    ids=lambda p: p.name if p else "none",
)
def test_course_notebooks_carry_the_current_badge_and_install_cell(path):
    """The notebook authors add the cells; from then on they must match the canonical ones."""
    nb = nbformat.read(path, as_version=4)
    assert not cc.ensure_course_cells(nb, cc.repo_path(path)), "run tools/course_cells.py"
