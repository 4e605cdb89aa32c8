"""Hostile and broken submissions: each ends with a clear message, zero for what it breaks,
full marks for what it does right, the grader alive, and bounded time.

Every submission below breaks ``mse_loss`` (ex1_1) in its own way and gets
``mse_loss_grad`` (ex1_2) right; the grader must score exactly that.
"""
import json
import time

import numpy as np
import pytest

from autograder.instructor.batch import grade_many, write_csv
from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.sandbox.limits import Limits

EXERCISES = select(load_exercises(), ["ex1_1", "ex1_2"])
TIMEOUT = 3.0
LIMITS = Limits(timeout=TIMEOUT, memory_mb=1024)

GOOD_GRAD = '''
import numpy as np

def mse_loss_grad(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - np.asarray(y, dtype=float)) / y_pred.size
'''


def bad_loss(body: str, prelude: str = "") -> str:
    """A module whose ``mse_loss`` runs ``body`` (indented) and whose gradient is right."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"{GOOD_GRAD}\n{prelude}\ndef mse_loss(y_pred, y):\n{lines}\n"


# name -> (source of the .py submission, words the mse_loss feedback must contain)
HOSTILE = {
    "infinite loop": (bad_loss("while True:\n    pass"), "timed out"),
    "sleep forever": (bad_loss("import time\ntime.sleep(10**6)"), "timed out"),
    "memory bomb": (bad_loss("x = bytearray(10**12)\nreturn 0.0"), "MemoryError"),
    "slow memory bomb": (bad_loss("x = []\nwhile True:\n    x.append(bytearray(10**8))"), ""),
    "deep recursion": (bad_loss("return mse_loss(y_pred, y)"), "RecursionError"),
    "recursion past the C stack": (bad_loss("import sys\nsys.setrecursionlimit(10**9)\nreturn mse_loss(y_pred, y)"), ""),
    "bounded fork": (bad_loss("import os\nfor _ in range(5):\n    os.fork()\nreturn 0.0"), "not allowed"),
    "subprocess": (bad_loss("import subprocess\nsubprocess.run(['sleep', '100'])\nreturn 0.0"), "not allowed"),
    "sys.exit(0)": (bad_loss("import sys\nsys.exit(0)"), "SystemExit"),
    "os._exit(0)": (bad_loss("import os\nos._exit(0)"), "exited with status 0"),
    "KeyboardInterrupt": (bad_loss("raise KeyboardInterrupt"), "KeyboardInterrupt"),
    "SystemExit": (bad_loss("raise SystemExit(3)"), "SystemExit"),
    "BaseException": (bad_loss("raise BaseException('boom')"), "BaseException: boom"),
    "patches numpy comparisons": (bad_loss(
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
        "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True\nreturn 0.0"),
        "wrong value"),
    "patches numpy at load time": (bad_loss("return 0.0", prelude=(
        "import numpy as np\n@(lambda f: (setattr(np, 'allclose', lambda *a, **k: True), f)[1])\n"
        "def helper():\n    pass\n")), "wrong value"),
    "patches builtins": (bad_loss("import builtins\nbuiltins.float = lambda *a: 0.0\nbuiltins.isinstance = lambda *a: True\nreturn 0.0"),
                         "did the code patch Python"),
    "fake results and fake passed lines": (bad_loss(
        "import json, os\nfor p in ('results.json', '/tmp/results.json'):\n"
        "    open(p, 'w').write(json.dumps({'score': 100, 'tests': []}))\n"
        "print('ex1_1 mse_loss: 5/5 points — all tests pass ✓')\nprint('PASSED ' * 1000)\nreturn -1.0"), "wrong value"),
    "output flood": (bad_loss("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 10**6)\nreturn -1.0"), "wrong value"),
    "deletes its working directory": (bad_loss(
        "import os, shutil\ntry:\n    open('junk', 'w').write('x')\n    shutil.rmtree(os.getcwd())\nexcept OSError:\n    pass\nreturn -1.0"), "wrong value"),
    "__eq__ that says True": (bad_loss(
        "class Liar(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\n"
        "class Obj:\n    def __eq__(self, other):\n        return True\nreturn Obj()"), "an object of type"),
    "ndarray subclass that lies": (bad_loss(
        "import numpy as np\nclass Lies(np.ndarray):\n    def __eq__(self, o):\n        return np.ones(np.shape(self), bool)\n"
        "    def __array__(self, *a, **k):\n        return np.asarray(0.5)\n"
        "return np.full((), 123.0).view(Lies)"), "wrong value"),
    "patches the worker's encoder": (bad_loss(
        "import sys\nsys.modules['olfworker.plain']._encode = lambda x: {'__nd__': 5}\nreturn -1.0"), "unreadable"),
    "mutates its inputs": (bad_loss(
        "import numpy as np\ny_pred -= y\ny_pred **= 2\nreturn float(np.mean(y_pred))"), "modified its input"),
    "returns a string": (bad_loss("return 'forty-two'"), "str"),
    "returns NaN": (bad_loss("return float('nan')"), "NaN"),
    "uses the reference answer": (bad_loss("from solutions.losses import mse_loss as ref\nreturn ref(y_pred, y)"),
                                  "reference solution"),
    "builds on another answer of its chapter": (bad_loss(
        "import numpy as np\nfrom solutions.losses import mse_loss_grad as given\n"
        "g = given(y_pred, y)\nreturn float(np.sum(g ** 2) * np.size(y_pred) / 4)"), "reference solution"),
    "imports the reference answer": (GOOD_GRAD + "\nfrom solutions.losses import mse_loss\n", "reference solution"),
    "syntax error in its cell": (GOOD_GRAD, "not defined"),          # see the notebook variant below
    "missing function": (GOOD_GRAD, "not defined"),
}


def grade(path):
    start = time.monotonic()
    report = grade_submission(path, EXERCISES, seed=7, limits=LIMITS)
    return report, time.monotonic() - start


def scores(report):
    return {ex: score for ex, (score, _, _) in report.by_exercise().items()}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in ("sleep forever", "output flood", "infinite loop", "recursion past the C stack") else n
                                  for n in HOSTILE])
def test_hostile_submission(name, tmp_path):
    source, words = HOSTILE[name]
    path = tmp_path / "submission.py"
    path.write_text(source, encoding="utf-8")
    report, seconds = grade(path)
    top = {ex: m for ex, (_, m, _) in report.by_exercise().items()}
    assert scores(report) == {"ex1_1": 0, "ex1_2": top["ex1_2"]}, [o.message for o in report.outcomes]
    messages = " | ".join(o.message for o in report.outcomes if o.exercise == "ex1_1")
    assert words in messages, messages
    assert seconds < 20 * TIMEOUT                   # bounded: a few exercise time-outs at most
    assert not (np.allclose(1.0, 2.0) or np.isclose(1.0, 2.0) or np.array_equal(1.0, 2.0))   # the grader's numpy is intact


def test_fake_results_are_never_read(tmp_path):
    """What the submission writes or prints never reaches the report but as a note."""
    path = tmp_path / "s.py"
    path.write_text(HOSTILE["fake results and fake passed lines"][0], encoding="utf-8")
    report, _ = grade(path)
    assert report.score == report.by_exercise()["ex1_2"][0]
    assert any("printed" in n for n in report.notes)


@pytest.mark.slow
def test_output_flood_is_capped(tmp_path):
    path = tmp_path / "s.py"
    path.write_text(HOSTILE["output flood"][0], encoding="utf-8")
    report, _ = grade(path)
    note = next(n for n in report.notes if "printed" in n)
    assert len(note) < 1000


def _notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                                  "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_syntax_error_costs_only_its_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(_notebook(GOOD_GRAD, "def mse_loss(y_pred, y)\n    return 0.0\n", "plt.plot([1, 2])"), encoding="utf-8")
    report, _ = grade(path)
    assert scores(report)["ex1_1"] == 0 and scores(report)["ex1_2"] > 0
    assert any("cell 2 has a syntax error" in n for n in report.notes)


def test_notebook_only_runs_definitions(tmp_path):
    """Training loops, plots and prints at the top level are not executed when grading."""
    path = tmp_path / "nb.ipynb"
    path.write_text(_notebook("import time\n" + GOOD_GRAD, "while True:\n    time.sleep(1)",
                              "%matplotlib inline\nraise SystemExit('top-level code ran')"), encoding="utf-8")
    report, seconds = grade(path)
    assert report.by_exercise()["ex1_2"][2] == "passed" and report.notes == [], (scores(report), report.notes)
    assert seconds < 10 * TIMEOUT


@pytest.mark.parametrize("content,words", [
    (b"{not json", "not a valid Jupyter notebook"),
    ('{"cells": "zzz"}'.encode(), "not a valid Jupyter notebook"),
    (_notebook(GOOD_GRAD).encode("utf-16"), "not UTF-8"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
])
def test_corrupt_notebook(tmp_path, content, words):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    report, _ = grade(path)
    assert report.score == 0 and report.max_score > 0
    assert words in report.error
    assert all(words in o.message for o in report.outcomes)


def test_notebook_without_exercise_cells(tmp_path):
    path = tmp_path / "empty.ipynb"
    path.write_text(_notebook("print('hello')", "x = 1"), encoding="utf-8")
    report, _ = grade(path)
    assert report.score == 0
    assert any("no exercise function is defined" in n for n in report.notes)
    assert all("not defined" in o.message for o in report.outcomes)


@pytest.mark.slow
def test_batch_never_stops_and_keeps_every_row(tmp_path):
    names = ["infinite loop", "os._exit(0)", "memory bomb", "patches numpy comparisons"]
    paths = []
    for i, name in enumerate(names):
        p = tmp_path / f"{i}_{name.replace(' ', '_')}.py"
        p.write_text(HOSTILE[name][0], encoding="utf-8")
        paths.append(str(p))
    paths.append(str(tmp_path / "missing.ipynb"))                      # does not exist
    reports = grade_many(paths, ["ex1_1", "ex1_2"], seed=3, jobs=2, limits=LIMITS)
    assert [r.submission for r in reports] == paths
    assert reports[-1].error and "does not exist" in reports[-1].error
    for r in reports[:-1]:
        assert r.by_exercise()["ex1_2"][0] > 0 and r.by_exercise()["ex1_1"][0] == 0
    csv_path = tmp_path / "grades.csv"
    write_csv(reports, csv_path)
    rows = csv_path.read_text().strip().splitlines()
    assert rows[0].startswith("submission,ex1_1,ex1_2,total,max_score")
    assert len(rows) == len(paths) + 1


def test_same_seed_same_report_and_new_seed_new_cases(tmp_path):
    path = tmp_path / "s.py"
    path.write_text(bad_loss("import numpy as np\nreturn float(np.sum((np.asarray(y_pred) - y) ** 2))"), encoding="utf-8")
    a = grade_submission(path, EXERCISES, seed=11)
    b = grade_submission(path, EXERCISES, seed=11)
    c = grade_submission(path, EXERCISES, seed=12)
    assert [o.message for o in a.outcomes] == [o.message for o in b.outcomes]
    assert [o.message for o in a.outcomes] != [o.message for o in c.outcomes]


def test_folder_files_have_their_own_namespaces(tmp_path):
    """A later file that imports the reference (as a lesson's setup cell may) does not hide
    the student's own definition in an earlier file."""
    (tmp_path / "01_mine.py").write_text(GOOD_GRAD + "\ndef mse_loss(y_pred, y):\n"
                                          "    return float(np.mean((np.asarray(y_pred) - y) ** 2))\n")
    (tmp_path / "02_later.py").write_text("from solutions.losses import mse_loss, mse_loss_grad\n")
    report, _ = grade(tmp_path)
    assert report.score == report.max_score, [o.message for o in report.outcomes]
