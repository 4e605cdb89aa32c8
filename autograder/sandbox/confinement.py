"""What a worker gets when namespaces are refused (``--isolation process``): the kernel's own
unprivileged jails, applied between fork and exec of the worker.

* **Landlock** (Linux ≥ 5.13, unprivileged): the worker may read only the Python
  installation, its site-packages (entry by entry, leaving out the project's packages,
  whose file names it may list but not read) and its own code, and write only its
  temporary folder; TCP is closed (ABI ≥ 4) and signals and abstract sockets cannot
  leave it (ABI ≥ 6). The reference is then unreadable even to the grader's own user.
* **seccomp** (through ``pyseccomp`` and libseccomp when both are there): an allow-list
  (:data:`SYSCALLS`); no socket but ``AF_UNIX``, no ``ptrace``, ``process_vm_*``, namespaces,
  ``mount``, ``keyctl``, ``bpf``, ``setuid`` ... (ENOSYS). Under ``bwrap`` too, compiled
  (:func:`seccomp_program`) for bubblewrap's ``--seccomp``.
* The grader makes itself non-dumpable, so a worker of the same user cannot open its
  ``/proc/<pid>/mem``, ``environ`` or ``cwd``.
* **Capabilities**: a worker started by root empties its bounding and ambient sets, locks
  ``SECBIT_NOROOT`` and drops every capability (:func:`clear_bounding_set`,
  :func:`drop_capabilities`) but, where its user cannot reach the Python installation and
  Landlock holds, ``CAP_DAC_READ_SEARCH`` (ambient: reads, confined by Landlock).
* **A user of its own per worker** (:func:`worker_ids`) when the grader is root and no
  ``--sandbox-user`` is named: its ``RLIMIT_NPROC`` is a bound of its own, and closing the
  worker kills every process of that user (:func:`kill_uid`). A worker dies with the thread
  that started it (:func:`die_with_parent`).
* **A pids cgroup per worker** (:class:`PidsGroup`, under ``bwrap`` too) where the grader can
  make one: a bound on its processes of its own, and every one of them killed at the end;
  without one, the worker is a child subreaper and the grader kills its tree
  (:func:`kill_descendants`).

Each piece reports whether it is available here (:func:`landlock_abi`, :func:`seccomp_filter`);
:func:`autograder.sandbox.bubblewrap.resolve_isolation` says in words what held.
"""
from __future__ import annotations

