"""Student editions (tools/student_edition.py): no solution survives, every check fails on the
stub with its hint and passes on the instructor's solution. Tested on tests/fixtures/course/
(tiny random BERT) and on every course notebook whose exercises are tagged (docs/teaching.md)."""

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "course" / "exercises.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _tool():
    spec = importlib.util.spec_from_file_location(
        "student_edition", ROOT / "tools" / "student_edition.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


se = _tool()


def _read(path=FIXTURE):
    return nbformat.read(path, as_version=4)


def _tagged(nb, tag):
    return [i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", [])]


def _marked_lines(nb) -> set[str]:
    """Solution text, found independently of the tool: lines between the markers and whole
    written answers, minus lines that also appear outside every solution."""
    hidden, public = set(), set()
    for cell in nb.cells:
        inside = False
        lines = cell.source.splitlines()
        solution = "solution" in cell.metadata.get("tags", [])
        whole = (
            solution and cell.cell_type == "markdown" and "### BEGIN SOLUTION" not in cell.source
        )
        for line in lines:
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif line.strip():
                (hidden if (inside or whole) else public).add(line.strip())
    return hidden - public


# --------------------------------------------------------------------------- lint


def test_fixture_follows_the_convention():
    nb = _read()
    assert se.lint(nb) == []
    assert [e.grade_id for e in se.exercises(nb)] == ["ex1-check", "ex2-check", "ex3-check"]
    assert [e.solutions for e in se.exercises(nb)][2] == [10, 11]  # two cells, one check


def _solution_meta(nb, index):
    return nb.cells[index].metadata["nbgrader"]


MUTATIONS = {
    "duplicate grade_id": (
        lambda nb: _solution_meta(nb, 7).update(grade_id="ex1-solution"),
        "grade_id 'ex1-solution' already used by cell 4",
    ),
    "grade_id with a space": (
        lambda nb: _solution_meta(nb, 4).update(grade_id="ex 1"),
        "grade_id 'ex 1' must be letters",
    ),
    "END without BEGIN": (
        lambda nb: setattr(nb.cells[4], "source", "x = 1\n### END SOLUTION"),
        "'### END SOLUTION' without",
    ),
    "BEGIN never closed": (
        lambda nb: setattr(nb.cells[4], "source", "### BEGIN SOLUTION\nx = 1"),
        "is never closed",
    ),
    "marker shares a line": (
        lambda nb: setattr(nb.cells[4], "source", "x = 1  ### BEGIN SOLUTION\n### END SOLUTION"),
        "must be alone on its line",
    ),
    "END at another indentation": (
        lambda nb: setattr(
            nb.cells[4], "source", "def f():\n    ### BEGIN SOLUTION\n    x = 1\n### END SOLUTION"
        ),
        "indented unlike",
    ),
    "empty solution": (
        lambda nb: setattr(nb.cells[4], "source", "### BEGIN SOLUTION\n### END SOLUTION"),
        "empty solution",
    ),
    "code solution without markers": (
        lambda nb: setattr(nb.cells[4], "source", "best = texts[0]"),
        "a code solution needs",
    ),
    "check without check()": (
        lambda nb: setattr(nb.cells[5], "source", "assert best in texts"),
        "put the asserts inside `with check(hint):`",
    ),
    "check that does not parse": (
        lambda nb: setattr(nb.cells[5], "source", "with check('h'):\nassert x"),
        "the check does not parse",
    ),
    "missing nbgrader metadata": (
        lambda nb: nb.cells[4].metadata.pop("nbgrader"),
        "cell 4 (solution): no metadata.nbgrader",
    ),
    "solution marked graded": (
        lambda nb: _solution_meta(nb, 4).update(grade=True),
        "cell 4 (solution): nbgrader grade must be false",
    ),
    "check not locked": (
        lambda nb: _solution_meta(nb, 5).update(locked=False),
        "cell 5 (check): nbgrader locked must be true",
    ),
    "check without points": (
        lambda nb: _solution_meta(nb, 5).pop("points"),
        "a graded cell needs nbgrader points",
    ),
    "old schema": (
        lambda nb: _solution_meta(nb, 4).update(schema_version=2),
        "schema_version must be 3",
    ),
    "unknown nbgrader key": (
        lambda nb: _solution_meta(nb, 4).update(hint="x"),
        "unknown keys ['hint']",
    ),
    "written answer not graded (nbgrader requires it)": (
        lambda nb: _solution_meta(nb, 14).update(grade=False),
        "cell 14 (solution): nbgrader grade must be true",
    ),
    "check with no solution before it": (
        lambda nb: nb.cells.insert(3, copy.deepcopy(nb.cells[5])),
        "a check cell with no code solution cell before it",
    ),
    "solution with no check after it": (
        lambda nb: nb.cells.pop(12),
        "cell 11: a code solution with no check cell after it",
    ),
    "both tags": (
        lambda nb: nb.cells[4].metadata["tags"].append("check"),
        "tagged both",
    ),
    "nbgrader metadata on an untagged cell": (
        lambda nb: nb.cells[4].metadata.update(tags=[]),
        "nbgrader metadata but no 'solution'/'check' tag",
    ),
    "markers in an untagged cell": (
        lambda nb: setattr(nb.cells[2], "source", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        "solution markers in a cell not tagged",
    ),
}


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_lint_names_each_malformed_exercise(case):
    mutate, expected = MUTATIONS[case]
    nb = _read()
    mutate(nb)
    problems = se.lint(nb)
    assert any(expected in p for p in problems), problems
    with pytest.raises(se.EditionError, match="exercise cells are malformed"):
        se.student_edition(nb)


# --------------------------------------------------------------------------- the edition


def test_student_edition_hides_every_solution_and_keeps_the_rest():
    instructor = _read()
    student = se.student_edition(instructor)
    hidden = _marked_lines(instructor)
    assert len(hidden) == 8  # the fixture's solution lines (a check that the parser saw them)
    leaked = [
        line for c in student.cells for line in c.source.splitlines() if line.strip() in hidden
    ]
    assert leaked == []
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in student.cells)
    assert student.metadata["interpkit"] == {"edition": "student"}
    # the stub: scaffolding kept, the answer variables the check reads reset to ...
    assert student.cells[4].source == (
        "# the positive class is column 1 of probs\n# YOUR CODE HERE\n"
        "positive = ...\nbest = ...\nprint(best)"
    )
    assert "def share_positive(texts):" in student.cells[7].source
    assert "    pass  # YOUR CODE HERE" in student.cells[7].source
    assert student.cells[10].source == "config = clf.model.config\n# YOUR CODE HERE\nn_layers = ..."
    assert student.cells[14].source == "*Write your answer here.*"
    # checks kept word for word; tagged so that Run All goes on when they fail
    for index in _tagged(instructor, "check"):
        assert student.cells[index].source == instructor.cells[index].source
        assert "raises-exception" in student.cells[index].metadata["tags"]
        assert (
            student.cells[index].metadata["nbgrader"]
            == (instructor.cells[index].metadata["nbgrader"])
        )
    # the Colab badge would open the instructor edition: the student edition has none
    assert "colab-badge.svg" in instructor.cells[0].source
    assert "colab-badge.svg" not in student.cells[0].source
    assert student.cells[0].source.startswith("# Fixture: exercises")
    assert instructor == _read()  # the instructor edition is untouched


def test_make_student_writes_the_editions_and_is_repeatable(tmp_path):
    out = tmp_path / "student"
    assert se.main([str(FIXTURE), "--out", str(out)]) == 0
    first = (out / FIXTURE.name).read_bytes()
    assert se.main([str(FIXTURE), "--out", str(out)]) == 0
    assert (out / FIXTURE.name).read_bytes() == first
    assert not list(out.glob("*.tmp"))
    nbformat.validate(nbformat.reads(first.decode(), as_version=4))


def test_makefile_student_target_runs_the_tool_on_the_notebooks():
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "student"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in dry.splitlines() if "student_edition.py" in line)
    assert "--out build/student" in line and "notebooks/" in line


# --------------------------------------------------------------------------- running it


def test_student_runs_top_to_bottom_each_check_failing_with_its_hint(tmp_path):
    """What a student sees on Run All: one short ✗ line per exercise, and the notebook goes on."""
    student = se.student_edition(_read())
    NotebookClient(
        student, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    hints = {
        5: "✗ Exercise 1 is not solved yet. Hint: take column 1 of probs",
        8: "✗ Exercise 2 is not solved yet. Hint: argmin instead of argmax",
        12: "✗ Exercise 3 is not solved yet. Hint: num_hidden_layers",
    }
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if index not in hints:
            assert errors == [], f"cell {index} raised in the student edition"
            continue
        assert len(errors) == 1 and errors[0].ename == "CheckFailed"
        shown = "\n".join(errors[0].traceback)
        assert shown.startswith(hints[index])
        assert "Traceback" not in shown and "File " not in shown  # no frames, just the hint
    install = student.cells[_tagged(student, "colab-install")[0]]
    assert install.outputs == []  # the Colab cell does nothing in a real kernel elsewhere
    last = "".join(o.get("text", "") for o in student.cells[-1].outputs)
    assert last == "the end of the notebook was reached\n"


def test_verify_fixture_in_one_execution():
    report = se.verify(FIXTURE, timeout=120)
    assert report.exercises == ["ex1-check", "ex2-check", "ex3-check"]
    assert report.problems == []


def _exercise_notebook(path: Path, cells: list) -> Path:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    nbformat.write(nb, path)
    return path


def _solution(source, gid):
    meta = dict(solution=True, grade=False, locked=False, grade_id=gid, schema_version=3)
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["solution"], "nbgrader": meta})


