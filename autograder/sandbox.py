"""The grader's side of a worker process: start it, limit it, talk to it, kill it.

A :class:`WorkerSubject` is what the tests call when grading a submission. Every call
crosses a pipe as plain data; the worker has a wall-clock budget per exercise, a memory
limit, a capped output and a fresh temporary directory. When it times out or dies, it
is killed (with anything it started) and the next exercise gets a new one.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

OUTPUT_CAP = 20_000          # bytes of the submission's printed output that are kept


@dataclass(frozen=True)
class Limits:
    """What a worker may use.

    Attributes
    ----------
    timeout : float
        Wall-clock seconds for each exercise (all its tests together) and for loading.
    memory_mb : int
        Address-space limit of the worker.
    user : str or None
        Run the submission as this unprivileged user (e.g. ``nobody``) when the grader
        runs as root, as on Gradescope, so that it cannot touch the grader's files.
    """

    timeout: float = 10.0
    memory_mb: int = 2048
    user: str | None = None


def _matplotlib_cache(uid: int, gid: int) -> str:
    """A matplotlib config/cache folder shared by all workers of a user (its font cache is built once)."""
    path = os.path.join(tempfile.gettempdir(), f"olf-matplotlib-{uid}")
    os.makedirs(path, exist_ok=True)
    if uid != os.getuid():
        os.chown(path, uid, gid)
    return path


class _Output(threading.Thread):
    """Drains the worker's stdout/stderr, keeping the first OUTPUT_CAP bytes."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.kept, self.total = fd, bytearray(), 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.total += len(chunk)
            if len(self.kept) < OUTPUT_CAP:
                self.kept += chunk[: OUTPUT_CAP - len(self.kept)]

    def text(self, start: int = 0) -> str:
        return self.kept[start:].decode("utf-8", "replace")


