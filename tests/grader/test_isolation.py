"""Every route from student code to the reference, under each isolation: each scores zero.

Each submission's ``mse_loss`` (ex1_1) tries one route to the reference — its module, its
source file, its code objects, the grader's memory or files, the network — and returns
the right answer only if the route worked (by running the stolen reference where it gets
one, else by computing the answer itself as a thief that got through would); otherwise it
returns a wrong number. Its ``mse_loss_grad`` (ex1_2) is right. So each route that holds
shows as ex1_1 = 0 with ex1_2 at full marks, under ``bwrap`` and under ``process``.
"""
import socket
import threading
from pathlib import Path

import pytest

from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.sandbox.bubblewrap import IsolationError, resolve_isolation
from autograder.sandbox.limits import Limits

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = select(load_exercises(), ["ex1_1", "ex1_2"])

PRELUDE = '''
import numpy as np

def mse_loss_grad(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2.0 * (y_pred - np.asarray(y, dtype=float)) / y_pred.size

def _as_thief(y_pred, y):
    """What a submission that got through would return: the right answer."""
    return float(np.mean((np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)) ** 2))

def mse_loss(y_pred, y):
    try:
        got = steal(y_pred, y)
    except BaseException:
        got = None
    if got is None:
        return -1.0                     # the route was closed: a wrong answer
    return got if isinstance(got, float) else _as_thief(y_pred, y)
'''

# route -> the body of ``steal(y_pred, y)``: a float (the reference's answer), True (reached
# the reference's files, memory or the grader), or None (closed).
ROUTES = {
    "spec_from_file_location via sys.path and the editable install's finder": '''
import importlib.util, os, re, sys
places = list(sys.path)
for d in list(sys.path):
    try:
        for name in os.listdir(d):
            if name.endswith(".py") and "editable" in name:
                places += re.findall(r"'(/[^']+)'", open(os.path.join(d, name)).read())
    except OSError:
        pass
for p in places:
    for candidate in (os.path.join(p, "solutions", "losses.py"), os.path.join(p, "losses.py")):
        if os.path.exists(candidate):
            spec = importlib.util.spec_from_file_location("stolen_losses", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return float(module.mse_loss(y_pred, y))
''',
    "a file handle of the reference (open_by_handle_at: a worker holding CAP_DAC_READ_SEARCH)": '''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Handle(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint), ("kind", ctypes.c_int), ("data", ctypes.c_ubyte * 128)]
handle, mount = Handle(128), ctypes.c_int()
if libc.name_to_handle_at(-100, (ROOT + "/solutions/losses.py").encode(), ctypes.byref(handle), ctypes.byref(mount), 0):
    return None
for place in sys.path + ["/", "/tmp", os.getcwd()]:
    try:
        base = os.open(place, os.O_RDONLY)
    except OSError:
        continue
    fd = libc.open_by_handle_at(base, ctypes.byref(handle), 0)
    if fd >= 0:
        return os.read(fd, 10) is not None
''',
    "the reference's path, known from the repository": '''
import os
for path in (ROOT + "/solutions/losses.py", ROOT + "/solutions/__pycache__"):
    try:
        if os.path.isdir(path):
            return bool(os.listdir(path)) and open(os.path.join(path, os.listdir(path)[0]), "rb").read(1) is not None
        return open(path).read(100) and True
    except OSError:
        pass
''',
    "a search of the file system": '''
import os, time
end = time.monotonic() + 2.5
for start in ("/autograder", "/work", "/home", "/srv", "/opt", "/tmp", "/root", "/usr", "/"):
    for top, dirs, files in os.walk(start):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", ".git", "node_modules")]
        if time.monotonic() > end:
            return None
        if os.path.basename(top) == "solutions" and "losses.py" in files:
            try:
                return open(os.path.join(top, "losses.py")).read(100) and True
            except OSError:
                pass
''',
    "sys.modules and importing solutions": '''
import importlib, sys
importlib.import_module("solutions.losses")
for name, module in list(sys.modules.items()):
    fn = getattr(module, "mse_loss", None) if "solutions" in name else None
    if fn is not None:
        try:
            return float(fn(y_pred, y))
        except BaseException:
            pass
        for cell in getattr(fn, "__closure__", None) or ():
            inner = cell.cell_contents
            if callable(inner) and getattr(inner, "__name__", "") == "mse_loss":
                return float(inner(y_pred, y))
''',
    "gc.get_objects (functions and code objects)": '''
import gc, types
import numpy as np
for obj in gc.get_objects():
    code = obj.__code__ if isinstance(obj, types.FunctionType) else obj if isinstance(obj, types.CodeType) else None
    if code is None or code.co_name != "mse_loss" or code.co_filename.startswith("<submission"):
        continue
    if "solutions" in code.co_filename or "losses" in code.co_filename:
        fn = obj if isinstance(obj, types.FunctionType) else types.FunctionType(code, {"np": np})
        try:
            return float(fn(y_pred, y))
        except Exception:
            continue
''',
    "/proc of the grader: mem, cwd, root, environ": '''
import os
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    if b"pytest" not in cmdline and b"autograder" not in cmdline:
        continue                                    # not the grader
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        with open(f"/proc/{pid}/mem", "rb") as mem:
            for line in maps:
                start = int(line.split("-")[0], 16)
                try:
                    mem.seek(start)
                    if mem.read(16):
                        return True
                except OSError:
                    continue
    except OSError:
        pass
    for probe in (lambda: "solutions" in os.listdir(f"/proc/{pid}/cwd"),
                  lambda: open(f"/proc/{pid}/root" + ROOT + "/solutions/losses.py").read(10) and True,
                  lambda: bool(open(f"/proc/{pid}/environ", "rb").read())):
        try:
            if probe():
                return True
        except OSError:
            pass
''',
    "a socket to the grader's machine (127.0.0.1)": '''
import socket
for family, address in ((socket.AF_INET, ("127.0.0.1", PORT)), (socket.AF_INET6, ("::1", PORT))):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(address)
            return True
    except OSError:
        pass
try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("127.0.0.1", PORT))
        return None
except OSError:
    pass
''',
}


