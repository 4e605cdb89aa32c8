"""The worker: the only process in which submitted code runs.

Started by :class:`autograder.sandbox.subject.WorkerSubject` inside its sandbox (bubblewrap, or a
plain process with a Landlock/seccomp jail), from a copy of three files (this one,
``calling.py`` and ``plain.py``, as the package ``olfworker``) on a ``sys.path`` that holds
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

``solutions`` and ``autograder`` exist here only as *façades*: importing a name from them
(a lesson's setup cell does) asks the grader what it is. A function becomes a stub that
sends its (plain-data) arguments to the grader, which runs the reference there and sends
back plain data — and refuses when the function belongs to the exercise being graded; a
NamedTuple type becomes a namedtuple with the same fields; ``autograder.check`` does
nothing. Callables that a graded test passes to the submission (an objective and its
gradient) arrive the same way, except the few whose code is no secret
(``autograder.sandbox.served.OPEN``): their source arrives and runs here. While the worker waits
for such an answer it writes ``{"status": "callback", ...}`` and reads the grader's frame.

Every import is real: submitted code only ever sees the real modules and objects (the
loader leaves out the imports of libraries that no kept code mentions, such as a setup
cell's ``matplotlib``, so they cost no time). Starting processes (``os.fork``,
``subprocess``) is refused to submitted code.
"""
from __future__ import annotations

import json
import os
import sys

FACADES = ("solutions", "autograder")