class WorkerSubject:
    """Runs a submission's selected code in a sandboxed worker and calls its functions.

    Parameters
    ----------
    cells : list of (file, label, code)
        The submission's code, as selected by :mod:`autograder.loader`.
    graded : dict name -> module
        The functions being graded (their reference solutions are guarded in the worker).
    limits : Limits
        Time, memory and user of the worker.
    """

    label = "your code"

    def __init__(self, cells, graded: dict[str, str], limits: Limits = Limits()):
        self.cells, self.graded, self.limits = cells, graded, limits
        self.timeout = limits.timeout
        if limits.user is None:
            self.uid, self.gid = os.getuid(), os.getgid()
        else:
            import pwd
            if os.geteuid() != 0:
                raise PermissionError(f"running submissions as {limits.user!r} needs a grader running as root")
            entry = pwd.getpwnam(limits.user)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.proc = None
        self.child: int | None = None          # the worker's child serving the current exercise
        self.failure: str | None = None        # why the current exercise can't go on
        self.load_failure: str | None = None   # why the submission could not be loaded at all
        self.load_errors: list[str] = []
        self.functions: dict[str, str] = {}
        self.deadline = 0.0

    # -- life cycle ------------------------------------------------------------------------------
    def _limits(self) -> None:          # runs in the child between fork and exec
        import resource
        mem = self.limits.memory_mb * 1024 * 1024
        for limit, value in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CORE, 0),
                             (resource.RLIMIT_FSIZE, 50 * 1024 * 1024),
                             (resource.RLIMIT_CPU, int(max(60, 20 * self.timeout)))):
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                pass
        if self.limits.user is not None:      # last: give up root for good
            try:                              # counts every process of that user: a fork bomb stops here
                resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))
            except (ValueError, OSError):
                pass
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def start(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="olf-worker-")
        if self.uid != os.getuid():
            os.chown(self.tmp, self.uid, self.gid)
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp, "OLF_WORKER": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": _matplotlib_cache(self.uid, self.gid),
               "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.worker", str(req_r), str(resp_w)],
            pass_fds=(req_r, resp_w), stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
            cwd=self.tmp, env=env, start_new_session=True, preexec_fn=self._limits)
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self.output = _Output(out_r)
        self.output.start()
        self.buffer = b""
        self.deadline = time.monotonic() + self.timeout
        reply = self._request({"op": "load", "cells": self.cells, "graded": self.graded}, "loading the submission")
        if reply is None:
            self.load_failure = self.failure
        else:
            self.load_errors, self.functions = reply["errors"], reply["functions"]

    def close(self) -> None:
        self.child = None
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.output.join(timeout=2)
        try:
            os.close(self.output.fd)
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None

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
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self.start()
            if self.load_failure:
                self.failure = self.load_failure
                return
        self.deadline = time.monotonic() + self.timeout
        self.output_mark = self.output.total
        reply = self._request({"op": "begin"}, "starting the exercise")
        if reply is not None:
            self.child = reply["pid"]

    def end_exercise(self) -> None:
        """Let the exercise's child exit (or kill it) and wait until the worker says it is gone."""
        if self.child is None or self.proc is None:
            self.child = None
            return
        if not self.failure:
            self._send({"op": "end"})
        else:
            self._kill_child()
        self._await_exit()

    def printed(self) -> tuple[int, str]:
        """How much the submission printed since the exercise began, and the start of it."""
        if self.load_failure:
            return 0, ""
        n = self.output.total - self.output_mark
        return n, self.output.text(min(self.output_mark, len(self.output.kept))) if n else ""

    # -- protocol --------------------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        view = memoryview(data)
        while view:
            _, writable, _ = select.select([], [self.req_w], [], max(0.0, self.deadline - time.monotonic()))
            if not writable:
                raise TimeoutError
            view = view[os.write(self.req_w, view[:65536]):]

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            readable, _, _ = select.select([self.resp_r], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                raise TimeoutError
            chunk = os.read(self.resp_r, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def _kill_child(self) -> None:
        try:
            os.kill(self.child, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, TypeError):
            pass

    def _await_exit(self) -> int | None:
        """Read (and drop) what is left until the worker reports the child's exit code."""
        deadline = time.monotonic() + 5.0
        try:
            while True:
                line = self._read_line(deadline)
                if line.startswith(b'{"status": "exited"'):
                    self.child = None
                    return json.loads(line)["code"]
        except (TimeoutError, EOFError, OSError, ValueError):
            self.close()                      # the worker itself is unusable: start anew next time
            return None

    def _fail(self, reason: str) -> None:
        self.failure = reason
        if self.child is not None and self.proc is not None:
            self._kill_child()
            self._await_exit()
        else:
            self.close()

    @staticmethod
    def _describe_exit(code: int | None) -> str:
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return f"was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"exited with status {code}"

    def _request(self, message: dict, doing: str):
        if self.failure:
            return None
        try:
            self._send(message)
            while True:
                line = self._read_line(self.deadline)
                if not line.strip():
                    continue
                reply = json.loads(line)
                if reply.get("status") == "exited":          # the exercise's child is gone
                    self.child = None
                    self.failure = f"the worker running your code {self._describe_exit(reply['code'])} while {doing}"
                    return None
                return reply
        except TimeoutError:
            self._fail(f"timed out after {self.timeout:g} s while {doing} (an infinite loop, or far too slow?)")
        except (EOFError, BrokenPipeError, OSError):
            code = self.proc.wait() if self.proc else None
            self.output.join(timeout=1)
            tail = self.output.text()[-300:].strip()
            self.child = None
            self._fail(f"the worker running your code {self._describe_exit(code)} while {doing}"
                       + (f"; its last output: {tail!r}" if tail else ""))
        except ValueError:
            self._fail(f"the worker sent something unreadable while {doing}")
        return None

    def invoke(self, name: str, request: str) -> dict:
        if self.failure:
            return {"status": "error", "error": f"not run: {self.failure}"}
        state = self.functions.get(name)
        if state == "reference":
            return {"status": "error",
                    "error": f"`{name}` is the reference solution imported from solutions, which scores zero"}
        reply = self._request({"op": "call", "name": name, "request": request}, f"running `{name}`")
        if reply is None:
            return {"status": "error", "error": self.failure}
        return reply
