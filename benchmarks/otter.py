"""Side by side with otter-grader: our ``grade`` command on a solved chapter 1–2 submission,
and ``otter run`` on the least an otter assignment can be, in alternating pairs.

    python benchmarks/otter.py [--otter PATH] [--pairs 5]

Issue 13 asks that grading a solved chapter 1–2 submission take a tenth of otter's time on
the same machine. Otter is not a dependency of the course; install it apart, e.g.::

    python3 -m venv /tmp/otter && /tmp/otter/bin/pip install otter-grader==7.0.0 ipykernel
    /tmp/otter/bin/python -m ipykernel install --sys-prefix --name python3

What runs, each as a fresh command (wall time, as a student or Gradescope would see it):

* ours: ``python -m autograder grade FOLDER --exercise 'ex1_*' --exercise 'ex2_*'`` on the
  solved lessons 1 and 2 (every exercise and question of both chapters, each through the
  sandboxed worker, with the isolation that grades here);
* otter: ``otter run -a autograder.zip sub.ipynb`` on a notebook with *one* function and an
  autograder (``otter generate``) with *one* doctest of one call: otter's floor (starting a
  Jupyter kernel, executing the notebook, running the test). A notebook with the 13 chapter
  1–2 exercises and their tests can only take longer.

It prints the median of each, the ratio and the load average (times depend on the machine).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from autograder.framework import load_exercises  # noqa: E402
from grading import lessons_with_exercises, write_complete_submission  # noqa: E402

OTTER_TEST = '''OK_FORMAT = True
test = {
    "name": "q1",
    "points": 1,
    "suites": [{"cases": [{"code": ">>> float(mse_loss([1.0, 2.0], [0.0, 0.0]))\\n2.5",
                           "hidden": False, "locked": False}],
                "scored": True, "setup": "", "teardown": "", "type": "doctest"}],
}
'''

OTTER_CELLS = [
    "import numpy as np\nimport otter\ngrader = otter.Notebook()",
    "def mse_loss(y_pred, y):\n    y_pred, y = np.asarray(y_pred, float), np.asarray(y, float)\n"
    "    return float(np.mean((y_pred - y) ** 2))",
    'grader.check("q1")',
]


def otter_assignment(folder: Path, otter: str) -> tuple[Path, Path]:
    """The one-question notebook and its autograder zip (built with ``otter generate``)."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "q1.py").write_text(OTTER_TEST, encoding="utf-8")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                           "outputs": [], "source": src} for i, src in enumerate(OTTER_CELLS)],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (folder / "sub.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    subprocess.run([otter, "generate", "--no-requirements", "--no-config", "--no-environment",
                    "-t", "tests", "-o", "autograder.zip"], cwd=folder, check=True, capture_output=True)
    return folder / "sub.ipynb", folder / "autograder.zip"


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--otter", default=shutil.which("otter") or "/tmp/otter/bin/otter",
                        help="the otter executable (default: otter on the PATH, else /tmp/otter/bin/otter)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating runs of each (default 5)")
    args = parser.parse_args(argv)
    if not Path(args.otter).exists():
        print(f"no otter at {args.otter}: install it apart (see this script's docstring)")
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="olf-otter-"))
    try:
        exercises = load_exercises()
        lessons = {c: p for c, p in lessons_with_exercises(ROOT / "lessons", exercises).items() if c <= 2}
        ours_folder = write_complete_submission(tmp / "ours", lessons, exercises)
        notebook, zip_file = otter_assignment(tmp / "otter", args.otter)
        (tmp / "otter" / "out").mkdir()
        ours = [sys.executable, "-m", "autograder", "grade", str(ours_folder), "--exercise", "ex1_*",
                "--exercise", "ex2_*", "--format", "json"]
        theirs = [args.otter, "run", "-a", str(zip_file), "-o", "out", "--no-logo", str(notebook)]
        wall(ours, ROOT), wall(theirs, tmp / "otter")                   # warm the file caches
        times: dict[str, list[float]] = {"ours": [], "otter": []}
        for _ in range(args.pairs):
            times["ours"].append(wall(ours, ROOT))
            times["otter"].append(wall(theirs, tmp / "otter"))
        report = json.loads(subprocess.run(ours, cwd=ROOT, capture_output=True, text=True).stdout)
        n_ours = len(report.get("tests", []))
        otter_out = json.loads((tmp / "otter" / "out" / "results.json").read_text())
        print(f"load average {os.getloadavg()[0]:.2f}; {args.pairs} alternating pairs, median wall time")
        print(f"  ours:  {statistics.median(times['ours']):.2f} s  (python -m autograder grade, solved chapters 1-2, "
              f"{n_ours} graded tests, score {report.get('score'):g})")
        q1 = next((t for t in otter_out.get("tests", []) if t.get("name") == "q1"), {})
        print(f"  otter: {statistics.median(times['otter']):.2f} s  (otter run, one function and one doctest; "
              f"q1 scored {q1.get('score')}/{q1.get('max_score')})")
        print(f"  otter / ours: {statistics.median(times['otter']) / statistics.median(times['ours']):.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
