"""A search against a recorded table: every evaluation looked up, none trained.

NAS-Bench-201 and -301 let a search strategy be compared at hundreds of seeds by looking up
trainings that were paid for once. ``benchmarks/spacebench.py`` records such a table for the
main job's space (``architectures.jsonl``: the networks; ``records.jsonl``: one line per
training job). With ``proxy.fitness = "lookup"`` and ``proxy.lookup`` naming that folder, a
search runs unchanged -- its strategy, rungs, budgets and run folder -- except that:

- **the space is the table** (:class:`PoolSpace`): a sample is a member drawn uniformly; a
  mutation or crossover is done as usual and then replaced by the member nearest to the child
  (standardised graph and cost features, :func:`coordinates`), its parents excluded; a
  proposal made some other way (the ``rl`` controller builds its own) is replaced the same
  way when the search counts it (:meth:`PoolSpace.snap`);
- **an evaluation is a lookup** (:func:`lookup_record`): the member's recorded accuracy on the
  validation half the search sees (``val_accuracy``) and on the held-out half it never sees
  (``holdout_accuracy``), at the rung's epochs, with the recorded training seconds. The noise
  model replays a recorded seed: a member trained with two seeds answers with the one the
  candidate's seed picks (its parity), so two runs of one strategy see different draws of the
  training noise; a member recorded once always answers the same;
- **compute is accounted as the search accounts it**: a rung costs its epochs, as in a real run.

The table's epochs are what it recorded: 1 and 3 (the 3-epoch result continues the 1-epoch
training, ASHA's promotion) and 1/3 (a screening rung, from scratch). ``proxy.rungs`` must use
those; under a 1/3-epoch first rung, the 1-epoch result the lookup gives a promoted candidate
was trained from scratch, so the lookup counts 2/3 of an epoch for what cost one.

The table is data from elsewhere: read with the caps of :data:`MAX_LOOKUP_BYTES` and
:data:`MAX_LOOKUP_MEMBERS`, every architecture validated as any architecture file is.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from evolve.space import SearchSpace, SpaceConfig
from genesis import Architecture, GenesisError, architecture_hash
from genesis.complexity import count_complexity
from genesis.files import Refused, read_regular
from genesis.record import STATUSES, TrainResult

__all__ = [
    "MAX_LOOKUP_BYTES",
    "MAX_LOOKUP_MEMBERS",
    "LookupTable",
    "PoolSpace",
    "check_lookup",
    "coordinates",
    "load_table",
    "lookup_record",
]

#: Bytes of one file of a lookup table (``architectures.jsonl``, ``records.jsonl``).
MAX_LOOKUP_BYTES = 64 * 1024**2
#: Networks a lookup table may hold.
MAX_LOOKUP_MEMBERS = 100_000

#: Epochs are matched to the table's within this (1/3 is not exact in binary).
_EPS = 1e-6


@dataclass
class LookupTable:
    """A recorded table: its members and, per member, what each recorded training gave.

    ``runs[(hash, seed)]`` holds the rungs of the member trained with that seed (each a dict
    with ``epochs``, ``val``, ``holdout``, ``seconds``, ``status``); ``screens[hash]`` the
    screening rung (1/3 epoch from scratch), when recorded; ``finals[hash]`` the final
    protocol's training (``test``, ``epochs``, ``seconds``, ``status``), when recorded.
    """

    path: Path
    members: list[Architecture] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    runs: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    screens: dict[str, dict[str, Any]] = field(default_factory=dict)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)

    def seeds(self, h: str) -> list[int]:
        """The training seeds recorded for member ``h``, in order."""
        return sorted(s for (k, s) in self.runs if k == h)

    def epochs(self) -> list[float]:
        """Every epoch count the table can answer at."""
        found = {r["epochs"] for rungs in self.runs.values() for r in rungs}
        found |= {r["epochs"] for r in self.screens.values()}
        return sorted(found)

    def rung(self, h: str, seed: int, epochs: float) -> dict[str, Any] | None:
        """The recorded rung of member ``h`` at ``epochs``: the replayed seed's training (the
        candidate's ``seed`` picks among the recorded ones), or the screen; None if absent."""
        seeds = self.seeds(h)
        if seeds:
            for r in self.runs[(h, seeds[seed % len(seeds)])]:
                if abs(r["epochs"] - epochs) < _EPS:
                    return r
        screen = self.screens.get(h)
        if screen is not None and abs(screen["epochs"] - epochs) < _EPS:
            return screen
        return None


