"""The worker: the only process in which submitted code runs.

Started by :class:`autograder.sandbox.WorkerSubject` as ``python -I -m autograder.worker
REQUEST_FD RESPONSE_FD`` in an empty temporary directory, with resource limits and its
standard output and error going to a capped pipe. It reads one JSON request per line and
answers one JSON line each:

``{"op": "load", "cells": [[file, label, code], ...], "graded": {name: module}}``
    execute the selected code of the submission, cell by cell, one namespace per file;
``{"op": "begin"}``
    fork a child for one exercise (answer ``{"status": "ok", "pid": ...}``): every
    exercise starts from the freshly loaded submission, so whatever one exercise's
    code patches or breaks cannot touch the next;
``{"op": "call", "name": ..., "request": ...}`` (served by the child)
    call a function of the submission (see :func:`autograder.framework.invoke`);
``{"op": "end"}`` (child)
    the child exits. Whenever a child ends, however it ends, this process writes
    ``{"status": "exited", "code": ...}`` on a line of its own.

The reference solutions of the graded functions are replaced by guards, so a
submission that calls the reference answer of the function being graded gets an error.
Starting processes (``os.fork``, ``subprocess``) is refused to submitted code.
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

    from autograder.calling import exception_summary, invoke

    dumps_line, loads_line = json.dumps, json.loads
    getpid, write, exit_now, fork, waitpid = os.getpid, os.write, os._exit, os.fork, os.waitpid
    waitstatus_to_exitcode = os.waitstatus_to_exitcode
    owner = [getpid()]                 # the process allowed to answer (the zygote, then a child)
    functions: dict = {}               # graded name -> the submission's function
    objects: dict = {}
    current: list = []

    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            setattr(os, name, _forbid(f"os.{name}"))
    subprocess.Popen = _forbid("starting a process")  # type: ignore[misc]
    sys.stdin = open(os.devnull)

    def send(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[write(response_fd, view):]

    def answer(payload: dict) -> None:
        if getpid() != owner[0]:       # a process the submission started must never answer
            exit_now(0)
        send((dumps_line(payload) + "\n").encode())

    def read_line() -> str:
        chunks = []                    # unbuffered: never read past the end of this request
        while True:
            byte = os.read(request_fd, 1)
            if not byte:
                exit_now(0)
            if byte == b"\n":
                return b"".join(chunks).decode("utf-8")
            chunks.append(byte)

    def load(message: dict) -> dict:
        for name, module in message["graded"].items():
            try:
                mod = importlib.import_module(f"solutions.{module}")
                setattr(mod, name, _guard(name, module, getattr(mod, name), current))
            except (ImportError, AttributeError):
                pass
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
                   or str(getattr(fn, "__module__", "")).startswith(("solutions", "autograder")))]
            if own:                    # the last file that defines it itself
                functions[name] = own[-1]
                status[name] = "defined" if callable(own[-1]) else "not callable"
            elif found:
                status[name] = "reference"
        return {"status": "ok", "errors": errors, "functions": status}

    def call(message: dict) -> dict:
        name = message["name"]
        fn = functions.get(name)
        if not callable(fn):
            return {"status": "missing"}
        tracker = lambda entering: current.append(name) if entering else current.pop()  # noqa: E731
        return invoke(fn, objects, message["request"], on_call=tracker)

    def serve_exercise() -> None:      # in the child
        while True:
            message = loads_line(read_line())
            if message["op"] == "end":
                exit_now(0)
            try:
                answer(call(message))
            except BaseException as exc:  # noqa: BLE001 - the submission broke json, numpy or builtins
                text = f"{type(exc).__name__}: {exc}"[:300]
                safe = "".join(c if c.isalnum() or c in " .,:;()[]_-'`" else " " for c in text)
                send(('{"status": "error", "error": "the worker could not send back the result '
                      '(did the code patch Python, numpy or json?): ' + safe + '"}\n').encode())

    while True:
        message = loads_line(read_line())
        if message["op"] == "load":
            answer(load(message))
        elif message["op"] == "begin":
            child = fork()
            if child == 0:
                owner[0] = getpid()
                answer({"status": "ok", "pid": owner[0]})
                try:
                    serve_exercise()
                finally:
                    exit_now(0)
            _, status = waitpid(child, 0)
            send(("\n" + dumps_line({"status": "exited", "code": waitstatus_to_exitcode(status)}) + "\n").encode())


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
