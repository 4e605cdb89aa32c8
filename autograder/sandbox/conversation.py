"""The grader's conversation with a started worker: a request, the worker's callbacks
served on the way, and the reply — within the time its owner has left.

Every request has a budget of wall-clock time spent waiting for the worker (the grader's
own comparisons do not count); the reference functions the grader runs for the worker
(callbacks, :mod:`autograder.sandbox.served`) are charged to it too, and get at most
``timeout`` seconds of the grader's CPU time an exercise (:func:`.bounded.bounded`).
What comes back is bounded: strings and lists of a reply are cut to ``MAX_TEXT``
characters and ``MAX_LIST`` items (:func:`capped`). A request that fails (a timeout, a
worker that died or sent something unreadable) kills the worker and says why, in words
for the student.
"""
from __future__ import annotations

import json
import signal
import time

from .bounded import CallbackTimeout, bounded
from .process import WorkerProcess

#: What the workers of this process did, for ``benchmarks/grading.py``: calls of submitted
#: functions, callbacks served (a reference helper run for the worker), exercises (each a
#: fresh child of the worker) and the CPU seconds those children used.
TOTALS = {"calls": 0, "callbacks": 0, "exercises": 0, "exercise_cpu": 0.0}

MAX_TEXT = 1000              # characters kept of any string of a worker's reply (an error, a name ...)
MAX_LIST = 50                # items kept of any list of a worker's reply (the errors while loading ...)


def capped(x, depth: int = 0):
    """A worker's reply (but its graded value and a callback's arguments, which are data)
    with every string and list cut to
    ``MAX_TEXT`` characters and ``MAX_LIST`` items: what reaches a report is bounded."""
    if isinstance(x, str):
        return x if len(x) <= MAX_TEXT else x[:MAX_TEXT] + f"… ({len(x)} characters)"
    if depth > 5:
        return None
    if isinstance(x, list):
        more = [f"… and {len(x) - MAX_LIST} more"] if len(x) > MAX_LIST else []
        return [capped(v, depth + 1) for v in x[:MAX_LIST]] + more
    if isinstance(x, dict):
        return {capped(k, depth + 1): capped(v, depth + 1) for k, v in list(x.items())[:MAX_LIST]}
    return x


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"exited with status {code}"


