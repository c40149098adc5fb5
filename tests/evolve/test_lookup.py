"""A search against a recorded table (evolve.lookup): every evaluation looked up, the space
the table's members, compute accounted as a real run's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evolve.config import EvolveConfig, check_proxy_data
from evolve.executors import InlineExecutor
from evolve.lookup import LookupTable, PoolSpace, load_table, lookup_record
from evolve.space import SearchSpace, SpaceConfig
from genesis import GenesisError, architecture_hash
from genesis.complexity import count_complexity
from tests.evolve.runfiles import read_log, run_search


def _rung(epochs: float, val: float, holdout: float, seconds: float = 5.0) -> dict:
    return {"epochs": epochs, "val": val, "holdout": holdout, "seconds": seconds,
            "status": "ok", "loss": [1.0], "error": None}  # fmt: skip


def make_table(folder: Path, n: int = 24, seeds2: int = 8) -> dict[str, dict]:
    """A recorded table in ``folder`` as benchmarks/spacebench.py writes one: ``n`` networks of
    the default space, each with made-up rungs (1 then 3 epochs) and a screen; the first
    ``seeds2`` with a second seed. Returns hash -> {seed: (val@1, val@3), "screen": val}."""
    folder.mkdir(parents=True, exist_ok=True)
    space, rng = SearchSpace(SpaceConfig()), random.Random(7)
    plan, lines, truth = [], [], {}
    seen: set[str] = set()
    while len(plan) < n:
        arch = space.sample(rng)
        h = architecture_hash(arch)
        if h in seen or count_complexity(arch).macs > 3e6:
            continue
        seen.add(h)
        i = len(plan)
        plan.append({"arch": json.loads(arch.to_json()), "hash": h, "index": i})
        truth[h] = {}
        for seed in (0, 1) if i < seeds2 else (0,):
            v1, v3 = (
                round(0.6 + 0.01 * i + 0.001 * seed, 4),
                round(0.7 + 0.01 * i + 0.002 * seed, 4),
            )
            truth[h][seed] = (v1, v3)
            rungs = [_rung(1.0, v1, v1 - 0.01), _rung(3.0, v3, v3 - 0.02)]
            lines.append({"hash": h, "index": i, "key": f"rungs-{i}-s{seed}", "kind": "rungs",
                          "rungs": rungs, "seed": seed, "wall": 1.0})  # fmt: skip
        screen = round(0.5 + 0.01 * i, 4)
        truth[h]["screen"] = screen
        lines.append({"hash": h, "index": i, "key": f"screen-{i}-s0", "kind": "screen",
                      "rungs": [_rung(1 / 3, screen, screen)], "seed": 0, "wall": 1.0})  # fmt: skip
    (folder / "architectures.jsonl").write_text("".join(json.dumps(e) + "\n" for e in plan))
    text = "".join(json.dumps(e) + "\n" for e in lines)
    (folder / "records.jsonl").write_text(text + '{"hash": "cut short by a ki')  # a killed write
    load_table.cache_clear()
    return truth


def lookup_config(table: Path, seed: int = 0, **search) -> EvolveConfig:
    return EvolveConfig().with_overrides(
        search={"population": 4, "budget": 20, "seed": seed, "seconds": None, **search},
        proxy={"fitness": "lookup", "lookup": str(table), "rungs": (1.0, 3.0)},
        final={"top_k": 0},
        execution={"workers": 1},
    )


def test_the_lookup_reproduces_a_recorded_curve(tmp_path):
    truth = make_table(tmp_path / "t")
    table = load_table(str(tmp_path / "t"))
    assert len(table.members) == 24 and sorted(table.epochs()) == pytest.approx([1 / 3, 1, 3])
    for arch, h in zip(table.members, table.hashes, strict=True):
        cx = count_complexity(arch)
        for seed in (0, 1, 2, 3):
            replay = sorted(k for k in truth[h] if k != "screen")
            want = truth[h][replay[seed % len(replay)]]
            got = [lookup_record(table, arch, seed, e, (cx.macs, cx.params)) for e in (1.0, 3.0)]
            assert [r["val_accuracy"] for r in got] == list(want)
            assert [r["holdout_accuracy"] for r in got] == pytest.approx(
                [want[0] - 0.01, want[1] - 0.02]
            )
            assert [r["epochs"] for r in got] == [1.0, 3.0] and got[0]["status"] == "ok"
        screen = lookup_record(table, arch, 0, 1 / 3, (cx.macs, cx.params))
        assert screen["val_accuracy"] == truth[h]["screen"]


def test_a_network_or_epochs_the_table_lacks_is_a_failed_record_not_a_crash(tmp_path):
    make_table(tmp_path / "t", n=4)
    table = load_table(str(tmp_path / "t"))
    other = SearchSpace(SpaceConfig()).sample(random.Random(999))
    r = lookup_record(table, other, 0, 1.0, (1, 1))
    assert r["status"] == "error" and "has no training" in r["error"]
    r = lookup_record(table, table.members[0], 0, 9.0, (1, 1))
    assert r["status"] == "error" and "at 9 epochs" in r["error"]


def test_a_search_against_the_table_looks_up_every_evaluation_in_its_pool(tmp_path):
    truth = make_table(tmp_path / "t")
    cfg = lookup_config(tmp_path / "t")
    run_search(cfg, tmp_path / "run", InlineExecutor(1))
    trained = [e for e in read_log(tmp_path / "run") if e.get("kind") == "train"]
    assert len(trained) >= 8
    assert not (tmp_path / "run" / "rungs").exists()  # nothing trained, no states kept
    for e in trained:
        assert e["hash"] in truth  # every candidate is a member of the table
        replay = sorted(k for k in truth[e["hash"]] if k != "screen")
        v1, v3 = truth[e["hash"]][replay[e["seed"] % len(replay)]]
        assert e["result"]["val_accuracy"] == (v3 if e.get("rung") == 1 else v1)
    compute = json.loads((tmp_path / "run" / "run.json").read_text())["compute"]
    assert compute == sum(1.0 if not e.get("rung") else 2.0 for e in trained) <= 20


@pytest.mark.parametrize("strategy", ["nsga2", "regularized", "rl"])
def test_every_strategy_proposes_only_members(tmp_path, strategy):
    truth = make_table(tmp_path / "t")
    run_search(lookup_config(tmp_path / "t", strategy=strategy), tmp_path / "r", InlineExecutor(1))
    hashes = {e["hash"] for e in read_log(tmp_path / "r") if e.get("kind") == "train"}
    assert hashes and hashes <= set(truth)


def test_a_mutation_lands_on_the_nearest_other_member(tmp_path):
    make_table(tmp_path / "t")
    table = load_table(str(tmp_path / "t"))
    space, rng = PoolSpace(SpaceConfig(), table), random.Random(3)
    for arch in table.members[:8]:
        child = space.mutate(arch, rng)
        assert architecture_hash(child) in table.hashes
        assert architecture_hash(child) != architecture_hash(arch)


def test_rungs_the_table_did_not_record_are_refused_before_the_run(tmp_path):
    make_table(tmp_path / "t", n=3)
    cfg = lookup_config(tmp_path / "t").with_overrides(proxy={"rungs": (1.0, 2.0)})
    with pytest.raises(
        GenesisError, match=r"epochs the lookup table recorded \(0.333333, 1, 3\), got 2"
    ):
        check_proxy_data(cfg)
    check_proxy_data(lookup_config(tmp_path / "t"))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "records.jsonl").unlink(), "does not exist"),
        (lambda d: (d / "records.jsonl").write_text(""), "no recorded training"),
        (
            lambda d: (d / "architectures.jsonl").write_text('{"arch": {"stages": 3}}\n'),
            "not a valid architecture",
        ),
        (lambda d: _link(d / "records.jsonl"), "records.jsonl"),
    ],
)
def test_a_damaged_or_hostile_table_is_one_clear_error(tmp_path, damage, message):
    make_table(tmp_path / "t", n=3)
    damage(tmp_path / "t")
    load_table.cache_clear()
    with pytest.raises(GenesisError, match=message):
        load_table(str(tmp_path / "t"))


def _link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/etc/hostname")


def test_fitness_and_table_go_together():
    with pytest.raises(GenesisError, match="goes with fitness = 'lookup'"):
        EvolveConfig().with_overrides(proxy={"fitness": "lookup"})
    with pytest.raises(GenesisError, match="goes with fitness = 'lookup'"):
        EvolveConfig().with_overrides(proxy={"lookup": "somewhere"})
    assert isinstance(LookupTable(Path(".")).epochs(), list)
