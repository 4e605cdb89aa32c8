"""How a scenario calls a subject: ``ns.<function>(...)`` returns a :class:`Value`.

A *subject* runs an exercise's functions: :class:`LocalSubject` in this process (the
reference, a registered mistake, a live notebook function), ``sandbox.WorkerSubject`` in
a worker process. Either answers ``invoke(name, request)`` with the response of
:func:`autograder.worker.calling.invoke`. The namespace encodes the arguments, fails a call that
modified its inputs, and turns a bad response into one of the errors below.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..worker.calling import invoke
from ..worker.plain import describe, encode, to_plain


# --- errors -------------------------------------------------------------------------------------

class Failure(AssertionError):
    """A graded check failed; the message is the feedback the student reads."""


class NotAttempted(Exception):
    """The exercise's stub still raises ``NotImplementedError(<exercise id>)``."""


class StudentError(Exception):
    """The submission's function raised, timed out, crashed its worker or is missing."""


# --- subjects: who runs the functions -----------------------------------------------------------

class LocalSubject:
    """Functions called in this process (the reference, a mistake, or a live notebook function)."""

    def __init__(self, functions: dict[str, Callable]):
        self.functions, self.objects = dict(functions), {}

    def invoke(self, name: str, request) -> dict:
        fn = self.functions.get(name)
        if fn is None:
            return {"status": "missing"}
        return invoke(fn, self.objects, request)


class Value:
    """What a call through a namespace returns: plain data, and a handle to the raw object."""

    __slots__ = ("_ns", "_handle", "_path", "plain", "origin")

    def __init__(self, ns: "Namespace", handle: int, path: tuple, plain: Any, origin: str):
        self._ns, self._handle, self._path, self.plain, self.origin = ns, handle, path, plain, origin

    def __plain_handle__(self) -> dict:
        return {"id": self._handle, "path": list(self._path)}

    def _sequence(self) -> tuple:
        if not isinstance(self.plain, (list, tuple)):
            raise Failure(f"{self.origin} returned {describe(self.plain)}; expected a tuple")
        return tuple(self.plain)

    def __getitem__(self, i: int) -> "Value":
        items = self._sequence()
        if not -len(items) <= i < len(items):
            raise Failure(f"{self.origin} returned {describe(self.plain)}; expected at least {i + 1} items")
        return Value(self._ns, self._handle, self._path + (i,), items[i], f"{self.origin}[{i}]")

    def __iter__(self):
        return (self[i] for i in range(len(self._sequence())))

    def __len__(self) -> int:
        return len(self._sequence())

    def array(self) -> np.ndarray:
        """The value as a float ndarray, or :class:`Failure` with a precise message."""
        p = self.plain
        if isinstance(p, np.ndarray) and p.dtype.kind in "biuf":
            return p.astype(float)
        if isinstance(p, (int, float)) and not isinstance(p, bool):
            return np.array(float(p))
        raise Failure(f"{self.origin} returned {describe(p)}; expected an ndarray")

    def __float__(self) -> float:
        p = self.plain
        if isinstance(p, np.ndarray) and p.size == 1:
            return float(p.reshape(()))
        if isinstance(p, (int, float)) and not isinstance(p, bool):
            return float(p)
        raise Failure(f"{self.origin} returned {describe(p)}; expected a number")

    def __repr__(self) -> str:
        return f"Value({self.plain!r})"


class Namespace:
    """``ns.<function>(...)`` for scenarios: encodes arguments, checks for mutation, wraps results.

    ``exercise`` is the :class:`~autograder.engine.registry.Exercise` whose functions the
    scenario calls (its ``id``, ``functions`` and ``parameters(name)``)."""

    def __init__(self, subject, exercise):
        self._subject, self._exercise, self._calls = subject, exercise, {}

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._exercise.functions:
            raise AttributeError(f"{name} is not a function of exercise {self._exercise.id}")
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def _call(self, name: str, args: tuple, kwargs: dict) -> Value:
        self._calls[name] = self._calls.get(name, 0) + 1
        response = self._subject.invoke(name, encode((list(args), kwargs)))
        status = response["status"]
        if status == "missing":
            raise StudentError(f"`{name}` is not defined in the submission")
        if status == "not-implemented":
            if response["error"] == self._exercise.id:
                raise NotAttempted(name)
            raise StudentError(f"`{name}` raised NotImplementedError: {response['error']}")
        if status == "raised":
            raise StudentError(f"`{name}` raised {response['error']}\n{self._case(name, args, kwargs)}")
        if status != "ok":
            raise StudentError(response["error"])
        changed = response.get("mutated")
        if changed is not None:
            params = self._exercise.parameters(name)
            label = changed if isinstance(changed, str) else \
                params[changed] if 0 <= changed < len(params) else f"argument {changed + 1}"
            raise Failure(f"`{name}` modified its input `{label}` in place; "
                          "return new arrays instead (e.g. `params - lr * grads`, not `params -= ...`)")
        return Value(self, response["handle"], (), response["value"], f"`{name}`")

    def _case(self, name: str, args: tuple, kwargs: dict) -> str:
        """Which call raised: its number in this test and its arguments, described."""
        params = self._exercise.parameters(name)
        named = [(params[i] if i < len(params) else f"argument {i + 1}", a) for i, a in enumerate(args)]
        described = ", ".join(f"{label} = {describe(a.plain if isinstance(a, Value) else to_plain(a))}"
                              for label, a in named + list(kwargs.items()))
        return f"(call {self._calls[name]} of `{name}` in this test, with {described})"
