"""The public face of the grading framework: what graded test files and tools import.

A graded test is a *scenario*: ``scenario(ns, rng)`` calls the exercise's functions
through a namespace ``ns`` and returns plain data. The grader runs the same scenario
on the reference solution and on the submission with identically seeded generators and
compares the two results; the submission's functions run wherever its *subject* runs
them (a sandboxed worker process when grading, the student's own kernel for
:func:`autograder.check`). A scenario may also raise :class:`Failure` for a property.

The work is done in small modules, one job each:

* :mod:`autograder.engine.registry` — :class:`Exercise`, its tests and mistakes, :func:`load_exercises`;
* :mod:`autograder.engine.namespace` — how a scenario calls a subject (``ns.f(...)`` → :class:`Value`);
* :mod:`autograder.engine.compare` — :func:`compare`: what differs between two plain results;
* :mod:`autograder.engine.diagnosis` — :func:`run_test`: grade one test and name the known mistake;
* :mod:`autograder.worker.calling` — :func:`invoke`: the one place submitted code is called;
* :mod:`autograder.engine.questions` — :class:`Question`: an answer written as a literal, read without running it.
"""
from .engine.compare import compare
from .engine.diagnosis import diagnose, run_exercise, run_test
from .engine.namespace import Failure, LocalSubject, Namespace, NotAttempted, StudentError, Value
from .engine.questions import Question
from .engine.registry import (EXERCISES, FAILED, NOT_ATTEMPTED, PARTIAL, PASSED, Exercise, Mistake, Outcome,
                       Test, load_exercises, select)

__all__ = ["EXERCISES", "FAILED", "NOT_ATTEMPTED", "PARTIAL", "PASSED", "Exercise", "Failure",
           "LocalSubject", "Mistake", "Namespace", "NotAttempted", "Outcome", "Question", "StudentError", "Test",
           "Value", "compare", "diagnose", "load_exercises", "run_exercise", "run_test", "select"]
