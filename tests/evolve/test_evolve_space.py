"""The search space: sampling and variation stay inside the config and never touch a parent."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from evolve.space import SearchSpace, SpaceConfig
from genesis import Architecture, GenesisError, architecture_hash, build_architecture, get_preset
from genesis.complexity import count_complexity
from graphs import DEFAULT_OP

SEEDS = range(12)
CFG = SpaceConfig()
SPACE = SearchSpace(CFG)
MUTATIONS = tuple(SearchSpace.MUTATIONS)


def _check_valid(arch: Architecture, cfg: SpaceConfig) -> None:
    """Valid genome, within the config's ops, node cap, families and hyperparameter ranges."""
    assert isinstance(arch, Architecture)
    assert Architecture.from_json(arch.to_json()) == arch
    assert count_complexity(arch).macs > 0
    preset = get_preset(cfg.preset)
    assert arch.input_shape == tuple(preset.input_shape)
    assert arch.op_names() <= set(cfg.ops) | {DEFAULT_OP}
    for stage in arch.stages:
        assert 2 <= stage.num_nodes <= cfg.max_nodes
        family = (stage.origin or {}).get("family")
        assert family is None or family in cfg.families
    t = arch.train
    assert t.optimizer in cfg.optimizers
    lo, hi = cfg.lr_sgd if t.optimizer == "sgd" else cfg.lr_adamw
    assert lo * (1 - 1e-6) <= t.lr <= hi * (1 + 1e-6)
    assert cfg.weight_decay[0] * (1 - 1e-6) <= t.weight_decay <= cfg.weight_decay[1] * (1 + 1e-6)
    assert cfg.label_smoothing[0] <= t.label_smoothing <= cfg.label_smoothing[1]
    assert t.batch_size in cfg.batch_sizes


@pytest.mark.parametrize(
    "cfg",
    [
        CFG,
        SpaceConfig(families=("er",), nodes=(3, 3), channels=(4,), optimizers=("adamw",)),
        SpaceConfig(families=("ws",), nodes=(5, 6), channels=(12, 20), batch_sizes=(32,)),
        SpaceConfig(families=("ba",), nodes=(2, 4), max_nodes=6, preset="cifar10"),
    ],
    ids=["default", "er", "ws", "ba-cifar10"],
)
def test_sample_stays_within_the_config(cfg):
    space = SearchSpace(cfg)
    rng = random.Random(0)
    for _ in SEEDS:
        arch = space.sample(rng)
        _check_valid(arch, cfg)
        for stage in arch.stages:  # one op per stage, drawn from the space
            assert len(set(stage.ops().values())) == 1 and set(stage.ops().values()) <= set(cfg.ops)
        nodes = {stage.num_nodes for stage in arch.stages}
        assert len(nodes) == 1 and cfg.nodes[0] <= nodes.pop() <= cfg.nodes[1]
        assert arch.stages[0].channels in cfg.channels
        families = {stage.origin["family"] for stage in arch.stages}
        assert len(families) == 1 and families <= set(cfg.families)
        for stage in arch.stages:
            assert stage.origin["nodes"] == stage.num_nodes
            assert (
                set(stage.origin["params"])
                == {"er": {"p"}, "ws": {"k", "p"}, "ba": {"m"}}[stage.origin["family"]]
            )


def test_sample_draws_every_family_and_width():
    rng = random.Random(1)
    archs = [SPACE.sample(rng) for _ in range(30)]
    assert {a.stages[0].origin["family"] for a in archs} == set(CFG.families)
    assert {a.stages[0].channels for a in archs} == set(CFG.channels)
    # every op of the space, stage by stage (as the rl controller chooses), the default among them
    assert {op for a in archs for s in a.stages for op in s.ops().values()} == set(CFG.ops)
    assert DEFAULT_OP in CFG.ops
    # one training recipe: two small graphs may now and then be isomorphic (the search caches)
    assert len({architecture_hash(a) for a in archs}) >= len(archs) - 2


def test_new_individuals_train_with_the_preset_recipe_or_sampled_hyperparameters():
    recipe = get_preset(CFG.preset).train
    rng = random.Random(3)
    trains = [SPACE.sample(rng).train for _ in range(20)]
    assert {t.batch_size for t in trains} == {min(CFG.batch_sizes)}
    assert {(t.optimizer, t.lr, t.weight_decay, t.label_smoothing) for t in trains} == {
        (recipe.optimizer, recipe.lr, recipe.weight_decay, recipe.label_smoothing)
    }
    sampled = SearchSpace(SpaceConfig(train_init="sample"))
    trains = [sampled.sample(rng).train for _ in range(40)]
    assert {t.batch_size for t in trains} == set(CFG.batch_sizes)
    assert len({t.lr for t in trains}) == 40 and {t.optimizer for t in trains} == {"sgd", "adamw"}
    # a recipe outside the space is brought into it
    adam = SearchSpace(SpaceConfig(optimizers=("adamw",), lr_adamw=(1e-3, 4e-3), batch_sizes=(64,)))
    t = adam.sample(rng).train
    assert (t.optimizer, t.lr, t.batch_size) == ("adamw", 0.002, 64)


