"""The project passes `ruff check` with the rules of pyproject.toml's [tool.ruff] (pyflakes, syntax
errors, the rules the code's `noqa` comments name, and no unused `noqa`)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ruff_check(*paths, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "--config", str(ROOT / "pyproject.toml"), *map(str, paths)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_project_has_no_lint_finding():
    done = ruff_check(".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_sees_an_unused_import(tmp_path):
    (tmp_path / "planted.py").write_text("import os\n")
    done = ruff_check(tmp_path / "planted.py", cwd=tmp_path)
    assert done.returncode == 1 and "F401" in done.stdout, done.stdout + done.stderr
