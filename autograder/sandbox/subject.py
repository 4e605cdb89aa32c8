"""The grader's side of a worker process: isolate it, start it, limit it, talk to it, kill it.

A :class:`WorkerSubject` is what the tests call when grading a submission. Every call
crosses a pipe as plain data. Nothing of the reference is reachable from the worker:
it runs a copy of three modules (``worker.py``, ``calling.py``, ``plain.py``) on a
``sys.path`` of the Python installation and its site-packages only, and its
``solutions`` is a façade served by the grader (:mod:`autograder.sandbox.served`). Around it,
one of two isolations (``--isolation``; ``auto`` takes the first that works here,
probed once per process by :mod:`autograder.sandbox.bubblewrap`, which also builds bubblewrap's
arguments and the worker's view of the installed packages):

``bwrap``
    bubblewrap: its own mount, PID, network, IPC and UTS namespaces (``--unshare-all``;
    as root, all but the user namespace, and the worker then becomes ``--sandbox-user``,
    or a user of its own, for good before anything else runs); a read-only view of only ``/usr``, the Python
    installation, each site-packages folder (with the project's packages masked) and the
    worker's code; a private ``/tmp`` (``TMP_MB``); no capabilities; the seccomp allow-list of
    ``process`` (``--seccomp``); dies with the grader. Its
    arguments come through a pipe (``--args``), so not even ``/proc/1/cmdline`` names a
    path of the grader's.
``process``
    where namespaces are refused (a stock Docker seccomp profile): Landlock (only Python
    and its packages readable, TCP closed), seccomp (an allow-list: no network sockets, no
    ptrace, no namespaces; :data:`autograder.sandbox.confinement.SYSCALLS`) and a
    non-dumpable grader (:mod:`autograder.sandbox.confinement`), no capability (bounding set emptied and
    every capability dropped when root starts it, but ``CAP_DAC_READ_SEARCH`` inside Landlock
    where the worker's user cannot reach Python), the ``--sandbox-user`` or a user of its own
    when grading as root, a worker that dies with the grader; the report says when none of
    these can keep the reference unreadable.

A worker can be started ahead of time (:func:`prestart`: ``grade`` starts the first one
before it imports numpy and the graded tests, which is why this module imports neither).

Both add resource limits (memory, file size, processes), a capped output and a fresh
temporary directory (its ``HOME`` and ``MPLCONFIGDIR``: no folder is shared between workers);
where the grader can make one, each worker has a pids cgroup of its own (at most
``jail.PIDS_MAX`` processes; every process in it killed when the worker is closed, however
it detached itself), else ``RLIMIT_NPROC``: ``jail.PIDS_MAX`` for a worker of its own user
(root's grader), 256 for ``--sandbox-user``'s workers together; under ``process`` the worker
is also a subreaper whose tree the grader kills, and every process of a worker's own user is
killed with it; the grader and its worker take turns on one CPU (:func:`one_cpu`).
Each exercise runs in a fresh child of the loaded worker with a budget of CPU time
(``timeout``; a loaded machine does not eat it) and, for code that waits instead, of
``WALL_FACTOR`` times as much wall-clock time spent waiting for the worker (the grader's
own comparisons do not count). The reference functions the grader runs for the worker
(callbacks) are charged to that wall-clock budget too, and get at most ``timeout`` seconds
of the grader's CPU time an exercise: a callback that would run longer is stopped
(:func:`bounded`). A whole submission gets ``Limits.total`` seconds (``--submission-timeout``);
a function that timed out is not called again in its exercise (whose worker is gone).
When an exercise times out or its worker dies, the worker is killed with everything it
started, and the next exercise gets a new one.

Everything that comes from the worker is bounded: a line of at most ``MAX_MESSAGE`` bytes,
read in linear time with the deadline checked while it streams in; strings and lists of a
reply cut to ``MAX_TEXT`` characters and ``MAX_LIST`` items (:func:`_capped`).
"""
from __future__ import annotations

import atexit
import contextlib
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

