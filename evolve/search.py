"""The search loop: generation by generation, resumable, knowing strategies only by protocol.

Each generation the loop asks the run's :class:`~evolve.strategies.Strategy` for candidates,
drops what needs no training, has the executor train the rest, records every result in the
run folder at once, lets the strategy select and learn, and checkpoints a typed
:class:`SearchState`. Then :mod:`evolve.final` retrains the chosen Pareto members.

Cheap first: MACs and params are counted once per candidate, before training, so a candidate
over ``max_macs`` or ``max_params`` is never trained, and an isomorphic duplicate (same
canonical hash, confirmed by an exact isomorphism check) reuses the cached record. A
``seconds`` budget stops the search before a generation that would end past it. Every strategy
spends the same budget: a number of *trained* evaluations.

Resumption: the state after every generation (population, archive, random state, the
strategy's own state) is checkpointed; every finished evaluation is appended to the log at
once. A resumed run regenerates the interrupted generation from the checkpointed random state,
reuses the logged records of the candidates already evaluated, and so, with a deterministic
fitness, ends exactly as an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evolve.config import EvolveConfig
from evolve.evaluate import make_task
from evolve.executors import Executor
from evolve.final import run_final
from evolve.fitness import Individual, hypervolume
from evolve.space import SearchSpace
from evolve.strategies import Proposal, Strategy, get_strategy
from evolve.tune import HyperSpace
from genesis import Architecture, architecture_hash, load_architecture
from genesis.complexity import count_complexity
from genesis.fingerprint import same_architecture
from genesis.runfolder import RunFolder, objectives, pareto_front

__all__ = ["Search", "SearchOutcome", "SearchState", "make_space"]

MAX_DRAWS_PER_SLOT = 25  # duplicates and over-budget draws tolerated before giving up a slot


@dataclass
class SearchOutcome:
    """What a finished search found."""

    front: list[Individual]  # Pareto front of every evaluated candidate (accuracy x MACs)
    archive: list[Individual]  # every evaluated candidate, in evaluation order
    trained: int  # trained evaluations spent
    final: list[dict[str, Any]]  # final retraining records (test accuracy)
    hypervolume: float  # of the front, normalised


@dataclass
class SearchState:
    """What the checkpoint holds after each generation: enough to continue exactly."""

    generation: int = -1  # the last finished generation
    rng: Any = None  # the run generator's state after it (random.Random.getstate())
    population: list[dict[str, Any]] = field(default_factory=list)  # packed individuals
    archive: list[dict[str, Any]] = field(default_factory=list)  # every one evaluated, packed
    trained: int = 0  # trained evaluations spent
    cached: int = 0  # candidates answered from the cache (duplicates included)
    skipped: int = 0  # draws over a MAC or parameter budget, never trained
    seconds: float = 0.0  # wall time of the search so far
    eval_seconds: float = 0.0  # of which the executor spent evaluating
    strategy: dict[str, Any] = field(default_factory=dict)  # the strategy's own state

    @classmethod
    def checked(cls, obj: Any) -> SearchState:
        """``obj`` from a checkpoint as a state; a checkpoint of genesis 0.1's dict form is
        converted, anything else refused."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, dict) and "generation" in obj:  # genesis <= 0.1 wrote a dict
            old = dict(obj)
            strategy = {
                "proposed": old.pop("proposed", 0),
                "controller": old.pop("controller", None),
            }
            return cls(**old, strategy=strategy)
        raise ValueError("not a genesis checkpoint")


@dataclass
class _Candidate:
    arch: Architecture
    text: str  # its JSON, serialized once: the file, the task and the checkpoint share it
    hash: str
    macs: int  # counted once, before anything else
    params: int
    seed: int
    proposal: Proposal
    kind: str = "train"  # train | cached | duplicate | skipped
    result: dict[str, Any] | None = None


def make_space(cfg: EvolveConfig, folder: RunFolder) -> SearchSpace | HyperSpace:
    """The space a run searches: architectures, or one fixed architecture's hyperparameters."""
    if cfg.tune.architecture:
        return HyperSpace(load_architecture(folder.path / cfg.tune.architecture), cfg.tune)
    return SearchSpace(cfg.space)


