"""Questions: exercises whose answer is a value the student derives, written as a literal.

A question asks for a number to derive (the largest stable learning rate of a given
quadratic), a prediction to make before an experiment runs, or a choice between
conventions. The student answers in the question's cell of the lesson::

    largest_stable_lr = 0.333      # ex2_5: your answer, a number (3 significant digits)

The grader reads the answer *without running the submission*: it finds the last top-level
assignment ``largest_stable_lr = <literal>`` in the submission's code cells (as written, not
only the code the loader keeps) and evaluates its right-hand side with
:func:`ast.literal_eval`, in the grader's process. A literal is a
number, a string, or a tuple of them; ``None`` or ``...`` (the stub) means "not answered
yet"; an expression (``2 / 6``, ``np.sqrt(2)``) is refused with a message that asks for the
number itself. ``check(largest_stable_lr=largest_stable_lr)`` in the lesson applies the
same rule to the cell the student ran.

The reference answer is computed by a function of the chapter's module whose name is the
answer's name plus ``_answer`` (``solutions.gradient_descent.largest_stable_lr_answer()``):
its source is the derivation that the folded solution shows. Known wrong answers are
registered as mistakes, zero-argument functions that compute them the wrong way, so the
feedback names the misconception. Everything else (points, diagnosis, reports,
gradebook, Gradescope) is the machinery of every exercise::

    ex2_5 = Question("ex2_5", ref.largest_stable_lr_answer, anchor="gd-divergence")
    test_largest_stable_lr = ex2_5.graded(points=1, digits=3)

    @ex2_5.mistake("largest_stable_lr_answer", "1/L: the step with the largest guaranteed decrease, ...")
    def stable_lr_one_over_L():
        return 1.0 / np.linalg.eigvalsh(ref.STABILITY_HESSIAN).max()
"""
from __future__ import annotations

import ast
import functools
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..worker.calling import invoke
from .compare import compare
from ..worker.plain import describe, to_plain
from .registry import Exercise

SUFFIX = "_answer"
ANSWERED, UNANSWERED, INVALID, MISSING = "answered", "unanswered", "invalid", "missing"


@dataclass(frozen=True)
class Answer:
    """What a submission answers to one question: a status, the value, or why it cannot be read."""

    status: str                  # ANSWERED | UNANSWERED | INVALID | MISSING
    value: Any = None
    message: str = ""


def _plain_literal(value: Any) -> bool:
    if isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return abs(value) < 10 ** 300
    if isinstance(value, float):
        return True
    if isinstance(value, (tuple, list)):
        return len(value) <= 100 and all(_plain_literal(v) and not isinstance(v, (tuple, list)) for v in value)
    return False


