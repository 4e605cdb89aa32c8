"""Unit tests of the grading framework: plain data, comparison messages, the loader's rule."""
import functools
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from autograder.framework import compare
from autograder.loader import SubmissionError, read_submission, select_code
from autograder.worker.plain import Opaque, Record, dumps, loads, to_plain
from solutions.common import rosenbrock

ROOT = Path(__file__).resolve().parents[2]


class State(NamedTuple):
    t: int
    m: np.ndarray


def test_plain_data_round_trips():
    value = to_plain((np.arange(3.0), State(2, np.ones((2, 2))), [np.float64(2.5), None, True], {"a": np.int64(1)}))
    back = loads(dumps(value))
    assert isinstance(back[1], Record) and back[1].fields == ("t", "m") and back[1].type_name == "State"
    assert compare(back, value) is None
    rng = np.random.default_rng(3)
    copy = loads(dumps(rng))
    assert copy.integers(1000) == rng.integers(1000)


def test_student_objects_never_cross_as_objects():
    class Liar:
        def __eq__(self, other):
            return True

    class Sub(np.ndarray):
        def __eq__(self, other):
            return True

    assert isinstance(to_plain(Liar()), Opaque)
    arr = to_plain(np.zeros(2).view(Sub))
    assert type(arr) is np.ndarray and compare(arr, np.ones(2)) is not None
    assert isinstance(to_plain(np.array(["a"])), Opaque)
    assert to_plain(x for x in range(3)) == [0, 1, 2]


@pytest.mark.parametrize("got,expected,words", [
    (np.ones(3), np.ones(4), "shape (3,); expected shape (4,)"),
    (np.ones(3, dtype=int), np.ones(3), "dtype int64"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "contains NaN at index (1,)"),
    (np.array([1.0, np.inf]), np.array([1.0, 2.0]), "contains inf"),
    (np.array([1.0, 2.5]), np.array([1.0, 2.0]), "wrong value at index (1,): got 2.5 (relative error of order 1e-01"),
    ([1.0, 2.0], np.array([1.0, 2.0]), "returned a list of 2 items; expected an ndarray"),
    ("x", 1.0, "returned the str"),
    (np.array([1.0]), 1.0, "expected a scalar"),
    ((np.ones(2),), (np.ones(2), None), "returned 1 items; expected 2"),
    ({"step 1": State(1, np.ones(2))}, {"step 1": State(1, np.zeros(2))}, "step 1 → m: wrong value"),
    (Opaque("an object of type Liar"), 1.0, "an object of type Liar"),
    (np.array([0.3, 0.7]), np.array([np.nan, np.nan]), "wrong value at index (0,): got 0.3 (2 of 2 values differ)"),
    (np.zeros(2), None, "expected None"),
])
def test_compare_says_what_is_wrong(got, expected, words):
    message = compare(to_plain(got), to_plain(expected))
    assert message is not None and words in message, message


def test_compare_accepts_equivalent_numbers():
    assert compare(np.array(2.0), 2.0) is None
    assert compare(2, 2.0) is None
    assert compare(to_plain(np.float32(1.0)), 1.0) is None
    assert compare(1.0 + 1e-9, 1.0) is None
    assert compare(1.001, 1.0) is not None


def test_loader_runs_only_definitions():
    notes, defined = [], set()
    code = select_code("cell 1", "%matplotlib inline\n!pip install x\nimport numpy as np\nEPS = 1e-8\n"
                       "x = np.ones(3)\nplt.plot(x)\nfor i in range(10**9): pass\n"
                       "@staticmethod\ndef f(a):\n    return a\nclass A:\n    pass\n", notes, defined)
    assert "import numpy" in code and "EPS = 1e-8" in code and "def f" in code and "class A" in code
    assert "plt.plot" not in code and "range(10**9)" not in code
    assert "x = np.ones(3)" in code               # a cheap assignment (tests/grader/test_loader.py has the rule)
    assert defined == {"f"} and notes == []
    # line numbers are kept so that tracebacks point into the student's cell
    assert code.splitlines()[8] == "def f(a):"


def test_loader_reports_syntax_errors_per_cell():
    notes = []
    assert select_code("cell 4", "def f(:\n  pass", notes, set()) is None
    assert notes and "cell 4 has a syntax error" in notes[0]


def test_read_submission_kinds(tmp_path):
    (tmp_path / "a.py").write_text("def mse_loss(a, b):\n    return 0\n")
    nb = {"cells": [{"cell_type": "markdown", "source": "x"}, {"cell_type": "code", "source": ["def g():\n", "  pass"]}]}
    (tmp_path / "b.ipynb").write_text(json.dumps(nb))
    (tmp_path / ".hidden.py").write_text("def h(): pass")
    sub = read_submission(tmp_path)
    assert sub.defined == {"mse_loss", "g"}
    assert [(file, label) for file, label, _ in sub.cells] == [("a.py", "a.py"), ("b.ipynb", "b.ipynb cell 2")]
    with pytest.raises(SubmissionError, match="submit a .ipynb"):
        read_submission(tmp_path / "x.txt") if (tmp_path / "x.txt").write_text("") is not None else None
    with pytest.raises(SubmissionError, match="does not exist"):
        read_submission(tmp_path / "nope.ipynb")


def test_module_level_functions_and_partials_cross_by_name():
    f = functools.partial(rosenbrock, b=10.0)
    g = loads(dumps((f, rosenbrock)))
    assert g[0](np.array([0.5, 1.0])) == f(np.array([0.5, 1.0]))
    assert g[1] is rosenbrock
    with pytest.raises(TypeError):
        dumps(lambda x: x)                        # lambdas and closures still cannot cross
    with pytest.raises(ValueError):
        loads('{"__function__": ["os", "system"]}')   # only solutions.* and autograder.tests.*


