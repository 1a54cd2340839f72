"""Student editions of the course notebooks, and a check that every exercise check works.

The repository's notebooks are the instructor edition. In them an exercise is one or more
*solution* cells followed by a *check* cell (cell tags ``solution`` / ``check`` and nbgrader's
cell metadata, so a course on nbgrader can take the notebooks as they are; see
docs/teaching.md). The student edition (``make student`` -> ``build/student/``) is the same
notebook with every output cleared, each solution replaced by a stub and each check kept:

- code solution: the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` become
  ``# YOUR CODE HERE`` plus ``name = ...`` for each variable the solution assigns and the check
  reads (so a stale value from earlier in the notebook can never pass the check); lines
  outside the markers are scaffolding the student keeps;
- markdown solution (a written answer): the marked lines, or the whole cell, become
  "*Write your answer here.*";
- check cell: kept, and tagged ``raises-exception`` so that JupyterLab's Run All goes on to
  the next exercise when it fails (its failure is one line with a hint: ``interpkit.course.check``).

``verify()`` proves the mechanism on a notebook in ONE execution of its student edition: cell
by cell in one kernel; at each check cell it requires the check to fail on the stub, then runs
the instructor's solution cells in the same kernel, requires the check to pass, and goes on.

Usage
-----
    python tools/student_edition.py notebooks/*.ipynb --out build/student
    python tools/student_edition.py --verify notebooks/02_attention.ipynb
    python tools/student_edition.py --lint notebooks/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
RAISES_TAG = "raises-exception"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE"
ANSWER_PROMPT = "*Write your answer here.*"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
#: nbgrader's cell metadata schema v3 (nbgrader/nbgraderformat/v3.json): keys and id pattern.
NBGRADER_KEYS = {
    "schema_version",
    "grade",
    "locked",
    "solution",
    "task",
    "grade_id",
    "points",
    "checksum",
    "cell_type",
}
GRADE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")


class EditionError(ValueError):
    """A notebook whose exercise cells break the convention (the message lists each problem)."""


@dataclass
class Exercise:
    """Code solution cells (indices) and the check cell that tests them."""

    solutions: list[int]
    check: int
    grade_id: str


@dataclass
class Verification:
    """What ``verify`` saw: one entry per exercise, and the problems found."""

    notebook: str
    exercises: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading cells


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution(cell) -> bool:
    return SOLUTION_TAG in tags(cell)


def is_check(cell) -> bool:
    return CHECK_TAG in tags(cell)


def grade_id(cell) -> str:
    return str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def regions(source: str) -> list[tuple[int, int, str]]:
    """``(begin, end, indent)`` line numbers of each marked solution region.

    Raises ``EditionError`` for markers that do not pair up, share a line with code, or close
    at another indentation than they opened.
    """
    found, opened = [], None
    for number, line in enumerate(source.splitlines()):
        stripped = line.strip()
        for marker in (BEGIN, END):
            if marker in line and stripped != marker:
                raise EditionError(f"line {number + 1}: {marker!r} must be alone on its line")
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            if opened is not None:
                raise EditionError(f"line {number + 1}: {BEGIN!r} inside an open solution")
            opened = (number, indent)
        elif stripped == END:
            if opened is None:
                raise EditionError(f"line {number + 1}: {END!r} without {BEGIN!r}")
            if indent != opened[1]:
                raise EditionError(f"line {number + 1}: {END!r} indented unlike its {BEGIN!r}")
            if number == opened[0] + 1:
                raise EditionError(f"line {number + 1}: empty solution between the markers")
            found.append((opened[0], number, opened[1]))
            opened = None
    if opened is not None:
        raise EditionError(f"line {opened[0] + 1}: {BEGIN!r} is never closed by {END!r}")
    return found


def solution_lines(cell) -> list[str]:
    """The lines a student edition must not contain: marked lines, or a whole written answer."""
    lines = _source(cell).splitlines()
    spans = regions(_source(cell))
    if not spans and cell.cell_type == "markdown":
        return lines
    return [line for begin, end, _ in spans for line in lines[begin + 1 : end]]


def _uses_check(source: str) -> bool:
    """True when the source has a ``with check(...)`` / ``with <module>.check(...)`` block."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call):
                    func = call.func
                    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                    if name == "check":
                        return True
    return False


# --------------------------------------------------------------------------- lint


