"""Presets: documented macro layouts, reproducible builds, overrides and their checks."""

from __future__ import annotations

import random
import re

import pytest

from genesis import (
    DEFAULT_PRESET,
    PRESETS,
    Architecture,
    GenesisError,
    Head,
    Preset,
    StemLayer,
    TrainConfig,
    architecture_hash,
    build_architecture,
    get_preset,
    preset_names,
)
from genesis.presets import StageSlot, register_preset


def layout(arch: Architecture) -> dict:
    return {
        "input_shape": arch.input_shape,
        "num_classes": arch.num_classes,
        "stem": [(layer.channels, layer.stride) for layer in arch.stem],
        "stages": [(s.channels, s.num_nodes, s.stride) for s in arch.stages],
        "head": arch.head.channels,
    }


def test_registry_holds_the_documented_presets():
    assert {"fashion-mnist", "cifar10", "randwire-small", "randwire-regular"} <= set(PRESETS)
    assert DEFAULT_PRESET == "fashion-mnist"
    for name, preset in PRESETS.items():
        assert get_preset(name) is preset and preset.name == name
        assert preset.description


def test_preset_names_list_the_registry_in_order():
    assert preset_names() == list(PRESETS)
    assert preset_names()[:4] == ["fashion-mnist", "cifar10", "randwire-small", "randwire-regular"]
    assert preset_names() is not preset_names()  # a fresh list: changing it changes nothing


def test_fashion_mnist_layout():
    arch = build_architecture("fashion-mnist", seed=0)
    c = 16
    assert layout(arch) == {
        "input_shape": (1, 28, 28),
        "num_classes": 10,
        "stem": [(c, 1)],
        "stages": [(c, 8, 1), (2 * c, 8, 2), (4 * c, 8, 2)],
        "head": 8 * c,
    }
    assert arch.name == "fashion-mnist"
    assert build_architecture(seed=0) == arch  # the default preset


def test_cifar10_layout():
    arch = build_architecture("cifar10", seed=0)
    assert arch.input_shape == (3, 32, 32) and arch.num_classes == 10
    assert [(s.channels, s.stride) for s in arch.stages] == [(32, 1), (64, 2), (128, 2)]
    assert arch.train.epochs == 30


def test_randwire_small_layout():
    # Xie et al. 2019, table 2 (small regime): conv1 C/2 /2, conv2 C /2, stages C, 2C, 4C.
    arch = build_architecture("randwire-small", seed=0)
    assert layout(arch) == {
        "input_shape": (3, 224, 224),
        "num_classes": 1000,
        "stem": [(39, 2), (78, 2)],
        "stages": [(78, 32, 2), (156, 32, 2), (312, 32, 2)],
        "head": 1280,
    }
    assert arch.train.schedule == "cosine"


@pytest.mark.parametrize(
    ("channels", "stem", "widths"),
    [(None, [(54, 2)], [109, 218, 436, 872]), (154, [(77, 2)], [154, 308, 616, 1232])],
)
def test_randwire_regular_layout(channels, stem, widths):
    # Regular regime: conv1 C/2 /2, an N/2-node stage of C, then N-node stages 2C, 4C, 8C.
    arch = build_architecture("randwire-regular", seed=0, channels=channels)
    assert layout(arch) == {
        "input_shape": (3, 224, 224),
        "num_classes": 1000,
        "stem": stem,
        "stages": list(zip(widths, [16, 32, 32, 32], [2, 2, 2, 2], strict=True)),
        "head": 1280,
    }


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_same_seed_same_architecture(preset):
    a = build_architecture(preset, seed=42)
    b = build_architecture(preset, seed=42)
    assert a == b
    assert a.to_json() == b.to_json()
    assert architecture_hash(a) == architecture_hash(b)
    c = build_architecture(preset, seed=43)
    assert c != a and architecture_hash(c) != architecture_hash(a)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_meta_and_origin_record_the_draw(preset):
    spec = get_preset(preset)
    arch = build_architecture(preset, seed=5)
    assert dict(arch.meta) == {
        "preset": preset,
        "family": "ws",
        "params": {"k": 4, "p": 0.75},
        "channels": spec.channels,
        "nodes": spec.nodes,
        "stages": spec.stages,
        "seed": 5,
    }
    for stage in arch.stages:
        assert dict(stage.origin) == {
            "family": "ws",
            "params": {"k": 4, "p": 0.75},
            "nodes": stage.num_nodes,
        }
        assert set(stage.ops().values()) == {"sep_conv_3x3"}
    assert arch.train == spec.train
    assert len(arch.stages) == spec.stages


def test_a_random_generator_as_seed():
    a = build_architecture("cifar10", "er", {"p": 0.3}, seed=random.Random(9))
    b = build_architecture("cifar10", "er", {"p": 0.3}, seed=random.Random(9))
    assert a == b and a.meta["seed"] is None


def test_stages_of_one_build_are_drawn_in_turn():
    # One generator draws every stage: equal sizes, still different wirings.
    arch = build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=1)
    graphs = [sorted(s.graph.edges) for s in arch.stages]
    assert len({str(g) for g in graphs}) == 3


