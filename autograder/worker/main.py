"""The worker: the only process in which submitted code runs.

Started by :class:`autograder.sandbox.subject.WorkerSubject` inside its sandbox (bubblewrap, or a
plain process with a Landlock/seccomp jail), from a copy of this folder (as the package
``olfworker``) on a ``sys.path`` that holds
the Python installation and its site-packages but not the project: nothing of the
reference solutions is ever imported here. Requests arrive on REQUEST_FD as frames (a
4-byte big-endian length, then that many bytes of JSON), answers leave on RESPONSE_FD as
one JSON line each:

``{"op": "load", "cells": [[file, label, code], ...], "graded": [name, ...]}``
    execute the selected code of the submission, cell by cell, one namespace per file;
``{"op": "begin", "cpu": seconds, "cpus": [n, ...]}``
    fork a child for one exercise (answer ``{"status": "ok", "pid": ...}``), with that much
    CPU time: every exercise starts from the freshly loaded submission, so whatever one
    exercise's code patches or breaks cannot touch the next. ``cpus`` (also in ``load``)
    are the CPUs the grader runs on: the worker moves there, since a call crosses between
    the two processes thousands of times and each crossing between CPUs costs a wake-up
    of the other one;
``{"op": "call", "name": ..., "request": ...}`` (served by the child)
    call a function of the submission (see :func:`autograder.worker.calling.invoke`); the
    arguments, and the ``value`` of the answer, are :func:`autograder.worker.plain.encode` trees;
``{"op": "end"}`` (child)
    the child exits. Whenever a child ends, however it ends, this process writes
    ``{"status": "exited", "code": ..., "cpu": ...}`` on a line of its own.

``solutions`` and ``autograder`` exist here only as façades (:mod:`.facades`): a name
imported from them asks the grader, which writes ``{"status": "callback", ...}`` and reads
the grader's frame in answer (:meth:`.channel.Channel.callback`).

Every import is real: submitted code only ever sees the real modules and objects (the
loader leaves out the imports of libraries that no kept code mentions, such as a setup
cell's ``matplotlib``, so they cost no time). Starting processes (``os.fork``,
``subprocess``) is refused to submitted code.
"""
from __future__ import annotations

import os
import sys


def _drop_privileges() -> None:
    """Become ``OLF_UID``/``OLF_GID`` for good (bubblewrap started as root), then no new privileges."""
    uid, gid = os.environ.pop("OLF_UID", None), os.environ.pop("OLF_GID", None)
    if uid is not None:
        os.setgroups([])
        os.setgid(int(gid))
        os.setuid(int(uid))
        if os.getuid() != int(uid) or os.geteuid() != int(uid):
            os._exit(71)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)     # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


def main(request_fd: int, response_fd: int) -> None:
    """Serve the grader's requests on ``request_fd`` until it closes the pipe."""
    _drop_privileges()
    import numpy as np  # noqa: F401 - imported before any submitted code runs
    import numpy.random  # noqa: F401 - numpy imports it lazily: else every exercise's child would (0.6 s a submission)

    from .channel import Channel
    from .exercises import Zygote, follow, load
    from .facades import Facades
    from .forbidden import forbid_processes

    channel = Channel(request_fd, response_fd)
    functions: dict = {}               # graded name -> the submission's function
    zygote = Zygote(channel, functions, objects={})
    sys.meta_path.insert(0, Facades(channel.callback))
    forbid_processes()
    while True:
        message = channel.read_message()
        if message["op"] == "load":
            follow(message)
            channel.answer(load(message["cells"], message["graded"], functions))
        elif message["op"] == "begin":
            zygote.begin(message)


def boot(request_fd: int, response_fd: int) -> None:
    """Run :func:`main`; the worker's own failure ends it quietly (its traceback is not the student's output)."""
    try:
        main(request_fd, response_fd)
    except BaseException:  # noqa: BLE001 - e.g. a garbled request after the grader gave up on a child
        os._exit(70)
    os._exit(0)
