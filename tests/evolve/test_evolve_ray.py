"""Ray for real: ``genesis evolve --executor ray`` from the CLI, and a Ray task that dies.

Both start a local Ray instance (several seconds each), so they are marked ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from runfiles import assert_same_run, read_log, run_search

from evolve.config import EvolveConfig, ExecutionConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.evaluate import evaluate_task
from evolve.executors import InlineExecutor as Inline
from evolve.executors import RayExecutor

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

FLAGS = [
    "--fitness", "synthetic",
    "--population", "4",
    "--generations", "2",
    "--final-top-k", "2",
    "--workers", "1",  # one worker: the same search on any executor
    "--seed", "5",
]  # fmt: skip


def genesis(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "genesis", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"),
    )


def test_cli_evolve_on_ray_equals_the_local_pool(tmp_path):
    ray_run = genesis("evolve", *FLAGS, "--executor", "ray", "--out", tmp_path / "ray")
    assert ray_run.returncode == 0, ray_run.stderr
    local = genesis("evolve", *FLAGS, "--executor", "local", "--out", tmp_path / "local")
    assert local.returncode == 0, local.stderr
    assert_same_run(tmp_path / "ray", tmp_path / "local")
    state = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert state["status"] == "finished" and state["trained"] == 12
    assert 'executor = "ray"' in (tmp_path / "ray" / "config.toml").read_text()
    assert not ray.is_initialized()  # the CLI's instance was its own


def _cfg() -> EvolveConfig:
    return EvolveConfig(
        search=SearchConfig(
            population=4, generations=2, seed=5, max_macs=None, max_params=None, seconds=None
        ),
        proxy=ProxyConfig(fitness="synthetic", rungs=()),
        final=FinalConfig(top_k=2),
        execution=ExecutionConfig(workers=1),
    )


def test_a_ray_task_that_dies_marks_its_candidate_error_and_the_search_goes_on(tmp_path):
    run_search(_cfg(), tmp_path / "ref", Inline())
    ref = [e for e in read_log(tmp_path / "ref") if e["kind"] == "train"]
    victim = next(e for e in ref if e["generation"] == 1)  # a candidate mid-search
    seed = victim["seed"]

    def dying(task):
        if task["seed"] == seed and not task["final"]:
            os._exit(3)  # the worker process dies: no exception, no record
        return evaluate_task(task)

    executor = RayExecutor(workers=1)  # one worker: the reference run's search, in order
    try:
        executor.remote = ray.remote(max_retries=0, num_cpus=1)(dying)
        outcome, _ = run_search(_cfg(), tmp_path / "run", executor)
    finally:
        executor.close()

    log = [e for e in read_log(tmp_path / "run") if e["kind"] == "train"]
    dead = [e for e in log if e["seed"] == seed]
    assert len(dead) == 1 and dead[0]["hash"] == victim["hash"]
    result = dead[0]["result"]
    assert result["status"] == "error" and result["accuracy"] is None
    assert "ray task failed" in result["error"]
    # every other candidate was evaluated, the search finished its budget and its final step
    assert Counter(e["result"]["status"] for e in log) == {"ok": len(log) - 1, "error": 1}
    assert outcome.trained == len(ref) == 12
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["status"] == "finished"
    front = {p["hash"] for p in json.loads((tmp_path / "run" / "pareto.json").read_text())}
    assert victim["hash"] not in front
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    assert len(final) == 2 and all(f["status"] == "ok" for f in final)

    # the evaluations before the death are the reference's (Ray logs them as they end)
    def gen0(entries):
        return sorted(
            (e["index"], e["hash"], json.dumps(e["result"]))
            for e in entries
            if e["generation"] == 0
        )

    assert gen0(log) == gen0(ref)
