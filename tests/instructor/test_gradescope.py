"""The Gradescope autograder zip, built and run in a simulated ``/autograder`` layout.

The zip is unpacked as Gradescope does (``root/source``, ``run_autograder`` copied to
``root``, ``root/submission``, ``root/results``) and ``run_autograder`` is run with
``AUTOGRADER_ROOT=root``. ``setup.sh`` (apt and pip) only gets a syntax check; in its place
the test makes ``root/venv`` as it would, but without installing anything: a virtual
environment of this interpreter whose path holds the unpacked ``source`` (so the grader and
its workers run the zip's code) and this interpreter's site-packages (numpy ...).

Submissions: a lesson with its stubs filled in with the reference (full marks), a corrupt
notebook (zeros with the reason), a solved lesson whose exercise function writes a fake
``results.json`` when it is loaded and whenever it is called (overwritten by the real one),
and a grader that cannot start (a readable zero).
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from autograder.framework import load_exercises
from autograder.instructor.gradescope import build_zip, bundled_files
from autograder.lessons import solved_notebook

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = load_exercises()
LESSONS = {int(p.name[:2]): p for p in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))}
GRADED = {c: [ex for ex in EXERCISES.values() if ex.chapter == c] for c in LESSONS}
GRADED = {c: exs for c, exs in GRADED.items() if exs}
# The chapter with the fewest graded tests that has a lesson: the quickest full run.
CHAPTER = min(GRADED, key=lambda c: sum(len(ex.tests) for ex in GRADED[c]), default=None)
PATTERNS = [f"ex{CHAPTER}_*"] if CHAPTER is not None else None
needs_lesson = pytest.mark.skipif(CHAPTER is None, reason="no lesson in lessons/ has graded exercises yet")

TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
             "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FAKE = {"score": 1000000, "output": "written by the submission", "tests": []}


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return build_zip(tmp_path_factory.mktemp("zip") / "autograder.zip", PATTERNS)


def unpack(zip_file: Path, root: Path) -> Path:
    """Gradescope's layout: the zip in root/source (modes kept), run_autograder copied to root."""
    source = root / "source"
    with zipfile.ZipFile(zip_file) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, source))
            target.chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    # What setup.sh makes, "installing" the zip's source by a .pth file instead of pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    paths = [str(source)] + sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    (venv_site(root / "venv") / "olf_source.pth").write_text("\n".join(paths) + "\n")
    where = subprocess.run([str(root / "venv/bin/python"), "-I", "-c", "import autograder.worker.main, solutions, numpy; "
                            "print(autograder.worker.main.__file__, solutions.__file__)"],
                           capture_output=True, text=True, check=True, cwd="/").stdout.split()
    assert all(Path(w).is_relative_to(source) for w in where), where
    subprocess.run(["chmod", "-R", "go-rwx", str(source)], check=True)     # as setup.sh leaves it
    return root


def venv_site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def run_autograder(root: Path, python: str | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    """Run root/run_autograder as Gradescope does; ``python`` overrides the interpreter (PYTHON)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["AUTOGRADER_ROOT"] = str(root)
    if python:
        env["PYTHON"] = python
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    results = root / "results" / "results.json"
    assert results.is_file() and not results.is_symlink(), proc.stderr
    return json.loads(results.read_text(encoding="utf-8")), proc


def check_results_spec(doc: dict) -> None:
    """results.json as Gradescope's autograder specification defines it."""
    assert isinstance(doc, dict) and set(doc) <= TOP_KEYS, set(doc) - TOP_KEYS
    assert isinstance(doc["score"], (int, float)) and not isinstance(doc["score"], bool)
    assert isinstance(doc.get("output", ""), str)
    assert doc.get("visibility", "visible") in VISIBILITY
    assert isinstance(doc["tests"], list)
    for test in doc["tests"]:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["output"], str) and test["output"]
        assert test["status"] in ("passed", "failed")
        assert test.get("visibility", "visible") in VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


def full_marks() -> float:
    return sum(t.points for ex in GRADED[CHAPTER] for t in ex.tests)


def write_solved_lesson(folder: Path, edit=None) -> Path:
    """The chapter's lesson with every stub filled in with the reference (``edit`` rewrites cells)."""
    nb = solved_notebook(LESSONS[CHAPTER], EXERCISES)
    if edit:
        edit(nb)
    path = folder / LESSONS[CHAPTER].name
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# --- the zip ------------------------------------------------------------------------------------

