"""The time budget is the student's: CPU time of the submission's own code, and wall-clock
time only while the grader waits for it — never the grader's own work. A timed-out
exercise's worker is killed quietly (its traceback is not "your code printed ...")."""
import time

import pytest

from autograder.sandbox import served
from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.sandbox.limits import Limits

EXERCISES = select(load_exercises(), ["ex1_1", "ex1_2"])

GOOD = '''
import numpy as np

def mse_loss_grad(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - np.asarray(y, dtype=float)) / y_pred.size
'''


def scores(report):
    return {ex: s for ex, (s, _m, _st) in report.by_exercise().items()}


@pytest.mark.slow                     # it waits for a slowed grader
@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_a_slow_grader_does_not_time_out_correct_code(isolation, tmp_path, monkeypatch):
    """The reference helpers the grader runs take, together, longer than the student's CPU
    budget: that budget is the student's own code's. (Their wall-clock time is charged to the
    exercise's wall-clock budget, ten times as long: a callback is never unbounded.)"""
    slow = served.call

    def sluggish(*args, **kwargs):
        time.sleep(0.4)
        return slow(*args, **kwargs)
    monkeypatch.setattr(served, "call", sluggish)
    path = tmp_path / "s.py"
    path.write_text(GOOD + '''
from solutions.losses import sigmoid

def mse_loss(y_pred, y):
    d = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return float(np.mean(d ** 2)) + 0.0 * float(np.sum(sigmoid(np.zeros(1))))
''')
    report = grade_submission(path, select(load_exercises(), ["ex1_1"]), seed=1,
                              limits=Limits(timeout=1, isolation=isolation))
    assert report.score == report.max_score > 0, [o.message for o in report.outcomes]


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_an_infinite_loop_times_out_on_cpu_time_and_prints_nothing(isolation, tmp_path):
    path = tmp_path / "s.py"
    path.write_text(GOOD + "\ndef mse_loss(y_pred, y):\n    while True:\n        pass\n")
    start = time.monotonic()
    report = grade_submission(path, EXERCISES, seed=1, limits=Limits(timeout=1, isolation=isolation))
    assert time.monotonic() - start < 30
    ex1_1 = [o.message for o in report.outcomes if o.exercise == "ex1_1"]
    assert scores(report)["ex1_1"] == 0 and scores(report)["ex1_2"] > 0
    assert "timed out: reached the limit of" in ex1_1[0] and "CPU time" in ex1_1[0], ex1_1
    assert "used" not in ex1_1[0], ex1_1     # not "used 9.0 s ... (the limit is 10 s)": it reads as a contradiction
    assert not [n for n in report.notes if "printed" in n], report.notes     # no worker traceback


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_waiting_is_bounded_by_wall_clock_time(isolation, tmp_path):
    path = tmp_path / "s.py"
    path.write_text(GOOD + "\ndef mse_loss(y_pred, y):\n    import time\n    time.sleep(10**6)\n")
    report = grade_submission(path, EXERCISES, seed=1, limits=Limits(timeout=1, isolation=isolation))
    ex1_1 = [o.message for o in report.outcomes if o.exercise == "ex1_1"]
    assert scores(report)["ex1_1"] == 0 and scores(report)["ex1_2"] > 0
    assert "timed out after 10 s of waiting" in ex1_1[0], ex1_1
    assert not [n for n in report.notes if "printed" in n], report.notes


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_a_heavy_library_imported_at_the_top_works_in_graded_code(isolation, tmp_path):
    """matplotlib, scipy ... are imported only when graded code uses them (and then work)."""
    path = tmp_path / "s.py"
    path.write_text('''
import numpy as np
import matplotlib.pyplot as plt
import scipy.special as sp
from scipy.special import expit, xlogy

def mse_loss(y_pred, y):
    d = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return float(np.mean(d ** 2) + xlogy(1.0, 1.0) + 0.0 * sp.expit(0.0))

def mse_loss_grad(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - np.asarray(y, dtype=float)) / y_pred.size + 0.0 * expit(0.0)
''')
    report = grade_submission(path, EXERCISES, seed=2, limits=Limits(isolation=isolation))
    assert report.score == report.max_score > 0, [o.message for o in report.outcomes]
