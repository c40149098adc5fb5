"""The search loop: every strategy on the same budget, no DEAP global state, exact resumption.

Everything runs on the deterministic ``synthetic`` fitness, so a whole search takes a fraction
of a second and any two runs of one config must agree to the last digit.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import deap.creator
import numpy as np
import pytest
from runfiles import assert_same_run as _same_run
from runfiles import logbook as _logbook
from runfiles import read_log as _log
from runfiles import run_search as _search

from evolve.config import EvolveConfig, ExecutionConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.evaluate import evaluate_task
from evolve.executors import Executor, LocalExecutor, failure_record
from evolve.executors import InlineExecutor as Inline
from evolve.final import select_final
from evolve.fitness import Individual, make_fitness_class
from evolve.space import SpaceConfig
from evolve.strategies import strategy_names
from evolve.strategies.params import MOVED
from genesis import Architecture, build_architecture
from genesis.complexity import count_complexity

#: A small space: isomorphic duplicates and over-budget candidates are frequent in it.
SMALL = SpaceConfig(
    families=("er", "ba"),
    nodes=(2, 3),
    max_nodes=4,
    channels=(4, 8),
    batch_sizes=(64,),
    optimizers=("sgd",),
    lr_sgd=(0.1, 0.1),
    weight_decay=(1e-4, 1e-4),
    label_smoothing=(0.0, 0.0),
    ops=("conv_3x3", "sep_conv_3x3"),
)
MAX_MACS = 3e5
ARCH_STRATEGIES = strategy_names("architectures")
BUDGET = 10  # not a multiple of the population: the last generation is cut short


def _cfg(strategy: str = "nsga2", **search) -> EvolveConfig:
    values = dict(
        strategy=strategy,
        population=4,
        generations=2,
        budget_evals=BUDGET,
        max_macs=MAX_MACS,
        max_params=None,
        seconds=None,
        seed=4,  # every strategy's front has 2 members or more: the final step retrains 2
    )
    knobs = {k: search.pop(k) for k in list(search) if k in MOVED}  # [strategy.<name>]
    values.update(search)
    return EvolveConfig(
        search=SearchConfig(**values),
        space=SMALL,
        proxy=ProxyConfig(fitness="synthetic", rungs=()),
        final=FinalConfig(top_k=2),
        execution=ExecutionConfig(workers=1),  # steady-state windows of one child
        strategy={strategy: knobs},
    )


class Killed(BaseException):
    """Stands for a SIGKILL: nothing in the search may catch it."""


class InlineExecutor(Inline):
    """Evaluates in this process; records every task; can 'die' after ``die_after`` tasks."""

    def __init__(self, die_after: int | None = None, fail=None, workers: int = 1):
        super().__init__(workers)
        self.tasks: list[dict] = []
        self.die_after = die_after
        self.fail = fail  # task -> bool: return an error record instead of evaluating

    def evaluate(self, task):
        if self.die_after is not None and len(self.tasks) >= self.die_after:
            raise Killed
        self.tasks.append(task)
        if self.fail and self.fail(task):
            return failure_record(task, "error", "RuntimeError: injected")
        return evaluate_task(task)


class Recording(Executor):
    """Passes tasks on to ``inner``, recording every task."""

    def __init__(self, inner: Executor):
        self.inner = inner
        self.tasks: list[dict] = []

    @property
    def workers(self):
        return self.inner.workers

    @property
    def busy_seconds(self):
        return self.inner.busy_seconds

    def free(self):
        return self.inner.free()

    def submit(self, key, task):
        self.tasks.append(task)
        self.inner.submit(key, task)

    def next_result(self):
        return self.inner.next_result()

    def abort(self):
        self.inner.abort()


@pytest.fixture(scope="module")
def pool():
    with LocalExecutor(workers=2) as executor:
        yield executor


def _global_state():
    return set(vars(deap.creator)), random.getstate(), repr(np.random.get_state())


# -- budget semantics ------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ARCH_STRATEGIES)
def test_every_strategy_trains_exactly_the_budget(strategy, pool, tmp_path):
    before = _global_state()
    executor = Recording(pool)
    outcome, lines = _search(_cfg(strategy), tmp_path / "run", executor)
    log = _log(tmp_path / "run")
    kinds = Counter(e["kind"] for e in log)

    proxy_tasks = [t for t in executor.tasks if not t["final"]]
    assert outcome.trained == BUDGET == kinds["train"] == len(proxy_tasks)
    # and the final step's top_k (two workers: the search, and so its front, depends on timing)
    assert len(executor.tasks) == BUDGET + min(2, len(outcome.front))
    assert kinds["skipped"] > 0, kinds  # (cached and duplicate draws: test_evolve_cache.py)
    # nothing over max_macs reached the executor, and the log agrees
    sent = [count_complexity(Architecture.from_json(t["arch"])).macs for t in proxy_tasks]
    assert max(sent) <= MAX_MACS
    assert all(e["result"]["macs"] <= MAX_MACS for e in log if e["kind"] == "train")
    assert all(e["result"] is None and e["index"] >= 0 for e in log if e["kind"] == "skipped")
    # a network is trained once: a copy of one evaluated reuses its record; a copy of one still
    # training is logged as a duplicate, with nothing to reuse yet
    trained = {e["hash"]: e for e in log if e["kind"] == "train"}
    assert len(trained) == BUDGET
    for e in log:
        if e["kind"] == "cached":
            assert e["result"] == trained[e["hash"]]["result"]
        if e["kind"] == "duplicate":
            assert e["result"] is None and e["hash"] in trained
    assert {e["hash"] for e in log if e["kind"] == "skipped"}.isdisjoint(trained)

    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["status"] == "finished" and state["trained"] == BUDGET
    rows = _logbook(tmp_path / "run")
    assert rows[0][:5] == ["generation", "evaluations", "trained", "cached", "skipped"]
    last = dict(zip(rows[0], rows[-1], strict=False))
    assert int(last["trained"]) == BUDGET
    assert int(last["cached"]) == kinds["cached"] + kinds["duplicate"]
    assert int(last["skipped"]) == kinds["skipped"]
    assert any("gen   0" in line for line in lines)
    assert _global_state() == before, "the search touched DEAP's creator or a global generator"


# The front is computed from the log whatever the strategy; rl (~5 s here: its controller
# proposes many over-budget networks in SMALL) is left to test_evolve_controller.py.
@pytest.mark.parametrize("strategy", [s for s in ARCH_STRATEGIES if s != "rl"])
def test_the_front_is_the_non_dominated_set_of_distinct_evaluations(strategy, pool, tmp_path):
    outcome, _ = _search(_cfg(strategy), tmp_path / "run", pool)
    points = {
        e["hash"]: (e["result"]["accuracy"], e["result"]["macs"])
        for e in _log(tmp_path / "run")
        if e["kind"] == "train"
    }
    expected = {
        h
        for h, (a, m) in points.items()
        if not any((a2 >= a and m2 <= m) and (a2, m2) != (a, m) for h2, (a2, m2) in points.items())
    }
    pareto = json.loads((tmp_path / "run" / "pareto.json").read_text())
    hashes = [p["hash"] for p in pareto]
    assert len(hashes) == len(set(hashes)), "one network listed twice on the front"
    assert set(hashes) == expected
    assert [p["macs"] for p in pareto] == sorted(p["macs"] for p in pareto)
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    assert len({f["hash"] for f in final}) == len(final) == 2
    assert {f["hash"] for f in final} <= expected
    assert [i.hash for i in outcome.front] == hashes


# -- determinism and global state ------------------------------------------------------------------
def test_two_searches_in_one_process_agree_and_leave_no_global_state(pool, tmp_path):
    before = _global_state()
    _search(_cfg("nsga2"), tmp_path / "a", pool)
    _search(_cfg("regularized"), tmp_path / "other", pool)  # in between: another strategy
    _search(_cfg("nsga2"), tmp_path / "b", pool)
    _same_run(tmp_path / "a", tmp_path / "b")
    assert _global_state() == before


def test_the_executor_does_not_change_results(tmp_path):
    # one worker: the asynchronous loop is then sequential, and reproducible on any executor
    with LocalExecutor(workers=1) as one:
        _search(_cfg("constrained"), tmp_path / "pool", one)
    _search(_cfg("constrained"), tmp_path / "inline", InlineExecutor())
    _same_run(tmp_path / "pool", tmp_path / "inline")


def test_another_seed_gives_another_search(tmp_path):
    _search(_cfg(seed=1), tmp_path / "a", InlineExecutor())
    _search(_cfg(seed=2), tmp_path / "b", InlineExecutor())
    assert (tmp_path / "a" / "pareto.json").read_text() != (
        tmp_path / "b" / "pareto.json"
    ).read_text()


# -- resumption (a simulated kill; the real one is in test_evolve_resume.py) -----------------------
# Kills in generation 0, in generation 1 and in the final step. rl only in generation 0: its
# kills mid generation 1 and in the final step are test_evolve_controller.py's (~8 s each here).
RESUME_CASES = [
    (strategy, die_after)
    for die_after in (2, 6, BUDGET + 1)
    for strategy in ARCH_STRATEGIES
    if strategy != "rl" or die_after == 2
]


@pytest.mark.parametrize("strategy, die_after", RESUME_CASES)
def test_resume_after_a_kill_ends_as_the_uninterrupted_run(strategy, die_after, tmp_path):
    cfg = _cfg(strategy)
    _search(cfg, tmp_path / "ref", InlineExecutor())

    with pytest.raises(Killed):
        _search(cfg, tmp_path / "run", InlineExecutor(die_after=die_after))
    killed = _log(tmp_path / "run")
    assert sum(e["kind"] == "train" for e in killed) == min(die_after, BUDGET)

    executor = InlineExecutor()
    outcome, lines = _search(cfg, tmp_path / "run", executor, create=False)
    _same_run(tmp_path / "ref", tmp_path / "run")
    assert outcome.trained == BUDGET
    # nothing finished before the kill is evaluated again (2: the final step's top_k)
    assert len(executor.tasks) == BUDGET + 2 - die_after
    slots = Counter(
        (e["generation"], e["index"]) for e in _log(tmp_path / "run") if e["kind"] == "train"
    )
    assert max(slots.values()) == 1
    if die_after > 2:
        assert any(line.startswith("resuming:") for line in lines)


def test_nsga2_with_crowding_distance_resumes_exactly_and_selects_differently(tmp_path):
    crowding = _cfg("nsga2", diversity="crowding", budget_evals=16, generations=3)
    _search(crowding, tmp_path / "ref", InlineExecutor())
    with pytest.raises(Killed):
        _search(crowding, tmp_path / "run", InlineExecutor(die_after=9))
    _search(crowding, tmp_path / "run", InlineExecutor(), create=False)
    _same_run(tmp_path / "ref", tmp_path / "run")
    _search(_cfg("nsga2", budget_evals=16, generations=3), tmp_path / "hv", InlineExecutor())
    bred = [{e["hash"] for e in _log(tmp_path / d) if e["generation"] > 0} for d in ("ref", "hv")]
    assert bred[0] != bred[1], "the two diversity criteria bred the same children"


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    cfg = _cfg()
    _search(cfg, tmp_path / "run", InlineExecutor())
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    executor = InlineExecutor()
    outcome, _ = _search(cfg, tmp_path / "run", executor, create=False)
    assert executor.tasks == []
    assert outcome.trained == BUDGET
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    del before["run.json"], after["run.json"]  # its timestamps are refreshed
    assert after == before


# -- failures --------------------------------------------------------------------------------------
def test_failed_candidates_score_zero_and_are_never_on_the_front(tmp_path):
    def fail(task):  # the cheapest networks fail: on (0, MACs) alone they would be non-dominated
        return count_complexity(Architecture.from_json(task["arch"])).macs < 2.2e5

    outcome, _ = _search(_cfg(), tmp_path / "run", InlineExecutor(fail=fail))
    log = [e for e in _log(tmp_path / "run") if e["kind"] == "train"]
    failed = {e["hash"] for e in log if e["result"]["status"] == "error"}
    assert failed, "the test needs failures"
    cheapest = min(log, key=lambda e: e["result"]["macs"])
    assert cheapest["hash"] in failed
    assert outcome.trained == BUDGET
    for ind in outcome.archive:
        if ind.hash in failed:
            assert ind.result["accuracy"] is None and ind.fitness.values[0] == 0.0
    pareto = json.loads((tmp_path / "run" / "pareto.json").read_text())
    assert pareto and all(p["status"] == "ok" for p in pareto)
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    assert final and not {f["hash"] for f in final} & failed
    assert all(f["status"] == "ok" for f in final)


def test_final_records_point_only_at_files_that_exist(tmp_path):
    _search(_cfg(), tmp_path / "run", InlineExecutor())
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    assert len(final) == 2
    for entry in final:
        assert entry["status"] == "ok" and 0 < entry["test_accuracy"] < 1
        assert (tmp_path / "run" / entry["architecture"]).exists()
        # the synthetic fitness trains nothing, so it writes no weights and no ONNX
        assert entry["weights"] is None and entry["onnx"] is None
    assert list((tmp_path / "run" / "final").iterdir()) == []


# -- select_final ----------------------------------------------------------------------------------
def _front(accuracies, statuses=None):
    cls = make_fitness_class((1.0, -1.0))
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, channels=4, nodes=3)
    out = []
    for j, acc in enumerate(accuracies):
        status = statuses[j] if statuses else "ok"
        result = {"status": status, "accuracy": acc, "macs": 1000 * (j + 1)}
        out.append(Individual(arch, f"h{j}", 0, cls((acc, 1000.0 * (j + 1))), result))
    return out


@pytest.mark.parametrize(
    "accuracies, k, expected",
    [
        ([0.5, 0.6, 0.7, 0.8, 0.9], 1, ["h4"]),
        ([0.5, 0.6, 0.7, 0.8, 0.9], 2, ["h0", "h4"]),
        ([0.5, 0.6, 0.7, 0.8, 0.9], 3, ["h0", "h2", "h4"]),
        ([0.5, 0.6, 0.7, 0.8, 0.9], 5, ["h0", "h1", "h2", "h3", "h4"]),
        ([0.5, 0.6], 3, ["h0", "h1"]),
        ([0.5, 0.6], 0, []),
    ],
)
def test_select_final_spreads_along_the_front_and_keeps_the_best(accuracies, k, expected):
    picked = select_final(_front(accuracies), k)
    assert [i.hash for i in picked] == expected
    if picked:
        assert max(accuracies) in [i.result["accuracy"] for i in picked]


def test_select_final_skips_failed_members():
    front = _front([0.0, 0.6, 0.9], statuses=["error", "ok", "ok"])
    assert [i.hash for i in select_final(front, 3)] == ["h1", "h2"]
    assert select_final(_front([0.0], statuses=["timeout"]), 2) == []


# -- hard budgets and the clock --------------------------------------------------------------------
def test_a_parameter_budget_is_never_trained_over_and_still_spends_the_budget(tmp_path):
    max_params = 2500
    outcome, _ = _search(
        _cfg(max_macs=None, max_params=max_params), tmp_path / "run", InlineExecutor()
    )
    log = _log(tmp_path / "run")
    trained = [e for e in log if e["kind"] == "train"]
    assert len(trained) == outcome.trained == BUDGET
    assert all(e["result"]["params"] <= max_params for e in trained)
    assert any(e["kind"] == "skipped" for e in log), "the test needs over-budget draws"
    assert all(ind.result["params"] <= max_params for ind in outcome.front)


def test_a_time_budget_starts_no_job_that_would_overrun_it(tmp_path, monkeypatch):
    # a clock that only evaluations move, 10 s each, one worker: after 6 jobs (60 s) a 7th would
    # end at 70 s, past the budget of 65 s
    import types

    import evolve.executors
    import evolve.search

    clock = {"now": 0.0}
    fake = types.SimpleNamespace(perf_counter=lambda: clock["now"], time=time.time)
    monkeypatch.setattr(evolve.search, "time", fake)
    monkeypatch.setattr(evolve.executors, "time", fake)

    class Timed(InlineExecutor):
        def evaluate(self, task):
            clock["now"] += 10.0
            return super().evaluate(task)

    cfg = _cfg(population=2, generations=20, budget_evals=None, max_macs=None, seconds=65.0)
    outcome, lines = _search(cfg, tmp_path / "run", Timed())
    assert outcome.trained == 6
    assert (
        "time budget of 1m05s reached after 1m00s: no new job starts; finishing those running"
        in lines
    )
    # the time left is the budget's, not the 360 s that 36 more evaluations would take
    left = [line.split(", ")[-1] for line in lines if line.startswith("gen ")]
    assert left == ["~45s left", "~25s left", "~5s left"]
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["status"] == "finished" and state["search_seconds"] == 60.0
    assert len(json.loads((tmp_path / "run" / "final.json").read_text())) == 2


def test_the_final_step_alone_trains_under_final_seconds(tmp_path):
    cfg = _cfg().with_overrides(final={"seconds": 30.0, "epochs": 12.0})
    executor = Recording(InlineExecutor())
    _search(cfg, tmp_path / "run", executor)
    final = [t for t in executor.tasks if t["final"]]
    assert len(final) == 2 and all((t["seconds"], t["epochs"]) == (30.0, 12.0) for t in final)
    assert all(t["seconds"] is None for t in executor.tasks if not t["final"])