def test_only_functions_defined_in_the_named_module_are_resolved():
    with pytest.raises(ValueError):
        loads('{"__function__": ["solutions.common", "np.sum"]}')        # not defined in solutions.common
    assert loads('{"__function__": ["solutions.common", "Quadratic.loss"]}').__name__ == "loss"


# --- feedback on near misses and on exceptions ---------------------------------------------------

def test_a_near_miss_shows_the_students_digits_and_the_order_of_the_error_never_the_expected_value():
    message = compare(0.55355551, 0.55355644)                 # equal to 6 digits, apart by 1.7e-6
    assert "got 0.55355551 (relative error of order 1e-06;" in message and "0.5535564" not in message
    assert "rounding" not in message and "float32" not in message


def test_a_rounding_sized_difference_is_called_so():
    message = compare(np.array([1.0, 2.0 + 4e-13]), np.array([1.0, 2.0]), rtol=1e-14, atol=0.0)
    assert "got 2.0000000000004 (relative error of order 1e-13;" in message
    assert "size of floating-point rounding" in message


@pytest.mark.parametrize("got", [np.float32(0.5535561), np.full(3, 0.5535561, dtype=np.float32)])
def test_float32_results_are_named(got):
    expected = 0.553556789 if np.ndim(got) == 0 else np.full(3, 0.553556789)
    message = compare(to_plain(got), expected)
    assert "dtype float32" in message and "float64" in message, message
    assert compare(to_plain(got), expected, rtol=1e-3) is None        # the value itself still counts


def test_an_exception_names_the_call_that_raised_it():
    from autograder.engine.diagnosis import run_test
    from autograder.engine.namespace import LocalSubject
    from autograder.engine.registry import load_exercises
    from solutions import adaptive as ref

    def adam_update(params, grads, state, **hyper):
        if state.t == 2:
            raise ValueError("boom")
        return ref.adam_update(params, grads, state, **hyper)

    ex = load_exercises()["ex5_3"]
    messages = [run_test(t, LocalSubject({"adam_init": ref.adam_init, "adam_update": adam_update}), 0).message
                for t in ex.tests]
    raised = [m for m in messages if "boom" in m]
    assert raised and all("`adam_update` raised ValueError: boom" in m and "call 3 of `adam_update`" in m
                          and "state = a named tuple AdamState" in m for m in raised), raised


# --- the third grading path: pytest autograder/tests --submission PATH ------------------------------

def _pytest(*args: str, cwd: Path = ROOT):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_pytest_grades_a_submission(tmp_path):
    from autograder.lessons import solved_notebook
    lesson = ROOT / "lessons" / "01_losses.ipynb"
    solved = tmp_path / "solved.ipynb"
    solved.write_text(json.dumps(solved_notebook(lesson)), encoding="utf-8")
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).sum()\n", encoding="utf-8")
    run = _pytest("autograder/tests/test_losses.py", "-m", "ex1_1 or ex1_2", "--submission", str(solved))
    assert run.returncode == 0 and "5 passed" in run.stdout, run.stdout + run.stderr
    run = _pytest("autograder/tests/test_losses.py", "-m", "ex1_1", "--submission", str(wrong))
    assert run.returncode == 1 and "3 failed" in run.stdout, run.stdout
    assert "This matches a known mistake: the sum of the squared errors" in run.stdout
    run = _pytest("autograder/tests/test_losses.py", "-m", "ex1_1", "--submission", str(tmp_path / "nope.ipynb"))
    assert run.returncode == 4 and "does not exist" in run.stderr


@pytest.mark.slow
def test_pytest_without_a_submission_skips_the_graded_tests():
    run = _pytest("autograder/tests/test_losses.py", "-m", "ex1_1", "-rs")
    assert run.returncode == 0 and "3 skipped" in run.stdout and "--submission PATH" in run.stdout, run.stdout


# --- sync-lessons creates a new exercise's cells ----------------------------------------------------

def _without_cells_of(lesson: Path, ex_id: str, out: Path, drop_heading: bool = False) -> list[dict]:
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    cells = nb["cells"]
    nb["cells"] = [c for c in cells if not {ex_id, f"check-{ex_id}", f"solution-{ex_id}"} & set(c["metadata"].get("tags", []))
                   and not (drop_heading and "".join(c["source"]).startswith(f"### Exercise {ex_id}"))]
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return cells


def test_sync_creates_the_missing_cells_under_the_heading(tmp_path):
    from autograder.lessons import sync_notebook
    copy = tmp_path / "01_losses.ipynb"
    original = _without_cells_of(ROOT / "lessons" / "01_losses.ipynb", "ex1_2", copy)
    assert sync_notebook(copy) == [f"01_losses.ipynb: created {t}" for t in ("ex1_2", "check-ex1_2", "solution-ex1_2")]
    created = json.loads(copy.read_text(encoding="utf-8"))["cells"]
    same = lambda c: (c["cell_type"], "".join(c["source"]), c["metadata"])       # noqa: E731
    assert [same(c) for c in created] == [same(c) for c in original]
    assert sync_notebook(copy) == []                                                # idempotent


def test_sync_without_cells_or_heading_says_what_to_add(tmp_path):
    from autograder.lessons import sync_notebook
    copy = tmp_path / "01_losses.ipynb"
    _without_cells_of(ROOT / "lessons" / "01_losses.ipynb", "ex1_2", copy, drop_heading=True)
    with pytest.raises(ValueError, match="### Exercise ex1_2: <title>"):
        sync_notebook(copy)
