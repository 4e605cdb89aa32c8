"""Feedback never hands over the answer to a graded value (issue 19, item 5: "fishing").

A fixed-input test's expected values are the same at every seed, and ``regrade`` reuses a
student's seed, so an expected value printed in feedback could be copied into the next
submission. Feedback says where a result is wrong, what the student's function returned there,
the size of the error (its order of magnitude only), the named mistake and its book section;
never the reference's value. Every format is checked: the text report, the JSON report,
Gradescope's results.json, the HTML page and ``check()`` in a lesson.

Also (issue 23): a submission that cannot be read says why once in the JSON and Gradescope
outputs, not once per test.
"""
import json

import numpy as np
import pytest

from autograder.feedback import check
from autograder.framework import load_exercises, select
from autograder.grade import failed_report, grade_submission
from autograder.instructor.html_report import to_html
from autograder.sandbox.bubblewrap import IsolationError, resolve_isolation
from autograder.engine.namespace import Namespace, Value
from autograder.instructor.report import to_json, to_results, to_text
from autograder.sandbox.limits import Limits

SEED = 7
EXERCISES = select(load_exercises(), ["ex1_1"])

# Right on seed 000's first case (a loss of 0), off by 0.1 % elsewhere: the first wrong value is
# w=0, b=0's, whose expected value 23.1666… is the same at every seed.
NEAR_MISS = '''
import numpy as np

def mse_loss(y_pred, y):
    m = float(np.mean((np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)) ** 2))
    return m * 1.001
'''


def _numbers(x):
    if isinstance(x, Value):
        yield from _numbers(x.plain)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _numbers(v)
    elif isinstance(x, np.ndarray):
        yield from (float(v) for v in x.ravel())
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield float(x)


def expected_values(ex, seed: int) -> list[float]:
    """Every nonzero number the reference returns on ``ex``'s tests at ``seed``."""
    values = set()
    for t in ex.tests:
        values |= {v for v in _numbers(t.scenario(Namespace(ex.reference(), ex), t.rng(seed)))
                   if v != 0 and np.isfinite(v)}
    return sorted(values)


def leaked(text: str, values) -> list[str]:
    """The ways of writing one of ``values`` (5 to 17 significant digits) that ``text`` contains."""
    return sorted({s for v in values for s in [repr(v)] + [f"{v:.{p}g}" for p in range(5, 18)] if s in text})


def _limits() -> Limits:
    try:
        resolve_isolation("bwrap")
        return Limits(timeout=5, memory_mb=1024, isolation="bwrap")
    except IsolationError:
        return Limits(timeout=5, memory_mb=1024, isolation="process")


def test_no_report_format_shows_an_expected_value(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(NEAR_MISS, encoding="utf-8")
    report = grade_submission(path, EXERCISES, seed=SEED, limits=_limits())
    assert report.score == 0 and "w=0.0, b=0.0" in report.outcomes[0].message, report.outcomes[0].message
    assert "23.18983" in report.outcomes[0].message          # the student's own value is shown
    values = expected_values(EXERCISES["ex1_1"], SEED)
    assert 23.166666666666668 in values
    for name, text in [("text", to_text(report)), ("json", to_json(report)),
                       ("gradescope", json.dumps(to_results(report, extended=False))),
                       ("html", to_html(report, stage="after_due_date"))]:
        assert leaked(text, values) == [], (name, text)


def test_check_in_a_lesson_shows_no_expected_value(capsys):
    namespace = {}
    exec(NEAR_MISS, namespace)
    check(namespace["mse_loss"], seed=0)
    out = capsys.readouterr().out
    assert "23.18983" in out and "✗" in out
    assert leaked(out, expected_values(EXERCISES["ex1_1"], 0)) == [], out


def test_a_named_mistake_is_still_named_without_the_expected_value(capsys):
    namespace = {}
    exec("import numpy as np\ndef mse_loss(y_pred, y):\n"
         "    return float(np.sum((np.asarray(y_pred, dtype=float) - y) ** 2))\n", namespace)
    check(namespace["mse_loss"], seed=0)
    out = capsys.readouterr().out
    assert "the sum of the squared errors instead of their mean" in out
    assert leaked(out, expected_values(EXERCISES["ex1_1"], 0)) == [], out


@pytest.mark.parametrize("fmt", ["json", "gradescope"])
def test_an_unreadable_submission_says_why_once(tmp_path, fmt):
    exercises = select(load_exercises(), ["ex1_1", "ex1_2"])
    report = failed_report(tmp_path / "x.ipynb", exercises, SEED, "the submission could not be read: "
                           "x.ipynb is not a notebook (unexpected end of JSON at line 3)")
    results = to_results(report, extended=fmt == "json")
    assert json.dumps(results).count("unexpected end of JSON") == 1, results
    assert len(results["tests"]) == sum(len(ex.tests) for ex in exercises.values())
    assert all(t["score"] == 0 and len(t["output"]) < 80 for t in results["tests"]), results["tests"]


@pytest.mark.parametrize("got,expected,secret", [
    (1.0, 98765.4321, "98765"),
    (np.array([1.0, np.nan]), np.array([1.0, 98765.4321]), "98765"),
    (np.array([1.0, 2.0]), np.array([1.0, 98765.4321]), "98765"),
    (np.array([1.0, 2.0], dtype=np.float32), np.array([1.0, 98765.4321]), "98765"),
    ("98", 98765.4321, "98765"),
    (None, 98765.4321, "98765"),
    (5, 987654321, "987654321"),
    (5, 10**400 + 987654321, "987654321"),
    ("my guess", "secret-answer", "secret"),
    (False, True, "True"),
    ([1.0], (98765.4321, 2.0), "98765"),
    ({"a": 1.0}, {"a": 98765.4321}, "98765"),
])
def test_compare_never_says_the_expected_value(got, expected, secret):
    from autograder.engine.compare import compare
    from autograder.worker.plain import to_plain
    message = compare(to_plain(got), to_plain(expected))
    assert message is not None and secret not in message, message


def test_the_error_is_an_order_of_magnitude_in_the_same_words_whatever_the_expected_value():
    from autograder.engine.compare import compare
    # a zero expected value reads as any value of the other sign, or far away, does
    assert compare(0.5, 0.0) == compare(0.5, -3.0) == compare(0.5, 80.0) == (
        "wrong value: got 0.5 (relative error of order 1e+00; 1 of 1 values differ)")
    assert compare(1e308, -1e308) == "wrong value: got 1e+308 (relative error of order 1e+00; 1 of 1 values differ)"
    assert "relative error of order 1e-03;" in compare(1.0, 1.0017) and "1.0017" not in compare(1.0, 1.0017)