import ctypes
import os
import socket
import threading
from functools import lru_cache

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446      # x86_64 and aarch64 alike
_RULE_PATH_BENEATH = 1
_FILE_RIGHTS = 1 | 2 | 4 | (1 << 14) | (1 << 15)              # execute, write, read, truncate, ioctl
_READ = 1 | 4 | 8                                               # execute, read file, read dir
_LIST = 8                                                       # read dir only: names, no contents


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@lru_cache(maxsize=None)
def _libc():
    """libc, loaded once in the grader (never first between fork and exec, where dlopen may deadlock)."""
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel, 0 if it has none (or a seccomp profile hides it)."""
    try:
        abi = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(0, abi)


def _handled_fs(abi: int) -> int:
    bits = (1 << 13) - 1                 # ABI 1: execute .. make_sym
    if abi >= 2:
        bits |= 1 << 13                  # refer
    if abi >= 3:
        bits |= 1 << 14                  # truncate
    if abi >= 5:
        bits |= 1 << 15                  # ioctl on devices
    return bits


class Landlock:
    """A Landlock ruleset prepared in the grader and applied in the worker (between fork and exec)."""

    def __init__(self, read: list[str], write: list[str], list_only: list[str] = ()):
        self.abi = landlock_abi()
        exist = lambda paths: [p for p in paths if os.path.exists(p)]  # noqa: E731
        self.read, self.write, self.list_only = exist(read), exist(write), exist(list_only)
        self.libc = _libc()

    def apply(self) -> None:
        """Restrict this process (and whatever it execs) for good; raises OSError if the kernel refuses."""
        if not self.abi:
            raise OSError("Landlock is not available")
        libc, handled = self.libc, _handled_fs(self.abi)
        attr = _RulesetAttr(handled, 3 if self.abi >= 4 else 0, 3 if self.abi >= 6 else 0)
        size = 8 if self.abi < 4 else 16 if self.abi < 6 else 24
        ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if ruleset < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
        try:
            for paths, rights in ((self.read, _READ), (self.write, handled), (self.list_only, _LIST)):
                for path in paths:
                    try:
                        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                    except OSError:           # gone since: nothing to allow
                        continue
                    try:
                        allowed = rights & handled
                        if not os.path.isdir(path):
                            allowed &= _FILE_RIGHTS
                        rule = _PathBeneath(allowed, fd)
                        if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
                            raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
                    finally:
                        os.close(fd)
            if libc.prctl(38, 1, 0, 0, 0) < 0:                 # PR_SET_NO_NEW_PRIVS
                raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
            if libc.syscall(_SYS_RESTRICT, ruleset, 0) < 0:
                raise OSError(ctypes.get_errno(), "landlock_restrict_self")
        finally:
            os.close(ruleset)


# The system calls a worker may make (x86_64 and aarch64 names; a name this architecture lacks is
# skipped), measured on Python, numpy/OpenBLAS, SciPy and torch (CPU) running the graded tests.
# Every other call fails with ENOSYS (so the C library falls back, as from ``clone3`` to ``clone``):
# among them every socket but ``AF_UNIX``, ``ptrace``, ``process_vm_*``, ``open_by_handle_at``,
# ``mount``/``unshare``/``setns``/namespaces in ``clone``, ``keyctl``/``add_key``, ``bpf``,
# ``perf_event_open``, ``io_uring_*``, ``userfaultfd``, the ``setuid`` family, modules, reboot.
SYSCALLS = (
    # files (Landlock decides which)
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "close", "close_range", "lseek", "stat", "fstat", "lstat", "newfstatat", "statx",
    "statfs", "fstatfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents",
    "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
    "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "flock", "fcntl", "dup", "dup2", "dup3",
    "pipe", "pipe2", "utimensat", "umask", "fadvise64", "sendfile", "copy_file_range", "ioctl",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "memfd_create",
    # memory
    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mincore", "msync", "membarrier",
    "get_mempolicy", "set_mempolicy", "mbind",          # OpenBLAS and torch place their memory
    # processes and threads (clone without new namespaces; see seccomp_filter)
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "kill", "tkill",
    "tgkill", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getgroups", "getpgid", "getpgrp", "getsid", "setsid", "setpgid", "set_tid_address",
    "set_robust_list", "get_robust_list", "rseq", "arch_prctl", "prctl", "capget", "futex", "futex_waitv",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "getpriority", "setpriority",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "times",
    # signals, time, waiting
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "restart_syscall", "pause", "alarm",
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
    "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
    "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime", "eventfd", "eventfd2",
    "signalfd", "signalfd4", "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    # the machine, randomness
    "uname", "sysinfo", "getrandom", "getcpu",
    # Unix sockets only (socket and socketpair: see seccomp_filter)
    "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg", "getsockname", "getpeername", "setsockopt", "getsockopt", "shutdown",
)
_CLONE_NAMESPACES = 0x7E020000 | 0x80          # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME


def seccomp_filter(extra: tuple[str, ...] = ()):
    """A seccomp filter (not loaded yet): the system calls of :data:`SYSCALLS` and ``extra``,
    ``clone`` without a new namespace, ``socket``/``socketpair`` for ``AF_UNIX`` only; any other
    call fails with ENOSYS.

    ``None`` when ``pyseccomp`` or libseccomp is missing.
    """
    try:
        import errno

        import pyseccomp as sc
        filt = sc.SyscallFilter(sc.ERRNO(errno.ENOSYS))
        for call in SYSCALLS + tuple(extra):
            try:
                filt.add_rule(sc.ALLOW, call)
            except Exception:  # noqa: BLE001 - not a system call of this architecture
                pass
        filt.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_NAMESPACES, 0))
        for call in ("socket", "socketpair"):
            filt.add_rule(sc.ALLOW, call, sc.Arg(0, sc.EQ, socket.AF_UNIX))
        return filt
    except Exception:  # noqa: BLE001 - ImportError, OSError (no libseccomp), RuntimeError ...
        return None


def seccomp_program(extra: tuple[str, ...] = ()) -> int | None:
    """:func:`seccomp_filter` compiled to BPF, readable from the returned descriptor (a pipe,
    as bubblewrap's ``--seccomp FD`` reads it); ``None`` without seccomp here."""
    filt = seccomp_filter(extra)
    if filt is None:
        return None
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb") as f:
            filt.export_bpf(f)
    except Exception:  # noqa: BLE001 - RuntimeError/OSError from libseccomp: no filter then
        os.close(r)
        return None
    return r


def make_undumpable() -> bool:
    """Make the grader non-dumpable: a same-user worker cannot read its memory, environment or cwd."""
    try:
        return _libc().prctl(4, 0, 0, 0, 0) == 0                # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        return False


# --- capabilities (a worker started by root) ---------------------------------------------------

_PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 28, 47, 4
_SECUREBITS = 0x01 | 0x02 | 0x40 | 0x80      # NOROOT (+locked), NO_CAP_AMBIENT_RAISE (+locked)
_CAP_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@lru_cache(maxsize=None)
def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


CAP_DAC_READ_SEARCH = 2
_PR_SET_PDEATHSIG, _PR_CAP_AMBIENT_RAISE, _SECBIT_KEEP_CAPS = 1, 2, 0x10


def clear_bounding_set(keep: tuple[int, ...] = ()) -> None:
    """Empty the capability bounding set (but ``keep``) and the ambient set, and lock root out of
    regaining capabilities at ``exec`` (securebits ``NOROOT``): a process started by root can
    never hold a capability again but ``keep``. Needs ``CAP_SETPCAP`` (call it before giving up
    root); without it (a grader that is not root) there is nothing to clear and it does nothing.
    With ``keep``, the permitted set survives the next ``setuid`` (``SECBIT_KEEP_CAPS``) for
    :func:`drop_capabilities` to keep those as ambient capabilities."""
    libc = _libc()
    for cap in range(_last_cap() + 1):
        if cap not in keep:
            libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    libc.prctl(_PR_SET_SECUREBITS, 0x01 | 0x02 | _SECBIT_KEEP_CAPS if keep else _SECUREBITS, 0, 0, 0)


def drop_capabilities(keep: tuple[int, ...] = ()) -> None:
    """Drop every effective, permitted and inheritable capability of this process but ``keep``
    (``capset``), which become ambient (kept across ``exec`` by a process that is not root), and
    set ``no_new_privs``; raises OSError if the kernel refuses."""
    libc = _libc()
    data = (_CapData * 2)()
    for cap in keep:
        bit = 1 << (cap % 32)
        data[cap // 32].effective |= bit
        data[cap // 32].permitted |= bit
        data[cap // 32].inheritable |= bit
    if libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) < 0:
        raise OSError(ctypes.get_errno(), "capset")
    for cap in keep:
        if libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "PR_CAP_AMBIENT_RAISE")
    if libc.prctl(38, 1, 0, 0, 0) < 0:                          # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")


def die_with_parent() -> None:
    """Be killed when the thread that started this process ends (``PR_SET_PDEATHSIG``): call it
    after the last change of user, which clears it."""
    _libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)


# --- a user of its own per worker (a grader running as root) -----------------------------------

WORKER_UID_BASE = 2**30       # no account uses these (nor /etc/subuid's usual 100000 + 65536 k ranges)
_PER_GRADER = 255


class _Counter:
    value = 0
    lock = threading.Lock()


def worker_ids() -> tuple[int, int]:
    """A user and group id of its own for the next worker of this grader: ``WORKER_UID_BASE``
    + 255 × (the grader's pid) + a counter, so graders running side by side never share one; a
    uid is used again only after 255 workers of its grader, each killed with every process of
    its uid when it was closed (:func:`kill_uid`)."""
    with _Counter.lock:
        _Counter.value = _Counter.value % _PER_GRADER + 1
        uid = WORKER_UID_BASE + _PER_GRADER * (os.getpid() % 2**22) + _Counter.value - 1
    return uid, uid


def _each_process(name: str):
    """``(pid, contents of /proc/<pid>/<name>)`` for every process that can be read now."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/{name}", "rb") as f:
                data = f.read()
        except OSError:                       # gone since, or not ours to read
            continue
        yield int(entry), data


def processes_of(uid: int) -> list[int]:
    """Every living process whose real, effective or saved user is ``uid``."""
    found = []
    for pid, status in _each_process("status"):
        at = status.find(b"\nUid:")
        state = status.find(b"\nState:")
        if at < 0 or status[state + 8:state + 10].strip() in (b"Z", b"X"):
            continue
        if str(uid).encode() in status[at + 5:status.find(b"\n", at + 1)].split()[:3]:
            found.append(pid)
    return found


def kill_uid(uid: int, seconds: float = 2.0) -> None:
    """Kill every process of ``uid`` (a worker's own user) until none is left, however it detached
    itself and whoever its parent is now; it cannot fork faster than it is killed for long
    (``RLIMIT_NPROC``), nor change its user (no capability)."""
    _kill_until_none(lambda: processes_of(uid), seconds, pause=0.002)


def _kill_until_none(find, seconds: float, pause: float = 0.0) -> None:
    """SIGKILL every pid ``find()`` returns, again and again, until it returns none (or ``seconds`` pass)."""
    import signal
    import time
    ends = time.monotonic() + seconds
    while (pids := find()) and time.monotonic() < ends:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(pause)


# --- a process bound per worker (a pids cgroup) -----------------------------------------------

CGROUP_MOUNT = "/sys/fs/cgroup"
PIDS_MAX = 64                 # processes and threads of one worker, all its descendants included


def _own_cgroup(hierarchy: str) -> str:
    """This process's cgroup in the hierarchy whose ``/proc/self/cgroup`` field is ``hierarchy``
    (``""`` for cgroup2, ``"pids"`` for the v1 controller)."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, names, path = line.rstrip("\n").split(":", 2)
                if hierarchy in names.split(","):
                    return path
    except (OSError, ValueError):
        pass
    return "/"


@lru_cache(maxsize=None)
def _pids_parents() -> tuple[str, ...]:
    """Folders where a worker's pids cgroup may be made, best first: this process's cgroup2
    (if its children get the ``pids`` controller), then its cgroup in the v1 ``pids`` hierarchy
    (found once per process)."""
    found = []
    for mount in (CGROUP_MOUNT, os.path.join(CGROUP_MOUNT, "unified")):
        if os.path.exists(os.path.join(mount, "cgroup.controllers")):
            own = os.path.join(mount, _own_cgroup("").lstrip("/"))
            try:
                with open(os.path.join(own, "cgroup.subtree_control")) as f:
                    enabled = "pids" in f.read().split()
                if not enabled:
                    with open(os.path.join(own, "cgroup.subtree_control"), "w") as f:
                        f.write("+pids")           # refused (EBUSY) unless nothing runs in it: then v1
                found.append(own)
            except OSError:
                pass
            break
    v1 = os.path.join(CGROUP_MOUNT, "pids")
    if os.path.exists(os.path.join(v1, "pids.max")) or os.path.exists(os.path.join(v1, "tasks")):
        own = os.path.join(v1, _own_cgroup("pids").lstrip("/"))
        found.append(own if os.path.isdir(own) else v1)
    return tuple(found)


class PidsGroup:
    """A pids cgroup of one worker: at most ``PIDS_MAX`` processes and threads, all killed at
    the end (``cgroup.kill`` on cgroup2; else forks refused and every member killed until none
    is left). :meth:`make` returns ``None`` where no cgroup can be made (a grader that is not
    root, Gradescope, Docker without a writable ``/sys/fs/cgroup``): the worker then runs
    without one, bounded as before (see :mod:`autograder.sandbox.subject`)."""

    _count = 0

    def __init__(self, path: str):
        self.path = path

    @classmethod
    def make(cls, limit: int = PIDS_MAX) -> "PidsGroup | None":
        for parent in _pids_parents():
            cls._count += 1
            path = os.path.join(parent, f"olf-worker-{os.getpid()}-{cls._count}")
            try:
                os.mkdir(path, 0o755)
            except OSError:
                continue
            group = cls(path)
            try:
                group._write("pids.max", str(limit))
            except OSError:
                group.remove()
                continue
            return group
        return None

    def _write(self, name: str, value: str) -> None:
        fd = os.open(os.path.join(self.path, name), os.O_WRONLY)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def enter(self) -> None:
        """Move this process into the group (between fork and exec of the worker)."""
        self._write("cgroup.procs", str(os.getpid()))

    def members(self) -> list[int]:
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            return []

    def kill(self, seconds: float = 5.0) -> None:
        """Kill every process in the group, however it detached itself (``setsid``, a double fork)."""
        import signal
        import time
        try:
            self._write("cgroup.kill", "1")
        except OSError:
            try:
                self._write("pids.max", "0")          # no new member while the others are killed
            except OSError:
                pass
        ends = time.monotonic() + seconds
        while (pids := self.members()) and time.monotonic() < ends:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def remove(self, seconds: float = 2.0) -> None:
        """Remove the (emptied) group; a member not yet reaped delays it a little."""
        import time
        ends = time.monotonic() + seconds
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > ends:
                    return
                time.sleep(0.01)


def prepare() -> None:
    """Load in the grader what the worker's start-up uses between fork and exec."""
    _libc()
    _last_cap()


# --- without a cgroup: the worker as subreaper, its tree killed from the grader -----------------

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Keep every descendant of this process (the worker) in its tree, even one that detached
    itself (``setsid()`` and a double fork): orphans are re-parented to it, not to init."""
    _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _living_children() -> dict[int, list[int]]:
    """ppid -> pids of every process on the machine that is not a zombie."""
    tree: dict[int, list[int]] = {}
    for pid, stat in _each_process("stat"):
        try:
            state, ppid = stat.rsplit(b")", 1)[1].split()[:2]
        except ValueError:
            continue
        if state != b"Z":
            tree.setdefault(int(ppid), []).append(pid)
    return tree


def descendants(pid: int) -> list[int]:
    """Every living descendant of ``pid`` (not ``pid`` itself)."""
    tree, found, todo = _living_children(), [], [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def kill_descendants(pid: int, seconds: float = 2.0) -> None:
    """Kill every descendant of the subreaper ``pid`` until none is left (or ``seconds`` pass)."""
    _kill_until_none(lambda: descendants(pid), seconds)
