"""Read a run folder as plain files, whatever state it is in (running, killed, finished).

Visualisation never imports the search: it reads what the run wrote (``config.toml``,
``evaluations.jsonl``, ``logbook.csv``, ``pareto.json``, ``final.json``, ``run.json``,
``architectures/``). Every file may be missing or cut short; what exists is returned, and
:attr:`RunData.problems` says what was not readable.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis import Architecture, GenesisError, load_architecture

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["RunData", "read_run"]


@dataclass
class RunData:
    """What a run folder holds (see :mod:`evolve.runfolder` for the layout)."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # log entries with a result
    logbook: list[dict[str, float]] = field(default_factory=list)
    pareto: list[dict[str, Any]] = field(default_factory=list)
    final: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files missing or damaged

    @property
    def status(self) -> str:
        """``finished``, ``running`` (or killed: the folder cannot tell), or ``unknown``."""
        return self.state.get("status", "unknown")

    @property
    def strategy(self) -> str:
        return self.config.get("search", {}).get("strategy", "?")

    def trained(self) -> list[dict[str, Any]]:
        """Log entries of trained evaluations (one per candidate actually trained)."""
        return [e for e in self.evaluations if e.get("kind") == "train" and e.get("result")]

    def points(self) -> list[tuple[float, float, str]]:
        """(validation accuracy, MACs, hash) of every evaluated candidate, failures at 0."""
        seen, out = set(), []
        for e in self.evaluations:
            r = e.get("result")
            if not r or e["hash"] in seen:
                continue
            seen.add(e["hash"])
            acc = r.get("accuracy") if r.get("status") == "ok" else None
            out.append((float(acc or 0.0), float(r["macs"]), e["hash"]))
        return out

    def architecture(self, h: str) -> Architecture | None:
        """The architecture with hash ``h``, or None if its file is missing or invalid."""
        path = self.path / "architectures" / f"{h}.json"
        try:
            return load_architecture(path)
        except GenesisError as exc:
            self.problems.append(str(exc))
            return None


def _json(path: Path, problems: list[str], default: Any) -> Any:
    if not path.exists():
        problems.append(f"{path.name} not written yet")
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name} is damaged ({exc})")
        return default


def read_run(path: str | os.PathLike) -> RunData:
    """Read a run folder; raises :class:`GenesisError` only if it is no run folder at all."""
    path = Path(path)
    if not path.is_dir():
        raise GenesisError(f"run folder {str(path)!r} does not exist")
    markers = ("config.toml", "evaluations.jsonl", "run.json")
    if not any((path / m).exists() for m in markers):
        raise GenesisError(
            f"{str(path)!r} is not a genesis run folder (none of {', '.join(markers)} in it)"
        )
    run = RunData(path)
    p = run.problems
    if (path / "config.toml").exists():
        try:
            run.config = tomllib.loads((path / "config.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            p.append(f"config.toml is damaged ({exc})")
    else:
        p.append("config.toml missing")
    run.state = _json(path / "run.json", p, {})
    log = path / "evaluations.jsonl"
    if log.exists():
        lines = log.read_text(encoding="utf-8", errors="replace").split("\n")
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                p.append(f"evaluations.jsonl line {i} is damaged")
                continue
            if (
                isinstance(entry, dict)
                and entry.get("hash")
                and isinstance(entry.get("result"), dict)
            ):
                run.evaluations.append(entry)
    else:
        p.append("evaluations.jsonl not written yet")
    book = path / "logbook.csv"
    if book.exists():
        try:
            for row in csv.DictReader(book.read_text(encoding="utf-8").splitlines()):
                try:
                    run.logbook.append({k: float(v) for k, v in row.items() if v not in ("", None)})
                except (ValueError, TypeError):
                    p.append("logbook.csv has a damaged row")
        except csv.Error as exc:
            p.append(f"logbook.csv is damaged ({exc})")
    run.pareto = _json(path / "pareto.json", p, [])
    if (path / "final.json").exists():
        run.final = _json(path / "final.json", p, [])
    return run
