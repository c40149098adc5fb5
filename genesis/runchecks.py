"""The typed reads of a run folder's files: every value checked for its type as it is read.

A run folder may come from someone else (see :mod:`genesis.rundata`): each helper here turns
what a file holds into plain, typed values, drops what is of the wrong type and notes it, so
nothing later fails on it. Numbers are finite floats (:func:`number`), texts are cut short,
hashes must match :data:`genesis.runfolder.HASH_PATTERN`.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from typing import Any

from genesis.runfolder import (
    LOGBOOK_FIELDS,
    MAX_JSON_BYTES,
    MAX_TOML_BYTES,
    OBJECTIVES,
    STATUSES,
    RunFolder,
    is_hash,
    read_bytes_bounded,
)
from graphs import GenesisError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


__all__ = ["number"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}")  # a strategy's registered name
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")  # one part of a relative path
_TEXT_LIMIT = 200  # characters kept of a free-text field (origin, status, error)
_NUMBERS = (
    "accuracy",
    "val_accuracy",
    "test_accuracy",
    "macs",
    "flops",
    "params",
    "epochs",
    "memory_kb",  # measured costs (genesis.cost), when the search measured them
    "latency_ms",
    "latency_batch_ms",
)
_STATE_NUMBERS = ("hypervolume", "overhead", "seconds", "search_seconds", "eval_seconds")
_FINAL_NUMBERS = (*_NUMBERS, "train_seconds", "val_accuracy_search")
#: Architecture files :meth:`RunData.chance` tries before it gives up (a folder whose files
#: are all damaged costs that many bounded reads, not one per network).
_CHANCE_READS = 16
# What a hostile architecture file may raise while it is read and validated: shown as a note.
_UNREADABLE = (
    GenesisError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
    OverflowError,
)


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None for anything else (a string, a bool, NaN, inf).

    Examples
    --------
    >>> number(3), number(0.5), number("3"), number(True), number(float("nan")), number(10**400)
    (3.0, 0.5, None, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    """``value`` as a non-negative int of at most 18 digits, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**18:
        return None
    return value


def _text(value: Any) -> str | None:
    """A string field cut to :data:`_TEXT_LIMIT` characters, or None for anything else."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= _TEXT_LIMIT else value[:_TEXT_LIMIT] + "..."


def _path_text(value: Any) -> str | None:
    """A field naming a file (kept as text; :meth:`RunData.inside` decides whether it links)."""
    return value if isinstance(value, str) and len(value) <= 1000 else None


def _clean_numbers(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {**record, **{k: number(record.get(k)) for k in keys}}


def _mistyped(raw: dict[str, Any], clean: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether a field of ``keys`` held something other than null or a finite number."""
    return any(raw.get(k) is not None and clean.get(k) is None for k in keys)


def _clean_entry(e: dict[str, Any]) -> dict[str, Any] | None:
    """A log entry with every field the readers use of the right type; None if unusable."""
    result = _clean_numbers(e["result"], _NUMBERS)
    if not is_hash(e["hash"]) or result["macs"] is None or result["macs"] < 0:
        return None
    result["status"] = _text(result.get("status"))
    return {**e, **_clean_fields(e), "result": result}


def _clean_fields(e: dict[str, Any]) -> dict[str, Any]:
    """The fields of a log entry beside its result, each of its type or None."""
    parents = e.get("parents")
    return {
        "kind": _text(e.get("kind")),
        "origin": _text(e.get("origin")),
        "reason": _text(e.get("reason")),
        "generation": _int(e.get("generation")),
        "rung": _int(e.get("rung")),
        "parents": [p for p in parents[:64] if is_hash(p)] if isinstance(parents, list) else [],
    }


def _clean_draw(e: dict[str, Any]) -> dict[str, Any] | None:
    """A log entry without a result (a draw skipped over a cap, or a duplicate of a candidate
    still training) with its hash checked and its fields typed; None if unusable."""
    if not is_hash(e.get("hash")):
        return None
    return {"hash": e["hash"], **_clean_fields(e)}


