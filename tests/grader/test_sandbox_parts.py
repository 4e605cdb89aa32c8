"""The grader's side of the worker, part by part, without a worker (the hostile suites test
them together): the channel's framing and deadlines, the bound on a reply, how a worker
starts under ``process``, and the refusals."""
import os
import time

import pytest

from autograder.sandbox import channel as channel_module
from autograder.sandbox.bubblewrap import Isolation
from autograder.sandbox.channel import Channel
from autograder.sandbox.conversation import MAX_LIST, MAX_TEXT, capped, describe_exit
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import launch
from autograder.sandbox.refusals import Refusals


@pytest.fixture
def ends():
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    os.set_blocking(req_w, False)
    os.set_blocking(resp_r, False)
    yield Channel(req_w, resp_r), req_r, resp_w
    for fd in (req_r, req_w, resp_r, resp_w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_a_frame_is_its_length_then_its_json(ends):
    channel, req_r, _ = ends
    channel.send({"op": "end"}, time.monotonic() + 1)
    assert os.read(req_r, 100) == b"\x00\x00\x00\x0d" + b'{"op": "end"}'


def test_lines_come_one_at_a_time(ends):
    channel, _, resp_w = ends
    os.write(resp_w, b'{"a": 1}\n{"b": 2}\npartial')
    assert channel.read_line(time.monotonic() + 1) == b'{"a": 1}'
    assert channel.read_line(time.monotonic() + 1) == b'{"b": 2}'
    assert not channel.received_nothing()


def test_a_silent_worker_costs_its_deadline_not_a_hang(ends):
    channel, _, _ = ends
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        channel.read_line(began + 0.2)
    assert 0.15 < time.monotonic() - began < 2


def test_a_worker_that_stops_reading_costs_a_timeout(ends):
    channel, _, _ = ends
    with pytest.raises(TimeoutError):
        channel.send("x" * 2**20, time.monotonic() + 0.2)      # more than the pipe holds


def test_a_gone_worker_and_a_too_long_line(ends, monkeypatch):
    channel, _, resp_w = ends
    monkeypatch.setattr(channel_module, "MAX_MESSAGE", 10)
    os.write(resp_w, b"x" * 20)
    with pytest.raises(ValueError):
        channel.read_line(time.monotonic() + 1)
    os.close(resp_w)
    channel.buffer.clear()
    with pytest.raises(EOFError):
        channel.read_line(time.monotonic() + 1)



@pytest.mark.parametrize("watched", [True, False], ids=["pidfd", "no pidfd"])
def test_an_exited_worker_ends_a_read_though_its_leftover_holds_the_pipe(watched):
    """A worker that has exited (here: killed by its own submission) while a process it left
    behind holds its end of the pipe: with the worker's pidfd the read ends at once (the grader
    then kills the leftover), without one it costs the whole deadline."""
    import subprocess
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    os.set_blocking(req_w, False)
    os.set_blocking(resp_r, False)
    worker = subprocess.Popen(["sh", "-c", "printf 'last line\\n'; sleep 30 & exit 0"], stdout=resp_w,
                              start_new_session=True)
    os.close(resp_w)
    channel = Channel(req_w, resp_r, os.pidfd_open(worker.pid) if watched else None)   # as the grader: at once
    worker.wait()
    try:
        assert channel.read_line(time.monotonic() + 5) == b"last line"   # what it wrote before it exited
        started = time.monotonic()
        with pytest.raises(EOFError if watched else TimeoutError):
            channel.read_line(time.monotonic() + 2)
        assert (time.monotonic() - started < 1) == watched
    finally:
        os.killpg(worker.pid, 9)
        channel.close()
        os.close(req_r)


def test_what_a_reply_brings_is_bounded():
    reply = capped({"error": "e" * (MAX_TEXT + 5), "errors": list(range(MAX_LIST + 3))})
    assert len(reply["error"]) < MAX_TEXT + 30 and reply["error"].endswith(f"({MAX_TEXT + 5} characters)")
    assert len(reply["errors"]) == MAX_LIST + 1 and reply["errors"][-1] == "… and 3 more"
    assert describe_exit(-9) == "was killed by signal SIGKILL (out of memory?)"
    assert describe_exit(3) == "exited with status 3"


def test_how_a_confined_worker_starts_is_data(tmp_path):
    """``process``: the command, and the Landlock ruleset and seccomp filter its child applies,
    handed back (nothing is kept on the side)."""
    how = launch(Isolation("process", "test"), Limits(), (os.getuid(), os.getgid()), str(tmp_path), 5, 6)
    assert how.fds == (5, 6) and how.env["HOME"] == str(tmp_path)
    assert "boot(5, 6)" in how.command[-1]
    again = launch(Isolation("process", "test"), Limits(), (os.getuid(), os.getgid()), str(tmp_path), 5, 6)
    assert again.command == how.command and type(again.seccomp) is type(how.seccomp)


def test_refusals_while_loading_and_per_exercise():
    def f():
        pass

    def g():
        pass

    refusals = Refusals(at_load={"f": f, "g": g}, by_exercise={"ex1_1": {"g": g}})
    assert refusals.during("ex1_1") == {"g": g}
    assert refusals.during("ex9_9") == refusals.at_load


def test_the_course_refuses_the_graded_chapter_its_later_ones_and_every_answer():
    from autograder.engine.questions import Question
    from autograder.framework import load_exercises
    from autograder.grade import refusals
    exercises = load_exercises()
    rule = refusals(exercises)
    during = rule.during("ex5_3")
    for ex in exercises.values():
        refused = ex.chapter >= 5 or isinstance(ex, Question)
        assert all((name in during) == refused for name in ex.functions), ex.id
    assert set(rule.at_load) == {name for ex in exercises.values() for name in ex.functions}


def test_what_the_worker_printed_before_its_reply_is_counted_at_once():
    """The worker is unbuffered: its output is in the pipe before its reply. ``drain`` counts it
    then, whatever the thread draining the pipe is doing (a note "your code printed ..." or a
    check of printed output must not depend on that thread's timing)."""
    from autograder.sandbox.process import Output
    r, w = os.pipe()
    output = Output(r)
    output.start()
    try:
        for n in range(1, 301):
            os.write(w, b"x")
            output.drain()
            assert output.total == n
    finally:
        os.close(w)
        output.join(timeout=2)
        output.close()
    assert not output.is_alive() and output.drain() is False and output.text() == "x" * 300
