"""One CPU for the grader and its worker: :func:`one_cpu`."""
from __future__ import annotations

import contextlib
import os


def cpus() -> list[int]:
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
    submission, and never run at once; on two CPUs each turn wakes the other CPU
    (``benchmarks/grading.py`` measures what that costs). Nothing changes where this thread
    is already bound to one CPU (a batch job, see :func:`autograder.instructor.batch.grade_many`)
    or where affinity cannot be set.
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
