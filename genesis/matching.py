"""Widths that bring an architecture to a MAC target: networks compared at equal compute.

RandWire (Xie et al. 2019) compares graph generators at nearly equal FLOPs by choosing the base
width ``C`` per generator. An integer ``C`` moves the MACs of a small network in steps of 10-25%,
too coarse for a comparison at ±2%. :func:`match_macs` first scales every width of the network
(stem layers, stages, head) by one real factor, each width rounded on its own, and finds by
bisection the widest network below the target (the MACs never fall as a width grows). Then it
grows the stages, from the last to the first, and the head, one channel at a time, while the
MACs stay at or below the target: those steps are a percent or less. The MACs are those of
:func:`genesis.complexity.count_complexity`, the same as ``genesis info`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from genesis.complexity import count_complexity
from genesis.genome import Architecture
from genesis.limits import MAX_CHANNELS
from graphs import GenesisError

__all__ = ["MATCH_TOLERANCE", "Widths", "scale_widths", "widths_of", "match_macs"]

#: Relative distance to the target that :func:`match_macs` accepts by default (RandWire's
#: "nearly equal FLOPs", made a number).
MATCH_TOLERANCE = 0.02

#: Bisection steps on the width factor: far finer than any width's rounding step.
_STEPS = 60


@dataclass(frozen=True)
class Widths:
    """The widths of one network: its stem layers, stages and head (0: no head conv)."""

    stem: tuple[int, ...]  # output width of each stem layer
    stages: tuple[int, ...]  # width of each stage's nodes
    head: int  # width of the head's 1x1 conv, 0 for none

    def __str__(self) -> str:
        """``stem 8, stages 13/26/52`` (and ``, head N`` when the head has a conv)."""
        text = f"stem {'/'.join(map(str, self.stem))}, stages {'/'.join(map(str, self.stages))}"
        return text + (f", head {self.head}" if self.head else "")


def widths_of(arch: Architecture) -> Widths:
    """The widths of ``arch``."""
    return Widths(
        tuple(s.channels for s in arch.stem),
        tuple(s.channels for s in arch.stages),
        arch.head.channels,
    )


def _scaled(width: int, factor: float) -> int:
    return min(MAX_CHANNELS, max(1, int(width * factor + 0.5)))


def scale_widths(arch: Architecture, factor: float) -> Architecture:
    """``arch`` with every width multiplied by ``factor`` and rounded (at least 1, at most
    :data:`~genesis.limits.MAX_CHANNELS`); graphs, ops, strides and training unchanged.

    Examples
    --------
    >>> from genesis import build_architecture
    >>> arch = build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=0, channels=16)
    >>> str(widths_of(scale_widths(arch, 0.8)))
    'stem 13, stages 13/26/51, head 102'
    """
    return arch.replace(
        stem=tuple(replace(s, channels=_scaled(s.channels, factor)) for s in arch.stem),
        stages=tuple(replace(s, channels=_scaled(s.channels, factor)) for s in arch.stages),
        head=replace(
            arch.head, channels=_scaled(arch.head.channels, factor) if arch.head.channels else 0
        ),
    )


def _grown(arch: Architecture, layer: tuple[str, int]) -> Architecture | None:
    """``arch`` with one more channel in ``layer`` (None at the cap)."""
    kind, i = layer
    if kind == "head":
        if arch.head.channels >= MAX_CHANNELS:
            return None
        return arch.replace(head=replace(arch.head, channels=arch.head.channels + 1))
    stage = arch.stages[i]
    if stage.channels >= MAX_CHANNELS:
        return None
    stages = list(arch.stages)
    stages[i] = replace(stage, channels=stage.channels + 1)
    return arch.replace(stages=tuple(stages))


def match_macs(
    arch: Architecture, target: float, tolerance: float = MATCH_TOLERANCE, what: str = "network"
) -> tuple[Architecture, int]:
    """``arch`` with its widths scaled so that its MACs are as close to ``target`` as widths
    allow; raises when that is not within ``tolerance``.

    Parameters
    ----------
    arch : Architecture
        The network whose graphs and ops are kept; its widths give the ratios between layers.
    target : float
        MACs of one example (``genesis info``'s count; FLOPs are twice that).
    tolerance : float
        Largest accepted ``|macs - target| / target``.
    what : str
        How an error names the network (e.g. its setting, ``ER(p=0.2) graph 1``).

    Returns
    -------
    (Architecture, int)
        The matched network and its MACs.

    Raises
    ------
    GenesisError
        When ``target`` is not a positive number, when it lies below the network at width 1 or
        above it at ``MAX_CHANNELS``, or when no width comes within ``tolerance`` (the nearest
        widths on both sides are named).

    Notes
    -----
    Cost: about 60 complexity counts of the genome for the bisection, then one per channel
    added in the fine steps; no torch module is built (tens of milliseconds).

    Examples
    --------
    >>> from genesis import build_architecture
    >>> arch = build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.75}, seed=1)
    >>> matched, macs = match_macs(arch, 1e6)
    >>> abs(macs - 1e6) / 1e6 <= 0.02
    True
    """
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
        raise GenesisError(f"the MAC target must be a positive number, got {target!r}")
    if not 0 < tolerance < 1:
        raise GenesisError(f"the MAC tolerance must be in (0, 1), got {tolerance!r}")

    def macs_at(factor: float) -> tuple[Architecture, int]:
        scaled = scale_widths(arch, factor)
        return scaled, count_complexity(scaled).macs

    top = max(widths_of(arch).stages + widths_of(arch).stem)
    lo, hi = 0.0, (MAX_CHANNELS + 0.5) / top  # every width 1 at lo; the largest at its cap at hi
    low_arch, low_macs = macs_at(lo)
    high_arch, high_macs = macs_at(hi)
    if target < low_macs * (1 - tolerance):
        raise GenesisError(
            f"{what}: {target:g} MACs is out of reach; the smallest width (every layer 1 wide) "
            f"has {low_macs:,} MACs"
        )
    if target > high_macs * (1 + tolerance):
        raise GenesisError(
            f"{what}: {target:g} MACs is out of reach; the widest network (MAX_CHANNELS = "
            f"{MAX_CHANNELS}) has {high_macs:,} MACs"
        )
    for _ in range(_STEPS):  # invariant: macs(lo) < target <= macs(hi), or an end of the range
        mid = (lo + hi) / 2
        mid_arch, mid_macs = macs_at(mid)
        if mid_macs < target:
            lo, low_arch, low_macs = mid, mid_arch, mid_macs
        else:
            hi, high_arch, high_macs = mid, mid_arch, mid_macs
    # Fine steps: the factor moves every width at once, and the stem and first stage make
    # steps of 10% or more in a small network. From the widest network below the target, the
    # stages from the last to the first, then the head, each grow one channel at a time while
    # the MACs stay at or below it; the first step past it is a candidate too.
    tried = [(low_arch, low_macs), (high_arch, high_macs)]
    current = low_arch
    layers = [("stages", i) for i in reversed(range(len(arch.stages)))]
    layers += [("head", 0)] if arch.head.channels else []
    for layer in layers:
        while True:
            grown = _grown(current, layer)
            if grown is None:
                break
            m = count_complexity(grown).macs
            tried.append((grown, m))
            if m > target:
                break
            current = grown
    best, macs = min(tried, key=lambda p: abs(p[1] - target))
    if abs(macs - target) > tolerance * target:
        raise GenesisError(
            f"{what}: no width comes within {tolerance:.0%} of {target:g} MACs; the nearest are "
            f"{widths_of(low_arch)} ({low_macs:,} MACs) and {widths_of(high_arch)} "
            f"({high_macs:,} MACs)"
        )
    return best, macs
