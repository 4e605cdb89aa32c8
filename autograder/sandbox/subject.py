"""The worker as a subject: what the graded tests call when grading a submission.

A :class:`WorkerSubject` starts an isolated worker process (:mod:`.process`; the isolation
is :mod:`.bubblewrap`'s or :mod:`.confinement`'s), loads the submission into it, and runs
each exercise in a fresh child of the loaded worker, with a fresh budget: ``timeout``
seconds of CPU time (a loaded machine does not eat it) and, for code that waits instead,
``WALL_FACTOR`` times as much wall-clock time spent waiting for the worker
(:mod:`.conversation`). A whole submission gets ``Limits.total`` seconds. When an exercise
times out or its worker dies, the worker is killed with everything it started, and the
next exercise gets a new one; a function that timed out is not called again in its
exercise. Every call crosses a pipe as plain data (:mod:`.channel`).

A worker can be started ahead of time (:func:`prestart`: ``grade`` starts the first one
before it imports numpy and the graded tests, which is why this module imports neither).
"""
from __future__ import annotations

import atexit
import json
import os
import threading
import time

from .bubblewrap import resolve_isolation, user_ids
from .conversation import TOTALS, Conversation
from .cpus import cpus
from .limits import WALL_FACTOR, Limits
from .process import Output, WorkerProcess
from .refusals import Refusals


def worker_user(limits: Limits) -> tuple[tuple[int, int], bool, bool]:
    """Who the worker runs as: ``(uid, gid)``; whether it gives up the grader's user; and
    whether each worker gets a uid of its own (a root grader without ``--sandbox-user``,
    see :func:`.confinement.worker_ids`)."""
    ids = user_ids(limits.user)
    own_uid = ids is None and os.geteuid() == 0
    return ids if ids else (os.getuid(), os.getgid()), ids is not None or own_uid, own_uid


