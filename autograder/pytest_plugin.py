"""The pytest plugin of the graded tests (loaded with ``-p autograder.pytest_plugin``, see pyproject).

The third way to grade, beside ``check()`` in a notebook and ``python -m autograder grade``::

    pytest autograder/tests --submission PATH [--grading-seed N] [-m ex5_3]

grades the notebook, ``.py`` file or folder ``PATH`` in a sandboxed worker, exactly as
``grade`` does (the same loader, worker, scenarios and diagnosis), one pytest item per
graded test: a failed item's message is the student's feedback. Each item is marked with
its exercise id (``-m "ex5_3 or ex5_4"``) and ``points(n)``. Without ``--submission`` the
graded tests are skipped: the reference is checked against its own tests by
``tests/grader/test_meta.py``, not here.
"""
import pytest

from autograder.engine.registry import load_exercises

SKIP_REASON = "graded tests grade a submission: pytest autograder/tests --submission PATH"


def pytest_addoption(parser):
    group = parser.getgroup("autograder", "grading a submission with the graded tests")
    group.addoption("--submission", default=None, metavar="PATH",
                    help="grade this notebook/.py/folder with the graded tests of autograder/tests")
    group.addoption("--grading-seed", type=int, default=0, help="seed of the random test cases (default 0)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points a graded test is worth")
    for ex_id, ex in load_exercises().items():
        config.addinivalue_line("markers", f"{ex_id}: graded tests of {ex_id} ({ex.title})")
    path = config.getoption("--submission")
    if path is not None:
        from autograder.loader import SubmissionError, read_submission
        try:
            config._olf_submission = read_submission(path, {n for ex in load_exercises().values() for n in ex.functions})
        except SubmissionError as exc:
            raise pytest.UsageError(f"--submission {path}: {exc}") from None


@pytest.fixture(scope="session")
def run_test():
    """How a graded test is run on the student's code: the one the grader uses."""
    from autograder.engine.diagnosis import run_test
    return run_test


@pytest.fixture(scope="session")
def seed(request):
    return request.config.getoption("--grading-seed")


@pytest.fixture(scope="session")
def _worker(request):
    sub = getattr(request.config, "_olf_submission", None)
    if sub is None:
        yield None
        return
    from autograder.grade import refusals
    from autograder.sandbox.subject import WorkerSubject
    from autograder.engine.questions import Question
    graded = {name: ex.module for ex in load_exercises().values() if not isinstance(ex, Question)
              for name in ex.functions}
    with WorkerSubject(sub.cells, graded, refusals=refusals(load_exercises())) as worker:
        worker.start()
        yield worker


@pytest.fixture
def student(request, _worker):
    if _worker is None:
        pytest.skip(SKIP_REASON)
    test = request.function.graded_test
    from autograder.engine.questions import Question
    from autograder.loader import submission_sources
    if isinstance(test.exercise, Question):      # a literal answer, read here: no code of it runs
        return test.exercise.subject_from(submission_sources(request.config.getoption("--submission")))
    _worker.begin_exercise(test.exercise.id)
    return _worker