def _lint_metadata(index: int, cell, kind: str) -> list[str]:
    where = f"cell {index} ({kind})"
    meta = cell.get("metadata", {}).get("nbgrader")
    if not isinstance(meta, dict):
        return [f"{where}: no metadata.nbgrader (see docs/teaching.md)"]
    problems = []
    extra = set(meta) - NBGRADER_KEYS
    if extra:
        problems.append(f"{where}: nbgrader metadata has unknown keys {sorted(extra)}")
    if meta.get("schema_version") != 3:
        problems.append(f"{where}: nbgrader schema_version must be 3")
    if kind == "check":
        wanted = {"grade": True, "solution": False, "locked": True}
    elif cell.cell_type == "markdown":  # nbgrader: a written answer is solution AND grade
        wanted = {"grade": True, "solution": True, "locked": False}
    else:
        wanted = {"grade": False, "solution": True, "locked": False}
    for key, value in wanted.items():
        if meta.get(key) is not value:
            problems.append(f"{where}: nbgrader {key} must be {str(value).lower()}")
    points = meta.get("points")
    if wanted["grade"] and (isinstance(points, bool) or not isinstance(points, (int, float))):
        problems.append(f"{where}: a graded cell needs nbgrader points (a number >= 0)")
    elif wanted["grade"] and points < 0:
        problems.append(f"{where}: nbgrader points must be >= 0")
    gid = meta.get("grade_id")
    if not isinstance(gid, str) or not GRADE_ID.match(gid):
        problems.append(f"{where}: grade_id {gid!r} must be letters, digits, '_' or '-'")
    return problems


def _lint_cell(index: int, cell) -> list[str]:
    solution, check = is_solution(cell), is_check(cell)
    where = f"cell {index}"
    source = _source(cell)
    if solution and check:
        return [f"{where}: tagged both {SOLUTION_TAG!r} and {CHECK_TAG!r}"]
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not (solution or check):
        problems = []
        if isinstance(meta, dict) and (meta.get("solution") or meta.get("grade")):
            problems.append(f"{where}: nbgrader metadata but no {SOLUTION_TAG!r}/{CHECK_TAG!r} tag")
        if BEGIN in source or END in source:
            problems.append(f"{where}: solution markers in a cell not tagged {SOLUTION_TAG!r}")
        return problems
    problems = _lint_metadata(index, cell, "check" if check else "solution")
    if check:
        if cell.cell_type != "code":
            return problems + [f"{where}: a check cell must be code"]
        if BEGIN in source or END in source:
            problems.append(f"{where}: solution markers in a check cell")
        try:
            if not _uses_check(source):
                problems.append(
                    f"{where}: put the asserts inside `with check(hint):` "
                    "(from interpkit.course import check) so a failure shows the hint"
                )
        except SyntaxError as error:
            problems.append(f"{where}: the check does not parse ({error.msg})")
        return problems
    try:
        spans = regions(source)
    except EditionError as error:
        return problems + [f"{where}: {error}"]
    if cell.cell_type == "code" and not spans:
        problems.append(f"{where}: a code solution needs {BEGIN!r} ... {END!r} around the answer")
    return problems


def lint(nb) -> list[str]:
    """Every problem with the notebook's exercise cells (empty: all well-formed)."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        problems += _lint_cell(index, cell)
        if is_solution(cell) or is_check(cell):
            gid = grade_id(cell)
            if gid and gid in seen:
                problems.append(f"cell {index}: grade_id {gid!r} already used by cell {seen[gid]}")
            seen.setdefault(gid, index)
    pending: list[int] = []
    for index, cell in enumerate(nb.cells):
        if is_solution(cell) and cell.cell_type == "code":
            pending.append(index)
        elif is_check(cell):
            if not pending:
                problems.append(f"cell {index}: a check cell with no code solution cell before it")
            pending = []
    problems += [f"cell {index}: a code solution with no check cell after it" for index in pending]
    return problems


def exercises(nb) -> list[Exercise]:
    """The exercises in order: the code solution cells since the last check, and their check."""
    found, pending = [], []
    for index, cell in enumerate(nb.cells):
        if is_solution(cell) and cell.cell_type == "code":
            pending.append(index)
        elif is_check(cell):
            found.append(Exercise(pending, index, grade_id(cell)))
            pending = []
    return found


# --------------------------------------------------------------------------- the edition


def _assigned_names(code: str) -> list[str]:
    """Names a top-level statement of ``code`` assigns (``x = ...``, ``a, b = ...``)."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:  # IPython magics or a fragment: no placeholders
        return []
    names: dict[str, None] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    names.setdefault(name.id, None)
    return list(names)


def _read_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def stub_code(source: str, check_source: str) -> str:
    """``source`` with each marked region replaced by the student's stub."""
    lines = source.splitlines()
    read = _read_names(check_source)
    out: list[str] = []
    cursor = 0
    for begin, end, indent in regions(source):
        out += lines[cursor:begin]
        body = "\n".join(lines[begin + 1 : end])
        if indent:  # inside a block: the stub must still be a statement
            out.append(f"{indent}pass  {CODE_STUB}")
        else:
            out.append(CODE_STUB)
            out += [f"{name} = ..." for name in _assigned_names(body) if name in read]
        cursor = end + 1
    out += lines[cursor:]
    return "\n".join(out)


def stub_markdown(source: str) -> str:
    lines = source.splitlines()
    spans = regions(source)
    if not spans:
        return ANSWER_PROMPT
    out, cursor = [], 0
    for begin, end, _ in spans:
        out += lines[cursor:begin] + [ANSWER_PROMPT]
        cursor = end + 1
    return "\n".join(out + lines[cursor:])


