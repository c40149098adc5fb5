"""Exact MACs/params from the genome, held equal to what torch counts on the built module."""

import json
import statistics
import time
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from genesis import GenesisError, build_architecture, op_names
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity, feature_plan
from genesis.genome import Architecture, Head, Stage, StemLayer
from genesis.ops import OPS
from genesis.presets import preset_names
from graphs import compute_nodes, family_names, get_family, random_dag

REGRESSION = Path(__file__).with_name("model_complexity.json")


def torch_counts(model: torch.nn.Module, arch: Architecture) -> tuple[int, int]:
    """(params, MACs) as torch counts them; the forward runs on the meta device (no compute)."""
    params = sum(p.numel() for p in model.parameters())
    meta = model.to("meta")
    with FlopCounterMode(display=False) as counter:
        meta(torch.empty(1, *arch.input_shape, device="meta"))
    total = counter.get_total_flops()
    assert total % 2 == 0
    return params, total // 2


def check_exact(arch: Architecture) -> None:
    cx = count_complexity(arch)
    params, macs = torch_counts(compile_architecture(arch), arch)
    assert cx.params == params
    assert cx.macs == macs
    assert cx.flops == 2 * macs


@pytest.mark.parametrize("preset", sorted(preset_names()))
@pytest.mark.parametrize(
    "family,params",
    [("ws", {"k": 4, "p": 0.75}), ("er", {"p": 0.2}), ("ba", {"m": 3})]
    + [(f, dict(get_family(f).defaults)) for f in family_names() if f not in ("er", "ws", "ba")],
)
def test_exact_for_every_preset_and_family(preset, family, params):
    check_exact(build_architecture(preset, family, params, seed=1))


@pytest.mark.parametrize("op", sorted(OPS))
def test_exact_for_every_op(op):
    # Stride-1 and stride-2 stages, width changes at the stage input, several inputs per node.
    arch = build_architecture("cifar10", "er", {"p": 0.4}, seed=2, op=op, nodes=6)
    check_exact(arch)


def test_exact_for_random_architectures():
    import random

    rng = random.Random(5)
    for _ in range(15):
        ops = op_names()
        stages = []
        c = rng.choice([4, 8, 12])
        for _s in range(rng.randint(1, 3)):
            G = random_dag("er", rng.randint(2, 9), seed=rng, p=rng.random())
            for v in compute_nodes(G):
                G.nodes[v]["op"] = rng.choice(ops)
            c = rng.choice([c, 2 * c, c + 4])
            stages.append(Stage(G, c, rng.choice([1, 2])))
        arch = Architecture(
            input_shape=(rng.choice([1, 3]), rng.choice([16, 17, 28]), rng.choice([16, 28])),
            num_classes=rng.randint(2, 20),
            stem=tuple(
                StemLayer(rng.choice([4, 8]), rng.choice([1, 2]), rng.choice([1, 3, 5]))
                for _ in range(rng.randint(0, 2))
            ),
            stages=tuple(stages),
            head=Head(channels=rng.choice([0, 16]), dropout=rng.choice([0.0, 0.2])),
        )
        check_exact(arch)


def test_paper_complexity_randwire_small():
    """RandWire small regime, WS(4, 0.75), C=78: 583M MACs and 5.6M params (Table 2)."""
    runs = [
        count_complexity(build_architecture("randwire-small", "ws", {"k": 4, "p": 0.75}, seed=s))
        for s in range(10)
    ]
    macs = statistics.mean(r.macs for r in runs)
    params = statistics.mean(r.params for r in runs)
    assert abs(macs / 583e6 - 1) < 0.02
    assert abs(params / 5.6e6 - 1) < 0.03


def test_paper_complexity_randwire_regular_154():
    """RandWire regular regime, WS(4, 0.75), C=154: 7.9G MACs and 61.5M params (Table 3)."""
    runs = [
        count_complexity(
            build_architecture("randwire-regular", "ws", {"k": 4, "p": 0.75}, seed=s, channels=154)
        )
        for s in range(10)
    ]
    macs = statistics.mean(r.macs for r in runs)
    params = statistics.mean(r.params for r in runs)
    assert abs(macs / 7.9e9 - 1) < 0.03
    assert abs(params / 61.5e6 - 1) < 0.03


def test_counting_takes_milliseconds():
    arch = build_architecture("randwire-regular", seed=0)
    count_complexity(arch)
    t = time.perf_counter()
    for _ in range(10):
        count_complexity(arch)
    assert (time.perf_counter() - t) / 10 < 0.05  # a forward pass at 224x224 takes seconds


def test_regression_file_of_presets():
    """MACs/params per preset at seed 0 (pycls's dev/model_complexity.json).

    A change here is a change of every published number: update the file deliberately with
    ``python tests/genesis/test_complexity.py``.
    """
    expected = json.loads(REGRESSION.read_text())
    assert expected == regression_table()


def regression_table() -> dict:
    return {
        name: count_complexity(build_architecture(name, seed=0)).as_dict()
        for name in sorted(preset_names())
    }


def test_too_many_downsamplings_fail_with_one_message():
    arch = build_architecture("fashion-mnist", seed=0, stages=7)
    with pytest.raises(GenesisError, match=r"stage 6 downsamples a 1x1 feature map.*at most 5"):
        feature_plan(arch)
    with pytest.raises(GenesisError, match="downsamples"):
        compile_architecture(arch)
    with pytest.raises(GenesisError, match="downsamples"):
        count_complexity(arch)


if __name__ == "__main__":
    REGRESSION.write_text(json.dumps(regression_table(), indent=2) + "\n")
    print(f"wrote {REGRESSION}")
