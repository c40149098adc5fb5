"""What a search checkpoints, and what it returns.

- :class:`Candidate`: one drawn architecture, made once when drawn (its JSON, hash, MACs and
  params counted once); the task, the log, the archive and the checkpoint all read it.
- :class:`Track`: a candidate's progress through the rungs of successive halving.
- :class:`SearchState`: everything the checkpoint holds after each finished job, enough to
  continue exactly; :meth:`SearchState.checked` migrates the forms older genesis wrote.
- :class:`SearchOutcome`: what a finished search found.

The archive is not in the checkpoint: it grows by one entry per candidate, so a checkpoint
holding it would make a run write O(N^2) bytes. Its entries go, as they change, to the
append-only ``archive.jsonl`` (:mod:`evolve.records`); the state holds how many of its lines
it covers. A candidate's JSON is not pickled either: ``architectures/H.json`` holds it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from typing import Any

from evolve.fitness import Individual
from genesis import Architecture

__all__ = ["Candidate", "SearchOutcome", "SearchState", "Track", "fits", "out_of_time"]


@dataclass
class Candidate:
    """One drawn architecture: to train, cached (evaluated before), a duplicate (of one still
    training) or skipped (over a cap)."""

    hash: str
    macs: int  # counted once, before anything else
    params: int
    seed: int  # its training seed
    parents: tuple[str, ...] = ()  # hashes of its parents
    origin: str = "sample"  # how the strategy made it (sample, mutation, init...)
    tag: Any = None  # the strategy's own mark, handed back when it learns
    index: int = -1  # its draw's index in the log
    memory_kb: float | None = None  # peak inference memory (genesis.cost), when measured
    kind: str = "train"  # train | cached | duplicate | skipped
    result: dict[str, Any] | None = None  # a cached candidate's record
    reason: str | None = None  # why it is skipped: the cap it is over
    text: str | None = field(default=None, repr=False)  # its JSON (architectures/H.json)
    arch: Architecture | None = field(default=None, repr=False, compare=False)  # parsed once

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its JSON and its parsed form: the run folder's file holds them."""
        return {k: v for k, v in self.__dict__.items() if k not in ("text", "arch")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"text": None, "arch": None, **state})


@dataclass
class Track:
    """A candidate's progress through the rungs (``rung``: the highest it finished, -1 before
    its first)."""

    cand: Candidate
    generation: int  # population-sized group of candidates, by start order
    window: int  # the strategy's window it was proposed in
    rung: int = -1
    scores: list[list[float]] = field(default_factory=list)  # fitness values at each rung
    curve: list[float | None] = field(default_factory=list)  # accuracy at each rung
    busy: bool = False  # a job of it is running
    stopped: bool = False  # a rung failed: it goes no further
    costs: dict[str, Any] = field(default_factory=dict)  # measured before its first rung

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Track:
        """A track as genesis before the split kept it: a dict with the candidate's dict."""
        c = d["cand"]
        cand = Candidate(
            hash=c["hash"],
            macs=c["macs"],
            params=c["params"],
            seed=c["seed"],
            parents=tuple(c.get("parents", ())),
            origin=c.get("origin", "sample"),
            tag=c.get("tag"),
            index=c.get("index", -1),
            memory_kb=c.get("memory_kb"),
            text=c.get("arch"),
        )
        return cls(
            cand,
            d["generation"],
            d["window"],
            d.get("rung", -1),
            list(d.get("scores", [])),
            list(d.get("curve", [])),
            d.get("busy", False),
            d.get("stopped", False),
            dict(d.get("costs", {})),
        )


@dataclass
class SearchOutcome:
    """What a finished search found."""

    front: list[Individual]  # Pareto front of every evaluated candidate (accuracy x objective)
    archive: list[Individual]  # every evaluated candidate, in evaluation order
    trained: int  # candidates trained (at the first rung)
    final: list[dict[str, Any]]  # final retraining records (test accuracy)
    hypervolume: float  # of the front, normalised
    compute: float = 0.0  # epoch-equivalents of the proxy subset spent, every rung