def _without_colab_badge(source: str) -> str:
    """The badge opens the instructor edition (with solutions) on Colab: not for students."""
    kept = "\n".join(line for line in source.splitlines() if COLAB_BADGE_IMAGE not in line)
    return re.sub(r"\n{3,}", "\n\n", kept)


def student_edition(nb):
    """A copy of ``nb`` for students: outputs cleared, solutions stubbed, checks kept.

    Raises ``EditionError`` (listing every problem) when the exercise cells break the
    convention, and when a solution line would survive into the student edition.
    """
    problems = lint(nb)
    if problems:
        raise EditionError("exercise cells are malformed:\n  " + "\n  ".join(problems))
    student = copy.deepcopy(nb)
    checks = {i: _source(nb.cells[e.check]) for e in exercises(nb) for i in e.solutions}
    for index, cell in enumerate(student.cells):
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        source = _source(cell)
        if is_solution(cell) and cell.cell_type == "code":
            cell.source = stub_code(source, checks.get(index, ""))
        elif is_solution(cell):
            cell.source = stub_markdown(source)
        elif is_check(cell):
            cell.metadata["tags"] = [*tags(cell), RAISES_TAG]
        elif cell.cell_type == "markdown" and COLAB_BADGE_IMAGE in source:
            cell.source = _without_colab_badge(source)
    student.metadata.pop("widgets", None)
    student.metadata["interpkit"] = {"edition": "student"}
    leaked = leaked_solution_lines(nb, student)
    if leaked:
        raise EditionError(f"solution lines would reach students: {leaked[:5]}")
    return student


def leaked_solution_lines(instructor, student) -> list[str]:
    """Solution lines (not also found outside any solution) present in ``student``."""
    solution = {
        line.strip()
        for cell in instructor.cells
        if is_solution(cell)
        for line in solution_lines(cell)
        if line.strip()
    }
    public = set()
    for cell in instructor.cells:
        hidden = set(solution_lines(cell)) if is_solution(cell) else set()
        public |= {ln.strip() for ln in _source(cell).splitlines() if ln not in hidden}
    text = {ln.strip() for cell in student.cells for ln in _source(cell).splitlines()}
    return sorted((solution - public) & text)


# --------------------------------------------------------------------------- verification


def _error(cell) -> dict | None:
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def verify(path: Path, timeout: int = 600, kernel_name: str = "python3") -> Verification:
    """Run ``path``'s student edition once, checking each exercise on the stub and solution.

    At each check cell: the check must fail on the stub with ``CheckFailed`` (the hint); the
    instructor's solution cells then run in the same kernel and the check must pass. Any other
    cell that raises is a problem too (the student edition would stop there).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    instructor = nbformat.read(path, as_version=4)
    student = student_edition(instructor)
    report = Verification(path.name)
    groups = {e.check: e for e in exercises(instructor)}
    client = NotebookClient(
        student,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            try:
                ran = client.execute_cell(cell, index)
            except CellExecutionError as failure:
                report.problems.append(f"cell {index} raises in the student edition: {failure}")
                return report
            if index in groups:
                _verify_exercise(client, instructor, student, groups[index], ran, report)
    return report


def _verify_exercise(client, instructor, student, exercise, stub_run, report) -> None:
    from nbclient.exceptions import CellExecutionError

    gid = exercise.grade_id
    report.exercises.append(gid)
    error = _error(stub_run)
    if error is None:
        report.problems.append(f"{gid}: the check passes on the stub (it does not test the answer)")
    elif error.get("ename") != "CheckFailed":
        report.problems.append(
            f"{gid}: on the stub the check raised {error.get('ename')}, not CheckFailed: "
            "put its asserts inside `with check(hint):`"
        )
    try:
        for index in exercise.solutions:
            client.execute_cell(copy.deepcopy(instructor.cells[index]), index)
        check = copy.deepcopy(instructor.cells[exercise.check])  # without raises-exception
        client.execute_cell(check, exercise.check)
    except CellExecutionError as failure:
        report.problems.append(f"{gid}: fails with the instructor's solution: {failure}")


# --------------------------------------------------------------------------- command line


def build(paths: list[Path], out: Path) -> list[Path]:
    """Write each notebook's student edition into ``out`` (atomically); returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        student = student_edition(nbformat.read(path, as_version=4))
        target = out / path.name
        tmp = target.with_name(target.name + ".tmp")
        nbformat.write(student, tmp)
        tmp.replace(target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/student"))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--lint", action="store_true", help="only check the exercise cells")
    mode.add_argument(
        "--verify", action="store_true", help="run each student edition and test every check"
    )
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell (--verify)")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        problems = lint(nb)
        if args.verify and not problems:
            result = verify(path, timeout=args.timeout)
            problems = result.problems
            print(f"{path}: {len(result.exercises)} exercises verified")
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        failed |= bool(problems)
    if not (args.lint or args.verify or failed):
        for target in build(args.notebooks, args.out):
            count = len(exercises(nbformat.read(target, as_version=4)))
            print(f"{target}: {count} exercises")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
