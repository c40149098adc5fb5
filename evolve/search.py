"""The search loop: DEAP strategies over accuracy x MACs, resumable generation by generation.

Strategies (all spend the same budget: a number of *trained* evaluations):

- ``nsga2`` (default): maximise validation accuracy and minimise MACs. Non-dominated sorting
  keeps the population (Deb et al. 2002; NSGA-Net); within a front, members are ranked by
  their exclusive hypervolume contribution against the run's reference point (SMS-EMOA,
  Beume et al. 2007; ``diversity = "hypervolume"``, the default) or by crowding distance
  (DEAP's ``selNSGA2`` and ``selTournamentDCD``, ``diversity = "crowding"``). Binary
  tournaments on (rank, that criterion) pick the parents.
- ``constrained``: one score, accuracy under a hard MAC budget or MnasNet's soft
  ``acc * (macs / target) ** w``; elitist (mu + lambda) with tournament parents.
- ``regularized``: aging evolution (Real et al. 2019): a tournament of ``sample_size`` picks a
  parent, its mutated child joins, the oldest member leaves.
- ``random``: RandWire-style sampling from the space, the baseline every strategy is measured
  against.

Cheap first: MACs and params are known before training, so a candidate over ``max_macs`` or
``max_params`` is never trained, and an isomorphic duplicate (same canonical hash) reuses the
cached record. A ``time_budget`` stops the search before a generation that would end past it.

Resumption: the state after every generation (population, archive, random state) is
checkpointed; every finished evaluation is appended to the log at once. A resumed run
regenerates the interrupted generation from the checkpointed random state, reuses the logged
records of the candidates already evaluated, and so, with a deterministic fitness, ends exactly
as an uninterrupted run would.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deap import tools

from evolve.config import EvolveConfig
from evolve.evaluate import make_task
from evolve.executors import Executor
from evolve.fitness import (
    Individual,
    constrained_score,
    hypervolume,
    make_fitness_class,
    objectives,
    pareto_front,
    sel_nsga2_hypervolume,
)
from evolve.runfolder import RunFolder
from evolve.space import SearchSpace
from evolve.tune import HyperSpace
from genesis import Architecture, GenesisError, architecture_hash, load_architecture
from genesis.complexity import count_complexity

__all__ = ["Search", "SearchOutcome", "select_final"]

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
class _Candidate:
    arch: Architecture
    hash: str
    seed: int
    parents: tuple[str, ...]
    origin: str
    kind: str = "train"  # train | cached | duplicate | skipped
    result: dict[str, Any] | None = None
    decisions: Any = None  # rl: the controller's decisions behind it


class Search:
    """One search run over a run folder (see :mod:`evolve.runfolder`)."""

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
        if cfg.tune.architecture:  # hyperparameter search of one fixed architecture
            base = load_architecture(folder.path / cfg.tune.architecture)
            self.space = HyperSpace(base, cfg.tune)
        else:
            self.space = SearchSpace(cfg.space)
        self.controller = None
        if cfg.search.strategy == "rl":
            from evolve.controller import Controller

            self.controller = Controller(self.space, seed=cfg.search.seed)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        scalar = cfg.search.strategy in ("constrained", "regularized", "rl")
        self.fitness_cls = make_fitness_class((1.0,) if scalar else (1.0, -1.0))
        self.budget = cfg.search.evaluations
        self._last_decisions = None  # rl: decisions behind the candidate being made
        self._skipped_decisions: list = []  # rl: decisions of over-budget draws (reward 0)
        self._logged: Counter = Counter()  # entries of the interrupted generation not to relog

    # -- fitness ---------------------------------------------------------------------------------
    def _score(self, result: dict[str, Any]) -> tuple[float, ...]:
        s = self.cfg.search
        if s.strategy in ("constrained", "regularized", "rl"):
            return (constrained_score(result, s.max_macs, s.target_macs, s.penalty),)
        if result.get("status") != "ok":  # dominated by every working candidate, cheap or not
            return (0.0, float("inf"))
        return objectives(result)

    def _individual(self, c: _Candidate, born: int) -> Individual:
        fit = self.fitness_cls(self._score(c.result))
        return Individual(c.arch, c.hash, c.seed, fit, c.result, c.parents, c.origin, born)

    # -- state -----------------------------------------------------------------------------------
    def _fresh_state(self) -> dict[str, Any]:
        rng = random.Random(self.cfg.search.seed)
        return {
            "generation": -1,
            "rng": rng.getstate(),
            "population": [],
            "archive": [],
            "trained": 0,
            "cached": 0,
            "skipped": 0,
            "seconds": 0.0,
            "eval_seconds": 0.0,
            "proposed": 0,  # grid points handed out so far
            "controller": None,  # rl: the controller's whole state
        }

    @staticmethod
    def _pack(ind: Individual) -> dict[str, Any]:
        return {
            "arch": ind.arch.to_json(indent=None),
            "hash": ind.hash,
            "seed": ind.seed,
            "result": ind.result,
            "parents": list(ind.parents),
            "origin": ind.origin,
            "born": ind.born,
        }

    def _unpack(self, d: dict[str, Any]) -> Individual:
        c = _Candidate(
            Architecture.from_json(d["arch"]),
            d["hash"],
            d["seed"],
            tuple(d["parents"]),
            d["origin"],
            result=d["result"],
        )
        return self._individual(c, d["born"])

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> SearchOutcome:
        """Run (or resume) the search, then the final retraining; return the outcome."""
        saved = self.folder.load_checkpoint()
        state = saved or self._fresh_state()
        self.folder.write_state("running")
        self.folder.repair_log()
        replay = self._replay(state["generation"] + 1)
        self._logged = Counter(
            _log_key(e)
            for e in self.folder.read_evaluations()
            if e.get("generation") == state["generation"] + 1 and e.get("kind") != "train"
        )
        self.folder.trim_logbook(state["generation"] + 1)
        population = [self._unpack(d) for d in state["population"]]
        archive = [self._unpack(d) for d in state["archive"]]
        rng = random.Random()
        rng.setstate(state["rng"])
        if self.controller is not None and state.get("controller") is not None:
            self.controller.set_state(state["controller"])
        if saved:
            self.log(
                f"resuming at generation {state['generation'] + 1}: {state['trained']} "
                f"trained evaluations done, {len(replay)} logged in the interrupted one"
            )
        start = time.perf_counter() - state["seconds"]
        while state["trained"] < self.budget:
            gen = state["generation"] + 1
            if self._out_of_time(state):
                self.log(
                    f"time budget of {_clock(self.cfg.search.time_budget)} spent after "
                    f"{_clock(state['seconds'])}: no generation {gen}; stopping the search"
                )
                break
            batch = self._propose(gen, population, archive, rng, state)
            if not any(c.kind == "train" for c in batch):
                self.log("the space yields no new candidates within the budget rules; stopping")
                break
            self._evaluate(gen, batch, replay, state)
            if self.controller is not None:
                self._learn(batch, state)
            born = len(archive)
            new = [
                self._individual(c, born + i) for i, c in enumerate(batch) if c.kind != "skipped"
            ]
            archive.extend(new)
            population = self._select(gen, population, new)
            state.update(
                generation=gen,
                rng=rng.getstate(),
                population=[self._pack(i) for i in population],
                archive=[self._pack(i) for i in archive],
                seconds=time.perf_counter() - start,
            )
            self._record_generation(gen, archive, state, start)
            self.folder.save_checkpoint(state)
        search_seconds = state["seconds"]  # the search alone, before the final retraining
        front = pareto_front(self._as_objectives(_front_candidates(archive)))
        hv = hypervolume([objectives(i.result) for i in front], self.cfg.search.ref_macs)
        final = self._final(front)
        self.folder.write_state(
            "finished",
            trained=state["trained"],
            hypervolume=hv,
            seconds=time.perf_counter() - start,
            search_seconds=search_seconds,
            eval_seconds=state["eval_seconds"],
            # share of the search's wall time spent outside evaluations: selection, variation,
            # hashing, logging, checkpointing
            overhead=max(0.0, search_seconds - state["eval_seconds"]) / max(search_seconds, 1e-9),
        )
        return SearchOutcome(front, archive, state["trained"], final, hv)

    def _out_of_time(self, state: dict[str, Any]) -> bool:
        """Whether another generation, at the mean pace so far, would end past the time budget."""
        limit, done = self.cfg.search.time_budget, state["generation"] + 1
        if limit is None or done == 0:
            return False
        return state["seconds"] * (done + 1) / done > limit

    # -- proposing candidates --------------------------------------------------------------------
    def _new(
        self,
        arch: Architecture,
        rng: random.Random,
        parents: tuple[str, ...],
        origin: str,
        seen: dict[str, Any],
        cache: dict[str, dict],
    ) -> _Candidate:
        h = architecture_hash(arch)
        c = _Candidate(arch, h, rng.randrange(2**31), parents, origin)
        if h in cache:
            c.kind, c.result = "cached", cache[h]
        elif h in seen:
            c.kind = "duplicate"
        elif self._over_budget(arch):
            c.kind = "skipped"
        else:
            seen[h] = c
        return c

    def _over_budget(self, arch: Architecture) -> bool:
        s = self.cfg.search
        if s.max_macs is None and s.max_params is None:
            return False
        cx = count_complexity(arch)
        return (s.max_macs is not None and cx.macs > s.max_macs) or (
            s.max_params is not None and cx.params > s.max_params
        )

    def _propose(
        self,
        gen: int,
        population: list[Individual],
        archive: list[Individual],
        rng: random.Random,
        state: dict[str, Any],
    ) -> list[_Candidate]:
        s = self.cfg.search
        remaining = self.budget - state["trained"]
        cache = {i.hash: i.result for i in archive}
        if s.strategy == "grid":
            size = s.population
            make = lambda: self._grid_point(state)  # noqa: E731
        elif s.strategy == "rl":
            size = s.population
            make = lambda: self._controller_child(rng)  # noqa: E731
        elif gen == 0 or s.strategy == "random":
            size = s.population
            make = lambda: (self.space.sample(rng), (), "sample")  # noqa: E731
        elif s.strategy == "regularized":
            size = max(1, self.cfg.execution.workers)
            make = lambda: self._aging_child(population, rng)  # noqa: E731
        else:
            size = s.population
            parents = self._parents(population, rng)
            make = lambda: self._offspring(parents, rng)  # noqa: E731
        batch: list[_Candidate] = []
        seen: dict[str, Any] = {}
        draws = 0
        while sum(c.kind == "train" for c in batch) < min(size, remaining):
            if draws > MAX_DRAWS_PER_SLOT * size:
                break
            draws += 1
            made = make()
            if made is None:  # the grid is exhausted
                break
            arch, parents_h, origin = made
            c = self._new(arch, rng, parents_h, origin, seen, cache)
            c.decisions = self._last_decisions
            if c.kind == "skipped":
                state["skipped"] += 1
                self._append_once(self._entry(gen, -1, c))
                self._skipped_decisions.append(c.decisions)
                continue
            batch.append(c)
        return batch

    def _grid_point(self, state: dict[str, Any]):
        arch = self.space.grid_point(state["proposed"])
        if arch is None:
            return None
        state["proposed"] += 1
        return arch, (), "grid"

    def _controller_child(self, rng: random.Random):
        d = self.controller.decide()
        self._last_decisions = d
        return self.controller.build(d, rng), (), "controller"

    def _learn(self, batch: list[_Candidate], state: dict[str, Any]) -> None:
        """rl: one REINFORCE step on the generation's rewards (over-budget draws reward 0)."""
        s = self.cfg.search
        pairs = [
            (c.decisions, constrained_score(c.result, s.max_macs, s.target_macs, s.penalty))
            for c in batch
            if c.decisions is not None
        ]
        pairs += [(d, 0.0) for d in self._skipped_decisions if d is not None]
        self._skipped_decisions = []
        stats = self.controller.update(pairs)
        state["controller"] = self.controller.get_state()
        if stats:
            self.log(
                f"controller: mean reward {stats['reward']:.4f}, baseline "
                f"{stats['baseline']:.4f}, entropy {stats['entropy']:.3f}"
            )

    def _parents(self, population: list[Individual], rng: random.Random) -> list[Individual]:
        s = self.cfg.search
        if s.strategy == "nsga2":  # the sort assigns what the tournament compares
            pool = self._nsga2_survivors(list(population), len(population))
            duel = _dcd_tournament if s.diversity == "crowding" else _hv_tournament
            return [duel(rng.choice(pool), rng.choice(pool), rng) for _ in range(len(pool))]
        return [
            max(rng.sample(population, min(3, len(population))), key=lambda i: i.fitness.values)
            for _ in range(len(population))
        ]

    def _offspring(self, parents: list[Individual], rng: random.Random):
        a, b = rng.choice(parents), rng.choice(parents)
        if rng.random() < self.cfg.search.crossover_prob and a is not b:
            x, y = self.space.crossover(a.arch, b.arch, rng)
            pick = x if rng.random() < 0.5 else y
            return (
                self.space.mutate(pick, rng) if rng.random() < 0.5 else pick,
                (a.hash, b.hash),
                "crossover",
            )
        return self.space.mutate(a.arch, rng), (a.hash,), "mutation"

    def _nsga2_survivors(self, individuals: list[Individual], k: int) -> list[Individual]:
        """NSGA-II's elitist selection of ``k``: by rank, then crowding distance (DEAP's
        ``selNSGA2``, which sets ``fitness.crowding_dist``) or hypervolume contribution (which
        sets ``fitness.rank`` and ``fitness.contribution``)."""
        s = self.cfg.search
        if s.diversity == "crowding":
            return tools.selNSGA2(individuals, k)
        return sel_nsga2_hypervolume(individuals, k, s.ref_macs)

    def _aging_child(self, population: list[Individual], rng: random.Random):
        sample = rng.sample(population, self.cfg.search.sample_size)
        parent = max(sample, key=lambda i: (i.fitness.values, -i.born))
        return self.space.mutate(parent.arch, rng), (parent.hash,), "mutation"

    # -- evaluating ------------------------------------------------------------------------------
    def _replay(self, gen: int) -> dict[tuple[int, int], dict[str, Any]]:
        """Logged records of generation ``gen`` (the one a kill interrupted), by slot."""
        return {
            (e["generation"], e["index"]): e
            for e in self.folder.read_evaluations()
            if e.get("generation") == gen and e.get("kind") == "train"
        }

    def _entry(self, gen: int, index: int, c: _Candidate) -> dict[str, Any]:
        return {
            "generation": gen,
            "index": index,
            "hash": c.hash,
            "kind": c.kind,
            "origin": c.origin,
            "parents": list(c.parents),
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

    def _evaluate(self, gen: int, batch: list[_Candidate], replay: dict, state: dict) -> None:
        todo = []
        for i, c in enumerate(batch):
            if c.kind != "train":
                continue
            logged = replay.get((gen, i))
            if logged is not None and logged["hash"] == c.hash and logged["seed"] == c.seed:
                c.result = logged["result"]
                state["trained"] += 1
            else:
                self.folder.save_architecture(c.hash, c.arch)
                todo.append((i, make_task(c.arch, c.seed, self.cfg.proxy)))

        def done(i: int, record: dict[str, Any]) -> None:
            c = batch[i]
            c.result = record
            state["trained"] += 1
            self.folder.append_evaluation(self._entry(gen, i, c))

        if todo:
            t0 = time.perf_counter()
            self.executor.run(todo, done)
            state["eval_seconds"] += time.perf_counter() - t0
        firsts = {c.hash: c for c in batch if c.kind == "train"}
        for i, c in enumerate(batch):
            if c.kind == "duplicate":
                c.result = firsts[c.hash].result
            if c.kind in ("duplicate", "cached"):
                state["cached"] += 1
                self._append_once(self._entry(gen, i, c))

    # -- selection -------------------------------------------------------------------------------
    def _select(
        self, gen: int, population: list[Individual], new: list[Individual]
    ) -> list[Individual]:
        s = self.cfg.search
        if s.strategy in ("random", "grid", "rl"):
            return population + new
        if gen == 0:
            return new
        if s.strategy == "nsga2":
            return self._nsga2_survivors(population + new, s.population)
        if s.strategy == "constrained":
            return tools.selBest(population + new, s.population)
        merged = population + new  # regularized: the oldest leave
        return merged[len(merged) - s.population :] if len(merged) > s.population else merged

    @staticmethod
    def _as_objectives(individuals: list[Individual]) -> list[Individual]:
        """Copies scored on (accuracy, MACs), whatever the strategy optimises."""
        cls = make_fitness_class((1.0, -1.0))
        return [
            Individual(
                i.arch,
                i.hash,
                i.seed,
                cls(objectives(i.result)),
                i.result,
                i.parents,
                i.origin,
                i.born,
            )
            for i in individuals
        ]

    def _record_generation(
        self, gen: int, archive: list[Individual], state: dict, start: float
    ) -> None:
        front = pareto_front(self._as_objectives(_front_candidates(archive)))
        ok = [objectives(i.result)[0] for i in archive]
        hv = hypervolume([objectives(i.result) for i in front], self.cfg.search.ref_macs)
        elapsed = time.perf_counter() - start
        rate = elapsed / max(1, state["trained"])
        left = max(0, self.budget - state["trained"]) * rate
        if self.cfg.search.time_budget is not None:  # the clock ends the search first
            left = min(left, max(0.0, self.cfg.search.time_budget - elapsed))
        row = {
            "generation": gen,
            "evaluations": len(archive),
            "trained": state["trained"],
            "cached": state["cached"],
            "skipped": state["skipped"],
            "best_accuracy": round(max(ok, default=0.0), 5),
            "front_size": len(front),
            "hypervolume": round(hv, 6),
            "seconds": round(elapsed, 2),
        }
        self.folder.append_logbook(row)
        self.folder.write_json("pareto.json", [_summary(i) for i in front])
        self.log(
            f"gen {gen:>3} | trained {state['trained']:>4}/{self.budget} | best acc "
            f"{row['best_accuracy']:.4f} | front {len(front):>2} | HV {hv:.4f} | "
            f"{_clock(elapsed)} elapsed, ~{_clock(left)} left"
        )

    # -- final retraining ------------------------------------------------------------------------
    def _final(self, front: list[Individual]) -> list[dict[str, Any]]:
        fcfg = self.cfg.final
        chosen = select_final(front, fcfg.top_k)
        if not chosen:
            return []
        path = self.folder.path / "final.json"
        done = {}
        if path.exists():
            import json

            try:
                done = {r["hash"]: r for r in json.loads(path.read_text())}
            except (ValueError, KeyError, TypeError):
                raise GenesisError(
                    f"{str(path)!r} is damaged; remove it to redo the final step"
                ) from None
        (self.folder.path / "final").mkdir(exist_ok=True)
        todo = []
        for i, ind in enumerate(chosen):
            if ind.hash in done:
                continue
            weights = self.folder.path / "final" / f"{ind.hash}.pt"
            onnx = self.folder.path / "final" / f"{ind.hash}.onnx" if fcfg.export_onnx else None
            task = make_task(
                ind.arch,
                fcfg.seed,
                self.cfg.proxy,
                final=True,
                epochs=fcfg.epochs if fcfg.epochs is not None else ind.arch.train.epochs,
                seconds=fcfg.seconds,
                weights_path=str(weights),
                onnx_path=str(onnx) if onnx else None,
            )
            todo.append((i, task))
        if todo:
            self.log(
                f"final: retraining {len(todo)} Pareto member(s) on the full training set "
                f"for {fcfg.epochs or 'their own'} epochs, then scoring them on the test set"
            )

        def finished(i: int, record: dict[str, Any]) -> None:
            ind = chosen[i]

            def _written(name: str) -> bool:
                return record.get("status") == "ok" and (self.folder.path / "final" / name).exists()

            entry = {
                "hash": ind.hash,
                "val_accuracy_search": ind.result.get("accuracy"),
                **{
                    k: record.get(k)
                    for k in (
                        "status",
                        "test_accuracy",
                        "macs",
                        "flops",
                        "params",
                        "epochs",
                        "train_seconds",
                        "error",
                        "onnx_max_diff",
                        "onnx_error",
                    )
                },
                # only files that were written (the synthetic fitness writes none)
                "weights": f"final/{ind.hash}.pt" if _written(f"{ind.hash}.pt") else None,
                "onnx": (
                    f"final/{ind.hash}.onnx"
                    if fcfg.export_onnx
                    and not record.get("onnx_error")
                    and _written(f"{ind.hash}.onnx")
                    else None
                ),
                "architecture": f"architectures/{ind.hash}.json",
            }
            done[ind.hash] = entry
            self.folder.write_json("final.json", [done[c.hash] for c in chosen if c.hash in done])
            acc = entry["test_accuracy"]
            self.log(
                f"final {ind.hash}: {entry['status']}, test accuracy "
                f"{'-' if acc is None else f'{acc:.4f}'}, {entry['params']} params, "
                f"{entry['macs']} MACs"
            )

        if todo:
            self.executor.run(todo, finished)
        return [done[c.hash] for c in chosen if c.hash in done]


def select_final(front: list[Individual], k: int) -> list[Individual]:
    """Up to ``k`` members spread along the front (by MACs), the most accurate always included."""
    ok = [i for i in front if i.result.get("status") == "ok"]
    if k <= 0 or not ok:
        return []
    if len(ok) <= k:
        return ok
    picks = {round(j * (len(ok) - 1) / (k - 1)) for j in range(k)} if k > 1 else {len(ok) - 1}
    best = max(range(len(ok)), key=lambda j: ok[j].result["accuracy"])
    picks.add(best)
    while len(picks) > k:
        picks.discard(min(p for p in picks if p != best))
    return [ok[j] for j in sorted(picks)]


def _log_key(entry: dict[str, Any]) -> tuple:
    return (entry["generation"], entry["index"], entry["hash"], entry["seed"], entry["kind"])


def _front_candidates(individuals: list[Individual]) -> list[Individual]:
    """What the reported front is drawn from: each network once (a cached duplicate is the same
    network), and only those whose evaluation worked (a failure has no accuracy to offer)."""
    seen: dict[str, Individual] = {}
    for ind in individuals:
        seen.setdefault(ind.hash, ind)
    return [ind for ind in seen.values() if ind.result.get("status") == "ok"]


def _summary(ind: Individual) -> dict[str, Any]:
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
        "architecture": f"architectures/{ind.hash}.json",
    }


def _dcd_tournament(a: Individual, b: Individual, rng: random.Random) -> Individual:
    """Binary tournament on dominance, then crowding distance (DEAP's selTournamentDCD rule,
    drawn from the run's generator: DEAP's own selection functions use the global one)."""
    if a.fitness.dominates(b.fitness):
        return a
    if b.fitness.dominates(a.fitness):
        return b
    da, db = getattr(a.fitness, "crowding_dist", 0.0), getattr(b.fitness, "crowding_dist", 0.0)
    if da != db:
        return a if da > db else b
    return a if rng.random() < 0.5 else b


def _hv_tournament(a: Individual, b: Individual, rng: random.Random) -> Individual:
    """Binary tournament on Pareto rank, then hypervolume contribution (set by
    :func:`~evolve.fitness.sel_nsga2_hypervolume`), then a fair coin from the run's generator."""
    ka = (-a.fitness.rank, a.fitness.contribution)
    kb = (-b.fitness.rank, b.fitness.contribution)
    if ka != kb:
        return a if ka > kb else b
    return a if rng.random() < 0.5 else b


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