def literal_answer(node: ast.expr, name: str, choices: tuple | None = None) -> Answer:
    """The answer that the right-hand side ``node`` of ``name = ...`` gives (never runs code)."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        code = ast.unparse(node)
        code = code if len(code) <= 40 else code[:37] + "..."
        return Answer(INVALID, message=(
            f"`{name} = {code}` is not a literal: write the value itself (a number such as 0.25, "
            "a string such as 'b', or a tuple of them), not an expression; the grader reads your "
            "answer without running your code"))
    if value is None or value is Ellipsis:
        return Answer(UNANSWERED)
    if not _plain_literal(value):
        return Answer(INVALID, message=f"`{name}` is {describe(to_plain(value))}; answer with a number, "
                                       "a string or a tuple of them")
    if isinstance(value, list):
        value = tuple(value)
    if choices is not None and isinstance(value, str):
        value = value.strip().lower()
    return Answer(ANSWERED, value)


@functools.lru_cache(maxsize=256)
def _assignments(source: str) -> tuple[tuple[str, ast.expr], ...]:
    """The top-level assignments ``name = value`` of one cell, in order (none if it does not
    parse). Kept for the cells last read: every question of a submission reads the same cells."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line    # IPython magics, shell lines
                       for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    found: list[tuple[str, ast.expr]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.append((node.target.id, node.value))
    return tuple(found)


def read_answer(sources, name: str, choices: tuple | None = None) -> Answer:
    """The answer to ``name`` in code ``sources`` (cells in order): its last top-level assignment.

    Cells that do not parse are passed over (the loader skips them too).
    """
    found = None
    for source in sources:
        for target, value in _assignments(str(source)):
            if target == name:
                found = value
    if found is None:
        return Answer(MISSING, message=f"no answer: the submission has no line `{name} = <your answer>` "
                                       "at the top level of a cell")
    return literal_answer(found, name, choices)


class AnswerSubject:
    """A subject that answers a question's one call with the submission's literal answer."""

    def __init__(self, question: "Question", answer: Answer):
        self.question, self.answer, self.objects = question, answer, {}

    def invoke(self, name: str, request) -> dict:
        if name != self.question.function_name:
            return {"status": "missing"}
        if self.answer.status == ANSWERED:
            return invoke(lambda: self.answer.value, self.objects, request)
        if self.answer.status == UNANSWERED:
            return {"status": "not-implemented", "error": self.question.id}
        return {"status": "error", "error": self.answer.message}


class Question(Exercise):
    """An exercise answered by a literal value: ``<name> = <literal>`` in a tagged cell.

    Parameters
    ----------
    id : str
        ``ex<chapter>_<n>``, numbered with the chapter's other exercises.
    answer : callable
        The reference: a function of ``solutions.<module>`` named ``<name>_answer``, without
        arguments, that computes the answer (its source is the derivation the book shows).
    anchor : str, optional
        The MyST label of the section that asks the question.
    choices : tuple of str, optional
        For a multiple-choice question, the allowed answers (lower case); the student's
        string is compared after ``strip().lower()``.
    """

    def __init__(self, id: str, answer: Callable, *, anchor: str | None = None,
                 choices: tuple[str, ...] | None = None, visibility: str = "visible"):
        if not getattr(answer, "__name__", "").endswith(SUFFIX):
            raise ValueError(f"{id}: the reference of a question is named <answer name>{SUFFIX}, not {answer!r}")
        super().__init__(id, answer, anchor=anchor, visibility=visibility)
        self.function_name = answer.__name__
        self.name = answer.__name__.removesuffix(SUFFIX)
        self.choices = tuple(choices) if choices else None
        self.digits: int | None = None

    @property
    def title(self) -> str:
        return self.name

    @property
    def untouched(self) -> str:
        return f"the answer is still the stub's `{self.name} = None`"

    def expected(self) -> Any:
        """The reference answer, as plain data."""
        return to_plain(self.functions[self.function_name]())

    def kind(self) -> str:
        """What the answer is, in words (for the stub and the feedback)."""
        expected = self.expected()
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if isinstance(expected, tuple):
            return f"a tuple of {len(expected)} numbers" + (f" ({self.digits} significant digits)" if self.digits else "")
        if isinstance(expected, int) and not isinstance(expected, bool):
            return "a whole number"
        return "a number" + (f" ({self.digits} significant digits)" if self.digits else "")

    def graded(self, points: float = 1, *, digits: int | None = None):
        """Register the question's one graded test, worth ``points``.

        ``digits``: a number is right when within half a unit of its ``digits``-th significant
        digit (relative tolerance ``5 × 10^-digits``), so a correctly rounded answer with that
        many digits counts. ``None``: compared exactly (whole numbers, choices).
        """
        if self.tests:
            raise ValueError(f"{self.id} is already graded: a question has one graded test")
        self.digits = digits
        rtol = 5 * 10.0 ** -digits if digits else 0.0
        function_name = self.function_name

        def scenario(ns, rng):
            return getattr(ns, function_name)()
        scenario.__name__ = scenario.__qualname__ = f"test_{self.name}"
        scenario.__doc__ = "your answer" + (f", to {digits} significant digits" if digits else "")
        scenario.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
        return self.test(points, rtol=rtol, atol=0.0)(scenario)

    def explain(self, message: str, got: Any, expected: Any) -> str:
        """The feedback on a wrong answer: what is wrong with it, never the expected value."""
        got = to_plain(got.plain if hasattr(got, "plain") else got)
        text = repr(got)
        shown = f"`{self.name} = {text if len(text) <= 60 else text[:57] + '...'}`"
        if self.choices:
            if got not in self.choices:
                return f"{shown} is not one of the choices {', '.join(repr(c) for c in self.choices)}"
            return f"{shown} is not the right choice"
        if isinstance(expected, tuple):
            if not isinstance(got, tuple) or len(got) != len(expected):
                return f"{shown}: the answer is {self.kind()}"
            wrong = [i + 1 for i, (g, e) in enumerate(zip(got, expected))
                     if compare(g, e, rtol=self.tests[0].rtol, atol=0.0) is not None]
            return f"{shown}: item {', '.join(map(str, wrong)) or '?'} of the tuple is not right"
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"{shown}: the answer is {self.kind()}"
        if not math.isfinite(got):
            return f"{shown} is not right: the answer is a finite number"
        precision = f" (it is graded to {self.digits} significant digits)" if self.digits else ""
        return f"{shown} is not right{precision}"

    def subject_from(self, sources) -> AnswerSubject:
        """The subject that grades the answer found in code ``sources`` (cells in order)."""
        return AnswerSubject(self, read_answer(sources, self.name, self.choices))


def stub_source(q: Question) -> str:
    """The question's cell in the lesson: the answer's name, not answered yet."""
    return f"{q.name} = None  # {q.id}: your answer, {q.kind()}"


def check_source(q: Question) -> str:
    return f"check({q.name}={q.name})"


def solved_source(q: Question) -> str:
    """The question's cell with the reference answer written in (for tests)."""
    return f"{q.name} = {q.expected()!r}"


def answer_in_kernel(q: Question, value: Any) -> Answer:
    """The student's answer in a live notebook: the last cell run that assigns it, read as a literal.

    Outside IPython (a script) the value itself is used if a literal could have written it.
    """
    history = None
    try:
        from IPython import get_ipython
        shell = get_ipython()
        history = shell.user_ns.get("In") if shell is not None else None
    except ImportError:
        pass
    if history:
        answer = read_answer([history[-1]], q.name, q.choices)          # the cell that called check
        for source in reversed(history[:-1]):
            if answer.status != MISSING:
                break
            answer = read_answer([source], q.name, q.choices)
        if answer.status != MISSING:
            return answer
    try:
        node = ast.parse(repr(value), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        node = ast.Name(type(value).__name__)
    return literal_answer(node, q.name, q.choices)


def questions(exercises: dict[str, Exercise]) -> dict[str, Question]:
    """The questions among ``exercises``."""
    return {k: v for k, v in exercises.items() if isinstance(v, Question)}