def _forbid(what: str):
    def forbidden(*args, **kwargs):
        raise PermissionError(f"{what} is not allowed while grading")
    return forbidden


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
    _drop_privileges()
    import __future__
    import importlib.abc
    import importlib.machinery
    import importlib.util
    import resource
    import subprocess
    import types
    from collections import namedtuple

    import numpy as np  # noqa: F401 - imported before any submitted code runs
    import numpy.random  # noqa: F401 - numpy imports it lazily: else every exercise's child would (0.6 s a submission)

    from olfworker.calling import exception_summary, invoke
    from olfworker.plain import Record, dumps, encode, loads, to_plain

    dumps_line, loads_line = json.dumps, json.loads
    getpid, read, write, exit_now, fork, wait4 = os.getpid, os.read, os.write, os._exit, os.fork, os.wait4
    waitstatus_to_exitcode = os.waitstatus_to_exitcode
    try:                                 # a child of the worker dies with it (PR_SET_PDEATHSIG, SIGKILL)
        import ctypes
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        prctl = lambda *args: -1         # noqa: E731
    owner = [getpid()]                   # the process allowed to answer (the zygote, then a child)
    functions: dict = {}               # graded name -> the submission's function
    objects: dict = {}

    # -- the wire ---------------------------------------------------------------------------------
    def send(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[write(response_fd, view):]

    def answer(payload: dict) -> None:
        if getpid() != owner[0]:       # a process the submission started must never answer
            exit_now(0)
        send((dumps_line(payload) + "\n").encode())

    def read_exact(n: int) -> bytes:   # never reads past this frame: a forked child inherits the pipe
        chunks, left = [], n
        while left:
            chunk = read(request_fd, min(left, 1 << 20))
            if not chunk:
                exit_now(0)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read_message() -> dict:
        return loads_line(read_exact(int.from_bytes(read_exact(4), "big")))

    def callback(payload: dict) -> dict:
        answer({"status": "callback", **payload})
        return read_message()

    # -- façades of solutions and autograder ------------------------------------------------------
    kinds: dict = {}

    def named(type_name: str, fields, defaults=None):
        key = (type_name, tuple(fields))
        if key not in kinds:
            kinds[key] = namedtuple(type_name, fields, defaults=defaults)
        return kinds[key]

    def revive(x):
        """Plain data from the grader -> the student's kind of objects (namedtuples, not Records)."""
        if isinstance(x, Record):
            return named(x.type_name, x.fields)(*[revive(v) for v in x])
        if isinstance(x, list):
            return [revive(v) for v in x]
        if isinstance(x, tuple):
            return tuple(revive(v) for v in x)
        if isinstance(x, dict):
            return {k: revive(v) for k, v in x.items()}
        return x

    def stub(module: str, name: str):
        def reference(*args, **kwargs):
            try:
                data = dumps((list(args), kwargs))
            except (TypeError, ValueError, RecursionError):
                data = dumps((to_plain(list(args)), to_plain(kwargs)))
            reply = callback({"op": "call", "module": module, "name": name, "args": data})
            if reply["status"] == "refused":
                raise PermissionError(reply["error"])
            if reply["status"] != "ok":
                raise RuntimeError(reply["error"])
            return revive(loads(reply["value"]))
        reference.__module__, reference.__name__, reference.__qualname__ = module, name, name
        reference.__olf_reference__ = True
        return reference

    def check(*args, **kwargs):        # autograder.check in a notebook: nothing to do while grading
        return None

    def lookup(module: types.ModuleType, attr: str):
        name = module.__name__
        if attr.startswith("__"):
            raise AttributeError(attr)
        if name == "autograder" and attr == "check":
            return check
        reply = callback({"op": "describe", "module": name, "name": attr})
        kind = reply.get("kind")
        if kind == "function":
            value = stub(name, attr)
        elif kind == "namedtuple":
            value = named(attr, reply["fields"], [revive(v) for v in loads(reply["defaults"])] or None)
            value.__module__ = name
        elif kind == "module":
            value = importlib.import_module(f"{name}.{attr}")
        elif kind == "library":
            value = importlib.import_module(reply["name"])
        elif kind == "open":            # code that is no secret (facade.OPEN): this process runs its own copy
            scope = {"np": np, "__name__": name, "__builtins__": __builtins__}
            exec(compile(reply["source"], f"<{name}.{attr}>", "exec", __future__.annotations.compiler_flag,
                         dont_inherit=True), scope)
            value = scope[attr]
        elif kind == "value":
            value = revive(loads(reply["value"]))
        elif kind == "unavailable":
            value = _forbid(f"{name}.{attr} (not a plain function or type)")
        else:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        setattr(module, attr, value)
        return value

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        """The façades ``solutions`` and ``autograder`` (every other import is the real one)."""

        def find_spec(self, fullname, path=None, target=None):
            if fullname in FACADES:
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            if fullname.partition(".")[0] in FACADES:
                parent, _, child = fullname.rpartition(".")
                if callback({"op": "describe", "module": parent, "name": child}).get("kind") == "module":
                    return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            module.__path__ = []
            module.__getattr__ = lambda attr, _m=module: lookup(_m, attr)

    finder = Finder()
    sys.meta_path.insert(0, finder)

    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            setattr(os, name, _forbid(f"os.{name}"))
    subprocess.Popen = _forbid("starting a process")  # type: ignore[misc]
    sys.stdin = open(os.devnull)

    # -- the requests -----------------------------------------------------------------------------
    def load(message: dict) -> dict:
        errors = []
        namespaces: dict = {}
        for file, label, code in message["cells"]:
            namespace = namespaces.setdefault(file, {"__name__": "__submission__", "__builtins__": __builtins__})
            try:
                exec(compile(code, f"<submission {label}>", "exec"), namespace)
            except BaseException as exc:  # noqa: BLE001 - the submission's own failure
                errors.append(f"{label}: {exception_summary(exc)}")
        status = {}
        for name in message["graded"]:
            found = [ns[name] for ns in namespaces.values() if name in ns]
            own = [fn for fn in found if not (getattr(fn, "__olf_reference__", False)
                   or str(getattr(fn, "__module__", "")).startswith(FACADES))]
            if own:                    # the last file that defines it itself
                functions[name] = own[-1]
                status[name] = "defined" if callable(own[-1]) else "not callable"
            elif found:
                status[name] = "reference"
        return {"status": "ok", "errors": errors, "functions": status}

    def call(message: dict) -> dict:
        fn = functions.get(message["name"])
        if not callable(fn):
            return {"status": "missing"}
        response = invoke(fn, objects, message["request"])
        if "value" in response:
            response["value"] = encode(response["value"])
        return response

    def serve_exercise() -> None:      # in the child
        while True:
            message = read_message()
            if message["op"] == "end":
                exit_now(0)
            try:
                answer(call(message))
            except BaseException as exc:  # noqa: BLE001 - the submission broke json, numpy or builtins
                text = f"{type(exc).__name__}: {exc}"[:300]
                safe = "".join(c if c.isalnum() or c in " .,:;()[]_-'`" else " " for c in text)
                send(('{"status": "error", "error": "the worker could not send back the result '
                      '(did the code patch Python, numpy or json?): ' + safe + '"}\n').encode())

    def follow(message: dict) -> None:
        """Run on the grader's CPUs (see ``begin``)."""
        try:
            os.sched_setaffinity(0, [int(c) for c in message["cpus"]])
        except (KeyError, TypeError, ValueError, OSError, AttributeError):
            pass

    def begin(message: dict) -> None:
        follow(message)
        parent = getpid()
        child = fork()
        if child == 0:
            owner[0] = getpid()
            if prctl(1, 9, 0, 0, 0) == 0 and os.getppid() != parent:   # the worker died before
                exit_now(0)
            try:
                cpu = max(1, int(message["cpu"] + 0.999))
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                answer({"status": "ok", "pid": owner[0]})
                serve_exercise()
            finally:
                exit_now(0)
        _, status, usage = wait4(child, 0)
        send(("\n" + dumps_line({"status": "exited", "code": waitstatus_to_exitcode(status),
                                 "cpu": usage.ru_utime + usage.ru_stime}) + "\n").encode())

    while True:
        message = read_message()
        if message["op"] == "load":
            follow(message)
            answer(load(message))
        elif message["op"] == "begin":
            begin(message)


def boot(request_fd: int, response_fd: int) -> None:
    """Run :func:`main`; the worker's own failure ends it quietly (its traceback is not the student's output)."""
    try:
        main(request_fd, response_fd)
    except BaseException:  # noqa: BLE001 - e.g. a garbled request after the grader gave up on a child
        os._exit(70)
    os._exit(0)


if __name__ == "__main__":
    boot(int(sys.argv[1]), int(sys.argv[2]))
