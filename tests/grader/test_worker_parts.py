"""The worker's parts, each alone, in this process (the hostile suites test them together,
in the sandbox): the channel's framing, the façades' import hook, loading and calling."""
import json
import os
import types

import numpy as np
import pytest

from autograder.worker.channel import Channel
from autograder.worker.exercises import call, load
from autograder.worker.facades import Facades, check
from autograder.worker.plain import Record, dumps


@pytest.fixture
def pipes():
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    yield Channel(request_r, response_w), request_w, response_r
    for fd in (request_r, request_w, response_r, response_w):
        os.close(fd)


def frame(payload: dict) -> bytes:
    data = json.dumps(payload).encode()
    return len(data).to_bytes(4, "big") + data


def test_the_channel_reads_one_frame_at_a_time_and_answers_a_line(pipes):
    channel, request_w, response_r = pipes
    os.write(request_w, frame({"op": "load"}) + frame({"op": "begin"}))
    assert channel.read_message() == {"op": "load"}
    assert channel.read_message() == {"op": "begin"}          # the second frame was not read with the first
    channel.answer({"status": "ok"})
    assert os.read(response_r, 100) == b'{"status": "ok"}\n'


def test_a_callback_asks_and_waits_for_the_grader(pipes):
    channel, request_w, response_r = pipes
    os.write(request_w, frame({"kind": "function"}))
    assert channel.callback({"op": "describe", "module": "solutions", "name": "f"}) == {"kind": "function"}
    assert json.loads(os.read(response_r, 1000)) == {"status": "callback", "op": "describe",
                                                     "module": "solutions", "name": "f"}


def test_the_facades_describe_names_through_the_grader():
    asked = []

    def grader(payload):
        asked.append(payload)
        if payload["op"] == "describe":
            return {"name": "State", "kind": "namedtuple", "fields": ["t", "v"], "defaults": dumps([])} \
                if payload["name"] == "State" else {"kind": "function"}
        return {"status": "ok", "value": dumps(Record("State", ["t", "v"], [1, 2.0]))}

    facades = Facades(grader)
    module = types.ModuleType("solutions")
    facades.exec_module(module)
    state_type, step = module.State, module.step
    assert state_type._fields == ("t", "v") and module.State is state_type       # kept on the module
    got = step(np.ones(2))
    assert isinstance(got, state_type) and got == (1, 2.0)                         # a Record revived
    assert asked[-1]["op"] == "call" and asked[-1]["name"] == "step"
    assert facades.lookup(types.ModuleType("autograder"), "check") is check
    assert facades.find_spec("numpy") is None and facades.find_spec("solutions").name == "solutions"


def test_a_refused_reference_raises_in_the_submission():
    facades = Facades(lambda payload: {"kind": "function"} if payload["op"] == "describe"
                      else {"status": "refused", "error": "not while ex1_1 is graded"})
    module = types.ModuleType("solutions")
    facades.exec_module(module)
    with pytest.raises(PermissionError, match="ex1_1"):
        module.mse_loss(1.0, 2.0)


def test_load_keeps_the_last_own_definition_one_namespace_per_file():
    functions = {}
    cells = [("a.py", "a.py", "def f(x):\n    return 1\n"), ("b.py", "b.py", "def f(x):\n    return 2\ng = 3\n"),
             ("b.py", "b.py cell 2", "1 / 0")]
    reply = load(cells, ["f", "g", "h"], functions)
    assert reply["functions"] == {"f": "defined", "g": "not callable"}
    assert functions["f"](0) == 2 and reply["errors"][0].startswith("b.py cell 2: ZeroDivisionError")


def test_call_answers_missing_for_a_function_not_loaded():
    assert call({"name": "nope", "request": {}}, {}, {}) == {"status": "missing"}