def _available(isolation: str) -> str | None:
    try:
        resolve_isolation(isolation)
    except IsolationError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def listener():
    """A TCP port on 127.0.0.1 in the grader's network: reaching it is a route out."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    reached = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            reached.append(1)
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], reached
    server.close()


def submission(route: str, port: int) -> str:
    body = "\n".join("    " + line for line in ROUTES[route].strip().splitlines())
    return (f"ROOT = {str(ROOT)!r}\nPORT = {port}\n{PRELUDE}\ndef steal(y_pred, y):\n{body}\n    return None\n")


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
@pytest.mark.parametrize("route", [pytest.param(r, marks=pytest.mark.slow) if r == "a search of the file system" else r
                                   for r in ROUTES])
def test_every_route_to_the_reference_scores_zero(route, isolation, listener, tmp_path):
    reason = _available(isolation)
    if reason:
        pytest.skip(reason)
    port, reached = listener
    before = len(reached)
    path = tmp_path / "thief.py"
    path.write_text(submission(route, port), encoding="utf-8")
    report = grade_submission(path, EXERCISES, seed=5, limits=Limits(timeout=5, memory_mb=1024, isolation=isolation))
    scores = {ex: s for ex, (s, _m, _st) in report.by_exercise().items()}
    top = {ex: m for ex, (_s, m, _st) in report.by_exercise().items()}
    assert report.isolation == isolation
    assert scores == {"ex1_1": 0, "ex1_2": top["ex1_2"]}, [o.message for o in report.outcomes]
    assert len(reached) == before                   # nothing got through to the grader's port


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_a_thief_that_gets_through_would_score(isolation, tmp_path):
    """The check above can fail: the same submission scores when its route is open."""
    if _available(isolation):
        pytest.skip(_available(isolation))
    path = tmp_path / "open.py"
    path.write_text(f"ROOT = ''\nPORT = 0\n{PRELUDE}\ndef steal(y_pred, y):\n    return True\n", encoding="utf-8")
    report = grade_submission(path, EXERCISES, seed=5, limits=Limits(isolation=isolation))
    assert report.score == report.max_score > 0, [o.message for o in report.outcomes]


def test_the_worker_never_imports_the_reference():
    """The worker's code imports nothing of solutions (the façade is served by the grader)."""
    import ast
    for name in sorted((ROOT / "autograder" / "worker").glob("*.py")):
        tree = ast.parse(name.read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith(("solutions", "autograder"))}, (name, imported)


def test_an_isolation_that_is_not_here_refuses_to_grade(monkeypatch):
    import autograder.sandbox.bubblewrap as isolation
    monkeypatch.setattr(isolation, "bwrap_binary", lambda: None)
    isolation._resolve_isolation.cache_clear()
    try:
        with pytest.raises(IsolationError, match="no bwrap"):
            isolation.resolve_isolation("bwrap")
        assert isolation.resolve_isolation("auto").kind == "process"
    finally:
        isolation._resolve_isolation.cache_clear()


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.startswith("/proc")])
def test_each_route_is_open_without_the_sandbox(route, listener):
    """Run in the grader's own process, each route does reach the reference (or the port):
    the zeros above come from the isolation, not from a route that never worked."""
    port, reached = listener
    namespace = {"__name__": "thief"}
    exec(compile(submission(route, port), "<thief>", "exec"), namespace)
    import numpy as np
    assert namespace["steal"](np.array([1.0, 2.0]), np.array([0.0, 0.0])) is not None


