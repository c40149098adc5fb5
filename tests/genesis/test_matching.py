"""genesis.matching: widths that bring a network within ±2% of a MAC target, for every family."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from genesis import GenesisError, build_architecture
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.limits import MAX_CHANNELS
from genesis.matching import match_macs, scale_widths, widths_of
from graphs import family_names, get_family

TARGETS = (4e5, 1e6, 3e6)


def _arch(family: str, seed: int = 0, nodes: int = 8, preset: str = "fashion-mnist"):
    return build_architecture(
        preset, family, dict(get_family(family).defaults), seed=seed, nodes=nodes
    )


@pytest.mark.parametrize("family", family_names())
@pytest.mark.parametrize("target", TARGETS)
def test_every_family_is_matched_within_two_percent(family, target):
    for seed in range(3):
        arch = _arch(family, seed)
        matched, macs = match_macs(arch, target)
        assert abs(macs - target) <= 0.02 * target
        assert count_complexity(matched).macs == macs  # genesis info's count
        # only widths change: the graphs, ops, strides and recipe are the network's own
        assert [s.graph.edges for s in matched.stages] == [s.graph.edges for s in arch.stages]
        assert [s.ops() for s in matched.stages] == [s.ops() for s in arch.stages]
        assert [s.stride for s in matched.stages] == [s.stride for s in arch.stages]
        assert matched.train == arch.train


def test_the_matched_count_is_what_torch_counts():
    matched, macs = match_macs(_arch("ws", 1), 1e6)
    model = compile_architecture(matched, seed=0).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, *matched.input_shape))
    assert counter.get_total_flops() == 2 * macs


def test_a_tighter_tolerance_is_met_or_refused_by_name():
    arch = _arch("er", 2)
    matched, macs = match_macs(arch, 1e6, tolerance=0.005)
    assert abs(macs - 1e6) <= 0.005 * 1e6


def test_widths_scale_and_round_each_layer():
    arch = build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=0, channels=16)
    assert str(widths_of(arch)).startswith("stem 16, stages 16/32/64")
    half = widths_of(scale_widths(arch, 0.5))
    assert half.stem == (8,) and half.stages == (8, 16, 32)
    assert widths_of(scale_widths(arch, 0.0)).stages == (1, 1, 1)
    assert max(widths_of(scale_widths(arch, 1e9)).stages) == MAX_CHANNELS


@pytest.mark.parametrize(
    "target, match",
    [
        (10.0, "out of reach; the smallest width"),
        (1e15, "out of reach; the widest network"),
        (0.0, "must be a positive number"),
        (-5.0, "must be a positive number"),
        (float("nan"), "must be a positive number"),
        (True, "must be a positive number"),
    ],
)
def test_an_unreachable_or_bad_target_is_one_clear_error(target, match):
    with pytest.raises(GenesisError, match=match):
        match_macs(_arch("ba"), target, what="BA(m=5)")


def test_the_error_names_the_network():
    with pytest.raises(GenesisError, match=r"^ER\(p=0.2\) graph seed 4: "):
        match_macs(_arch("er"), 10.0, what="ER(p=0.2) graph seed 4")
