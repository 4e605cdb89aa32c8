"""`python -m autograder new-chapter` creates a chapter's four files from autograder/templates/ in
a copy of the project's layout: they parse, sync-lessons accepts the lesson, nothing is overwritten."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ["lessons/09_schedules.ipynb", "solutions/schedules.py", "autograder/tests/test_schedules.py",
         "tests/reference/test_ref_schedules.py"]


def run(tmp, *args):
    env = {**os.environ, "PYTHONPATH": str(tmp)}       # the copy's autograder and solutions, not the project's
    return subprocess.run([sys.executable, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_new_chapter_creates_files_that_parse_and_sync(tmp_path):
    for folder in ("autograder", "solutions"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("lessons", "tests/reference"):
        (tmp_path / folder).mkdir(parents=True)
    done = run(tmp_path, "-m", "autograder", "new-chapter", "9", "schedules", 'Learning-rate "schedules"')
    assert done.returncode == 0, done.stderr
    for name in FILES:
        assert (tmp_path / name).is_file(), done.stdout
        if name.endswith(".py"):
            ast.parse((tmp_path / name).read_text(encoding="utf-8"))
    nb = nbformat.read(tmp_path / FILES[0], as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    first = "".join(nb.cells[0].source)
    assert first.startswith('(schedules)=\n# Learning-rate "schedules"\n'), first
    assert nb.cells[1].metadata.tags == ["setup"] and "from autograder import check" in nb.cells[1].source
    assert any(c.source.startswith("### Exercise ex9_1: `schedules_step`") for c in nb.cells)

    synced = run(tmp_path, "-m", "autograder", "sync-lessons", FILES[0])
    assert synced.returncode == 0, synced.stderr
    assert all(f"created {tag}" in synced.stdout for tag in ("ex9_1", "check-ex9_1", "solution-ex9_1")), synced.stdout
    tags = [c.metadata.get("tags", []) for c in nbformat.read(tmp_path / FILES[0], as_version=4).cells]
    assert ["ex9_1"] in tags and ["solution-ex9_1"] in tags

    ref = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), FILES[3])
    assert "1 xfailed" in ref.stdout, ref.stdout + ref.stderr    # the stub's test waits for the reference

    before = {name: (tmp_path / name).read_bytes() for name in FILES}
    again = run(tmp_path, "-m", "autograder", "new-chapter", "9", "schedules", "Other")
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr, again.stderr
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before


def test_new_chapter_refuses_a_name_that_is_no_module(tmp_path):
    done = run(ROOT, "-m", "autograder", "new-chapter", "9", "Bad-Name", "Title")
    assert done.returncode == 2 and "not a lower-case Python identifier" in done.stderr, done.stderr
    assert not (ROOT / "lessons/09_Bad-Name.ipynb").exists()