def test_other_family_takes_its_own_parameters():
    arch = build_architecture("fashion-mnist", "ba", {"m": 3}, seed=0)
    assert arch.meta["family"] == "ba" and arch.meta["params"] == {"m": 3}
    for stage in arch.stages:
        assert len(list(stage.graph.successors(stage.graph.graph["input"]))) == 3


@pytest.mark.parametrize(
    ("kwargs", "stages"),
    [
        ({"channels": 8}, [(8, 8, 1), (16, 8, 2), (32, 8, 2)]),
        ({"nodes": 5}, [(16, 5, 1), (32, 5, 2), (64, 5, 2)]),
        ({"stages": 2}, [(16, 8, 1), (32, 8, 2)]),
        (
            {"stages": 5, "channels": 2, "nodes": 6},
            [(2 * 2**i, 6, 1 if i == 0 else 2) for i in range(5)],
        ),
    ],
)
def test_overrides(kwargs, stages):
    arch = build_architecture("fashion-mnist", seed=0, **kwargs)
    assert [(s.channels, s.num_nodes, s.stride) for s in arch.stages] == stages
    for key, value in kwargs.items():
        assert arch.meta[key] == value


def test_randwire_overrides():
    small = build_architecture("randwire-small", seed=0, channels=40, nodes=10, stages=2)
    assert layout(small)["stem"] == [(20, 2), (40, 2)]
    assert layout(small)["stages"] == [(40, 10, 2), (80, 10, 2)]
    regular = build_architecture("randwire-regular", "er", {"p": 0.2}, seed=0, nodes=10)
    assert [s.num_nodes for s in regular.stages] == [5, 10, 10, 10]


def test_op_and_train_overrides():
    train = TrainConfig(optimizer="adamw", lr=1e-3, epochs=3)
    arch = build_architecture("cifar10", seed=0, op="conv_3x3", train=train)
    assert arch.op_names() == {"conv_3x3"}
    assert arch.train == train


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channels": 1}, "channels must be an integer >= 2, got 1"),
        ({"channels": 0}, "channels must be an integer >= 2, got 0"),
        ({"channels": 16.0}, "channels must be an integer >= 2, got 16.0"),
        ({"channels": True}, "channels must be an integer >= 2, got True"),
        ({"nodes": 1}, "nodes must be an integer >= 2, got 1"),
        ({"nodes": "8"}, "nodes must be an integer >= 2, got '8'"),
        ({"stages": 0}, "stages must be an integer >= 1, got 0"),
        ({"stages": -1}, "stages must be an integer >= 1, got -1"),
        ({"nodes": 4}, "watts_strogatz needs even k with 2 <= k < n, got k=4, n=4"),
        ({"op": "conv_9x9"}, "unknown op 'conv_9x9'"),
    ],
)
def test_bad_overrides(kwargs, message):
    with pytest.raises(GenesisError, match=re.escape(message)):
        build_architecture("fashion-mnist", seed=0, **kwargs)


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("ws", {"k": 3, "p": 0.5}, "watts_strogatz needs even k"),
        ("er", {}, "family 'er' needs parameters ['p']"),
        ("er", {"p": 0.2, "k": 4}, "family 'er' takes parameters ['p'], got unknown ['k']"),
        ("ba", {"m": 8}, "barabasi_albert needs 1 <= m < n, got m=8, n=8"),
        ("ba", {"m": 2, "initial": "ring"}, "initial must be 'isolated' or 'star'"),
        ("hex", {}, "unknown graph family 'hex'"),
        ("nx:no_such_graph", {}, "unknown networkx generator 'no_such_graph'"),
        ("ws", {"k": 4, "p": 0.5, "n": 8}, "graph parameters may not set ['n']"),
        ("ws", {"k": 4, "p": 0.5, "seed": 1}, "graph parameters may not set ['seed']"),
        ("er", {"p": 0.5, "op": "conv_3x3"}, "graph parameters may not set ['op']"),
    ],
)
def test_bad_family_parameters(family, params, message):
    with pytest.raises(GenesisError, match=re.escape(message)):
        build_architecture("fashion-mnist", family, params, seed=0)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(GenesisError, match="unknown preset 'imagenet'; known presets: ") as err:
        get_preset("imagenet")
    for name in PRESETS:
        assert name in str(err.value)
    with pytest.raises(GenesisError, match="unknown preset 'imagenet'"):
        build_architecture("imagenet")


def test_register_preset():
    from genesis import presets

    tiny = Preset(
        name="tiny",
        description="8x8x1, 2 classes",
        input_shape=(1, 8, 8),
        num_classes=2,
        channels=4,
        nodes=3,
        stages=1,
        layout=lambda c, n, s: ([StemLayer(c)], [StageSlot(n, c, 1)] * s),
        head=lambda c: Head(),
        family="er",
        params={"p": 0.5},
    )
    assert register_preset(tiny) is tiny
    try:
        assert presets.get_preset("tiny") is tiny
        assert preset_names()[-1] == "tiny" and preset_names()[0] == DEFAULT_PRESET
        arch = build_architecture("tiny", seed=0)
        assert layout(arch)["stages"] == [(4, 3, 1)]
        assert arch.meta["family"] == "er" and arch.head == Head()
    finally:
        PRESETS.unregister("tiny")
    assert "tiny" not in PRESETS
