"""What the loader runs of a submission: imports, definitions and *cheap* assignments.

A cheap assignment (``HALF = 1 / 2``, ``LOG2 = np.log(2)``, ``AdamState = namedtuple(...)``)
runs when grading; one that could train a model (it calls the submission's own code or a
heavy library, or loops) is skipped, and the notes name it when a kept function needs it.
Through the real worker: such constants are defined when the graded function runs.
"""
import json

import pytest

from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.loader import Scope, read_submission, select_code

KEPT = [
    "HALF = 1 / 2",
    "LOG2 = np.log(2)",
    "AdamState = namedtuple('AdamState', 't m v')",
    "State = NamedTuple('State', [('t', int), ('v', np.ndarray)])",
    "EPS: float = 1e-8",
    "TINY, HUGE = np.finfo(float).tiny, float('inf')",
    "SIZES = tuple(range(3))",
    "square = lambda x: x * x",
    "DECAYS = {'lr': 0.1, 'beta': max(0.5, 1 / 3)}",
    "update = adam_update",                                       # only names the submission's code
    "ACT = {'net': Net, 'steps': [train, adam_init]}",
]
SKIPPED = {
    "X = design_matrix(x)": "design_matrix",                      # an import from the course's solutions
    "traj = run(adam_init, adam_update, p0, grad, steps=10**6)": "run",
    "fig, ax = plt.subplots()": "plt.subplots",                   # a heavy library
    "losses = train(1000)": "train",                              # the submission's own function
    "model = Net()": "Net",                                       # the submission's own class
    "update = adam_update.__call__": "adam_update",
    "ACTS = {'net': Net()}": "Net",
    "squares = [i * i for i in range(10**9)]": "loops",
    "total = max(i for i in range(10**12))": "loops",
    "data = np.loadtxt('data.csv')": "files",
    "y = undefined + 1": "undefined",
    "z = (lambda: 3)()": "result of an expression",
    "params.lr = 0.1": None,                                      # not a plain name: never kept
    "CONFIG['lr'] = 0.1": None,
    "N += 1": None,
}
PRELUDE = ("import numpy as np\nfrom collections import namedtuple\nfrom typing import NamedTuple\n"
           "import matplotlib.pyplot as plt\nfrom solutions.common import run, design_matrix\n"
           "x = np.ones(3)\ndef train(n):\n    return n\nclass Net:\n    pass\n"
           "def adam_init(p):\n    return p\ndef adam_update(p):\n    return p\n")


@pytest.mark.parametrize("line", KEPT)
def test_cheap_assignments_run(line):
    code = select_code("cell 1", PRELUDE + line, [], set())
    assert line in code


@pytest.mark.parametrize("line", SKIPPED)
def test_assignments_that_could_train_or_fail_are_skipped(line):
    scope = Scope()
    code = select_code("cell 1", PRELUDE + line, [], set(), scope)
    assert line not in code
    if SKIPPED[line]:
        name = line.split("=")[0].split(",")[0].split(":")[0].strip()
        assert SKIPPED[line] in scope.skipped[name][3]


def test_a_skipped_assignment_that_a_function_needs_is_named(tmp_path):
    (tmp_path / "sub.py").write_text("import numpy as np\nfrom solutions.common import design_matrix\n"
                                     "SCALE = design_matrix(np.ones(3))\nUNUSED = design_matrix(np.ones(2))\n"
                                     "def mse_loss(y_pred, y):\n    return SCALE * 0\n")
    notes = read_submission(tmp_path / "sub.py", graded={"mse_loss"}).notes
    assert len(notes) == 1, notes
    assert "sub.py, line 3: `SCALE = design_matrix(np.ones(3))` is not run" in notes[0]
    assert "`SCALE` is undefined for `mse_loss`" in notes[0] and "design_matrix" in notes[0]


def test_a_later_cell_sees_earlier_cells_and_a_redefinition_clears_the_note(tmp_path):
    cells = ["import numpy as np", "from solutions.common import design_matrix\nK = design_matrix(1)",
             "K = 2.0\nLOG_K = np.log(K)", "def mse_loss(y_pred, y):\n    return K * LOG_K"]
    nb = {"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "sub.ipynb").write_text(json.dumps(nb))
    sub = read_submission(tmp_path / "sub.ipynb", graded={"mse_loss"})
    assert sub.notes == []
    code = "\n".join(c for _, _, c in sub.cells)
    assert "LOG_K = np.log(K)" in code and "design_matrix(1)" not in code


def test_constants_built_by_cheap_calls_exist_when_graded(tmp_path):
    """Issue 13: ``HALF = 1 / 2``, ``LOG2 = np.log(2)`` and a namedtuple were skipped: NameError, 0 points."""
    (tmp_path / "sub.py").write_text(
        "import numpy as np\nfrom collections import namedtuple\n"
        "HALF = 1 / 2\nLOG2 = np.log(2)\nPair = namedtuple('Pair', 'pred target')\n"
        "def mse_loss(y_pred, y):\n    pair = Pair(np.asarray(y_pred, dtype=float), np.asarray(y, dtype=float))\n"
        "    return float(np.mean((pair.pred - pair.target) ** 2)) * (2 * HALF) * (LOG2 / np.log(2))\n"
        "def mse_loss_grad(y_pred, y):\n    y_pred = np.asarray(y_pred, dtype=float)\n"
        "    return 4 * HALF * (y_pred - np.asarray(y, dtype=float)) / y_pred.size\n")
    report = grade_submission(tmp_path / "sub.py", select(load_exercises(), ["ex1_1", "ex1_2"]), seed=3)
    assert [o.message for o in report.outcomes if not o.passed] == []
    assert report.score == report.max_score > 0


def test_what_skipped_code_changes_is_not_read_by_a_kept_assignment():
    """``paths = {}`` is kept, a loop fills it (skipped): ``first = paths['a']`` would fail at load."""
    scope = Scope()
    code = select_code("cell 1", "import numpy as np\npaths = {}\nfor k in 'ab':\n    paths[k] = np.ones(2)\n"
                       "first = paths['a']\nhistory = []\nhistory.append(1.0)\npeak = int(np.argmax(history))\n"
                       "np.random.seed(0)\nX = np.random.rand(3)\n", [], set(), scope)
    assert "paths = {}" in code and "first" not in code and "peak" not in code
    assert "X = np.random.rand(3)" in code                 # a module a skipped line uses stays usable
    assert "changed by code that does not" in scope.skipped["first"][3]


def test_only_graded_functions_get_notes_and_locals_are_not_globals(tmp_path):
    (tmp_path / "sub.py").write_text("from solutions.common import seed_data_000\nx, y = seed_data_000()\n"
                                     "def demo():\n    return x\n"
                                     "def mse_loss(y_pred, y):\n    x = 2\n    return y_pred * x + y\n")
    assert read_submission(tmp_path / "sub.py", graded={"mse_loss"}).notes == []
    notes = read_submission(tmp_path / "sub.py", graded={"mse_loss", "demo"}).notes
    assert len(notes) == 1 and "`x` is undefined for `demo`" in notes[0]


def test_a_function_written_as_a_lambda_counts_as_defined():
    defined = set()
    assert "lambda" in select_code("cell 1", "import numpy as np\nmse_loss = lambda y_pred, y: 0.0", [], defined)
    assert defined == {"mse_loss"}