class Search:
    """One search run over a run folder (see :mod:`genesis.runfolder`)."""

    def __init__(
        self,
        cfg: EvolveConfig,
        folder: RunFolder,
        executor: Executor,
        log: Callable[[str], None] | None = None,
    ):
        self.cfg = cfg
        self.folder = folder
        self.executor = executor
        self.space = make_space(cfg, folder)
        self.strategy: Strategy = get_strategy(cfg.search.strategy)(cfg, self.space)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.budget = cfg.search.evaluations
        self._logged: Counter = Counter()  # entries of the interrupted generation not to relog

    # -- individuals -----------------------------------------------------------------------------
    def _individual(self, c: _Candidate, born: int) -> Individual:
        fit = self.strategy.fitness_cls(self.strategy.score(c.result))
        p = c.proposal
        return Individual(c.arch, c.hash, c.seed, fit, c.result, p.parents, p.origin, born, c.text)

    @staticmethod
    def _pack(ind: Individual) -> dict[str, Any]:
        return {
            "arch": ind.text or ind.arch.to_json(),
            "hash": ind.hash,
            "seed": ind.seed,
            "result": ind.result,
            "parents": list(ind.parents),
            "origin": ind.origin,
            "born": ind.born,
        }

    def _unpack(self, d: dict[str, Any]) -> Individual:
        arch = Architecture.from_json(d["arch"])
        fit = self.strategy.fitness_cls(self.strategy.score(d["result"]))
        return Individual(
            arch,
            d["hash"],
            d["seed"],
            fit,
            d["result"],
            tuple(d["parents"]),
            d["origin"],
            d["born"],
            d["arch"],
        )

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> SearchOutcome:
        """Run (or resume) the search, then the final retraining; return the outcome."""
        saved = self.folder.load_checkpoint(SearchState.checked)
        state = saved or SearchState(rng=random.Random(self.cfg.search.seed).getstate())
        self.folder.write_state("running")
        self.folder.repair_log()
        logged = self.folder.read_evaluations()
        # Everything logged after the checkpoint is replayed, not redone: the generation a
        # kill interrupted, and, when an older checkpoint stands in for a damaged one (or
        # none for a deleted one), every generation after it.
        interrupted = state.generation + 1
        after = [e for e in logged if _generation(e) >= interrupted]
        replay = {(e["generation"], e["index"]): e for e in after if e.get("kind") == "train"}
        self._logged = Counter(_log_key(e) for e in after if e.get("kind") != "train")
        self.folder.trim_logbook(interrupted)
        population = [self._unpack(d) for d in state.population]
        archive = [self._unpack(d) for d in state.archive]
        rng = random.Random()
        rng.setstate(state.rng)
        self.strategy.set_state(state.strategy)
        if saved:
            self.log(
                f"resuming at generation {interrupted}: {state.trained} trained evaluations "
                f"done, {len(replay)} logged after it (replayed, not retrained)"
            )
        start = time.perf_counter() - state.seconds
        while state.trained < self.budget:
            gen = state.generation + 1
            if self._out_of_time(state):
                self.log(
                    f"time budget of {_clock(self.cfg.search.seconds)} spent after "
                    f"{_clock(state.seconds)}: no generation {gen}; stopping the search"
                )
                break
            batch, skipped = self._propose(gen, population, archive, rng, state)
            if not any(c.kind == "train" for c in batch):
                self.log("the space yields no new candidates within the budget rules; stopping")
                break
            self._evaluate(gen, batch, replay, state)
            note = self.strategy.learn(
                [(c.proposal.tag, c.result) for c in batch if c.proposal.tag is not None],
                [c.proposal.tag for c in skipped if c.proposal.tag is not None],
            )
            if note:
                self.log(note)
            born = len(archive)
            new = [self._individual(c, born + i) for i, c in enumerate(batch)]
            archive.extend(new)
            population = self.strategy.select(gen, population, new)
            state.generation = gen
            state.rng = rng.getstate()
            state.population = [self._pack(i) for i in population]
            state.archive = [self._pack(i) for i in archive]
            state.seconds = time.perf_counter() - start
            state.strategy = self.strategy.get_state()
            self._record_generation(gen, archive, state, start)
            self.folder.save_checkpoint(state)
        search_seconds = state.seconds  # the search alone, before the final retraining
        front = _front(archive)
        hv = hypervolume([objectives(i.result) for i in front], self.cfg.search.ref_macs)
        final = run_final(self.cfg, self.folder, self.executor, front, self.log)
        self.folder.write_state(
            "finished",
            trained=state.trained,
            hypervolume=hv,
            seconds=time.perf_counter() - start,
            search_seconds=search_seconds,
            eval_seconds=state.eval_seconds,
            # share of the search's wall time spent outside evaluations: selection, variation,
            # hashing, logging, checkpointing
            overhead=max(0.0, search_seconds - state.eval_seconds) / max(search_seconds, 1e-9),
        )
        return SearchOutcome(front, archive, state.trained, final, hv)

    def _out_of_time(self, state: SearchState) -> bool:
        """Whether another generation, at the mean pace so far, would end past the time budget."""
        limit, done = self.cfg.search.seconds, state.generation + 1
        if limit is None or done == 0:
            return False
        return state.seconds * (done + 1) / done > limit

    # -- proposing candidates --------------------------------------------------------------------
    def _new(
        self,
        p: Proposal,
        rng: random.Random,
        seen: dict[str, _Candidate],
        cache: dict[str, Individual],
    ) -> _Candidate:
        cx = count_complexity(p.arch)
        text = p.arch.to_json()
        h = architecture_hash(p.arch)
        known = cache.get(h) or seen.get(h)
        if known is not None and not same_architecture(p.arch, known.arch):
            # a Weisfeiler-Lehman collision: another network under the same hash must not
            # reuse its result; the content digest tells the two apart
            h = f"{h}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
        c = _Candidate(p.arch, text, h, cx.macs, cx.params, rng.randrange(2**31), p)
        s = self.cfg.search
        if h in cache:
            c.kind, c.result = "cached", cache[h].result
        elif h in seen:
            c.kind = "duplicate"
        elif (s.max_macs is not None and c.macs > s.max_macs) or (
            s.max_params is not None and c.params > s.max_params
        ):
            c.kind = "skipped"
        else:
            seen[h] = c
        return c

    def _propose(
        self,
        gen: int,
        population: list[Individual],
        archive: list[Individual],
        rng: random.Random,
        state: SearchState,
    ) -> tuple[list[_Candidate], list[_Candidate]]:
        """The generation's candidates (to train, cached or duplicates) and its over-budget
        draws (logged as skipped)."""
        size = self.strategy.batch_size(gen)
        want = min(size, self.budget - state.trained)
        cache = {i.hash: i for i in archive}
        proposals = self.strategy.propose(gen, population, rng)
        batch: list[_Candidate] = []
        skipped: list[_Candidate] = []
        seen: dict[str, _Candidate] = {}
        draws = 0
        while sum(c.kind == "train" for c in batch) < want:
            if draws > MAX_DRAWS_PER_SLOT * size:
                break
            draws += 1
            p = next(proposals, None)
            if p is None:  # the space is spent (a grid's last point)
                break
            c = self._new(p, rng, seen, cache)
            if c.kind == "skipped":
                state.skipped += 1
                self._append_once(self._entry(gen, -1, c))
                skipped.append(c)
                continue
            batch.append(c)
        return batch, skipped

    # -- evaluating ------------------------------------------------------------------------------
    def _entry(self, gen: int, index: int, c: _Candidate) -> dict[str, Any]:
        return {
            "generation": gen,
            "index": index,
            "hash": c.hash,
            "kind": c.kind,
            "origin": c.proposal.origin,
            "parents": list(c.proposal.parents),
            "seed": c.seed,
            "result": c.result,
            "time": round(time.time(), 3),
        }

    def _append_once(self, entry: dict[str, Any]) -> None:
        """Log an untrained entry, unless the interrupted run this one resumes logged it."""
        key = _log_key(entry)
        if self._logged[key] > 0:
            self._logged[key] -= 1
        else:
            self.folder.append_evaluation(entry)

    def _evaluate(
        self, gen: int, batch: list[_Candidate], replay: dict, state: SearchState
    ) -> None:
        todo = []
        for i, c in enumerate(batch):
            if c.kind != "train":
                continue
            logged = replay.get((gen, i))
            if logged is not None and logged["hash"] == c.hash and logged["seed"] == c.seed:
                c.result = logged["result"]
                state.trained += 1
            else:
                self.folder.save_architecture(c.hash, c.text)
                task = make_task(c.text, c.seed, self.cfg.proxy, complexity=(c.macs, c.params))
                todo.append((i, task))

        def done(i: int, record: dict[str, Any]) -> None:
            c = batch[i]
            c.result = record
            state.trained += 1
            self.folder.append_evaluation(self._entry(gen, i, c))

        if todo:
            t0 = time.perf_counter()
            self.executor.run(todo, done)
            state.eval_seconds += time.perf_counter() - t0
        firsts = {c.hash: c for c in batch if c.kind == "train"}
        for i, c in enumerate(batch):
            if c.kind == "duplicate":
                c.result = firsts[c.hash].result
            if c.kind in ("duplicate", "cached"):
                state.cached += 1
                self._append_once(self._entry(gen, i, c))

    # -- reporting -------------------------------------------------------------------------------
    def _record_generation(
        self, gen: int, archive: list[Individual], state: SearchState, start: float
    ) -> None:
        front = _front(archive)
        ok = [objectives(i.result)[0] for i in archive]
        hv = hypervolume([objectives(i.result) for i in front], self.cfg.search.ref_macs)
        elapsed = time.perf_counter() - start
        rate = elapsed / max(1, state.trained)
        left = max(0, self.budget - state.trained) * rate
        if self.cfg.search.seconds is not None:  # the clock ends the search first
            left = min(left, max(0.0, self.cfg.search.seconds - elapsed))
        row = {
            "generation": gen,
            "evaluations": len(archive),
            "trained": state.trained,
            "cached": state.cached,
            "skipped": state.skipped,
            "best_accuracy": round(max(ok, default=0.0), 5),
            "front_size": len(front),
            "hypervolume": round(hv, 6),
            "seconds": round(elapsed, 2),
        }
        self.folder.append_logbook(row)
        self.folder.write_json("pareto.json", [self._summary(i) for i in front])
        self.log(
            f"gen {gen:>3} | trained {state.trained:>4}/{self.budget} | best acc "
            f"{row['best_accuracy']:.4f} | front {len(front):>2} | HV {hv:.4f} | "
            f"{_clock(elapsed)} elapsed, ~{_clock(left)} left"
        )

    def _summary(self, ind: Individual) -> dict[str, Any]:
        r = ind.result
        return {
            "hash": ind.hash,
            "accuracy": r.get("accuracy"),
            "split": r.get("split"),
            "macs": r.get("macs"),
            "flops": r.get("flops"),
            "params": r.get("params"),
            "status": r.get("status"),
            "seed": ind.seed,
            "origin": ind.origin,
            "parents": list(ind.parents),
            "architecture": self.folder.arch_ref(ind.hash),
        }


def _generation(entry: dict[str, Any]) -> int:
    g = entry.get("generation")
    return g if isinstance(g, int) else -1


def _log_key(entry: dict[str, Any]) -> tuple:
    return (entry["generation"], entry["index"], entry["hash"], entry["seed"], entry["kind"])


def _front(individuals: list[Individual]) -> list[Individual]:
    """The reported front over (accuracy, MACs), whatever the strategy optimises: each network
    once (a cached duplicate is the same network), of those whose evaluation worked."""
    seen: dict[str, Individual] = {}
    for ind in individuals:
        seen.setdefault(ind.hash, ind)
    ok = [ind for ind in seen.values() if ind.result.get("status") == "ok"]
    return pareto_front(ok, key=lambda i: objectives(i.result))


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