class Conversation:
    """Requests to the started worker ``process`` (None until one is started), each within
    the ``budget`` of waiting left to its owner; ``timeout``: CPU seconds of an exercise."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.process: WorkerProcess | None = None
        self.failure: str | None = None        # why the current exercise can't go on
        self.budget = 0.0                      # seconds of waiting left to the current request's owner
        self.budget_given = 0.0                # ... and what it was when the exercise (or loading) began
        self.callback_left = 0.0               # seconds the grader may still spend on the worker's callbacks
        self.refused: dict = {}                # name -> reference function the worker may not call now
        self.sent: set = set()                 # (module, qualname) of test functions handed over in this exercise
        self.in_exercise = False
        self.died_silently = False             # the worker ended without a word or a byte of output

    def close(self) -> None:
        """Stop the worker: end of input lets an idle one exit (and be accounted); then kill
        whatever is left of it."""
        if self.process is not None:
            self.process.close(wait=0.2 if not (self.in_exercise or self.failure) else 0)
            self.process = None
        self.in_exercise = False

    def fail(self, reason: str) -> None:
        """The exercise cannot go on: kill the worker (with all it started); the next exercise starts anew."""
        self.failure = reason
        self.close()

    def await_exit(self) -> None:
        """Read (and drop) what is left until the worker reports the child's exit."""
        deadline = time.monotonic() + 5.0
        try:
            while not (line := self.process.channel.read_line(deadline)).startswith(b'{"status": "exited"'):
                pass
            TOTALS["exercises"] += 1
            TOTALS["exercise_cpu"] += float(json.loads(line).get("cpu") or 0.0)
        except (TimeoutError, EOFError, OSError, ValueError, TypeError):
            self.close()                      # the worker itself is unusable: start anew next time

    def exited(self, reply: dict, doing: str) -> str:
        code, cpu = reply.get("code"), float(reply.get("cpu") or 0.0)
        if code is not None and code < 0 and (cpu >= self.timeout or -code == signal.SIGXCPU):
            return (f"timed out: reached the limit of {self.timeout:g} s of CPU time while {doing} "
                    "(an infinite loop, or far too slow?)")
        return f"the worker running your code {describe_exit(code)} while {doing}"

    def serve(self, request: dict, deadline: float) -> None:
        """Answer the worker's question about (or call of) a name of its ``solutions`` façade.

        The grader's time running a reference function for the worker is the exercise's: it
        counts against the exercise's wall-clock ``deadline``, and all the calls of one
        exercise together get at most its CPU budget (``timeout`` seconds of the grader's CPU
        time); a call that would take longer is stopped (:func:`bounded`) and answered with
        an error."""
        from . import served                  # imports numpy: not before a worker is started (see prestart)
        op = request.get("op")
        began, cpu = time.monotonic(), time.thread_time()
        try:
            if op == "describe":
                answer = served.describe(request.get("module"), request.get("name"))
            elif op == "call":
                if self.callback_left <= 0 or deadline <= began:
                    answer = {"status": "error", "error": "the grader ran reference functions for your code "
                              f"for {self.timeout:g} s of CPU time already in this exercise: no more"}
                else:
                    answer = bounded(lambda: served.call(request.get("module"), request.get("name"),
                                                         request.get("args", ""), refused=self.refused,
                                                         sent=self.sent), deadline - began, self.callback_left)
        except CallbackTimeout:
            answer = {"status": "error", "error": f"{request.get('module')}.{request.get('name')} was stopped "
                      f"after {time.monotonic() - began:.1f} s: the grader runs reference functions for your "
                      f"code for at most {self.timeout:g} s an exercise"}
        except Exception as exc:  # noqa: BLE001 - a malformed request from the worker
            answer = {"status": "error", "error": f"the grader could not answer ({type(exc).__name__})"}
        else:
            if op not in ("describe", "call"):
                answer = {"status": "error", "error": "unknown request"}
        if op == "call":
            self.callback_left -= time.thread_time() - cpu
        self.process.channel.send(answer, time.monotonic() + 5.0)

    def request(self, message, doing: str):
        """Send ``message`` (a dict, or its JSON text), serve the worker's callbacks, return its
        reply; None when the request failed (``failure`` says why, in words for the student)."""
        if self.failure:
            return None
        deadline = time.monotonic() + self.budget
        channel = self.process.channel
        try:
            channel.send(message, deadline)
            while True:
                line = channel.read_line(deadline)
                if not line.strip():
                    continue
                reply = json.loads(line)
                if not isinstance(reply, dict):
                    raise ValueError("not an object")
                reply = {k: v if k in ("value", "args") else capped(v) for k, v in reply.items()}
                status = reply.get("status")
                if status == "callback":          # charged to the exercise (see serve)
                    TOTALS["callbacks"] += 1
                    self.serve(reply, deadline)
                    continue
                if status == "exited":            # the exercise's child is gone
                    self.in_exercise = False
                    self.failure = self.exited(reply, doing)
                    return None
                return reply
        except TimeoutError:
            self.fail(f"timed out after {self.budget_given:.3g} s of waiting while {doing} "
                      "(an infinite loop, sleeping, or far too slow?)")
        except (EOFError, BrokenPipeError, OSError):
            proc, output = self.process.proc, self.process.output
            code = proc.wait() if proc else None
            output.join(timeout=1)
            tail = output.text()[-300:].strip()
            self.died_silently = channel.received_nothing() and not output.total
            self.fail(f"the worker running your code {describe_exit(code)} while {doing}"
                      + (f"; its last output: {tail!r}" if tail else ""))
        except ValueError:
            self.fail(f"the worker sent something unreadable while {doing}")
        finally:
            self.budget = max(0.0, deadline - time.monotonic())
        return None
