"""What a search writes about itself: the log's entries, the archive's lines, each generation's
logbook row, the front (``pareto.json``) and how the run ended (``run.json``).

- ``evaluations.jsonl`` (:class:`genesis.runfolder.RunFolder`): one entry per draw that was
  not trained (cached, duplicate, skipped: :func:`draw_entry`) and per finished job
  (:func:`train_entry`). A resumed run logs no untrained entry twice (:class:`Logged`).
- ``archive.jsonl`` (:class:`ArchiveLog`): the archive, append-only: a ``join`` line when a
  candidate joins it, a ``result`` line when a promotion moves a network's record up. The
  checkpoint says how many lines it covers, so a run writes O(N) bytes for N candidates.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from evolve.fitness import Individual, hypervolume
from evolve.rungs import MEASURED
from evolve.state import Candidate, Track
from genesis import Architecture, GenesisError
from genesis.files import append_bytes, atomic_write
from genesis.runfolder import RunFolder, objectives, pareto_front, read_bytes_bounded

__all__ = [
    "ARCHIVE",
    "ArchiveLog",
    "Logged",
    "draw_entry",
    "format_clock",
    "front_of",
    "member_summary",
    "train_entry",
    "utilization",
]

#: The archive's file in a run folder.
ARCHIVE = "archive.jsonl"

#: Largest archive file a resume reads (the run's own file; about 1 kB a candidate).
MAX_ARCHIVE_BYTES = 2**31


def draw_entry(generation: int, index: int, c: Candidate) -> dict[str, Any]:
    """The log entry of a draw that was not trained (cached, duplicate or skipped)."""
    return {
        "generation": generation,
        "index": index,
        "hash": c.hash,
        "kind": c.kind,
        "origin": c.origin,
        "parents": list(c.parents),
        "seed": c.seed,
        "result": c.result,
        "time": round(time.time(), 3),
        **({"reason": c.reason} if c.reason else {}),
    }


def train_entry(track: Track, rung: int, record: dict[str, Any]) -> dict[str, Any]:
    """The log entry of a finished job: ``track``'s candidate trained to ``rung``."""
    c = track.cand
    return {
        "generation": track.generation,
        "index": c.index,
        "hash": c.hash,
        "kind": "train",
        "rung": rung,
        "origin": c.origin,
        "parents": list(c.parents),
        "seed": c.seed,
        "result": record,
        "time": round(time.time(), 3),
    }


def log_key(entry: dict[str, Any]) -> tuple:
    return (entry["generation"], entry["index"], entry["hash"], entry["seed"], entry["kind"])


class Logged:
    """Untrained entries the interrupted run that this one resumes logged after its
    checkpoint: each is skipped once instead of logged again."""

    def __init__(self, entries: list[dict[str, Any]], draws: int):
        self.pending = Counter(
            log_key(e) for e in entries if e.get("kind") != "train" and _index(e) >= draws
        )

    def append(self, folder: RunFolder, entry: dict[str, Any]) -> None:
        key = log_key(entry)
        if self.pending[key] > 0:
            self.pending[key] -= 1
        else:
            folder.append_evaluation(entry)


def _index(entry: dict[str, Any]) -> int:
    i = entry.get("index")
    return i if isinstance(i, int) else -1


class ArchiveLog:
    """The archive's append-only file: ``join`` and ``result`` lines, and its replay."""

    def __init__(self, folder: RunFolder):
        self.folder = folder
        self.path = folder.path / ARCHIVE
        self.lines = 0  # lines written (or replayed) so far

    def join(self, ind: Individual) -> None:
        self._append(
            {
                "op": "join",
                "hash": ind.hash,
                "seed": ind.seed,
                "result": ind.result,
                "parents": list(ind.parents),
                "origin": ind.origin,
                "born": ind.born,
            }
        )

    def result(self, h: str, record: dict[str, Any]) -> None:
        self._append({"op": "result", "hash": h, "result": record})

    def _append(self, line: dict[str, Any]) -> None:
        append_bytes(self.path, (json.dumps(line, separators=(",", ":")) + "\n").encode(), False)
        self.lines += 1

    def replay(
        self, lines: int, individual: Callable[[dict[str, Any], Architecture, str], Individual]
    ) -> list[Individual]:
        """The archive as the first ``lines`` lines built it; the file is cut to them (what
        followed the checkpoint happens again). ``individual`` makes a member from a ``join``
        line, its architecture and JSON (read once per hash from ``architectures/``)."""
        data = read_bytes_bounded(self.path, MAX_ARCHIVE_BYTES) if self.path.exists() else b""
        kept = [line for line in data.split(b"\n") if line][:lines]
        if len(kept) < lines:
            raise GenesisError(
                f"{str(self.path)!r} holds {len(kept)} lines, the checkpoint covers {lines}"
            )
        text = b"".join(line + b"\n" for line in kept)
        if text != data:
            atomic_write(self.path, text)
        joins: list[dict[str, Any]] = []
        for raw in kept:
            d = json.loads(raw)
            if d["op"] == "join":
                joins.append(d)
            else:  # a promotion: every copy that joined before it sees the new record
                for j in joins:
                    if j["hash"] == d["hash"]:
                        j["result"] = d["result"]
        archs: dict[str, tuple[Architecture, str]] = {}
        archive: list[Individual] = []
        for d in joins:  # members made from their last record, as the live run has them
            if d["hash"] not in archs:
                js = self.folder.arch_path(d["hash"]).read_text(encoding="utf-8")
                archs[d["hash"]] = (Architecture.from_json(js), js)
            archive.append(individual(d, *archs[d["hash"]]))
        self.lines = lines
        return archive


def front_of(archive: list[Individual], costs: tuple[str, ...]) -> list[Individual]:
    """The reported front over (accuracy, *costs): each network once (a cached duplicate is
    the same network), of those whose evaluation worked, each at the highest rung it reached."""
    seen: dict[str, Individual] = {}
    for ind in archive:
        seen.setdefault(ind.hash, ind)
    ok = [ind for ind in seen.values() if ind.result.get("status") == "ok"]
    return pareto_front(ok, key=lambda i: objectives(i.result, costs))


def front_hypervolume(front: list[Individual], costs: tuple[str, ...], refs) -> float:
    return hypervolume([objectives(i.result, costs) for i in front], refs)


def member_summary(ind: Individual, folder: RunFolder) -> dict[str, Any]:
    """A front member as ``pareto.json`` lists it."""
    r = ind.result
    return {
        "hash": ind.hash,
        "accuracy": r.get("accuracy"),
        "split": r.get("split"),
        "macs": r.get("macs"),
        "flops": r.get("flops"),
        "params": r.get("params"),
        **{k: r[k] for k in MEASURED if r.get(k) is not None},
        "status": r.get("status"),
        "rung": r.get("rung"),
        "seed": ind.seed,
        "origin": ind.origin,
        "parents": list(ind.parents),
        "architecture": folder.arch_ref(ind.hash),
    }


def utilization(busy_seconds: float, workers: int, wall_seconds: float) -> float:
    """Worker utilization: busy seconds (added over workers) / (workers x wall seconds).

    Examples
    --------
    >>> utilization(180.0, 2, 100.0)
    0.9
    """
    if wall_seconds <= 0 or workers <= 0:
        return 0.0
    return round(min(1.0, busy_seconds / (workers * wall_seconds)), 4)


def format_clock(seconds: float) -> str:
    """``75`` -> ``1m15s``, ``9`` -> ``9s`` (progress lines of searches and studies)."""
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
