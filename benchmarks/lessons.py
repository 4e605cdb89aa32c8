"""Execution time of every lesson notebook (the issues ask for < 30 s each here).

Usage: ``.venv/bin/python benchmarks/lessons.py [lessons/0N_x.ipynb ...]``. Each notebook
is executed from scratch in a fresh kernel (nbclient, as nbval and the book build do);
the table gives wall-clock seconds. Nothing is written back.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main(paths: list[str]) -> None:
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    print(f"{'lesson':<32} {'seconds':>8}")
    total = 0.0
    for nb in notebooks:
        seconds = execute(nb)
        total += seconds
        print(f"{nb.name:<32} {seconds:8.1f}")
    print(f"{'total':<32} {total:8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