@pytest.mark.parametrize("seed", SEEDS)
def test_mutate_and_crossover_return_new_valid_architectures_and_keep_parents(seed):
    rng = random.Random(seed)
    a, b = SPACE.sample(rng), SPACE.sample(rng)
    for _ in range(4):
        ja, jb = a.to_json(), b.to_json()
        child = SPACE.mutate(a, rng)
        x, y = SPACE.crossover(a, b, rng)
        assert (a.to_json(), b.to_json()) == (ja, jb), "a parent was changed"
        for new in (child, x, y):
            assert new is not a and new is not b
            _check_valid(new, CFG)
        a, b = child, x


@pytest.mark.parametrize("kind", MUTATIONS)
def test_each_mutation_changes_the_child_not_the_parent(kind):
    changed = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        parent = SPACE.sample(rng)
        before = parent.to_json()
        child = getattr(SPACE, f"_mutate_{kind}")(parent, rng)
        assert parent.to_json() == before
        _check_valid(child, CFG)
        changed += child.to_json() != before
    assert changed >= len(SEEDS) - 2, f"{kind} mutation rarely changes anything"


@pytest.mark.parametrize("seed", SEEDS)
def test_stage_op_mutation_gives_one_stage_a_new_op_and_keeps_its_wiring(seed):
    rng = random.Random(seed)
    parent = SPACE.sample(rng)
    child = SPACE._mutate_op(parent, rng)
    changed = [
        k for k, (a, b) in enumerate(zip(parent.stages, child.stages, strict=True)) if a != b
    ]
    assert len(changed) == 1
    old, new = parent.stages[changed[0]], child.stages[changed[0]]
    assert set(new.ops().values()) != set(old.ops().values())
    assert len(set(new.ops().values())) == 1 and set(new.ops().values()) <= set(CFG.ops)
    assert sorted(new.graph.edges) == sorted(old.graph.edges)
    assert (new.channels, new.stride, new.origin) == (old.channels, old.stride, old.origin)


@pytest.mark.parametrize("seed", SEEDS)
def test_scale_moves_along_the_mac_axis_and_keeps_the_wiring(seed):
    rng = random.Random(seed)
    parent = SPACE.sample(rng)
    child = SPACE._mutate_scale(parent, rng)
    ratio = count_complexity(child).macs / count_complexity(parent).macs
    widths = [s.channels for s in parent.stages] + [layer.channels for layer in parent.stem]
    new_widths = [s.channels for s in child.stages] + [layer.channels for layer in child.stem]
    factors = {round(b / a, 2) for a, b in zip(widths, new_widths, strict=True)}
    assert all(w % 4 == 0 and w >= 4 for w in new_widths)
    if max(factors) > 1:  # wider: MACs grow by about the factor squared (rounding to 4s)
        assert all(f > 1 for f in factors) and 1.3 < ratio < 2.6
    else:
        assert all(f < 1 for f in factors) and 0.3 < ratio < 0.8
    for a, b in zip(parent.stages, child.stages, strict=True):
        assert sorted(a.graph.edges) == sorted(b.graph.edges) and a.ops() == b.ops()
    assert child.train == parent.train


def test_hyperparameter_moves_are_small_steps():
    cfg = SpaceConfig(batch_sizes=(32, 64, 128))
    space = SearchSpace(cfg)
    rng = random.Random(0)
    for _ in range(200):
        parent = space.sample(rng)
        child = space._mutate_train(parent, rng)
        a, b = parent.train, child.train
        if a.batch_size != b.batch_size:  # a neighbouring batch size, never a jump
            assert {a.batch_size, b.batch_size} in ({32, 64}, {64, 128})
        if a.optimizer != b.optimizer:  # the learning rate keeps its place in the new range
            old = cfg.lr_sgd if a.optimizer == "sgd" else cfg.lr_adamw
            new = cfg.lr_sgd if b.optimizer == "sgd" else cfg.lr_adamw
            where_a = math.log(a.lr / old[0]) / math.log(old[1] / old[0])
            where_b = math.log(b.lr / new[0]) / math.log(new[1] / new[0])
            assert where_b == pytest.approx(where_a, abs=1e-3)
            assert (a.weight_decay, a.batch_size) == (b.weight_decay, b.batch_size)


