"""Config files: TOML read bounded, sections built from tables, configs written back.

TOML has no null: the string ``"none"`` (:data:`NONE`) stands for None, in both directions.
A section is built by :func:`build_section` from a table: unknown keys are errors naming the
known ones, renamed keys (a class's ``RENAMED``) are read under their new names, and a key that
implies others (``IMPLIES``) sets them unless given (:func:`implied`). :func:`dump_config`
writes a config so that reading it back gives an equal one; a table of tables (a search's
``[strategy.<name>]``) becomes one TOML table per entry.
"""

from __future__ import annotations

import json
import sys
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from evolve.checks import describe_type, matches
from genesis import GenesisError
from genesis.limits import read_text_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["NONE", "build_section", "dump_config", "implied", "read_toml"]

#: How a TOML file spells None (TOML has no null), e.g. ``subset = "none"`` for all examples.
NONE = "none"


def implied(kind: type, given: dict[str, Any]) -> dict[str, Any]:
    """The values that the keys of ``given`` imply for keys it lacks (``kind.IMPLIES``)."""
    out: dict[str, Any] = {}
    for key, implies in getattr(kind, "IMPLIES", {}).items():
        if key in given:
            out.update({k: v for k, v in implies.items() if k not in given})
    return out


def build_section(kind: type, where: str, values: dict[str, Any]) -> Any:
    renamed = getattr(kind, "RENAMED", {})
    values = {renamed.get(k, k): v for k, v in values.items()}
    names = {f.name: f for f in fields(kind)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise GenesisError(f"{where}: unknown key(s) {unknown}; known: {sorted(names)}")
    # TOML has no null: the string "none" stands for None (dump_config writes it so).
    values = {
        k: tuple(v) if isinstance(v, list) else (None if v == NONE else v)
        for k, v in values.items()
    }
    try:
        return kind(**values)
    except TypeError as exc:  # a rule compared a value of the wrong type: name the field
        hints = typing.get_type_hints(kind)
        for name, value in values.items():
            if not matches(value, hints[name]):
                raise GenesisError(
                    f"{where}: {name} must be {describe_type(hints[name])}, got {value!r}"
                ) from None
        raise GenesisError(f"{where}: {exc}") from None


def read_toml(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> dict:
    """The tables of the TOML file ``path`` (a regular file, bounded), with ``overrides``
    (section -> field -> value, None values ignored) replacing the file's values."""
    path = Path(path)
    text = read_text_file(path, "config file")  # a regular file, bounded
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise GenesisError(f"config file {str(path)!r} is nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise GenesisError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    for section, values in (overrides or {}).items():
        given = {k: v for k, v in values.items() if v is not None}
        if given and isinstance(data.get(section, {}), dict):
            data[section] = {**data.get(section, {}), **given}
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return f'"{NONE}"'
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (a study's settings)
        items = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_config(cfg: Any) -> str:
    """TOML text that ``load_config`` reads back to an equal config (None as "none"); a
    table whose values are all tables is written as one TOML table each."""
    lines = []
    for table, values in cfg.to_dict().items():
        if values and all(isinstance(v, dict) for v in values.values()):
            for name, sub in values.items():
                lines.append(f"[{table}.{name}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in sub.items()]
                lines.append("")
            continue
        lines.append(f"[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)
