"""What a worker gets when namespaces are refused (``--isolation process``): the kernel's own
unprivileged jails, applied between fork and exec of the worker.

* **Landlock** (Linux ≥ 5.13, unprivileged): the worker may read only the Python
  installation, its site-packages (entry by entry, leaving out the project's packages,
  whose file names it may list but not read) and its own code, and write only its
  temporary folder; TCP is closed (ABI ≥ 4) and signals and abstract sockets cannot
  leave it (ABI ≥ 6). The reference is then unreadable even to the grader's own user.
* **seccomp** (through ``pyseccomp`` and libseccomp when both are there): no socket but
  ``AF_UNIX``, no ``ptrace``, no ``process_vm_readv``/``process_vm_writev``.
* The grader makes itself non-dumpable, so a worker of the same user cannot open its
  ``/proc/<pid>/mem``, ``environ`` or ``cwd``.

Each piece reports whether it is available here (:func:`landlock_abi`, :func:`seccomp_filter`);
:func:`autograder.isolation.resolve_isolation` says in words what held.
"""
from __future__ import annotations

import ctypes
import os
import socket

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


def _libc():
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


def seccomp_filter():
    """A seccomp filter (not loaded yet): no network sockets, no ptrace, no reading other processes.

    ``None`` when ``pyseccomp`` or libseccomp is missing.
    """
    try:
        import pyseccomp as sc
        filt = sc.SyscallFilter(sc.ALLOW)
        filt.add_rule(sc.ERRNO(1), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        for call in ("ptrace", "process_vm_readv", "process_vm_writev"):
            filt.add_rule(sc.ERRNO(1), call)
        return filt
    except Exception:  # noqa: BLE001 - ImportError, OSError (no libseccomp), RuntimeError ...
        return None


def make_undumpable() -> bool:
    """Make the grader non-dumpable: a same-user worker cannot read its memory, environment or cwd."""
    try:
        return _libc().prctl(4, 0, 0, 0, 0) == 0                # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        return False