from . import confinement as jail
from .bubblewrap import (PROJECT_PACKAGES, boot_command, bwrap_arguments, bwrap_command,
                        python_executable, resolve_isolation, site_dirs, user_ids, worker_code)
from .refusals import Refusals
from .limits import MEMORY_MB, SUBMISSION_TIMEOUT, TIMEOUT

#: What the workers of this process did, for ``benchmarks/grading.py``: calls of submitted
#: functions, callbacks served (a reference helper run for the worker), exercises (each a
#: fresh child of the worker) and the CPU seconds those children used.
TOTALS = {"calls": 0, "callbacks": 0, "exercises": 0, "exercise_cpu": 0.0}

OUTPUT_CAP = 20_000          # bytes of the submission's printed output that are kept
WALL_FACTOR = 10             # wall-clock budget of an exercise (for code that waits), in units of its CPU budget
MAX_MESSAGE = 256 * 2**20    # the largest line a worker may send
MAX_TEXT = 1000              # characters kept of any string of a worker's reply (an error, a name ...)
SPAWN_TRIES = 3              # attempts at starting a worker (fork can fail for a moment on a loaded machine)
MAX_LIST = 50                # items kept of any list of a worker's reply (the errors while loading ...)


@dataclass(frozen=True)
class Limits:
    """What a worker may use, and how it is isolated.

    Attributes
    ----------
    timeout : float
        CPU seconds for each exercise (all its tests together) and for loading; code that
        waits gets ``WALL_FACTOR`` times as much wall-clock time.
    memory_mb : int
        Address-space limit of the worker.
    user : str or None
        Run the submission as this unprivileged user (e.g. ``nobody``) when the grader
        runs as root, as on Gradescope, so that it cannot touch the grader's files.
    isolation : str
        ``auto`` (bubblewrap where it works, else ``process``), ``bwrap`` (refuse to grade
        without it) or ``process``.
    total : float
        Wall-clock seconds for the whole submission (loading and every exercise): an
        exercise that would start later scores zero, saying so. A function that timed out
        is not called again in that exercise.
    """

    timeout: float = TIMEOUT
    memory_mb: int = MEMORY_MB
    user: str | None = None
    isolation: str = "auto"
    total: float = SUBMISSION_TIMEOUT


# --- the worker's output ------------------------------------------------------------------------

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


# --- the worker ---------------------------------------------------------------------------------