def test_zip_holds_the_scripts_and_the_project(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    names = set(infos)
    assert {"setup.sh", "run_autograder", "pyproject.toml", "README.md"} <= names
    assert names == {"setup.sh", "run_autograder"} | {name for name, _ in bundled_files()}
    assert "autograder/cli.py" in names and "autograder/worker/main.py" in names
    for module in {ex.module for ex in EXERCISES.values()}:
        assert f"autograder/tests/test_{module}.py" in names and f"solutions/{module}.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n or n.startswith(".")]
    for name, info in infos.items():
        mode = info.external_attr >> 16
        assert stat.S_ISREG(mode), name
        assert stat.S_IMODE(mode) == (0o755 if name in ("setup.sh", "run_autograder") else 0o644), name
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_zip_is_reproducible(zip_path, tmp_path):
    again = build_zip(tmp_path / "again.zip", PATTERNS)
    assert again.read_bytes() == zip_path.read_bytes()


def test_scripts_are_valid_bash_and_bake_in_the_options(zip_path, tmp_path):
    with zipfile.ZipFile(zip_path) as zf:
        scripts = {name: zf.read(name).decode() for name in ("setup.sh", "run_autograder")}
    for name, text in scripts.items():
        assert text.startswith("#!/usr/bin/env bash\n"), name
        (tmp_path / name).write_text(text)
        proc = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
    run = scripts["run_autograder"]
    assert "--format gradescope" in run and "--timeout 10 --memory 2048" in run
    assert all(f"--exercise '{p}'" in run for p in PATTERNS or [])
    first, second = list(EXERCISES)[:2]
    custom = build_zip(tmp_path / "custom.zip", [first, second], timeout=3.5, memory_mb=512)
    with zipfile.ZipFile(custom) as zf:
        baked = f"--exercise {first} --exercise {second} --timeout 3.5 --memory 512"
        assert baked in zf.read("run_autograder").decode()
        assert "export OLF_BOOK_URL" not in zf.read("run_autograder").decode()
    linked = build_zip(tmp_path / "linked.zip", [first], book_url="https://example.org/olf")
    with zipfile.ZipFile(linked) as zf:
        assert "export OLF_BOOK_URL=https://example.org/olf" in zf.read("run_autograder").decode()


def test_unknown_exercises_are_refused_when_building(tmp_path):
    with pytest.raises(ValueError, match="no exercise matches"):
        build_zip(tmp_path / "x.zip", ["ex99_*"])
    assert not (tmp_path / "x.zip").exists()


# --- run_autograder in a simulated /autograder --------------------------------------------------

@pytest.mark.slow
@needs_lesson
def test_solved_lesson_gets_full_marks(zip_path, tmp_path):
    root = unpack(zip_path, tmp_path / "autograder")
    write_solved_lesson(root / "submission")
    doc, proc = run_autograder(root)
    check_results_spec(doc)
    assert [t["output"] for t in doc["tests"] if t["status"] != "passed"] == []
    assert len(doc["tests"]) == sum(len(ex.tests) for ex in GRADED[CHAPTER])
    assert doc["score"] == full_marks() > 0
    assert all(t["visibility"] == "visible" for t in doc["tests"])
    assert "seed" in doc["output"].lower()
    assert proc.returncode == 0


@needs_lesson
def test_corrupt_notebook_gets_zeros_with_the_reason(zip_path, tmp_path):
    root = unpack(zip_path, tmp_path / "autograder")
    (root / "submission" / LESSONS[CHAPTER].name).write_text('{"cells": [ {"cell_type": "code", ', encoding="utf-8")
    doc, proc = run_autograder(root)
    check_results_spec(doc)
    assert doc["score"] == 0 and len(doc["tests"]) == sum(len(ex.tests) for ex in GRADED[CHAPTER])
    assert all(t["score"] == 0 and t["status"] == "failed" for t in doc["tests"])
    reason = "not a valid Jupyter notebook"
    assert reason in doc["output"] and json.dumps(doc).count(reason) == 1       # said once, not per test
    assert all(len(t["output"]) < 80 for t in doc["tests"]), doc["tests"]
    assert proc.returncode == 0


@pytest.mark.slow
@needs_lesson
def test_results_written_by_the_submission_are_overwritten(zip_path, tmp_path):
    root = unpack(zip_path, tmp_path / "autograder")
    fake_path, calls = root / "results" / "results.json", tmp_path / "calls.log"
    fake_path.write_text(json.dumps(FAKE))                      # left over before grading
    ex = GRADED[CHAPTER][0]
    name = next(iter(ex.functions))
    sabotage = f'''
def _writes_fake_results(fn):
    """Writes a fake results.json when the cell is loaded and whenever the function is called."""
    def write():                  # (isolated, the submission cannot even reach these files)
        try:
            with open({str(fake_path)!r}, "w") as f:
                f.write({json.dumps(FAKE)!r})
            with open({str(calls)!r}, "a") as f:
                f.write("called\\n")
        except OSError:
            pass
    def wrapper(*args, **kwargs):
        write()
        return fn(*args, **kwargs)
    write()
    return wrapper


'''

    def edit(nb):
        cell = next(c for c in nb["cells"] if ex.id in c.get("metadata", {}).get("tags", []))
        source = "\n" + "".join(cell["source"])
        assert f"\ndef {name}(" in source
        cell["source"] = sabotage + source.replace(f"\ndef {name}(", f"\n@_writes_fake_results\ndef {name}(", 1)

    write_solved_lesson(root / "submission", edit)
    doc, _ = run_autograder(root)
    assert not calls.exists()                     # the isolated worker could not write outside its /tmp
    check_results_spec(doc)
    assert doc != FAKE and doc["score"] == full_marks()
    assert not list((root / "results").glob(".results.*")), "a temporary file was left behind"


def test_a_grader_that_cannot_run_gives_a_readable_zero(zip_path, tmp_path):
    root = unpack(zip_path, tmp_path / "autograder")
    (root / "results" / "results.json").write_text(json.dumps(FAKE))
    doc, proc = run_autograder(root, python=shutil.which("false") or "/bin/false")
    check_results_spec(doc)
    assert doc["score"] == 0 and doc["tests"] == []
    assert "could not grade this submission" in doc["output"]
    assert "the grader failed" in proc.stderr


@pytest.mark.slow
@needs_lesson
@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_the_reference_in_autograder_source_is_out_of_reach(zip_path, tmp_path, isolation):
    """A submission whose first exercise answers right only if it can read the reference in
    /autograder/source (or the venv's installed copy) loses exactly that exercise's points."""
    from autograder.sandbox.bubblewrap import IsolationError, resolve_isolation
    try:
        resolve_isolation(isolation)
    except IsolationError as exc:
        pytest.skip(str(exc))
    root = unpack(zip_path, tmp_path / "autograder")
    script = root / "run_autograder"
    script.write_text(script.read_text().replace("--isolation auto", f"--isolation {isolation}"))
    ex = GRADED[CHAPTER][0]
    name = next(iter(ex.functions))
    thief = f'''
def _thief(fn):
    def wrapper(*args, **kwargs):
        import glob
        for path in (glob.glob({str(root)!r} + "/source/solutions/*.py")
                     + glob.glob({str(root)!r} + "/venv/lib/python3*/site-packages/solutions/*.py")):
            try:
                if open(path).read(1):
                    return fn(*args, **kwargs)
            except OSError:
                pass
        return None
    return wrapper


'''

    def edit(nb):
        cell = next(c for c in nb["cells"] if ex.id in c.get("metadata", {}).get("tags", []))
        source = "\n" + "".join(cell["source"])
        cell["source"] = thief + source.replace(f"\ndef {name}(", f"\n@_thief\ndef {name}(", 1)

    write_solved_lesson(root / "submission", edit)
    doc, proc = run_autograder(root)
    check_results_spec(doc)
    assert f"Isolation: {isolation}" in doc["output"], doc["output"]
    mine = [t for t in doc["tests"] if t["name"].startswith(f"{ex.id} ")]
    assert len(mine) == len(ex.tests) and all(t["score"] == 0 for t in mine), [t["output"] for t in mine]
    assert any(t["score"] > 0 for t in doc["tests"] if t not in mine)        # the rest was graded as usual


def test_the_project_s_license_is_an_spdx_expression():
    """``setup.sh`` pip-installs the project when Gradescope builds its image: setuptools refuses
    the table form ``license = {text = "MIT"}`` from 2027-02-18 (it warns until then)."""
    import tomllib
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]        # PEP 639 license expressions
