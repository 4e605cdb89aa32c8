"""Meta-tests through the real grading path: the loader, the sandboxed worker and batches.

The equivalence and mistakes meta-tests (tests/grader/test_equivalence.py, tests/grader/test_meta.py) grade
in this process; here students' code goes the way ``grade`` sends it:

* correct code written differently (tests/grader/real_path_sources.py: loops, torch and
  ``torch.autograd.grad(..., grad_outputs=...)``, SciPy's and NumPy's ``LinAlgError`` caught on
  indefinite matrices, the submission's own classes and module-level tables, a library's dtype as
  a default argument) scores full marks, as a ``.py`` and as a notebook, at several seeds;
* so does each chapter's file of the equivalence meta-test (tests/grader/equivalents/<module>.py), its
  exercises bound to whole variants by ``name = variant``;
* registered mistakes written as students write them lose points at every seed, and are named;
* a class (a batch mixing chapters, a solved notebook with an untouched copy of the lesson beside
  it, a broken notebook, an empty file) graded with the README's class command: every student's
  score is what they get alone, and no report accuses anyone of using the reference;
* ``check()`` in a notebook kernel gives the grade ``grade`` gives.

``OLF_REAL_PATH_SEEDS`` sets the number of seeds (default 3).
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.lessons import solved_notebook

sys.path.insert(0, str(Path(__file__).parent))
from real_path_sources import CORRECT, CORRECT_EXERCISES, WRONG  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = load_exercises()
SEEDS = range(int(os.environ.get("OLF_REAL_PATH_SEEDS", "3")))
LESSONS = {int(p.name[:2]): p for p in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))}


def notebook(*cells: str) -> str:
    """A notebook of code cells (the way a student submits the same code)."""
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                                  "execution_count": None} for c in cells],
                       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)"}},
                       "nbformat": 4, "nbformat_minor": 5})


def as_cells(source: str) -> list[str]:
    """The source split at its top-level blank-line-separated definitions (one cell each)."""
    return [part for part in source.split("\n\n\n") if part.strip()]


def failures(report) -> list[str]:
    return [f"{o.title}: {o.message}" for o in report.outcomes if not o.passed]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(CORRECT))
@pytest.mark.parametrize("form", ["py", "ipynb"])
def test_correct_code_written_differently_scores_full_marks_through_the_worker(chapter, form, tmp_path):
    source = CORRECT[chapter]
    path = tmp_path / f"student.{form}"
    path.write_text(source if form == "py" else notebook(*as_cells(source)), encoding="utf-8")
    exercises = select(EXERCISES, CORRECT_EXERCISES[chapter])
    for seed in SEEDS:
        report = grade_submission(path, exercises, seed=seed)
        assert failures(report) == [], (seed, report.notes)
        assert report.score == report.max_score > 0


@pytest.mark.slow
@pytest.mark.parametrize("ex_id,named,source", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_mistakes_lose_points_at_every_seed_through_the_worker(ex_id, named, source, tmp_path):
    path = tmp_path / "student.py"
    path.write_text(source, encoding="utf-8")
    for seed in SEEDS:
        report = grade_submission(path, select(EXERCISES, [ex_id]), seed=seed)
        assert report.score < report.max_score, (seed, "the mistake scores full marks")
        if named:
            assert any(named in o.message for o in report.outcomes if not o.passed), (seed, failures(report))


def test_a_helper_reading_a_skipped_name_is_named_with_its_line(tmp_path):
    path = tmp_path / "student.py"
    path.write_text("import numpy as np\n\nSCALE = np.ones(3).sum() * float(len(range(2)))\n"
                    "WEIGHTS = make_weights(3)\n\n\ndef helper(x):\n    return WEIGHTS * x\n\n\n"
                    "def mse_loss(y_pred, y):\n    return float(np.mean(helper(np.asarray(y_pred) - y) ** 2))\n",
                    encoding="utf-8")
    report = grade_submission(path, select(EXERCISES, ["ex1_1"]), seed=0)
    notes = [n for n in report.notes if "`WEIGHTS`" in n]
    assert notes and "line 4" in notes[0] and "`helper` (used by `mse_loss`)" in notes[0], report.notes


def test_a_table_of_own_classes_is_kept(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(CORRECT["6"], encoding="utf-8")
    report = grade_submission(path, select(EXERCISES, ["ex6_4"]), seed=0)
    assert failures(report) == [] and not any("ACT" in n for n in report.notes), (failures(report), report.notes)


def test_a_graded_name_bound_to_an_own_function_counts_as_defined(tmp_path):
    """`mse_loss = my_mse` (as the equivalents bind their variants): graded, and no note that nothing is defined"""
    path = tmp_path / "student.py"
    path.write_text("import numpy as np\n\n\ndef my_mse(y_pred, y):\n    return float(np.mean((np.asarray(y_pred) - y) ** 2))"
                    "\n\n\nmse_loss = my_mse\n", encoding="utf-8")
    report = grade_submission(path, select(EXERCISES, ["ex1_1"]), seed=0)
    assert failures(report) == [] and report.notes == [], (failures(report), report.notes)


# --- a class ---------------------------------------------------------------------------------------

def _solved(chapter: int) -> str:
    return json.dumps(solved_notebook(LESSONS[chapter]))


def _grade_class(paths: list[Path], tmp_path: Path, *extra: str) -> list[dict]:
    out = tmp_path / "reports"
    command = [sys.executable, "-m", "autograder", "grade", *map(str, paths), "--jobs", "2", "--csv",
               str(tmp_path / "grades.csv"), "--reports", str(out), "--seed", "7", *extra]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads((out / f"{p.name}.json").read_text(encoding="utf-8")) for p in paths]


def _alone(path: Path, tmp_path: Path) -> dict:
    sub = tmp_path / f"alone-{path.name}"
    sub.mkdir()
    return _grade_class([path], sub)[0]


@pytest.mark.slow
def test_a_mixed_class_is_graded_as_each_student_alone(tmp_path):
    """chapter 5 students, one who uploaded chapter 4's notebook, a solved notebook with an untouched
    copy of the lesson beside it (Gradescope's folder), a broken notebook and an empty file"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(_solved(5), encoding="utf-8")
    (folder / "olivia.ipynb").write_text(_solved(4), encoding="utf-8")
    both = folder / "bob"
    both.mkdir()
    (both / "05_adaptive.ipynb").write_text(_solved(5), encoding="utf-8")
    (both / "zz_untouched_copy.ipynb").write_text(LESSONS[5].read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "carol.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "dave.py").write_text("", encoding="utf-8")
    paths = sorted(folder.iterdir())
    reports = {Path(r["submission"]).name: r for r in _grade_class(paths, tmp_path)}
    ch5 = sum(t.points for ex in select(EXERCISES, ["ex5_*"]).values() for t in ex.tests)
    ch4 = sum(t.points for ex in select(EXERCISES, ["ex4_*"]).values() for t in ex.tests)
    assert (reports["alice.ipynb"]["score"], reports["alice.ipynb"]["max_score"]) == (ch5, ch5)
    assert (reports["olivia.ipynb"]["score"], reports["olivia.ipynb"]["max_score"]) == (ch4, ch4)
    assert (reports["bob"]["score"], reports["bob"]["max_score"]) == (ch5, ch5)
    assert any("zz_untouched_copy.ipynb (an untouched stub)" in n for n in reports["bob"]["notes"]), reports["bob"]
    for name in ("carol.ipynb", "dave.py"):
        assert reports[name]["score"] == 0
    for name, report in reports.items():
        text = json.dumps(report)
        assert "reference solution imported" not in text, (name, text[:2000])
    for path in (folder / "alice.ipynb", folder / "olivia.ipynb", both):
        alone = _alone(path, tmp_path)
        assert (alone["score"], alone["max_score"]) == (reports[path.name]["score"], reports[path.name]["max_score"])


def test_a_lesson_import_of_an_earlier_chapter_is_not_an_accusation(tmp_path):
    """chapter 5's setup cell imports chapter 4's answers from solutions: graded on ex4_*, that is
    'not attempted', not 'the reference solution imported from solutions'"""
    path = tmp_path / "alice.ipynb"
    path.write_text(_solved(5), encoding="utf-8")
    report = grade_submission(path, select(EXERCISES, ["ex4_1"]), seed=0)
    assert report.score == 0
    assert all(o.status == "not attempted" for o in report.outcomes), [o.message for o in report.outcomes]
    assert not any("reference solution" in o.message for o in report.outcomes)


# --- check() and grade -----------------------------------------------------------------------------

CHECK_CASES = {
    "a global set by a skipped line": (
        "import numpy as np\nfrom autograder import check\n",
        "HALF = [v for v in (0.5,)][0]\n",
        "def mse_loss(y_pred, y):\n    d = np.asarray(y_pred, dtype=float) - y\n    return float(np.mean(d * d) * HALF * 2)\n",
        "mse_loss = check(mse_loss)\n"),
    "the reference imported": (
        "import numpy as np\nfrom autograder import check\n",
        "from solutions.losses import mse_loss\n",
        "x = 1\n",
        "mse_loss = check(mse_loss)\n"),
    "a check cell re-run after a failed attempt": (
        "import numpy as np\nfrom autograder import check\n",
        "def mse_loss(y_pred, y):\n    return float(np.sum((np.asarray(y_pred) - y) ** 2))\n",
        "mse_loss = check(mse_loss)\n",
        "mse_loss = check(mse_loss)\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CHECK_CASES))
def test_check_in_the_notebook_gives_the_grade(case, tmp_path):
    cells = CHECK_CASES[case]
    path = tmp_path / "student.ipynb"
    path.write_text(notebook(*cells), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--inplace", "--allow-errors", str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    outputs = json.loads(path.read_text(encoding="utf-8"))["cells"][-1]["outputs"]
    printed = "".join("".join(o.get("text", "")) for o in outputs)
    report = grade_submission(path, select(EXERCISES, ["ex1_1"]), seed=0)
    assert f"{report.score:g}/{report.max_score:g} points" in printed or (
        report.score == 0 and "0/" in printed), (printed, report.score, [o.message for o in report.outcomes])


# --- the equivalence meta-test's variants, through the worker --------------------------------------

EQUIVALENTS = ROOT / "tests" / "grader" / "equivalents"


def _whole(ex, variant: dict) -> bool:
    """The variant defines every function of its exercise, calls none of its references, and imports no
    course function in its body (the worker refuses a graded chapter's references:
    damped_newton_with_course_functions calls solutions.newton.newton_decrement)."""
    from test_meta import _code_names                     # noqa: PLC0415 - one reading of a function's names
    references = [id(f) for f in ex.functions.values()]
    return set(variant) == set(ex.functions) and not any(
        "from solutions" in inspect.getsource(fn)
        or any(id(fn.__globals__.get(name)) in references for name in _code_names(fn.__code__))
        for fn in variant.values())


def equivalent_submission(module: str, pick: int) -> tuple[str, list[str]]:
    """tests/grader/equivalents/<module>.py as a student's file: the module as written, then each exercise's name
    bound to one of its whole variants (``pick`` chooses which: 0 the first, -1 the last), and those
    exercises' ids. Variants that leave a function to the reference or call it are not graded here."""
    from test_equivalence import VARIANT_FILES            # noqa: PLC0415 - the same reading of the files
    aliases, graded = [], []
    for ex_id, variants in VARIANT_FILES[module].items():
        whole = [v for v in variants if _whole(EXERCISES[ex_id], v)]
        if whole:
            graded.append(ex_id)
            aliases += [f"{name} = {fn.__name__}" for name, fn in whole[pick].items()]
    source = (EQUIVALENTS / f"{module}.py").read_text(encoding="utf-8")
    return source + "\n\n\n" + "\n".join(aliases) + "\n", graded


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(p.stem for p in EQUIVALENTS.glob("[!_]*.py")))
@pytest.mark.parametrize("form", ["py", "ipynb"])
def test_equivalent_variants_score_full_marks_through_the_worker(module, form, tmp_path):
    """every chapter's variants (tests/grader/test_equivalence.py) in a student's file: the .py binds each
    exercise to its first whole variant, the notebook (one cell per definition) to its last"""
    source, graded = equivalent_submission(module, 0 if form == "py" else -1)
    assert graded, f"tests/grader/equivalents/{module}.py has no variant that defines a whole exercise"
    path = tmp_path / f"student.{form}"
    path.write_text(source if form == "py" else notebook(*as_cells(source)), encoding="utf-8")
    for seed in SEEDS:
        report = grade_submission(path, select(EXERCISES, graded), seed=seed)
        assert failures(report) == [], (seed, report.notes)
        assert report.score == report.max_score > 0
        assert not any("no exercise function" in n for n in report.notes), report.notes     # bound by `name = own`
