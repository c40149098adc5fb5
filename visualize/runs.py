"""Read a run folder as plain files, whatever state it is in (running, killed, finished).

Visualisation never imports the search: it reads what the run wrote (``config.toml``,
``evaluations.jsonl``, ``logbook.csv``, ``pareto.json``, ``final.json``, ``run.json``,
``architectures/``). Every file may be missing or cut short; what exists is returned, and
:attr:`RunData.problems` says what was not readable.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis import Architecture, GenesisError, load_architecture
from genesis.runfolder import RunFolder, objectives, read_jsonl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["RunData", "read_run"]


@dataclass
class RunData:
    """What a run folder holds (see :mod:`genesis.runfolder` for the layout)."""

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
        """One of :data:`genesis.runfolder.STATUSES` (``running`` also stands for a killed run:
        the folder cannot tell), or ``unknown``."""
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
            out.append((*objectives(r), e["hash"]))
        return out

    def architecture(self, h: str) -> Architecture | None:
        """The architecture with hash ``h``, or None if its file is missing or invalid."""
        path = RunFolder(self.path).arch_path(h)
        try:
            return load_architecture(path)
        except GenesisError as exc:
            self.problems.append(str(exc))
            return None


def read_run(path: str | os.PathLike) -> RunData:
    """Read a run folder; raises :class:`GenesisError` only if it is no run folder at all."""
    folder = RunFolder(path)
    path = folder.path
    if not path.is_dir():
        raise GenesisError(f"run folder {str(path)!r} does not exist")
    markers = (folder.config_path, folder.log_path, folder.state_path)
    if not any(m.exists() for m in markers):
        raise GenesisError(
            f"{str(path)!r} is not a genesis run folder (none of "
            f"{', '.join(m.name for m in markers)} in it)"
        )
    run = RunData(path)
    p = run.problems
    if folder.config_path.exists():
        try:
            run.config = tomllib.loads(folder.config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            p.append(f"config.toml is damaged ({exc})")
    else:
        p.append("config.toml missing")
    run.state = folder.read_json(folder.state_path.name, {}, p)
    if folder.log_path.exists():
        entries, damaged = read_jsonl(folder.log_path, strict=False)
        p.extend(damaged)
        run.evaluations = [
            e
            for e in entries
            if isinstance(e, dict) and e.get("hash") and isinstance(e.get("result"), dict)
        ]
    else:
        p.append("evaluations.jsonl not written yet")
    book = folder.logbook_path
    if book.exists():
        try:
            for row in csv.DictReader(book.read_text(encoding="utf-8").splitlines()):
                try:
                    run.logbook.append({k: float(v) for k, v in row.items() if v not in ("", None)})
                except (ValueError, TypeError):
                    p.append("logbook.csv has a damaged row")
        except csv.Error as exc:
            p.append(f"logbook.csv is damaged ({exc})")
    run.pareto = folder.read_json(folder.pareto_path.name, [], p)
    if folder.final_path.exists():
        run.final = folder.read_json(folder.final_path.name, [], p)
    return run
