"""Executors: a local process pool that survives dead workers, and Ray, giving equal results."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from evolve.config import EvolveConfig, ExecutionConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.evaluate import evaluate_task, make_task, synthetic_record
from evolve.executors import LocalExecutor, failure_record, make_executor
from evolve.search import Search
from evolve.space import SearchSpace, SpaceConfig
from genesis import Architecture, GenesisError
from genesis.runfolder import RunFolder
from genesis.train import Budget

SPACE = SearchSpace(SpaceConfig(nodes=(3, 4), channels=(4, 8)))
QUICK = ProxyConfig(fitness="synthetic")


def _archs(n: int, seed: int = 0) -> list[Architecture]:
    import random

    rng = random.Random(seed)
    return [SPACE.sample(rng) for _ in range(n)]


@pytest.fixture(scope="module")
def pool():
    with LocalExecutor(workers=2) as executor:
        yield executor


def _collect(executor, tasks) -> dict:
    got: dict = {}

    def on_result(key, record):
        assert key not in got, f"{key} reported twice"
        got[key] = record

    executor.run(tasks, on_result)
    return got


def test_the_pool_returns_every_record_as_evaluated_in_process(pool):
    archs = _archs(5)
    tasks = [(f"k{i}", make_task(a, 100 + i, QUICK)) for i, a in enumerate(archs)]
    got = _collect(pool, tasks)
    assert set(got) == {k for k, _ in tasks}
    for key, task in tasks:
        assert got[key] == evaluate_task(task)
        assert got[key]["status"] == "ok" and got[key]["split"] == "val"
    assert _collect(pool, []) == {}


def test_a_final_task_is_scored_on_test(pool):
    arch = _archs(1)[0]
    got = _collect(pool, [(0, make_task(arch, 3, QUICK, final=True, epochs=2.0))])[0]
    assert got["split"] == "test" and got["val_accuracy"] is None
    assert got["test_accuracy"] == synthetic_record(arch, 3)["accuracy"]


def test_a_dead_worker_fails_its_candidate_only_and_is_replaced(pool):
    archs = _archs(4, seed=1)
    slow = make_task(archs[0], 1, ProxyConfig(fitness="synthetic", synthetic_seconds=30))
    tasks = [("slow", slow)] + [(f"q{i}", make_task(a, i, QUICK)) for i, a in enumerate(archs[1:])]
    killed: list[int] = []

    def killer():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            time.sleep(0.05)
            for worker in list(pool.pool):
                if worker.job is not None and worker.job[0] == "slow":
                    time.sleep(1.0)
                    os.kill(worker.process.pid, signal.SIGKILL)
                    killed.append(worker.process.pid)
                    return

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    start = time.monotonic()
    got = _collect(pool, tasks)
    thread.join()
    assert killed, "the slow task never reached a worker"
    assert time.monotonic() - start < 25, "the executor waited for the dead worker's task"
    assert got["slow"]["status"] == "error"
    assert "worker died" in got["slow"]["error"]
    assert got["slow"]["macs"] == failure_record(slow, "error", "x")["macs"] > 0
    assert all(got[k]["status"] == "ok" for k in got if k != "slow")
    assert len(got) == len(tasks)
    # the pool is whole again and keeps working
    assert len(pool.pool) == 2 and all(w.process.is_alive() for w in pool.pool)
    assert killed[0] not in [w.process.pid for w in pool.pool]
    again = [(i, make_task(a, i, QUICK)) for i, a in enumerate(_archs(3, seed=2))]
    assert all(r["status"] == "ok" for r in _collect(pool, again).values())


def test_unknown_executor_is_refused():
    with pytest.raises(GenesisError, match="unknown executor 'dask'; use local or ray"):
        make_executor("dask", 1)


# -- the same search on every executor -------------------------------------------------------------
CFG = EvolveConfig(
    search=SearchConfig(
        population=4, generations=1, seed=5, max_macs=None, max_params=None, seconds=None
    ),
    space=SpaceConfig(nodes=(3, 5), channels=(4, 8)),
    proxy=ProxyConfig(fitness="synthetic", rungs=()),
    final=FinalConfig(top_k=2),
    execution=ExecutionConfig(workers=1),
)


def _search(path, executor) -> dict:
    folder = RunFolder(path)
    folder.create(CFG)
    Search(CFG, folder, executor, log=lambda line: None).run()
    entries = [json.loads(line) for line in (path / "evaluations.jsonl").read_text().splitlines()]
    return {
        "pareto": (path / "pareto.json").read_text(),
        "final": (path / "final.json").read_text(),
        "log": sorted(
            (e["generation"], e["index"], e["hash"], e["kind"], (e["result"] or {}).get("accuracy"))
            for e in entries
        ),
    }


@pytest.mark.slow
def test_results_do_not_depend_on_the_executor(pool, tmp_path):
    pytest.importorskip("ray")
    with LocalExecutor(workers=1) as one:
        single = _search(tmp_path / "one", one)
    assert len(single["log"]) >= 8
    # one worker makes the asynchronous loop sequential: the same search on any executor
    ray_executor = make_executor("ray", 1)
    try:
        assert ray_executor.workers == 1
        assert _search(tmp_path / "ray", ray_executor) == single
    finally:
        ray_executor.close()


@pytest.mark.parametrize(
    "final, seconds, expected",
    [
        (True, 90.0, Budget(epochs=15.0, seconds=90.0)),  # the final step: no timeout
        (True, None, Budget(epochs=15.0)),
        (False, None, Budget(epochs=15.0, time_limit=300.0)),  # the proxy's hard limit
    ],
)
def test_a_task_trains_under_its_epochs_seconds_and_time_limit(
    final, seconds, expected, monkeypatch
):
    import genesis.train
    from evolve import evaluate

    budgets = []

    def fake_train(arch, splits, *, budget, **kw):
        budgets.append(budget)
        return genesis.train.failed_result(arch, "error", "not trained", seed=0), None, None

    monkeypatch.setattr(genesis.train, "train_architecture", fake_train)
    monkeypatch.setattr(evaluate, "_splits", lambda *a: None)
    task = make_task(_archs(1)[0], 0, ProxyConfig(), final=final, epochs=15.0, seconds=seconds)
    assert json.loads(json.dumps(task)) == task  # plain data
    assert evaluate_task(task)["status"] == "error"
    assert budgets == [expected]


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_a_fresh_worker_trains_on_its_gpu(tmp_path):
    """A worker's first CUDA call is the trainer's: it must initialise CUDA itself."""
    task = make_task(_archs(1)[0], 0, ProxyConfig(subset=512, val_size=256), epochs=1.0)
    with LocalExecutor(workers=1, devices=["cuda:0"]) as executor:
        got = _collect(executor, [(0, task)])
    assert got[0]["status"] == "ok", got[0].get("error")
    assert got[0]["device"] == "cuda:0" and got[0]["peak_memory_bytes"] > 0