def _lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (a line cut short by a kill is skipped)."""
    try:
        data = read_regular(path, MAX_LOOKUP_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        raise GenesisError(f"lookup table file {str(path)!r} does not exist") from None
    except Refused as exc:
        raise GenesisError(f"lookup table file {str(path)!r}: {exc}") from None
    out = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _rung(raw: Any) -> dict[str, Any] | None:
    """One recorded rung, checked: numbers where numbers belong; None if malformed."""
    if not isinstance(raw, dict):
        return None
    epochs, val, holdout = raw.get("epochs"), raw.get("val"), raw.get("holdout")
    seconds, status = raw.get("seconds"), raw.get("status")
    if not _finite(epochs) or epochs <= 0 or status not in STATUSES:
        return None
    if status == "ok" and not (_unit(val) and _unit(holdout)):
        return None
    return {
        "epochs": float(epochs),
        "val": float(val) if status == "ok" else None,
        "holdout": float(holdout) if status == "ok" else None,
        "seconds": float(seconds) if _finite(seconds) and seconds >= 0 else 0.0,
        "status": status,
    }


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _unit(x: Any) -> bool:
    return _finite(x) and 0.0 <= x <= 1.0


def _final(raw: Any) -> dict[str, Any] | None:
    """One recorded final training, checked; None if malformed."""
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
        return None
    ok = raw["status"] == "ok"
    if ok and not (_unit(raw.get("test")) and _finite(raw.get("epochs"))):
        return None
    seconds = raw.get("seconds")
    return {
        "status": raw["status"],
        "test": float(raw["test"]) if ok else None,
        "epochs": float(raw["epochs"]) if ok else 0.0,
        "seconds": float(seconds) if _finite(seconds) and seconds >= 0 else 0.0,
    }


@lru_cache(maxsize=2)
def load_table(folder: str) -> LookupTable:
    """The lookup table in ``folder`` (``architectures.jsonl`` and ``records.jsonl``).

    Raises
    ------
    GenesisError
        When a file is missing, over :data:`MAX_LOOKUP_BYTES`, not a regular file, holds more
        than :data:`MAX_LOOKUP_MEMBERS` networks or an invalid architecture, or when no network
        has a recorded training.
    """
    path = Path(folder)
    table = LookupTable(path)
    plan = _lines(path / "architectures.jsonl")
    if len(plan) > MAX_LOOKUP_MEMBERS:
        raise GenesisError(
            f"lookup table {folder!r} holds {len(plan)} networks; the cap is "
            f"MAX_LOOKUP_MEMBERS = {MAX_LOOKUP_MEMBERS}"
        )
    known: set[str] = set()
    for i, entry in enumerate(plan):
        arch = entry.get("arch")
        try:
            arch = Architecture.from_dict(arch) if isinstance(arch, dict) else None
        except (GenesisError, TypeError, ValueError) as exc:
            raise GenesisError(
                f"lookup table {folder!r}: network {i} is not a valid architecture: {exc}"
            ) from None
        if arch is None:
            raise GenesisError(f"lookup table {folder!r}: network {i} has no architecture")
        h = architecture_hash(arch)
        if h not in known:
            known.add(h)
            table.members.append(arch)
            table.hashes.append(h)
    for rec in _lines(path / "records.jsonl"):
        h, seed, kind = rec.get("hash"), rec.get("seed"), rec.get("kind")
        if kind == "final" and h in known:
            final = _final(rec.get("final"))
            if final is not None:
                table.finals[h] = final
            continue
        rungs = (
            [_rung(r) for r in rec.get("rungs") or []] if isinstance(rec.get("rungs"), list) else []
        )
        if h not in known or not isinstance(seed, int) or not rungs or None in rungs:
            continue
        if kind == "rungs":
            table.runs[(h, seed)] = rungs
        elif kind == "screen":
            table.screens[h] = rungs[0]
    recorded = {h for h, _ in table.runs}
    # the pool is the members with a recorded training: a search can only look those up
    keep = [i for i, h in enumerate(table.hashes) if h in recorded]
    if not keep:
        raise GenesisError(f"lookup table {folder!r} has no recorded training")
    table.members = [table.members[i] for i in keep]
    table.hashes = [table.hashes[i] for i in keep]
    return table


def check_lookup(proxy: Any) -> None:
    """Raise :class:`GenesisError` unless ``proxy.lookup`` is a readable table that recorded
    every rung of ``proxy.schedule``."""
    table = load_table(proxy.lookup)
    have = table.epochs()
    for e in proxy.schedule:
        if e is None or not any(abs(e - h) < _EPS for h in have):
            known = ", ".join(f"{h:g}" for h in have)
            raise GenesisError(
                f"proxy rungs must be epochs the lookup table recorded ({known}), got {e}"
            )


def lookup_record(
    table: LookupTable,
    arch: Architecture,
    seed: int,
    epochs: float | None,
    complexity: tuple[int, int],
    final: bool = False,
) -> dict[str, Any]:
    """The record of training ``arch`` (a member) with ``seed`` to ``epochs``, looked up; with
    ``final``, its recorded final training (scored on the test split).

    A network the table lacks, or an epoch count it did not record, is an ``error`` record
    naming what is missing (a search survives it as it survives any failed candidate).
    """
    macs, params = complexity
    h = architecture_hash(arch)
    batch = arch.train.batch_size
    if final:
        return _final_record(table, h, seed, complexity, batch)
    r = table.rung(h, seed, epochs or 0.0)
    if r is None:
        return TrainResult.failed(
            macs,
            params,
            "error",
            f"lookup table has no training of {h} at {epochs:g} epochs",
            seed=seed,
            batch_size=batch,
        ).to_dict()
    if r["status"] != "ok":
        message = f"recorded {r['status']} of {h} at {epochs:g} epochs"
        return TrainResult.failed(
            macs, params, r["status"], message, seed=seed, batch_size=batch
        ).to_dict()
    seconds = r["seconds"]
    result = TrainResult.synthetic(
        macs, params, r["val"], seed=seed, batch_size=batch, final=False
    ).to_dict()
    result.update(
        holdout_accuracy=r["holdout"],
        epochs=r["epochs"],
        train_seconds=seconds,
        device="lookup",
    )
    return result


def _final_record(
    table: LookupTable, h: str, seed: int, complexity: tuple[int, int], batch: int
) -> dict[str, Any]:
    """The recorded final training of member ``h`` as a final record (or an error record)."""
    macs, params = complexity
    f = table.finals.get(h)
    if f is None or f["status"] != "ok":
        what = "no final training" if f is None else f"a final {f['status']}"
        return TrainResult.failed(
            macs,
            params,
            "error",
            f"lookup table has {what} of {h}",
            seed=seed,
            batch_size=batch,
            final=True,
        ).to_dict()
    result = TrainResult.synthetic(
        macs, params, f["test"], seed=seed, batch_size=batch, final=True
    ).to_dict()
    result.update(epochs=f["epochs"], train_seconds=f["seconds"], device="lookup")
    return result


# -- the pool ----------------------------------------------------------------------------------
def coordinates(arch: Architecture, macs: int, params: int, ops: tuple[str, ...]) -> list[float]:
    """Where a network lies for the pool's nearest-member rule: log MACs, log params, and per
    stage its nodes, edges per node, log width and the share of each op among its nodes."""
    out = [math.log(max(macs, 1)), math.log(max(params, 1))]
    for stage in arch.stages:
        n = max(stage.num_nodes, 1)
        out += [n, stage.graph.number_of_edges() / n, math.log(max(stage.channels, 1))]
        counts = list(stage.ops().values())
        out += [counts.count(op) / n for op in ops]
    return out


class PoolSpace(SearchSpace):
    """The search space of a lookup table: its members (see the module docstring).

    Parameters
    ----------
    cfg : SpaceConfig
        The run's space (its variation moves are the real ones; its ops name the op shares).
    table : LookupTable
        The recorded table whose members are the pool.
    """

    def __init__(self, cfg: SpaceConfig, table: LookupTable):
        super().__init__(cfg)
        self.table = table
        self._ops = tuple(
            sorted({op for a in table.members for s in a.stages for op in s.ops().values()})
        )
        rows = [self._coords(a) for a in table.members]
        width = max(len(r) for r in rows)
        X = np.array([r + [0.0] * (width - len(r)) for r in rows], dtype=float)
        self._mean, self._std = X.mean(axis=0), X.std(axis=0) + 1e-9
        self._X = (X - self._mean) / self._std
        self._index = {h: i for i, h in enumerate(table.hashes)}

    def _coords(self, arch: Architecture) -> list[float]:
        cx = count_complexity(arch)
        return coordinates(arch, cx.macs, cx.params, self._ops)

    def snap(self, arch: Architecture, exclude: tuple[str, ...] = ()) -> Architecture:
        """The member nearest to ``arch`` (itself when it is a member not excluded), never one
        of ``exclude`` (hashes: the parents of a child) unless the pool has nothing else."""
        h = architecture_hash(arch)
        if h in self._index and h not in exclude:
            return self.table.members[self._index[h]]
        x = np.array(self._coords(arch), dtype=float)
        x = np.pad(x, (0, max(0, self._X.shape[1] - len(x))))[: self._X.shape[1]]
        d = (((x - self._mean) / self._std - self._X) ** 2).sum(axis=1)
        for i in np.argsort(d, kind="stable"):
            if self.table.hashes[i] not in exclude:
                return self.table.members[int(i)]
        return self.table.members[int(np.argmin(d))]

    def sample(self, rng: random.Random) -> Architecture:
        """A member, drawn uniformly."""
        return self.table.members[rng.randrange(len(self.table.members))]

    def mutate(self, arch: Architecture, rng: random.Random) -> Architecture:
        """The member nearest to a real mutation of ``arch``, other than ``arch``."""
        return self.snap(super().mutate(arch, rng), (architecture_hash(arch),))

    def crossover(
        self, a: Architecture, b: Architecture, rng: random.Random
    ) -> tuple[Architecture, Architecture]:
        """The members nearest to the two children of a real crossover, other than the
        parents."""
        x, y = super().crossover(a, b, rng)
        parents = (architecture_hash(a), architecture_hash(b))
        return self.snap(x, parents), self.snap(y, parents)
