"""The worker process: its command, its confinement, starting it and killing it.

:func:`launch` says how a worker starts under an isolation (:mod:`.bubblewrap`): the
command, its environment, the descriptors it inherits, and for ``process`` the Landlock
ruleset and seccomp filter its child applies (:mod:`.confinement`).
:meth:`WorkerProcess.spawn` starts it with resource limits (memory, file size, CPU), its
output captured and capped, and a fresh temporary folder (its ``HOME`` and
``MPLCONFIGDIR``: no folder is shared between workers); where the grader can make one, in a
pids cgroup of its own (at most ``confinement.PIDS_MAX`` processes), else under
``RLIMIT_NPROC``: ``PIDS_MAX`` for a worker of its own user (root's grader), 256 for
``--sandbox-user``'s workers together; under ``process`` the worker is also a subreaper.
:meth:`WorkerProcess.close` kills it with everything it started, however it detached
itself (and every process of a worker's own user).
"""
from __future__ import annotations

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

from . import confinement
from .bubblewrap import (PROJECT_PACKAGES, Isolation, boot_command, bwrap_arguments, bwrap_command,
                         python_executable, site_dirs, worker_code)
from .channel import Channel
from .limits import Limits

OUTPUT_CAP = 20_000          # bytes of the submission's printed output that are kept
SPAWN_TRIES = 3              # attempts at starting a worker (fork can fail for a moment on a loaded machine)


class Output(threading.Thread):
    """Drains the worker's stdout/stderr, keeping the first OUTPUT_CAP bytes.

    The worker is unbuffered (``-u``), so what it printed before a reply is in the pipe when
    the reply arrives: :meth:`drain` reads it then, so ``total`` counts it."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.kept, self.total = fd, bytearray(), 0
        self.lock = threading.Lock()          # one reader at a time: no chunk read but not yet counted
        if fd >= 0:
            os.set_blocking(fd, False)

    def run(self) -> None:
        while True:
            try:
                select.select([self.fd], [], [])
            except (OSError, ValueError):
                return
            if not self.drain():
                return

    def drain(self) -> bool:
        """Read all the pipe holds now (False at its end or once closed)."""
        if self.fd < 0:
            return False
        with self.lock:
            while True:
                try:
                    chunk = os.read(self.fd, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not chunk:
                    return False
                self.total += len(chunk)
                if len(self.kept) < OUTPUT_CAP:
                    self.kept += chunk[: OUTPUT_CAP - len(self.kept)]

    def close(self) -> None:
        """Close the pipe (what was read is kept); later drains read nothing."""
        with self.lock:
            fd, self.fd = self.fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def text(self, start: int = 0) -> str:
        return self.kept[start:].decode("utf-8", "replace")


@dataclass
class Launch:
    """How a worker starts: the command, its environment, the descriptors it inherits, and
    (isolation ``process``) the Landlock ruleset and seccomp filter its child applies."""

    command: list[str]
    env: dict
    fds: tuple
    landlock: object = None
    seccomp: object = None


def readable() -> list[str]:
    """What a Landlocked worker may read: the system's libraries, Python, its packages, the worker."""
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/dev/urandom",
             os.path.realpath(sys.base_prefix), os.path.dirname(python_executable()), worker_code()]
    for site in site_dirs():
        for entry in os.scandir(site):
            name = entry.name.split(".")[0]
            if name not in PROJECT_PACKAGES and not name.startswith("__editable__"):
                paths.append(entry.path)
    return paths


def launch(isolation: Isolation, ids: tuple[int, int], drops: bool, tmp: str, req_r: int, resp_w: int) -> Launch:
    """How to start a worker under ``isolation`` in ``tmp``, as the user ``ids`` (``drops``:
    the worker gives up the grader's user for it). Under ``bwrap`` the seccomp program is a
    descriptor the worker inherits, closed by the grader once the worker is started."""
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
    python = [python_executable(), "-I", "-S", "-B", "-u", "-c"]     # -u: what it prints is never lost
    if isolation.kind == "bwrap":
        options, inside = bwrap_arguments(site_dirs(), worker_code(), os.geteuid() == 0)
        env.update(HOME="/tmp", MPLCONFIGDIR="/tmp/.matplotlib")
        if drops:                             # grading as root: the worker is never root, even inside
            env.update(OLF_UID=str(ids[0]), OLF_GID=str(ids[1]))
        seccomp_fd = confinement.seccomp_program(("setgroups", "setgid", "setuid"))   # the worker drops to its user
        if seccomp_fd is not None:
            options += ["--seccomp", str(seccomp_fd)]
        cmd, args_fd = bwrap_command(options, [*python, boot_command("/olf/code", inside, req_r, resp_w)])
        return Launch(cmd, env, (req_r, resp_w, args_fd) + ((seccomp_fd,) if seccomp_fd is not None else ()))
    env.update(HOME=tmp, MPLCONFIGDIR=os.path.join(tmp, ".matplotlib"))   # nothing shared
    landlock = None
    if confinement.landlock_abi():
        landlock = confinement.Landlock(read=readable(), write=[tmp, "/dev/null"], list_only=list(site_dirs()))
    return Launch(python + [boot_command(worker_code(), site_dirs(), req_r, resp_w)], env, (req_r, resp_w),
                  landlock, confinement.seccomp_filter())


