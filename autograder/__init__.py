"""The course's autograder.

``from autograder import check`` is what the lessons use for instant feedback; the
command line (``python -m autograder grade ...``) is for grading submissions.
"""
from __future__ import annotations

import os

__all__ = ["check"]


def check(*functions, seed: int = 0, **answers):
    """Run the graded tests of an exercise on your functions, right here in the notebook.

    Usage in a lesson: ``adam_init, adam_update = check(adam_init, adam_update)``.
    Prints the points and the feedback, and returns your functions when every test
    passes — otherwise the reference solution, so that the rest of the lesson still
    works (a note says so). A question's answer is checked by name:
    ``check(largest_stable_lr=largest_stable_lr)`` (it returns nothing). While a
    submission is being graded this does nothing.
    """
    if os.environ.get("OLF_WORKER"):
        return None if answers or not functions else functions[0] if len(functions) == 1 else functions
    from .feedback import check as _check
    return _check(*functions, seed=seed, **answers)
