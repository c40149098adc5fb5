"""Every config field holds a value of its declared type: a check read from the annotations.

The dataclasses of :mod:`evolve.config`, :mod:`evolve.space` and :mod:`evolve.tune` state each
field's type (``int``, ``float | None``, ``tuple[int, ...]``...). Their ``__post_init__`` checks
the rules of each field; :func:`check_types`, called last, catches what those rules do not
read (a seed given as a string, a penalty that is NaN, a flag given as a number), so that any
value of the wrong type in a TOML file is one line naming the field, before a run folder exists.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import fields
from typing import Any

from genesis import GenesisError

__all__ = ["check_types", "matches", "describe_type"]


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the type ``hint`` (bool is not int; a float is finite).

    Examples
    --------
    >>> matches(3, int), matches(True, int), matches(float("nan"), float), matches(None, int | None)
    (True, False, False, True)
    >>> matches([1, 2], tuple[int, ...]), matches((1, "a"), tuple[int, int])
    (True, False)
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if hint is str:
        if not isinstance(value, str):
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate cannot be written to config.toml
            return False
        return True
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            matches(v, a) for v, a in zip(value, args, strict=True)
        )
    return True  # anything else is the field's own __post_init__'s to check


def describe_type(hint: Any) -> str:
    """``hint`` in words, e.g. ``"an integer or none"``.

    Examples
    --------
    >>> describe_type(float | None)
    'a finite number or "none"'
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        return f"a list of {len(args)} {_plural(args[0])}"
    return {
        type(None): '"none"',
        bool: "true or false",
        int: "an integer",
        float: "a finite number",
        str: "a string (valid UTF-8)",
    }.get(hint, getattr(hint, "__name__", str(hint)))


def _plural(hint: Any) -> str:
    return {int: "integers", float: "finite numbers", str: "strings"}.get(hint, "values")


def check_types(obj: Any, owner: str) -> None:
    """Raise :class:`GenesisError` naming the first field of ``obj`` not of its declared type.

    Parameters
    ----------
    obj : dataclass instance
        A config section.
    owner : str
        Its name in messages, e.g. ``"search"``.

    Notes
    -----
    Cost: one pass over the fields (and over the items of tuple fields).
    """
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not matches(value, hints[f.name]):
            shown = repr(value)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise GenesisError(
                f"{owner} {f.name} must be {describe_type(hints[f.name])}, got {shown}"
            )
