"""What a search writes about itself: the log's entries, the archive's lines, each generation's
logbook row, the front (``pareto.json``) and how the run ended (``run.json``).

- ``evaluations.jsonl`` (:class:`genesis.runfolder.RunFolder`): one entry per draw that was
  not trained (cached, duplicate, skipped: :func:`draw_entry`) and per finished job
  (:func:`train_entry`). A resumed run logs no untrained entry twice (:class:`Logged`).
- ``archive.jsonl`` (:class:`Archive`): the archive, append-only: a ``join`` line when a
  candidate joins it, a ``result`` line when a promotion moves a network's record up. The
  checkpoint says how many lines it covers, so a run writes O(N) bytes for N candidates.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from evolve.fitness import Individual, hypervolume
from evolve.rungs import MEASURED
from evolve.state import Candidate, SearchState, Track
from genesis import Architecture, GenesisError
from genesis.files import append_bytes, atomic_write
from genesis.runfolder import RunFolder, objectives, pareto_front, read_bytes_bounded

__all__ = [
    "ARCHIVE",
    "Archive",
    "Logged",
    "draw_entry",
    "format_clock",
    "finished_fields",
    "front_of",
    "generation_row",
    "member_summary",
    "progress_line",
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


class Archive:
    """Every candidate a search evaluated (``members``, in the order they joined) and its
    strategy's population, kept in the append-only ``archive.jsonl``: a ``join`` line when a
    candidate joins, a ``result`` line when a promotion moves a network's record up.

    ``strategy`` scores members (its fitness class) and selects the population.
    """

    def __init__(self, folder: RunFolder, strategy: Any):
        self.folder, self.strategy = folder, strategy
        self.path = folder.path / ARCHIVE
        self.members: list[Individual] = []
        self.population: list[Individual] = []
        self.lines = 0  # lines written (or replayed) so far

    def member(self, d: dict[str, Any], arch: Architecture, text: str) -> Individual:
        """A member from a ``join`` line (or a candidate's fields), scored by the strategy."""
        fit = self.strategy.fitness_cls(self.strategy.score(d["result"]))
        parents = tuple(d["parents"])
        return Individual(
            arch, d["hash"], d["seed"], fit, d["result"], parents, d["origin"], d["born"], text
        )

    def join(self, window: int, ind: Individual) -> None:
        """``ind`` joins the archive and, through the strategy's survivor rule, the population
        (filled first, then steady-state)."""
        self.members.append(ind)
        self._log_join(ind)
        self.population = self.strategy.select(window, self.population, [ind])

    def _log_join(self, ind: Individual) -> None:
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

    def promote(self, h: str, record: dict[str, Any], score: tuple[float, ...]) -> None:
        """Network ``h``'s record moves up a rung: every copy of it sees the new one."""
        for ind in self.members:
            if ind.hash == h:
                ind.result = record
                ind.fitness.values = score
        self._append({"op": "result", "hash": h, "result": record})

    def _append(self, line: dict[str, Any]) -> None:
        append_bytes(self.path, (json.dumps(line, separators=(",", ":")) + "\n").encode(), False)
        self.lines += 1

    def restore(self, state: SearchState) -> None:
        """The archive and population a checkpoint stands for: replayed from the first
        ``state.archived`` lines of the file (cut to them: what followed the checkpoint
        happens again), or, from a checkpoint written before the archive had its file, from
        the packed members it holds."""
        if state.archive:
            self.path.unlink(missing_ok=True)
            for d in state.archive:
                ind = self.member(d, Architecture.from_json(d["arch"]), d["arch"])
                self.members.append(ind)
                self._log_join(ind)
            state.archive, state.archived = [], self.lines
        else:
            self._replay(state.archived)
        self.population = [self.members[i] for i in state.population]

    def _replay(self, lines: int) -> None:
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
        for d in joins:  # members made from their last record, as the live run has them
            if d["hash"] not in archs:
                js = self.folder.arch_path(d["hash"]).read_text(encoding="utf-8")
                archs[d["hash"]] = (Architecture.from_json(js), js)
            self.members.append(self.member(d, *archs[d["hash"]]))
        self.lines = lines

    def indices(self) -> list[int]:
        """The population as indices into the members (what the checkpoint keeps)."""
        index = {id(ind): i for i, ind in enumerate(self.members)}
        return [index[id(i)] for i in self.population]


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


def generation_row(
    gen: int, archive: list[Individual], front: list[Individual], hv: float, state: SearchState
) -> dict[str, Any]:
    """A closed generation's row of ``logbook.csv`` (:data:`genesis.runfolder.LOGBOOK_FIELDS`)."""
    best = max((objectives(i.result)[0] for i in archive), default=0.0)
    return {
        "generation": gen,
        "evaluations": len(archive),
        "trained": state.trained,
        "cached": state.cached,
        "skipped": state.skipped,
        "best_accuracy": round(best, 5),
        "front_size": len(front),
        "hypervolume": round(hv, 6),
        "seconds": round(state.seconds, 2),
    }


def progress_line(row: dict[str, Any], hv: float, state: SearchState, search: Any) -> str:
    """The progress line of a closed generation: its budget spent and what is left."""
    elapsed = state.seconds
    if search.budget is not None:
        done, total, unit = state.compute, search.budget, "epochs"
    else:
        done, total, unit = state.started, search.evaluations, "trained"
    left = max(0.0, total - done) * elapsed / max(done, 1e-9)
    if search.seconds is not None:  # the clock ends the search first
        left = min(left, max(0.0, search.seconds - elapsed))
    return (
        f"gen {row['generation']:>3} | {unit} {done:>4g}/{total:g} | best acc "
        f"{row['best_accuracy']:.4f} | front {row['front_size']:>2} | HV {hv:.4f} | "
        f"{format_clock(elapsed)} elapsed, ~{format_clock(left)} left"
    )


def finished_fields(
    state: SearchState,
    workers: int,
    subset: int,
    reached: list[int],
    hv: float,
    seconds: float,
    search_seconds: float,
) -> dict[str, Any]:
    """What ``run.json`` says of a finished search, beside its status."""
    return {
        "trained": state.trained,
        "jobs": state.jobs,
        "compute": round(state.compute, 6),  # epoch-equivalents of the proxy subset
        "compute_examples": round(state.compute * subset),
        "promoted": reached,  # candidates that reached each rung
        "hypervolume": hv,
        "seconds": seconds,
        "search_seconds": search_seconds,  # the search alone, before the final retraining
        "eval_seconds": state.eval_seconds,
        "workers": workers,
        # busy seconds / (workers x wall seconds) of the search
        "utilization": utilization(state.eval_seconds, workers, search_seconds),
        # share of the search's wall time spent outside evaluations: selection, variation,
        # hashing, logging, checkpointing
        "overhead": max(0.0, search_seconds - state.eval_seconds / max(1, workers))
        / max(search_seconds, 1e-9),
    }