class WorkerSubject:
    """Runs a submission's selected code in an isolated worker and calls its functions.

    Parameters
    ----------
    cells : list of (file, label, code)
        The submission's code, as selected by :mod:`autograder.loader`.
    graded : dict name -> module
        The functions being graded.
    limits : Limits
        Time, memory, user and isolation of the worker.

    Raises
    ------
    IsolationError
        The isolation required by ``limits`` is not available here.
    """

    label = "your code"

    def __init__(self, cells, graded: dict[str, str], limits: Limits = Limits(), *, refusals: Refusals):
        self.cells, self.graded, self.limits, self.refusals = cells, graded, limits, refusals
        self.timeout = limits.timeout
        ids = user_ids(limits.user)
        self.isolation = resolve_isolation(limits.isolation, limits.user)
        self.own_uid = ids is None and os.geteuid() == 0   # root's workers: each a uid of its own (_spawn)
        self.drops = ids is not None or self.own_uid       # the worker gives up the grader's user
        self.uid, self.gid = ids if ids else (os.getuid(), os.getgid())
        self.proc = None
        self._pids = None                      # the worker's pids cgroup (jail.PidsGroup), where one can be made
        self.output = _Output(-1)
        self.output_mark = 0
        self.failure: str | None = None        # why the current exercise can't go on
        self.load_failure: str | None = None   # why the submission could not be loaded at all
        self.load_errors: list[str] = []
        self.functions: dict[str, str] = {}
        self.budget = 0.0                      # seconds of waiting left to the current request's owner
        self.budget_given = 0.0                # ... and what it was when the exercise (or loading) began
        self.callback_left = 0.0               # seconds the grader may still spend on the worker's callbacks
        self.ends = float("inf")               # when the submission's whole time (limits.total) is up
        self.refused: dict = {}                # name -> reference function the worker may not call now
        self.sent: set = set()                 # (module, qualname) of test functions handed over in this exercise
        self.in_exercise = False
        self.died_silently = False             # the worker ended without a word or a byte of output

    # -- life cycle ------------------------------------------------------------------------------
    def _preexec(self) -> None:          # runs in the child between fork and exec
        import resource
        bounded = False
        if self._pids is not None:            # its own bound on processes, and all of them killed at the end
            try:
                self._pids.enter()
                bounded = True
            except OSError:
                pass
        mem = self.limits.memory_mb * 1024 * 1024
        for limit, value in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CORE, 0),
                             (resource.RLIMIT_FSIZE, 50 * 1024 * 1024),
                             (resource.RLIMIT_CPU, int(max(60, 20 * self.timeout)))):
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                pass
        if self.drops and not bounded:        # the fallback: per worker for its own uid, else per --sandbox-user
            nproc = jail.PIDS_MAX if self.own_uid else 256
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            except (ValueError, OSError):
                pass
        if self.isolation.kind == "bwrap":    # the worker itself drops to the user, inside
            return
        if not bounded:                       # no cgroup: its detached descendants stay in its tree
            jail.become_subreaper()
        keep = (jail.CAP_DAC_READ_SEARCH,) if self.own_uid and self.isolation.read_search else ()
        if os.geteuid() == 0:                 # no capability ever again (but keep), even as uid 0
            jail.clear_bounding_set(keep)
        if self.drops:                        # give up root for good
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)
        jail.drop_capabilities(keep)
        jail.die_with_parent()
        if self._landlock is not None:
            self._landlock.apply()
        if self._seccomp is not None:
            self._seccomp.load()

    def _command(self, req_r: int, resp_w: int) -> tuple[list[str], dict, tuple]:
        """The command that starts the worker, its environment, and the descriptors it inherits."""
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
        python = [python_executable(), "-I", "-S", "-B", "-u", "-c"]     # -u: what it prints is never lost
        self._landlock = self._seccomp = None
        if self.isolation.kind == "bwrap":
            options, inside = bwrap_arguments(site_dirs(), worker_code(), os.geteuid() == 0)
            env.update(HOME="/tmp", MPLCONFIGDIR="/tmp/.matplotlib")
            if self.drops:                    # grading as root: the worker is never root, even inside
                env.update(OLF_UID=str(self.uid), OLF_GID=str(self.gid))
            seccomp_fd = jail.seccomp_program(("setgroups", "setgid", "setuid"))   # the worker drops to its user
            if seccomp_fd is not None:
                options += ["--seccomp", str(seccomp_fd)]
            cmd, args_fd = bwrap_command(options, [*python, boot_command("/olf/code", inside, req_r, resp_w)])
            return cmd, env, (req_r, resp_w, args_fd) + ((seccomp_fd,) if seccomp_fd is not None else ())
        env.update(HOME=self.tmp, MPLCONFIGDIR=os.path.join(self.tmp, ".matplotlib"))   # nothing shared
        if jail.landlock_abi():
            self._landlock = jail.Landlock(read=self._readable(), write=[self.tmp, "/dev/null"],
                                           list_only=list(site_dirs()))
        self._seccomp = jail.seccomp_filter()
        jail.prepare()
        jail.make_undumpable()
        return python + [boot_command(worker_code(), site_dirs(), req_r, resp_w)], env, (req_r, resp_w)

    @staticmethod
    def _readable() -> list[str]:
        """What a Landlocked worker may read: the system's libraries, Python, its packages, the worker."""
        paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/dev/urandom",
                 os.path.realpath(sys.base_prefix), os.path.dirname(python_executable()), worker_code()]
        for site in site_dirs():
            for entry in os.scandir(site):
                name = entry.name.split(".")[0]
                if name not in PROJECT_PACKAGES and not name.startswith("__editable__"):
                    paths.append(entry.path)
        return paths

    def _spawn(self) -> None:
        """Start the worker process: it imports numpy and waits for the submission."""
        self.tmp = tempfile.mkdtemp(prefix="olf-worker-")
        if self.own_uid:
            self.uid, self.gid = jail.worker_ids()
            jail.kill_uid(self.uid)           # nothing left of an earlier worker of this uid
        if self.uid != os.getuid():
            os.chown(self.tmp, self.uid, self.gid)
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        os.set_blocking(self.req_w, False)
        os.set_blocking(self.resp_r, False)
        out_r, out_w = os.pipe()
        cmd, env, fds = self._command(req_r, resp_w)
        self._pids = jail.PidsGroup.make()
        try:
            for attempt in range(SPAWN_TRIES):       # the grader's failure to start it is never the student's
                try:
                    self.proc = subprocess.Popen(cmd, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=out_w,
                                                 stderr=out_w, cwd=self.tmp, env=env, start_new_session=True,
                                                 preexec_fn=self._preexec)
                    break
                except (OSError, subprocess.SubprocessError):
                    if attempt == SPAWN_TRIES - 1:
                        if self._pids is not None:
                            self._pids.remove()
                        raise
                    time.sleep(0.1 * 2 ** attempt)
        finally:
            for fd in (req_r, resp_w, out_w, *fds[2:]):
                os.close(fd)
        self.output = _Output(out_r)
        self.output.start()
        self.buffer, self.read_at = bytearray(), 0

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
            for name in ("tmp", "req_w", "resp_r", "proc", "output", "buffer", "read_at", "_landlock", "_seccomp",
                         "_pids", "uid", "gid"):
                setattr(self, name, getattr(spare, name))
            spare.proc = None
        self.budget = self.budget_given = min(WALL_FACTOR * self.timeout, max(0.0, self.ends - time.monotonic()))
        self.callback_left = self.timeout
        self.refused, self.sent, self.in_exercise = self.refusals.at_load, set(), False
        reply = self._request({"op": "load", "cells": self.cells, "graded": list(self.graded),
                               "cpus": _cpus()}, "loading the submission")
        if reply is None:
            self.load_failure = self.failure
        else:
            self.load_errors, self.functions = reply["errors"], reply["functions"]

    def close(self) -> None:
        """Stop the worker: end of input lets an idle one exit (and be accounted); then kill
        whatever is left of it."""
        if self.proc is None:
            return
        if self._pids is None and self.isolation.kind == "process" and self.proc.poll() is None:
            jail.kill_descendants(self.proc.pid)     # no cgroup: the subreaper's tree, while it holds it
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=0.2 if not (self.in_exercise or self.failure) else 0)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._pids is not None:            # and whatever left its process group (setsid, double fork)
            self._pids.kill()
        if self.own_uid:                      # and every process of its own uid, wherever it went
            jail.kill_uid(self.uid)
        self.proc.wait()
        if self._pids is not None:
            self._pids.remove()
            self._pids = None
        self.output.join(timeout=2)
        try:
            os.close(self.output.fd)
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None
        self.in_exercise = False

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
        if self.proc is None or self.proc.poll() is not None:
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
        self.output_mark = self.output.total
        if self._request({"op": "begin", "cpu": self.timeout, "cpus": _cpus()}, "starting the exercise") is not None:
            self.in_exercise = True

    def end_exercise(self) -> None:
        """Let the exercise's child exit and wait until the worker says it is gone."""
        if not self.in_exercise or self.proc is None:
            return
        self.in_exercise = False
        try:
            self._send({"op": "end"}, time.monotonic() + 5.0)
        except (TimeoutError, OSError):
            self.close()
            return
        self._await_exit()

    def printed(self) -> tuple[int, str]:
        """How much the submission printed since the exercise began, and the start of it."""
        if self.load_failure:
            return 0, ""
        n = self.output.total - self.output_mark
        return n, self.output.text(min(self.output_mark, len(self.output.kept))) if n else ""

    # -- protocol --------------------------------------------------------------------------------
    def _send(self, message, deadline: float) -> None:
        """Write one frame (a dict, or its JSON text); both ends of the grader are non-blocking,
        so a worker that stops reading costs a timeout, never a hang."""
        data = (message if isinstance(message, str) else json.dumps(message)).encode()
        view = memoryview(len(data).to_bytes(4, "big") + data)
        while view:
            try:
                view = view[os.write(self.req_w, view):]
            except BlockingIOError:
                _, writable, _ = select.select([], [self.req_w], [], max(0.0, deadline - time.monotonic()))
                if not writable:
                    raise TimeoutError from None

    def _read_line(self, deadline: float) -> bytes:
        """The worker's next line: the deadline is checked at every read, even while a long
        line streams in, and each byte is scanned for the line's end once (linear time)."""
        scanned = self.read_at
        while (end := self.buffer.find(b"\n", scanned)) < 0:
            if self.read_at:                  # drop the lines already returned
                del self.buffer[:self.read_at]
                self.read_at = 0
            scanned = len(self.buffer)
            if time.monotonic() > deadline:
                raise TimeoutError
            try:
                chunk = os.read(self.resp_r, 1 << 20)
            except BlockingIOError:
                readable, _, _ = select.select([self.resp_r], [], [], max(0.0, deadline - time.monotonic()))
                if not readable:
                    raise TimeoutError from None
                continue
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if len(self.buffer) > MAX_MESSAGE:
                raise ValueError("too long a message")
        line = bytes(self.buffer[self.read_at:end])
        self.read_at = end + 1
        return line

    def _await_exit(self) -> None:
        """Read (and drop) what is left until the worker reports the child's exit."""
        deadline = time.monotonic() + 5.0
        try:
            while not (line := self._read_line(deadline)).startswith(b'{"status": "exited"'):
                pass
            TOTALS["exercises"] += 1
            TOTALS["exercise_cpu"] += float(json.loads(line).get("cpu") or 0.0)
        except (TimeoutError, EOFError, OSError, ValueError, TypeError):
            self.close()                      # the worker itself is unusable: start anew next time

    def _fail(self, reason: str) -> None:
        """The exercise cannot go on: kill the worker (with all it started); the next exercise starts anew."""
        self.failure = reason
        self.close()

    def _exited(self, reply: dict, doing: str) -> str:
        code, cpu = reply.get("code"), float(reply.get("cpu") or 0.0)
        if code is not None and code < 0 and (cpu >= self.timeout or -code == signal.SIGXCPU):
            return (f"timed out: reached the limit of {self.timeout:g} s of CPU time while {doing} "
                    "(an infinite loop, or far too slow?)")
        return f"the worker running your code {self._describe_exit(code)} while {doing}"

    @staticmethod
    def _describe_exit(code: int | None) -> str:
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return f"was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"exited with status {code}"

    def _serve(self, request: dict, deadline: float) -> None:
        """Answer the worker's question about (or call of) a name of its ``solutions`` façade.

        The grader's time running a reference function for the worker is the exercise's: it
        counts against the exercise's wall-clock ``deadline``, and all the calls of one
        exercise together get at most its CPU budget (``timeout`` seconds of the grader's CPU
        time); a call that would take longer is stopped (:func:`bounded`) and answered with
        an error."""
        from . import served as facade
        op = request.get("op")
        began, cpu = time.monotonic(), time.thread_time()
        try:
            if op == "describe":
                answer = facade.describe(request.get("module"), request.get("name"))
            elif op == "call":
                if self.callback_left <= 0 or deadline <= began:
                    answer = {"status": "error", "error": "the grader ran reference functions for your code "
                              f"for {self.timeout:g} s of CPU time already in this exercise: no more"}
                else:
                    answer = bounded(lambda: facade.call(request.get("module"), request.get("name"),
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
        self._send(answer, time.monotonic() + 5.0)

    def _request(self, message: dict, doing: str):
        if self.failure:
            return None
        deadline = time.monotonic() + self.budget
        try:
            self._send(message, deadline)
            while True:
                line = self._read_line(deadline)
                if not line.strip():
                    continue
                reply = json.loads(line)
                if not isinstance(reply, dict):
                    raise ValueError("not an object")
                reply = {k: v if k in ("value", "args") else _capped(v) for k, v in reply.items()}
                status = reply.get("status")
                if status == "callback":          # charged to the exercise (see _serve)
                    TOTALS["callbacks"] += 1
                    self._serve(reply, deadline)
                    continue
                if status == "exited":            # the exercise's child is gone
                    self.in_exercise = False
                    self.failure = self._exited(reply, doing)
                    return None
                return reply
        except TimeoutError:
            self._fail(f"timed out after {self.budget_given:.3g} s of waiting while {doing} "
                       "(an infinite loop, sleeping, or far too slow?)")
        except (EOFError, BrokenPipeError, OSError):
            code = self.proc.wait() if self.proc else None
            self.output.join(timeout=1)
            tail = self.output.text()[-300:].strip()
            self.died_silently = not self.buffer and not self.output.total
            self._fail(f"the worker running your code {self._describe_exit(code)} while {doing}"
                       + (f"; its last output: {tail!r}" if tail else ""))
        except ValueError:
            self._fail(f"the worker sent something unreadable while {doing}")
        finally:
            self.budget = max(0.0, deadline - time.monotonic())
        return None

    def invoke(self, name: str, request) -> dict:
        if self.failure:
            return {"status": "error", "error": f"not run: {self.failure}"}
        state = self.functions.get(name)
        if state == "reference":
            return {"status": "error",
                    "error": f"`{name}` is the reference solution imported from solutions, which scores zero"}
        from . import served as facade
        from ..worker.plain import decode
        TOTALS["calls"] += 1
        message = json.dumps({"op": "call", "name": name, "request": request}, separators=(",", ":"))
        self.sent |= facade.functions_sent(request)
        reply = self._request(message, f"running `{name}`")
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


def _capped(x, depth: int = 0):
    """A worker's reply (but its graded value and a callback's arguments, which are data)
    with every string and list cut to
    ``MAX_TEXT`` characters and ``MAX_LIST`` items: what reaches a report is bounded."""
    if isinstance(x, str):
        return x if len(x) <= MAX_TEXT else x[:MAX_TEXT] + f"… ({len(x)} characters)"
    if depth > 5:
        return None
    if isinstance(x, list):
        more = [f"… and {len(x) - MAX_LIST} more"] if len(x) > MAX_LIST else []
        return [_capped(v, depth + 1) for v in x[:MAX_LIST]] + more
    if isinstance(x, dict):
        return {_capped(k, depth + 1): _capped(v, depth + 1) for k, v in list(x.items())[:MAX_LIST]}
    return x


# --- a reference function run for the worker, stopped in time -----------------------------------

class CallbackTimeout(BaseException):
    """Raised in the grading thread when a callback ran out of time (a BaseException: no
    ``except Exception`` in the reference's code swallows it)."""


def _raise_in(thread_id: int, exc_type) -> None:
    import ctypes
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc_type) if exc_type else None)


