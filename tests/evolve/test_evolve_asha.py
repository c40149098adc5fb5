"""Multi-fidelity search (successive halving, ASHA), compute budgets and worker utilization.

On the synthetic fitness, whose accuracy at a rung is a noisy early version of its final one
(:func:`evolve.evaluate.synthetic_curve`): promotions follow ASHA's rule, a kill in the middle
of a rung loses nothing, equal compute budgets hold for every strategy, and utilization is
busy / (workers x wall). One real training checks that a promoted candidate continues from its
weights instead of starting over.
"""

from __future__ import annotations

import json

import pytest
from runfiles import assert_same_run, read_log
from test_evolve_search import SMALL, InlineExecutor, Killed

from evolve.config import EvolveConfig, ExecutionConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.executors import LocalExecutor
from evolve.search import Search, promotion_order, utilization
from evolve.strategies import get_strategy, strategy_names
from genesis.runfolder import RunFolder

RUNGS = (1.0, 3.0, 9.0)


def _cfg(strategy="nsga2", rungs=RUNGS, budget=60.0, **search) -> EvolveConfig:
    return EvolveConfig(
        search=SearchConfig(
            strategy=strategy, population=4, budget=budget, max_macs=3e5, seed=4, **search
        ),
        space=SMALL,
        proxy=ProxyConfig(fitness="synthetic", rungs=rungs, eta=3),
        final=FinalConfig(top_k=2),
        execution=ExecutionConfig(workers=1),  # windows of one child: resume is exact
    )


def _run(cfg, path, executor=None, create=True):
    folder = RunFolder(path)
    if create:
        folder.create(cfg)
    return Search(cfg, folder, executor or InlineExecutor(), log=lambda _: None).run()


def _trained(path):
    return [e for e in read_log(path) if e["kind"] == "train"]


def _cost(cfg, rung):
    return cfg.proxy.rung_cost(rung)


# -- promotions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["nsga2", "random", "regularized"])
def test_rungs_promote_the_top_third_of_each_rung_as_soon_as_it_is_due(strategy, tmp_path):
    cfg = _cfg(strategy)
    _run(cfg, tmp_path / "run")
    log = _trained(tmp_path / "run")
    strat = get_strategy(strategy)(cfg, None)
    weights, score = strat.weights, strat.score
    promoted = 0
    # one worker: each job starts right after the one logged before it finished, so the log's
    # prefix is exactly what the rule saw when it chose the job
    for n, e in enumerate(log):
        seen = log[:n]
        left = cfg.search.budget - sum(_cost(cfg, x["rung"]) for x in seen)
        due = []
        for r in range(len(RUNGS) - 1):
            if _cost(cfg, r + 1) > left + 1e-9:  # a promotion past the budget never starts
                continue
            done = [x for x in seen if x["rung"] == r and x["result"]["status"] == "ok"]
            top = promotion_order([score(x["result"]) for x in done], weights, cfg.search.refs)[
                : len(done) // 3
            ]
            gone_on = {x["hash"] for x in seen if x["rung"] == r + 1}
            due += [(done[i]["hash"], r + 1) for i in top if done[i]["hash"] not in gone_on]
        if e["rung"] > 0:
            promoted += 1
            assert (e["hash"], e["rung"]) in due, f"job {n} promoted out of turn"
            # the highest rung first
            assert e["rung"] == max(r for _, r in due)
        else:
            assert not due, f"job {n} started a new candidate while a promotion was due"
    assert promoted >= 2
    # every record carries its learning curve, one accuracy per rung reached
    for e in log:
        curve = e["result"]["curve"]
        assert len(curve) == e["rung"] + 1 and curve[-1] == e["result"]["accuracy"]
        assert e["result"]["rung_epochs"] == RUNGS[e["rung"]]
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["promoted"][0] == state["trained"] > state["promoted"][1] >= state["promoted"][2]


def test_promotion_order_ranks_by_front_then_hypervolume_contribution():
    # b and c are the first front (c cheaper); a is dominated by b; d is dominated by c
    scores = [(0.7, 5e6), (0.8, 4e6), (0.6, 1e6), (0.5, 2e6)]
    order = promotion_order(scores, (1.0, -1.0), 10e6)
    assert set(order[:2]) == {1, 2} and set(order[2:]) == {0, 3}
    assert promotion_order([(0.1,), (0.3,), (0.2,)], (1.0,), 1e6) == [1, 2, 0]


def test_the_front_reports_each_candidate_at_its_highest_rung(tmp_path):
    outcome = _run(_cfg("random"), tmp_path / "run")
    log = _trained(tmp_path / "run")
    highest = {}
    for e in log:
        if e["result"]["status"] == "ok":
            highest[e["hash"]] = e["result"]
    for ind in outcome.front:
        assert ind.result == highest[ind.hash]


def test_pareto_json_holds_promotions_that_finish_after_the_last_generation(tmp_path):
    # seed 1, rungs [1, 3]: a promotion that finishes after the last generation closed moves a
    # member of the front to its higher rung
    cfg = _cfg("nsga2", rungs=(1.0, 3.0)).with_overrides(search={"seed": 1})
    outcome = _run(cfg, tmp_path / "run")
    pareto = json.loads((tmp_path / "run" / "pareto.json").read_text())
    got = [(p["hash"], p["accuracy"], p["rung"]) for p in pareto]
    assert got == [(i.hash, i.result["accuracy"], i.result["rung"]) for i in outcome.front]