def _check(source, gid):
    meta = dict(grade=True, solution=False, locked=True, points=1, grade_id=gid, schema_version=3)
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["check"], "nbgrader": meta})


def test_verify_reports_weak_checks_and_wrong_solutions(tmp_path):
    path = _exercise_notebook(
        tmp_path / "bad.ipynb",
        [
            nbformat.v4.new_code_cell("from interpkit.course import check"),
            _solution("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "a"),
            _check("with check('x is one'):\n    assert True", "a-check"),
            _solution("### BEGIN SOLUTION\ny = 2\n### END SOLUTION", "b"),
            _check("with check('y is three'):\n    assert y == 3", "b-check"),
            _solution("### BEGIN SOLUTION\nz = 3\n### END SOLUTION", "c"),
            _check("with check('z is three'):\n    assert z == 3", "c-check"),
        ],
    )
    report = se.verify(path, timeout=60)
    assert report.exercises == ["a-check", "b-check", "c-check"]
    assert len(report.problems) == 2
    assert report.problems[0].startswith("a-check: the check passes on the stub")
    assert report.problems[1].startswith("b-check: fails with the instructor's solution")


def test_verify_reports_a_cell_that_stops_the_student_edition(tmp_path):
    path = _exercise_notebook(
        tmp_path / "stops.ipynb",
        [
            nbformat.v4.new_code_cell("from interpkit.course import check"),
            _solution("### BEGIN SOLUTION\nw = 5\n### END SOLUTION", "w"),
            nbformat.v4.new_code_cell("w + 1  # reads the answer before the check"),
            _check("with check('w is five'):\n    assert w == 5", "w-check"),
        ],
    )
    report = se.verify(path, timeout=60)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("cell 2 raises in the student edition")


# --------------------------------------------------------------------------- the course


def _has_exercises(path: Path) -> bool:
    nb = _read(path)
    return bool(_tagged(nb, "solution") or _tagged(nb, "check"))


TAGGED = [p for p in NOTEBOOKS if _has_exercises(p)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_course_notebook_exercise_cells_are_well_formed(path):
    assert se.lint(_read(path)) == []


@pytest.mark.parametrize(
    "path",
    TAGGED
    or [
        pytest.param(
            None,
            marks=pytest.mark.skip(
                reason="no course notebook has tagged exercise cells yet (docs/teaching.md)"
            ),
        )
    ],
    ids=lambda p: p.name if p else "none",
)
def test_course_notebook_checks_fail_on_stub_and_pass_on_solution(path):
    """One execution of the student edition per notebook (its cost: one more notebook run)."""
    report = se.verify(path, timeout=1200)
    assert report.exercises, "tagged cells but no exercise"
    assert report.problems == []