def _bounded_by_alarm(call, seconds: float):
    """:func:`bounded` in the main thread: a ``SIGALRM`` timer, no thread to start (a complete
    submission makes about 760 callbacks). The timer and handler in place before are restored."""
    import signal as signals

    def stop(signum, frame):
        raise CallbackTimeout

    previous = signals.signal(signals.SIGALRM, stop)
    outer, _ = signals.setitimer(signals.ITIMER_REAL, max(1e-3, seconds))
    began = time.monotonic()
    try:
        return call()
    finally:
        try:
            signals.setitimer(signals.ITIMER_REAL, 0)
        finally:                              # restored even if the alarm fires just now
            signals.signal(signals.SIGALRM, previous)
            if outer:                         # someone else's alarm (pytest-timeout, say) goes on
                signals.setitimer(signals.ITIMER_REAL, max(1e-3, outer - (time.monotonic() - began)))


def bounded(call, seconds: float, cpu_seconds: float | None = None):
    """``call()``, stopped with :class:`CallbackTimeout` after ``seconds`` of wall-clock time
    or ``cpu_seconds`` of this thread's CPU time, whichever comes first.

    In the main thread a ``SIGALRM`` timer raises it, after the smaller of the two budgets
    of wall-clock time (:func:`_bounded_by_alarm`); elsewhere a watchdog thread does
    (``PyThreadState_SetAsyncExc``). Either is delivered between two bytecodes, so a Python
    loop in the reference stops; one long numpy operation finishes first. A pending exception
    that the call outran is cleared, so it never surfaces elsewhere in the grader.
    """
    if threading.current_thread() is threading.main_thread():
        return _bounded_by_alarm(call, min(seconds, seconds if cpu_seconds is None else cpu_seconds))
    target, lock, state = threading.get_ident(), threading.Lock(), {"running": True, "fired": False}
    done = threading.Event()
    try:
        clock = time.pthread_getcpuclockid(target)
        cpu_start = time.clock_gettime(clock)
    except (AttributeError, OSError):
        clock = None
    ends = time.monotonic() + max(0.0, seconds)

    def watch() -> None:
        while not done.wait(0.02):
            over = time.monotonic() >= ends
            if not over and clock is not None and cpu_seconds is not None:
                try:
                    over = time.clock_gettime(clock) - cpu_start >= cpu_seconds
                except OSError:
                    pass
            if over:
                with lock:
                    if state["running"]:
                        state["fired"] = True
                        _raise_in(target, CallbackTimeout)
                return

    watchdog = threading.Thread(target=watch, daemon=True)
    watchdog.start()
    try:
        try:
            return call()
        finally:
            with lock:
                state["running"] = False
            done.set()
    finally:
        if state["fired"]:
            _raise_in(target, None)           # clear it if it is still pending