def test_children_are_distinct_networks_most_of_the_time():
    rng = random.Random(5)
    parents = [SPACE.sample(rng) for _ in range(10)]
    new = sum(architecture_hash(SPACE.mutate(p, rng)) != architecture_hash(p) for p in parents)
    assert new >= 8


def test_generator_mutation_of_a_two_node_stage_never_draws_an_impossible_graph():
    # Watts-Strogatz needs an even k with 2 <= k < n: there is none for n = 2, so a stage
    # that shrank to two nodes must not be redrawn as WS with two nodes (regression).
    space = SearchSpace(SpaceConfig(families=("ws",), nodes=(3, 4)))
    small = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, channels=8, nodes=2)
    for seed in range(40):
        child = space._mutate_generator(small, random.Random(seed))
        assert Architecture.from_json(child.to_json()) == child
        assert count_complexity(child).macs > 0
        redrawn = [s for s in child.stages if s.origin["family"] == "ws"]
        assert len(redrawn) == 1 and redrawn[0].num_nodes >= 3


def test_long_lineages_stay_valid():
    rng = random.Random(11)
    space = SearchSpace(SpaceConfig(nodes=(3, 4), max_nodes=5, channels=(4,)))
    a, b = space.sample(rng), space.sample(rng)
    for _ in range(60):
        a = space.mutate(a, rng)
        b, _ = space.crossover(b, a, rng)
    for arch in (a, b):
        _check_valid(arch, space.cfg)


def test_the_same_seed_gives_the_same_sequence():
    def sequence(seed):
        rng = random.Random(seed)
        a, b = SPACE.sample(rng), SPACE.sample(rng)
        out = [a.to_json(), b.to_json()]
        for _ in range(5):
            a = SPACE.mutate(a, rng)
            x, y = SPACE.crossover(a, b, rng)
            out += [a.to_json(), x.to_json(), y.to_json()]
        return out

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)


def test_the_global_generators_are_never_touched():
    state, np_state = random.getstate(), repr(np.random.get_state())
    rng = random.Random(0)
    a, b = SPACE.sample(rng), SPACE.sample(rng)
    for _ in range(5):
        a = SPACE.mutate(a, rng)
        SPACE.crossover(a, b, rng)
    assert random.getstate() == state
    assert repr(np.random.get_state()) == np_state


def test_sampled_hyperparameters_are_log_uniform():
    rng = random.Random(2)
    cfg = SpaceConfig(optimizers=("sgd",))
    space = SearchSpace(cfg)
    logs = [math.log(space.sample_train(rng, SPACE.sample(rng).train).lr) for _ in range(200)]
    lo, hi = map(math.log, cfg.lr_sgd)
    assert abs(np.mean(logs) - (lo + hi) / 2) < 0.15 * (hi - lo)


@pytest.mark.parametrize(
    "values, match",
    [
        ({"nodes": (5, 4)}, r"space nodes must satisfy 2 <= low <= high <= max_nodes"),
        ({"nodes": (1, 4), "families": ("er",)}, "space nodes must satisfy"),
        ({"nodes": (4, 20)}, r"got \(4, 20\) with max_nodes=16"),
        ({"nodes": (3,)}, r"space nodes must be a range \[low, high\], got \(3,\)"),
        ({"nodes": (3.0, 4.0)}, r"space nodes must be a range \[low, high\]"),
        ({"nodes": (2, 4)}, "space nodes low must be >= 3 with family ws"),
        ({"ops": ("conv_9x9",)}, r"space ops \['conv_9x9'\] are unknown; known ops: "),
        ({"ops": ()}, "must be non-empty"),
        ({"families": ("nx:star",)}, "space families must be among er, ws, ba, got 'nx:star'"),
        ({"families": ()}, "must be non-empty"),
        ({"channels": ()}, "must be non-empty"),
        ({"channels": (8, 1)}, "space channels must be integers >= 2, got 1"),
        ({"batch_sizes": (0,)}, "space batch_sizes must be integers >= 1, got 0"),
        ({"optimizers": ("lion",)}, r"space optimizers \['lion'\] are unknown; known: sgd"),
        ({"lr_sgd": (0.0, 0.1)}, r"space lr_sgd must be a range 0 < low <= high"),
        ({"lr_adamw": (1e-2, 1e-3)}, "space lr_adamw must be a range 0 < low <= high"),
        ({"weight_decay": (1e-4,)}, r"space weight_decay must be a range \[low, high\]"),
        ({"label_smoothing": (0.2, 0.1)}, "space label_smoothing must be a range 0 <= low"),
        ({"label_smoothing": (0.0, 1.0)}, "space label_smoothing must be a range"),
        ({"preset": "imagenet"}, "unknown preset 'imagenet'; known presets: fashion-mnist"),
    ],
)
def test_bad_space_config_raises(values, match):
    with pytest.raises(GenesisError, match=match):
        SpaceConfig(**values)
