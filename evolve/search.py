"""The search loop: asynchronous, multi-fidelity, resumable, knowing strategies only by protocol.

Workers never wait for a generation: whenever one is free, the loop gives it the next job,

1. a **promotion** (successive halving, :mod:`evolve.rungs`), when one is due: of the
   candidates done at a rung, the best ``1 / eta`` continue to the next from their weights;
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

Resumption: the state after every finished job (:class:`~evolve.state.SearchState`) is
checkpointed, and every finished job is appended to the log first. A resumed run restarts the
jobs that were in flight, takes the result of any of them that the log holds instead of
training it again, and so, with a deterministic fitness and one worker, ends exactly as an
uninterrupted run would. Every rung that finished is kept. What the search writes about
itself is :mod:`evolve.records`'s.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from evolve.config import EvolveConfig
from evolve.draws import MAX_DRAWS_PER_SLOT, Draws, make_space
from evolve.executors import Executor
from evolve.failures import Failures
from evolve.final import run_final
from evolve.fitness import Individual
from evolve.records import (
    Archive,
    Logged,
    draw_entry,
    finished_fields,
    format_clock,
    front_hypervolume,
    front_of,
    generation_row,
    member_summary,
    progress_line,
    train_entry,
    utilization,
)
from evolve.rungs import Rungs, promotion_order, rung_task
from evolve.state import (
    Candidate,
    SearchOutcome,
    SearchState,
    Track,
    fits,
    out_of_time,
)
from evolve.strategies import Proposal, Strategy, get_strategy
from genesis.runfolder import RunFolder, objectives
from genesis.tracking import Tracker

__all__ = [
    "Search",
    "SearchOutcome",
    "SearchState",
    "format_clock",
    "make_space",
    "promotion_order",
    "utilization",
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
        self.draws = Draws(cfg, folder, self.space)
        self.strategy: Strategy = get_strategy(cfg.search.strategy)(cfg, self.space)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.pool = Archive(folder, self.strategy)  # the archive and the population
        self.tracker = Tracker(folder.path)  # TensorBoard events (genesis.tracking)
        self.failures = Failures()  # what this process saw come back: a warning when most fail
        self._clock_noted = False
        self._proposals: Iterator[Proposal] | None = None  # the current window's proposals
        self._last_generation = 0  # the last generation recorded (the front figure's step)
        self._logged = Logged([], 0)  # untrained entries of the interrupted run, not relogged

    # -- the archive -----------------------------------------------------------------------------
    @property
    def archive(self) -> list[Individual]:
        """Every candidate evaluated, in the order they joined."""
        return self.pool.members

    @property
    def population(self) -> list[Individual]:
        """The strategy's population."""
        return self.pool.population

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> SearchOutcome:
        """Run (or resume) the search, then the final retraining; return the outcome."""
        state, replay = self._open()
        rng = random.Random()
        rng.setstate(state.rng)
        start = time.perf_counter() - state.seconds
        busy0 = self.executor.busy_seconds - state.eval_seconds
        ready: list[tuple[dict[str, Any], dict[str, Any]]] = []  # replayed, not yet taken
        running: dict[int, dict[str, Any]] = {}
        try:
            for job in state.pending:  # restarted (or replayed from the log)
                self._start(job, running, ready, replay)
            while self._fill(state, rng, start, running, ready, replay):
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
        return self._end(state, start)

    def _open(self) -> tuple[SearchState, dict]:
        """The state to start from (a checkpoint's, or a fresh one) with the run folder made
        ready, and the results the log holds past the checkpoint (to replay, not redo)."""
        saved = self.folder.load_checkpoint(SearchState.checked)
        state = saved or SearchState(rng=random.Random(self.cfg.search.seed).getstate())
        self.folder.write_state("running")
        self.folder.repair_log()
        self.folder.remove_stale_temps()
        self.rungs = Rungs(
            self.cfg.proxy.schedule,
            self.cfg.proxy.eta,
            self.strategy.weights,
            self.cfg.search.refs,
            state.tracks,
        )
        if self.rungs.top > 0 and self.cfg.proxy.trains:
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
        self._logged = Logged(logged, state.draws)
        self.folder.trim_logbook(state.logged_generation + 1)
        self.pool.restore(state)
        self.strategy.set_state(state.strategy)
        if saved:
            self.log(
                f"resuming: {state.trained} candidates trained, {state.compute:g} "
                f"epoch-equivalents spent, {len(state.pending)} job(s) to restart"
            )
        return state, replay

    def _fill(self, state, rng, start, running, ready, replay) -> bool:
        """Start jobs until every worker is busy or none may start; whether any is running."""
        while len(running) < self.executor.workers:
            job = self._next_job(state, rng, time.perf_counter() - start)
            if job is None:
                break
            state.pending.append(job)
            self._start(job, running, ready, replay)
        return bool(running)

    def _end(self, state: SearchState, start: float) -> SearchOutcome:
        """Close what is open, write the front, retrain the chosen members, record the run."""
        if self._close_windows(state, force=True):
            self._checkpoint(state)
        if state.exhausted and not state.trained:
            self.log("the space yields no new candidates within the budget rules")
        search_seconds = state.seconds  # the search alone, before the final retraining
        front = self._front()
        # promotions that finished after the last generation closed move the front too
        self.folder.write_json("pareto.json", [member_summary(i, self.folder) for i in front])
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
        self.folder.write_state(
            "finished",
            **finished_fields(
                state,
                self.executor.workers,
                self.cfg.proxy.subset or 0,
                self.rungs.reached(),
                hv,
                time.perf_counter() - start,
                search_seconds,
            ),
        )
        return SearchOutcome(front, self.archive, state.trained, final, hv, state.compute)

    def _checkpoint(self, state: SearchState) -> None:
        state.archived = self.pool.lines
        state.population = self.pool.indices()
        state.strategy = self.strategy.get_state()
        self.folder.save_checkpoint(state)

    # -- choosing the next job -------------------------------------------------------------------
    def _next_job(
        self, state: SearchState, rng: random.Random, elapsed: float
    ) -> dict[str, Any] | None:
        """A promotion when one is due, else a new candidate; None when nothing may start now
        (the budget or the clock is spent, or the strategy waits for results)."""
        promoted = self.rungs.promotion()
        if promoted is not None:
            h, rung = promoted
            if fits(state, self.cfg, rung) and not out_of_time(state, self.cfg, rung, elapsed):
                return self._job(state, h, rung)
        if state.exhausted or not fits(state, self.cfg, 0):
            return None
        if out_of_time(state, self.cfg, 0, elapsed):
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
        c.index = state.draws - 1
        self.rungs.open(c, gen, state.window)
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
        state.tracks[h].busy = True
        return {"id": state.jobs, "hash": h, "rung": rung}

    def _draw(self, state: SearchState, rng: random.Random) -> Candidate | None:
        """The next new candidate to train; cached and duplicate draws join (or are logged) on
        the way, draws over a budget are logged as skipped. None when the space is spent."""
        gen = state.window
        logged_gen = state.started // self.cfg.search.population
        cache = {i.hash: i for i in self.archive}
        training = self.rungs.training()
        if self._proposals is None:  # the window's proposals (again, after a resume)
            self._proposals = self.strategy.propose(gen, self.population, rng)
            if gen == 0 and self.cfg.search.init:  # a warm start opens the first window
                self._proposals = itertools.chain(self.draws.init_proposals(), self._proposals)
        for _ in range(MAX_DRAWS_PER_SLOT * self.cfg.search.population):
            p = next(self._proposals, None)
            if p is None:  # the space is spent (a grid's last point)
                return None
            state.draws += 1
            c = self.draws.candidate(p, rng, cache, training)
            if c.kind == "train":
                return c
            if c.kind == "skipped":
                state.skipped += 1
                if p.tag is not None:
                    state.windows[gen]["skipped"].append(p.tag)
            else:
                state.cached += 1
                if c.kind == "cached":
                    d = {**c.__dict__, "born": len(self.archive)}
                    self.pool.join(gen, self.pool.member(d, c.arch, c.text))
            self._logged.append(self.folder, draw_entry(logged_gen, state.draws - 1, c))
        return None

    # -- running jobs ----------------------------------------------------------------------------
    def _start(self, job: dict[str, Any], running: dict, ready: list, replay: dict) -> None:
        """Start ``job`` on the executor, or take its result from the log when it finished
        before a kill."""
        c, rung = self.rungs.tracks[job["hash"]].cand, job["rung"]
        running[job["id"]] = job
        logged = replay.get((c.hash, c.seed, rung))
        if logged is not None:
            ready.append((job, logged))
            return
        if c.text is not None:
            self.folder.save_architecture(c.hash, c.text)
        self.executor.submit(
            job["id"], rung_task(self.cfg, self.folder, c, self.draws.text(c), rung)
        )

    def _finish(
        self, job: dict[str, Any], record: dict[str, Any], state: SearchState, replay: dict
    ) -> None:
        """Log a finished job and let its result count: the candidate joins (first rung) or
        its record moves up a rung; promotions and windows follow."""
        track, rung = self.rungs.tracks[job["hash"]], job["rung"]
        c = track.cand
        record = self.rungs.record(track, rung, record)
        state.compute += self.cfg.proxy.rung_cost(rung)
        if replay.pop((c.hash, c.seed, rung), None) is None:
            self.folder.append_evaluation(train_entry(track, rung, record))
        score = self.strategy.score(record)  # computed once: the member's and the rung's
        if rung == 0:
            self._joined(track, record, score, state)
        elif record.get("status") == "ok":  # a promoted candidate's record moves up
            self.pool.promote(c.hash, record, score)
        self.rungs.finished(track, rung, record, score)
        if record.get("status") == "ok" and rung > 0:  # the state it went on from is spent
            self.folder.remove_rung_state(c.hash, rung - 1)
        self._close_windows(state)

    def _joined(
        self, track: Track, record: dict[str, Any], score: tuple, state: SearchState
    ) -> None:
        """A candidate's first rung is back: it joins the archive (and the population)."""
        c = track.cand
        state.trained += 1
        self.failures.add(record)
        warning = self.failures.warning()
        if warning:
            self.log(warning)
        ind = Individual(
            self.draws.arch(c),
            c.hash,
            c.seed,
            self.strategy.fitness_cls(score),
            record,
            tuple(c.parents),
            c.origin,
            len(self.archive),
            self.draws.text(c),
        )
        self.pool.join(track.window, ind)
        state.generations[track.generation] -= 1
        window = state.windows[track.window]
        window["open"] -= 1
        if c.tag is not None:
            window["trained"].append((c.tag, record))

    def _close_windows(self, state: SearchState, force: bool = False) -> bool:
        """Windows whose candidates are all back, none still being proposed: the strategy
        learns from them. Generations likewise: the logbook gets their rows. ``force``: the
        search is over, everything closes. Whether anything closed."""
        closed = False
        ended = force or state.exhausted or not fits(state, self.cfg, 0)
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

    # -- what the search reports ------------------------------------------------------------------
    def _record_generation(self, gen: int, state: SearchState) -> None:
        """A generation closed: its logbook row, the front so far, TensorBoard, a line."""
        front = self._front()
        hv = self._hypervolume(front)
        row = generation_row(gen, self.archive, front, hv, state)
        self.folder.append_logbook(row)
        self.folder.write_json("pareto.json", [member_summary(i, self.folder) for i in front])
        self._last_generation = gen
        elapsed, workers = state.seconds, self.executor.workers
        self.tracker.generation(
            gen,
            {
                "hypervolume": hv,
                "best_accuracy": row["best_accuracy"],
                "front_size": len(front),
                "trained": state.trained,
                "compute": state.compute,
                "utilization": utilization(state.eval_seconds, workers, elapsed)
                if elapsed > 0
                else None,
            },
        )
        self.log(progress_line(row, hv, state, self.cfg.search))

    def _front(self) -> list[Individual]:
        """The reported front over (accuracy, *objective) (:func:`~evolve.records.front_of`)."""
        return front_of(self.archive, self.cfg.search.objective)

    def _hypervolume(self, front: list[Individual]) -> float:
        return front_hypervolume(front, self.cfg.search.objective, self.cfg.search.refs)