# --- one CPU for the grader and its worker ------------------------------------------------------

def _cpus() -> list[int]:
    """The CPUs this thread may run on (the worker is asked to run there too)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def current_cpu() -> int | None:
    """The CPU this thread runs on at this moment (Linux), or None."""
    try:
        with open("/proc/thread-self/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[36])      # field 39, "processor"
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def one_cpu(cpu: int | None = None):
    """Keep this thread, and the worker it talks to, on one CPU (``cpu``, or the one it is on now).

    Grading is a conversation: the grader and its worker take turns, thousands of times a
    submission, and never run at once. On two CPUs each turn wakes the other CPU (about
    60 µs on these virtual machines, 8 µs on the same CPU); on one, grading a complete
    submission costs about a third less CPU time (``benchmarks/grading.py``). Nothing
    changes where this thread is already bound to one CPU (a batch job, see
    :func:`autograder.instructor.batch.grade_many`) or where affinity cannot be set.
    """
    pinned = False
    try:
        allowed = os.sched_getaffinity(0)
        cpu = current_cpu() if cpu is None else cpu
        if len(allowed) > 1 and cpu in allowed:
            os.sched_setaffinity(0, {cpu})
            pinned = True
    except (AttributeError, OSError):         # no affinity here (another OS, a cgroup that refuses)
        pass
    try:
        yield
    finally:
        if pinned:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, allowed)


# --- a worker started ahead of time ------------------------------------------------------------

_SPARES: dict = {}           # Limits -> (the process that made it, WorkerSubject or None)
_SPARES_LOCK = threading.Lock()


def prestart(limits: Limits = Limits()) -> None:
    """Start a worker for the next submission now, and return: its interpreter, numpy and
    sandbox come up while the grader imports its tests (``grade`` does this for its first
    submission). A worker made by another process (a forked batch job) is never adopted.

    It is started from the calling thread, which must outlive it: bubblewrap's
    ``--die-with-parent`` kills the worker when the *thread* that started it ends (a
    worker started from a helper thread was killed, now and then, while it loaded the
    submission).
    """
    try:
        worker = WorkerSubject([], {}, limits, refusals=Refusals())     # the adopter's refusals apply
        worker._spawn()
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
        worker.close()


def _take_spare(limits: Limits):
    with _SPARES_LOCK:
        entry = _SPARES.pop(limits, None)
    if entry is None or entry[0] != os.getpid():
        return None
    worker = entry[1]
    if worker is None or worker.proc is None or worker.proc.poll() is not None:
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
