"""The worker: the only process in which submitted code runs.

Started by :class:`autograder.sandbox.WorkerSubject` as ``python -I -m autograder.worker
REQUEST_FD RESPONSE_FD`` in an empty temporary directory, with resource limits and its
standard output and error going to a capped pipe. It reads one JSON request per line:

``{"op": "load", "cells": [[label, code], ...], "graded": {name: module}}``
    execute the selected code of the submission, cell by cell, in one namespace;
``{"op": "call", "name": ..., "request": ...}``
    call a function of the submission (see :func:`autograder.framework.invoke`),

and answers one JSON line each on the response pipe. The reference solutions of the
graded functions are replaced by guards, so a submission that calls the reference
answer of the function being graded gets an error instead of the answer.
"""
from __future__ import annotations

import json
import os
import sys


def _guard(name: str, module: str, reference, current: list):
    def guarded(*args, **kwargs):
        if current and current[-1] == name:
            raise PermissionError(f"`{name}` calls the reference solution solutions.{module}.{name}, "
                                  "which scores zero")
        return reference(*args, **kwargs)
    guarded.__name__ = guarded.__qualname__ = name
    guarded.__module__ = f"solutions.{module}"
    guarded.__olf_reference__ = True
    return guarded


def _forbid(what: str):
    def forbidden(*args, **kwargs):
        raise PermissionError(f"{what} is not allowed while grading")
    return forbidden


def main(request_fd: int, response_fd: int) -> None:
    import importlib
    import subprocess

    import numpy as np  # noqa: F401 - imported before any submitted code runs

    from autograder.framework import _exception_summary, invoke

    dumps_line, loads_line = json.dumps, json.loads
    getpid, write, exit_now = os.getpid, os.write, os._exit
    pid = getpid()
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    namespace: dict = {"__name__": "__submission__", "__builtins__": __builtins__}
    objects: dict = {}
    current: list = []

    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            setattr(os, name, _forbid(f"os.{name}"))
    subprocess.Popen = _forbid("starting a process")  # type: ignore[misc]
    sys.stdin = open(os.devnull)

    def answer(payload: dict) -> None:
        if getpid() != pid:           # a forked child must never answer
            exit_now(0)
        data = (dumps_line(payload) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[write(response_fd, view):]

    while True:
        line = requests.readline()
        if not line:
            exit_now(0)
        message = loads_line(line)
        if message["op"] == "load":
            for name, module in message["graded"].items():
                try:
                    mod = importlib.import_module(f"solutions.{module}")
                    setattr(mod, name, _guard(name, module, getattr(mod, name), current))
                except (ImportError, AttributeError):
                    pass
            errors = []
            for label, code in message["cells"]:
                try:
                    exec(compile(code, f"<submission {label}>", "exec"), namespace)
                except BaseException as exc:  # noqa: BLE001 - the submission's own failure
                    errors.append(f"{label}: {_exception_summary(exc)}")
            functions = {}
            for name in message["graded"]:
                fn = namespace.get(name)
                if fn is None:
                    continue
                functions[name] = ("reference" if getattr(fn, "__olf_reference__", False)
                                   or str(getattr(fn, "__module__", "")).startswith(("solutions", "autograder"))
                                   else "defined" if callable(fn) else "not callable")
            answer({"status": "ok", "errors": errors, "functions": functions})
        elif message["op"] == "call":
            name = message["name"]
            fn = namespace.get(name)
            if not callable(fn):
                answer({"status": "missing"})
                continue
            tracker = lambda entering: current.append(name) if entering else current.pop()  # noqa: E731
            try:
                response = invoke(fn, objects, message["request"], on_call=tracker)
            except BaseException as exc:  # noqa: BLE001 - converting the result failed
                response = {"status": "raised", "error": f"returned something that cannot be read: "
                                                         f"{_exception_summary(exc)}"}
            answer(response)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
