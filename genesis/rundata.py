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

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesis import Architecture
from genesis.runchecks import (
    _CHANCE_READS,
    _FINAL_NUMBERS,
    _NAME,
    _NUMBERS,
    _PART,
    _UNREADABLE,
    _clean_draw,
    _clean_entry,
    _clean_records,
    _objective,
    _read_config,
    _read_logbook,
    _read_state,
    number,
)
from genesis.runfolder import (
    MAX_JSON_BYTES,
    STATUSES,
    RunFolder,
    is_hash,
    objectives,
    read_bytes_bounded,
    read_jsonl,
)
from graphs import GenesisError

__all__ = ["Run", "RunData", "load_run", "number", "read_run"]


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


#: Fields of a log entry a record of :func:`load_run` keeps, beside its result's numbers.
_ENTRY_FIELDS = ("generation", "index", "hash", "kind", "rung", "origin", "seed", "reason")
#: Fields of a result a record keeps (plain values).
_RESULT_FIELDS = ("status", "split", *_NUMBERS, "batch_size", "train_seconds", "error")


@dataclass
class Run:
    """A run folder as plain records (:func:`load_run`): one per log entry, per front member,
    per retrained member, each a flat dict of plain values."""

    path: Path
    evaluations: list[dict[str, Any]]  # every log entry: trained, cached, duplicate, skipped
    front: list[dict[str, Any]]  # pareto.json's members
    final: list[dict[str, Any]]  # final.json's retrained members (test accuracy)
    problems: list[str]  # what of the folder was missing or damaged

    def dataframe(self, table: str = "evaluations") -> Any:
        """``table`` (``evaluations``, ``front`` or ``final``) as a pandas DataFrame (pandas
        is an extra: ``pip install 'genesis-nas[analysis]'``).

        Raises
        ------
        GenesisError
            When pandas is not installed, or ``table`` is not one of the three.
        """
        if table not in ("evaluations", "front", "final"):
            raise GenesisError(f"table must be evaluations, front or final, got {table!r}")
        try:
            import pandas as pd
        except ImportError:
            raise GenesisError(
                "Run.dataframe needs pandas: pip install 'genesis-nas[analysis]'"
            ) from None
        return pd.DataFrame.from_records(getattr(self, table))


def _flat(entry: dict[str, Any], final: dict[str, float]) -> dict[str, Any]:
    result = entry.get("result") or {}
    out = {k: entry.get(k) for k in _ENTRY_FIELDS}
    out.update({k: result.get(k) for k in _RESULT_FIELDS})
    out["final_test_accuracy"] = final.get(entry.get("hash"))
    return out


def load_run(path: str | os.PathLike) -> Run:
    """A run folder's evaluations, front and final results as plain records, read as
    ``genesis report`` reads it (bounded, every value type-checked: :func:`read_run`), in the
    manner of Optuna's ``trials_dataframe()``.

    Each evaluation record holds its log entry's fields (generation, index, hash, kind, rung,
    origin, seed, the reason of a skip), its result's (status, split, accuracy, MACs, params,
    measured costs, epochs...), and ``final_test_accuracy`` where the final step retrained and
    tested that network (the search itself never sees it).

    Raises
    ------
    GenesisError
        When ``path`` is no run folder at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "run.json").write_text('{"status": "running"}')
    >>> load_run(d).evaluations
    []
    """
    data = read_run(path)
    final = {
        f["hash"]: f["test_accuracy"] for f in data.final if f.get("test_accuracy") is not None
    }
    entries = sorted(
        [*data.evaluations, *data.untrained],
        key=lambda e: (_position(e.get("index")), _rung_of(e)),
    )
    return Run(
        data.path,
        [_flat(e, final) for e in entries],
        [{**m, "final_test_accuracy": final.get(m.get("hash"))} for m in data.pareto],
        list(data.final),
        list(data.problems),
    )


def _position(index: Any) -> int:
    return index if isinstance(index, int) and not isinstance(index, bool) else -1


def _rung_of(entry: dict[str, Any]) -> int:
    rung = entry.get("rung")
    return rung if isinstance(rung, int) and not isinstance(rung, bool) else 0
