"""The one place where submitted code is called: arguments in, plain data out.

Used in the worker process (the submission's functions) and in the grader's own process
(the reference, a registered mistake, or a live notebook function in ``check()``).
It imports nothing of the reference.
"""
from __future__ import annotations

import traceback
from typing import Callable

import numpy as np

from .plain import decode, identical, to_plain


def invoke(fn: Callable, objects: dict, request) -> dict:
    """Call ``fn`` on the arguments ``request`` (a :func:`plain.encode` tree of ``(args, kwargs)``).

    This is the one place where submitted code is called, in the worker process and in
    :class:`LocalSubject` alike. Arguments are decoded into fresh copies and the result is
    converted to plain data; ``mutated`` names the first argument (its position, or its
    keyword) that the call modified in place, else is None. The raw result is kept in
    ``objects`` under a handle so that it can be passed back (an optimiser state, say) as
    the student's own object.
    """
    def resolve(handle):
        obj = objects[handle["id"]]
        for i in handle["path"]:
            obj = obj[i]
        return obj

    args, kwargs = decode(request, resolve)
    before = [to_plain(a) for a in args], {k: to_plain(v) for k, v in kwargs.items()}
    try:
        with np.errstate(all="ignore"):
            result = fn(*args, **kwargs)
    except NotImplementedError as exc:
        return {"status": "not-implemented", "error": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt ... are the student's too
        return {"status": "raised", "error": exception_summary(exc)}
    handle = len(objects)
    objects[handle] = result
    return {"status": "ok", "handle": handle, "value": to_plain(result), "mutated": _mutated(before, args, kwargs)}


def _mutated(before: tuple, args: list, kwargs: dict):
    """The position (or keyword) of the first argument that is no longer what it was, else None."""
    positional, keywords = before
    for i, (was, arg) in enumerate(zip(positional, args)):
        if not identical(was, to_plain(arg)):
            return i
    for key, was in keywords.items():
        if not identical(was, to_plain(kwargs[key])):
            return key
    return None


def exception_summary(exc: BaseException) -> str:
    """``TypeError: ...`` plus the innermost line of submitted code, if any."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<submission"):
            where = f" ({frame.filename[1:-1]}, line {frame.lineno}: {frame.line or ''})".replace(": )", ")")
            break
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a lying __str__
        text = "<unprintable>"
    text = text if len(text) < 300 else text[:300] + "…"
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"
