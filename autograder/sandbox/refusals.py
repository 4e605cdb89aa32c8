"""Which reference functions the worker may not have the grader run for it, and when.

The grader serves the worker the reference's helpers (:mod:`autograder.sandbox.served`),
but never an answer the code being graded could build on. Which answers those are is the
course's rule (:func:`autograder.grade.refusals`), handed to the sandbox as data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Refusals:
    """The refused reference functions (name -> function): ``at_load`` while the submission
    loads, ``by_exercise[id]`` while exercise ``id`` is graded (``at_load`` for an id not there)."""

    at_load: dict[str, Callable] = field(default_factory=dict)
    by_exercise: dict[str, dict[str, Callable]] = field(default_factory=dict)

    def during(self, ex_id: str) -> dict[str, Callable]:
        return self.by_exercise.get(ex_id, self.at_load)
