"""Comparing a submission's plain result with the reference's, and saying what differs.

What differs is said without the reference's value (issue 19, "fishing"): a fixed-input test
expects the same values at every seed and ``regrade`` reuses a student's seed, so a value
printed in feedback could be copied into the next submission. A message says where the result
is wrong (the key, field or index), what the submission returned there (all its digits), the
size of the error as an order of magnitude (``relative error of order 1e-03``), and what a
result must be like (a shape, a dtype, a number of items, a type): the specification, never
the reference's numbers, strings or booleans.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .namespace import Value
from ..worker.plain import Opaque, Record, describe

# A relative difference this small is the size of floating-point rounding in float64: the same
# formula with its operations in another order (or another library) can produce it.
ROUNDING = 1e-12


def _unwrap(x: Any) -> Any:
    if isinstance(x, Value):
        return x.plain
    if isinstance(x, Record):
        return Record(x.type_name, x.fields, [_unwrap(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def compare(got: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, where: str = "") -> str | None:
    """``None`` if ``got`` matches ``expected`` (the reference's plain result), else what differs.

    Never raises for what a submission returned (an integer too large for a float, say):
    that test fails with the reason, the others are graded as usual.
    """
    try:
        return _compare(_unwrap(got), _unwrap(expected), rtol, atol, where)
    except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        return f"could not compare what your function returned with the expected result ({type(exc).__name__})"


def _too_large(x: Any) -> bool:
    """An integer that no float can hold (``10**400``)."""
    return isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 1023


def _compare(got: Any, expected: Any, rtol: float, atol: float, where: str) -> str | None:
    at = f"{where}: " if where else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{at}got {describe(got)}"
        for key in expected:
            if key not in got:
                return f"{at}missing {key!r}"
            msg = _compare(got[key], expected[key], rtol, atol, f"{where} → {key}" if where else str(key))
            if msg:
                return msg
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{at}returned {describe(got)}; expected {_kind(expected)}"
        if len(got) != len(expected):
            return f"{at}returned {len(got)} items; expected {len(expected)}"
        fields = expected.fields if isinstance(expected, Record) else None
        for i, (g, e) in enumerate(zip(got, expected)):
            label = fields[i] if fields else f"[{i}]"
            msg = _compare(g, e, rtol, atol, f"{where} → {label}" if where else f"result {label}")
            if msg:
                return msg
        return None
    if isinstance(expected, np.ndarray):
        if _is_number(got) and expected.ndim == 0:
            got = np.array(float(got))
        if not isinstance(got, np.ndarray):
            return f"{at}returned {describe(got)}; expected {_kind(expected)}"
        if got.shape != expected.shape:
            return f"{at}has shape {got.shape}; expected shape {expected.shape}"
        if expected.dtype.kind == "f" and got.dtype.kind not in "f":
            return f"{at}has dtype {got.dtype}; expected floating-point values"
        if expected.dtype.kind in "iub" and got.dtype.kind not in "iub":
            return f"{at}has dtype {got.dtype}; expected integers"
        return _compare_values(got.astype(float), expected.astype(float), rtol, atol, at, got.dtype)
    if _is_number(expected):
        dtype = None
        if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1 and got.dtype.kind in "iuf":
            if got.ndim == 1:
                return f"{at}returned an array of shape (1,); expected a scalar (use float(...) or .item())"
            got, dtype = float(got), got.dtype
        if not _is_number(got):
            return f"{at}returned {describe(got)}; expected {_kind(expected)}"
        if _too_large(got) or _too_large(expected):
            if got == expected:
                return None
            return (f"{at}returned an integer of about {int(got.bit_length() * 0.30103) + 1} digits, "
                    "too large for a float") if _too_large(got) else f"{at}is {describe(got)}, not the expected integer"
        if isinstance(expected, int) and isinstance(got, int) and got != expected:
            return f"{at}is {got}, not the expected integer"
        g, e = float(got), float(expected)
        if math.isfinite(g) and math.isfinite(e) and abs(g - e) <= atol + rtol * abs(e):
            return None                                   # np.isclose's test, for two finite floats
        return _compare_values(np.array(float(got)), np.array(float(expected)), rtol, atol, at, dtype)
    if isinstance(expected, Opaque) or isinstance(got, Opaque):
        return None if got == expected else f"{at}returned {describe(got)}; expected {_kind(expected)}"
    if type(got) is not type(expected):
        return f"{at}returned {describe(got)}; expected {_kind(expected)}"
    if got != expected:
        return f"{at}returned {describe(got)}, not the expected value"
    return None


def _kind(expected: Any) -> str:
    """What ``expected`` is, without its value: "an ndarray of shape (3,) and dtype float64",
    "a number", "a str", "None" (the value ``None`` is a type of its own)."""
    if isinstance(expected, bool):
        return "a bool"
    if _is_number(expected):
        return "an integer" if isinstance(expected, int) else "a number"
    if isinstance(expected, str):
        return "a str"
    return describe(expected)


def _compare_values(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float, at: str,
                    dtype: np.dtype | None = None) -> str | None:
    """Compare float arrays; ``dtype`` is the submission's own (float32 results get a word about it)."""
    bad_got = ~np.isfinite(got) & np.isfinite(expected)
    if bad_got.any():
        idx = tuple(int(i) for i in np.argwhere(bad_got)[0])
        kind = "NaN" if np.isnan(got[idx]) else "inf"
        where = f" at index {idx}" if idx else ""
        return f"{at}contains {kind}{where} where a finite number is expected; an overflow or a 0/0?"
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    err = np.where(close, 0.0, np.abs(got - expected))
    err = np.where(np.isnan(err), np.inf, err)        # a NaN expected where a number came back
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape)) if err.ndim else ()
    where = f" at index {idx}" if idx else ""
    g, e = float(got[idx]), float(expected[idx])
    size = _error(g, e)
    message = (f"{at}wrong value{where}: got {g!r} ({size + '; ' if size else ''}"
               f"{int((~close).sum())} of {close.size} values differ)")
    if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
        message += (f"; your result has dtype {dtype}, which keeps only about {np.finfo(dtype).precision} "
                    "significant digits: compute in float64")
    elif np.isfinite(g) and np.isfinite(e) and abs(g - e) <= ROUNDING * max(abs(g), abs(e)):
        message += ("; the difference is only the size of floating-point rounding, as from the same "
                    "formula with its operations in another order")
    return message


def _error(got: float, expected: float) -> str:
    """The order of magnitude of the relative error ``|got - expected| / max(|got|, |expected|)``
    (``relative error of order 1e-03``); "" when either is not finite.

    Only the order, and the same words whatever ``expected`` is (0 included, where the error is
    of order 1): two significant digits of the error next to ``got`` would give the expected
    value to as many digits, one submission after another.
    """
    if not (math.isfinite(expected) and math.isfinite(got)) or got == expected:
        return ""
    scale = max(abs(got), abs(expected))
    relative = max(abs(got / scale - expected / scale), 2.0 ** -53)       # in (0, 2]: no overflow
    return f"relative error of order 1e{math.floor(math.log10(relative) + 0.5):+03d}"
