"""Read a run folder as plain files, whatever state it is in (running, killed, finished).

Visualisation never imports the search: it reads what the run wrote (``config.toml``,
``evaluations.jsonl``, ``logbook.csv``, ``pareto.json``, ``final.json``, ``run.json``,
``architectures/``). Every file may be missing or cut short; what exists is returned, and
:attr:`RunData.problems` says what was not readable.

A run folder may come from someone else, so everything in it is untrusted data: every file is
read with :func:`genesis.runfolder.read_bytes_bounded` (a regular file, a stated number of
bytes at most), every value is checked for its type as it is read (a wrong one is dropped and
noted, never a crash later), hashes must match :data:`genesis.runfolder.HASH_PATTERN` before a
path is built from them, and :meth:`RunData.inside` admits only plain relative paths that
resolve to a regular file inside the folder.
"""

from __future__ import annotations

import csv
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis import Architecture, GenesisError
from genesis.runfolder import (
    LOGBOOK_FIELDS,
    MAX_JSON_BYTES,
    MAX_TOML_BYTES,
    OBJECTIVES,
    STATUSES,
    RunFolder,
    is_hash,
    objectives,
    read_bytes_bounded,
    read_jsonl,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["RunData", "number", "read_run"]

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


@dataclass
class RunData:
    """What a run folder holds (see :mod:`genesis.runfolder` for the layout), type-checked."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)  # its tables (table -> dict)
    state: dict[str, Any] = field(default_factory=dict)
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # log entries with a result
    # log entries without one: draws skipped over a cap, duplicates of a candidate in training
    untrained: list[dict[str, Any]] = field(default_factory=list)
    logbook: list[dict[str, float]] = field(default_factory=list)
    pareto: list[dict[str, Any]] = field(default_factory=list)
    final: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files missing or damaged
    _archs: dict[str, Architecture | None] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        """One of :data:`genesis.runfolder.STATUSES` (``running`` also stands for a killed run:
        the folder cannot tell), or ``unknown``."""
        status = self.state.get("status")
        return status if status in STATUSES else "unknown"

    @property
    def objective(self) -> tuple[str, ...]:
        """The costs its search minimised beside accuracy (``search.objective``): ``("macs",)``
        when the config names none (a run made before objectives existed) or none valid."""
        return _objective(self.config.get("search", {}).get("objective")) or ("macs",)

    @property
    def kind(self) -> str:
        """What made the folder: ``study`` (its config has a ``[study]`` table), ``tune`` (a
        fixed architecture, ``tune.architecture``, whose training is searched) or ``search``
        (an architecture search: its ``[tune]`` table, written with every search config, is
        unused)."""
        if isinstance(self.config.get("study"), dict):
            return "study"
        architecture = self.config.get("tune", {}).get("architecture")
        return "tune" if isinstance(architecture, str) and architecture else "search"

    @property
    def strategy(self) -> str:
        """The search strategy's name, or ``?`` when the config names none (or no plain name)."""
        name = self.config.get("search", {}).get("strategy")
        return name if isinstance(name, str) and _NAME.fullmatch(name) else "?"

    def trained(self) -> list[dict[str, Any]]:
        """Log entries of trained evaluations at the first rung (one per candidate actually
        trained; a multi-fidelity run logs one more entry per rung a candidate goes on to)."""
        return [
            e
            for e in self.evaluations
            if e.get("kind") == "train" and e.get("result") and not e.get("rung")
        ]

    def best_entries(self) -> dict[str, dict[str, Any]]:
        """Each evaluated network's log entry at the highest rung it reached: hash -> entry,
        in the order the networks first appear in the log.

        That is the latest training of the network that finished ``ok`` at its highest rung
        (a multi-fidelity run logs one entry per rung; a single-rung run one in all); a network
        none of whose trainings finished ok keeps its first entry (its failure). It holds the
        record ``pareto.json`` and the report's tables show, so the fronts, the lineage and
        every per-network figure read their values from it.

        Examples
        --------
        >>> run = RunData(Path("."))
        >>> ok = lambda acc: {"status": "ok", "accuracy": acc, "macs": 1.0}
        >>> run.evaluations = [
        ...     {"hash": "a" * 20, "kind": "train", "rung": 0, "result": ok(0.789)},
        ...     {"hash": "a" * 20, "kind": "train", "rung": 1, "result": ok(0.838)},
        ...     {"hash": "a" * 20, "kind": "train", "rung": 2, "result": {"status": "oom"}},
        ... ]
        >>> run.best_entries()["a" * 20]["result"]["accuracy"]
        0.838
        """
        best: dict[str, dict[str, Any]] = {}
        for e in self.evaluations:
            if not e.get("result"):
                continue
            cur = best.get(e["hash"])
            if cur is None or (_trained_ok(e) and (not _trained_ok(cur) or _rung(e) >= _rung(cur))):
                best[e["hash"]] = e
        return best

    def points(self, costs: tuple[str, ...] | None = None) -> list[tuple[Any, ...]]:
        """(validation accuracy, *costs, hash) of every evaluated candidate, failures at 0, each
        at the highest rung it reached (:meth:`best_entries`). ``costs`` default to the run's
        :attr:`objective` (MACs for most runs); one a record lacks is infinite."""
        costs = self.objective if costs is None else costs
        return [(*objectives(e["result"], costs), h) for h, e in self.best_entries().items()]

    def chance(self) -> tuple[float, int] | None:
        """(chance accuracy, classes): one over the classes of the dataset, which are the
        networks' outputs (``num_classes`` of their architecture files, read for the first
        network that has one); None when none of the first :data:`_CHANCE_READS` networks'
        architectures is readable, or when the run trained
        with ``proxy.allow_class_mismatch`` (then the dataset may have fewer classes than the
        networks have outputs, and the folder does not say how many)."""
        if self.config.get("proxy", {}).get("allow_class_mismatch", False) is not False:
            return None
        for h in list(self.best_entries())[:_CHANCE_READS]:
            arch = self.architecture(h)
            if arch is not None:
                return 1.0 / arch.num_classes, arch.num_classes
        return None

    def inside(self, rel: Any) -> Path | None:
        """The regular file that ``rel`` names inside the folder, or None.

        ``rel`` must be a plain relative path (parts of letters, digits, ``_``, ``.`` and
        ``-``, none starting with ``.`` or ``-``: no ``..``, no absolute path, no URL scheme),
        and its resolved path must lie inside the resolved folder and be a regular file, not a
        symlink. This is the only way a link or a read is made from a name found in the folder.
        """
        if not isinstance(rel, str) or len(rel) > 1000:
            return None
        parts = rel.split("/")
        if not all(_PART.fullmatch(part) for part in parts):
            return None
        path = self.path.joinpath(*parts)
        try:
            root = self.path.resolve()
            if not path.resolve().is_relative_to(root) or not path.is_file() or path.is_symlink():
                return None
        except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
            return None
        return path

    def architecture(self, h: str) -> Architecture | None:
        """The architecture with hash ``h``, or None if its file is missing or invalid (noted
        in :attr:`problems` once)."""
        if h in self._archs:
            return self._archs[h]
        self._archs[h] = arch = self._load_architecture(h)
        return arch

    def _load_architecture(self, h: str) -> Architecture | None:
        if not is_hash(h):
            self.problems.append("an architecture with an invalid hash was not read")
            return None
        ref = RunFolder(self.path).arch_ref(h)
        path = self.inside(ref)
        if path is None:
            kind = "missing" if not os.path.lexists(self.path / ref) else "not a regular file"
            self.problems.append(f"{ref} is {kind} (or outside the run folder): not read")
            return None
        try:
            text = read_bytes_bounded(path, MAX_JSON_BYTES).decode("utf-8")
            return Architecture.from_json(text, source=ref)
        except _UNREADABLE as exc:
            self.problems.append(f"{ref} was not read ({type(exc).__name__}: {exc})")
            return None


def _trained_ok(e: dict[str, Any]) -> bool:
    """Whether a log entry is a training that finished ok."""
    return e.get("kind") == "train" and e["result"].get("status") == "ok"


def _rung(e: dict[str, Any]) -> int:
    """A log entry's rung (0: the first, also for a run of one rung)."""
    return e.get("rung") or 0


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


def read_run(path: str | os.PathLike) -> RunData:
    """Read a run folder; raises :class:`GenesisError` only if it is no run folder at all."""
    folder = RunFolder(path)
    path = folder.path
    if not path.is_dir():
        raise GenesisError(f"run folder {str(path)!r} does not exist")
    markers = (folder.config_path, folder.log_path, folder.state_path)
    if not any(os.path.lexists(m) for m in markers):
        raise GenesisError(
            f"{str(path)!r} is not a genesis run folder (none of "
            f"{', '.join(m.name for m in markers)} in it)"
        )
    run = RunData(path)
    p = run.problems
    run.config = _read_config(folder, p)
    run.state = _read_state(folder, p)
    if os.path.lexists(folder.log_path):
        entries, damaged = read_jsonl(folder.log_path, strict=False)
        p.extend(damaged)
        bad = 0
        for e in entries:
            if isinstance(e, dict) and e.get("hash") and isinstance(e.get("result"), dict):
                clean = _clean_entry(e)
                if clean is None:
                    bad += 1
                else:
                    run.evaluations.append(clean)
            elif isinstance(e, dict) and e.get("hash") and e.get("result") is None:
                draw = _clean_draw(e)
                if draw is None:
                    bad += 1
                else:
                    run.untrained.append(draw)
        if bad:
            p.append(f"evaluations.jsonl: {bad} entries with an invalid hash or MACs were skipped")
    else:
        p.append("evaluations.jsonl not written yet")
    run.logbook = _read_logbook(folder, p)
    if not isinstance(run.config.get("study"), dict):  # a study has no front
        raw = folder.read_json(folder.pareto_path.name, [], p)
        run.pareto = _clean_records(raw, "pareto.json", _NUMBERS, p)
    if os.path.lexists(folder.final_path):
        raw = folder.read_json(folder.final_path.name, [], p)
        run.final = _clean_records(raw, "final.json", _FINAL_NUMBERS, p)
    return run
