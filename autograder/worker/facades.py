"""The façades ``solutions`` and ``autograder`` inside the worker: importing a name from
them asks the grader what it is (see :mod:`autograder.sandbox.served`, the grader's half).

A function becomes a stub that sends its plain-data arguments to the grader and returns
what the reference returned there; a NamedTuple type becomes a namedtuple with the same
fields; code that is no secret (``kind == "open"``) arrives as source and runs here;
``autograder.check`` does nothing. Every other import is the real one.
"""
from __future__ import annotations

import __future__
import importlib
import importlib.abc
import importlib.machinery
import types
from collections import namedtuple

import numpy as np

from .forbidden import forbid
from .plain import Record, dumps, loads, to_plain

FACADES = ("solutions", "autograder")




def check(*args, **kwargs):
    """``autograder.check`` in a notebook: nothing to do while grading."""
    return None


class Facades(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The import hook of the façades; ``ask(payload) -> reply`` asks the grader."""

    def __init__(self, ask):
        self.ask = ask
        self.kinds: dict = {}

    # -- the grader's plain data as the student's objects ----------------------------------------
    def named(self, type_name: str, fields, defaults=None):
        key = (type_name, tuple(fields))
        if key not in self.kinds:
            self.kinds[key] = namedtuple(type_name, fields, defaults=defaults)
        return self.kinds[key]

    def revive(self, x):
        """Plain data from the grader -> the student's kind of objects (namedtuples, not Records)."""
        if isinstance(x, Record):
            return self.named(x.type_name, x.fields)(*[self.revive(v) for v in x])
        if isinstance(x, list):
            return [self.revive(v) for v in x]
        if isinstance(x, tuple):
            return tuple(self.revive(v) for v in x)
        if isinstance(x, dict):
            return {k: self.revive(v) for k, v in x.items()}
        return x

    def stub(self, module: str, name: str):
        """The reference function ``module.name``, run by the grader."""
        def reference(*args, **kwargs):
            try:
                data = dumps((list(args), kwargs))
            except (TypeError, ValueError, RecursionError):
                data = dumps((to_plain(list(args)), to_plain(kwargs)))
            reply = self.ask({"op": "call", "module": module, "name": name, "args": data})
            if reply["status"] == "refused":
                raise PermissionError(reply["error"])
            if reply["status"] != "ok":
                raise RuntimeError(reply["error"])
            return self.revive(loads(reply["value"]))
        reference.__module__, reference.__name__, reference.__qualname__ = module, name, name
        reference.__olf_reference__ = True
        return reference

    def _open(self, module: str, attr: str, source: str):
        scope = {"np": np, "__name__": module, "__builtins__": __builtins__}
        exec(compile(source, f"<{module}.{attr}>", "exec", __future__.annotations.compiler_flag,
                     dont_inherit=True), scope)
        return scope[attr]

    def lookup(self, module: types.ModuleType, attr: str):
        """``module.attr`` of a façade, as the grader describes it (and kept on the module)."""
        name = module.__name__
        if attr.startswith("__"):
            raise AttributeError(attr)
        if name == "autograder" and attr == "check":
            return check
        reply = self.ask({"op": "describe", "module": name, "name": attr})
        kind = reply.get("kind")
        if kind == "function":
            value = self.stub(name, attr)
        elif kind == "namedtuple":
            value = self.named(attr, reply["fields"], [self.revive(v) for v in loads(reply["defaults"])] or None)
            value.__module__ = name
        elif kind == "module":
            value = importlib.import_module(f"{name}.{attr}")
        elif kind == "library":
            value = importlib.import_module(reply["name"])
        elif kind == "open":            # code that is no secret (served.OPEN): this process runs its own copy
            value = self._open(name, attr, reply["source"])
        elif kind == "value":
            value = self.revive(loads(reply["value"]))
        elif kind == "unavailable":
            value = forbid(f"{name}.{attr} (not a plain function or type)")
        else:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        setattr(module, attr, value)
        return value

    # -- the import hook ---------------------------------------------------------------------------
    def find_spec(self, fullname, path=None, target=None):
        if fullname in FACADES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname.partition(".")[0] in FACADES:
            parent, _, child = fullname.rpartition(".")
            if self.ask({"op": "describe", "module": parent, "name": child}).get("kind") == "module":
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__path__ = []
        module.__getattr__ = lambda attr, _m=module: self.lookup(_m, attr)
