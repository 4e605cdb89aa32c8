"""The worker's requests: load the submission, then each exercise in a fresh child of the
loaded worker, whose calls run the submission's functions (see :mod:`.main` for the protocol)."""
from __future__ import annotations

import os
import resource

from .calling import exception_summary, invoke
from .facades import FACADES
from .plain import encode


def load(cells, graded, functions: dict) -> dict:
    """Run the submission's ``cells`` (file, label, code), one namespace per file; keep in
    ``functions`` the ``graded`` functions it defines itself. The answer: the errors, and
    each graded name's state (``defined``, ``not callable``, or ``reference``: imported from
    a façade)."""
    errors = []
    namespaces: dict = {}
    for file, label, code in cells:
        namespace = namespaces.setdefault(file, {"__name__": "__submission__", "__builtins__": __builtins__})
        try:
            exec(compile(code, f"<submission {label}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - the submission's own failure
            errors.append(f"{label}: {exception_summary(exc)}")
    status = {}
    for name in graded:
        found = [ns[name] for ns in namespaces.values() if name in ns]
        own = [fn for fn in found if not (getattr(fn, "__olf_reference__", False)
               or str(getattr(fn, "__module__", "")).startswith(FACADES))]
        if own:                    # the last file that defines it itself
            functions[name] = own[-1]
            status[name] = "defined" if callable(own[-1]) else "not callable"
        elif found:
            status[name] = "reference"
    return {"status": "ok", "errors": errors, "functions": status}


def call(message: dict, functions: dict, objects: dict) -> dict:
    """Call the submission's function ``message["name"]`` (see :func:`.calling.invoke`)."""
    fn = functions.get(message["name"])
    if not callable(fn):
        return {"status": "missing"}
    response = invoke(fn, objects, message["request"])
    if "value" in response:
        response["value"] = encode(response["value"])
    return response


def follow(message: dict) -> None:
    """Run on the grader's CPUs, ``message["cpus"]``: a call crosses between the two processes
    thousands of times, and each crossing between CPUs wakes the other one."""
    try:
        os.sched_setaffinity(0, [int(c) for c in message["cpus"]])
    except (KeyError, TypeError, ValueError, OSError, AttributeError):
        pass


def serve_exercise(channel, functions: dict, objects: dict) -> None:
    """In an exercise's child: answer calls until the grader says ``end``."""
    while True:
        message = channel.read_message()
        if message["op"] == "end":
            channel.exit(0)
        try:
            channel.answer(call(message, functions, objects))
        except BaseException as exc:  # noqa: BLE001 - the submission broke json, numpy or builtins
            text = f"{type(exc).__name__}: {exc}"[:300]
            safe = "".join(c if c.isalnum() or c in " .,:;()[]_-'`" else " " for c in text)
            channel.send(('{"status": "error", "error": "the worker could not send back the result '
                          '(did the code patch Python, numpy or json?): ' + safe + '"}\n').encode())


class Zygote:
    """Forks a child per exercise from the loaded submission and reports how each one ended.

    ``os.fork``, ``os.wait4``, ``resource.setrlimit`` and ``prctl`` are bound when it is made,
    before the submission runs (which is refused them); each child dies with the worker."""

    def __init__(self, channel, functions: dict, objects: dict):
        self.channel, self.functions, self.objects = channel, functions, objects
        self._fork, self._wait4, self._setrlimit = os.fork, os.wait4, resource.setrlimit
        self._getpid, self._getppid = os.getpid, os.getppid
        self._exitcode = os.waitstatus_to_exitcode
        try:                                 # a child of the worker dies with it (PR_SET_PDEATHSIG, SIGKILL)
            import ctypes
            self._prctl = ctypes.CDLL(None).prctl
        except (OSError, AttributeError):
            self._prctl = lambda *args: -1

    def begin(self, message: dict) -> None:
        """One exercise in a fresh child with ``message["cpu"]`` seconds of CPU time; when it
        ends, however it ends, ``{"status": "exited", ...}`` on a line of its own."""
        follow(message)
        parent = self._getpid()
        child = self._fork()
        if child == 0:
            try:
                pid = self.channel.take_over()
                if self._prctl(1, 9, 0, 0, 0) == 0 and self._getppid() != parent:   # the worker died before
                    self.channel.exit(0)
                cpu = max(1, int(message["cpu"] + 0.999))
                self._setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                self.channel.answer({"status": "ok", "pid": pid})
                serve_exercise(self.channel, self.functions, self.objects)
            finally:
                self.channel.exit(0)
        _, status, usage = self._wait4(child, 0)
        self.channel.send_line({"status": "exited", "code": self._exitcode(status),
                                "cpu": usage.ru_utime + usage.ru_stime})