# -- resumption ------------------------------------------------------------------------------------
@pytest.mark.parametrize("die_after", [5, 9, 14])
def test_a_kill_in_the_middle_of_a_rung_loses_nothing(die_after, tmp_path):
    cfg = _cfg("nsga2")
    _run(cfg, tmp_path / "ref")
    with pytest.raises(Killed):
        _run(cfg, tmp_path / "run", InlineExecutor(die_after=die_after))
    assert len(_trained(tmp_path / "run")) == die_after
    again = InlineExecutor()
    _run(cfg, tmp_path / "run", again, create=False)
    assert_same_run(tmp_path / "ref", tmp_path / "run")
    # every rung finished before the kill is kept: nothing is trained twice
    after = _trained(tmp_path / "run")
    jobs = [(e["hash"], e["rung"]) for e in after]
    assert len(jobs) == len(set(jobs)) == len(_trained(tmp_path / "ref"))
    proxy_tasks = [t for t in again.tasks if not t["final"]]
    assert len(proxy_tasks) == len(after) - die_after


# -- compute budgets -------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", strategy_names("architectures"))
@pytest.mark.parametrize("rungs", [(), RUNGS])
def test_every_strategy_spends_the_same_compute(strategy, rungs, tmp_path):
    budget = 40.0
    cfg = _cfg(strategy, rungs=rungs, budget=budget)
    if not rungs:
        cfg = cfg.with_overrides(proxy={"epochs": 3.0})
    outcome = _run(cfg, tmp_path / "run")
    log = _trained(tmp_path / "run")
    spent = sum(_cost(cfg, e.get("rung", 0)) for e in log)
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert spent == pytest.approx(state["compute"]) == pytest.approx(outcome.compute)
    # no job started past the budget, and the budget was spent down to less than one job
    cheapest = min(_cost(cfg, r) for r in range(len(cfg.proxy.schedule)))
    assert budget - cheapest < spent <= budget
    assert state["trained"] == sum(e.get("rung", 0) == 0 for e in log) == outcome.trained
    assert state["jobs"] == len(log)


def test_a_compute_budget_is_refused_when_not_positive():
    from genesis import GenesisError

    with pytest.raises(GenesisError, match="search budget must be a positive number"):
        SearchConfig(budget=0)
    with pytest.raises(GenesisError, match="proxy rungs must increase"):
        ProxyConfig(rungs=(3.0, 1.0))
    with pytest.raises(GenesisError, match="proxy eta must be at least 2"):
        ProxyConfig(eta=1)


# -- utilization -----------------------------------------------------------------------------------
def test_utilization_is_busy_over_workers_times_wall():
    assert utilization(180.0, 2, 100.0) == 0.9
    assert utilization(50.0, 1, 100.0) == 0.5
    assert utilization(0.0, 2, 0.0) == 0.0
    assert utilization(300.0, 2, 100.0) == 1.0  # clock granularity never reports above 1


def test_two_workers_stay_busy_without_a_generation_barrier(tmp_path):
    cfg = _cfg("nsga2", rungs=(), budget=None, budget_evals=12).with_overrides(
        proxy={"synthetic_seconds": 0.3}, execution={"workers": 2}, final={"top_k": 0}
    )
    with LocalExecutor(workers=2) as pool:
        pool.free()  # the workers are up before the clock starts
        _run(cfg, tmp_path / "run", pool)
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["workers"] == 2 and state["trained"] == 12
    assert state["utilization"] == utilization(state["eval_seconds"], 2, state["search_seconds"])
    # 12 jobs of 0.3 s on 2 workers: about 1.8 s of wall time if no one waits
    assert state["utilization"] >= 0.8, state
    log = _trained(tmp_path / "run")
    # jobs overlapped across generations: a generation-1 candidate started before the last
    # generation-0 one had finished
    assert max(e["generation"] for e in log) >= 1


# -- a real training -------------------------------------------------------------------------------
def test_a_promoted_candidate_continues_from_its_weights(tmp_path, monkeypatch):
    import genesis.train

    calls = []
    real = genesis.train.train_architecture

    def recording(*args, **kwargs):
        calls.append((kwargs["budget"].epochs, kwargs.get("resume") is not None))
        return real(*args, **kwargs)

    monkeypatch.setattr(genesis.train, "train_architecture", recording)
    cfg = EvolveConfig(
        search=SearchConfig(strategy="random", population=3, budget=3 * 0.5 + 1.0, seed=0),
        space=SMALL,
        proxy=ProxyConfig(
            dataset="synthetic:1x28x28", subset=64, val_size=64, holdout=16, rungs=(0.5, 1.5)
        ),
        final=FinalConfig(top_k=0),
    )
    _run(cfg, tmp_path / "run")
    log = _trained(tmp_path / "run")
    assert [e["rung"] for e in log] == [0, 0, 0, 1]
    assert calls == [(0.5, False)] * 3 + [(1.0, True)]  # one more epoch, from the rung-0 state
    top = log[-1]["result"]
    assert top["status"] == "ok" and len(top["curve"]) == 2
    assert all(isinstance(e["result"]["holdout_accuracy"], float) for e in log)
    # the state a promoted candidate continued from is gone; the others' stay for a later rung
    rungs = tmp_path / "run" / "rungs"
    assert not (rungs / f"{log[-1]['hash']}-r0.pt").exists()
    assert len(list(rungs.glob("*-r0.pt"))) == 2
