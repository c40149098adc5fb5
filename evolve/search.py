"""The search loop: asynchronous, multi-fidelity, resumable, knowing strategies only by protocol.

Workers never wait for a generation: whenever one is free, the loop gives it the next job,

1. a **promotion** (successive halving, ASHA: Li et al. 2020), when one is due: of the
   candidates done at rung ``r``, the best ``1 / eta`` (ranked by the strategy's fitness: by
   non-dominated front, then hypervolume contribution, for (accuracy, *costs)) continue to rung
   ``r + 1`` from their weights and optimizer state (``proxy.rungs``), highest rung first;
2. else a **new candidate** from the run's :class:`~evolve.strategies.Strategy`, at the lowest
   rung. A strategy proposes in windows (``batch_size``: the whole first population, then one
   per worker for evolution, steady-state) and selects on every arrival: its population is
   filled, then each new member goes through its survivor rule at once (steady-state
   insertion).

Cheap first: MACs and params are counted once per candidate, before training, so a candidate
over ``max_macs`` or ``max_params`` is never trained, and an isomorphic duplicate (same
canonical hash, confirmed by an exact isomorphism check) reuses the cached record.

Budgets: ``search.budget`` counts compute, in epoch-equivalents of the proxy's subset (rung
``r`` of a candidate costs ``rungs[r] - rungs[r - 1]``); no job starts that would take the
run past it, so every strategy, multi-fidelity or not, spends the same compute. Without it,
the budget counts candidates (``budget_evals``, or population x (generations + 1)). A
``seconds`` budget starts no job that, at the pace so far, would end past it.

Resumption: the state after every finished job (population, archive, rungs, jobs in flight,
random state, the strategy's own state) is checkpointed, and every finished job is appended to
the log first. A resumed run restarts the jobs that were in flight, takes the result of any of
them that the log holds instead of training it again, and so, with a deterministic fitness and
one worker, ends exactly as an uninterrupted run would. Every rung that finished is kept.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from evolve.config import EvolveConfig
from evolve.evaluate import make_task
from evolve.executors import Executor
from evolve.failures import Failures
from evolve.final import run_final
from evolve.fitness import Individual, hypervolume, sel_nsga2_hypervolume
from evolve.space import SearchSpace
from evolve.strategies import Proposal, Strategy, get_strategy
from evolve.tune import HyperSpace
from genesis import Architecture, architecture_hash, load_architecture
from genesis.complexity import count_complexity
from genesis.fingerprint import same_architecture
from genesis.runfolder import RunFolder, objectives, pareto_front
from genesis.tracking import Tracker

__all__ = [
    "Search",
    "SearchOutcome",
    "SearchState",
    "format_clock",
    "make_space",
    "promotion_order",
]

#: Record keys of the costs measured beside MACs (genesis.cost), kept in every later rung's record.
_MEASURED = ("memory_kb", "latency_ms", "latency_batch_ms", "latency_batch", "latency_device")

#: Draws that are duplicates or over a budget tolerated, per member of the population, before
#: the search takes the space to be spent.
MAX_DRAWS_PER_SLOT = 25


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
    population: list[Any] = field(default_factory=list)  # indices into archive
    archive: list[dict[str, Any]] = field(default_factory=list)  # every one evaluated, packed
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
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)  # hash -> rung progress
    windows: dict[int, dict[str, Any]] = field(default_factory=dict)  # open windows
    # open generations (population-sized groups of candidates, by start order): how many of
    # each are still training their first rung
    generations: dict[int, int] = field(default_factory=dict)
    logged_generation: int = -1  # the last generation whose logbook row is written
    exhausted: bool = False  # the space yields no new candidates

    @classmethod
    def checked(cls, obj: Any) -> SearchState:
        """``obj`` from a checkpoint as a state; a checkpoint of genesis 0.1's dict form, or of
        0.2's generation-by-generation search, is converted, anything else refused."""
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
        return obj


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
    memory_kb: float | None = None  # peak inference memory (genesis.cost), when measured
    reason: str | None = None  # why it is skipped: the cap it is over


