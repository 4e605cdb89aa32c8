"""What submitted code may not do in the worker: start a process, or read standard input."""
from __future__ import annotations

import os
import subprocess
import sys


def forbid(what: str):
    """A function that refuses ``what`` to the submission."""
    def forbidden(*args, **kwargs):
        raise PermissionError(f"{what} is not allowed while grading")
    return forbidden


def forbid_processes() -> None:
    """Replace every way of starting a process (``os.fork``, ``subprocess.Popen`` ...) by a
    refusal, and standard input by ``/dev/null``. What the worker itself needs of these was
    bound before (see :class:`.exercises.Zygote`)."""
    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            setattr(os, name, forbid(f"os.{name}"))
    subprocess.Popen = forbid("starting a process")  # type: ignore[misc]
    sys.stdin = open(os.devnull)
