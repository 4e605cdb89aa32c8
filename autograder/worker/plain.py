"""Plain data: what crosses the boundary between the grader and a worker.

A submission's results are turned into *plain data* inside the worker — Python
numbers, ``None``, strings, base-class :class:`numpy.ndarray` copies, lists, tuples,
:class:`Record` (a NamedTuple's fields) and dicts — and sent as JSON. Nothing the
student made (no subclass, no object with a lying ``__eq__``, no pickle) reaches the
grader; what cannot be represented becomes an :class:`Opaque` description.
"""
from __future__ import annotations

import base64
import functools
import importlib
import json
import types
from typing import Any

import numpy as np

MAX_ITEMS = 100_000          # elements of a list/generator we are willing to convert
MAX_DEPTH = 20


class Record(tuple):
    """A NamedTuple turned into plain data: a tuple that remembers its type and field names."""

    type_name: str
    fields: tuple[str, ...]

    def __new__(cls, type_name: str, fields, items):
        self = super().__new__(cls, items)
        self.type_name, self.fields = type_name, tuple(fields)
        return self

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(self.fields, self))
        return f"{self.type_name}({inner})"


class Opaque:
    """Something that is not plain data (an arbitrary object, an exception ...), described in words."""

    def __init__(self, description: str):
        self.description = description

    def __repr__(self) -> str:
        return self.description

    def __eq__(self, other) -> bool:
        return isinstance(other, Opaque) and other.description == self.description

    __hash__ = None


