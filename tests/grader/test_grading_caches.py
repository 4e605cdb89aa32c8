"""The caches that make batch grading fast must never change a grade.

The reference's (and each registered mistake's) result of a scenario is computed once per
test, seed and functions in a grading process (``autograder.engine.diagnosis``); a question's
answer is read from each cell once (``autograder.engine.questions``).
"""
import numpy as np
import pytest

from autograder.engine import diagnosis
from autograder.framework import LocalSubject, load_exercises, run_test
from autograder.engine.questions import read_answer

EX = load_exercises()["ex5_3"]          # adam_init, adam_update: trajectories of arrays and NamedTuples


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts from an empty cache: other tests of the same process grade at the same seeds."""
    diagnosis._RESULTS.clear()
    yield
    diagnosis._RESULTS.clear()


def _arrays(x):
    x = getattr(x, "plain", x)
    if isinstance(x, np.ndarray):
        yield x
    elif isinstance(x, (list, tuple)):
        for item in x:
            yield from _arrays(item)
    elif isinstance(x, dict):
        for item in x.values():
            yield from _arrays(item)


def _wrong_functions():
    mistake = EX.mistakes[0]
    return {**EX.functions, mistake.replaces: mistake.function}


def test_the_reference_runs_once_per_test_and_seed(monkeypatch):
    runs = []
    real = diagnosis._scenario_result
    monkeypatch.setattr(diagnosis, "_scenario_result", lambda test, subject, seed: runs.append(subject)
                        or real(test, subject, seed))
    test, seed = EX.tests[0], 987_654
    first = [run_test(test, LocalSubject(EX.functions), seed) for _ in range(3)]
    assert len(runs) == 1 + 3                  # the reference once, the subject three times
    assert all(o.passed for o in first)
    run_test(test, LocalSubject(EX.functions), seed + 1)
    assert len(runs) == 4 + 2                  # another seed: the reference runs again


def test_a_kept_result_is_frozen_and_grades_as_a_fresh_one():
    seed = 424_242
    wrong = [run_test(t, LocalSubject(_wrong_functions()), seed) for t in EX.tests]
    kept = [diagnosis._known_result(t, EX.functions, seed) for t in EX.tests]
    arrays = [a for _, result in kept for a in _arrays(result)]
    assert arrays and not any(a.flags.writeable for a in arrays)
    with pytest.raises(ValueError):
        arrays[0][...] = 0.0
    again = [run_test(t, LocalSubject(_wrong_functions()), seed) for t in EX.tests]   # from the caches
    assert [(o.score, o.message) for o in again] == [(o.score, o.message) for o in wrong]
    assert any("matches a known mistake" in o.message for o in again)
    diagnosis._RESULTS.clear()
    fresh = [run_test(t, LocalSubject(_wrong_functions()), seed) for t in EX.tests]
    assert [(o.score, o.message) for o in fresh] == [(o.score, o.message) for o in wrong]


def test_other_functions_are_other_results():
    """A different reference or mistake (other function objects) never shares a kept result."""
    seed, test = 31_337, EX.tests[0]
    ref = diagnosis._known_result(test, EX.functions, seed)
    mistaken = diagnosis._known_result(test, _wrong_functions(), seed)
    assert ref is not mistaken


def test_an_answer_is_read_from_the_last_assignment_each_time():
    cells = ["x = 1", "y = 2\nx = 3", "x = (", "z: float = 0.5"]
    assert read_answer(cells, "x").value == 3
    assert read_answer(cells, "z").value == 0.5
    assert read_answer(cells + ["x = 4"], "x").value == 4
    assert read_answer(cells[:1], "x").value == 1
