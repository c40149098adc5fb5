"""The LSTM controller (REINFORCE) and the ``rl`` strategy built on it.

The controller must only emit architectures of its :class:`~evolve.space.SpaceConfig`, draw
everything from its own seeded generator, continue exactly from a saved state, and learn: a
reward that favours some choices must make them more frequent. As a search strategy it spends
the same budget, checkpoints its whole state and resumes (under a real SIGKILL too) exactly like
the evolutionary ones. Searches run on the deterministic ``synthetic`` fitness.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from runfiles import assert_same_run, kill_when, log_multiset
from runfiles import read_log as _log
from runfiles import run_search as _search
from runfiles import trained as _trained

from evolve.config import (
    EvolveConfig,
    ExecutionConfig,
    FinalConfig,
    ProxyConfig,
    SearchConfig,
    load_config,
)
from evolve.controller import Controller
from evolve.evaluate import evaluate_task
from evolve.executors import InlineExecutor
from evolve.fitness import constrained_score
from evolve.space import SearchSpace, SpaceConfig
from genesis import Architecture, architecture_hash, build_architecture
from genesis.complexity import count_complexity
from genesis.runfolder import RunFolder
from graphs import get_family

#: The controller's choices per family parameter, as the family registry offers them.
ER_P = get_family("er").choices["p"]
WS_K = get_family("ws").choices["k"]
WS_P = get_family("ws").choices["p"]
BA_M = get_family("ba").choices["m"]

SPACE = SpaceConfig(
    families=("er", "ws", "ba"),
    nodes=(3, 5),
    max_nodes=6,
    channels=(4, 8, 12),
    ops=("conv_3x3", "sep_conv_3x3", "max_pool_3x3"),
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The controller's tiny LSTM gains nothing from intra-op threads, and loses a lot (tens of
    times) on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _controller(space: SpaceConfig = SPACE, seed: int = 0, **kw) -> Controller:
    return Controller(SearchSpace(space), seed=seed, **kw)


def _compute_nodes(graph) -> list:
    return [v for v, data in graph.nodes(data=True) if "op" in data]


# -- decisions and architectures -------------------------------------------------------------------
@pytest.mark.parametrize(
    "space",
    [
        SPACE,
        SpaceConfig(
            families=("er", "ba"), nodes=(2, 4), max_nodes=4, channels=(6,), ops=("conv_3x3",)
        ),
        SpaceConfig(families=("ws",), nodes=(3, 8), channels=(4, 16), ops=("max_pool_3x3",)),
    ],
    ids=["all-families", "er-ba-from-2-nodes", "ws-only"],
)
def test_decisions_build_valid_architectures_within_the_space(space):
    c = _controller(space, seed=1)
    rng = random.Random(0)
    lo, hi = space.nodes
    seen = Counter()
    for _ in range(20):
        d = c.decide()
        arch = c.build(d, rng)
        assert d.width in space.channels
        layout = build_architecture(space.preset, "er", {"p": 0.5}, seed=0, channels=d.width)
        assert [(s.channels, s.stride) for s in arch.stages] == [
            (s.channels, s.stride) for s in layout.stages
        ]
        assert arch.stem == layout.stem and arch.head == layout.head
        assert len(arch.stages) == len(d.stages) == c.n_stages
        for stage, spec in zip(arch.stages, d.stages, strict=True):
            fam, params, n = spec["family"], spec["params"], spec["nodes"]
            seen[fam] += 1
            assert fam in space.families
            assert lo <= n <= hi or (fam == "ws" and n == 3 and lo == 2)
            nodes = _compute_nodes(stage.graph)
            assert len(nodes) == n
            assert {stage.graph.nodes[v]["op"] for v in nodes} == {spec["op"]}
            assert spec["op"] in space.ops
            if fam == "er":
                assert set(params) == {"p"} and params["p"] in ER_P
            elif fam == "ws":
                assert set(params) == {"k", "p"} and params["p"] in WS_P
                assert params["k"] % 2 == 0 and 2 <= params["k"] < n and params["k"] <= max(WS_K)
            else:
                assert set(params) == {"m"} and 1 <= params["m"] < n and params["m"] in BA_M
            assert dict(stage.origin) == {
                "family": fam,
                "params": params,
                "nodes": n,
                "controller": True,
            }
        assert arch.meta["controller"] == {"width": d.width, "stages": d.stages}
        # the action list names each slot once, within its choices
        slots = [s for s, _ in d.actions]
        assert slots == sorted(set(slots))
        assert all(0 <= pick < len(c.slots[s][1]) for s, pick in d.actions)
        assert Architecture.from_json(arch.to_json()) == arch
        assert count_complexity(arch).macs > 0
    assert set(seen) == set(space.families), "20 draws should reach every family"


def _trace(c: Controller, n: int) -> list:
    return [(d.width, d.stages, d.actions) for d in (c.decide() for _ in range(n))]


def test_the_same_seed_gives_the_same_decisions_and_architectures():
    a, b = _controller(seed=5), _controller(seed=5)
    assert _trace(a, 12) == _trace(b, 12)
    da, db = a.decide(), b.decide()
    arch_a, arch_b = a.build(da, random.Random(9)), b.build(db, random.Random(9))
    assert architecture_hash(arch_a) == architecture_hash(arch_b)
    assert _trace(_controller(seed=5), 12) != _trace(_controller(seed=6), 12)


def _reward(d) -> float:
    return 0.5 * (d.width == max(SPACE.channels)) + 0.5 * (d.stages[-1]["op"] == "max_pool_3x3")


def _steps(c: Controller, n: int, batch: int = 4) -> list:
    """``n`` REINFORCE steps; what was sampled and the stats of each."""
    out = []
    for _ in range(n):
        ds = [c.decide() for _ in range(batch)]
        stats = c.update([(d, _reward(d)) for d in ds])
        out.append(([(d.width, d.stages, d.actions) for d in ds], stats))
    return out


def _weights(c: Controller) -> dict:
    return {k: v.clone() for k, v in c.state_dict().items()}


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_get_state_and_set_state_continue_exactly():
    c = _controller(seed=2)
    _steps(c, 2)
    state = c.get_state()
    saved = pickle.dumps(state)  # what the run's checkpoint holds
    ahead = _steps(c, 3)
    ahead_weights = _weights(c)

    # the state taken before must not have moved with the controller
    c.set_state(state)
    assert _steps(c, 3) == ahead
    assert _same_weights(_weights(c), ahead_weights)

    # a fresh controller (another seed) continues exactly from the pickled state
    other = _controller(seed=77)
    other.set_state(pickle.loads(saved))
    assert _steps(other, 3) == ahead
    assert _same_weights(_weights(other), ahead_weights)


def test_update_replays_exactly_what_decide_sampled():
    """REINFORCE needs the log-probability of what was sampled: the replay must feed back the
    same sequence, including the slots the architecture did not use (e.g. BA's m for ER)."""
    c = _controller(seed=3)
    original = c._rollout
    sampled, replayed = [], []

    def spy(forced=None):
        picks, logps, ents = original(forced)
        (sampled if forced is None else replayed).append((list(picks), torch.stack(logps).detach()))
        return picks, logps, ents

    c._rollout = spy
    ds = [c.decide() for _ in range(4)]
    assert any(len(d.actions) < len(c.slots) for d in ds), "the test needs unused slots"
    c.update([(d, r) for d, r in zip(ds, (1.0, 0.0, 0.5, 0.25), strict=True)])
    assert len(replayed) == len(sampled) == 4
    for (picks, logp), (again, logp_again) in zip(sampled, replayed, strict=True):
        assert again == picks
        assert torch.allclose(logp, logp_again, atol=1e-6)


# -- learning --------------------------------------------------------------------------------------
def _share(c: Controller, n: int = 100) -> tuple[float, float]:
    ds = [c.decide() for _ in range(n)]
    width = sum(d.width == max(SPACE.channels) for d in ds) / n
    op = sum(d.stages[-1]["op"] == "max_pool_3x3" for d in ds) / n
    return width, op


def test_reinforce_makes_the_rewarded_choices_frequent():
    """Reward the largest width (the first decision) and pooling in the last stage (the last
    decisions): both start near a third and must end well above it."""
    c = _controller(seed=0)
    assert c.baseline is None
    width0, op0 = _share(c)
    assert width0 < 0.5 and op0 < 0.5
    history = _steps(c, 25, batch=8)
    width1, op1 = _share(c)
    assert width1 > max(0.6, width0 + 0.25), (width0, width1)
    assert op1 > max(0.8, op0 + 0.4), (op0, op1)

    # each step reports its batch's mean reward; the baseline is their moving average (decay
    # 0.9), starting at the first one
    expected = None
    for trace, stats in history:
        mean = sum(_reward_of(item) for item in trace) / len(trace)
        assert stats["reward"] == pytest.approx(mean, abs=1e-6)
        expected = mean if expected is None else 0.9 * expected + 0.1 * mean
        assert stats["baseline"] == pytest.approx(expected, abs=1e-9)
    assert c.baseline == pytest.approx(expected)
    assert history[-1][1]["baseline"] > history[0][1]["baseline"] + 0.1
    # the entropy bonus is reported and positive at every step
    assert all(stats["entropy"] > 0 for _, stats in history)


def _reward_of(item) -> float:
    width, stages, _ = item
    return 0.5 * (width == max(SPACE.channels)) + 0.5 * (stages[-1]["op"] == "max_pool_3x3")


@pytest.mark.parametrize("weight", [0.0, 0.2])
def test_with_equal_rewards_only_the_entropy_bonus_moves_the_policy(weight):
    """Equal rewards give zero advantages: without the bonus nothing changes, with it the
    policy's entropy rises."""
    c = _controller(seed=4, entropy=weight)
    batch = [(c.decide(), 0.5) for _ in range(4)]
    before = _weights(c)
    entropies = [c.update(batch)["entropy"] for _ in range(4)]
    assert all(e > 0 for e in entropies)
    if weight == 0.0:
        assert _same_weights(_weights(c), before)
        assert len(set(entropies)) == 1
    else:
        assert not _same_weights(_weights(c), before)
        assert entropies[-1] > entropies[0]


# -- the rl strategy -------------------------------------------------------------------------------
BUDGET = 10
TARGET = 5e5
MAX_MACS = 2e6


def _cfg(seed: int = 2) -> EvolveConfig:
    return EvolveConfig(
        search=SearchConfig(
            strategy="rl",
            population=4,
            budget_evals=BUDGET,
            max_macs=MAX_MACS,
            max_params=None,
            seconds=None,
            seed=seed,
        ),
        space=SPACE,
        proxy=ProxyConfig(fitness="synthetic", rungs=()),
        final=FinalConfig(top_k=1),
        execution=ExecutionConfig(workers=1),
        strategy={"rl": {"target_macs": TARGET}},
    )


class Killed(BaseException):
    """Stands for a SIGKILL: nothing in the search may catch it."""


class Inline(InlineExecutor):
    """Evaluates in this process, recording every task; 'dies' after ``die_after`` tasks."""

    def __init__(self, die_after: int | None = None):
        super().__init__()
        self.tasks: list[dict] = []
        self.die_after = die_after

    def evaluate(self, task):
        if self.die_after is not None and len(self.tasks) >= self.die_after:
            raise Killed
        self.tasks.append(task)
        return evaluate_task(task)


def _same_run(a: Path, b: Path) -> None:
    assert_same_run(a, b, exact=False)
    ca, cb = RunFolder(a).load_checkpoint(), RunFolder(b).load_checkpoint()
    assert _same_weights(ca.strategy["controller"]["weights"], cb.strategy["controller"]["weights"])
    assert ca.strategy["controller"]["baseline"] == cb.strategy["controller"]["baseline"]


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("rl") / "run"
    executor = Inline()
    outcome, lines = _search(_cfg(), path, executor)
    return path, outcome, lines, executor


def test_rl_search_spends_the_budget_on_controller_proposals(rl_run):
    path, outcome, lines, executor = rl_run
    log = _log(path)
    kinds = Counter(e["kind"] for e in log)
    assert outcome.trained == BUDGET == kinds["train"]
    assert len([t for t in executor.tasks if not t["final"]]) == BUDGET
    assert kinds["skipped"] > 0, "the test needs over-budget proposals (reward 0)"
    assert {e["origin"] for e in log} == {"controller"}
    for e in log:
        if e["kind"] == "train":
            saved = path / "architectures" / f"{e['hash']}.json"
            arch = Architecture.from_json(saved.read_text())
            assert all(s.origin["controller"] for s in arch.stages)
            assert e["result"]["macs"] <= MAX_MACS
    # the fitness is the MnasNet-style score (scalar)
    for ind in outcome.archive:
        assert ind.fitness.values == (constrained_score(ind.result, MAX_MACS, TARGET, -0.07),)
    state = json.loads((path / "run.json").read_text())
    assert state["status"] == "finished" and state["trained"] == BUDGET


def test_rl_rewards_are_the_fitness_of_each_generation_with_zero_for_skipped(rl_run):
    path, _, lines, _ = rl_run
    pattern = re.compile(r"controller: mean reward (\S+),")
    logged = [float(m.group(1)) for m in map(pattern.match, lines) if m]
    generations = sorted({e["generation"] for e in _log(path)})
    assert len(logged) == len(generations) == 3
    for gen, reported in zip(generations, logged, strict=True):
        rewards = [
            0.0
            if e["kind"] == "skipped"
            else constrained_score(e["result"], MAX_MACS, TARGET, -0.07)
            for e in _log(path)
            if e["generation"] == gen
        ]
        assert reported == pytest.approx(sum(rewards) / len(rewards), abs=1e-4)


def test_rl_checkpoint_holds_the_trained_controller(rl_run):
    path, *_ = rl_run
    state = RunFolder(path).load_checkpoint()
    saved = state.strategy["controller"]  # the rl strategy's own part of the typed state
    assert set(saved) == {"weights", "optimizer", "baseline", "generator"}
    assert saved["baseline"] is not None and saved["optimizer"]["state"]
    fresh = _controller(seed=_cfg().search.seed)
    assert not _same_weights(saved["weights"], _weights(fresh)), "the controller never learned"
    fresh.set_state(saved)
    assert _same_weights(_weights(fresh), saved["weights"])


def test_rl_search_is_deterministic_per_seed(rl_run, tmp_path):
    _search(_cfg(), tmp_path / "again", Inline())
    _same_run(rl_run[0], tmp_path / "again")
    _search(_cfg(seed=3), tmp_path / "other", Inline())
    assert log_multiset(tmp_path / "other", exact=False) != log_multiset(rl_run[0], exact=False)


@pytest.mark.parametrize("die_after", [6, BUDGET])  # mid generation 1; the final step
def test_rl_resume_after_a_kill_ends_as_the_uninterrupted_run(rl_run, die_after, tmp_path):
    with pytest.raises(Killed):
        _search(_cfg(), tmp_path / "run", Inline(die_after=die_after))
    assert sum(e["kind"] == "train" for e in _log(tmp_path / "run")) == min(die_after, BUDGET)
    executor = Inline()
    outcome, lines = _search(_cfg(), tmp_path / "run", executor, create=False)
    _same_run(rl_run[0], tmp_path / "run")
    assert outcome.trained == BUDGET
    assert len(executor.tasks) == BUDGET + 1 - die_after  # nothing evaluated twice (+1: final)
    assert any(line.startswith("resuming:") for line in lines)


# -- genesis evolve --strategy rl under a real SIGKILL ---------------------------------------------
CONFIG = f"""\
[search]
strategy = "rl"
population = 4
budget_evals = 12
max_macs = {MAX_MACS}
target_macs = {TARGET}
max_params = "none"
seconds = "none"
seed = 5
[space]
families = ["er", "ws", "ba"]
nodes = [3, 5]
max_nodes = 6
channels = [4, 8, 12]
ops = ["conv_3x3", "sep_conv_3x3", "max_pool_3x3"]
[proxy]
fitness = "synthetic"
synthetic_seconds = 0.2
rungs = []
[final]
top_k = 1
[execution]
workers = 1
"""


def test_rl_evolve_killed_and_resumed_ends_as_the_uninterrupted_run(tmp_path):
    (tmp_path / "rl.toml").write_text(CONFIG)
    # A: uninterrupted, in this process (results depend neither on the executor nor on how long
    # a synthetic evaluation sleeps)
    reference = tmp_path / "A"
    cfg = load_config(tmp_path / "rl.toml")
    _search(replace(cfg, proxy=replace(cfg.proxy, synthetic_seconds=0.0)), reference, Inline())

    # B: killed in the middle of generation 1, then resumed
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # see one_thread
    run = tmp_path / "B"
    cmd = [sys.executable, "-m", "genesis", "evolve"]
    proc = subprocess.Popen(
        [*cmd, "--config", "rl.toml", "--out", "B"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kill_when(proc, lambda: _trained(run) >= 5, "generation 1")
    assert 5 <= _trained(run) < 8, "the kill missed generation 1"
    assert RunFolder(run).load_checkpoint().strategy["controller"] is not None

    done = subprocess.run(
        [*cmd, "--resume", "B"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stderr
    _same_run(reference, run)
    slots = Counter((e["generation"], e["index"]) for e in _log(run) if e["kind"] == "train")
    assert len(slots) == 12 and max(slots.values()) == 1, "an evaluation was trained twice"
