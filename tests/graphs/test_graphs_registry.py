"""The one registry class: ops, presets, graph families and strategies are each a Registry."""

from __future__ import annotations

import pytest

from evolve.strategies.base import _REGISTRY as STRATEGIES
from genesis.ops import OPS
from genesis.presets import PRESETS
from graphs import GenesisError, Registry
from graphs.families import _REGISTRY as FAMILIES


@pytest.mark.parametrize("registry", [OPS, PRESETS, FAMILIES, STRATEGIES], ids=lambda r: r.kind)
def test_every_registry_is_one_class(registry):
    assert isinstance(registry, Registry) and len(registry) >= 3
    first = registry.names()[0]
    assert registry.get(first) is registry[first] and first in registry
    with pytest.raises(GenesisError, match="'no-such-part'"):
        registry.get("no-such-part")


def test_register_unregister_and_aliases():
    r: Registry[int] = Registry("number", "unknown number {name}; known: {known}")
    r.register("two", 2, aliases=("deux",))
    r.register("one", 1)
    assert r.names() == ["two", "one"] and r.get("deux") == 2 and r["deux"] == 2
    assert "deux" in r and list(r) == ["two", "one"]
    r.register("two", 22)  # re-registering replaces
    assert r.get("two") == 22
    r.unregister("deux")  # by an alias: the part and its aliases go
    assert "two" not in r and "deux" not in r
    with pytest.raises(GenesisError, match="unknown number 'two'; known: one"):
        r.unregister("two")
    with pytest.raises(GenesisError, match="non-empty string"):
        r.register(" x", 3)


def test_a_renamed_op_keeps_its_old_name():
    from genesis.ops import get_op

    spec = OPS.get("sep_conv_3x3")
    OPS.register("sep_conv_3x3", spec, aliases=("sepconv3",))
    try:
        assert get_op("sepconv3") is spec
    finally:
        OPS.unalias("sepconv3")
    assert "sepconv3" not in OPS and get_op("sep_conv_3x3") is spec
