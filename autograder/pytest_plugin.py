"""The pytest plugin of the graded tests (loaded with ``-p autograder.pytest_plugin``, see pyproject).

pytest runs the graded tests too: ``pytest autograder/tests [--submission PATH] [-m ex5_3]``.

Without ``--submission`` the subject is the reference solution (so this suite checks
that every scenario runs and the reference passes its own property checks); with it,
the submission is loaded into a sandboxed worker exactly as ``python -m autograder
grade`` does. Each test is marked with its exercise id (``-m ex5_3``) and ``points``.
"""
import pytest

from autograder.framework import load_exercises


def pytest_addoption(parser):
    parser.addoption("--submission", default=None, help="grade this notebook/.py/folder instead of the reference")
    parser.addoption("--grading-seed", type=int, default=0, help="seed of the random test cases")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points a graded test is worth")
    for ex_id, ex in load_exercises().items():
        config.addinivalue_line("markers", f"{ex_id}: graded tests of {ex_id} ({ex.title})")


@pytest.fixture(scope="session")
def seed(request):
    return request.config.getoption("--grading-seed")


@pytest.fixture(scope="session")
def _worker(request):
    path = request.config.getoption("--submission")
    if path is None:
        yield None
        return
    from autograder.loader import read_submission
    from autograder.sandbox import WorkerSubject
    exercises = load_exercises()
    graded = {name: ex.module for ex in exercises.values() for name in ex.functions}
    with WorkerSubject(read_submission(path).cells, graded) as worker:
        worker.start()
        yield worker


@pytest.fixture
def student(request, _worker):
    test = request.function.graded_test
    if _worker is None:
        return test.exercise.reference()
    _worker.begin_exercise(test.exercise.id)
    return _worker
