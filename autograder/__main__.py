"""``python -m autograder``: the command line (:mod:`autograder.cli`).

``-m`` puts the working directory first on ``sys.path``. Graded from inside a class's
folder, a student's ``secrets.py`` (or ``json.py`` ...) would then be imported by the grader
itself, unsandboxed: the working directory leaves ``sys.path`` before anything else is
imported, unless it is the project's own folder (which holds this package).
"""
import os
import sys

_PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _without_working_directory(path: list[str]) -> list[str]:
    """``path`` without the working directory (``''``, ``.`` or its absolute name), unless it is the project's."""
    cwd = os.path.realpath(os.getcwd())
    if cwd == os.path.realpath(_PROJECT):
        return list(path)
    return [p for p in path if os.path.realpath(p or os.curdir) != cwd]


sys.path[:] = _without_working_directory(sys.path)

from .cli import main  # noqa: E402 - after sys.path is safe

sys.exit(main())
