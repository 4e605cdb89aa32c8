"""Unit tests of the grading framework: plain data, comparison messages, the loader's rule."""
import functools
import json
from typing import NamedTuple

import numpy as np
import pytest

from autograder.framework import compare
from autograder.loader import SubmissionError, read_submission, select_code
from autograder.plain import Opaque, Record, dumps, loads, to_plain


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
    (np.array([1.0, 2.5]), np.array([1.0, 2.0]), "wrong value at index (1,): got 2.5, expected 2"),
    ([1.0, 2.0], np.array([1.0, 2.0]), "returned a list of 2 items; expected an ndarray"),
    ("x", 1.0, "returned the str"),
    (np.array([1.0]), 1.0, "expected a scalar"),
    ((np.ones(2),), (np.ones(2), None), "returned 1 items; expected 2"),
    ({"step 1": State(1, np.ones(2))}, {"step 1": State(1, np.zeros(2))}, "step 1 → m: wrong value"),
    (Opaque("an object of type Liar"), 1.0, "an object of type Liar"),
    (np.array([0.3, 0.7]), np.array([np.nan, np.nan]), "got 0.3, expected nan"),
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
    assert "plt.plot" not in code and "range(10**9)" not in code and "np.ones" not in code
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

from solutions.common import rosenbrock


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