def _hostile_cases() -> dict:
    import importlib.util
    spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).with_name("test_hostile.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HOSTILE


HOSTILE = _hostile_cases()
SANDBOX_CASES = ["infinite loop", "sleep forever", "memory bomb", "bounded fork", "subprocess", "os._exit(0)",
                 "output flood", "deletes its working directory", "fake results and fake passed lines",
                 "uses the reference answer", "imports the reference answer"]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow)
                                  if n in ("sleep forever", "output flood", "infinite loop") else n for n in SANDBOX_CASES])
def test_hostile_submissions_under_process_isolation(name, tmp_path):
    """The fallback isolation holds against what test_hostile.py throws at the default one."""
    if _available("process"):
        pytest.skip(_available("process"))
    source, words = HOSTILE[name]
    path = tmp_path / "submission.py"
    path.write_text(source, encoding="utf-8")
    report = grade_submission(path, EXERCISES, seed=7, limits=Limits(timeout=3, memory_mb=1024, isolation="process"))
    scores = {ex: s for ex, (s, _m, _st) in report.by_exercise().items()}
    top = {ex: m for ex, (_s, m, _st) in report.by_exercise().items()}
    assert report.isolation == "process"
    assert scores == {"ex1_1": 0, "ex1_2": top["ex1_2"]}, [o.message for o in report.outcomes]
    messages = " | ".join(o.message for o in report.outcomes if o.exercise == "ex1_1")
    assert words in messages or "Permission denied" in messages, messages     # Landlock: no /tmp/results.json


def test_the_facade_refuses_the_exercise_under_any_name_or_as_an_argument():
    """The grader runs no function of the exercise being graded for the worker: not by its name,
    not under another name of the same object, not handed to another reference function."""
    import numpy as np

    from autograder.sandbox import served
    from autograder.worker.plain import dumps
    from solutions import losses
    refused = {"mse_loss": losses.mse_loss}
    args = dumps(([np.ones(3), np.zeros(3)], {}))
    assert served.call("solutions.losses", "mse_loss", args, refused=refused, sent=set())["status"] == "refused"
    alias = {"another_name": losses.mse_loss}
    assert served.call("solutions.losses", "mse_loss", args, refused=alias, sent=set())["status"] == "refused"
    handed = dumps(([losses.mse_loss], {}))
    assert served.call("solutions.losses", "sigmoid", handed, refused=refused, sent=set())["status"] == "refused"
    ok = served.call("solutions.losses", "mse_loss", args, refused={}, sent=set())
    assert ok["status"] == "ok" and served.loads(ok["value"]) == 1.0                  # another exercise's helper
    assert served.call("autograder.tests.test_losses", "anything", args, refused={}, sent=set())["status"] == "refused"
    assert served.describe("solutions.losses", "__file__") == {"kind": "missing"}


def test_the_facade_refuses_a_helper_that_runs_the_answer():
    """A helper that is no exercise but runs one of the refused answers inside (``bfgs`` runs
    ``bfgs_update``) is refused too; with nothing refused it is served."""
    import numpy as np

    from autograder.sandbox import served
    from autograder.worker.plain import dumps
    from solutions import common, newton
    args = dumps(([common.rosenbrock, common.rosenbrock_grad, np.array([-1.0, 1.0])], {"max_iter": 3}))
    refused = served.call("solutions.newton", "bfgs", args, refused={"bfgs_update": newton.bfgs_update}, sent=set())
    assert refused["status"] == "refused" and "bfgs_update" in refused["error"], refused
    assert served.call("solutions.newton", "bfgs", args, refused={}, sent=set())["status"] == "ok"


def test_the_private_tmp_cannot_fill_the_memory(tmp_path):
    """bubblewrap's /tmp is a tmpfs (memory): it is capped at TMP_MB, below the memory limit."""
    from autograder.sandbox.limits import TMP_MB
    if resolve_isolation("auto").kind != "bwrap":
        pytest.skip("bubblewrap cannot isolate a worker here")
    path = tmp_path / "submission.py"
    path.write_text("def mse_loss(y_pred, y):\n    for i in range(4):\n"
                    f"        with open(f'/tmp/f{{i}}', 'wb') as f:\n            f.write(bytes({TMP_MB // 3} * 2**20))\n"
                    "    return 0.0\n", encoding="utf-8")
    report = grade_submission(path, select(load_exercises(), ["ex1_1"]), seed=0, limits=Limits(isolation="bwrap"))
    messages = " | ".join(o.message for o in report.outcomes)
    assert report.score == 0 and "No space left on device" in messages, messages