def _clean_records(
    raw: Any, name: str, numbers: tuple[str, ...], problems: list[str]
) -> list[dict[str, Any]]:
    """The members of ``pareto.json`` / ``final.json`` with a valid hash, typed fields."""
    if not isinstance(raw, list):
        problems.append(f"{name} is not a JSON list (a {type(raw).__name__}): not shown")
        return []
    out, bad, mistyped = [], 0, 0
    for raw_r in raw:
        if not isinstance(raw_r, dict) or not is_hash(raw_r.get("hash")):
            bad += 1
            continue
        r = _clean_numbers(raw_r, numbers)
        mistyped += _mistyped(raw_r, r, numbers)
        for key in ("status", "origin", "error"):
            r[key] = _text(r.get(key))
        for key in ("architecture", "weights", "onnx", "python"):
            r[key] = _path_text(r.get(key))
        out.append(r)
    if bad:
        problems.append(f"{name}: {bad} entries without a valid hash were skipped")
    if mistyped:
        problems.append(f"{name}: {mistyped} entries have a number of the wrong type (shown as -)")
    return out


def _objective(raw: Any) -> tuple[str, ...] | None:
    """``search.objective`` of a config as read: distinct names of known costs, or None."""
    raw = [raw] if isinstance(raw, str) else raw
    if (
        isinstance(raw, list)
        and raw
        and all(isinstance(c, str) and c in OBJECTIVES for c in raw)
        and len(set(raw)) == len(raw)
    ):
        return tuple(raw)
    return None


def _read_config(folder: RunFolder, p: list[str]) -> dict[str, Any]:
    try:
        text = read_bytes_bounded(folder.config_path, MAX_TOML_BYTES).decode("utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        p.append("config.toml missing")
        return {}
    except (GenesisError, ValueError, RecursionError) as exc:  # TOMLDecodeError, UTF-8
        p.append(f"config.toml is damaged ({exc})")
        return {}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if len(tables) < len(data):
        p.append("config.toml has values outside a table: not shown")
    objective = tables.get("search", {}).get("objective")
    if objective is not None and _objective(objective) is None:
        p.append("config.toml: search objective is not a list of known costs (shown as macs)")
    strategy = tables.get("search", {}).get("strategy")
    if strategy is not None and not (isinstance(strategy, str) and _NAME.fullmatch(strategy)):
        p.append("config.toml: search strategy is not a plain name (shown as ?)")
    return tables


def _read_state(folder: RunFolder, p: list[str]) -> dict[str, Any]:
    raw = folder.read_json(folder.state_path.name, {}, p)
    if not isinstance(raw, dict):
        p.append(f"run.json is not a JSON object (a {type(raw).__name__}): not shown")
        return {}
    state = {**raw, **{k: number(raw[k]) for k in _STATE_NUMBERS if k in raw}}
    if _mistyped(raw, state, _STATE_NUMBERS):
        p.append("run.json has a number of the wrong type (not shown)")
    if "status" in state and state["status"] not in STATUSES:
        p.append(f"run.json has an unknown status {_text(str(state['status']))!r}")
    return state


def _read_logbook(folder: RunFolder, p: list[str]) -> list[dict[str, float]]:
    try:
        text = read_bytes_bounded(folder.logbook_path, MAX_JSON_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    except GenesisError as exc:
        p.append(f"logbook.csv was not read ({exc})")
        return []
    rows, bad = [], 0
    try:
        for row in csv.DictReader(text.splitlines()):
            values = {k: v for k, v in row.items() if k in LOGBOOK_FIELDS and v not in ("", None)}
            try:
                clean = {k: float(v) for k, v in values.items()}
            except (ValueError, TypeError):
                clean = {}
            if "generation" not in clean or not all(map(math.isfinite, clean.values())):
                bad += 1
                continue
            rows.append(clean)
    except csv.Error as exc:
        p.append(f"logbook.csv is damaged ({exc})")
    if bad:
        p.append(f"logbook.csv has {bad} damaged rows")
    return rows
