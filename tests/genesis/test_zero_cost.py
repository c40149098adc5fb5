"""Zero-cost scores: finite on real networks, sensitive to what they claim to measure."""

from __future__ import annotations

import math

import torch

from genesis import build_architecture
from genesis.compiler import compile_architecture
from genesis.zero_cost import naswot_score, synflow_score

ARCH = build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.75}, seed=0, nodes=5)


def _batch(n: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_naswot_is_finite_deterministic_and_leaves_the_model_as_it_was():
    model = compile_architecture(ARCH, seed=0).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    a, b = naswot_score(model, _batch()), naswot_score(model, _batch())
    assert math.isfinite(a) and a == b
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_naswot_cannot_tell_identical_examples_apart():
    model = compile_architecture(ARCH, seed=0)
    same = _batch(1).repeat(16, 1, 1, 1)
    assert naswot_score(model, same) == float("-inf")
    assert naswot_score(model, _batch()) > naswot_score(model, _batch(2)[:2].repeat(8, 1, 1, 1))


def test_synflow_grows_with_width_and_changes_nothing():
    narrow = compile_architecture(build_architecture(seed=0, channels=8), seed=0)
    wide = compile_architecture(build_architecture(seed=0, channels=16), seed=0)
    before = {k: v.clone() for k, v in narrow.state_dict().items()}
    s_narrow, s_wide = synflow_score(narrow, (1, 28, 28)), synflow_score(wide, (1, 28, 28))
    assert 0 < s_narrow < s_wide and math.isfinite(s_wide)
    assert all(torch.equal(before[k], v) for k, v in narrow.state_dict().items())
    assert all(p.grad is None for p in narrow.parameters())