def make_space(cfg: EvolveConfig, folder: RunFolder) -> SearchSpace | HyperSpace:
    """The space a run searches: architectures, or one fixed architecture's hyperparameters."""
    if cfg.tune.architecture:
        return HyperSpace(load_architecture(folder.path / cfg.tune.architecture), cfg.tune)
    return SearchSpace(cfg.space)


def promotion_order(
    scores: list[tuple[float, ...]], weights: tuple[float, ...], ref: float | tuple[float, ...]
) -> list[int]:
    """Indices of ``scores`` (fitness values of the candidates done at one rung), best first.

    One objective: by weighted value (ties: the earlier first). Accuracy x costs (``ref``: the
    reference of each cost): by non-dominated front, then exclusive hypervolume contribution
    within the front (SMS-EMOA's order, :func:`~evolve.fitness.sel_nsga2_hypervolume`), so the
    cheap end of the front is promoted too, not only the most accurate candidates.

    Examples
    --------
    >>> promotion_order([(0.7, 1e6), (0.9, 9e6), (0.6, 2e6)], (1.0, -1.0), 10e6)  # cheap end first
    [0, 1, 2]
    >>> promotion_order([(0.5,), (0.8,), (0.6,)], (1.0,), 10e6)
    [1, 2, 0]
    """
    if len(weights) == 1:
        return sorted(range(len(scores)), key=lambda i: (-weights[0] * scores[i][0], i))
    from evolve.fitness import make_fitness_class

    fit = make_fitness_class(weights)

    class _Scored:
        def __init__(self, i: int):
            self.i, self.fitness = i, fit(scores[i])

    ranked = sel_nsga2_hypervolume([_Scored(i) for i in range(len(scores))], len(scores), ref)
    return [
        s.i
        for s in sorted(
            ranked, key=lambda s: (s.fitness.rank, -s.fitness.contribution, -scores[s.i][0], s.i)
        )
    ]


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
        self.schedule = cfg.proxy.schedule
        self.top = len(self.schedule) - 1
        self._logged: Counter = Counter()  # entries of the interrupted run not to log again
        self.archive: list[Individual] = []
        self.population: list[Individual] = []
        self.tracks: dict[str, dict[str, Any]] = {}  # the state's: hash -> rung progress
        self._clock_noted = False
        self._proposals: Any = None  # the current window's proposal generator
        self.tracker = Tracker(folder.path)  # TensorBoard events (genesis.tracking)
        self._last_generation = 0  # the last generation recorded (the front figure's step)
        self._memory: dict[str, float] = {}  # hash -> peak inference memory (KiB)
        self.failures = Failures()  # what this process saw come back: a warning when most fail

    # -- budgets ---------------------------------------------------------------------------------
    def _fits(self, state: SearchState, rung: int) -> bool:
        """Whether a job to ``rung`` may start within the compute or count budget."""
        s = self.cfg.search
        if s.budget is not None:
            return state.committed + self.cfg.proxy.rung_cost(rung) <= s.budget + 1e-9
        return rung > 0 or state.started < s.evaluations

    def _out_of_time(self, state: SearchState, rung: int, elapsed: float) -> bool:
        """Whether a job to ``rung``, at the pace of the jobs so far, would end past the time
        budget."""
        limit = self.cfg.search.seconds
        if limit is None or state.compute <= 0:
            return False
        per_epoch = state.eval_seconds / state.compute  # busy seconds per epoch-equivalent
        return elapsed + per_epoch * self.cfg.proxy.rung_cost(rung) > limit

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

    def _join(self, gen: int, ind: Individual) -> None:
        """``ind`` joins the archive and, through the strategy's survivor rule, the population
        (filled first, then steady-state)."""
        self.archive.append(ind)
        self.population = self.strategy.select(gen, self.population, [ind])

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> SearchOutcome:
        """Run (or resume) the search, then the final retraining; return the outcome."""
        saved = self.folder.load_checkpoint(SearchState.checked)
        state = saved or SearchState(rng=random.Random(self.cfg.search.seed).getstate())
        self.folder.write_state("running")
        self.folder.repair_log()
        self.folder.remove_stale_temps()
        if self.top > 0 and self.cfg.proxy.fitness != "synthetic":
            (self.folder.path / "rungs").mkdir(exist_ok=True)  # where rungs leave their states
        logged = self.folder.read_evaluations()
        # What the log holds past the checkpoint is replayed, not redone: results of the jobs
        # that were in flight, and entries of draws made since (when an older checkpoint stands
        # in for a damaged one, or none for a deleted one, everything after it).
        replay = {
            (e["hash"], e["seed"], e.get("rung", 0)): e["result"]
            for e in logged
            if e.get("kind") == "train"
        }
        self._logged = Counter(
            _log_key(e) for e in logged if e.get("kind") != "train" and _index(e) >= state.draws
        )
        self.folder.trim_logbook(state.logged_generation + 1)
        self.tracks = state.tracks
        self.archive = [self._unpack(d) for d in state.archive]
        self.population = [self.archive[i] for i in state.population]
        rng = random.Random()
        rng.setstate(state.rng)
        self.strategy.set_state(state.strategy)
        if saved:
            self.log(
                f"resuming: {state.trained} candidates trained, {state.compute:g} "
                f"epoch-equivalents spent, {len(state.pending)} job(s) to restart"
            )
        start = time.perf_counter() - state.seconds
        busy0 = self.executor.busy_seconds - state.eval_seconds
        ready: list[tuple[dict[str, Any], dict[str, Any]]] = []  # replayed, not yet taken
        running: dict[int, dict[str, Any]] = {}
        try:
            for job in state.pending:  # restarted (or replayed from the log)
                self._start(job, running, ready, replay)
            while True:
                while len(running) < self.executor.workers:
                    job = self._next_job(state, rng, time.perf_counter() - start)
                    if job is None:
                        break
                    state.pending.append(job)
                    self._start(job, running, ready, replay)
                if not running:
                    break
                if ready:
                    job, record = ready.pop(0)
                    running.pop(job["id"])
                else:
                    key, record = self.executor.next_result()
                    job = running.pop(key)
                state.eval_seconds = self.executor.busy_seconds - busy0
                state.seconds = time.perf_counter() - start
                self._finish(job, record, state, replay)
                state.pending = [j for j in state.pending if j["id"] != job["id"]]
                state.rng = rng.getstate()
                state.seconds = time.perf_counter() - start
                self._checkpoint(state)
        except BaseException:
            self.executor.abort()
            raise
        if self._close_windows(state, force=True):
            self._checkpoint(state)
        if state.exhausted and not state.trained:
            self.log("the space yields no new candidates within the budget rules")
        search_seconds = state.seconds  # the search alone, before the final retraining
        front = self._front()
        # promotions that finished after the last generation closed move the front too
        self.folder.write_json("pareto.json", [self._summary(i) for i in front])
        hv = self._hypervolume(front)
        costs = self.cfg.search.objective
        self.tracker.front(
            self._last_generation,
            [objectives(i.result, costs) for i in self.archive if i.result.get("status") == "ok"],
            [objectives(i.result, costs) for i in front],
            costs,
        )
        final = run_final(
            self.cfg, self.folder, self.executor, front, self.log, tracker=self.tracker
        )
        self.tracker.close()
        workers = self.executor.workers
        self.folder.write_state(
            "finished",
            trained=state.trained,
            jobs=state.jobs,
            compute=round(state.compute, 6),  # epoch-equivalents of the proxy subset
            compute_examples=round(state.compute * self._subset_size()),
            promoted=self._promotions(state),
            hypervolume=hv,
            seconds=time.perf_counter() - start,
            search_seconds=search_seconds,
            eval_seconds=state.eval_seconds,
            workers=workers,
            # busy seconds / (workers x wall seconds) of the search
            utilization=utilization(state.eval_seconds, workers, search_seconds),
            # share of the search's wall time spent outside evaluations: selection, variation,
            # hashing, logging, checkpointing
            overhead=max(0.0, search_seconds - state.eval_seconds / max(1, workers))
            / max(search_seconds, 1e-9),
        )
        return SearchOutcome(front, self.archive, state.trained, final, hv, state.compute)

    def _checkpoint(self, state: SearchState) -> None:
        index = {id(ind): i for i, ind in enumerate(self.archive)}
        state.archive = [self._pack(i) for i in self.archive]
        state.population = [index[id(i)] for i in self.population]
        state.strategy = self.strategy.get_state()
        self.folder.save_checkpoint(state)

    def _subset_size(self) -> int:
        subset = self.cfg.proxy.subset
        return subset if subset is not None else 0

    def _promotions(self, state: SearchState) -> list[int]:
        """How many candidates reached each rung."""
        return [
            sum(1 for t in state.tracks.values() if t["rung"] >= r) for r in range(self.top + 1)
        ]

    # -- choosing the next job -------------------------------------------------------------------
    def _next_job(
        self, state: SearchState, rng: random.Random, elapsed: float
    ) -> dict[str, Any] | None:
        """A promotion when one is due, else a new candidate; None when nothing may start now
        (the budget or the clock is spent, or the strategy waits for results)."""
        promoted = self._promotion(state)
        if promoted is not None:
            h, rung = promoted
            if self._fits(state, rung) and not self._out_of_time(state, rung, elapsed):
                return self._job(state, h, rung)
        if state.exhausted or not self._fits(state, 0):
            return None
        if self._out_of_time(state, 0, elapsed):
            if not self._clock_noted:
                self._clock_noted = True
                self.log(
                    f"time budget of {format_clock(self.cfg.search.seconds or 0)} reached after "
                    f"{format_clock(elapsed)}: no new job starts; finishing those running"
                )
            return None
        if state.window < 0 or state.in_window >= self.strategy.batch_size(state.window):
            if state.window >= 0 and not self._ready(state):
                return None  # the first population is still being evaluated
            state.window += 1
            state.in_window = 0
            state.windows[state.window] = {"open": 0, "trained": [], "skipped": []}
            self._proposals = None
        c = self._draw(state, rng)
        if c is None:
            state.exhausted = True
            self.log("the space yields no new candidates within the budget rules; stopping")
            return None
        gen = state.started // self.cfg.search.population  # its generation, by start order
        state.tracks[c.hash] = {
            "rung": -1,  # the highest rung finished
            "scores": [],  # fitness values at each rung finished
            "curve": [],  # accuracy at each rung finished
            "busy": False,
            "stopped": False,
            "generation": gen,
            "window": state.window,
            "cand": {
                "arch": c.text,
                "hash": c.hash,
                "seed": c.seed,
                "macs": c.macs,
                "params": c.params,
                "memory_kb": c.memory_kb,
                "parents": list(c.proposal.parents),
                "origin": c.proposal.origin,
                "tag": c.proposal.tag,
                "index": state.draws - 1,
            },
        }
        state.in_window += 1
        state.started += 1
        state.windows[state.window]["open"] += 1
        state.generations[gen] = state.generations.get(gen, 0) + 1
        return self._job(state, c.hash, 0)

    def _ready(self, state: SearchState) -> bool:
        """Whether offspring may be bred: the population is full, or the first window done."""
        first = state.windows.get(0)
        return len(self.population) >= self.cfg.search.population or (
            first is not None and first["open"] == 0
        )

    def _job(self, state: SearchState, h: str, rung: int) -> dict[str, Any]:
        state.jobs += 1
        state.committed += self.cfg.proxy.rung_cost(rung)
        state.tracks[h]["busy"] = True
        return {"id": state.jobs, "hash": h, "rung": rung}

    def _promotion(self, state: SearchState) -> tuple[str, int] | None:
        """ASHA's rule: the first candidate, from the highest rung down, in the top ``1 / eta``
        of those done at its rung and not yet gone on."""
        eta = self.cfg.proxy.eta
        for r in range(self.top - 1, -1, -1):
            done = [
                (h, t) for h, t in state.tracks.items() if t["rung"] >= r and len(t["scores"]) > r
            ]
            k = len(done) // eta
            if k == 0:
                continue
            order = promotion_order(
                [tuple(t["scores"][r]) for _, t in done],
                self.strategy.weights,
                self.cfg.search.refs,
            )
            for i in order[:k]:
                h, t = done[i]
                if t["rung"] == r and not t["busy"] and not t["stopped"]:
                    return h, r + 1
        return None

    def _draw(self, state: SearchState, rng: random.Random) -> _Candidate | None:
        """The next new candidate to train; cached and duplicate draws join (or are logged) on
        the way, draws over a budget are logged as skipped. None when the space is spent."""
        gen = state.window
        logged_gen = state.started // self.cfg.search.population
        cache = {i.hash: i for i in self.archive}
        # candidates still training their first rung: a copy of one waits for nothing
        training = {h: t["cand"]["arch"] for h, t in state.tracks.items() if t["rung"] < 0}
        if self._proposals is None:  # the window's proposals (again, after a resume)
            self._proposals = self.strategy.propose(gen, self.population, rng)
            if gen == 0 and self.cfg.search.init:  # a warm start opens the first window
                self._proposals = itertools.chain(self._init_proposals(), self._proposals)
        for _ in range(MAX_DRAWS_PER_SLOT * self.cfg.search.population):
            p = next(self._proposals, None)
            if p is None:  # the space is spent (a grid's last point)
                return None
            state.draws += 1
            c = self._new(p, rng, cache, training)
            if c.kind == "train":
                return c
            if c.kind == "skipped":
                state.skipped += 1
                if p.tag is not None:
                    state.windows[gen]["skipped"].append(p.tag)
            else:
                state.cached += 1
                if c.kind == "cached":
                    self._join(gen, self._individual(c, len(self.archive)))
            self._append_once(self._entry(logged_gen, state.draws - 1, c))
        return None

    def _init_proposals(self) -> Iterator[Proposal]:
        """The warm start's architectures, in the config's order (origin ``init``)."""
        for h in self.cfg.search.init:
            yield Proposal(load_architecture(self.folder.arch_path(h)), origin="init")

    def _new(
        self,
        p: Proposal,
        rng: random.Random,
        cache: dict[str, Individual],
        training: dict[str, str | Architecture],
    ) -> _Candidate:
        """The candidate of proposal ``p``: to train, cached (evaluated before), a duplicate
        (of one still training) or skipped (over a budget)."""
        cx = count_complexity(p.arch)
        text = p.arch.to_json()
        h = architecture_hash(p.arch)
        known = cache[h].arch if h in cache else training.get(h)
        if isinstance(known, str):
            known = training[h] = Architecture.from_json(known)
        if known is not None and not same_architecture(p.arch, known):
            # a Weisfeiler-Lehman collision: another network under the same hash must not
            # reuse its result; the content digest tells the two apart
            h = f"{h}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
        c = _Candidate(p.arch, text, h, cx.macs, cx.params, rng.randrange(2**31), p)
        s = self.cfg.search
        if h in cache:
            c.kind, c.result = "cached", cache[h].result
        elif h in training:
            c.kind = "duplicate"
        elif s.max_macs is not None and c.macs > s.max_macs:
            c.kind, c.reason = "skipped", f"macs {c.macs} > max_macs {s.max_macs:g}"
        elif s.max_params is not None and c.params > s.max_params:
            c.kind, c.reason = "skipped", f"params {c.params} > max_params {s.max_params}"
        elif s.measures("memory"):  # traced once per architecture (genesis.cost.peak_memory)
            if h not in self._memory:
                from genesis.cost import peak_memory

                self._memory[h] = round(peak_memory(p.arch).kb, 3)
            c.memory_kb = self._memory[h]
            if s.max_memory_kb is not None and c.memory_kb > s.max_memory_kb:
                c.kind = "skipped"
                c.reason = f"memory_kb {c.memory_kb:g} > max_memory_kb {s.max_memory_kb:g}"
        return c

    # -- running jobs ----------------------------------------------------------------------------
    def _start(self, job: dict[str, Any], running: dict, ready: list, replay: dict) -> None:
        """Start ``job`` on the executor, or take its result from the log when it finished
        before a kill."""
        track = self._track_of(job)
        cand, rung = track["cand"], job["rung"]
        running[job["id"]] = job
        logged = replay.get((cand["hash"], cand["seed"], rung))
        if logged is not None:
            ready.append((job, logged))
            return
        self.folder.save_architecture(cand["hash"], cand["arch"])
        self.executor.submit(job["id"], self._task(cand, rung))

    def _track_of(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.tracks[job["hash"]]

    def _task(self, cand: dict[str, Any], rung: int) -> dict[str, Any]:
        proxy = self.cfg.proxy
        real = proxy.fitness != "synthetic"
        task = make_task(
            cand["arch"],
            cand["seed"],
            proxy,
            complexity=(cand["macs"], cand["params"]),
            epochs=self.schedule[rung] if rung == 0 else proxy.rung_cost(rung),
        )
        s = self.cfg.search
        if rung == 0 and s.measures("latency"):  # measured where it trains, before it trains
            task["latency"] = {"batch": s.latency_batch, "max_ms": s.max_latency_ms}
        if self.top > 0:
            task["rung"] = {"index": rung, "epochs": self.schedule[rung], "top": self.schedule[-1]}
            if real and rung > 0:
                task["resume_path"] = str(
                    self.folder.path / self.folder.rung_ref(cand["hash"], rung - 1)
                )
            if real and rung < self.top:
                task["state_path"] = str(
                    self.folder.path / self.folder.rung_ref(cand["hash"], rung)
                )
        return task

    def _finish(
        self, job: dict[str, Any], record: dict[str, Any], state: SearchState, replay: dict
    ) -> None:
        """Log a finished job and let its result count: the candidate joins (first rung) or
        its record moves up a rung; promotions and windows follow."""
        track = self._track_of(job)
        cand, rung, gen = track["cand"], job["rung"], track["generation"]
        track["busy"] = False
        ok = record.get("status") == "ok"
        if cand.get("memory_kb") is not None:
            record = {**record, "memory_kb": cand["memory_kb"]}
        if rung == 0:  # measured once, before the first rung: every later record keeps them
            track["costs"] = {k: record[k] for k in _MEASURED if record.get(k) is not None}
        else:
            record = {**track.get("costs", {}), **record}
        if self.top > 0:
            record = {
                **record,
                "rung": rung,
                "rung_epochs": self.schedule[rung],
                "curve": track["curve"] + [record.get("accuracy")],
            }
        state.compute += self.cfg.proxy.rung_cost(rung)
        entry = {
            "generation": gen,
            "index": cand["index"],
            "hash": cand["hash"],
            "kind": "train",
            "rung": rung,
            "origin": cand["origin"],
            "parents": cand["parents"],
            "seed": cand["seed"],
            "result": record,
            "time": round(time.time(), 3),
        }
        if replay.pop((cand["hash"], cand["seed"], rung), None) is None:
            self.folder.append_evaluation(entry)
        if rung == 0:
            state.trained += 1
            self.failures.add(record)
            warning = self.failures.warning()
            if warning:
                self.log(warning)
            ind = Individual(
                Architecture.from_json(cand["arch"]),
                cand["hash"],
                cand["seed"],
                self.strategy.fitness_cls(self.strategy.score(record)),
                record,
                tuple(cand["parents"]),
                cand["origin"],
                len(self.archive),
                cand["arch"],
            )
            self._join(track["window"], ind)
            state.generations[gen] -= 1
            window = state.windows[track["window"]]
            window["open"] -= 1
            if cand["tag"] is not None:
                window["trained"].append((cand["tag"], record))
        elif ok:  # a promoted candidate's record moves up; every copy of it sees the new one
            fit = self.strategy.score(record)
            for ind in self.archive:
                if ind.hash == cand["hash"]:
                    ind.result = record
                    ind.fitness.values = fit
        if ok:
            track["rung"] = rung
            track["scores"].append(list(self.strategy.score(record)))
            track["curve"].append(record.get("accuracy"))
            if rung > 0:  # the state it continued from is no longer needed
                self.folder.remove_rung_state(cand["hash"], rung - 1)
        else:
            track["stopped"] = True
            if rung == 0:
                track["rung"] = 0
        self._close_windows(state)

    def _close_windows(self, state: SearchState, force: bool = False) -> bool:
        """Windows whose candidates are all back, none still being proposed: the strategy
        learns from them. Generations likewise: the logbook gets their rows. ``force``: the
        search is over, everything closes. Whether anything closed."""
        closed = False
        ended = force or state.exhausted or not self._fits(state, 0)
        for w in sorted(state.windows):
            window = state.windows[w]
            full = w < state.window or state.in_window >= self.strategy.batch_size(w)
            if window["open"] > 0 or not (full or ended):
                break
            note = self.strategy.learn(window["trained"], window["skipped"])
            if note:
                self.log(note)
            del state.windows[w]
            closed = True
        size = self.cfg.search.population
        for g in sorted(state.generations):
            full = state.started >= (g + 1) * size
            if state.generations[g] > 0 or not (full or ended):
                break
            del state.generations[g]
            self._record_generation(g, state)
            state.logged_generation = g
            closed = True
        return closed

    # -- logging ---------------------------------------------------------------------------------
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
            **({"reason": c.reason} if c.reason else {}),
        }

    def _append_once(self, entry: dict[str, Any]) -> None:
        """Log an untrained entry, unless the interrupted run this one resumes logged it."""
        key = _log_key(entry)
        if self._logged[key] > 0:
            self._logged[key] -= 1
        else:
            self.folder.append_evaluation(entry)

    def _record_generation(self, gen: int, state: SearchState) -> None:
        front = self._front()
        ok = [objectives(i.result)[0] for i in self.archive]
        hv = self._hypervolume(front)
        elapsed = state.seconds
        s = self.cfg.search
        if s.budget is not None:
            done, total, unit = state.compute, s.budget, "epochs"
        else:
            done, total, unit = state.started, s.evaluations, "trained"
        rate = elapsed / max(done, 1e-9)
        left = max(0.0, total - done) * rate
        if s.seconds is not None:  # the clock ends the search first
            left = min(left, max(0.0, s.seconds - elapsed))
        row = {
            "generation": gen,
            "evaluations": len(self.archive),
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
        self._last_generation = gen
        self.tracker.generation(
            gen,
            {
                "hypervolume": hv,
                "best_accuracy": row["best_accuracy"],
                "front_size": len(front),
                "trained": state.trained,
                "compute": state.compute,
                "utilization": utilization(state.eval_seconds, self.executor.workers, elapsed)
                if elapsed > 0
                else None,
            },
        )
        self.log(
            f"gen {gen:>3} | {unit} {done:>4g}/{total:g} | best acc "
            f"{row['best_accuracy']:.4f} | front {len(front):>2} | HV {hv:.4f} | "
            f"{format_clock(elapsed)} elapsed, ~{format_clock(left)} left"
        )

    def _front(self) -> list[Individual]:
        """The reported front over (accuracy, *search.objective), whatever the strategy
        optimises: each network once (a cached duplicate is the same network), of those whose
        evaluation worked, each at the highest rung it reached."""
        seen: dict[str, Individual] = {}
        for ind in self.archive:
            seen.setdefault(ind.hash, ind)
        ok = [ind for ind in seen.values() if ind.result.get("status") == "ok"]
        costs = self.cfg.search.objective
        return pareto_front(ok, key=lambda i: objectives(i.result, costs))

    def _hypervolume(self, front: list[Individual]) -> float:
        s = self.cfg.search
        return hypervolume([objectives(i.result, s.objective) for i in front], s.refs)

    def _summary(self, ind: Individual) -> dict[str, Any]:
        r = ind.result
        return {
            "hash": ind.hash,
            "accuracy": r.get("accuracy"),
            "split": r.get("split"),
            "macs": r.get("macs"),
            "flops": r.get("flops"),
            "params": r.get("params"),
            **{k: r[k] for k in _MEASURED if r.get(k) is not None},
            "status": r.get("status"),
            "rung": r.get("rung"),
            "seed": ind.seed,
            "origin": ind.origin,
            "parents": list(ind.parents),
            "architecture": self.folder.arch_ref(ind.hash),
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


def _index(entry: dict[str, Any]) -> int:
    i = entry.get("index")
    return i if isinstance(i, int) else -1


def _log_key(entry: dict[str, Any]) -> tuple:
    return (entry["generation"], entry["index"], entry["hash"], entry["seed"], entry["kind"])


def format_clock(seconds: float) -> str:
    """``75`` -> ``1m15s``, ``9`` -> ``9s`` (progress lines of searches and studies)."""
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
