"""The one place where submitted code is called: arguments in, plain data out.

Used in the worker process (the submission's functions) and in the grader's own process
(the reference, a registered mistake, or a live notebook function in ``check()``).
It imports nothing of the reference.
"""
from __future__ import annotations

import traceback
from typing import Callable

import numpy as np

from .plain import dumps, loads, to_plain


def invoke(fn: Callable, objects: dict, request: str, on_call=None) -> dict:
    """Call ``fn`` on the arguments encoded in ``request``; return a JSON-able response.

    This is the one place where submitted code is called, in the worker process and in
    :class:`LocalSubject` alike. Arguments are decoded into fresh copies; the result and
    the arguments *after* the call are converted to plain data (so the grader can see
    mutation); the raw result is kept in ``objects`` under a handle so that it can be
    passed back (an optimiser state, say) as the student's own object.
    """
    def resolve(handle):
        obj = objects[handle["id"]]
        for i in handle["path"]:
            obj = obj[i]
        return obj

    args, kwargs = loads(request, resolve)
    try:
        if on_call is not None:
            on_call(True)
        try:
            with np.errstate(all="ignore"):
                result = fn(*args, **kwargs)
        finally:
            if on_call is not None:
                on_call(False)
    except NotImplementedError as exc:
        return {"status": "not-implemented", "error": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt ... are the student's too
        return {"status": "raised", "error": exception_summary(exc)}
    handle = len(objects)
    objects[handle] = result
    return {"status": "ok", "handle": handle,
            "value": dumps(to_plain(result)),
            "after": dumps((to_plain(list(args)), to_plain(kwargs)))}


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