def test_every_lesson_builds_only_on_earlier_chapters():
    """The answers a lesson imports from ``solutions`` are of earlier chapters: while a chapter
    is graded, the grader's façade (``served``) refuses its own chapter's answers and later ones', so a lesson's
    given code never is."""
    import ast
    import json

    lessons = Path(__file__).resolve().parents[2] / "lessons"
    chapter_of = {n: ex.chapter for ex in load_exercises().values() for n in getattr(ex, "functions", {})}
    imported = []
    for path in sorted(lessons.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            code = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("solutions"):
                    imported += [(int(path.name[:2]), a.name) for a in node.names if a.name in chapter_of]
    assert len(imported) >= 10
    assert [(c, n) for c, n in imported if chapter_of[n] >= c] == []


def test_a_worker_started_ahead_of_time_survives_until_it_is_used():
    """bubblewrap's --die-with-parent kills the worker when the *thread* that started it ends;
    ``prestart`` once started it from a helper thread, and a busy grader (importing its tests,
    holding the GIL) let that thread end after bubblewrap armed the signal: the worker died
    while loading the submission, in about 1 grading of 8. It now starts from the caller's thread."""
    import time

    from autograder.sandbox import subject as sandbox
    if resolve_isolation("auto").kind != "bwrap":
        pytest.skip("bubblewrap cannot isolate a worker here")
    limits = Limits()
    try:
        for _ in range(5):
            sandbox.prestart(limits)
            busy = time.perf_counter() + 0.1
            while time.perf_counter() < busy:          # hold the GIL, as the grader importing its tests does
                pass
            time.sleep(0.2)
            worker = sandbox._SPARES[limits][1]
            assert worker is not None and worker.proc.poll() is None, worker and worker.proc.poll()
    finally:
        sandbox._discard_all()


def test_the_open_functions_hold_no_secret():
    """The functions whose source the worker gets (``served.OPEN``) are module-level, read no
    global but numpy, and are no exercise's function under any name; the copy the worker
    compiles from the source computes what the function does."""
    import importlib
    import inspect

    import numpy as np

    from autograder.sandbox import served
    exercises = load_exercises()
    answers = {f for ex in exercises.values() for f in getattr(ex, "functions", {}).values()}
    names = {n for ex in exercises.values() for n in getattr(ex, "functions", {})}
    assert len(served.OPEN) >= 8
    vector = np.array([0.3, -0.7])
    sample = {"theta": vector, "params": vector, "x": vector, "A": np.array([[2.0, 0.5], [0.5, 1.0]]),
              "b": np.array([1.0, -1.0]), "c": 0.25}
    for module, name in sorted(served.OPEN):
        fn = getattr(importlib.import_module(module), name)
        assert (fn.__module__, fn.__qualname__) == (module, name)
        assert name not in names and all(fn is not f for f in answers), f"{module}.{name} is graded"
        seen = inspect.getclosurevars(fn)
        assert not seen.nonlocals and set(seen.globals) <= {"np"}, f"{module}.{name} reads {sorted(seen.globals)}"
        assert served.describe(module, name) == {"kind": "open", "source": inspect.getsource(fn)}
        scope = {"np": np}
        exec(compile(served.open_source(module, name), "<open>", "exec"), scope)
        args = [sample[p.name] for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
        assert np.array_equal(scope[name](*args), fn(*args)), f"{module}.{name}"


def test_every_report_names_its_isolation_and_an_instructor_can_require_one(tmp_path, monkeypatch, capsys):
    import csv
    import json

    import autograder.sandbox.bubblewrap as isolation
    from autograder.cli import main
    path = tmp_path / "s.py"
    path.write_text(f"ROOT = ''\nPORT = 0\n{PRELUDE}\ndef steal(y_pred, y):\n    return None\n", encoding="utf-8")
    kind = isolation.resolve_isolation().kind
    args = ["grade", str(path), "--exercise", "ex1_1", "--seed", "1"]
    assert main(args + ["--csv", str(tmp_path / "g.csv"), "--output", str(tmp_path / "r.txt")]) == 0
    assert f"isolation {kind}" in (tmp_path / "r.txt").read_text()
    assert [row["isolation"] for row in csv.DictReader(open(tmp_path / "g.csv"))] == [kind]
    assert main(args + ["--format", "json", "--output", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["isolation"] == kind
    assert main(args + ["--format", "gradescope", "--output", str(tmp_path / "g.json")]) == 0
    assert f"Isolation: {kind}" in json.loads((tmp_path / "g.json").read_text())["output"]
    monkeypatch.setattr(isolation, "bwrap_binary", lambda: None)       # a machine without bubblewrap
    isolation._resolve_isolation.cache_clear()
    try:
        capsys.readouterr()
        assert main(args + ["--isolation", "bwrap"]) == 2
        assert "grading refused" in capsys.readouterr().err
    finally:
        isolation._resolve_isolation.cache_clear()
