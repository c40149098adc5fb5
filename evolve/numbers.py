"""Number rules the config sections share."""

from __future__ import annotations

import math
from typing import Any

from genesis import GenesisError

__all__ = ["positive"]


def positive(owner: str, name: str, value: Any, integer: bool = True, allow_none=False) -> None:
    if value is None and allow_none:
        return
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or not math.isfinite(value)
        or (value <= 0)
    ):
        what = "a positive integer" if integer else "a positive number"
        raise GenesisError(f"{owner} {name} must be {what}, got {value!r}")