class WorkerSubject(Conversation):
    """Runs a submission's selected code in an isolated worker and calls its functions.

    Parameters
    ----------
    cells : list of (file, label, code)
        The submission's code, as selected by :mod:`autograder.loader`.
    graded : dict name -> module
        The functions being graded.
    limits : Limits
        Time, memory, user and isolation of the worker.
    refusals : Refusals
        The reference functions the worker may not have the grader run, when.

    Raises
    ------
    IsolationError
        The isolation required by ``limits`` is not available here.
    """

    label = "your code"

    def __init__(self, cells, graded: dict[str, str], limits: Limits = Limits(), *, refusals: Refusals):
        super().__init__(limits.timeout)
        self.cells, self.graded, self.limits, self.refusals = cells, graded, limits, refusals
        self.isolation = resolve_isolation(limits.isolation, limits.user)
        self.ids, self.drops, self.own_uid = worker_user(limits)
        self.output = Output(-1)               # the current (or last) worker's output, kept after it ends
        self.output_mark = 0
        self.load_failure: str | None = None   # why the submission could not be loaded at all
        self.load_errors: list[str] = []
        self.functions: dict[str, str] = {}
        self.ends = float("inf")               # when the submission's whole time (limits.total) is up

    @property
    def proc(self):
        """The worker's process (``subprocess.Popen``), None when none runs."""
        return self.process.proc if self.process is not None else None

    # -- life cycle ------------------------------------------------------------------------------
    def _spawn(self) -> None:
        self.process = WorkerProcess.spawn(self.isolation, self.limits, self.ids, self.drops, self.own_uid)

    def start(self) -> None:
        """Start a worker (or adopt the one :func:`prestart` made) and load the submission into it.

        A worker that died before it read the submission (the grader's side: a fork refused on
        a loaded machine, bubblewrap failing) is started once more, never the student's zero.
        """
        self._start()
        if self.load_failure and self.died_silently:
            self.failure = self.load_failure = None
            self._start()

    def _start(self) -> None:
        self.died_silently = False
        if self.ends == float("inf"):
            self.ends = time.monotonic() + self.limits.total
        spare = _take_spare(self.limits)
        if spare is None:
            self._spawn()
        else:
            self.process = spare
        self.output = self.process.output
        self.budget = self.budget_given = min(WALL_FACTOR * self.timeout, max(0.0, self.ends - time.monotonic()))
        self.callback_left = self.timeout
        self.refused, self.sent, self.in_exercise = self.refusals.at_load, set(), False
        reply = self.request({"op": "load", "cells": self.cells, "graded": list(self.graded),
                              "cpus": cpus()}, "loading the submission")
        if reply is None:
            self.load_failure = self.failure
        else:
            self.load_errors, self.functions = reply["errors"], reply["functions"]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def begin_exercise(self, ex_id: str) -> None:
        """Start the next exercise in a fresh child of the loaded worker, with a fresh time budget."""
        self.end_exercise()
        self.failure = self.load_failure
        if self.load_failure:
            return
        left = self.ends - time.monotonic()
        if left <= 0:
            self.failure = (f"not run: grading this submission took its whole {self.limits.total:g} s "
                            "(code that sleeps or is far too slow)")
            return
        if self.process is None or not self.process.alive():
            self.close()
            self.start()
            if self.load_failure:
                self.failure = self.load_failure
                return
        self.refused = self.refusals.during(ex_id)
        self.sent = set()
        left = max(0.0, self.ends - time.monotonic())
        self.budget = self.budget_given = min(WALL_FACTOR * self.timeout, left)
        self.callback_left = self.timeout
        self.output.drain()
        self.output_mark = self.output.total
        if self.request({"op": "begin", "cpu": self.timeout, "cpus": cpus()}, "starting the exercise") is not None:
            self.in_exercise = True

    def end_exercise(self) -> None:
        """Let the exercise's child exit and wait until the worker says it is gone."""
        if not self.in_exercise or self.process is None:
            return
        self.in_exercise = False
        try:
            self.process.channel.send({"op": "end"}, time.monotonic() + 5.0)
        except (TimeoutError, OSError):
            self.close()
            return
        self.await_exit()

    # -- the Subject API -------------------------------------------------------------------------
    def printed(self) -> tuple[int, str]:
        """How much the submission printed since the exercise began, and the start of it."""
        if self.load_failure:
            return 0, ""
        self.output.drain()                   # what it printed before its last reply
        n = self.output.total - self.output_mark
        return n, self.output.text(min(self.output_mark, len(self.output.kept))) if n else ""

    def invoke(self, name: str, request) -> dict:
        if self.failure:
            return {"status": "error", "error": f"not run: {self.failure}"}
        state = self.functions.get(name)
        if state == "reference":
            return {"status": "error",
                    "error": f"`{name}` is the reference solution imported from solutions, which scores zero"}
        from ..worker.plain import decode
        from . import served
        TOTALS["calls"] += 1
        message = json.dumps({"op": "call", "name": name, "request": request}, separators=(",", ":"))
        self.sent |= served.functions_sent(request)
        reply = self.request(message, f"running `{name}`")
        if reply is None:
            return {"status": "error", "error": self.failure}
        if reply.get("status") == "ok":
            try:
                reply["value"] = decode(reply["value"])
                if not (isinstance(reply["handle"], int) and isinstance(reply.get("mutated"), (int, str, type(None)))):
                    raise ValueError
            except Exception:  # noqa: BLE001 - whatever a patched worker sends
                return {"status": "error", "error": f"the worker sent something unreadable while running `{name}`"}
        return reply


# --- a worker started ahead of time ------------------------------------------------------------

_SPARES: dict = {}           # Limits -> (the process that made it, WorkerProcess or None)
_SPARES_LOCK = threading.Lock()


def prestart(limits: Limits = Limits()) -> None:
    """Start a worker for the next submission now, and return: its interpreter, numpy and
    sandbox come up while the grader imports its tests (``grade`` does this for its first
    submission). A worker made by another process (a forked batch job) is never adopted.

    It is started from the calling thread, which must outlive it: bubblewrap's
    ``--die-with-parent`` kills the worker when the *thread* that started it ends.
    """
    try:
        worker = WorkerProcess.spawn(resolve_isolation(limits.isolation, limits.user), limits, *worker_user(limits))
    except Exception:  # noqa: BLE001 - the grading itself will report what is wrong
        worker = None
    with _SPARES_LOCK:
        old = _SPARES.pop(limits, None)
        _SPARES[limits] = (os.getpid(), worker)
    if old is not None:
        _discard(old)


def _discard(entry) -> None:
    pid, worker = entry
    if pid == os.getpid() and worker is not None:
        worker.close(wait=0.2)


def _take_spare(limits: Limits) -> WorkerProcess | None:
    """The worker :func:`prestart` made for ``limits`` in this process, if it is still alive."""
    with _SPARES_LOCK:
        entry = _SPARES.pop(limits, None)
    if entry is None or entry[0] != os.getpid():
        return None
    worker = entry[1]
    if worker is None or not worker.alive():
        _discard(entry)
        return None
    return worker


def _discard_all() -> None:
    with _SPARES_LOCK:
        entries = list(_SPARES.values())
        _SPARES.clear()
    for entry in entries:
        _discard(entry)


atexit.register(_discard_all)
