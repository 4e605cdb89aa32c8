"""What a worker may use (:class:`Limits`), and the defaults: the one place they are written
(CLI, Gradescope and sandbox use them)."""
from __future__ import annotations

from dataclasses import dataclass

TIMEOUT = 10.0        # CPU seconds for loading a submission and for each exercise (code that waits: 10x in wall-clock time)
SUBMISSION_TIMEOUT = 300.0   # wall-clock seconds for a whole submission: loading and every exercise (a sleeping one stops there)
MEMORY_MB = 2048      # address-space limit of the worker, in MB
TMP_MB = 100          # size of the worker's private /tmp under bubblewrap (a tmpfs: its files live in memory)
WALL_FACTOR = 10      # wall-clock budget of an exercise (for code that waits), in units of its CPU budget


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