def _generator_state(rng: np.random.Generator) -> dict:
    return {"bit_generator": type(rng.bit_generator).__name__, "state": rng.bit_generator.state}


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Convert a value returned by student code into plain data (never raises for odd objects)."""
    if _depth > MAX_DEPTH:
        return Opaque("a structure nested more than 20 levels deep")
    if obj is None or isinstance(obj, (bool, str, Opaque)):
        return obj
    if isinstance(obj, (int, float)) and type(obj) in (int, float, bool):
        return obj
    if isinstance(obj, np.generic):
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):       # float16/float32 stay 0-d arrays: feedback names the dtype
            return float(obj) if obj.dtype.itemsize >= 8 else np.array(obj)
        return Opaque(f"a numpy scalar of dtype {obj.dtype}")
    if isinstance(obj, (int, float)):          # subclasses of int/float: keep the value only
        return float(obj) if isinstance(obj, float) else int(obj)
    if isinstance(obj, np.ndarray):
        base = obj.view(np.ndarray) if type(obj) is not np.ndarray else obj
        if base.dtype.kind not in "biuf":
            return Opaque(f"an ndarray of dtype {base.dtype}")
        return np.array(base, copy=True)
    if isinstance(obj, np.random.Generator):
        return Opaque("a numpy random Generator")
    if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
        fields = tuple(str(f) for f in type(obj)._fields)
        return Record(type(obj).__name__, fields, [to_plain(x, _depth + 1) for x in tuple.__iter__(obj)])
    if isinstance(obj, (list, tuple)):
        if len(obj) > MAX_ITEMS:
            return Opaque(f"a {type(obj).__name__} of {len(obj)} items (too many)")
        items = [to_plain(x, _depth + 1) for x in (list.__iter__(obj) if isinstance(obj, list) else tuple.__iter__(obj))]
        return items if isinstance(obj, list) else tuple(items)
    if isinstance(obj, dict):
        if not all(type(k) is str for k in obj):
            return Opaque("a dict with non-string keys")
        return {k: to_plain(v, _depth + 1) for k, v in dict.items(obj)}
    if isinstance(obj, (types.GeneratorType, map, filter, zip, range)):
        items = []
        for x in obj:
            if len(items) >= MAX_ITEMS:
                return Opaque(f"a generator yielding more than {MAX_ITEMS} items")
            items.append(to_plain(x, _depth + 1))
        return items
    return Opaque(f"an object of type {type(obj).__qualname__}")


def describe(value: Any) -> str:
    """A short description of a plain value for feedback ("an ndarray of shape (3,) and dtype float64")."""
    if isinstance(value, np.ndarray):
        return f"an ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Record):
        return f"a named tuple {value.type_name} with fields {', '.join(value.fields)}"
    if isinstance(value, Opaque):
        return value.description
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"the str {value[:40]!r}"
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, float)):
        return f"the {type(value).__name__} {value!r}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a {type(value).__name__}"


# --- JSON encoding of plain data (and of the grader's arguments) -------------------------------

def _encode(x: Any) -> Any:
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, np.ndarray):
        return {"__nd__": [x.dtype.str, list(x.shape), base64.b64encode(np.ascontiguousarray(x).tobytes()).decode()]}
    if isinstance(x, Record):
        return {"__record__": [x.type_name, list(x.fields), [_encode(v) for v in x]]}
    if isinstance(x, Opaque):
        return {"__opaque__": x.description}
    if isinstance(x, tuple):
        return {"__tuple__": [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if isinstance(x, dict):
        return {"__dict__": {k: _encode(v) for k, v in x.items()}}
    if isinstance(x, np.random.Generator):
        return {"__rng__": _generator_state(x)}
    if hasattr(x, "__plain_handle__"):
        return {"__handle__": x.__plain_handle__()}
    if isinstance(x, functools.partial):
        return {"__partial__": [_encode(x.func), [_encode(v) for v in x.args],
                                {k: _encode(v) for k, v in x.keywords.items()}]}
    if isinstance(x, types.FunctionType) and _importable(x):
        return {"__function__": [x.__module__, x.__qualname__]}
    raise TypeError(f"cannot send {type(x).__name__} to a worker")


CALLABLE_MODULES = ("solutions.", "autograder.tests.")   # where the grader's objectives may come from


def _importable(fn: types.FunctionType) -> bool:
    """A function the grader may send by name: defined at module level in solutions/ or autograder/tests/."""
    return str(fn.__module__).startswith(CALLABLE_MODULES) and "<" not in fn.__qualname__


def _function(module: str, qualname: str):
    """The function ``module.qualname`` of solutions/ or autograder/tests/ (nothing else is resolved)."""
    if not (isinstance(module, str) and isinstance(qualname, str) and module.startswith(CALLABLE_MODULES)):
        raise ValueError(f"cannot import a function from {module!r}")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (isinstance(obj, types.FunctionType) and obj.__module__ == module and obj.__qualname__ == qualname):
        raise ValueError(f"{module}.{qualname} is not a function defined there")
    return obj


def _name(text: Any, limit: int = 100) -> str:
    """A name or description that came from a worker, cut to ``limit`` characters."""
    text = str(text) if not isinstance(text, str) else text
    return text if len(text) <= limit else text[:limit] + "…"


def _decode(x: Any, resolve=None) -> Any:
    if isinstance(x, list):
        return [_decode(v, resolve) for v in x]
    if not isinstance(x, dict):
        return x
    (key, val), = x.items()
    if key == "__nd__":
        dtype, shape, data = val
        return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()
    if key == "__record__":
        return Record(_name(val[0]), [_name(f) for f in val[1]], [_decode(v, resolve) for v in val[2]])
    if key == "__opaque__":
        return Opaque(_name(val, 200))
    if key == "__tuple__":
        return tuple(_decode(v, resolve) for v in val)
    if key == "__dict__":
        return {k: _decode(v, resolve) for k, v in val.items()}
    if key == "__rng__":
        kind = getattr(np.random, str(val["bit_generator"]), None)
        if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
            raise ValueError("not a numpy bit generator")
        bitgen = kind()
        bitgen.state = val["state"]
        return np.random.Generator(bitgen)
    if key == "__function__":
        return _function(*val)
    if key == "__partial__":
        return functools.partial(_decode(val[0], resolve), *_decode(val[1], resolve),
                                 **{k: _decode(v, resolve) for k, v in val[2].items()})
    if key == "__handle__":
        if resolve is None:
            raise ValueError("a handle arrived where none can be resolved")
        return resolve(val)
    raise ValueError(f"unknown plain-data tag {key!r}")


def encode(obj: Any) -> Any:
    """Plain data (and generators, handles, the grader's functions) as a JSON-able tree."""
    return _encode(obj)


def decode(tree: Any, resolve=None) -> Any:
    """Decode :func:`encode` output (fresh copies); ``resolve(handle)`` turns handles back into objects."""
    return _decode(tree, resolve)


def dumps(obj: Any) -> str:
    """Encode plain data (and generators, handles) as one line of JSON."""
    return json.dumps(_encode(obj), allow_nan=True, separators=(",", ":"))


def loads(text: str, resolve=None) -> Any:
    """Decode :func:`dumps` output; ``resolve(handle)`` turns handles back into objects."""
    return _decode(json.loads(text), resolve)


def identical(a: Any, b: Any) -> bool:
    """Whether two plain values are the same: same types, shapes and values (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b