class WorkerProcess:
    """A started worker: the process, its pipes (:class:`Channel`), its output, its
    temporary folder and, where the grader can make one, its pids cgroup."""

    def __init__(self, isolation: Isolation, limits: Limits, ids: tuple[int, int], drops: bool, own_uid: bool):
        self.isolation, self.limits, self.ids, self.drops, self.own_uid = isolation, limits, ids, drops, own_uid
        self.proc = None
        self.pids = None                      # the worker's pids cgroup (confinement.PidsGroup), where one can be made
        self.output = Output(-1)
        self.tmp = None
        self.channel = None
        self.launch = None

    @classmethod
    def spawn(cls, isolation: Isolation, limits: Limits, ids: tuple[int, int], drops: bool,
              own_uid: bool) -> "WorkerProcess":
        """Start a worker as the user ``ids`` (``drops``: not the grader's), or with ``own_uid``
        (root's grader without ``--sandbox-user``) as a user of its own: it imports numpy and
        waits for the submission."""
        self = cls(isolation, limits, ids, drops, own_uid)
        self.tmp = tempfile.mkdtemp(prefix="olf-worker-")
        if own_uid:
            self.ids = confinement.worker_ids()
            confinement.kill_uid(self.ids[0])           # nothing left of an earlier worker of this uid
        if self.ids[0] != os.getuid():
            os.chown(self.tmp, *self.ids)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)
        out_r, out_w = os.pipe()
        self.launch = launch(isolation, self.ids, drops, self.tmp, req_r, resp_w)
        if isolation.kind != "bwrap":
            confinement.prepare()
            confinement.make_undumpable()
        self.pids = confinement.PidsGroup.make()
        try:
            for attempt in range(SPAWN_TRIES):       # the grader's failure to start it is never the student's
                try:
                    self.proc = subprocess.Popen(self.launch.command, pass_fds=self.launch.fds,
                                                 stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, cwd=self.tmp,
                                                 env=self.launch.env, start_new_session=True,
                                                 preexec_fn=self._preexec)
                    break
                except (OSError, subprocess.SubprocessError):
                    if attempt == SPAWN_TRIES - 1:
                        if self.pids is not None:
                            self.pids.remove()
                        raise
                    time.sleep(0.1 * 2 ** attempt)
        finally:
            for fd in (req_r, resp_w, out_w, *self.launch.fds[2:]):
                os.close(fd)
        self.output = Output(out_r)
        self.output.start()
        try:
            exited = os.pidfd_open(self.proc.pid)     # readable once the worker has exited (Linux >= 5.3)
        except (AttributeError, OSError):
            exited = None
        self.channel = Channel(req_w, resp_r, exited)
        return self

    def _preexec(self) -> None:          # runs in the child between fork and exec
        import resource
        bounded = False
        if self.pids is not None:            # its own bound on processes, and all of them killed at the end
            try:
                self.pids.enter()
                bounded = True
            except OSError:
                pass
        mem = self.limits.memory_mb * 1024 * 1024
        for limit, value in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CORE, 0),
                             (resource.RLIMIT_FSIZE, 50 * 1024 * 1024),
                             (resource.RLIMIT_CPU, int(max(60, 20 * self.limits.timeout)))):
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                pass
        if self.drops and not bounded:        # the fallback: per worker for its own uid, else per --sandbox-user
            nproc = confinement.PIDS_MAX if self.own_uid else 256
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            except (ValueError, OSError):
                pass
        if self.isolation.kind == "bwrap":    # the worker itself drops to the user, inside
            return
        if not bounded:                       # no cgroup: its detached descendants stay in its tree
            confinement.become_subreaper()
        keep = (confinement.CAP_DAC_READ_SEARCH,) if self.own_uid and self.isolation.read_search else ()
        if os.geteuid() == 0:                 # no capability ever again (but keep), even as uid 0
            confinement.clear_bounding_set(keep)
        if self.drops:                        # give up root for good
            os.setgroups([])
            os.setgid(self.ids[1])
            os.setuid(self.ids[0])
        confinement.drop_capabilities(keep)
        confinement.die_with_parent()
        if self.launch.landlock is not None:
            self.launch.landlock.apply()
        if self.launch.seccomp is not None:
            self.launch.seccomp.load()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self, wait: float) -> None:
        """End of input lets an idle worker exit (and be accounted) within ``wait`` seconds;
        then whatever is left of it is killed, and its folder removed."""
        if self.proc is None:
            return
        if self.pids is None and self.isolation.kind == "process" and self.proc.poll() is None:
            confinement.kill_descendants(self.proc.pid)     # no cgroup: the subreaper's tree, while it holds it
        self.channel.close()
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.pids is not None:            # and whatever left its process group (setsid, double fork)
            self.pids.kill()
        if self.own_uid:                      # and every process of its own uid, wherever it went
            confinement.kill_uid(self.ids[0])
        self.proc.wait()
        if self.pids is not None:
            self.pids.remove()
            self.pids = None
        self.output.join(timeout=2)
        self.output.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None