@dataclass
class SearchState:
    """What the checkpoint holds after each finished job: enough to continue exactly."""

    window: int = -1  # the strategy's window (batch_size proposals) being proposed
    rng: Any = None  # the run generator's state (random.Random.getstate())
    population: list[Any] = field(default_factory=list)  # indices into the archive
    # the archive as genesis before the split checkpointed it (packed members); now empty,
    # the members being in archive.jsonl, of which the state covers ``archived`` lines
    archive: list[dict[str, Any]] = field(default_factory=list)
    archived: int = 0  # lines of archive.jsonl this state covers
    trained: int = 0  # candidates trained at the first rung (finished)
    cached: int = 0  # candidates answered from the cache (duplicates included)
    skipped: int = 0  # draws over a MAC or parameter budget, never trained
    seconds: float = 0.0  # wall time of the search so far
    eval_seconds: float = 0.0  # busy seconds of the workers, added over workers
    strategy: dict[str, Any] = field(default_factory=dict)  # the strategy's own state
    draws: int = 0  # proposals drawn (each logged entry's index)
    in_window: int = 0  # candidates of the current window started so far
    jobs: int = 0  # jobs started (a candidate's training to one rung)
    compute: float = 0.0  # epoch-equivalents finished
    committed: float = 0.0  # epoch-equivalents started (finished or in flight)
    started: int = 0  # candidates started at the first rung
    pending: list[dict[str, Any]] = field(default_factory=list)  # jobs in flight
    tracks: dict[str, Track] = field(default_factory=dict)  # hash -> rung progress
    windows: dict[int, dict[str, Any]] = field(default_factory=dict)  # open windows
    # open generations (population-sized groups of candidates, by start order): how many of
    # each are still training their first rung
    generations: dict[int, int] = field(default_factory=dict)
    logged_generation: int = -1  # the last generation whose logbook row is written
    exhausted: bool = False  # the space yields no new candidates

    @classmethod
    def checked(cls, obj: Any) -> SearchState:
        """``obj`` from a checkpoint as a state; a checkpoint of genesis 0.1's dict form, of
        0.2's generation-by-generation search, or of the search before its split (tracks as
        dicts, the archive packed in the state) is converted, anything else refused."""
        done = None  # the last generation a generation-by-generation search finished
        if isinstance(obj, dict) and "generation" in obj:  # genesis <= 0.1 wrote a dict
            old = dict(obj)
            done = old.pop("generation")
            strategy = {
                "proposed": old.pop("proposed", 0),
                "controller": old.pop("controller", None),
            }
            obj = cls(**old, strategy=strategy)
        if not isinstance(obj, cls):
            raise ValueError("not a genesis checkpoint")
        if "window" not in obj.__dict__:  # 0.2 pickled its generation-by-generation state
            done = obj.__dict__.pop("generation", -1)
        for f in fields(cls):  # a state pickled without the newer fields
            if f.name not in obj.__dict__:
                factory = f.default_factory
                setattr(obj, f.name, factory() if callable(factory) else f.default)
        if done is not None:
            obj.window = obj.logged_generation = done
            obj.in_window = sys.maxsize  # the next proposal opens the next window
            obj.started = obj.trained
        if obj.population and isinstance(obj.population[0], dict):  # 0.2: packed copies
            index = {d["hash"]: i for i, d in enumerate(obj.archive)}
            obj.population = [index[d["hash"]] for d in obj.population]
        obj.tracks = {
            h: Track.from_dict(t) if isinstance(t, dict) else t for h, t in obj.tracks.items()
        }
        return obj


def fits(state: SearchState, cfg: Any, rung: int) -> bool:
    """Whether a job to ``rung`` may start within the run's compute or count budget
    (``cfg``: its :class:`~evolve.config.EvolveConfig`)."""
    s = cfg.search
    if s.budget is not None:
        return state.committed + cfg.proxy.rung_cost(rung) <= s.budget + 1e-9
    return rung > 0 or state.started < s.evaluations


def out_of_time(state: SearchState, cfg: Any, rung: int, elapsed: float) -> bool:
    """Whether a job to ``rung``, at the pace of the jobs so far, would end past the run's
    time budget."""
    limit = cfg.search.seconds
    if limit is None or state.compute <= 0:
        return False
    per_epoch = state.eval_seconds / state.compute  # busy seconds per epoch-equivalent
    return elapsed + per_epoch * cfg.proxy.rung_cost(rung) > limit
